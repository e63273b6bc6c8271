"""Issue 13: a password change needs proof beyond the token and ends every other login; web
sessions end on the server (logout, password change, disabling, idle and absolute lifetimes);
one safe-redirect check; login and code-minting limits counted once across routes."""
import pytest
import sqlalchemy as sa

from core import pages
from core.accounts.models import User
from core.extensions import db
from tests.conftest import csrf_token, flashes, html


def _user(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id)


# -- changing one's own password ------------------------------------------------------------------

def test_a_stolen_token_cannot_change_a_set_password(client, make_admin):
    admin = make_admin(username="boss", password="correct-horse-1")
    for body in ({"password": "new-horse-22"}, {"password": "new-horse-22", "current_password": "guess-horse-1"}):
        response = client.put("/api/v1/me/password", headers=admin.headers, json=body)
        assert response.status_code == 422
        assert set(response.json["error"]["details"]["fields"]) == {"current_password"}
        assert response.json["error"]["message"] == "当前密码不正确"
    assert client.post("/api/v1/auth/password-login",
                       json={"username": "boss", "password": "correct-horse-1"}).status_code == 200


def test_a_password_change_ends_every_other_token_and_web_session(app, client, make_admin, web_login):
    admin = make_admin(username="boss", password="correct-horse-1")
    other = client.post("/api/v1/auth/password-login", json={"username": "boss", "password": "correct-horse-1"}).json
    web_login("boss", "correct-horse-1")
    assert client.get("/admin/users").status_code == 200
    saved = client.get_cookie("session", domain="linli.test").value

    response = client.put("/api/v1/me/password", headers=admin.headers,
                          json={"password": "new-horse-22", "current_password": "correct-horse-1"})
    assert response.status_code == 204
    assert client.get("/api/v1/me", headers=admin.headers).status_code == 200  # the caller's own token stays
    gone = client.get("/api/v1/me", headers={"Authorization": f"Bearer {other['token']}"})
    assert gone.status_code == 401 and gone.json["error"]["code"] == "invalid_token"
    client.set_cookie("session", saved, domain="linli.test")
    assert client.get("/admin/users").status_code == 302  # the web session is over


def test_a_first_password_needs_a_fresh_wechat_login_of_the_same_account(app, client, make_engineer, login, wechat):
    engineer = make_engineer()
    assert client.get("/api/v1/me", headers=engineer.headers).json["has_password"] is False
    missing = client.put("/api/v1/me/password", headers=engineer.headers, json={"password": "new-horse-22"})
    assert missing.status_code == 422 and set(missing.json["error"]["details"]["fields"]) == {"wechat_code"}
    someone_else = client.put("/api/v1/me/password", headers=engineer.headers,
                              json={"password": "new-horse-22", "wechat_code": wechat.code()})
    assert someone_else.status_code == 422
    assert someone_else.json["error"]["message"] == "微信身份与当前账号不一致，请在本人微信中操作"
    ok = client.put("/api/v1/me/password", headers=engineer.headers,
                    json={"password": "new-horse-22", "wechat_code": wechat.code(engineer.openid)})
    assert ok.status_code == 204
    assert client.get("/api/v1/me", headers=engineer.headers).json["has_password"] is True


def test_the_web_form_needs_the_current_password_and_keeps_this_session(app, client, make_admin, web_login):
    make_admin(username="boss", password="correct-horse-1")
    web_login("boss", "correct-horse-1")
    token = csrf_token(html(client.get("/account/password")))
    wrong = client.post("/account/password", data={"csrf_token": token, "current": "guess-horse-1",
                                                   "password": "new-horse-22", "confirm": "new-horse-22"})
    assert wrong.status_code == 200 and "当前密码不正确" in html(wrong)
    done = client.post("/account/password", data={"csrf_token": token, "current": "correct-horse-1",
                                                  "password": "new-horse-22", "confirm": "new-horse-22"})
    assert done.status_code == 302
    assert client.get("/admin/users").status_code == 200  # this browser carries the new session version


# -- web sessions ----------------------------------------------------------------------------------

def test_logout_ends_a_saved_session_cookie(client, make_admin, web_login):
    make_admin(username="boss", password="correct-horse-1")
    web_login("boss", "correct-horse-1")
    saved = client.get_cookie("session", domain="linli.test").value
    token = csrf_token(html(client.get("/admin/users")))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    client.set_cookie("session", saved, domain="linli.test")  # an attacker replays the cookie they copied before
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_disabling_ends_the_users_web_sessions(app, client, make_admin, web_login):
    from core.accounts import services as accounts
    admin = make_admin(username="boss", password="correct-horse-1")
    make_admin(username="other", password="other-horse-1")
    web_login("other", "other-horse-1")
    assert client.get("/admin/users").status_code == 200
    with app.app_context():
        other = db.session.scalars(sa.select(User).where(User.username == "other")).one()
        accounts.set_status(other, "disabled", db.session.get(User, admin.user_id))
        db.session.commit()
    assert client.get("/admin/users").status_code == 302


