"""WeChat calls take their proxy from WECHAT_PROXY, never from the environment (reading it costs
CPU on every call, and an inherited variable must not reroute them)."""


def test_the_environment_proxy_is_not_used(app, client, wechat, monkeypatch):
    code = wechat.code()  # the test's own control call, before the environment changes
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://10.255.255.1:3128")  # unroutable: a call through it would fail
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    response = client.post("/api/v1/auth/wechat-login", json={"code": code})
    assert response.status_code == 200, response.json
    from core.wechat import gateway
    with app.app_context():
        assert gateway.client()._http.trust_env is False and not gateway.client()._http.proxies


def test_a_configured_proxy_is_used(app):
    app.config["WECHAT_PROXY"] = "http://proxy.internal:3128"
    from core.wechat import gateway
    with app.app_context():
        assert gateway.client()._http.proxies == {"http": "http://proxy.internal:3128",
                                                  "https": "http://proxy.internal:3128"}
