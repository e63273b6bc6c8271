"""A fake WeChat API server (api.weixin.qq.com) for development and tests.

It answers the mini-program server APIs the platform uses the way WeChat
does: errors are HTTP 200 with ``{"errcode": N, "errmsg": "... rid: ..."}``,
POST bodies are JSON whatever the Content-Type says (wechatpy sends none) and
``access_token`` travels in the query string. wechatpy 1.8.18 talks to it
unchanged over real HTTP once its base URLs point here.

Everything lives in memory inside the app (one ``_State`` guarded by a lock).
The fake has its own clock (real time plus an offset that tests advance), and
every expiry and rate window uses it. Test controls live under ``/_fake/``;
see docs/wechat-fake.md.
"""

from __future__ import annotations

import base64
import io
import json
import re
import secrets
import threading
import time
import unicodedata
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import qrcode
from flask import Flask, Response, abort, request
from PIL import Image
from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler, make_server

DEFAULT_APPID = "wx_fake_appid"
DEFAULT_SECRET = "fake_secret"
def _published_pages() -> tuple[str, ...]:
    """The pages of our own mini-program (miniprogram/src/app.json): what the real WeChat would
    know as published, for codes (check_path) and subscribe messages (page)."""
    app_json = Path(__file__).resolve().parents[2] / "miniprogram" / "src" / "app.json"
    try:
        return tuple(json.loads(app_json.read_text(encoding="utf-8"))["pages"])
    except (OSError, ValueError, KeyError):
        return ("pages/index/index", "pages/bind/index")


DEFAULT_PAGES = _published_pages()

# Subscribe-message templates of a neighbourhood service platform:
# template_id -> keyword names (the prefix decides the value rules).
DEFAULT_TEMPLATES: dict[str, list[str]] = {
    # 上门服务提醒: service item, visit time, engineer
    "tmpl_visit_notice": ["thing1", "time2", "thing3"],
    # 活动通知: activity, time, place, note
    "tmpl_activity_notice": ["thing1", "time2", "thing3", "thing4"],
    # 服务单状态: order number, service item, status, updated at
    "tmpl_order_status": ["character_string1", "thing2", "phrase3", "time4"],
    # 兑换进度: reward, status, reason or delivery note, updated at
    "tmpl_redemption_status": ["thing1", "phrase2", "thing3", "time4"],
    # 保养提醒: product and care, due date, who serves, note
    "tmpl_maintenance_due": ["thing1", "date2", "thing3", "thing4"],
    # 小区优惠上新: offer, what it is, valid until, estate
    "tmpl_offer_notice": ["thing1", "thing2", "time3", "thing4"],
}
DEFAULT_RISKY_WORDS = ("赌博", "代开发票", "枪支")
DEFAULT_REVIEW_WORDS = ("加微信", "私下交易")

TOKEN_LIFETIME = 7200  # seconds, expires_in of every access token
TOKEN_GRACE = 300  # a superseded cgi-bin/token token works this much longer
STABLE_ROTATE_BEFORE = 300  # stable_token rotates within its last 5 minutes
FORCE_REFRESH_GAP = 30  # forced stable_token refreshes at least this far apart
CODE_LIFETIME = 300  # a wx.login code is valid 5 minutes
PHONE_CODE_LIFETIME = 300  # so is a getPhoneNumber button's code
ACTIVE_WINDOW = 7200  # msg_sec_check needs a login within 2 hours
MINUTE, DAY = "minute", "day"
CHINA_UTC_OFFSET = 8 * 3600  # WeChat daily quotas reset at Beijing midnight

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40037: "invalid template_id",
    40097: "invalid args",
    40125: "invalid appsecret",
    40129: "invalid scene",
    40163: "code been used",
    40169: "invalid length for scene, or the data is not json string",
    41001: "access_token missing",
    41008: "missing code",
    41030: "invalid page",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43101: "user refuse to accept the msg",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit mustslower retry next minute",
    47001: "data format error",
    47003: "argument invalid!",
    61010: "code is expired",
    87014: "risky content",
}

SCENE_RE = re.compile(r"[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+")
ENV_VERSIONS = ("release", "trial", "develop")
MINIPROGRAM_STATES = ("developer", "trial", "formal")
LANGS = ("zh_CN", "en_US", "zh_HK", "zh_TW")

