"""The WeChat gateway under faults, through the HTTP API and the fake server's controls.

Minting a binding code calls wxa/getwxacodeunlimit (needs the access token); logging in calls
sns/jscode2session (no token, and a spent code must never be retried).
"""
import pytest

from core import create_app


@pytest.fixture
def engineer_and_estate(make_estate, make_engineer):
    estate = make_estate()
    return make_engineer([estate]), estate


def mint(client, engineer, estate):
    return client.post("/api/v1/engineer/binding-codes", headers=engineer.headers, json={"estate_id": estate})


def tokens_used(wechat) -> list[str]:
    return [c["query"].get("access_token") for c in wechat.calls("wxa/getwxacodeunlimit")]


def assert_wechat_error(response, status: int, code: str, errcode):
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert response.json["error"]["details"]["errcode"] == errcode


def test_first_code_fetches_the_token_once_and_reuses_it(client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    for _ in range(3):
        assert mint(client, engineer, estate).status_code == 201
    [fetch] = wechat.calls("cgi-bin/stable_token")
    assert fetch["body"]["force_refresh"] is False
    assert wechat.calls("cgi-bin/token") == []  # never the token call that knocks out other processes
    assert len(set(tokens_used(wechat))) == 1


def test_expired_token_42001_once_refreshes_and_succeeds(client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    wechat.fault("wxa/getwxacodeunlimit", errcode=42001)
    response = mint(client, engineer, estate)
    assert response.status_code == 201, response.json
    assert len(wechat.calls("cgi-bin/stable_token")) == 2  # the first fetch, then the refresh
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 2


def test_token_expired_on_wechats_clock_is_refreshed(client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    assert mint(client, engineer, estate).status_code == 201
    wechat.advance(7300)  # WeChat's clock passes the token's 7,200 s; ours still trusts it
    response = mint(client, engineer, estate)
    assert response.status_code == 201, response.json
    assert len(wechat.calls("cgi-bin/stable_token")) == 2
    first, expired, fresh = tokens_used(wechat)
    assert first == expired != fresh
    # And the fresh token is reused afterwards.
    assert mint(client, engineer, estate).status_code == 201
    assert tokens_used(wechat)[-1] == fresh
    assert len(wechat.calls("cgi-bin/stable_token")) == 2


def test_persistent_40001_is_a_clear_502_without_unbounded_retries(client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    wechat.fault("wxa/getwxacodeunlimit", count=5, errcode=40001)
    response = mint(client, engineer, estate)
    assert_wechat_error(response, 502, "wechat_error", 40001)
    assert response.json["error"]["message"]
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 2  # the call and one retry after a refresh
    assert len(wechat.calls("cgi-bin/stable_token")) <= 2
    # Nothing was stored for the failed request; the next requests use up the faults the same bounded way.
    assert_wechat_error(mint(client, engineer, estate), 502, "wechat_error", 40001)
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 4
    # The fifth fault is met by the next request's first try; its retry succeeds.
    assert mint(client, engineer, estate).status_code == 201
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 6


def test_45009_is_503_rate_limited_with_retry_after_and_no_retry(client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    wechat.fault("wxa/getwxacodeunlimit", errcode=45009)
    response = mint(client, engineer, estate)
    assert_wechat_error(response, 503, "wechat_rate_limited", 45009)
    assert int(response.headers["Retry-After"]) > 0
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 1


def test_http_503_once_is_retried_once_and_succeeds(client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    wechat.fault("wxa/getwxacodeunlimit", status=503)
    response = mint(client, engineer, estate)
    assert response.status_code == 201, response.json
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 2


def test_http_503_twice_is_502_wechat_unavailable(client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    wechat.fault("wxa/getwxacodeunlimit", count=2, status=503)
    response = mint(client, engineer, estate)
    assert_wechat_error(response, 502, "wechat_unavailable", None)
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 2


def test_busy_minus_1_once_is_retried(client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    wechat.fault("wxa/getwxacodeunlimit", errcode=-1)
    assert mint(client, engineer, estate).status_code == 201
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 2


def test_token_endpoint_outage_once_is_survived(client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    wechat.fault("cgi-bin/stable_token", status=503)
    response = mint(client, engineer, estate)
    assert response.status_code == 201, response.json
    assert len(wechat.calls("cgi-bin/stable_token")) == 2


def test_wrong_secret_is_a_502_not_a_500(app_config, request, wechat):
    app_config["WECHAT_SECRET"] = "not-the-secret"
    client = request.getfixturevalue("client")
    response = client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()})
    assert_wechat_error(response, 502, "wechat_error", 40125)


def test_failed_mint_stores_no_code(app, client, wechat, engineer_and_estate):
    import sqlalchemy as sa

    from community.stewards.models import BindingCode
    from core.extensions import db
    engineer, estate = engineer_and_estate
    wechat.fault("wxa/getwxacodeunlimit", errcode=45009)
    assert mint(client, engineer, estate).status_code == 503
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BindingCode)) == 0


# -- login: jscode2session is never retried ---------------------------------------------------------

def test_jscode2session_busy_is_502_and_not_retried(app, client, wechat):
    code = wechat.code("oBusy")
    wechat.fault("sns/jscode2session", errcode=-1)
    response = client.post("/api/v1/auth/wechat-login", json={"code": code})
    assert_wechat_error(response, 502, "wechat_unavailable", -1)
    assert len(wechat.calls("sns/jscode2session")) == 1  # a retry could spend (or re-spend) the code


def test_jscode2session_http_outage_is_502_and_not_retried(client, wechat):
    wechat.fault("sns/jscode2session", status=503)
    response = client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()})
    assert_wechat_error(response, 502, "wechat_unavailable", None)
    assert len(wechat.calls("sns/jscode2session")) == 1


def test_jscode2session_rate_limited_is_503(client, wechat):
    wechat.fault("sns/jscode2session", errcode=45011)
    response = client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()})
    assert_wechat_error(response, 503, "wechat_rate_limited", 45011)
    assert "Retry-After" in response.headers
    assert len(wechat.calls("sns/jscode2session")) == 1


def test_binding_with_wechat_down_is_502_and_binds_nothing(client, wechat, make_estate, make_engineer, mint_code):
    estate = make_estate()
    engineer = make_engineer([estate])
    scene = mint_code(engineer, estate)["scene"]
    wechat.fault("sns/jscode2session", errcode=-1)
    response = client.post("/api/v1/bindings", json={"code": wechat.code(), "scene": scene})
    assert_wechat_error(response, 502, "wechat_unavailable", -1)
    assert client.get("/api/v1/engineer/customers", headers=engineer.headers).json["items"] == []


# -- the access token is shared by every process --------------------------------------------------

def test_two_app_instances_share_one_access_token(app_config, app, client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    assert mint(client, engineer, estate).status_code == 201
    other = create_app(dict(app_config))  # another worker process: its own client, the same database
    try:
        assert other.extensions.get("linli.wechat") is None
        response = other.test_client().post("/api/v1/engineer/binding-codes", headers=engineer.headers,
                                            json={"estate_id": estate})
        assert response.status_code == 201, response.json
        assert other.extensions["linli.wechat"] is not app.extensions["linli.wechat"]
    finally:
        from core.extensions import db
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
    assert len(wechat.calls("cgi-bin/stable_token")) == 1
    assert len(set(tokens_used(wechat))) == 1


def test_a_refresh_by_one_instance_serves_the_other(app_config, app, client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    other = create_app(dict(app_config))
    other_client = other.test_client()
    try:
        assert mint(client, engineer, estate).status_code == 201
        assert other_client.post("/api/v1/engineer/binding-codes", headers=engineer.headers,
                                 json={"estate_id": estate}).status_code == 201
        wechat.advance(7300)
        assert mint(client, engineer, estate).status_code == 201  # A meets 42001 and refreshes
        assert len(wechat.calls("cgi-bin/stable_token")) == 2
        assert other_client.post("/api/v1/engineer/binding-codes", headers=engineer.headers,
                                 json={"estate_id": estate}).status_code == 201
        # B's process-local copy is stale: one refused call, then B takes A's fresh token from the
        # database instead of fetching a third one.
        assert len(wechat.calls("cgi-bin/stable_token")) == 2
        assert len(wechat.calls("wxa/getwxacodeunlimit")) == 6
        assert tokens_used(wechat)[-1] == tokens_used(wechat)[-3]
    finally:
        from core.extensions import db
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_unreachable_wechat_is_502_wechat_unavailable(app_config, client, wechat, engineer_and_estate):
    engineer, estate = engineer_and_estate
    # Another worker whose WeChat connection is down (nothing listens on port 9).
    down = create_app({**app_config, "WECHAT_API_BASE": "http://127.0.0.1:9/", "WECHAT_TIMEOUT": 2})
    try:
        down_client = down.test_client()
        response = down_client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()})
        assert_wechat_error(response, 502, "wechat_unavailable", None)
        response = down_client.post("/api/v1/engineer/binding-codes", headers=engineer.headers,
                                    json={"estate_id": estate})
        assert_wechat_error(response, 502, "wechat_unavailable", None)
    finally:
        from core.extensions import db
        with down.app_context():
            db.session.remove()
            db.engine.dispose()
    # Nothing was minted meanwhile; the healthy worker still works.
    assert wechat.calls("wxa/getwxacodeunlimit") == []
    assert mint(client, engineer, estate).status_code == 201
