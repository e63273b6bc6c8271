"""The audit log: who did what to which object, when, from where — append-only and hash-chained.

`record()` is called by services for every admin action (approvals, rejections, adjustments,
role and coverage changes); it writes in the caller's transaction, so an action and its audit
row commit or roll back together. `verify()` recomputes the chain (`flask audit verify`).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request

from core.db import insert_or_nothing, utcnow
from core.extensions import db
from core.models import AuditEntry

GENESIS = "0" * 64
RETRIES = 5


def _canonical(value):
    """JSON-safe, stable form of before/after values (datetimes, Decimals, sets)."""
    return json.loads(json.dumps(value, sort_keys=True, ensure_ascii=False, default=_default))


def _default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def _digest(fields: dict) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _fields(entry_or_values) -> dict:
    get = (lambda k: getattr(entry_or_values, k)) if isinstance(entry_or_values, AuditEntry) \
        else entry_or_values.__getitem__
    return {"created_at": get("created_at").isoformat(), "actor_id": get("actor_id"), "action": get("action"),
            "object_type": get("object_type"), "object_id": get("object_id"), "before": get("before"),
            "after": get("after"), "ip": get("ip"), "prev_hash": get("prev_hash")}


def _head() -> str:
    return db.session.scalar(sa.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS


def record(actor, action: str, obj_type: str, obj_id, *, before: dict | None = None,
           after: dict | None = None) -> AuditEntry:
    """Append one audit row in the current transaction. `actor` is a user (or None for the system)."""
    values = {"created_at": utcnow().replace(microsecond=0), "actor_id": getattr(actor, "id", None),
              "action": action, "object_type": obj_type, "object_id": str(obj_id),
              "before": _canonical(before), "after": _canonical(after),
              "ip": request.remote_addr if has_request_context() else None}
    for _ in range(RETRIES):
        values["prev_hash"] = _head()
        values["hash"] = _digest(_fields(values))
        entry = insert_or_nothing(AuditEntry, values, conflict=["prev_hash"])
        if entry is not None:
            return entry
        # Another writer appended on the same head and committed first: chain onto theirs.
    raise RuntimeError("audit log: could not append after repeated concurrent appends")


@dataclass
class Broken:
    entry_id: int
    problem: str


def verify(batch: int = 1000) -> tuple[int, list[Broken]]:
    """Walk the chain in id order; returns (rows checked, problems)."""
    problems, checked, prev, last_id = [], 0, GENESIS, 0
    while True:
        rows = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.id > last_id)
                                  .order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            return checked, problems
        for entry in rows:
            checked += 1
            if entry.prev_hash != prev:
                problems.append(Broken(entry.id, "prev_hash does not match the previous row's hash"))
            if _digest(_fields(entry)) != entry.hash:
                problems.append(Broken(entry.id, "hash does not match the row's contents (altered)"))
            prev, last_id = entry.hash, entry.id
        db.session.expunge_all()
