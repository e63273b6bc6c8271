"""An engineer's public page: who they are, the estates they serve with their rank in each (the
same rank as the estate's ranking), their totals, what the caller may do (like, steward), and
their reviews with the reviewers' names masked."""
from datetime import datetime, timedelta, timezone

import pytest

from tests.community.stats.test_ranking_and_history import _import


def err(response):
    return response.json["error"]["code"]


@pytest.fixture
def estate(make_estate):
    return make_estate(name="翠竹苑", city="杭州市", district="西湖区")


@pytest.fixture
def make_resident(client, login):
    def make(estate: int, name: str | None = None):
        account = login()
        assert client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate}).status_code == 201
        if name is not None:
            set_row(client.application, "users", account.user_id, display_name=name)
        return account
    return make


def set_row(app, table, row_id, **values):
    from community.estates.models import Engineer
    from core.accounts.models import User
    from core.extensions import db
    with app.app_context():
        row = db.session.get({"users": User, "engineers": Engineer}[table], row_id)
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


def served(client, resident, engineer, estate, *, rating=None, text="", photos=()):
    """An order of the resident done by the engineer (and reviewed when a rating is given)."""
    r = client.post("/api/v1/service-requests", headers=resident.headers,
                    json={"estate_id": estate, "service_type": "repair", "preferred_engineer_id": engineer.engineer_id})
    assert r.status_code == 201, r.json
    order_id = r.json["id"]
    r = client.post(f"/api/v1/engineer/service-orders/{order_id}/complete", headers=engineer.headers)
    assert r.status_code == 200, r.json
    if rating is not None:
        r = client.post(f"/api/v1/service-orders/{order_id}/review", headers=resident.headers,
                        json={"rating": rating, "text": text, "photos": list(photos)})
        assert r.status_code == 201, r.json
    return order_id


def profile(client, who, engineer_id):
    return client.get(f"/api/v1/engineers/{engineer_id}", headers=who.headers)


def test_the_profile_shows_who_where_totals_and_what_i_may_do(app, client, estate, make_estate, make_engineer,
                                                             make_resident, mint_code, bind, login):
    second = make_estate(name="枫林苑", city="杭州市", district="拱墅区")
    engineer = make_engineer([estate, second], name="王建国")
    set_row(app, "engineers", engineer.engineer_id, intro="十年空调维修经验", photo="A" * 24 + ".jpg")
    resident = make_resident(estate)
    stranger = login()
    page = profile(client, stranger, engineer.engineer_id)
    assert page.status_code == 200, page.json
    body = page.json
    assert (body["id"], body["name"], body["intro"], body["status"]) == (engineer.engineer_id, "王建国",
                                                                         "十年空调维修经验", "active")
    assert body["photo_url"] == f"http://linli.test/api/v1/uploads/{'A' * 24}.jpg"
    assert [(e["id"], e["name"], e["city"], e["district"], e["rank"]) for e in body["estates"]] == [
        (estate, "翠竹苑", "杭州市", "西湖区", 1), (second, "枫林苑", "杭州市", "拱墅区", 1)]
    assert body["totals"] == {"completed": 0, "reviews": 0, "avg_rating": None, "likes": 0}
    assert (body["liked"], body["can_like"], body["is_my_steward"]) == (False, False, False)
    assert "phone" not in page.get_data(as_text=True) and "employee_no" not in body
    # served once: may like; after liking: liked, no second like offered
    served(client, resident, engineer, estate, rating=4)
    served(client, resident, engineer, estate, rating=5)
    mine = profile(client, resident, engineer.engineer_id).json
    assert (mine["liked"], mine["can_like"]) == (False, True)
    assert mine["totals"] == {"completed": 2, "reviews": 2, "avg_rating": 4.5, "likes": 0}
    assert client.post(f"/api/v1/engineers/{engineer.engineer_id}/like", headers=resident.headers).status_code == 200
    mine = profile(client, resident, engineer.engineer_id).json
    assert (mine["liked"], mine["can_like"], mine["totals"]["likes"]) == (True, False, 1)
    theirs = profile(client, stranger, engineer.engineer_id).json
    assert (theirs["liked"], theirs["can_like"], theirs["totals"]["likes"]) == (False, False, 1)
    # my steward
    code = mint_code(engineer, estate)
    assert bind(code["scene"], openid=stranger.openid).status_code == 200
    assert profile(client, stranger, engineer.engineer_id).json["is_my_steward"] is True
    assert profile(client, resident, engineer.engineer_id).json["is_my_steward"] is False


def test_an_engineer_who_left_is_gone_and_an_invited_one_is_unranked(app, client, estate, make_engineer, admin,
                                                                     login):
    engineer = make_engineer([estate])
    who = login()
    assert client.get("/api/v1/engineers/999999", headers=who.headers).status_code == 404
    assert client.get(f"/api/v1/engineers/{engineer.engineer_id}").status_code == 401
    r = client.post(f"/api/v1/admin/engineers/{engineer.engineer_id}/deactivate", headers=admin.headers, json={})
    assert r.status_code == 200, r.json
    r = profile(client, who, engineer.engineer_id)
    assert r.status_code == 404 and err(r) == "engineer_not_found"
    r = client.get(f"/api/v1/engineers/{engineer.engineer_id}/reviews", headers=who.headers)
    assert r.status_code == 404
    r = client.post("/api/v1/admin/engineers", headers=admin.headers, json={
        "name": "新人", "phone": "13800009999", "employee_no": "NEW01", "estate_ids": [estate]})
    invited = profile(client, who, r.json["id"]).json
    assert invited["status"] == "invited" and invited["estates"] == [
        {"id": estate, "name": "翠竹苑", "city": "杭州市", "district": "西湖区", "rank": None, "score": None}]


