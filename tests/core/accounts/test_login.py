"""WeChat login: who the user is comes only from WeChat, and the session_key never leaves the server."""
import logging

import pytest
import sqlalchemy as sa

from core import crypto
from tests.conftest import bearer


def wechat_login(client, code):
    return client.post("/api/v1/auth/wechat-login", json={"code": code})


def identities(app):
    from core.accounts.models import WeChatIdentity
    from core.extensions import db
    with app.app_context():
        return [(i.openid, i.unionid, i.user_id) for i in db.session.scalars(
            sa.select(WeChatIdentity).order_by(WeChatIdentity.id))]


def test_first_login_creates_a_resident_and_the_next_login_finds_them(app, client, wechat):
    first = wechat_login(client, wechat.code("oAlice"))
    assert first.status_code == 200, first.json
    assert first.json["user"]["roles"] == ["resident"]
    assert first.json["token"].startswith("lnl_")
    assert first.json["expires_at"]

    second = wechat_login(client, wechat.code("oAlice"))
    assert second.status_code == 200
    assert second.json["user"]["id"] == first.json["user"]["id"]
    assert second.json["token"] != first.json["token"]  # a new token per login
    assert identities(app) == [("oAlice", None, first.json["user"]["id"])]

    other = wechat_login(client, wechat.code("oBob"))
    assert other.json["user"]["id"] != first.json["user"]["id"]
    # Both tokens of Alice work.
    for token in (first.json["token"], second.json["token"]):
        assert client.get("/api/v1/me", headers=bearer(token)).json["id"] == first.json["user"]["id"]


def test_login_calls_jscode2session_with_our_app_and_no_access_token(client, wechat):
    code = wechat.code("oCarol")
    assert wechat_login(client, code).status_code == 200
    [call] = wechat.calls("sns/jscode2session")
    assert call["query"]["js_code"] == code
    assert call["query"]["appid"] == "wx_fake_appid"
    assert call["query"]["grant_type"] == "authorization_code"
    assert "access_token" not in call["query"]
    # Logging in never needs (or fetches) an access token.
    assert wechat.calls("cgi-bin/stable_token") == [] and wechat.calls("cgi-bin/token") == []


def test_same_unionid_in_another_app_is_the_same_user(app, client, wechat):
    first = wechat_login(client, wechat.code("oMini1", unionid="uPerson1"))
    # The same person reaches us through another of our apps: another openid, the same unionid.
    second = wechat_login(client, wechat.code("oOfficial1", unionid="uPerson1"))
    assert second.status_code == 200
    assert second.json["user"]["id"] == first.json["user"]["id"]
    stranger = wechat_login(client, wechat.code("oMini2", unionid="uPerson2"))
    assert stranger.json["user"]["id"] != first.json["user"]["id"]
    user_id = first.json["user"]["id"]
    assert identities(app) == [("oMini1", "uPerson1", user_id), ("oOfficial1", "uPerson1", user_id),
                               ("oMini2", "uPerson2", stranger.json["user"]["id"])]


def test_unionid_learned_later_is_recorded(app, client, wechat):
    first = wechat_login(client, wechat.code("oLate"))
    assert identities(app) == [("oLate", None, first.json["user"]["id"])]
    wechat_login(client, wechat.code("oLate", unionid="uLate"))
    assert identities(app) == [("oLate", "uLate", first.json["user"]["id"])]


def test_reused_code_is_400_wechat_code_used(app, client, wechat):
    code = wechat.code("oDave")
    assert wechat_login(client, code).status_code == 200
    response = wechat_login(client, code)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "wechat_code_used"
    assert "token" not in response.json
    # Not retried: a spent code stays spent.
    assert len(wechat.calls("sns/jscode2session")) == 2


def test_unknown_code_is_400_wechat_code_invalid(app, client, wechat):
    response = wechat_login(client, "not-a-code-from-wx-login")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "wechat_code_invalid"
    assert identities(app) == []


