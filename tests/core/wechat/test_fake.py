"""The fake WeChat API server, driven over real HTTP (requests and wechatpy 1.8.18)."""

import base64
import io
import time

import pytest
import qrcode
import requests
from click.testing import CliRunner
from PIL import Image, ImageOps
from wechatpy import WeChatClient
from wechatpy.exceptions import APILimitedException, WeChatClientException

from core.wechat import cli
from core.wechat.fake import FakeWeChatServer, WeChatError, _check_template_data

APPID, SECRET = "wx_fake_appid", "fake_secret"


class FakeWeChatClient(WeChatClient):
    """wechatpy pointed at the fake, token fetches included."""

    def __init__(self, base_url, **kwargs):
        super().__init__(APPID, SECRET, auto_retry=False, **kwargs)
        self.base_url = base_url
        self.API_BASE_URL = base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = base_url

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.base_url + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


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
    """control("POST", "codes", json={...}) -> decoded JSON of a /_fake/ control."""

    def call(method, path, expect=200, **kwargs):
        response = http.request(method, fake.url + "_fake/" + path, **kwargs)
        assert response.status_code == expect, response.text
        return response.json()

    return call


def advance(control, seconds):
    return control("POST", "clock", json={"advance_seconds": seconds})["now"]


def get_token(fake, http, **overrides):
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, **overrides}
    response = http.get(fake.url + "cgi-bin/token", params=params)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; encoding=utf-8"
    return response.json()


def get_stable_token(fake, http, force_refresh=False):
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, "force_refresh": force_refresh}
    return http.post(fake.url + "cgi-bin/stable_token", json=body).json()


def token_errcode(fake, http, token):
    """errcode of a cheap token-checked call (msgSecCheck v1) made with ``token``."""
    params = {} if token is None else {"access_token": token}
    response = http.post(fake.url + "wxa/msg_sec_check", params=params, json={"content": "hello"})
    assert response.status_code == 200
    return response.json()["errcode"]


def new_login(control, **body):
    return control("POST", "codes", json=body)


# ------------------------------------------------------------------- tokens

def test_token_success_shape_and_credential_errors(fake, http):
    result = get_token(fake, http)
    assert set(result) == {"access_token", "expires_in"}
    assert result["expires_in"] == 7200
    for overrides, errcode in [({"appid": "wx_other"}, 40013), ({"secret": "wrong"}, 40125),
                               ({"grant_type": "authorization_code"}, 40002)]:
        error = get_token(fake, http, **overrides)
        assert error["errcode"] == errcode
        assert " rid: " in error["errmsg"]


def test_token_call_check_missing_unknown_and_expired(fake, http, control):
    token = get_token(fake, http)["access_token"]
    assert token_errcode(fake, http, token) == 0
    assert token_errcode(fake, http, None) == 41001
    assert token_errcode(fake, http, "not-a-token") == 40001
    advance(control, 7199)
    assert token_errcode(fake, http, token) == 0
    advance(control, 2)
    assert token_errcode(fake, http, token) == 42001


def test_new_token_leaves_previous_valid_for_300_seconds_only(fake, http, control):
    first = get_token(fake, http)["access_token"]
    second = get_token(fake, http)["access_token"]
    assert first != second
    advance(control, 299)
    assert token_errcode(fake, http, first) == 0
    advance(control, 2)
    assert token_errcode(fake, http, first) == 40001
    assert token_errcode(fake, http, second) == 0


def test_token_older_than_the_previous_one_dies_at_once(fake, http):
    first = get_token(fake, http)["access_token"]
    second = get_token(fake, http)["access_token"]
    third = get_token(fake, http)["access_token"]
    assert token_errcode(fake, http, first) == 40001
    assert token_errcode(fake, http, second) == 0
    assert token_errcode(fake, http, third) == 0


def test_stable_token_is_reused_and_separate_from_cgi_bin_token(fake, http, control):
    first = get_stable_token(fake, http)
    assert set(first) == {"access_token", "expires_in"} and first["expires_in"] == 7200
    advance(control, 100)
    again = get_stable_token(fake, http)
    assert again["access_token"] == first["access_token"]
    assert 7098 <= again["expires_in"] <= 7100  # remaining lifetime, rounded down
    classic = get_token(fake, http)["access_token"]
    get_token(fake, http)
    get_token(fake, http)  # supersedes only the cgi-bin/token pool
    assert token_errcode(fake, http, first["access_token"]) == 0
    assert token_errcode(fake, http, classic) == 40001


