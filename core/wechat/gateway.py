"""The one place that builds wechatpy clients and turns WeChat failures into our errors.

- The API base URL is configurable (WECHAT_API_BASE), so the fake server stands in for WeChat.
- The access token comes from `cgi-bin/stable_token` and lives in the database (WeChatKV),
  shared by every process; stable_token returns the same token while it is valid, so
  processes refreshing at once do not knock each other's token out.
- Call WeChat with no write pending in the request's transaction: the token store writes on
  its own connection, and SQLite would make it wait for the pending write.
- Clients are built with auto_retry=False (wechatpy's own retry recurses without a cap);
  on 40001/40014/42001 we drop the stored token, fetch it again and retry once.
- Inside a web request a WeChat call (token fetch and retries included) has WECHAT_REQUEST_TIMEOUT
  seconds in all, is never retried after a timeout or a connection failure, and needs a free slot
  of the host's bounded pool (`_slots`; it waits WECHAT_SLOT_WAIT_MS at most) or is refused with
  503 `wechat_busy`: a stalled WeChat can tie up only a few of the host's workers, for a few
  seconds each. The scheduler's
  calls (no request) keep WECHAT_TIMEOUT per HTTP call and take no slot.
- A call that got no answer after its request went out raises `NoAnswer`: WeChat may have done it
  (a subscribe message may have been delivered), so it must not be repeated blindly.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import os
import time
from contextvars import ContextVar
from datetime import timedelta

import requests
import sqlalchemy as sa
import urllib3
from flask import current_app, has_request_context
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from core.db import upsert, utcnow
from core.errors import APIError, BadRequest, Forbidden, ServiceUnavailable, UpstreamError
from core.extensions import db
from core.wechat.models import WeChatKV

log = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}
BUSY_ERRORS = {-1, None}  # None: an HTTP-level failure (wechatpy could not read an errcode)
RATE_ERRORS = {45009, 45011}
# Refresh a little before WeChat's expiry so a token never dies in flight.
TOKEN_MARGIN = 120
# The monotonic time by which the current call must be over (inside a web request), else None.
_deadline: ContextVar[float | None] = ContextVar("wechat_deadline", default=None)


class NoAnswer(UpstreamError):
    """WeChat did not answer a request that had been sent (a read timeout, a dropped connection):
    it may have acted on it. Answered as any `502 wechat_unavailable`."""


class DatabaseStorage(SessionStorage):
    """wechatpy SessionStorage on its own short transactions (never the request's session).

    Except on SQLite: one writer per file, so a second connection cannot write while the request
    holds the write lock (e.g. an Idempotency-Key record written before the WeChat call) and
    would wait out busy_timeout, then fail. There the store uses the request's session; the token
    is committed with the request, and a token lost to a rollback is fetched again (stable_token
    answers the same one while it is valid).

    Reads go through a process-local copy until its expiry, so a WeChat call costs no database
    round trip; after a token error the next read takes the database's token when another process
    has refreshed it meanwhile, and fetches a new one otherwise (`invalidate`).
    """

    def __init__(self):
        self._local: dict[str, tuple[object, object]] = {}

    @staticmethod
    def _in_session() -> bool:
        return db.engine.dialect.name == "sqlite"

    def get(self, key, default=None):
        value, expires_at = self._local.get(key, (None, None))
        if value is not None and (expires_at is None or expires_at > utcnow()):
            return value
        stmt = sa.select(WeChatKV.value, WeChatKV.expires_at).where(WeChatKV.key == key)
        if self._in_session():
            row = db.session.execute(stmt).first()
        else:
            with db.engine.connect() as conn:
                row = conn.execute(stmt).first()
        if row is None:
            return default
        value, expires_at = row
        if expires_at is not None and expires_at <= utcnow():
            return default
        value = json.loads(value)
        self._local[key] = (value, expires_at)
        return value

    def set(self, key, value, ttl=None):
        expires_at = utcnow() + timedelta(seconds=max(int(ttl) - TOKEN_MARGIN, 1)) if ttl else None
        self._local[key] = (value, expires_at)
        table = WeChatKV.__table__
        if self._in_session():
            upsert(table, [{"key": key, "value": json.dumps(value), "expires_at": expires_at}],
                   key=["key"], update=["value", "expires_at"])
            return
        with db.engine.begin() as conn:
            updated = conn.execute(table.update().where(table.c.key == key).values(
                value=json.dumps(value), expires_at=expires_at)).rowcount
            if not updated:
                try:
                    with conn.begin_nested():
                        conn.execute(table.insert().values(key=key, value=json.dumps(value), expires_at=expires_at))
                except sa.exc.IntegrityError:  # another process inserted it first: take ours
                    conn.execute(table.update().where(table.c.key == key).values(
                        value=json.dumps(value), expires_at=expires_at))

    def invalidate(self, key):
        """WeChat refused our token: forget it, unless the database already holds a newer one
        (another process refreshed it), which the next read then takes."""
        failed, _ = self._local.pop(key, (None, None))
        if failed is None or self.get(key) == failed:
            self.delete(key)

    def delete(self, key):
        self._local.pop(key, None)
        stmt = sa.delete(WeChatKV).where(WeChatKV.key == key)
        if self._in_session():
            db.session.execute(stmt)
            return
        with db.engine.begin() as conn:
            conn.execute(stmt)


class GatewayClient(WeChatClient):
    """WeChatClient with a configurable base URL and the access token from stable_token."""

    def __init__(self, appid, secret, api_base, timeout, session, proxy: str = ""):
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=False)
        # The proxy is a setting (WECHAT_PROXY), not read from the environment on every call:
        # requests' per-request look at the environment's proxies cost ~0.5 ms of CPU per call.
        self._http.trust_env = False
        if proxy:
            self._http.proxies = {"http": proxy, "https": proxy}
        self.API_BASE_URL = api_base + "cgi-bin/"
        self.wxa.API_BASE_URL = api_base
        self.api_base = api_base

    def _timeout(self) -> float:
        """WECHAT_TIMEOUT, or inside a web request what is left of the call's WECHAT_REQUEST_TIMEOUT."""
        deadline = _deadline.get()
        if deadline is None:
            return self.timeout
        left = deadline - time.monotonic()
        if left <= 0.01:  # nothing is sent: a connect timeout says so
            raise requests.ConnectTimeout("the WeChat call's time inside the request is spent")
        return left

    def _request(self, method, url_or_endpoint, **kwargs):
        kwargs["timeout"] = self._timeout()
        return super()._request(method, url_or_endpoint, **kwargs)

    def fetch_access_token(self):
        res = self._http.post(self.api_base + "cgi-bin/stable_token", timeout=self._timeout(), data=json.dumps({
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
            "force_refresh": False}))
        try:
            res.raise_for_status()
        except requests.RequestException as exc:
            raise WeChatClientException(None, None, client=self, request=exc.request, response=exc.response)
        result = res.json()
        if result.get("errcode", 0) != 0:
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self,
                                        request=res.request, response=res)
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in - TOKEN_MARGIN
        return result


