"""The caller's own profile: PUT /api/v1/me (nickname, avatar) and POST /api/v1/me/phone (WeChat's
getPhoneNumber code), through the API and the fake WeChat server."""
import io

import pytest
from PIL import Image

from tests.conftest import bearer

PHONE = "wxa/business/getuserphonenumber"


def upload(client, who) -> str:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (20, 120, 200)).save(out, "PNG")
    response = client.post("/api/v1/uploads", headers=who.headers, data={"file": (io.BytesIO(out.getvalue()), "a.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    return response.json["id"]


def put_me(client, who, **body):
    return client.put("/api/v1/me", headers=who.headers, json=body)


def me(client, who) -> dict:
    response = client.get("/api/v1/me", headers=who.headers)
    assert response.status_code == 200
    return response.json


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    return response.json["error"]


def phone_code(wechat, phone="13800138000", **extra) -> str:
    return wechat.control("POST", "phone-codes", json={"phone": phone, **extra})["code"]


def confirm(client, who, code, **kwargs):
    return client.post("/api/v1/me/phone", headers={**who.headers, **kwargs.pop("headers", {})},
                       json={"code": code}, **kwargs)


# -- the me shape -----------------------------------------------------------------------------

def test_a_new_resident_has_no_avatar_and_no_confirmed_phone(client, login):
    resident = login()
    body = me(client, resident)
    assert body["avatar_url"] is None
    assert body["phone"] is None
    assert body["phone_confirmed"] is False
    assert body["roles"] == ["resident"]


# -- nickname ---------------------------------------------------------------------------------

def test_nickname_is_trimmed_checked_as_a_profile_and_returned_in_the_me_shape(client, login, wechat):
    resident = login()
    response = put_me(client, resident, display_name="  小区王阿姨  ")
    assert response.status_code == 200, response.json
    assert response.json["display_name"] == "小区王阿姨"
    assert response.json == me(client, resident)
    [check] = wechat.calls("wxa/msg_sec_check")
    assert check["body"] == {"content": "小区王阿姨", "version": 2, "scene": 1, "openid": resident.openid}


def test_an_unchanged_or_absent_nickname_is_not_sent_to_wechat(client, login, wechat):
    resident = login()
    assert put_me(client, resident, display_name="老李").status_code == 200
    assert put_me(client, resident, display_name=" 老李 ").status_code == 200
    response = put_me(client, resident)
    assert response.status_code == 200 and response.json["display_name"] == "老李"
    assert len(wechat.calls("wxa/msg_sec_check")) == 1


@pytest.mark.parametrize("name", ["", "   ", "一" * 21, "a" * 101, "老\n李", "老\x00李"])
def test_bad_nicknames_are_422_on_display_name(client, login, wechat, name):
    resident = login()
    response = put_me(client, resident, display_name=name)
    err = error(response, 422, "validation_error")
    assert list(err["details"]["fields"]) == ["display_name"]
    assert me(client, resident)["display_name"] == ""
    assert wechat.calls("wxa/msg_sec_check") == []


def test_twenty_characters_and_emoji_are_fine(client, login):
    resident = login()
    assert put_me(client, resident, display_name="一" * 20).json["display_name"] == "一" * 20
    assert put_me(client, resident, display_name="👍🏻阿明").json["display_name"] == "👍🏻阿明"


def test_unknown_and_null_fields_are_422(client, login):
    resident = login()
    err = error(put_me(client, resident, nickname="老李"), 422, "validation_error")
    assert "nickname" in err["details"]["fields"]
    err = error(put_me(client, resident, display_name=None), 422, "validation_error")
    assert "display_name" in err["details"]["fields"]


def test_a_risky_nickname_is_refused_and_the_old_one_kept(client, login):
    resident = login()
    put_me(client, resident, display_name="老李")
    err = error(put_me(client, resident, display_name="赌博老李"), 409, "content_risky")
    assert "昵称" in err["message"]
    assert me(client, resident)["display_name"] == "老李"


def test_a_nickname_wechat_wants_reviewed_is_kept(client, login):
    resident = login()
    assert put_me(client, resident, display_name="加微信找我").json["display_name"] == "加微信找我"


@pytest.mark.parametrize("fault", [{"errcode": -1, "count": 2}, {"status": 503, "count": 2}, {"errcode": 45009}])
def test_a_nickname_wechat_cannot_check_is_kept(client, login, wechat, fault):
    resident = login()
    wechat.fault("wxa/msg_sec_check", **fault)
    response = put_me(client, resident, display_name="楼下小张")
    assert response.status_code == 200, response.json
    assert me(client, resident)["display_name"] == "楼下小张"
    assert wechat.calls("wxa/msg_sec_check")  # it was asked


def test_a_nickname_of_a_user_not_active_lately_is_kept(client, login, wechat):
    resident = login()
    wechat.advance(7300)  # WeChat: 61010, no login in the last two hours
    assert put_me(client, resident, display_name="楼下小张").status_code == 200
    assert me(client, resident)["display_name"] == "楼下小张"
    assert len(wechat.calls("wxa/msg_sec_check")) == 1


def test_a_user_without_openid_keeps_the_nickname_unchecked(client, admin, wechat):
    response = put_me(client, admin, display_name="值班经理")
    assert response.status_code == 200 and response.json["display_name"] == "值班经理"
    assert wechat.calls("wxa/msg_sec_check") == []


def test_needs_a_login(client):
    assert client.put("/api/v1/me", json={"display_name": "x"}).status_code == 401
    assert client.post("/api/v1/me/phone", json={"code": "x"}).status_code == 401


# -- avatar -----------------------------------------------------------------------------------

def test_avatar_is_my_own_upload_and_null_removes_it(client, login):
    resident = login()
    name = upload(client, resident)
    response = put_me(client, resident, avatar=name)
    assert response.status_code == 200, response.json
    assert response.json["avatar_url"] == f"http://linli.test/api/v1/uploads/{name}"
    assert client.get(response.json["avatar_url"]).status_code == 200
    assert put_me(client, resident, display_name="阿明").json["avatar_url"] == f"http://linli.test/api/v1/uploads/{name}"
    response = put_me(client, resident, avatar=None)
    assert response.status_code == 200 and response.json["avatar_url"] is None
    assert me(client, resident)["avatar_url"] is None


def test_someone_elses_or_an_unknown_upload_is_422_and_changes_nothing(client, login, wechat):
    alice, bob = login(), login()
    theirs = upload(client, bob)
    for name in (theirs, "x" * 24 + ".png", "../../etc/passwd"):
        err = error(put_me(client, alice, avatar=name, display_name="阿丽"), 422, "validation_error")
        assert list(err["details"]["fields"]) == ["avatar"]
    body = me(client, alice)
    assert body["avatar_url"] is None and body["display_name"] == ""
    assert wechat.calls("wxa/msg_sec_check") == []  # refused before asking WeChat


def test_login_answers_with_the_profile(client, login, wechat):
    resident = login()
    name = upload(client, resident)
    put_me(client, resident, avatar=name, display_name="阿明")
    response = client.post("/api/v1/auth/wechat-login", json={"code": wechat.code(resident.openid)})
    assert response.status_code == 200
    assert response.json["user"]["avatar_url"] == f"http://linli.test/api/v1/uploads/{name}"
    assert response.json["user"]["display_name"] == "阿明"
    assert response.json["user"]["phone_confirmed"] is False


# -- phone ------------------------------------------------------------------------------------

def test_a_phone_code_confirms_my_phone(client, login, wechat):
    resident = login()
    code = phone_code(wechat)
    response = confirm(client, resident, code)
    assert response.status_code == 200, response.json
    assert response.json["phone"] == "13800138000"
    assert response.json["phone_confirmed"] is True
    assert response.json == me(client, resident)
    [call] = wechat.calls(PHONE)
    assert call["body"] == {"code": code}
    assert call["query"]["access_token"]


def test_a_used_forged_or_expired_code_is_400_tap_again(client, login, wechat):
    resident = login()
    code = phone_code(wechat, "13900139000")
    assert confirm(client, resident, code).status_code == 200
    other = login()
    for bad in (code, "forged-code"):
        err = error(confirm(client, other, bad), 400, "phone_code_invalid")
        assert "重新" in err["message"]
    old = phone_code(wechat)
    wechat.advance(301)
    error(confirm(client, other, old), 400, "phone_code_invalid")
    assert me(client, other)["phone"] is None and me(client, other)["phone_confirmed"] is False
    assert me(client, resident)["phone"] == "13900139000"


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": None}, {"code": "x" * 129}])
def test_phone_code_validation_is_422_on_code(client, login, wechat, body):
    resident = login()
    response = client.post("/api/v1/me/phone", headers=resident.headers, json=body)
    err = error(response, 422, "validation_error")
    assert list(err["details"]["fields"]) == ["code"]
    assert wechat.calls(PHONE) == []


def test_wechat_down_is_502_not_retried_and_the_code_still_works_later(client, login, wechat):
    resident = login()
    code = phone_code(wechat)
    wechat.fault(PHONE, status=503)
    err = error(confirm(client, resident, code), 502, "wechat_unavailable")
    assert err["details"]["wechat_call"] == "getuserphonenumber"
    wechat.fault(PHONE, errcode=-1)
    error(confirm(client, resident, code), 502, "wechat_unavailable")
    assert len(wechat.calls(PHONE)) == 2  # one call each: a failed exchange may have used the code
    assert me(client, resident)["phone_confirmed"] is False
    assert confirm(client, resident, code).status_code == 200


def test_wechat_rate_limit_is_503_with_retry_after(client, login, wechat):
    resident = login()
    wechat.fault(PHONE, errcode=45011)
    response = confirm(client, resident, phone_code(wechat))
    error(response, 503, "wechat_rate_limited")
    assert response.headers["Retry-After"] == "60"


def test_a_stale_access_token_is_refreshed_once(client, login, wechat):
    resident = login()
    wechat.fault(PHONE, errcode=40001)
    response = confirm(client, resident, phone_code(wechat))
    assert response.status_code == 200, response.json
    assert len(wechat.calls(PHONE)) == 2
    wechat.fault(PHONE, count=2, errcode=40001)
    error(confirm(client, resident, phone_code(wechat)), 502, "wechat_error")


def test_a_number_watermarked_for_another_app_is_refused(client, login, wechat):
    resident = login()
    response = confirm(client, resident, phone_code(wechat, appid="wx_someone_else"))
    error(response, 502, "phone_watermark_mismatch")
    assert me(client, resident)["phone"] is None


def test_a_number_abroad_keeps_its_country_code(client, login, wechat):
    resident = login()
    response = confirm(client, resident, phone_code(wechat, "2025550123", country_code="1"))
    assert response.status_code == 200
    assert response.json["phone"] == "+12025550123" and response.json["phone_confirmed"] is True


def test_a_confirmed_number_replaces_the_old_one(client, login, wechat):
    resident = login()
    confirm(client, resident, phone_code(wechat, "13800138000"))
    response = confirm(client, resident, phone_code(wechat, "13700137000"))
    assert response.json["phone"] == "13700137000"


def test_a_retry_with_the_same_idempotency_key_replays_without_asking_wechat_again(client, login, wechat):
    resident = login()
    code = phone_code(wechat)
    first = confirm(client, resident, code, headers={"Idempotency-Key": "phone-1"})
    again = confirm(client, resident, code, headers={"Idempotency-Key": "phone-1"})
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert len(wechat.calls(PHONE)) == 1


def test_staff_token_holders_may_confirm_too(client, admin, wechat):
    response = confirm(client, admin, phone_code(wechat))
    assert response.status_code == 200 and response.headers.get("Idempotent-Replayed") is None
    assert client.get("/api/v1/me", headers=bearer(admin.token)).json["phone_confirmed"] is True


def test_a_numeric_country_code_is_read_like_the_string(ctx, monkeypatch):
    """WeChat's field table says countryCode is a string, its example shows the number 86."""
    from core.accounts import services
    from core.accounts.models import User
    from core.errors import UpstreamError
    from core.extensions import db

    user = User(roles=frozenset({"resident"}))
    db.session.add(user)
    db.session.flush()
    for country, stored in ((86, "13800138000"), (852, "+85213800138000")):
        monkeypatch.setattr(services.gateway, "phone_number", lambda code, country=country: {
            "phoneNumber": "x", "purePhoneNumber": "13800138000", "countryCode": country,
            "watermark": {"appid": "wx_fake_appid", "timestamp": 1}})
        assert services.confirm_phone(user, "code").phone == stored
    monkeypatch.setattr(services.gateway, "phone_number", lambda code: {
        "purePhoneNumber": "１３８００１３８０００", "countryCode": "86", "watermark": {"appid": "wx_fake_appid"}})
    with pytest.raises(UpstreamError) as exc:
        services.confirm_phone(user, "code")
    assert exc.value.code == "phone_unusable" and user.phone == "+85213800138000"