def test_stable_token_rotates_in_its_last_five_minutes(fake, http, control):
    old = get_stable_token(fake, http)["access_token"]
    advance(control, 6899)
    assert get_stable_token(fake, http)["access_token"] == old
    advance(control, 2)  # 299 s left
    rotated = get_stable_token(fake, http)
    assert rotated["access_token"] != old and rotated["expires_in"] == 7200
    assert token_errcode(fake, http, old) == 0  # valid until its own expiry
    advance(control, 300)
    assert token_errcode(fake, http, old) == 42001
    assert token_errcode(fake, http, rotated["access_token"]) == 0


def test_stable_token_force_refresh_rules(fake, http, control):
    old = get_stable_token(fake, http)["access_token"]
    forced = get_stable_token(fake, http, force_refresh=True)["access_token"]
    assert forced != old
    assert token_errcode(fake, http, old) == 40001
    advance(control, 29)
    assert get_stable_token(fake, http, force_refresh=True)["access_token"] == forced
    advance(control, 2)
    assert get_stable_token(fake, http, force_refresh=True)["access_token"] != forced


def test_stable_token_force_refresh_at_most_20_a_day(fake, http, control):
    now = advance(control, 0)
    advance(control, 86400 - (now + 8 * 3600) % 86400 + 1)  # just after Beijing midnight
    for _ in range(20):
        assert "access_token" in get_stable_token(fake, http, force_refresh=True)
        advance(control, 31)
    assert get_stable_token(fake, http, force_refresh=True)["errcode"] == 45009
    assert "access_token" in get_stable_token(fake, http)  # unforced calls still work
    advance(control, 86400)
    assert "access_token" in get_stable_token(fake, http, force_refresh=True)


def test_wechatpy_fetches_and_reuses_its_token(fake, client, control):
    login = new_login(control)
    client.wxa.code_to_session(login["code"])
    client.wxa.code_to_session(new_login(control)["code"])
    endpoints = [call["endpoint"] for call in control("GET", "calls")["calls"]]
    assert endpoints == ["cgi-bin/token", "sns/jscode2session", "sns/jscode2session"]


# -------------------------------------------------------------------- login

def test_code_to_session_without_unionid(client, control):
    login = new_login(control, openid="o_resident_1")
    assert login["openid"] == "o_resident_1"
    result = client.wxa.code_to_session(login["code"])
    assert set(result) == {"openid", "session_key"}
    assert result["openid"] == "o_resident_1"
    assert len(result["session_key"]) == 24
    assert len(base64.b64decode(result["session_key"])) == 16


def test_code_to_session_with_unionid_and_generated_openid(client, control):
    login = new_login(control, unionid="u_union_1")
    assert login["openid"].startswith("o") and len(login["openid"]) == 28
    result = client.wxa.code_to_session(login["code"])
    assert result["openid"] == login["openid"]
    assert result["unionid"] == "u_union_1"


def test_code_to_session_invalid_used_and_expired_codes(client, control):
    with pytest.raises(WeChatClientException) as error:
        client.wxa.code_to_session("never-issued")
    assert error.value.errcode == 40029
    code = new_login(control)["code"]
    client.wxa.code_to_session(code)
    with pytest.raises(WeChatClientException) as error:
        client.wxa.code_to_session(code)
    assert error.value.errcode == 40163
    stale = new_login(control)["code"]
    advance(control, 301)
    with pytest.raises(WeChatClientException) as error:
        client.wxa.code_to_session(stale)
    assert error.value.errcode == 40029


def test_jscode2session_credentials_and_no_token_needed(fake, http, control):
    url = fake.url + "sns/jscode2session"
    code = new_login(control)["code"]
    params = {"appid": APPID, "secret": SECRET, "js_code": code, "grant_type": "authorization_code"}
    assert http.get(url, params={**params, "secret": "wrong"}).json()["errcode"] == 40125
    assert http.get(url, params={**params, "appid": "wx_other"}).json()["errcode"] == 40013
    assert "openid" in http.get(url, params=params).json()  # no access_token at all


