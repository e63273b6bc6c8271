"""Engineers: invites and claims, coverage, isolation of customers, reassignment and departure."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from tests.conftest import bearer


def create_engineer(client, admin, employee_no="E100", estate_ids=(), **extra) -> dict:
    response = client.post("/api/v1/admin/engineers", headers=admin.headers, json={
        "name": "李师傅", "phone": "13900001111", "employee_no": employee_no, "estate_ids": list(estate_ids), **extra})
    assert response.status_code == 201, response.json
    return response.json


def claim(client, account, invite):
    return client.post("/api/v1/engineer/claim", headers=account.headers, json={"invite_code": invite})


def stewards(client, token) -> list[int]:
    return [s["engineer"]["id"] for s in client.get("/api/v1/me/stewards", headers=bearer(token)).json["items"]]


def customers(client, engineer, **query) -> list[int]:
    response = client.get("/api/v1/engineer/customers", headers=engineer.headers, query_string=query)
    assert response.status_code == 200, response.json
    return [c["user_id"] for c in response.json["items"]]


def history(client, admin, user_id) -> list[dict]:
    return client.get(f"/api/v1/admin/residents/{user_id}/stewards", headers=admin.headers).json["items"]


# -- invites and claims -------------------------------------------------------------------------

def test_claim_makes_the_user_an_engineer_with_the_employee_no_as_username(client, admin, login, make_estate):
    estate = make_estate()
    created = create_engineer(client, admin, "SZ-0042", [estate])
    assert created["status"] == "invited" and created["user_id"] is None
    assert len(created["invite_code"].replace("-", "")) == 10
    account = login()
    response = claim(client, account, created["invite_code"])
    assert response.status_code == 200, response.json
    assert response.json["id"] == created["id"]
    assert response.json["status"] == "active" and response.json["user_id"] == account.user_id
    me = client.get("/api/v1/me", headers=account.headers).json
    assert me["roles"] == ["engineer", "resident"]
    assert me["username"] == "SZ-0042"
    profile = client.get("/api/v1/engineer/me", headers=account.headers).json
    assert profile["id"] == created["id"] and [e["id"] for e in profile["estates"]] == [estate]


def test_invite_code_is_forgiving_about_case_spaces_and_dashes(client, admin, login):
    invite = create_engineer(client, admin)["invite_code"]
    typed = " " + invite.replace("-", " ").lower() + " "
    assert claim(client, login(), typed).status_code == 200


def test_used_invite_is_400(client, admin, login):
    invite = create_engineer(client, admin)["invite_code"]
    assert claim(client, login(), invite).status_code == 200
    response = claim(client, login(), invite)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invite_code_invalid"


def test_wrong_invite_is_400(client, admin, login):
    create_engineer(client, admin)
    account = login()
    for invite in ("ABCDE-FGHJK", "0000000000", "short", "x" * 32):
        response = claim(client, account, invite)
        assert response.status_code == 400, invite
        assert response.json["error"]["code"] == "invite_code_invalid"
    assert client.get("/api/v1/me", headers=account.headers).json["roles"] == ["resident"]


def test_expired_invite_is_410(app, client, admin, login):
    from community.models import Engineer
    from core.extensions import db
    created = create_engineer(client, admin)
    with app.app_context():
        db.session.get(Engineer, created["id"]).invite_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    account = login()
    response = claim(client, account, created["invite_code"])
    assert response.status_code == 410
    assert response.json["error"]["code"] == "invite_code_expired"
    assert client.get("/api/v1/me", headers=account.headers).json["roles"] == ["resident"]


def test_invite_lifetime_follows_the_setting(request, app_config):
    app_config["ENGINEER_INVITE_TTL_DAYS"] = 3
    client, admin = request.getfixturevalue("client"), request.getfixturevalue("admin")
    from datetime import datetime
    expires = datetime.fromisoformat(create_engineer(client, admin)["invite_expires_at"])
    assert timedelta(days=3) - timedelta(minutes=1) < expires - utcnow() <= timedelta(days=3)


def test_renewed_invite_replaces_the_old_one(app, client, admin, login):
    from community.models import Engineer
    from core.extensions import db
    created = create_engineer(client, admin)
    with app.app_context():  # it had expired: renewing is how the admin helps
        db.session.get(Engineer, created["id"]).invite_expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
    renewed = client.post(f"/api/v1/admin/engineers/{created['id']}/invite", headers=admin.headers)
    assert renewed.status_code == 200
    assert renewed.json["invite_code"] != created["invite_code"]
    account = login()
    assert claim(client, account, created["invite_code"]).json["error"]["code"] == "invite_code_invalid"
    assert claim(client, account, renewed.json["invite_code"]).status_code == 200
    again = client.post(f"/api/v1/admin/engineers/{created['id']}/invite", headers=admin.headers)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "engineer_already_claimed"


def test_one_wechat_account_claims_one_engineer(client, admin, login):
    first = create_engineer(client, admin, "E1")["invite_code"]
    second = create_engineer(client, admin, "E2")["invite_code"]
    account = login()
    assert claim(client, account, first).status_code == 200
    response = claim(client, account, second)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "already_engineer"
    # The second invite was not spent.
    assert claim(client, login(), second).status_code == 200


def test_invite_codes_are_stored_hashed(app, client, admin):
    from core.extensions import db
    invite = create_engineer(client, admin)["invite_code"]
    with app.app_context():
        everything = "\n".join(repr(tuple(row)) for table in db.metadata.sorted_tables
                               for row in db.session.execute(sa.select(table)))
    assert invite not in everything and invite.replace("-", "") not in everything


def test_engineer_fields_are_validated(client, admin):
    response = client.post("/api/v1/admin/engineers", headers=admin.headers, json={
        "name": "李师傅", "phone": "12345", "employee_no": "有 空格"})
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == {"phone", "employee_no"}


# -- coverage -----------------------------------------------------------------------------------

def test_coverage_put_replaces_the_set(client, admin, make_estate, make_engineer):
    a, b, c = make_estate(), make_estate(), make_estate()
    engineer = make_engineer([a, b])
    response = client.put(f"/api/v1/admin/engineers/{engineer.engineer_id}/estates", headers=admin.headers,
                          json={"estate_ids": [c, b]})
    assert response.status_code == 200
    assert [e["id"] for e in response.json["estates"]] == [b, c]
    assert [e["id"] for e in client.get("/api/v1/engineer/me", headers=engineer.headers).json["estates"]] == [b, c]
    minted = client.post("/api/v1/engineer/binding-codes", headers=engineer.headers, json={"estate_id": a})
    assert minted.status_code == 403 and minted.json["error"]["code"] == "estate_not_covered"
    assert client.post("/api/v1/engineer/binding-codes", headers=engineer.headers, json={"estate_id": c}).status_code == 201
    # Empty clears it; unknown estates are refused without changing anything.
    bad = client.put(f"/api/v1/admin/engineers/{engineer.engineer_id}/estates", headers=admin.headers,
                     json={"estate_ids": [a, 987654]})
    assert bad.status_code == 422 and set(bad.json["error"]["details"]["fields"]) == {"estate_ids"}
    assert [e["id"] for e in client.get(f"/api/v1/admin/engineers/{engineer.engineer_id}",
                                        headers=admin.headers).json["estates"]] == [b, c]
    cleared = client.put(f"/api/v1/admin/engineers/{engineer.engineer_id}/estates", headers=admin.headers,
                         json={"estate_ids": []})
    assert cleared.json["estates"] == []


# -- isolation ----------------------------------------------------------------------------------

def test_engineers_see_only_their_own_customers(client, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    first, second = make_engineer([estate]), make_engineer([estate])
    mine = bind(mint_code(first, estate)["scene"]).json["user"]["id"]
    theirs = bind(mint_code(second, estate)["scene"]).json["user"]["id"]
    assert customers(client, first) == [mine]
    assert customers(client, second) == [theirs]
    response = client.get(f"/api/v1/engineer/customers/{mine}", headers=second.headers)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "customer_not_found"
    # Same answer as for a user who does not exist at all: nothing leaks.
    unknown = client.get("/api/v1/engineer/customers/987654", headers=second.headers)
    assert unknown.status_code == 404 and unknown.json == response.json
    detail = client.get(f"/api/v1/engineer/customers/{mine}", headers=first.headers)
    assert detail.status_code == 200 and detail.json["user_id"] == mine


def test_customers_filter_by_estate(client, make_estate, make_engineer, mint_code, bind):
    a, b = make_estate(), make_estate()
    engineer = make_engineer([a, b])
    in_a = bind(mint_code(engineer, a)["scene"]).json["user"]["id"]
    in_b = bind(mint_code(engineer, b)["scene"]).json["user"]["id"]
    assert customers(client, engineer, estate_id=a) == [in_a]
    assert customers(client, engineer, estate_id=b) == [in_b]
    assert customers(client, engineer) == [in_b, in_a]


def test_residents_cannot_use_engineer_endpoints(client, wechat, login, make_estate):
    resident = login()
    estate = make_estate()
    for method, path in (("GET", "/api/v1/engineer/me"), ("GET", "/api/v1/engineer/customers"),
                         ("GET", "/api/v1/engineer/customers/1"), ("POST", "/api/v1/engineer/binding-codes")):
        response = client.open(path, method=method, headers=resident.headers, json={"estate_id": estate})
        assert response.status_code == 403, path
        assert response.json["error"]["code"] == "forbidden"
    assert wechat.calls("wxa/getwxacodeunlimit") == []


def test_engineers_cannot_use_admin_endpoints(client, make_estate, make_engineer):
    engineer = make_engineer([make_estate()])
    assert client.get("/api/v1/admin/engineers", headers=engineer.headers).status_code == 403
    response = client.put(f"/api/v1/admin/engineers/{engineer.engineer_id}/estates", headers=engineer.headers,
                          json={"estate_ids": []})
    assert response.status_code == 403


# -- reassignment and departure -----------------------------------------------------------------

@pytest.fixture
def book(make_estate, make_engineer, mint_code, bind):
    """Engineer A with two customers in estate X and one in Y; engineer B covers both."""
    x, y = make_estate(), make_estate()
    a, b = make_engineer([x, y]), make_engineer([x, y])
    in_x = [bind(mint_code(a, x)["scene"]).json for _ in range(2)]
    in_y = [bind(mint_code(a, y)["scene"]).json]
    return {"x": x, "y": y, "a": a, "b": b, "in_x": in_x, "in_y": in_y}


def test_reassign_one_estate_then_all(client, admin, book):
    a, b = book["a"], book["b"]
    x_ids = [r["user"]["id"] for r in book["in_x"]]
    y_id = book["in_y"][0]["user"]["id"]
    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/reassign", headers=admin.headers,
                           json={"to_engineer_id": b.engineer_id, "estate_id": book["x"]})
    assert response.status_code == 200 and response.json == {"moved": 2}
    assert customers(client, a) == [y_id]
    assert sorted(customers(client, b)) == sorted(x_ids)
    for resident in book["in_x"]:
        assert stewards(client, resident["token"]) == [b.engineer_id]
        new, old = history(client, admin, resident["user"]["id"])
        assert (old["engineer"]["id"], old["end_reason"], old["ended_by_id"]) == (a.engineer_id, "reassigned", admin.user_id)
        assert (new["engineer"]["id"], new["start_reason"], new["ended_at"]) == (b.engineer_id, "reassigned", None)
        assert new["estate"]["id"] == old["estate"]["id"] == book["x"]
    assert stewards(client, book["in_y"][0]["token"]) == [a.engineer_id]

    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/reassign", headers=admin.headers,
                           json={"to_engineer_id": b.engineer_id})
    assert response.json == {"moved": 1}
    assert customers(client, a) == []
    assert len(customers(client, b)) == 3


def test_reassign_refusals(client, admin, book, make_estate):
    a = book["a"]
    same = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/reassign", headers=admin.headers,
                       json={"to_engineer_id": a.engineer_id})
    assert same.status_code == 400 and same.json["error"]["code"] == "same_engineer"
    invited = create_engineer(client, admin, "NEW-1")
    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/reassign", headers=admin.headers,
                           json={"to_engineer_id": invited["id"]})
    assert response.status_code == 409 and response.json["error"]["code"] == "target_engineer_inactive"
    missing = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/reassign", headers=admin.headers,
                          json={"to_engineer_id": 987654})
    assert missing.status_code == 404
    assert len(customers(client, a)) == 3  # nothing moved


def test_deactivate_with_reassign(client, admin, book):
    a, b = book["a"], book["b"]
    residents = book["in_x"] + book["in_y"]
    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/deactivate", headers=admin.headers,
                           json={"reassign_to": b.engineer_id})
    assert response.status_code == 200 and response.json == {"moved": 3}
    for resident in residents:
        assert stewards(client, resident["token"]) == [b.engineer_id]
        assert [h["end_reason"] for h in history(client, admin, resident["user"]["id"])] == [None, "reassigned"]
    # The engineer who left cannot work any more, though their WeChat account lives on.
    minted = client.post("/api/v1/engineer/binding-codes", headers=a.headers, json={"estate_id": book["x"]})
    assert minted.status_code == 403
    assert client.get("/api/v1/engineer/customers", headers=a.headers).status_code == 403
    assert client.get("/api/v1/me", headers=a.headers).json["roles"] == ["resident"]
    profile = client.get(f"/api/v1/admin/engineers/{a.engineer_id}", headers=admin.headers).json
    assert profile["status"] == "left" and profile["left_at"]
    again = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/deactivate", headers=admin.headers, json={})
    assert again.status_code == 409 and again.json["error"]["code"] == "engineer_already_left"


def test_deactivate_without_reassign_ends_the_bindings(client, admin, book, mint_code, bind):
    a = book["a"]
    residents = book["in_x"] + book["in_y"]
    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/deactivate", headers=admin.headers, json={})
    assert response.status_code == 200 and response.json == {"moved": 0}
    for resident in residents:
        assert stewards(client, resident["token"]) == []
        [ended] = history(client, admin, resident["user"]["id"])
        assert (ended["end_reason"], ended["ended_by_id"]) == ("engineer_left", admin.user_id)
    # A resident without a steward gets one at the next scan.
    rebound = bind(mint_code(book["b"], book["x"])["scene"], openid=None)
    assert rebound.json["result"] == "created"


def test_deactivating_to_an_engineer_who_left_is_refused_and_changes_nothing(client, admin, book):
    a, b = book["a"], book["b"]
    client.post(f"/api/v1/admin/engineers/{b.engineer_id}/deactivate", headers=admin.headers, json={})
    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/deactivate", headers=admin.headers,
                           json={"reassign_to": b.engineer_id})
    assert response.status_code == 409
    assert client.get(f"/api/v1/admin/engineers/{a.engineer_id}", headers=admin.headers).json["status"] == "active"
    assert len(customers(client, a)) == 3


# -- web password -------------------------------------------------------------------------------

def test_admin_sets_the_engineers_password_then_the_engineer_logs_in(client, admin, make_estate, make_engineer):
    engineer = make_engineer([make_estate()])
    url = f"/api/v1/admin/engineers/{engineer.engineer_id}/password"
    weak = client.put(url, headers=admin.headers, json={"password": "short"})
    assert weak.status_code == 422 and set(weak.json["error"]["details"]["fields"]) == {"password"}
    assert client.put(url, headers=admin.headers, json={"password": "workbench-pass-1"}).status_code == 204
    response = client.post("/api/v1/auth/password-login",
                           json={"username": engineer.employee_no, "password": "workbench-pass-1"})
    assert response.status_code == 200, response.json
    assert response.json["user"]["id"] == engineer.user_id
    assert client.get("/api/v1/engineer/me", headers=bearer(response.json["token"])).status_code == 200
    # After leaving, the password no longer opens the staff login.
    client.post(f"/api/v1/admin/engineers/{engineer.engineer_id}/deactivate", headers=admin.headers, json={})
    response = client.post("/api/v1/auth/password-login",
                           json={"username": engineer.employee_no, "password": "workbench-pass-1"})
    assert response.status_code == 403 and response.json["error"]["code"] == "not_staff"


def test_password_of_an_unclaimed_engineer_is_409(client, admin):
    created = create_engineer(client, admin)
    response = client.put(f"/api/v1/admin/engineers/{created['id']}/password", headers=admin.headers,
                          json={"password": "workbench-pass-1"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "engineer_not_claimed"
