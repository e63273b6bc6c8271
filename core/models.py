"""Kernel tables every feature uses: idempotency records."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import BigID, utcnow
from core.extensions import db


class IdempotencyRecord(db.Model):
    """The first response to a write sent with an Idempotency-Key, replayed for repeats."""

    __tablename__ = "idempotency_records"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(sa.String(128))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)


class AuditEntry(db.Model):
    """An admin action, append-only and chained: each row's hash covers the previous row's hash.

    The unique prev_hash makes the chain linear even under concurrent writers (a fork is a
    unique violation, retried on top of the new head). Database triggers refuse UPDATE and DELETE.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(32))
    object_id: Mapped[str] = mapped_column(sa.String(64))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_log_object", "object_type", "object_id", "id"),)


class SchedulerLease(db.Model):
    """Who runs the scheduled jobs: one holder at a time, renewed while it lives."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(128))
    expires_at: Mapped[datetime]


class IntegrationSignature(db.Model):
    """A signature an integration request was accepted with: a replay is refused. Rows older than
    the allowed clock skew can go (a replay that old fails the timestamp check anyway)."""

    __tablename__ = "integration_signatures"

    signature: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
