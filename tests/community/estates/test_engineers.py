"""Engineers: invites and claims, coverage, the web password; engineer endpoints are for engineers."""
from datetime import timedelta

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
    from community.estates.models import Engineer
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
    from community.estates.models import Engineer
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