@pytest.mark.parametrize("idle_steps, expired", [
    ([119], False),                 # idle just under 120 minutes: still in
    ([121], True),                  # idle over SESSION_IDLE_MINUTES
    ([100] * 7, False),             # active every 100 minutes for 11 h 40 min
    ([100] * 8, True),              # ... past SESSION_MAX_HOURS (12 h) after login, however active
])
def test_sessions_expire_when_idle_and_after_the_absolute_lifetime(client, make_admin, web_login, monkeypatch,
                                                                  idle_steps, expired):
    import core.auth
    make_admin(username="boss", password="correct-horse-1")
    clock = [1_800_000_000.0]
    monkeypatch.setattr(core.auth.time, "time", lambda: clock[0])
    web_login("boss", "correct-horse-1")
    statuses = []
    for minutes in idle_steps:
        clock[0] += minutes * 60
        statuses.append(client.get("/admin/users").status_code)
    assert statuses[:-1] == [200] * (len(statuses) - 1)
    assert statuses[-1] == (302 if expired else 200)
    if expired:
        assert "登录已超时，请重新登录" in flashes(client.get("/login"))


# -- one safe-redirect check --------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "//evil.example", "/\t/evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example/",
    "javascript:alert(1)", "/\r\nSet-Cookie: x=1", "/ok\x00", "/\u2028/evil", "evil.example", "/a b", "",
])
def test_safe_next_refuses_anything_but_a_local_path(target):
    assert pages.safe_next(target) is None


def test_safe_next_keeps_local_paths():
    assert pages.safe_next("/admin/users?q=138&role=engineer#top") == "/admin/users?q=138&role=engineer#top"


@pytest.mark.parametrize("query", ["next=/%09/evil.example", "next=/%0D%0ALocation:%20http://evil.example",
                                   "next=%2F%2Fevil.example", "next=/%5Cevil.example"])
def test_login_never_redirects_off_site(client, make_admin, query):
    make_admin(username="boss", password="correct-horse-1")
    page = client.get(f"/login?{query}")
    response = client.post(f"/login?{query}", data={"csrf_token": csrf_token(html(page)), "username": "boss",
                                                    "password": "correct-horse-1"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/") and "evil" not in response.headers["Location"]


# -- limits counted once across routes ------------------------------------------------------------------

@pytest.fixture
def limited(app_config):
    app_config.update({"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                       "RATELIMIT_LOGIN_PER_IP": "1000/minute", "RATELIMIT_LOGIN_PER_ACCOUNT": "4/minute",
                       "RATELIMIT_BINDING_PER_IP": "1000/minute", "RATELIMIT_CODES_PER_USER": "3/minute",
                       "RATELIMIT_CODES_PER_IP": "1000/minute"})
    return app_config


def test_wrong_passwords_count_once_across_the_web_form_and_the_api(limited, request):
    admin = request.getfixturevalue("make_admin")(username="boss", password="correct-horse-1")  # one try
    client = request.getfixturevalue("client")
    token = csrf_token(html(client.get("/login")))
    web = client.post("/login", data={"csrf_token": token, "username": "boss", "password": "guess-horse-1"})
    assert web.status_code == 200  # the form again, with the error: a second try
    api = client.put("/api/v1/me/password", headers=admin.headers,
                     json={"password": "new-horse-22", "current_password": "guess-horse-2"})
    assert api.status_code == 422  # a third try, at the same account
    assert client.post("/api/v1/auth/password-login", json={"username": "boss", "password": "guess-horse-3"}
                       ).status_code == 401  # the fourth
    assert client.post("/login", data={"csrf_token": token, "username": "boss",
                                       "password": "correct-horse-1"}).status_code == 429
    assert client.post("/api/v1/auth/password-login",
                       json={"username": "boss", "password": "correct-horse-1"}).status_code == 429


def test_web_and_api_code_minting_share_one_budget(limited, request):
    make_engineer, client = request.getfixturevalue("make_engineer"), request.getfixturevalue("client")
    app = request.getfixturevalue("app")
    estate = request.getfixturevalue("make_estate")()
    engineer = make_engineer([estate])
    with app.app_context():
        from core.accounts import services as accounts
        accounts.set_password(db.session.get(User, engineer.user_id), "engineer-pass-1")
        user = db.session.get(User, engineer.user_id)
        username = user.username
        db.session.commit()
    request.getfixturevalue("web_login")(username, "engineer-pass-1")
    token = csrf_token(html(client.get("/engineer/code")))
    statuses = [client.post("/engineer/code", data={"csrf_token": token, "estate_id": estate}).status_code
                for _ in range(2)]
    statuses.append(client.post("/api/v1/engineer/binding-codes", json={"estate_id": estate},
                                headers={"Authorization": f"Bearer {_fresh_token(client, username)}"}).status_code)
    statuses.append(client.post("/engineer/code", data={"csrf_token": token, "estate_id": estate}).status_code)
    assert statuses == [200, 200, 201, 429]


def _fresh_token(client, username):
    return client.post("/api/v1/auth/password-login",
                       json={"username": username, "password": "engineer-pass-1"}).json["token"]