# Keyword value rules of subscribe messages, by the keyword's prefix.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_DATE = r"\d{4}(?:年(?:0?[1-9]|1[0-2])月(?:0?[1-9]|[12]\d|3[01])日|[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01]))"
_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
_TIME_PART = rf"(?:{_DATE}\s*)?{_CLOCK}"
_DATE_PART = rf"{_DATE}(?:\s*{_CLOCK})?"


def _digits(value: str) -> int:
    return sum(c.isdigit() for c in value)


def _matches(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda value: compiled.fullmatch(value) is not None


VALUE_RULES: dict[str, Callable[[str], bool]] = {
    "thing": lambda v: len(v) <= 20,
    "number": lambda v: bool(re.fullmatch(r"[+-]?\d+(?:\.\d+)?", v)) and _digits(v) <= 32,
    "letter": _matches(r"[A-Za-z]{1,32}"),
    "symbol": lambda v: len(v) <= 5 and not any(c.isalnum() or c.isspace() for c in v),
    "character_string": _matches(r"[\x20-\x7e]{1,32}"),
    "time": _matches(rf"{_TIME_PART}(?:\s*~\s*{_TIME_PART})?"),
    "date": _matches(rf"{_DATE_PART}(?:\s*~\s*(?:{_DATE_PART}|{_CLOCK}))?"),
    "amount": lambda v: bool(re.fullmatch(r"[¥￥$€£]?\d+(?:\.\d+)?元?", v)) and _digits(v) <= 10,
    "phone_number": _matches(r"[0-9+\-()#* ]{1,17}"),
    "car_number": lambda v: len(v) <= 8 and bool(re.fullmatch(rf"[{_CJK}]?[A-Za-z0-9]+[{_CJK}]?", v)),
    "name": lambda v: len(v) <= (20 if re.fullmatch(r"[A-Za-z .'·\-]+", v) else 10),
    "phrase": _matches(rf"[{_CJK}]{{1,5}}"),
}


class WeChatError(Exception):
    """A WeChat-level error: answered as HTTP 200 with errcode/errmsg."""

    def __init__(self, errcode: int, errmsg: str | None = None):
        super().__init__(errcode, errmsg)
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "fake error")


def _rid() -> str:
    return "-".join(secrets.token_hex(4) for _ in range(3))


def _json_response(payload: dict, status: int = 200) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json; encoding=utf-8",
    )


def _error_body(errcode: int, errmsg: str) -> dict:
    return {"errcode": errcode, "errmsg": f"{errmsg} rid: {_rid()}"}


@dataclass
class _Token:
    pool: str  # "token" (cgi-bin/token) or "stable" (cgi-bin/stable_token)
    expires_at: float
    revoked_at: float | None = None  # stops working at this time (superseded)