def test_jscode2session_limits_100_calls_per_openid_per_minute(client, control):
    for _ in range(100):
        client.wxa.code_to_session(new_login(control, openid="o_busy")["code"])
    code = new_login(control, openid="o_busy")["code"]
    with pytest.raises(WeChatClientException) as error:
        client.wxa.code_to_session(code)
    assert error.value.errcode == 45011
    client.wxa.code_to_session(new_login(control, openid="o_other")["code"])
    advance(control, 61)
    assert client.wxa.code_to_session(code)["openid"] == "o_busy"


# --------------------------------------------------------- mini-program code

def qr_encodes(image, content):
    """True when ``image`` shows the QR symbol qrcode makes for ``content`` (any EC level, mask 0)."""
    gray = image.convert("L")
    x0, y0, x1, y1 = ImageOps.invert(gray).point(lambda v: 255 if v > 127 else 0).getbbox()
    pixels = gray.load()
    for level in (qrcode.constants.ERROR_CORRECT_L, qrcode.constants.ERROR_CORRECT_M,
                  qrcode.constants.ERROR_CORRECT_Q, qrcode.constants.ERROR_CORRECT_H):
        qr = qrcode.QRCode(error_correction=level, border=0, mask_pattern=0)
        qr.add_data(content)
        qr.make(fit=True)
        expected = qr.get_matrix()
        size = (x1 - x0) / len(expected)
        sampled = [[pixels[int(x0 + (col + 0.5) * size), int(y0 + (row + 0.5) * size)] < 128
                    for col in range(len(expected))] for row in range(len(expected))]
        if sampled == expected:
            return True
    return False


def test_wxa_code_is_a_jpeg_qr_of_scene_and_page(client):
    response = client.wxa.get_wxa_code_unlimited("b=Ab3_x~9", width=430, page="pages/bind/index")
    assert response.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG"
    assert image.size == (430, 430)
    assert qr_encodes(image, "wxa://wx_fake_appid/pages/bind/index?scene=b=Ab3_x~9")
    assert not qr_encodes(image, "wxa://wx_fake_appid/pages/bind/index?scene=b=Ab3_x~8")


@pytest.mark.parametrize("width, side", [(200, 280), (1000, 1000), (5000, 1280)])
def test_wxa_code_width_is_clamped(client, width, side):
    response = client.wxa.get_wxa_code_unlimited("s=1", width=width)
    assert Image.open(io.BytesIO(response.content)).size == (side, side)


def test_wxa_code_default_page_is_the_home_page(client):
    response = client.wxa.get_wxa_code_unlimited("s=1")
    image = Image.open(io.BytesIO(response.content))
    assert qr_encodes(image, "wxa://wx_fake_appid/pages/index/index?scene=s=1")


@pytest.mark.parametrize("kwargs, errcode", [
    ({"scene": "x" * 33}, 40169),
    ({"scene": ""}, 40169),
    ({"scene": "name=张三"}, 40129),
    ({"scene": "a%20b"}, 40129),
    ({"scene": "a b"}, 40129),
    ({"scene": "s=1", "page": "/pages/index/index"}, 41030),
    ({"scene": "s=1", "page": "pages/index/index?x=1"}, 41030),
    ({"scene": "s=1", "page": "pages/unknown/index"}, 41030),
])
def test_wxa_code_errors_raise_in_wechatpy(client, kwargs, errcode):
    with pytest.raises(WeChatClientException) as error:
        client.wxa.get_wxa_code_unlimited(**kwargs)
    assert error.value.errcode == errcode


def test_wxa_code_32_char_scene_and_unchecked_page_pass(client):
    assert client.wxa.get_wxa_code_unlimited("x" * 32).headers["Content-Type"] == "image/jpeg"
    response = client.wxa._post("wxa/getwxacodeunlimit", data={
        "scene": "s=1", "page": "pages/unpublished/index", "check_path": False, "env_version": "develop"})
    assert response.headers["Content-Type"] == "image/jpeg"


def test_wxa_code_body_not_json_and_errors_are_json_200(fake, http):
    token = get_token(fake, http)["access_token"]
    response = http.post(fake.url + "wxa/getwxacodeunlimit", params={"access_token": token}, data=b"scene=1")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; encoding=utf-8"
    assert response.json()["errcode"] == 40169


