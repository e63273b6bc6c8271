"""APIError and the one JSON error shape: {"error": {"code", "message", "details"}}.

Services raise these classes; `register_error_handlers` is the one place that turns
any error (ours, werkzeug's, webargs validation, IntegrityError, rate limits) into HTTP.
"""
from __future__ import annotations

import logging
import re
import time
from urllib.parse import urlsplit

import psycopg
from flask import current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


CJK = re.compile(r"[\u4e00-\u9fff]")
FALLBACK_FIELD_MESSAGE = "取值无效"


def chinese(message, fallback: str = FALLBACK_FIELD_MESSAGE):
    """`message` when it is Chinese, else `fallback`: the safety net under every text a person
    reads (a library's default or a check written in English), logged so it gets its own words."""
    if not isinstance(message, str) or CJK.search(message):
        return message
    log.warning("English message shown as %r: %r", fallback, message)
    return fallback


def chinese_fields(fields):
    """Field errors (marshmallow's nesting: lists of messages, dicts by field name or index) with
    every message in Chinese."""
    if isinstance(fields, dict):
        return {name: chinese_fields(value) for name, value in fields.items()}
    if isinstance(fields, (list, tuple)):
        return [chinese_fields(value) for value in fields]
    return chinese(fields)


class APIError(Exception):
    status = 400
    code = "bad_request"
    message = "请求无效"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None, details: dict | None = None,
                 headers: dict | None = None):
        self.message = chinese(message or self.message, type(self).message)
        self.code = code or self.code
        self.status = status or self.status
        self.details = details or {}
        if "fields" in self.details:
            self.details = {**self.details, "fields": chinese_fields(self.details["fields"])}
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(APIError):
    pass


class Unauthorized(APIError):
    status, code, message = 401, "unauthorized", "请先登录"


class Forbidden(APIError):
    status, code, message = 403, "forbidden", "没有权限执行此操作"


class NotFound(APIError):
    status, code, message = 404, "not_found", "资源不存在"


class Conflict(APIError):
    status, code, message = 409, "conflict", "与现有数据冲突"


class Gone(APIError):
    status, code, message = 410, "gone", "资源已失效"


class ValidationFailed(APIError):
    status, code, message = 422, "validation_error", "提交的数据有误"


def invalid(field: str, message: str, summary: str | None = None) -> ValidationFailed:
    """A 422 that names the one field at fault (`summary` is the top message, else `message`)."""
    return ValidationFailed(summary or message, details={"fields": {field: [message]}})


class RateLimited(APIError):
    status, code, message = 429, "rate_limited", "操作太频繁，请稍后再试"


class UpstreamError(APIError):
    status, code, message = 502, "upstream_error", "微信服务暂时不可用，请稍后再试"


class ServiceUnavailable(APIError):
    status, code, message = 503, "service_unavailable", "服务繁忙，请稍后再试"