class _State:
    """All the fake's state. Callers hold ``lock`` while using it."""

    def __init__(self, appid: str, secret: str, pages, templates):
        self.appid = appid
        self.secret = secret
        self.pages = tuple(pages)
        self.templates = {tid: list(words) for tid, words in templates.items()}
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.clock_offset = 0.0
        self.tokens: dict[str, _Token] = {}
        self.stable_token: str | None = None
        self.last_forced_at: float | None = None
        self.codes: dict[str, dict] = {}  # code -> openid, unionid, created_at, used
        self.phone_codes: dict[str, dict] = {}  # code -> phone, country_code, appid, created_at, used
        self.openids: set[str] = set()
        self.active: dict[str, float] = {}  # openid -> last jscode2session exchange
        self.subscriptions: dict[tuple[str, str], int] = {}
        self.messages: list[dict] = []
        self.faults: list[dict] = []
        self.calls: list[dict] = []
        self.hits: dict[Any, deque] = {}
        self.risky_words = list(DEFAULT_RISKY_WORDS)
        self.review_words = list(DEFAULT_REVIEW_WORDS)
        self.media_checks: list[dict] = []  # wxa/media_check_async calls, with their verdicts
        self.risky_media: list[str] = []  # a media_url containing one of these is risky
        self.review_media: list[str] = []
        # WeChat DevTools against the demo: a code the fake did not mint (DevTools' own) logs in
        # as this user ({"openid", "phone"}); None refuses such codes, as WeChat does.
        self.devtools: dict | None = None

    def now(self) -> float:
        return time.time() + self.clock_offset

    def over_quota(self, key, limit: int, per: str) -> bool:
        """Count one use of ``key``; True (and not counted) when over ``limit``.

        ``per`` is MINUTE (a sliding 60 s window) or DAY (the current day in
        Beijing time, as WeChat's daily quotas).
        """
        now = self.now()
        if per == MINUTE:
            window_start = now - 60
        else:
            window_start = (now + CHINA_UTC_OFFSET) // 86400 * 86400 - CHINA_UTC_OFFSET
        hits = self.hits.setdefault(key, deque())
        while hits and hits[0] < window_start:
            hits.popleft()
        if len(hits) >= limit:
            return True
        hits.append(now)
        return False

    def check_app(self, appid, secret) -> None:
        if appid != self.appid:
            raise WeChatError(40013)
        if secret != self.secret:
            raise WeChatError(40125)

    def mint_token(self, pool: str) -> str:
        now = self.now()
        # Forget revoked tokens: an unknown token gets the same 40001.
        self.tokens = {t: e for t, e in self.tokens.items() if e.revoked_at is None or e.revoked_at > now}
        token = secrets.token_urlsafe(96)
        self.tokens[token] = _Token(pool, now + TOKEN_LIFETIME)
        return token

    def check_token(self, token: str | None) -> None:
        if not token:
            raise WeChatError(41001)
        entry = self.tokens.get(token)
        now = self.now()
        if entry is None or (entry.revoked_at is not None and now >= entry.revoked_at):
            raise WeChatError(40001)
        if now >= entry.expires_at:
            raise WeChatError(42001)

    def take_fault(self, endpoint: str) -> dict | None:
        for fault in self.faults:
            if fault["endpoint"] == endpoint and fault["remaining"] > 0:
                fault["remaining"] -= 1
                return fault
        return None


# ---------------------------------------------------------------- endpoints

@dataclass
class _Endpoint:
    method: str
    needs_token: bool
    handler: Callable[[_State, dict, Any], Any]


ENDPOINTS: dict[str, _Endpoint] = {}
_NOT_JSON = object()  # a body that is present but not JSON


def _wechat(path: str, method: str, needs_token: bool = False):
    """Register a WeChat endpoint handler: ``handler(state, query, body)``."""

    def register(handler):
        ENDPOINTS[path] = _Endpoint(method, needs_token, handler)
        return handler

    return register


def _json_object(body, errcode: int = 47001) -> dict:
    if not isinstance(body, dict):
        raise WeChatError(errcode)
    return body


@_wechat("cgi-bin/token", "GET")
def _token(st: _State, query, body):
    if query.get("grant_type") != "client_credential":
        raise WeChatError(40002)
    st.check_app(query.get("appid"), query.get("secret"))
    if st.over_quota("cgi-bin/token", 2000, DAY):
        raise WeChatError(45009)
    now = st.now()
    for entry in st.tokens.values():
        if entry.pool != "token":
            continue
        if entry.revoked_at is None:  # the newest one keeps working 5 minutes
            entry.revoked_at = now + TOKEN_GRACE
        else:  # older ones stop now
            entry.revoked_at = min(entry.revoked_at, now)
    return {"access_token": st.mint_token("token"), "expires_in": TOKEN_LIFETIME}


@_wechat("cgi-bin/stable_token", "POST")
def _stable_token(st: _State, query, body):
    body = _json_object(body)
    if body.get("grant_type") != "client_credential":
        raise WeChatError(40002)
    st.check_app(body.get("appid"), body.get("secret"))
    force = body.get("force_refresh", False)
    if not isinstance(force, bool):
        raise WeChatError(47001)
    now = st.now()
    current = st.tokens.get(st.stable_token)
    if force:
        recently = st.last_forced_at is not None and now - st.last_forced_at < FORCE_REFRESH_GAP
        if not recently:
            if st.over_quota("stable_token:force_refresh", 20, DAY):
                raise WeChatError(45009)
            if current is not None:
                current.revoked_at = now
            st.last_forced_at = now
            current = None
    if current is None or current.expires_at - now <= STABLE_ROTATE_BEFORE:
        # The previous stable token (if any) keeps working until its expiry.
        st.stable_token = st.mint_token("stable")
        current = st.tokens[st.stable_token]
    return {"access_token": st.stable_token, "expires_in": int(current.expires_at - now)}