def test_post_body_is_parsed_whatever_the_content_type(fake, http, client, control):
    client.wxa.get_wxa_code_unlimited("s=1")
    token = client.access_token
    http.post(fake.url + "wxa/getwxacodeunlimit", params={"access_token": token},
              data=b'{"scene": "s=2"}', headers={"Content-Type": "text/plain"})
    calls = [c for c in control("GET", "calls")["calls"] if c["endpoint"] == "wxa/getwxacodeunlimit"]
    assert calls[0]["content_type"] is None  # wechatpy sends no Content-Type
    assert calls[0]["body"]["scene"] == "s=1" and calls[0]["method"] == "POST"
    assert calls[0]["query"] == {"access_token": token}
    assert calls[1]["content_type"] == "text/plain" and calls[1]["body"] == {"scene": "s=2"}


def test_wrong_method_and_unknown_path(fake, http):
    response = http.get(fake.url + "cgi-bin/message/subscribe/send")
    assert response.status_code == 200 and response.json()["errcode"] == 43002
    assert http.get(fake.url + "cgi-bin/no_such_api").status_code == 404
    response = http.get(fake.url + "_fake/no_such_control")
    assert response.status_code == 404 and "no such control" in response.json()["error"]


# ------------------------------------------------------- subscribe messages

VISIT_DATA = {"thing1": {"value": "空调维修"}, "time2": {"value": "2026年11月24日 14:30"},
              "thing3": {"value": "王师傅"}}


@pytest.fixture
def resident(control):
    return new_login(control)["openid"]


def send(client, openid, template_id="tmpl_visit_notice", data=VISIT_DATA, **extra):
    return client.post("message/subscribe/send", data={
        "touser": openid, "template_id": template_id, "data": data, **extra})


def test_subscribe_send_consumes_one_acceptance(client, control, resident):
    control("POST", "subscriptions", json={"openid": resident, "template_id": "tmpl_visit_notice"})
    result = client.wxa.send_subscribe_message(resident, "tmpl_visit_notice", VISIT_DATA, page="pages/index/index")
    assert result["errcode"] == 0 and result["errmsg"] == "ok" and isinstance(result["msgid"], int)
    with pytest.raises(WeChatClientException) as error:
        client.wxa.send_subscribe_message(resident, "tmpl_visit_notice", VISIT_DATA)
    assert error.value.errcode == 43101
    assert control("GET", "subscriptions", params={"openid": resident}) == {
        "subscriptions": {resident: {"tmpl_visit_notice": 0}}}
    [message] = control("GET", "messages")["messages"]
    assert message["msgid"] == result["msgid"] and message["touser"] == resident
    assert message["template_id"] == "tmpl_visit_notice" and message["page"] == "pages/index/index"
    assert message["data"] == VISIT_DATA
    assert message["miniprogram_state"] == "formal" and message["lang"] == "zh_CN"
    assert control("DELETE", "messages") == {"messages": []}


def test_subscribe_send_quota_adds_up_per_template(client, control, resident):
    control("POST", "subscriptions", json={"openid": resident, "template_id": "tmpl_visit_notice", "count": 2})
    send(client, resident, miniprogram_state="developer", lang="en_US")
    send(client, resident)
    with pytest.raises(WeChatClientException) as error:
        send(client, resident)
    assert error.value.errcode == 43101
    assert [m["lang"] for m in control("GET", "messages")["messages"]] == ["en_US", "zh_CN"]


def test_subscribe_send_without_acceptance_is_43101(client, resident):
    with pytest.raises(WeChatClientException) as error:
        send(client, resident)
    assert error.value.errcode == 43101
    assert "user refuse to accept the msg" in error.value.errmsg


