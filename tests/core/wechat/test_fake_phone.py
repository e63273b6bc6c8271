"""The fake's phone-number API (wxa/business/getuserphonenumber), over real HTTP and wechatpy 1.8.18."""
from pathlib import Path

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

from core.wechat.fake import ENDPOINTS, FakeWeChatServer
from tests.core.wechat.test_fake import APPID, FakeWeChatClient

PHONE = "wxa/business/getuserphonenumber"


@pytest.fixture(scope="module")
def fake():
    with FakeWeChatServer() as server:
        yield server


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture(autouse=True)
def fresh_fake(fake, http):
    assert http.post(fake.url + "_fake/reset").json() == {"ok": True}


@pytest.fixture
def client(fake):
    client = FakeWeChatClient(fake.url)
    yield client
    client._http.close()


@pytest.fixture
def control(fake, http):
    def call(method, path, expect=200, **kwargs):
        response = http.request(method, fake.url + "_fake/" + path, **kwargs)
        assert response.status_code == expect, response.text
        return response.json()

    return call


def phone_code(control, **body) -> str:
    return control("POST", "phone-codes", json={"phone": "13800138000", **body})["code"]


def exchange(client, code):
    """What the gateway does: a raw post with the access token (wechatpy 1.8.18 has no method)."""
    return client.post(PHONE, data={"code": code}, api_base_url=client.base_url)


def raw(fake, http, token, body, method="POST"):
    params = {} if token is None else {"access_token": token}
    response = http.request(method, fake.url + PHONE, params=params, json=body)
    assert response.status_code == 200
    return response.json()


def token(fake, http) -> str:
    return http.get(fake.url + "cgi-bin/token", params={
        "grant_type": "client_credential", "appid": APPID, "secret": "fake_secret"}).json()["access_token"]


def test_a_code_gives_the_number_with_our_watermark(client, control):
    now = control("GET", "clock")["now"]
    result = exchange(client, phone_code(control))
    assert result["errcode"] == 0 and result["errmsg"] == "ok"
    info = result["phone_info"]
    assert info["phoneNumber"] == info["purePhoneNumber"] == "13800138000"
    assert info["countryCode"] == "86"
    assert info["watermark"]["appid"] == APPID
    assert isinstance(info["watermark"]["timestamp"], int) and abs(info["watermark"]["timestamp"] - now) <= 5


def test_a_code_is_one_shot_and_unknown_codes_are_40029(client, control):
    code = phone_code(control)
    exchange(client, code)
    for bad in (code, "0" * 64, ""):
        with pytest.raises(WeChatClientException) as exc:
            exchange(client, bad)
        assert exc.value.errcode == 40029
        assert "invalid code" in exc.value.errmsg and " rid: " in exc.value.errmsg


def test_a_code_lives_300_seconds(client, control):
    fresh, old = phone_code(control), phone_code(control)
    control("POST", "clock", json={"advance_seconds": 299})
    assert exchange(client, fresh)["phone_info"]["purePhoneNumber"] == "13800138000"
    control("POST", "clock", json={"advance_seconds": 2})
    with pytest.raises(WeChatClientException) as exc:
        exchange(client, old)
    assert exc.value.errcode == 40029


def test_other_country_other_appid_and_the_login_codes_are_not_phone_codes(client, control):
    info = exchange(client, phone_code(control, phone="2025550123", country_code="1", appid="wx_other"))["phone_info"]
    assert info["purePhoneNumber"] == "2025550123"
    assert info["phoneNumber"] == "+12025550123"
    assert info["countryCode"] == "1"
    assert info["watermark"]["appid"] == "wx_other"
    login_code = control("POST", "codes", json={})["code"]
    with pytest.raises(WeChatClientException) as exc:
        exchange(client, login_code)
    assert exc.value.errcode == 40029


