"""The resident's "附近的小区": GET /api/v1/estates?lat=&lng= finds active estates near a point,
nearest first, with their distance; bad coordinates are a 422 with a Chinese message."""
import pytest

from community.estates import services

# A point in Nanshan, Shenzhen (GCJ-02).
LAT, LNG = 22.540000, 113.950000


def nearby(client, account, **params):
    response = client.get("/api/v1/estates", headers=account.headers, query_string={"lat": LAT, "lng": LNG, **params})
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def around(make_estate):
    """Estates at known offsets from the point: name -> id."""
    return {
        "near": make_estate(name="近邻苑", lat=LAT + 0.001, lng=LNG),          # ~111 m north
        "east": make_estate(name="东边花园", lat=LAT, lng=LNG + 0.03),          # ~3.1 km east
        "mid": make_estate(name="中间小区", lat=LAT - 0.01, lng=LNG),           # ~1.1 km south
        "far": make_estate(name="远方家园", lat=LAT + 0.1, lng=LNG),            # ~11 km north
        "closed": make_estate(name="停用小区", lat=LAT, lng=LNG + 0.0005, status="inactive"),
        "nowhere": make_estate(name="无坐标小区"),
    }


def test_nearest_first_within_5_km_with_distances(client, login, around):
    body = nearby(client, login())
    assert [e["id"] for e in body["items"]] == [around["near"], around["mid"], around["east"]]
    assert [e["distance_m"] for e in body["items"]] == [111, 1112, 3081]
    assert body["next_cursor"] is None
    first = body["items"][0]
    assert first["name"] == "近邻苑" and first["lat"] == pytest.approx(LAT + 0.001) and first["status"] == "active"


def test_radius_widens_and_narrows_the_search(client, login, around):
    resident = login()
    assert [e["id"] for e in nearby(client, resident, radius_m=20000)["items"]][-1] == around["far"]
    assert [e["id"] for e in nearby(client, resident, radius_m=500)["items"]] == [around["near"]]


def test_pages_follow_the_distance(client, login, around):
    resident = login()
    seen, cursor = [], None
    while True:
        body = nearby(client, resident, limit=1, **({"cursor": cursor} if cursor else {}))
        seen += [(e["id"], e["distance_m"]) for e in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [(around["near"], 111), (around["mid"], 1112), (around["east"], 3081)]


def test_equal_distances_page_by_id(client, login, make_estate):
    twins = sorted(make_estate(lat=LAT + 0.002, lng=LNG) for _ in range(3))
    resident = login()
    first = nearby(client, resident, limit=2)
    second = nearby(client, resident, limit=2, cursor=first["next_cursor"])
    assert [e["id"] for e in first["items"] + second["items"]] == twins
    assert second["next_cursor"] is None


def test_name_narrows_a_nearby_search(client, login, around):
    body = nearby(client, login(), q="花园")
    assert [e["id"] for e in body["items"]] == [around["east"]]


def test_nothing_nearby_is_an_empty_page(client, login, around):
    response = client.get("/api/v1/estates", headers=login().headers, query_string={"lat": 39.9, "lng": 116.4})
    assert response.status_code == 200
    assert response.json == {"items": [], "next_cursor": None}


def test_search_by_name_has_no_distance(client, login, around):
    response = client.get("/api/v1/estates", headers=login().headers, query_string={"q": "近邻"})
    assert [e["id"] for e in response.json["items"]] == [around["near"]]
    assert "distance_m" not in response.json["items"][0]


@pytest.mark.parametrize("params, field, message", [
    ({"lat": LAT}, "lng", "经度和纬度需要同时提供"),
    ({"lng": LNG}, "lat", "经度和纬度需要同时提供"),
    ({"lat": 91, "lng": LNG}, "lat", "纬度应在 -90 到 90 之间"),
    ({"lat": LAT, "lng": -180.5}, "lng", "经度应在 -180 到 180 之间"),
])
def test_bad_coordinates_are_422_in_chinese(client, login, params, field, message):
    response = client.get("/api/v1/estates", headers=login().headers, query_string=params)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["message"] == "位置坐标无效，请重新定位"
    assert response.json["error"]["details"]["fields"] == {field: [message]}


@pytest.mark.parametrize("params, field", [
    ({"lat": "north", "lng": LNG}, "lat"),
    ({"lat": "nan", "lng": LNG}, "lat"),
    ({"lat": LAT, "lng": LNG, "radius_m": 50000}, "radius_m"),
    ({"lat": LAT, "lng": LNG, "radius_m": 0}, "radius_m"),
])
def test_malformed_arguments_are_422(client, login, params, field):
    response = client.get("/api/v1/estates", headers=login().headers, query_string=params)
    assert response.status_code == 422
    assert response.json["error"]["message"] == "提交的数据有误"
    assert field in response.json["error"]["details"]["fields"]


def test_a_radius_needs_a_point(client, login):
    response = client.get("/api/v1/estates", headers=login().headers, query_string={"radius_m": 1000})
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"] == {"radius_m": ["按范围查找需要提供位置坐标"]}


def test_a_cursor_of_another_search_is_refused(client, login, around):
    resident = login()
    by_name = client.get("/api/v1/estates", headers=resident.headers, query_string={"limit": 1}).json
    response = client.get("/api/v1/estates", headers=resident.headers,
                          query_string={"lat": LAT, "lng": LNG, "cursor": by_name["next_cursor"]})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_cursor"


def test_coordinates_set_through_the_admin_api_are_found(client, admin, login, make_estate):
    estate = make_estate()
    response = client.patch(f"/api/v1/admin/estates/{estate}", headers=admin.headers, json={"lat": "22.5412", "lng": "113.9500"})
    assert response.status_code == 200
    assert [e["id"] for e in nearby(client, login())["items"]] == [estate]


def test_haversine():
    # Tiananmen to the Bund, Shanghai: about 1,067 km.
    assert services.distance_m(39.9087, 116.3975, 31.2400, 121.4900) == pytest.approx(1_067_000, rel=0.005)
    assert services.distance_m(LAT, LNG, LAT, LNG) == 0


def test_across_the_antimeridian_and_near_a_pole(app, make_estate):
    west = make_estate(lat=0, lng=179.999)
    polar = make_estate(lat=89.99, lng=-120)
    with app.app_context():
        found = services.nearby_estates(0, -179.999).items
        assert [(e.id, e.distance_m) for e in found] == [(west, 222)]
        found = services.nearby_estates(89.995, 60).items
        assert [e.id for e in found] == [polar]