def client() -> GatewayClient:
    """The app's client (one per app and process; its token lives in the database)."""
    ext = current_app.extensions
    if "linli.wechat" not in ext:
        cfg = current_app.config
        base = cfg["WECHAT_API_BASE"]
        ext["linli.wechat"] = GatewayClient(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"],
                                            base if base.endswith("/") else base + "/",
                                            cfg["WECHAT_TIMEOUT"], DatabaseStorage(), cfg["WECHAT_PROXY"])
    return ext["linli.wechat"]


def _sent(exc: requests.RequestException) -> bool:
    """Whether the request may have reached WeChat: False only when no connection was made."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    reason = getattr(reason, "original_error", reason)  # through a proxy that could not connect
    return not (isinstance(exc, requests.ConnectionError)
                and isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)))


def _translate(exc: Exception, call: str) -> APIError:
    errcode = getattr(exc, "errcode", None)
    details = {"wechat_call": call, "errcode": errcode}
    if errcode in RATE_ERRORS:
        return ServiceUnavailable("微信接口调用太频繁，请稍后再试", code="wechat_rate_limited",
                                  details=details, headers={"Retry-After": "60"})
    if isinstance(exc, requests.RequestException) and _sent(exc):
        return NoAnswer("微信服务暂时不可用，请稍后再试", code="wechat_unavailable", details=details)
    if errcode in BUSY_ERRORS or not isinstance(exc, WeChatClientException):
        return UpstreamError("微信服务暂时不可用，请稍后再试", code="wechat_unavailable", details=details)
    return UpstreamError("微信接口返回错误", code="wechat_error", details=details)


# -- the host's bounded pool of WeChat calls made inside web requests ---------------------------

def take_slot(directory: str, pool: str, size: int) -> int | None:
    """One of `size` slots of `pool`, shared by every process of this host: a lock file per slot
    under `directory`, held with flock(LOCK_EX | LOCK_NB) on a descriptor of our own (so threads
    count apart too). Returns the descriptor (close it to free the slot; the kernel frees it when
    the process dies), or None at once when every slot is held."""
    for i in range(size):
        path = os.path.join(directory, f"{pool}.{i}.lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            os.makedirs(directory, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            os.close(fd)
    return None


SLOT_POLL_FIRST = 0.001  # seconds before the first retry while waiting for a slot, doubling each time
SLOT_POLL = 0.02  # ... up to this


def wait_for_slot(directory: str, pool: str, size: int, wait: float) -> int | None:
    """take_slot, trying again for up to `wait` seconds: a burst of healthy calls (a tenth of a
    second each) queues briefly instead of failing, while a stalled WeChat, whose calls hold their
    slots for seconds, turns the overflow away after that short wait.

    The first retries come soon (1, 2, 4 ms ...): a healthy call (a few milliseconds against the
    fake, tens against WeChat) frees its slot soon, and a flat 20 ms between tries added up to
    20 ms to a request that merely met a busy moment (issue 15's binding p99). A try is a few
    system calls, so the polling costs no noticeable CPU."""
    deadline, pause = time.monotonic() + wait, SLOT_POLL_FIRST
    while True:
        fd = take_slot(directory, pool, size)
        left = deadline - time.monotonic()
        if fd is not None or left <= 0:
            return fd
        time.sleep(min(pause, left))
        pause = min(pause * 2, SLOT_POLL)


@contextlib.contextmanager
def _slots(name: str):
    """Inside a web request: hold a slot of this endpoint's pool (WECHAT_MAX_CONCURRENT) and one
    of the pool of all WeChat calls (WECHAT_MAX_CONCURRENT_TOTAL) for the call, waiting at most
    WECHAT_SLOT_WAIT_MS for them, else answer 503 `wechat_busy`. A size of 0 leaves that pool
    unbounded."""
    cfg, held = current_app.config, []
    wait = cfg["WECHAT_SLOT_WAIT_MS"] / 1000
    try:
        for pool, size in ((name, cfg["WECHAT_MAX_CONCURRENT"]), ("all", cfg["WECHAT_MAX_CONCURRENT_TOTAL"])):
            if size <= 0:
                continue
            fd = wait_for_slot(cfg["WECHAT_SLOT_DIR"], pool, size, wait)
            if fd is None:
                log.warning("wechat %s: all %s slots of %r busy, refused", name, size, pool)
                raise ServiceUnavailable("微信服务繁忙，请稍后再试", code="wechat_busy", details={"wechat_call": name},
                                         headers={"Retry-After": str(math.ceil(cfg["WECHAT_REQUEST_TIMEOUT"]))})
            held.append(fd)
        yield
    finally:
        for fd in held:
            os.close(fd)


def _call(name: str, fn, *, retry_busy: bool):
    """Run one WeChat call: refresh the token once on a token error, retry once when WeChat is busy.

    Inside a web request: a slot of the host's pool, WECHAT_REQUEST_TIMEOUT for the whole call, and
    a timeout or connection failure is final (a retry would hold the worker twice as long)."""
    if not has_request_context():
        return _attempts(name, fn, retry_busy=retry_busy, retry_stalled=retry_busy)
    with _slots(name):
        token = _deadline.set(time.monotonic() + current_app.config["WECHAT_REQUEST_TIMEOUT"])
        try:
            return _attempts(name, fn, retry_busy=retry_busy, retry_stalled=False)
        finally:
            _deadline.reset(token)


def _attempts(name: str, fn, *, retry_busy: bool, retry_stalled: bool):
    c = client()
    for attempt in (1, 2):
        try:
            return fn(c)
        except WeChatClientException as exc:
            last = exc
            if attempt == 1 and exc.errcode in TOKEN_ERRORS:
                log.info("wechat %s: errcode %s, refreshing the access token", name, exc.errcode)
                c.session.invalidate(c.access_token_key)
                c.expires_at = None
                continue
            if attempt == 1 and retry_busy and exc.errcode in BUSY_ERRORS:
                log.warning("wechat %s: busy (errcode %s), retrying once", name, exc.errcode)
                continue
            break
        except requests.RequestException as exc:
            last = exc
            if attempt == 1 and retry_stalled:
                log.warning("wechat %s: %s, retrying once", name, type(exc).__name__)
                continue
            break
    log.warning("wechat %s failed: errcode=%s", name, getattr(last, "errcode", type(last).__name__))
    raise _translate(last, name)


# -- the calls the platform makes ------------------------------------------------------------

LOGIN_ERRORS = {
    40029: (BadRequest, "wechat_code_invalid", "登录凭证无效或已过期，请重新进入小程序"),
    40163: (BadRequest, "wechat_code_used", "登录凭证已使用，请重新登录"),
    40226: (Forbidden, "wechat_user_blocked", "微信判定该账号存在风险，暂时无法登录"),
}


def code_to_session(js_code: str) -> dict:
    """Exchange a wx.login code: {"openid", "session_key", "unionid"?}.

    Called with access_token=None: jscode2session needs no token, and wechatpy would
    otherwise fetch one first, making every login depend on the token call.
    """
    cfg = current_app.config

    def call(c):
        return c.get("sns/jscode2session", api_base_url=c.api_base, params={
            "appid": cfg["WECHAT_APPID"], "secret": cfg["WECHAT_SECRET"], "js_code": js_code,
            "grant_type": "authorization_code", "access_token": None})

    try:
        # A failed exchange may have consumed the code, so it is never retried here.
        return _call("jscode2session", call, retry_busy=False)
    except UpstreamError as exc:
        known = LOGIN_ERRORS.get(exc.details.get("errcode"))
        if known:
            cls, code, message = known
            raise cls(message, code=code) from None
        raise


def unlimited_code_image(scene: str, page: str) -> bytes:
    """The mini-program code picture for a scene (wxa/getwxacodeunlimit)."""
    cfg = current_app.config
    body = {"scene": scene, "page": page, "check_path": cfg["WECHAT_ENV_VERSION"] == "release",
            "env_version": cfg["WECHAT_ENV_VERSION"], "width": 430}

    def call(c):
        res = c.post("wxa/getwxacodeunlimit", api_base_url=c.api_base, data=body)
        if isinstance(res, dict):  # JSON without errcode: not an image
            raise WeChatClientException(None, "no image in response")
        return res.content

    return _call("getwxacodeunlimit", call, retry_busy=True)


def text_check(content: str, openid: str | None, *, scene: int = 3) -> tuple[str | None, str | None]:
    """WeChat content security for user text (wxa/msg_sec_check v2): (suggestion, None) with the
    suggestion "pass", "review" or "risky"; or (None, why) when WeChat gave none: "no_openid", or
    our error code with WeChat's errcode, e.g. "wechat_error(61010)" (the user has not opened the
    mini-program for two hours), "wechat_unavailable(-1)". Scene 1 is a profile, 2 a comment, 3 a
    forum post."""
    if not content.strip():
        return "pass", None
    if not openid:
        return None, "no_openid"
    body = {"content": content[:2500], "version": 2, "scene": scene, "openid": openid}

    def call(c):
        return c.post("wxa/msg_sec_check", api_base_url=c.api_base, data=body)

    try:
        result = _call("msg_sec_check", call, retry_busy=True)
    except (UpstreamError, ServiceUnavailable) as exc:
        log.info("msg_sec_check gave no verdict (%s)", exc.details.get("errcode"))
        return None, f"{exc.code}({exc.details.get('errcode')})"
    suggest = (result.get("result") or {}).get("suggest")
    return (suggest, None) if suggest in ("pass", "review", "risky") else (None, "no_suggestion")


def text_verdict(content: str, openid: str | None, *, scene: int = 3) -> str:
    """`text_check` where no verdict counts as "review": the text is held for a human, never
    published unchecked and never lost (what residents' content gets)."""
    suggest, _ = text_check(content, openid, scene=scene)
    return suggest or "review"


def send_subscribe_message(openid: str, template_id: str, data: dict[str, str], page: str | None = None) -> str:
    """Send one subscribe message (cgi-bin/message/subscribe/send); returns WeChat's msgid.

    Not retried here: the outbox decides what to do with each error (see core.notifications).
    A token error still refreshes the token and tries once more (that is not a resend: WeChat
    refused the first call before doing anything).
    """
    cfg = current_app.config
    body = {"touser": openid, "template_id": template_id, "lang": "zh_CN",
            "miniprogram_state": cfg["WECHAT_MINIPROGRAM_STATE"],
            "data": {key: {"value": value} for key, value in data.items()}}
    if page:
        body["page"] = page

    def call(c):
        return c.post("cgi-bin/message/subscribe/send", api_base_url=c.api_base, data=body)

    return str(_call("subscribe_send", call, retry_busy=False).get("msgid"))


def media_check_async(media_url: str, openid: str, *, scene: int = 3) -> str:
    """Ask WeChat to check an image (wxa/media_check_async v2); returns the trace_id its verdict,
    pushed later as a `wxa_media_check` event, will carry."""
    body = {"media_url": media_url, "media_type": 2, "version": 2, "scene": scene, "openid": openid}

    def call(c):
        return c.post("wxa/media_check_async", api_base_url=c.api_base, data=body)

    return str(_call("media_check_async", call, retry_busy=True)["trace_id"])


PHONE_CODE_ERRORS = {40029, 40163}  # WeChat documents 40029 for an invalid or used code; 40163 is login's "used"


def phone_number(code: str) -> dict:
    """Exchange a getPhoneNumber button's code (wxa/business/getuserphonenumber): WeChat's
    `phone_info` {"phoneNumber", "purePhoneNumber", "countryCode", "watermark": {"appid", "timestamp"}}.

    wechatpy 1.8.18 has no method for it: a raw post with the shared access token. The code is
    one-shot, so a failed exchange is never retried (a token error still is: WeChat refused the
    first call before looking at the code). An invalid, expired or used code is a 400 telling
    the user to tap the button again; the caller checks the watermark's appid.
    """
    def call(c):
        return c.post("wxa/business/getuserphonenumber", api_base_url=c.api_base, data={"code": code})

    try:
        result = _call("getuserphonenumber", call, retry_busy=False)
    except UpstreamError as exc:
        if exc.details.get("errcode") in PHONE_CODE_ERRORS:
            raise BadRequest("手机号授权已失效，请重新点击按钮获取手机号", code="phone_code_invalid") from None
        raise
    info = result.get("phone_info")
    if not isinstance(info, dict) or not info.get("purePhoneNumber"):
        log.warning("wechat getuserphonenumber: no phone_info in the answer")
        raise UpstreamError("微信接口返回错误", code="wechat_error", details={"wechat_call": "getuserphonenumber"})
    return info
