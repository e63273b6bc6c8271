"""The audit log: who did what to which object, when, from where — append-only and hash-chained.

`record()` is called by services for every admin action (approvals, rejections, adjustments,
role and coverage changes); it writes in the caller's transaction, so an action and its audit
row commit or roll back together. `verify()` recomputes the chain (`flask audit verify`).

Each row's hash is an HMAC-SHA256 under AUDIT_HMAC_KEY, which the database never holds: whoever
edits a row cannot compute a hash that verifies. After each commit that appended rows, the
signed checkpoint outside the database (core.checkpoint) moves to the newest row, so deleting the
newest rows or emptying the table shows too (docs/security.md).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request

from core import checkpoint
from core.crypto import hmac_digest
from core.db import insert_or_nothing, utcnow
from core.extensions import db
from core.models import AuditEntry

GENESIS = "0" * 64
RETRIES = 5
CHECKPOINT = "audit"
_APPENDED = "audit.appended"  # session.info: the rows this transaction appended, for the checkpoint

log = logging.getLogger(__name__)


def _canonical(value):
    """JSON-safe, stable form of before/after values (datetimes, Decimals, sets)."""
    return json.loads(json.dumps(value, sort_keys=True, ensure_ascii=False, default=_default))


def _default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def chain_hash(fields: dict, key: bytes) -> str:
    """A row's hash: HMAC-SHA256 under `key` of its fields (`chain_fields`), the previous hash among them."""
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac_digest(key, payload.encode()).hex()


def chain_fields(entry_or_values) -> dict:
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
    key = checkpoint.key()
    for _ in range(RETRIES):
        values["prev_hash"] = _head()
        values["hash"] = chain_hash(chain_fields(values), key)
        entry = insert_or_nothing(AuditEntry, values, conflict=["prev_hash"])
        if entry is not None:
            session = db.session()
            session.info.setdefault(_APPENDED, []).append(
                (session.get_nested_transaction() or session.get_transaction(), entry.id, entry.hash, entry.prev_hash))
            return entry
        # Another writer appended on the same head and committed first: chain onto theirs.
    raise RuntimeError("audit log: could not append after repeated concurrent appends")


def _entries(after_id: int = 0, batch: int = 1000):
    """The rows after `after_id` in id order, read a batch at a time (the session is emptied
    between batches, so a long log never sits in memory)."""
    while True:
        rows = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.id > after_id)
                                  .order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after_id = rows[-1].id
        db.session.expunge_all()


# -- the checkpoint -----------------------------------------------------------------------------
# Its body: the newest row it vouches for (`last_id`, `last_hash`) and the number of rows up to it.

def _position(mark: dict | None) -> tuple[int, str, int]:
    """(last id, last hash, row count) of a checkpoint; the chain's start without one."""
    return (mark["last_id"], mark["last_hash"], mark["count"]) if mark else (0, GENESIS, 0)


def _mark(last_id: int, last_hash: str, count: int) -> dict:
    return {"last_id": last_id, "last_hash": last_hash, "count": count}

# Moved forward after each commit that appended rows (a read and a write of one small record,
# under a millisecond: docs/security.md), and by the `checkpoint-audit` job, which also catches up
# after a missed move.

def _within(transaction, ancestor) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@sa.event.listens_for(sa.orm.Session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction) -> None:
    appended = session.info.get(_APPENDED)
    if appended:  # rows appended inside a rolled-back savepoint (or transaction) never were
        session.info[_APPENDED] = [a for a in appended if not _within(a[0], previous_transaction)]


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _checkpoint_committed(session) -> None:
    if session.in_nested_transaction() or not session.info.get(_APPENDED):
        return  # a savepoint's release commits nothing yet
    appended = [a[1:] for a in session.info.pop(_APPENDED)]

    def advance(current: dict | None) -> dict | None:
        # Move only along the chain: the stored newest row must be the first new row's predecessor.
        # Otherwise another writer's move is still to come (or was missed): the job catches up.
        last_id, head, count = _position(current)
        moved = False
        for entry_id, entry_hash, prev_hash in appended:
            if prev_hash == head:
                last_id, head, count, moved = entry_id, entry_hash, count + 1, True
        return _mark(last_id, head, count) if moved else None

    try:
        checkpoint.update(CHECKPOINT, advance)
    except checkpoint.Forged:
        log.error("audit checkpoint: the stored checkpoint is forged; left as it is (flask audit verify)")
    except Exception:  # the rows are committed: an unreachable store delays the checkpoint, nothing more
        log.exception("audit checkpoint: not moved; the checkpoint-audit job will catch up")


def checkpoint_log(batch: int = 1000) -> dict | None:
    """Move the checkpoint to the newest row (the `checkpoint-audit` job, `flask audit verify
    --checkpoint`): the checkpoint's row must still be there unchanged, and every row since must
    chain onto it under the key (without a checkpoint: the whole chain). Raises
    checkpoint.Mismatch, storing nothing, when they do not; checkpoint.Forged when the stored one is."""
    key = checkpoint.key()

    def advance(current: dict | None) -> dict | None:
        last_id, head, count = _position(current)
        if current is not None:
            stored = db.session.scalar(sa.select(AuditEntry.hash).where(AuditEntry.id == last_id))
            if stored != head:
                raise checkpoint.Mismatch(f"audit row {last_id} of the checkpoint is "
                                          f"{'missing' if stored is None else 'altered'}")
        for entry in _entries(last_id, batch):
            if entry.prev_hash != head or chain_hash(chain_fields(entry), key) != entry.hash:
                raise checkpoint.Mismatch(f"audit row {entry.id} does not chain onto the checkpoint under the key")
            last_id, head, count = entry.id, entry.hash, count + 1
        return _mark(last_id, head, count) if count else None

    return checkpoint.update(CHECKPOINT, advance)


# -- verification -------------------------------------------------------------------------------

@dataclass
class Broken:
    entry_id: int | None  # None: a problem of the checkpoint itself
    problem: str


def verify(batch: int = 1000) -> tuple[int, list[Broken]]:
    """Walk the chain in id order and compare it with the checkpoint; returns (rows checked, problems)."""
    problems, checked, prev, key = [], 0, GENESIS, checkpoint.key()
    try:
        mark = checkpoint.load(CHECKPOINT)  # read before the rows: it never claims more than they show
    except checkpoint.Problem as exc:
        mark = None
        problems.append(Broken(None, str(exc)))
    seen = False
    for entry in _entries(0, batch):
        checked += 1
        if entry.prev_hash != prev:
            problems.append(Broken(entry.id, "prev_hash does not match the previous row's hash"))
        if chain_hash(chain_fields(entry), key) != entry.hash:
            problems.append(Broken(entry.id, "hash does not match the row's contents under the key "
                                             "(altered, or chained without AUDIT_HMAC_KEY)"))
        if mark is not None and entry.id == mark["last_id"]:
            seen = True
            if entry.hash != mark["last_hash"]:
                problems.append(Broken(entry.id, "not the row the checkpoint recorded (replaced)"))
            if checked != mark["count"]:
                problems.append(Broken(entry.id, f"{checked} rows up to here, the checkpoint counted "
                                                 f"{mark['count']} (rows deleted or inserted)"))
        prev = entry.hash
    if mark is not None and not seen:
        problems.append(Broken(mark["last_id"], f"missing: the checkpoint counted {mark['count']} rows up to this "
                                                "one (the newest rows were deleted, or the table emptied)"))
    return checked, problems
