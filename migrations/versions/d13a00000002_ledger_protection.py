"""hardening: ledger and audit protection

Revision ID: d13a00000002
Revises: d13a00000001
Create Date: 2026-12-05 08:50:00

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from core.audit import GENESIS, chain_fields, chain_hash
from core.db import UTCDateTime, allow_truncate, drop_immutable, make_immutable, refuse_truncate


# revision identifiers, used by Alembic.
revision = 'd13a00000002'
down_revision = 'd13a00000001'
branch_labels = None
depends_on = None

# Every table make_immutable protects (bba05ba584e7, 9e000aad4c10).
APPEND_ONLY = ("points_transactions", "points_postings", "points_lot_uses", "points_redemption_events", "audit_log",
               "ambassador_level_changes")
AUDIT = sa.table("audit_log", sa.column("id", sa.BigInteger), sa.column("created_at", UTCDateTime()),
                 sa.column("actor_id"), sa.column("action"), sa.column("object_type"), sa.column("object_id"),
                 sa.column("before", sa.JSON), sa.column("after", sa.JSON), sa.column("ip"),
                 sa.column("prev_hash"), sa.column("hash"))
PLAIN = None  # the chain before this revision: SHA-256 of the fields, no key


def _hash(fields: dict, key) -> str:
    if key is PLAIN:
        import hashlib
        import json
        payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()
    return chain_hash(fields, key)


def _rechain(old_key, new_key, batch: int = 1000) -> None:
    """Check the whole audit chain under `old_key`, then hash it again under `new_key`.

    A broken chain stops the migration: hashing it again would make the tampering verify."""
    bind = op.get_bind()

    def rows():
        last_id = 0
        while True:
            chunk = bind.execute(sa.select(AUDIT).where(AUDIT.c.id > last_id).order_by(AUDIT.c.id).limit(batch)).all()
            if not chunk:
                return
            yield from (dict(row._mapping) for row in chunk)
            last_id = chunk[-1].id

    prev = GENESIS
    for row in rows():
        if row["prev_hash"] != prev or _hash(chain_fields(row), old_key) != row["hash"]:
            raise RuntimeError(
                f"audit log: row {row['id']} does not verify under the {'old' if old_key is PLAIN else 'current'} "
                "chain; find out why (flask audit verify on the previous release) before upgrading: hashing the "
                "log again would hide the alteration")
        prev = row["hash"]
    if prev == GENESIS:
        return  # an empty log

    update = sa.update(AUDIT).where(AUDIT.c.id == sa.bindparam("row_id")).values(
        prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash"))
    postgres = bind.dialect.name == "postgresql"
    # The rows are append-only: lift the row triggers for these statements only.
    if postgres:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        drop_immutable(op, "audit_log")
    prev, changes = GENESIS, []
    for row in rows():
        row["prev_hash"] = prev
        prev = _hash(chain_fields(row), new_key)
        changes.append({"row_id": row["id"], "new_prev": row["prev_hash"], "new_hash": prev})
        if len(changes) == batch:
            bind.execute(update, changes)
            changes = []
    if changes:
        bind.execute(update, changes)
    if postgres:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        make_immutable(op, "audit_log")


def upgrade():
    # TRUNCATE fires no row trigger: refuse it with a statement trigger (PostgreSQL; SQLite has none).
    for table in APPEND_ONLY:
        refuse_truncate(op, table)
    # The audit chain is keyed from now on (AUDIT_HMAC_KEY, outside the database).
    _rechain(PLAIN, current_app.config["AUDIT_HMAC_KEY"].encode())


def downgrade():
    _rechain(current_app.config["AUDIT_HMAC_KEY"].encode(), PLAIN)
    for table in APPEND_ONLY:
        allow_truncate(op, table)
