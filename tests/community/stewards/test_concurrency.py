"""Races that real users produce (double taps, a crowd scanning one code, retried requests).

PostgreSQL only: SQLite serialises writers, so it cannot show these races. Each thread has its
own test client (its own request and session); the app and the database are shared. A Barrier
releases the requests together.
"""

import pytest
import sqlalchemy as sa

from tests.concurrency import count, http_race
from tests.conftest import ON_POSTGRES, bearer

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


def test_double_taps_of_one_resident_bind_once(app, wechat, make_estate, make_engineer, mint_code):
    from community.estates.models import Residency
    from community.stewards.models import StewardBinding, Visit
    from core.accounts.models import User, WeChatIdentity
    estate = make_estate()
    engineer = make_engineer([estate])
    scene = mint_code(engineer, estate)["scene"]
    codes = [wechat.code("oDoubleTap") for _ in range(10)]  # each tap does its own wx.login
    responses = http_race(app, [
        lambda client, code=code: client.post("/api/v1/bindings", json={"code": code, "scene": scene})
        for code in codes])

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 409}, statuses
    ok = [r.json for r in responses if r.status_code == 200]
    assert ok, statuses
    assert all(r.json["error"]["code"] == "duplicate_request" for r in responses if r.status_code == 409)
    assert len({body["user"]["id"] for body in ok}) == 1
    assert sorted(body["result"] for body in ok).count("created") <= 1
    user_id = ok[0]["user"]["id"]
    assert count(app, WeChatIdentity, openid="oDoubleTap") == 1
    assert count(app, User) == 3  # the admin, the engineer, this resident
    assert count(app, StewardBinding, resident_id=user_id) == 1
    assert count(app, Visit, resident_id=user_id) == 1
    assert count(app, Residency, user_id=user_id) == 1
    # Every token handed out works and points at the one user.
    client = app.test_client()
    assert {client.get("/api/v1/me", headers=bearer(b["token"])).json["id"] for b in ok} == {user_id}


def test_first_logins_of_one_openid_create_one_user(app, wechat):
    from core.accounts.models import User
    codes = [wechat.code("oFirstLogin") for _ in range(8)]
    responses = http_race(app, [
        lambda client, code=code: client.post("/api/v1/auth/wechat-login", json={"code": code}) for code in codes])
    assert [r.status_code for r in responses] == [200] * 8
    assert len({r.json["user"]["id"] for r in responses}) == 1
    assert count(app, User) == 1


def test_a_crowd_on_one_code_gets_exactly_max_uses(request, app_config, wechat):
    from community.stewards.models import BindingCode, StewardBinding, Visit
    app_config["BINDING_CODE_MAX_USES"] = 5
    app = request.getfixturevalue("app")
    estate = request.getfixturevalue("make_estate")()
    engineer = request.getfixturevalue("make_engineer")([estate])
    scene = request.getfixturevalue("mint_code")(engineer, estate)["scene"]
    codes = [wechat.code() for _ in range(10)]  # ten different residents
    responses = http_race(app, [
        lambda client, code=code: client.post("/api/v1/bindings", json={"code": code, "scene": scene})
        for code in codes])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [410] * 5
    assert {r.json["error"]["code"] for r in responses if r.status_code == 410} == {"binding_code_used_up"}
    assert count(app, Visit) == 5
    assert count(app, StewardBinding, engineer_id=engineer.engineer_id) == 5
    from core.extensions import db
    with app.app_context():
        assert db.session.scalars(sa.select(BindingCode.uses)).one() == 5


def test_two_people_claiming_one_invite(app, client, admin, login):
    from community.estates.models import Engineer
    invite = client.post("/api/v1/admin/engineers", headers=admin.headers, json={
        "name": "赵师傅", "phone": "13700001111", "employee_no": "RACE-1"}).json["invite_code"]
    first, second = login(), login()
    responses = http_race(app, [
        lambda c, who=who: c.post("/api/v1/engineer/claim", headers=who.headers, json={"invite_code": invite})
        for who in (first, second)])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 400]
    loser = next(r for r in responses if r.status_code == 400)
    assert loser.json["error"]["code"] == "invite_code_invalid"
    winner = next(r for r in responses if r.status_code == 200).json["user_id"]
    assert count(app, Engineer, user_id=winner) == 1
    roles = {who.user_id: client.get("/api/v1/me", headers=who.headers).json["roles"] for who in (first, second)}
    assert sorted(roles.values()) == [["engineer", "resident"], ["resident"]]
    assert "engineer" in roles[winner]


def test_one_idempotency_key_from_five_threads_creates_one_engineer(app, admin):
    from community.estates.models import Engineer
    headers = {**admin.headers, "Idempotency-Key": "retry-storm"}
    body = {"name": "钱师傅", "phone": "13700002222", "employee_no": "RACE-2"}
    responses = http_race(app, [
        lambda c: c.post("/api/v1/admin/engineers", headers=headers, json=body) for _ in range(5)])

    assert [r.status_code for r in responses] == [201] * 5
    bodies = {r.get_data(as_text=True) for r in responses}
    assert len({r.json["id"] for r in responses}) == 1
    assert len({r.json["invite_code"] for r in responses}) == 1
    assert len(bodies) == 1  # byte for byte the same answer
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 4
    assert count(app, Engineer) == 1


def test_minting_with_one_key_from_five_threads_mints_once(app, wechat, make_estate, make_engineer):
    from community.stewards.models import BindingCode
    estate = make_estate()
    engineer = make_engineer([estate])
    headers = {**engineer.headers, "Idempotency-Key": "visit-WO-77"}
    responses = http_race(app, [
        lambda c: c.post("/api/v1/engineer/binding-codes", headers=headers, json={"estate_id": estate})
        for _ in range(5)])
    assert [r.status_code for r in responses] == [201] * 5
    assert len({r.json["scene"] for r in responses}) == 1
    assert count(app, BindingCode) == 1
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 1
