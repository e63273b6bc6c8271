"""Signed requests from partner systems (the manufacturer's order system, service orders).

A partner signs each request with the shared secret `INTEGRATION_SECRET`:

    X-Linli-Timestamp: Unix seconds when the request was signed
    X-Linli-Signature: hex(HMAC-SHA256(secret, timestamp + "." + raw body))

The body is signed exactly as sent (bytes, not re-serialised JSON). A request is refused with 401
in the one JSON error shape when a header is missing, the timestamp is not an integer or is more
than INTEGRATION_MAX_SKEW_SECONDS away from our clock (either way), the signature is wrong, or the
signature was accepted before. Accepted signatures are stored (insert-or-conflict on the
signature), so two concurrent replays cannot both pass. A job purges rows older than twice the
skew window (a timestamp may be up to the skew ahead of us): a replay that old fails the timestamp
check anyway.

The signature row is written in the request's transaction: a request that fails afterwards
(invalid body) leaves no row, and a retry of the same failed request is judged again.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from copy import deepcopy
from datetime import timedelta
from functools import wraps
from typing import Callable

import sqlalchemy as sa
from flask import current_app, request

from core.db import insert_or_nothing, utcnow
from core.errors import Unauthorized
from core.extensions import db
from core.models import IntegrationSignature

TIMESTAMP_HEADER = "X-Linli-Timestamp"
SIGNATURE_HEADER = "X-Linli-Signature"
_TIMESTAMP = re.compile(r"-?[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")


class SignatureRefused(Unauthorized):
    code, message = "invalid_signature", "请求签名无效"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `timestamp + "." + body` (what a partner sends)."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(timestamp: str | None, signature: str | None, body: bytes, *, secret: str, max_skew: int,
           now: float | None = None) -> str:
    """Check a signed request without touching the database; returns the signature (lower case).

    Raises SignatureRefused whose `code` says why (the partner's logs need it; nothing here
    helps an attacker, who learns only what the documented scheme already says)."""
    if not timestamp or not signature:
        raise SignatureRefused("缺少签名请求头", code="signature_missing",
                               details={"headers": [h for h, v in ((TIMESTAMP_HEADER, timestamp),
                                                                   (SIGNATURE_HEADER, signature)) if not v]})
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureRefused("时间戳须为 Unix 秒（整数）", code="timestamp_invalid")
    now = utcnow().timestamp() if now is None else now
    skew = int(now) - int(timestamp)
    if abs(skew) > max_skew:
        raise SignatureRefused("时间戳与服务器时间相差过大", code="timestamp_out_of_window",
                               details={"max_skew_seconds": max_skew, "skew_seconds": skew})
    expected = sign(secret, timestamp, body)
    # Constant time: the comparison must not reveal how many leading characters were right.
    if not _SIGNATURE.fullmatch(signature) or not hmac.compare_digest(expected, signature.lower()):
        raise SignatureRefused("签名校验失败", code="signature_mismatch")
    return signature.lower()


def claim(signature: str) -> None:
    """Record an accepted signature; a signature seen before (also by a concurrent request,
    which waits on the unique key until the first commits) is a replay."""
    if insert_or_nothing(IntegrationSignature, {"signature": signature, "seen_at": utcnow()},
                         conflict=["signature"]) is None:
        raise SignatureRefused("该签名已使用过（重放请求）", code="signature_replayed")


def verify_request() -> None:
    """Verify the current request's signature and claim it; call first in a view (or use `signed`)."""
    config = current_app.config
    signature = verify(request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER),
                       request.get_data(cache=True), secret=config["INTEGRATION_SECRET"],
                       max_skew=config["INTEGRATION_MAX_SKEW_SECONDS"])
    claim(signature)


def signed(view: Callable) -> Callable:
    """View decorator: refuse unsigned, stale, forged or replayed requests before anything else
    (place it under @bp.route, above @bp.arguments, so the body is not even parsed first)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        verify_request()
        return view(*args, **kwargs)

    wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    wrapper._apidoc.setdefault("manual_doc", {})["security"] = [{"linliSignature": []}]
    parameters = wrapper._apidoc["manual_doc"].setdefault("parameters", [])
    parameters += [
        {"in": "header", "name": TIMESTAMP_HEADER, "required": True, "schema": {"type": "integer"},
         "description": "Unix seconds when the request was signed (at most 5 minutes off)"},
        {"in": "header", "name": SIGNATURE_HEADER, "required": True, "schema": {"type": "string"},
         "description": 'hex HMAC-SHA256 with the shared secret over timestamp + "." + raw body'}]
    return wrapper


def purge_signatures() -> int:
    """Forget signatures no replay can use any more.

    A request may be signed up to the skew ahead of our clock, so its signature stays acceptable
    for twice the skew after we saw it; a minute's margin on top."""
    horizon = utcnow() - timedelta(seconds=2 * current_app.config["INTEGRATION_MAX_SKEW_SECONDS"] + 60)
    return db.session.execute(sa.delete(IntegrationSignature).where(IntegrationSignature.seen_at < horizon)).rowcount
