"""Idempotency-Key for retried writes: the first response is stored and replayed.

The record is written in the same transaction as the write it guards (the API commit
boundary commits both), so a crash cannot leave one without the other. A concurrent
duplicate blocks on the unique (user, key) index until the first commits, then replays.
Error responses are not stored: the write did not happen, so a retry runs again.
"""
from __future__ import annotations

import hashlib
from copy import deepcopy
from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import Response, current_app, request

from core.auth import require_api_user
from core.db import utcnow
from core.errors import BadRequest, Conflict
from core.extensions import db
from core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
RETENTION = timedelta(days=1)


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.get_data()):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def _lookup(user_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalars(sa.select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)).first()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise Conflict("该 Idempotency-Key 已用于另一个请求", code="idempotency_key_reused")
    response = Response(record.response_body, status=record.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """API view decorator honouring the Idempotency-Key header (place it under @bp.route)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 128 or not key.isprintable():
            raise BadRequest("Idempotency-Key 须为 1–128 个可见字符", code="invalid_idempotency_key")
        user = require_api_user()
        fingerprint = _fingerprint()
        record = _lookup(user.id, key)
        if record is not None:
            return _replay(record, fingerprint)
        record = IdempotencyRecord(user_id=user.id, key=key, fingerprint=fingerprint)
        try:
            with db.session.begin_nested():
                db.session.add(record)
        except sa.exc.IntegrityError:  # a concurrent twin committed first
            return _replay(_lookup(user.id, key), fingerprint)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code < 400:
            record.status_code = response.status_code
            record.response_body = response.get_data(as_text=True)
            db.session.flush()
        return response

    wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    wrapper._apidoc.setdefault("manual_doc", {}).setdefault("parameters", []).append({
        "in": "header", "name": HEADER, "required": False, "schema": {"type": "string", "maxLength": 128},
        "description": "repeat a write safely: the same key returns the first response"})
    return wrapper


def purge_expired() -> int:
    """Forget records older than a day (a client retries within minutes, not days)."""
    return db.session.execute(sa.delete(IdempotencyRecord).where(
        IdempotencyRecord.created_at < utcnow() - RETENTION)).rowcount