def test_needs_a_valid_token_and_a_json_body_and_post(fake, http, control):
    code = phone_code(control)
    assert raw(fake, http, None, {"code": code})["errcode"] == 41001
    assert raw(fake, http, "not-a-token", {"code": code})["errcode"] == 40001
    good = token(fake, http)
    assert raw(fake, http, good, {"code": code}, method="GET")["errcode"] == 43002
    assert raw(fake, http, good, ["code", code])["errcode"] == 47001
    assert raw(fake, http, good, {"code": 12345})["errcode"] == 47001
    # None of those used the code up.
    assert raw(fake, http, good, {"code": code})["phone_info"]["purePhoneNumber"] == "13800138000"
    control("POST", "clock", json={"advance_seconds": 7201})
    assert raw(fake, http, good, {"code": phone_code(control)})["errcode"] == 42001


def test_faults_apply_before_the_code_is_used(client, control):
    assert PHONE in ENDPOINTS
    code = phone_code(control)
    control("POST", "faults", json={"endpoint": PHONE, "errcode": 45011})
    with pytest.raises(WeChatClientException) as exc:
        exchange(client, code)
    assert exc.value.errcode == 45011
    control("POST", "faults", json={"endpoint": PHONE, "status": 503})
    with pytest.raises(WeChatClientException) as exc:
        exchange(client, code)
    assert exc.value.errcode is None
    assert exchange(client, code)["phone_info"]["purePhoneNumber"] == "13800138000"
    calls = [c for c in control("GET", "calls")["calls"] if c["endpoint"] == PHONE]
    assert [c["body"] for c in calls] == [{"code": code}] * 3


def test_reset_forgets_phone_codes(client, control):
    code = phone_code(control)
    control("POST", "reset")
    with pytest.raises(WeChatClientException) as exc:
        exchange(client, code)
    assert exc.value.errcode == 40029


@pytest.mark.parametrize("body", [{}, {"phone": ""}, {"phone": 13800138000}, {"phone": "138-0013-8000"},
                                  {"phone": "１３８００１３８０００"}, {"phone": "1" * 21},
                                  {"phone": "13800138000", "country_code": "+86"},
                                  {"phone": "13800138000", "country_code": "12345"}])
def test_bad_phone_code_controls_are_400(control, body):
    assert "error" in control("POST", "phone-codes", expect=400, json=body)


def test_documented_in_the_fake_docs():
    doc = (Path(__file__).resolve().parents[3] / "docs" / "wechat-fake.md").read_text()
    assert f"`POST {PHONE}` *token*" in doc
    assert "`POST /_fake/phone-codes`" in doc
    fault_list = doc.split("Valid fault endpoints:", 1)[1].split("\n\n", 1)[0]
    for endpoint in ENDPOINTS:
        assert f"`{endpoint}`" in fault_list


def test_devtools_mode_lets_unknown_codes_in_as_one_chosen_user(client, control):
    """`flask demo` lets WeChat DevTools' own codes in; by default the fake refuses them as WeChat would."""
    with pytest.raises(WeChatClientException) as exc:
        client.wxa.code_to_session("devtools-code-1")
    assert exc.value.errcode == 40029
    assert control("POST", "devtools", json={"openid": "o_devtools", "phone": "13912345678"}) == {
        "devtools": {"openid": "o_devtools", "phone": "13912345678"}}
    assert client.wxa.code_to_session("devtools-code-2")["openid"] == "o_devtools"
    with pytest.raises(WeChatClientException) as exc:  # still one-shot
        client.wxa.code_to_session("devtools-code-2")
    assert exc.value.errcode == 40163
    assert exchange(client, "devtools-phone-1")["phone_info"]["purePhoneNumber"] == "13912345678"
    control("POST", "devtools", expect=400, json={"openid": "o_devtools", "phone": "+86 139"})
    assert control("DELETE", "devtools") == {"devtools": None}
    with pytest.raises(WeChatClientException) as exc:
        client.wxa.code_to_session("devtools-code-3")
    assert exc.value.errcode == 40029