_HTTP_CODES = {
    400: ("bad_request", "请求无效"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "请求的地址不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "与现有数据冲突"),
    413: ("payload_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_error", "提交的数据有误"),
    429: ("rate_limited", "操作太频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误"),
}


def error_body(status: int, code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _wants_html() -> bool:
    """Pages get an HTML error page; the API (and anything asking for JSON) gets JSON."""
    if request.path.startswith("/api/"):
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes[best] > request.accept_mimetypes["application/json"]


# The heading of an error page, by status (the page shows no codes: they are for programs).
PAGE_TITLES = {
    400: "请求无效", 401: "请先登录", 403: "没有权限", 404: "页面不存在", 405: "不支持该操作",
    409: "操作冲突", 410: "内容已失效", 413: "内容过大", 415: "不支持的内容", 422: "填写有误",
    429: "操作太频繁", 500: "服务器出错了", 502: "外部服务暂时不可用", 503: "服务暂时不可用",
}


def _page_back() -> str | None:
    """The page the visitor came from, when it is on this site and not the failing page itself."""
    from core.pages import safe_next  # pages stand on this module

    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(path) if path != request.full_path.rstrip("?") else None


def _respond(status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None):
    if _wants_html():
        title = PAGE_TITLES.get(status, "出错了" if status >= 500 else "无法完成请求")
        resp = current_app.make_response(
            (render_template("error.html", status=status, title=title, message=message, back=_page_back()), status))
    else:
        resp = jsonify(error_body(status, code, message, details))
        resp.status_code = status
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def _retry_after() -> int:
    """Seconds until the breached limit's window resets.

    Flask-Limiter's RateLimitExceeded carries no Retry-After (it adds one only with its
    headers turned on for every response), so it is computed from the breached limit here.
    """
    from core.extensions import limiter
    breached = limiter.current_limit
    if breached is None:
        return 60
    return max(1, int(breached.reset_at - time.time()))


def _from_http_exception(exc: HTTPException):
    status = exc.code or 500
    code, message = _HTTP_CODES.get(status, (exc.name.lower().replace(" ", "_"), exc.description or exc.name))
    message = chinese(message, "请求无法处理" if status < 500 else "服务器内部错误")
    details: dict = {}
    headers: dict = {}
    if isinstance(exc, CSRFError):
        code, message = "csrf_failed", "页面已过期或来源无效，请刷新后重试"
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if messages is not None:
        # webargs: {"json": {...}} or {"query": {...}}; invalid JSON arrives as 400 with {"json": [..]}
        if status == 400 and messages == {"json": ["Invalid JSON body."]}:
            code, message = "invalid_json", "请求体不是合法的 JSON"
        else:
            fields: dict = {}
            for location, errs in messages.items():
                if isinstance(errs, dict):
                    fields.update(errs)
                else:
                    fields[location] = errs
            details["fields"] = chinese_fields(fields)
    allowed = getattr(exc, "valid_methods", None)
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
        details["allowed"] = list(allowed)
    if status == 429:
        limit = getattr(exc, "limit", None)
        if limit is not None:
            details["limit"] = str(limit.limit)
        headers["Retry-After"] = str(_retry_after())
    return _respond(status, code, message, details, headers)


DATABASE_RETRY_AFTER = 30  # seconds: about what a restart or a failover of the database server takes
# PostgreSQL's SQLSTATEs of a lost or refused connection besides class 08: the server shutting down,
# crashing or still starting.
_CONNECTION_STATES = ("57P01", "57P02", "57P03")


def connection_lost(exc: Exception) -> bool:
    """The database could not be reached or dropped the connection, as opposed to refusing a
    statement (a lock timeout, a serialization failure or a missing table stay errors)."""
    if isinstance(exc, DisconnectionError) or getattr(exc, "connection_invalidated", False):
        return True
    orig = getattr(exc, "orig", None)
    if isinstance(orig, (psycopg.OperationalError, psycopg.InterfaceError)):
        return orig.sqlstate is None or orig.sqlstate.startswith("08") or orig.sqlstate in _CONNECTION_STATES
    return getattr(orig, "sqlite_errorname", None) == "SQLITE_CANTOPEN"


def register_error_handlers(app):
    from core.extensions import db

    @app.errorhandler(APIError)
    def handle_api_error(exc: APIError):
        db.session.rollback()
        return _respond(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        return _from_http_exception(exc)

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(exc: IntegrityError):
        # Mapped generically: the constraint lost a race or the input duplicates existing data.
        db.session.rollback()
        log.info("integrity error answered as 409: %s", exc.orig)
        return _respond(409, "conflict", "与现有数据冲突，请刷新后重试")

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        if app.config.get("PROPAGATE_UNEXPECTED_ERRORS"):
            raise exc
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, "internal_error", "服务器内部错误，请稍后重试")

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    def handle_database_unreachable(exc: SQLAlchemyError):
        """503 with Retry-After while the database is out of reach: the client retries later.
        A dedicated handler, so it answers even where unexpected errors propagate (tests)."""
        if not connection_lost(exc):
            return handle_unexpected(exc)
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass
        log.warning("database unreachable on %s %s: %s", request.method, request.path, getattr(exc, "orig", exc))
        # A page is drawn as for a visitor: asking who is logged in would need the database.
        g._login_user = current_app.login_manager.anonymous_user()
        return _respond(503, "service_unavailable", "服务暂时不可用，请稍后再试",
                        headers={"Retry-After": str(DATABASE_RETRY_AFTER)})
