"""Bearer tokens: who they authenticate, how they end, and that only their hash is stored."""
from datetime import timedelta

import sqlalchemy as sa

from core import crypto
from core.db import utcnow
from tests.conftest import bearer


def _set(app, model, ident, **values):
    from core.extensions import db
    with app.app_context():
        row = db.session.get(model, ident)
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


def _tokens(app, user_id):
    from core.accounts.models import ApiToken
    from core.extensions import db
    with app.app_context():
        return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def assert_invalid_token(response):
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_me_answers_with_the_token(client, login):
    account = login()
    response = client.get("/api/v1/me", headers=account.headers)
    assert response.status_code == 200
    assert response.json["id"] == account.user_id
    assert response.json["roles"] == ["resident"]
    assert "password_hash" not in response.json


def test_malformed_authorization_is_401(client):
    for header, code in (("Bearer", "unauthorized"), ("Bearer ", "unauthorized"), ("Token abc", "unauthorized"),
                         ("lnl_abc", "unauthorized"), ("bearer lnl_nope", "invalid_token"),
                         ("Bearer not-our-prefix", "invalid_token")):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json["error"]["code"] == code, header


def test_scheme_is_case_insensitive(client, login):
    account = login()
    response = client.get("/api/v1/me", headers={"Authorization": f"bearer {account.token}"})
    assert response.status_code == 200


def test_logout_revokes_only_this_token(client, login, wechat):
    account = login()
    other_device = client.post("/api/v1/auth/wechat-login", json={"code": wechat.code(account.openid)}).json["token"]
    response = client.post("/api/v1/auth/logout", headers=account.headers)
    assert response.status_code == 204
    assert_invalid_token(client.get("/api/v1/me", headers=account.headers))
    assert_invalid_token(client.post("/api/v1/auth/logout", headers=account.headers))
    # The user's other session lives on.
    assert client.get("/api/v1/me", headers=bearer(other_device)).status_code == 200


def test_expired_token_is_401(app, client, login):
    from core.accounts.models import ApiToken
    account = login()
    [record] = _tokens(app, account.user_id)
    assert record.expires_at > utcnow() + timedelta(days=29)  # TOKEN_TTL_DAYS = 30 by default
    _set(app, ApiToken, record.id, expires_at=utcnow() + timedelta(seconds=30))
    assert client.get("/api/v1/me", headers=account.headers).status_code == 200
    _set(app, ApiToken, record.id, expires_at=utcnow() - timedelta(seconds=1))
    assert_invalid_token(client.get("/api/v1/me", headers=account.headers))


def test_token_ttl_follows_the_setting(app_config, request, wechat):
    app_config["TOKEN_TTL_DAYS"] = 2
    app, client = request.getfixturevalue("app"), request.getfixturevalue("client")
    response = client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()})
    [record] = _tokens(app, response.json["user"]["id"])
    lifetime = record.expires_at - utcnow()
    assert timedelta(days=2) - timedelta(minutes=1) < lifetime <= timedelta(days=2)


def test_token_of_a_disabled_user_is_401(app, client, login):
    from core.accounts.models import User
    account = login()
    _set(app, User, account.user_id, status="disabled")
    assert_invalid_token(client.get("/api/v1/me", headers=account.headers))
    _set(app, User, account.user_id, status="active")
    assert client.get("/api/v1/me", headers=account.headers).status_code == 200


def test_tokens_are_stored_as_their_hash_only(app, client, login, admin):
    account = login()
    for who in (account, admin):
        [record] = _tokens(app, who.user_id)
        assert record.token_hash == crypto.token_hash(who.token)
        assert record.token_hash != who.token
    from core.extensions import db
    with app.app_context():
        everything = "\n".join(repr(tuple(row)) for table in db.metadata.sorted_tables
                               for row in db.session.execute(sa.select(table)))
    for who in (account, admin):
        assert who.token not in everything
        assert who.token[len("lnl_"):] not in everything


def test_a_token_hash_is_not_a_token(app, client, login):
    account = login()
    response = client.get("/api/v1/me", headers=bearer("lnl_" + crypto.token_hash(account.token)))
    assert_invalid_token(response)
    response = client.get("/api/v1/me", headers=bearer(crypto.token_hash(account.token)))
    assert_invalid_token(response)


# -- password login (staff only) ----------------------------------------------------------------

def test_password_login_for_staff(client, make_admin):
    account = make_admin(username="boss", password="correct-horse-1")
    response = client.post("/api/v1/auth/password-login", json={"username": "boss", "password": "correct-horse-1"})
    assert response.status_code == 200
    assert response.json["user"]["id"] == account.user_id
    assert response.json["user"]["roles"] == ["admin"]
    assert client.get("/api/v1/admin/estates", headers=bearer(response.json["token"])).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make_admin):
    make_admin(username="boss", password="correct-horse-1")
    wrong = client.post("/api/v1/auth/password-login", json={"username": "boss", "password": "nope-nope-1"})
    unknown = client.post("/api/v1/auth/password-login", json={"username": "ghost", "password": "nope-nope-1"})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json["error"]["code"] == "invalid_credentials"
        assert "token" not in response.json
    assert wrong.json == unknown.json


def test_password_login_refuses_a_resident_with_a_password(app, client, login):
    from core.accounts import services as accounts
    from core.accounts.models import User
    from core.extensions import db
    account = login()
    with app.app_context():
        user = db.session.get(User, account.user_id)
        user.username = "resident-with-password"
        accounts.set_password(user, "a-good-password-1")
        db.session.commit()
    response = client.post("/api/v1/auth/password-login",
                           json={"username": "resident-with-password", "password": "a-good-password-1"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "not_staff"
    assert "token" not in response.json
    # A wrong password for that account is still just invalid credentials (nothing revealed).
    response = client.post("/api/v1/auth/password-login",
                           json={"username": "resident-with-password", "password": "wrong-password-1"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_credentials"


def test_disabled_staff_cannot_log_in(app, client, make_admin):
    from core.accounts.models import User
    account = make_admin(username="gone", password="correct-horse-1")
    _set(app, User, account.user_id, status="disabled")
    response = client.post("/api/v1/auth/password-login", json={"username": "gone", "password": "correct-horse-1"})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "account_disabled"
    assert_invalid_token(client.get("/api/v1/me", headers=account.headers))


def test_passwords_are_stored_hashed(app, make_admin):
    from core.extensions import db
    make_admin(username="boss", password="correct-horse-1")
    with app.app_context():
        everything = "\n".join(repr(tuple(row)) for table in db.metadata.sorted_tables
                               for row in db.session.execute(sa.select(table)))
    assert "correct-horse-1" not in everything


def test_staff_sets_own_password_and_residents_cannot(client, make_admin, login):
    admin = make_admin(username="boss", password="correct-horse-1")
    assert client.put("/api/v1/me/password", headers=admin.headers,
                      json={"password": "new-horse-22", "current_password": "correct-horse-1"}).status_code == 204
    old = client.post("/api/v1/auth/password-login", json={"username": "boss", "password": "correct-horse-1"})
    assert old.status_code == 401
    new = client.post("/api/v1/auth/password-login", json={"username": "boss", "password": "new-horse-22"})
    assert new.status_code == 200
    weak = client.put("/api/v1/me/password", headers=admin.headers,
                      json={"password": "12345678", "current_password": "new-horse-22"})
    assert weak.status_code == 422 and set(weak.json["error"]["details"]["fields"]) == {"password"}
    resident = login()
    response = client.put("/api/v1/me/password", headers=resident.headers, json={"password": "new-horse-22"})
    assert response.status_code == 403
