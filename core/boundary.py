"""The request boundary: what every request passes before any view, and every response after.

- Size: a body over its limit is refused with 413 from its Content-Length, before it is read (a
  chunked body is stopped at the limit). MAX_JSON_BYTES bounds every body except multipart ones
  (files): those are bounded by UPLOAD_MAX_BYTES, one file per API call, FORM_FILES_MAX per page.
- Text: a NUL character (PostgreSQL refuses it) or a lone surrogate (no encoding can write it) in
  a query argument, a form field or a JSON string or key is refused with 422 naming the field;
  JSON nested deeper than JSON_DEPTH_MAX is refused with 400 invalid_json. Services never see
  such text, so no field checks it again.
- Headers: the Content-Security-Policy and the other security headers on every response;
  Strict-Transport-Security in production only.

`register_request_boundary(app)` runs before the extensions are bound, so these hooks run first: CSRF reads the
form and the rate limiter reads the login body only after both are bounded and checked.
docs/decisions.md ("Hardening: request boundary") says why each limit is what it is.
"""
from __future__ import annotations

import json
import re

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from core.errors import BadRequest, invalid

MULTIPART_OVERHEAD = 16 * 1024  # boundaries, part headers and the CSRF field around the files
FORM_FILES_MAX = 9  # the most images one console form takes (an activity's or a listing's photos)
JSON_DEPTH_MAX = 32  # the API's requests nest a few levels at most
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
BAD_TEXT_MESSAGE = "含有无效字符（空字符或不成对的代理字符）"

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",  # no inline script, no event-handler attributes: static/js only
    "style-src 'self' 'unsafe-inline'",  # the templates' presentational style="" attributes
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
HSTS = "max-age=31536000"  # one year; production only (served over HTTPS behind the proxy)


def body_limit() -> int:
    """The most bytes this request's body may have."""
    config = current_app.config
    if request.mimetype == "multipart/form-data":
        files = 1 if request.path.startswith("/api/") else FORM_FILES_MAX
        return files * config["UPLOAD_MAX_BYTES"] + MULTIPART_OVERHEAD
    return config["MAX_JSON_BYTES"]


def _printable(name: str) -> str:
    return BAD_TEXT.sub("\ufffd", name)


def _check_pairs(pairs, location: str) -> None:
    for name, value in pairs:
        if BAD_TEXT.search(name) or BAD_TEXT.search(value):
            raise invalid(_printable(name) or location, BAD_TEXT_MESSAGE)


def _too_deep() -> BadRequest:
    return BadRequest("请求体的 JSON 嵌套过深", code="invalid_json")


def _check_json(document) -> None:
    """Walk the document without recursion: the first bad string (or key) names its field."""
    stack = [(document, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if BAD_TEXT.search(value):
                raise invalid(path or "json", BAD_TEXT_MESSAGE)
        elif isinstance(value, (dict, list)):
            if depth > JSON_DEPTH_MAX:
                raise _too_deep()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                key = str(key)
                if BAD_TEXT.search(key):
                    raise invalid(".".join(filter(None, (path, _printable(key)))), BAD_TEXT_MESSAGE)
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))


def check_request() -> None:
    limit = body_limit()
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    request.max_content_length = limit  # a chunked body stops at the limit, too
    _check_pairs(request.args.items(multi=True), "query")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_pairs(request.form.items(multi=True), "form")
    if request.is_json:
        data = request.get_data(cache=True)
        if not data:
            return
        try:
            document = json.loads(data)
        except RecursionError:
            raise _too_deep() from None
        except ValueError:
            return  # malformed: the view's parser answers 400 invalid_json, as it always has
        _check_json(document)


def add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["LINLI_ENV"] == "production":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def register_request_boundary(app: Flask) -> None:
    app.before_request(check_request)
    app.after_request(add_security_headers)
