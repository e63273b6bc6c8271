"""Residency: a resident joins and leaves estates by themselves; repeats are harmless."""
from tests.conftest import bearer


def my_estates(client, account) -> list[int]:
    response = client.get("/api/v1/me/estates", headers=account.headers)
    assert response.status_code == 200
    return [r["estate"]["id"] for r in response.json["items"]]


def test_join_is_201_then_200(client, login, make_estate):
    estate = make_estate(name="翠竹苑")
    resident = login()
    first = client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    assert first.status_code == 201
    assert first.json["estate"] == {"id": estate, "name": "翠竹苑", "city": "深圳市", "district": "南山区"}
    assert first.json["source"] == "self"
    again = client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    assert again.status_code == 200
    assert again.json["joined_at"] == first.json["joined_at"]
    assert my_estates(client, resident) == [estate]


def test_leave_is_204_then_404(client, login, make_estate):
    estate = make_estate()
    resident = login()
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    assert client.delete(f"/api/v1/me/estates/{estate}", headers=resident.headers).status_code == 204
    assert my_estates(client, resident) == []
    response = client.delete(f"/api/v1/me/estates/{estate}", headers=resident.headers)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "residency_not_found"
    # Never a resident there at all: also 404.
    response = client.delete(f"/api/v1/me/estates/{make_estate()}", headers=resident.headers)
    assert response.status_code == 404


def test_rejoining_after_leaving_is_201(client, login, make_estate):
    estate = make_estate()
    resident = login()
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    client.delete(f"/api/v1/me/estates/{estate}", headers=resident.headers)
    response = client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    assert response.status_code == 201
    assert my_estates(client, resident) == [estate]


def test_several_estates_in_joining_order(client, login, make_estate):
    home, parents, office = make_estate(), make_estate(), make_estate()
    resident = login()
    for estate in (parents, home, office):
        assert client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate}).status_code == 201
    assert my_estates(client, resident) == [parents, home, office]
    client.delete(f"/api/v1/me/estates/{home}", headers=resident.headers)
    assert my_estates(client, resident) == [parents, office]


def test_residents_are_independent(client, login, make_estate):
    estate = make_estate()
    alice, bob = login(), login()
    client.post("/api/v1/me/estates", headers=alice.headers, json={"estate_id": estate})
    assert my_estates(client, bob) == []
    assert client.delete(f"/api/v1/me/estates/{estate}", headers=bob.headers).status_code == 404
    assert my_estates(client, alice) == [estate]


def test_inactive_estate_is_refused(client, admin, login, make_estate):
    estate = make_estate()
    resident = login()
    response = client.patch(f"/api/v1/admin/estates/{estate}", headers=admin.headers, json={"status": "inactive"})
    assert response.status_code == 200 and response.json["status"] == "inactive"
    response = client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "estate_inactive"
    assert my_estates(client, resident) == []
    # Nor is it offered in the resident's search.
    listed = client.get("/api/v1/estates", headers=resident.headers).json["items"]
    assert estate not in [e["id"] for e in listed]
    assert client.get(f"/api/v1/estates/{estate}", headers=resident.headers).status_code == 200


def test_unknown_estate_is_404_and_missing_id_is_422(client, login):
    resident = login()
    response = client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": 424242})
    assert response.status_code == 404 and response.json["error"]["code"] == "estate_not_found"
    response = client.post("/api/v1/me/estates", headers=resident.headers, json={})
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == {"estate_id"}


def test_binding_makes_the_resident_a_member(client, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    engineer = make_engineer([estate])
    body = bind(mint_code(engineer, estate)["scene"]).json
    items = client.get("/api/v1/me/estates", headers=bearer(body["token"])).json["items"]
    assert [(r["estate"]["id"], r["source"]) for r in items] == [(estate, "binding")]
    # Joining by hand afterwards is the 200 "already a resident".
    again = client.post("/api/v1/me/estates", headers=bearer(body["token"]), json={"estate_id": estate})
    assert again.status_code == 200


def test_estate_search_for_residents(client, login, make_estate):
    wanted = make_estate(name="翠竹苑", city="广州市")
    make_estate(name="碧桂园", city="广州市")
    make_estate(name="翠竹花园", city="深圳市")
    resident = login()
    found = client.get("/api/v1/estates", headers=resident.headers, query_string={"q": "翠竹", "city": "广州市"})
    assert [e["id"] for e in found.json["items"]] == [wanted]
    # LIKE wildcards in the query are literal text.
    assert client.get("/api/v1/estates", headers=resident.headers, query_string={"q": "%"}).json["items"] == []


def test_admin_patch_changes_only_the_fields_sent(client, admin, make_estate):
    estate = make_estate(name="翠竹苑", households=800, address="人民路1号")
    response = client.patch(f"/api/v1/admin/estates/{estate}", headers=admin.headers, json={"households": 900})
    assert response.status_code == 200, response.json
    assert response.json["households"] == 900
    assert response.json["name"] == "翠竹苑" and response.json["address"] == "人民路1号"
    assert response.json["status"] == "active"
    response = client.patch(f"/api/v1/admin/estates/{estate}", headers=admin.headers, json={"status": "inactive"})
    assert response.json["households"] == 900 and response.json["status"] == "inactive"
    response = client.patch(f"/api/v1/admin/estates/{estate}", headers=admin.headers, json={"name": ""})
    assert response.status_code == 422 and set(response.json["error"]["details"]["fields"]) == {"name"}