def test_the_profiles_rank_agrees_with_the_estates_ranking(app, client, tmp_path, estate, make_estate, make_engineer,
                                                          make_resident, login):
    other = make_estate()
    engineers = [make_engineer([estate, other]), make_engineer([estate]), make_engineer([estate, other]),
                 make_engineer([other]), make_engineer([estate])]  # the last one and others tie on nothing done
    now = datetime.now(timezone.utc)

    def iso(days):
        return (now - timedelta(days=days)).isoformat()

    rows = []
    for i in range(12):  # busy and well rated in the first estate
        rows.append(f"A{i},{estate},{engineers[2].employee_no},,repair,{iso(20 + i)},{iso(19 + i)},5,0")
    for i in range(4):
        rows.append(f"B{i},{estate},{engineers[1].employee_no},,repair,{iso(20 + i)},{iso(19 + i)},3,{i % 2}")
    for i in range(6):
        rows.append(f"C{i},{other},{engineers[3].employee_no},,install,{iso(30 + i)},{iso(29 + i)},4,0")
    for i in range(2):
        rows.append(f"D{i},{other},{engineers[0].employee_no},,install,{iso(30 + i)},{iso(29 + i)},5,0")
    assert _import(app, tmp_path, rows).exit_code == 0
    resident = make_resident(estate)
    served(client, resident, engineers[0], estate, rating=5)
    assert client.post(f"/api/v1/engineers/{engineers[0].engineer_id}/like", headers=resident.headers).status_code == 200
    viewer = login()
    rankings = {e: {item["engineer"]["id"]: (item["rank"], item["score"])
                    for item in client.get(f"/api/v1/estates/{e}/engineers", headers=viewer.headers).json["items"]}
                for e in (estate, other)}
    assert sorted(rank for rank, _ in rankings[estate].values()) == [1, 2, 3, 4]
    for engineer in engineers:
        page = profile(client, viewer, engineer.engineer_id).json
        assert page["estates"], engineer
        for served_estate in page["estates"]:
            assert (served_estate["rank"], served_estate["score"]) == \
                rankings[served_estate["id"]][engineer.engineer_id], (engineer.engineer_id, served_estate["id"])
    # the engineer with imported history elsewhere counts every completed order
    assert profile(client, viewer, engineers[0].engineer_id).json["totals"]["completed"] == 3


def test_reviews_newest_first_with_masked_names_and_nothing_that_identifies_the_reviewer(
        app, client, estate, make_engineer, make_resident, login):
    import io

    from PIL import Image

    engineer = make_engineer([estate])
    chen = make_resident(estate, name="陈小明")
    nameless = make_resident(estate)
    set_row(app, "users", chen.user_id, phone="13812345678")
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(out, "JPEG")
    r = client.post("/api/v1/uploads", headers=chen.headers, data={"file": (io.BytesIO(out.getvalue()), "a.jpg")},
                    content_type="multipart/form-data")
    photo = r.json["id"]
    served(client, chen, engineer, estate, rating=5, text="师傅很专业", photos=[photo])
    served(client, nameless, engineer, estate, rating=3, text="来晚了")
    served(client, chen, engineer, estate)  # completed without a review: not listed
    viewer = login()
    url = f"/api/v1/engineers/{engineer.engineer_id}/reviews"
    first = client.get(f"{url}?limit=1", headers=viewer.headers)
    assert first.status_code == 200, first.json
    assert [(i["rating"], i["text"], i["reviewer_name"]) for i in first.json["items"]] == [(3, "来晚了", "用户")]
    rest = client.get(f"{url}?limit=1&cursor={first.json['next_cursor']}", headers=viewer.headers).json
    item = rest["items"][0]
    assert (item["rating"], item["reviewer_name"], item["estate_name"]) == (5, "陈**", "翠竹苑")
    assert item["photos"] == [f"http://linli.test/api/v1/uploads/{photo}"] and item["created_at"]
    assert set(item) == {"id", "rating", "text", "photos", "created_at", "estate_name", "reviewer_name"}
    assert rest["next_cursor"] is None
    raw = client.get(url, headers=viewer.headers).get_data(as_text=True)
    assert "13812345678" not in raw and "陈小明" not in raw


def test_masked_names():
    from core.formatting import mask_name
    assert [mask_name(n) for n in ("陈小明", "陈", " Alice ", "", None, "  ", "欧阳娜娜")] == [
        "陈**", "陈**", "Al**", "用户", "用户", "用户", "欧阳**"]
    assert mask_name(None, "代言人") == "代言人"