@_wechat("sns/jscode2session", "GET")
def _jscode2session(st: _State, query, body):
    # No token needed; the extra access_token that wechatpy adds is ignored.
    st.check_app(query.get("appid"), query.get("secret"))
    if query.get("grant_type") != "authorization_code":
        raise WeChatError(40002)
    code = query.get("js_code")
    if not code:
        raise WeChatError(41008)
    entry = st.codes.get(code)
    if entry is None and st.devtools:
        entry = st.codes[code] = {"openid": st.devtools["openid"], "unionid": None, "created_at": st.now(), "used": False}
    if entry is None:
        raise WeChatError(40029)
    if st.over_quota(("jscode2session", entry["openid"]), 100, MINUTE):
        raise WeChatError(45011)
    if entry["used"]:
        raise WeChatError(40163)
    if st.now() - entry["created_at"] > CODE_LIFETIME:
        raise WeChatError(40029)
    entry["used"] = True
    st.active[entry["openid"]] = st.now()
    result = {
        "session_key": base64.b64encode(secrets.token_bytes(16)).decode(),
        "openid": entry["openid"],
    }
    if entry["unionid"]:
        result["unionid"] = entry["unionid"]
    return result


@_wechat("wxa/business/getuserphonenumber", "POST", needs_token=True)
def _get_user_phone_number(st: _State, query, body):
    """The phone number behind a getPhoneNumber button's code (made by `/_fake/phone-codes`).

    WeChat answers 40029 for a code that is unknown, expired (5 minutes) or already used."""
    body = _json_object(body)
    code = body.get("code")
    if not isinstance(code, str):
        raise WeChatError(47001, "data format error, code")
    entry = st.phone_codes.get(code)
    if entry is None and st.devtools:
        entry = st.phone_codes[code] = {"phone": st.devtools["phone"], "country_code": "86", "appid": None,
                                        "created_at": st.now(), "used": False}
    if entry is None or entry["used"] or st.now() - entry["created_at"] > PHONE_CODE_LIFETIME:
        raise WeChatError(40029)
    entry["used"] = True
    pure, country = entry["phone"], entry["country_code"]
    return {"errcode": 0, "errmsg": "ok", "phone_info": {
        "phoneNumber": pure if country == "86" else f"+{country}{pure}",
        "purePhoneNumber": pure, "countryCode": country,
        "watermark": {"timestamp": int(st.now()), "appid": entry["appid"] or st.appid}}}