@pytest.mark.parametrize("data, field", [
    ({**VISIT_DATA, "thing1": {"value": "一" * 21}}, "data.thing1.value"),
    ({**VISIT_DATA, "thing3": {"value": "王师傅\n电话"}}, "data.thing3.value"),
    ({**VISIT_DATA, "time2": {"value": "明天下午"}}, "data.time2.value"),
    ({"thing1": {"value": "空调维修"}, "time2": {"value": "14:30"}}, "data.thing3.value"),
    ({**VISIT_DATA, "thing9": {"value": "x"}}, "data.thing9.value"),
    ({**VISIT_DATA, "thing1": {"value": ""}}, "data.thing1.value"),
])
def test_subscribe_send_invalid_data_is_47003_and_keeps_quota(client, control, resident, data, field):
    control("POST", "subscriptions", json={"openid": resident, "template_id": "tmpl_visit_notice"})
    with pytest.raises(WeChatClientException) as error:
        client.wxa.send_subscribe_message(resident, "tmpl_visit_notice", data)
    assert error.value.errcode == 47003
    assert field in error.value.errmsg
    send(client, resident)  # the acceptance was not used up


def test_subscribe_send_openid_template_state_and_page_errors(client, control, resident):
    control("POST", "subscriptions", json={"openid": resident, "template_id": "tmpl_visit_notice"})
    cases = [
        ({"openid": "o_never_logged_in"}, 40003),
        ({"template_id": "tmpl_unknown"}, 40037),
        ({"miniprogram_state": "release"}, 47003),
        ({"page": "pages/unknown/index"}, 41030),
    ]
    for change, errcode in cases:
        kwargs = {"openid": resident, "template_id": "tmpl_visit_notice", **change}
        extra = {k: v for k, v in change.items() if k in ("miniprogram_state", "page")}
        with pytest.raises(WeChatClientException) as error:
            send(client, kwargs["openid"], kwargs["template_id"], **extra)
        assert error.value.errcode == errcode, change
    send(client, resident, page="pages/bind/index?estate=7")


@pytest.mark.parametrize("key, value, ok", [
    ("thing1", "二十个字" * 5, True),
    ("number2", "12.5", True),
    ("number2", "12a", False),
    ("letter1", "abcXYZ", True),
    ("letter1", "abc1", False),
    ("symbol1", "#*!", True),
    ("symbol1", "######", False),
    ("character_string4", "ORD-2026-000123", True),
    ("character_string4", "单号123", False),
    ("character_string4", "x" * 33, False),
    ("time2", "15:01", True),
    ("time2", "2026年11月24日 15:01", True),
    ("time2", "2026-11-24 09:00~11:00", True),
    ("time2", "25:00", False),
    ("date3", "2026年11月24日", True),
    ("date3", "2026-11-24 15:30", True),
    ("date3", "下周一", False),
    ("amount5", "¥99.00", True),
    ("amount5", "100元", True),
    ("amount5", "¥12345678901", False),
    ("phone_number1", "+86-0766-66888866", True),
    ("phone_number1", "电话12345", False),
    ("car_number1", "粤A8Z888挂", True),
    ("car_number1", "粤A8Z888挂X", False),
    ("name1", "欧阳娜娜", True),
    ("name1", "A" * 20, True),
    ("name1", "张" * 11, False),
    ("phrase3", "配送中", True),
    ("phrase3", "已完成服务了", False),
    ("phrase3", "OK", False),
    ("thing1", "tab\there", False),
])
def test_keyword_value_rules(key, value, ok):
    data = {key: {"value": value}}
    if ok:
        _check_template_data([key], data)
    else:
        with pytest.raises(WeChatError) as error:
            _check_template_data([key], data)
        assert error.value.errcode == 47003


# ---------------------------------------------------------- content security

def sec_check(client, openid, content, **extra):
    return client.wxa._post("wxa/msg_sec_check", data={
        "content": content, "version": 2, "scene": 2, "openid": openid, **extra})


def test_msg_sec_check_v2_verdicts(client, control):
    openid = new_login(control)["openid"]
    with pytest.raises(WeChatClientException) as error:
        sec_check(client, openid, "hello")
    assert error.value.errcode == 61010  # known, but never logged in
    client.wxa.code_to_session(new_login(control, openid=openid)["code"])
    passed = sec_check(client, openid, "周六的社区义诊几点开始？")
    assert passed["errcode"] == 0 and passed["trace_id"]
    assert passed["result"] == {"suggest": "pass", "label": 100}
    assert passed["detail"][0]["strategy"] == "content_model" and passed["detail"][0]["prob"] == 90
    review = sec_check(client, openid, "有需要的加微信详聊")
    assert review["result"] == {"suggest": "review", "label": 21000}
    assert review["detail"][0]["keyword"] == "加微信"
    risky = sec_check(client, openid, "正常内容", nickname="代开发票小王")
    assert risky["result"] == {"suggest": "risky", "label": 20006}