def test_expired_code_is_400_wechat_code_invalid(client, wechat):
    code = wechat.code("oEve")
    wechat.advance(301)  # wx.login codes live five minutes
    response = wechat_login(client, code)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "wechat_code_invalid"


def test_an_openid_sent_by_the_client_is_never_trusted(app, client, wechat):
    victim = wechat_login(client, wechat.code("oVictim")).json["user"]["id"]
    code = wechat.code("oAttacker")
    # A body naming someone else's openid is refused outright; the code is not spent meanwhile.
    refused = client.post("/api/v1/auth/wechat-login", json={"code": code, "openid": "oVictim"})
    assert refused.status_code == 422
    assert set(refused.json["error"]["details"]["fields"]) == {"openid"}
    assert "token" not in refused.json
    # With the code alone the user is whoever WeChat says the code belongs to.
    response = wechat_login(client, code)
    assert response.status_code == 200
    assert response.json["user"]["id"] != victim
    assert [i[0] for i in identities(app)] == ["oVictim", "oAttacker"]


def test_disabled_user_cannot_log_in(app, client, wechat):
    from core.accounts.models import User
    from core.extensions import db
    user_id = wechat_login(client, wechat.code("oFrank")).json["user"]["id"]
    with app.app_context():
        db.session.get(User, user_id).status = "disabled"
        db.session.commit()
    response = wechat_login(client, wechat.code("oFrank"))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "account_disabled"
    assert "token" not in response.json


@pytest.fixture
def all_logs(caplog):
    """Every record of every logger at DEBUG, the noisy HTTP libraries included."""
    caplog.set_level(logging.DEBUG)
    for name in ("wechatpy", "urllib3", "requests", "core", "community", "linli", "werkzeug", "sqlalchemy"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _log_text(caplog) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        lines.append(repr(record.args))
        if record.exc_text:
            lines.append(record.exc_text)
    return "\n".join(lines)


def _all_rows_text(app) -> str:
    """Every value of every table, as text."""
    from core.extensions import db
    with app.app_context():
        chunks = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)):
                chunks.append(repr(tuple(row)))
        return "\n".join(chunks)


def test_session_key_never_leaves_the_server(app, client, wechat, all_logs, make_estate, make_engineer,
                                             mint_code, bind):
    from core.accounts.models import WeChatIdentity
    from core.extensions import db
    estate = make_estate()
    engineer = make_engineer([estate])
    scene = mint_code(engineer, estate)["scene"]
    all_logs.clear()

    bodies = []
    login = wechat_login(client, wechat.code("oSecret"))
    assert login.status_code == 200
    bodies.append(login.get_data(as_text=True))
    headers = bearer(login.json["token"])
    for path in ("/api/v1/me", "/api/v1/me/stewards", "/api/v1/me/estates"):
        bodies.append(client.get(path, headers=headers).get_data(as_text=True))
    with app.app_context():
        sealed_after_login = db.session.scalars(sa.select(WeChatIdentity.session_key_sealed).where(
            WeChatIdentity.openid == "oSecret")).one()
    binding = bind(scene, openid="oSecret")
    assert binding.status_code == 200
    bodies.append(binding.get_data(as_text=True))
    # A failed login (spent code) and the WeChat error path log too.
    code = wechat.code("oSecret")
    wechat_login(client, code)
    bodies.append(wechat_login(client, code).get_data(as_text=True))

    with app.app_context():
        sealed = db.session.scalars(sa.select(WeChatIdentity.session_key_sealed).where(
            WeChatIdentity.openid == "oSecret")).one()
        keys = {crypto.unseal(s, "wechat-session-key") for s in (sealed_after_login, sealed)}
    assert None not in keys and len(keys) == 2  # each exchange stored WeChat's new key
    for key in keys:
        assert len(key) == 24  # base64 of 16 bytes, as WeChat issues them
        assert all(key not in body for body in bodies)
        assert key not in _log_text(all_logs)
        assert key not in _all_rows_text(app)  # stored sealed, never in plain text
    assert all_logs.records, "the log capture saw nothing: the check above would be vacuous"
    assert any(r.name.startswith("urllib3") for r in all_logs.records)