def _qr_jpeg(content: str, width: int, color: tuple[int, int, int]) -> bytes:
    """A width x width JPEG of a QR code (whole-pixel modules, centred)."""
    # A fixed mask keeps the symbol valid and scannable and skips qrcode's search for the best
    # of eight masks, five times the cost: the fake must not be the slow part of a benchmark.
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, mask_pattern=0)
    qr.add_data(content)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    modules = len(matrix)
    symbol = Image.new("RGB", (modules, modules), "white")
    symbol.putdata([color if dark else (255, 255, 255) for row in matrix for dark in row])
    scale = max(1, width // modules)
    symbol = symbol.resize((modules * scale, modules * scale), Image.NEAREST)
    side = max(width, symbol.width)
    canvas = Image.new("RGB", (side, side), "white")
    offset = (side - symbol.width) // 2
    canvas.paste(symbol, (offset, offset))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return out.getvalue()


def _line_color(body: dict) -> tuple[int, int, int]:
    color = body.get("line_color")
    if body.get("auto_color") or not isinstance(color, dict):
        return (0, 0, 0)
    try:
        return tuple(min(max(int(color.get(k, 0)), 0), 255) for k in "rgb")
    except (TypeError, ValueError):
        return (0, 0, 0)


@_wechat("wxa/getwxacodeunlimit", "POST", needs_token=True)
def _wxacode_unlimit(st: _State, query, body):
    if st.over_quota("wxa/getwxacodeunlimit", 5000, MINUTE):
        raise WeChatError(45009)
    body = _json_object(body, errcode=40169)
    scene = body.get("scene")
    if not isinstance(scene, str) or not 0 < len(scene) <= 32:
        raise WeChatError(40169)
    if not SCENE_RE.fullmatch(scene):
        raise WeChatError(40129)
    page = body.get("page") or st.pages[0]
    if not isinstance(page, str) or page.startswith("/") or "?" in page:
        raise WeChatError(41030)
    if body.get("check_path", True) and page not in st.pages:
        raise WeChatError(41030)
    if body.get("env_version", "release") not in ENV_VERSIONS:
        raise WeChatError(40097)
    try:
        width = int(body.get("width", 430))
    except (TypeError, ValueError):
        raise WeChatError(47001) from None
    width = min(max(width, 280), 1280)
    image = _qr_jpeg(f"wxa://{st.appid}/{page}?scene={scene}", width, _line_color(body))
    return Response(image, content_type="image/jpeg")


def _check_template_data(keywords: list[str], data) -> None:
    if not isinstance(data, dict):
        raise WeChatError(47003, "argument invalid! data invalid")
    for key in data:
        if key not in keywords:
            raise WeChatError(47003, f"argument invalid! data.{key}.value not in template")
    for key in keywords:
        entry = data.get(key)
        value = entry.get("value") if isinstance(entry, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            # "emtpy" is WeChat's own spelling.
            raise WeChatError(47003, f"argument invalid! data.{key}.value is emtpy")
        prefix = re.fullmatch(r"([a-z_]+?)\d*", key)
        rule = VALUE_RULES.get(prefix.group(1) if prefix else key, lambda v: True)
        if any(unicodedata.category(c) == "Cc" for c in value) or not rule(value):
            raise WeChatError(47003, f"argument invalid! data.{key}.value invalid")


@_wechat("cgi-bin/message/subscribe/send", "POST", needs_token=True)
def _subscribe_send(st: _State, query, body):
    body = _json_object(body)
    touser, template_id = body.get("touser"), body.get("template_id")
    if touser not in st.openids:
        raise WeChatError(40003)
    if template_id not in st.templates:
        raise WeChatError(40037)
    state = body.get("miniprogram_state", "formal")
    if state not in MINIPROGRAM_STATES:
        raise WeChatError(47003, "argument invalid! miniprogram_state invalid")
    lang = body.get("lang", "zh_CN")
    if lang not in LANGS:
        raise WeChatError(47003, "argument invalid! lang invalid")
    page = body.get("page")
    if page not in (None, "") and (not isinstance(page, str) or page.lstrip("/").split("?")[0] not in st.pages):
        raise WeChatError(41030)
    _check_template_data(st.templates[template_id], body.get("data"))
    if st.subscriptions.get((touser, template_id), 0) <= 0:
        raise WeChatError(43101)
    st.subscriptions[(touser, template_id)] -= 1
    msgid = secrets.randbits(63)
    st.messages.append({
        "msgid": msgid, "touser": touser, "template_id": template_id, "page": page,
        "data": body["data"], "miniprogram_state": state, "lang": lang, "sent_at": st.now(),
    })
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


@_wechat("wxa/msg_sec_check", "POST", needs_token=True)
def _msg_sec_check(st: _State, query, body):
    if st.over_quota("wxa/msg_sec_check", 4000, MINUTE):
        raise WeChatError(45009)
    body = _json_object(body)
    content = body.get("content")
    if not isinstance(content, str):
        raise WeChatError(47001)
    if len(content) > 2500:
        raise WeChatError(47003, "argument invalid! content too long")
    if "version" not in body:
        # v1 (wechatpy's check_text_security): 87014 for risky text.
        if any(word in content for word in st.risky_words):
            raise WeChatError(87014)
        return {"errcode": 0, "errmsg": "ok"}
    if body["version"] != 2:
        raise WeChatError(47001, "data format error, version must be 2")
    scene = body.get("scene")
    if isinstance(scene, bool) or scene not in (1, 2, 3, 4):
        raise WeChatError(40129)
    openid = body.get("openid")
    if openid not in st.openids:
        raise WeChatError(40003)
    if st.now() - st.active.get(openid, float("-inf")) > ACTIVE_WINDOW:
        raise WeChatError(61010)
    text = " ".join(str(body.get(k) or "") for k in ("content", "title", "nickname"))
    verdict = {"suggest": "pass", "label": 100}
    detail = {"strategy": "content_model", "errcode": 0, "suggest": "pass", "label": 100, "prob": 90}
    for words, suggest, label in ((st.risky_words, "risky", 20006), (st.review_words, "review", 21000)):
        hit = next((word for word in words if word in text), None)
        if hit:
            verdict = {"suggest": suggest, "label": label}
            detail.update(verdict, keyword=hit)
            break
    return {
        "errcode": 0, "errmsg": "ok", "trace_id": _rid(), "result": verdict,
        "detail": [detail, {"strategy": "keyword", "errcode": 0}],
    }


@_wechat("wxa/media_check_async", "POST", needs_token=True)
def _media_check_async(st: _State, query, body):
    """Accept an image for checking; the verdict is the `wxa_media_check` event WeChat pushes
    later (the test control `/_fake/media-events` lists the events it would push)."""
    body = _json_object(body)
    media_url, media_type = body.get("media_url"), body.get("media_type")
    if not isinstance(media_url, str) or not media_url.startswith(("http://", "https://")):
        raise WeChatError(47001, "data format error, media_url")
    if media_type not in (1, 2):
        raise WeChatError(47001, "data format error, media_type")
    if body.get("version") == 2:
        if body.get("scene") not in (1, 2, 3, 4):
            raise WeChatError(40129)
        if body.get("openid") not in st.openids:
            raise WeChatError(40003)
    trace_id = secrets.token_hex(16)
    suggest, label = "pass", 100
    if any(word in media_url for word in st.risky_media):
        suggest, label = "risky", 20002
    elif any(word in media_url for word in st.review_media):
        suggest, label = "review", 21000
    st.media_checks.append({"trace_id": trace_id, "media_url": media_url, "openid": body.get("openid"),
                            "version": body.get("version"), "suggest": suggest, "label": label,
                            "created_at": int(st.now())})
    return {"errcode": 0, "errmsg": "ok", "trace_id": trace_id}


# ----------------------------------------------------------------- controls

def _control_json() -> dict:
    body = request.get_json(force=True, silent=True)
    if body is None and not request.get_data():
        return {}
    if not isinstance(body, dict):
        abort(400, "body must be a JSON object")
    return body


def _string_field(body: dict, key: str, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        abort(400, f"{key} must be a non-empty string")
    return value


def _int_field(body: dict, key: str, default: int | None, low: int, high: int) -> int | None:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        abort(400, f"{key} must be an integer from {low} to {high}")
    return value


def _register_controls(app: Flask, st: _State) -> None:
    @app.post("/_fake/codes")
    def fake_codes():
        body = _control_json()
        openid = _string_field(body, "openid") or "o" + secrets.token_urlsafe(21)[:27]
        unionid = _string_field(body, "unionid")
        code = secrets.token_hex(16)
        with st.lock:
            st.openids.add(openid)
            st.codes[code] = {"openid": openid, "unionid": unionid, "created_at": st.now(), "used": False}
        return {"code": code, "openid": openid}

    @app.post("/_fake/phone-codes")
    def fake_phone_codes():
        """A getPhoneNumber button's code: the user allowed us their phone number."""
        body = _control_json()
        phone = _string_field(body, "phone", required=True)
        country_code = _string_field(body, "country_code") or "86"
        appid = _string_field(body, "appid")  # the watermark's appid (default: the fake's own)
        if not re.fullmatch(r"[0-9]{1,20}", phone):
            abort(400, "phone must be up to 20 digits (without the country code)")
        if not re.fullmatch(r"[0-9]{1,4}", country_code):
            abort(400, "country_code must be 1 to 4 digits")
        code = secrets.token_hex(32)
        with st.lock:
            st.phone_codes[code] = {"phone": phone, "country_code": country_code, "appid": appid,
                                    "created_at": st.now(), "used": False}
        return {"code": code}

    @app.route("/_fake/devtools", methods=["GET", "POST", "DELETE"])
    def fake_devtools():
        """Let codes from WeChat DevTools in: they log in as one chosen user (`flask demo` sets it)."""
        if request.method == "POST":
            body = _control_json()
            openid = _string_field(body, "openid", required=True)
            phone = _string_field(body, "phone") or "13900000000"
            if not re.fullmatch(r"[0-9]{1,20}", phone):
                abort(400, "phone must be up to 20 digits (without the country code)")
            with st.lock:
                st.openids.add(openid)
                st.devtools = {"openid": openid, "phone": phone}
        elif request.method == "DELETE":
            with st.lock:
                st.devtools = None
        return {"devtools": st.devtools}

    @app.post("/_fake/subscriptions")
    def fake_subscribe():
        body = _control_json()
        openid = _string_field(body, "openid", required=True)
        template_id = _string_field(body, "template_id", required=True)
        count = _int_field(body, "count", 1, 1, 10_000)
        if template_id not in st.templates:
            abort(400, f"unknown template_id {template_id!r}; known: {sorted(st.templates)}")
        with st.lock:
            key = (openid, template_id)
            st.subscriptions[key] = st.subscriptions.get(key, 0) + count
            return {"openid": openid, "template_id": template_id, "remaining": st.subscriptions[key]}

    @app.get("/_fake/subscriptions")
    def fake_subscriptions():
        wanted = request.args.get("openid")
        result: dict[str, dict[str, int]] = {}
        with st.lock:
            for (openid, template_id), remaining in st.subscriptions.items():
                if wanted in (None, openid):
                    result.setdefault(openid, {})[template_id] = remaining
        return {"subscriptions": result}

    @app.route("/_fake/messages", methods=["GET", "DELETE"])
    def fake_messages():
        with st.lock:
            if request.method == "DELETE":
                st.messages.clear()
            return {"messages": list(st.messages)}

    @app.route("/_fake/calls", methods=["GET", "DELETE"])
    def fake_calls():
        with st.lock:
            if request.method == "DELETE":
                st.calls.clear()
            return {"calls": list(st.calls)}

    @app.route("/_fake/faults", methods=["GET", "POST", "DELETE"])
    def fake_faults():
        if request.method == "POST":
            body = _control_json()
            endpoint = body.get("endpoint")
            if endpoint not in ENDPOINTS:
                abort(400, f"endpoint must be one of {sorted(ENDPOINTS)}")
            status = _int_field(body, "status", None, 400, 599)
            delay = body.get("delay", 0)
            if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 120:
                abort(400, "delay must be a number of seconds from 0 to 120")
            # A delay alone is a slow answer to a call that is processed; with an error, a slow error.
            errcode = _int_field(body, "errcode", None if status or delay else -1, -1, 99_999_999)
            errmsg = _string_field(body, "errmsg") or ERRMSG.get(errcode, "fake fault")
            fault = {"endpoint": endpoint, "remaining": _int_field(body, "count", 1, 1, 1_000_000),
                     "status": status, "errcode": errcode, "errmsg": errmsg, "delay": delay}
        with st.lock:
            if request.method == "POST":
                st.faults.append(fault)
            if request.method == "DELETE":
                st.faults.clear()
            return {"faults": [f for f in st.faults if f["remaining"] > 0]}

    @app.route("/_fake/clock", methods=["GET", "POST"])
    def fake_clock():
        if request.method == "POST":
            seconds = _control_json().get("advance_seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                abort(400, "advance_seconds must be a number >= 0")
            with st.lock:
                st.clock_offset += seconds
        with st.lock:
            return {"now": st.now(), "offset": st.clock_offset}

    @app.route("/_fake/media-verdicts", methods=["GET", "POST"])
    def fake_media_verdicts():
        if request.method == "POST":
            body = _control_json()
            for key in ("risky", "review"):
                words = body.get(key)
                if words is not None and (not isinstance(words, list) or not all(isinstance(w, str) and w
                                                                                  for w in words)):
                    abort(400, f"{key} must be a list of non-empty strings")
            with st.lock:
                st.risky_media = body.get("risky", st.risky_media)
                st.review_media = body.get("review", st.review_media)
        with st.lock:
            return {"risky": st.risky_media, "review": st.review_media}

    @app.route("/_fake/media-events", methods=["GET", "DELETE"])
    def fake_media_events():
        """The `wxa_media_check` events WeChat would push (v2 JSON), oldest first."""
        with st.lock:
            if request.method == "DELETE":
                st.media_checks.clear()
            events = [{
                "ToUserName": "gh_fake0000001", "FromUserName": check["openid"] or "", "CreateTime": check["created_at"],
                "MsgType": "event", "Event": "wxa_media_check", "appid": st.appid, "trace_id": check["trace_id"],
                "version": 2, "result": {"suggest": check["suggest"], "label": check["label"]},
                "detail": [{"strategy": "content_model", "errcode": 0, "suggest": check["suggest"],
                            "label": check["label"], "prob": 90}]} for check in st.media_checks]
        return {"events": events}

    @app.route("/_fake/sec-words", methods=["GET", "POST"])
    def fake_sec_words():
        if request.method == "POST":
            body = _control_json()
            lists = {}
            for key in ("risky", "review"):
                words = body.get(key)
                if words is None:
                    continue
                if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
                    abort(400, f"{key} must be a list of non-empty strings")
                lists[key] = list(words)
            with st.lock:
                st.risky_words = lists.get("risky", st.risky_words)
                st.review_words = lists.get("review", st.review_words)
        with st.lock:
            return {"risky": st.risky_words, "review": st.review_words}

    @app.post("/_fake/reset")
    def fake_reset():
        with st.lock:
            st.reset()
        return {"ok": True}


# --------------------------------------------------------------------- app

def create_fake_app(appid: str = DEFAULT_APPID, secret: str = DEFAULT_SECRET,
                    pages=DEFAULT_PAGES, templates: dict[str, list[str]] | None = None) -> Flask:
    """Build the fake WeChat API as a Flask app; its state is ``app.extensions["wechat_fake"]``."""
    if not pages:
        raise ValueError("pages must name at least the home page")
    app = Flask(__name__)
    st = _State(appid, secret, pages, DEFAULT_TEMPLATES if templates is None else templates)
    app.extensions["wechat_fake"] = st
    _register_controls(app, st)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Controls answer JSON; anything else keeps the plain HTTP error page.
        if request.path.startswith("/_fake/"):
            return {"error": error.description}, error.code
        return error

    @app.route("/<path:path>", methods=["GET", "POST"])
    def wechat_api(path: str):
        if path.startswith("_fake/"):
            abort(404, f"no such control: /{path}")
        endpoint = ENDPOINTS.get(path)
        if endpoint is None:
            abort(404)
        raw = request.get_data()
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:  # covers JSONDecodeError and UnicodeDecodeError
            body = _NOT_JSON
        with st.lock:
            st.calls.append({
                "endpoint": path, "method": request.method, "query": request.args.to_dict(),
                "body": None if body is _NOT_JSON else body,
                "content_type": request.headers.get("Content-Type"), "at": st.now(),
            })
            fault = st.take_fault(path)
            if fault is not None and fault["status"]:
                result = Response(f"fake fault: HTTP {fault['status']}\n", status=fault["status"],
                                  content_type="text/plain; charset=utf-8")
            elif fault is not None and fault["errcode"] is not None:
                result = _error_body(fault["errcode"], fault["errmsg"])
            else:
                try:
                    if request.method != endpoint.method:
                        raise WeChatError(43002 if endpoint.method == "POST" else 43001)
                    if endpoint.needs_token:
                        st.check_token(request.args.get("access_token"))
                    result = endpoint.handler(st, request.args, body)
                except WeChatError as error:
                    result = _error_body(error.errcode, error.errmsg)
        if fault is not None and fault["delay"]:
            time.sleep(fault["delay"])  # outside the lock: other calls go on meanwhile
        return result if isinstance(result, Response) else _json_response(result)

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


class FakeWeChatServer:
    """The fake served on 127.0.0.1 (a free port) from a daemon thread.

    >>> with FakeWeChatServer() as fake:
    ...     requests.post(fake.url + "_fake/codes", json={})
    """

    def __init__(self, **app_kwargs):
        self.app = create_fake_app(**app_kwargs)
        self.state = self.app.extensions["wechat_fake"]
        self.url: str | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self, port: int = 0) -> "FakeWeChatServer":
        """Serve on 127.0.0.1:`port` (0: a free port)."""
        if self._server is not None:
            raise RuntimeError("fake WeChat server already started")
        self._server = make_server("127.0.0.1", port, self.app, threaded=True, request_handler=_QuietHandler)
        # Do not wait for handler threads on close: clients may keep connections open.
        self._server.block_on_close = False
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-wechat", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> "FakeWeChatServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