def test_msg_sec_check_needs_activity_within_two_hours(client, control):
    login = new_login(control)
    client.wxa.code_to_session(login["code"])
    advance(control, 7199)
    assert sec_check(client, login["openid"], "hi")["errcode"] == 0
    advance(control, 2)
    client.fetch_access_token()  # the fake clock expired wechatpy's token too
    with pytest.raises(WeChatClientException) as error:
        sec_check(client, login["openid"], "hi")
    assert error.value.errcode == 61010


def test_msg_sec_check_v2_argument_errors(client, control):
    login = new_login(control)
    client.wxa.code_to_session(login["code"])
    for kwargs, errcode in [({"scene": 5}, 40129), ({"openid": "o_unknown"}, 40003),
                            ({"content": "字" * 2501}, 47003)]:
        with pytest.raises(WeChatClientException) as error:
            sec_check(client, **{"openid": login["openid"], "content": "hi", **kwargs})
        assert error.value.errcode == errcode


def test_msg_sec_check_v1_and_configurable_words(client, control):
    assert client.wxa.check_text_security("你好")["errcode"] == 0
    with pytest.raises(WeChatClientException) as error:
        client.wxa.check_text_security("线上赌博")
    assert error.value.errcode == 87014
    control("POST", "sec-words", json={"risky": ["违禁词"], "review": []})
    assert client.wxa.check_text_security("线上赌博")["errcode"] == 0
    with pytest.raises(WeChatClientException):
        client.wxa.check_text_security("这是违禁词")


# ------------------------------------------------------------------- faults

def test_fault_with_errcode_then_recovery(client, control):
    control("POST", "faults", json={"endpoint": "sns/jscode2session", "count": 1, "errcode": 45011})
    code = new_login(control)["code"]
    with pytest.raises(WeChatClientException) as error:
        client.wxa.code_to_session(code)
    assert error.value.errcode == 45011 and not isinstance(error.value, APILimitedException)
    assert client.wxa.code_to_session(code)["openid"]  # the code was not consumed


def test_fault_45009_raises_api_limited(client, control):
    control("POST", "faults", json={"endpoint": "wxa/getwxacodeunlimit", "errcode": 45009})
    with pytest.raises(APILimitedException) as error:
        client.wxa.get_wxa_code_unlimited("s=1")
    assert error.value.errcode == 45009
    assert "reach max api daily quota limit" in error.value.errmsg


def test_fault_with_http_status(client, control):
    control("POST", "faults", json={"endpoint": "cgi-bin/token", "count": 2, "status": 503})
    for _ in range(2):
        with pytest.raises(WeChatClientException) as error:
            client.fetch_access_token()
        assert error.value.errcode is None
        assert error.value.response.status_code == 503
    assert client.fetch_access_token()["expires_in"] == 7200


def test_fault_with_a_delay_answers_late_and_the_call_still_counts(fake, client, control, resident):
    """A delay alone: WeChat does the call but its answer comes late (a send after the caller's
    timeout still reaches the user); with an errcode, a slow error."""
    control("POST", "subscriptions", json={"openid": resident, "template_id": "tmpl_visit_notice"})
    control("POST", "faults", json={"endpoint": "cgi-bin/message/subscribe/send", "delay": 1})
    with pytest.raises(requests.ReadTimeout):
        client._http.post(fake.url + f"cgi-bin/message/subscribe/send?access_token={client.access_token}",
                          json={"touser": resident, "template_id": "tmpl_visit_notice", "data": VISIT_DATA},
                          timeout=0.3)
    assert [m["touser"] for m in control("GET", "messages")["messages"]] == [resident]
    control("POST", "faults", json={"endpoint": "wxa/msg_sec_check", "delay": 0.4, "errcode": -1})
    started = time.monotonic()
    assert token_errcode(fake, client._http, None) == -1
    assert time.monotonic() - started >= 0.4


def test_fault_applies_before_token_check_and_can_be_cleared(fake, http, control):
    control("POST", "faults", json={"endpoint": "wxa/msg_sec_check", "count": 5, "errcode": -1})
    assert token_errcode(fake, http, None) == -1  # the fault wins over 41001
    assert control("GET", "faults")["faults"][0]["remaining"] == 4
    assert control("DELETE", "faults") == {"faults": []}
    assert token_errcode(fake, http, None) == 41001


# ---------------------------------------------------------- controls, reset

@pytest.mark.parametrize("method, path, body", [
    ("POST", "faults", {"endpoint": "cgi-bin/nothing"}),
    ("POST", "faults", {"endpoint": "cgi-bin/token", "count": 0}),
    ("POST", "faults", {"endpoint": "cgi-bin/token", "delay": -1}),
    ("POST", "faults", {"endpoint": "cgi-bin/token", "delay": "8"}),
    ("POST", "clock", {"advance_seconds": -5}),
    ("POST", "subscriptions", {"openid": "o1", "template_id": "tmpl_unknown"}),
    ("POST", "subscriptions", {"template_id": "tmpl_visit_notice"}),
    ("POST", "sec-words", {"risky": "赌博"}),
    ("POST", "codes", ["not", "an", "object"]),
])
def test_bad_control_input_is_400_json(control, method, path, body):
    assert "error" in control(method, path, expect=400, json=body)


def test_reset_restores_a_fresh_fake(fake, http, client, control):
    login = new_login(control)
    client.wxa.code_to_session(login["code"])
    control("POST", "subscriptions", json={"openid": login["openid"], "template_id": "tmpl_visit_notice"})
    send(client, login["openid"])
    control("POST", "faults", json={"endpoint": "cgi-bin/token", "errcode": -1})
    control("POST", "sec-words", json={"risky": ["x"]})
    advance(control, 1000)
    token = client.access_token
    unused = new_login(control)["code"]

    control("POST", "reset")
    assert control("GET", "calls") == {"calls": []}
    assert control("GET", "messages") == {"messages": []}
    assert control("GET", "subscriptions") == {"subscriptions": {}}
    assert control("GET", "faults") == {"faults": []}
    assert control("GET", "clock")["offset"] == 0
    assert control("GET", "sec-words") == {"risky": ["赌博", "代开发票", "枪支"], "review": ["加微信", "私下交易"]}
    assert token_errcode(fake, http, token) == 40001
    with pytest.raises(WeChatClientException) as error:
        client.wxa._get("sns/jscode2session", params={
            "appid": APPID, "secret": SECRET, "js_code": unused, "grant_type": "authorization_code",
            "access_token": None})
    assert error.value.errcode == 40029


def test_calls_log_can_be_cleared(fake, http, control):
    get_token(fake, http)
    [call] = control("GET", "calls")["calls"]
    assert call["endpoint"] == "cgi-bin/token" and call["method"] == "GET" and call["body"] is None
    assert call["query"]["appid"] == APPID
    assert control("DELETE", "calls") == {"calls": []}


def test_separate_servers_do_not_share_state():
    with FakeWeChatServer(appid="wx_other", secret="s2") as other:
        response = requests.get(other.url + "cgi-bin/token", params={
            "grant_type": "client_credential", "appid": "wx_other", "secret": "s2"})
        assert "access_token" in response.json()
        assert other.state.appid == "wx_other"


# ---------------------------------------------------------------------- CLI

def test_cli_serves_the_fake_with_options_and_env(monkeypatch):
    served = {}
    monkeypatch.setattr(cli, "run_simple", lambda host, port, app, threaded: served.update(
        host=host, port=port, state=app.extensions["wechat_fake"], threaded=threaded))
    result = CliRunner().invoke(cli.wechat_fake_command, [], env={"WECHAT_APPID": "wx_env", "WECHAT_SECRET": None})
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"], served["threaded"]) == ("127.0.0.1", 5001, True)
    assert (served["state"].appid, served["state"].secret) == ("wx_env", "fake_secret")
    result = CliRunner().invoke(cli.wechat_fake_command, [
        "--host", "0.0.0.0", "--port", "6001", "--appid", "wx_cli", "--secret", "s",
        "--page", "pages/home/index", "--page", "pages/bind/index"])
    assert result.exit_code == 0, result.output
    assert served["port"] == 6001 and served["state"].appid == "wx_cli"
    assert served["state"].pages == ("pages/home/index", "pages/bind/index")
