"""The customer book (notes, tags, follow-ups) and customer health with its alerts."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import BigID, utcnow
from core.extensions import db

BANDS = ("red", "yellow", "green")


class CustomerNote(db.Model):
    """A private note on a customer by an engineer; the customer's current steward, admins and
    agents read the customer's notes (a handover passes the book on)."""

    __tablename__ = "customer_notes"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineers.id"))  # the author, when an engineer
    text: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.Index("ix_customer_notes_resident_id", "resident_id", "id"),)


class CustomerTag(db.Model):
    """A label on a customer (VIP, 老人独居, 有宠物…): one row per customer and tag."""

    __tablename__ = "customer_tags"

    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUp(db.Model):
    """Something the steward promised to do for a customer by a date."""

    __tablename__ = "customer_follow_ups"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineers.id"))  # whose list it is on
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    due_on: Mapped[date]
    text: Mapped[str] = mapped_column(sa.String(500))
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.Index("ix_customer_follow_ups_resident_id", "resident_id", "id"),
        sa.Index("ix_customer_follow_ups_engineer_due", "engineer_id", "due_on",
                 postgresql_where=sa.text("done_at IS NULL"), sqlite_where=sa.text("done_at IS NULL")),
    )


class CustomerHealth(db.Model):
    """A bound customer's health score (0-100) and band, with the previous score for the trend
    and the signals it came from (docs/community.md, "Customer health")."""

    __tablename__ = "customer_health"

    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"))  # the steward it was scored for
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    score: Mapped[int]
    band: Mapped[str] = mapped_column(sa.String(8))
    previous_score: Mapped[int | None]
    previous_band: Mapped[str | None] = mapped_column(sa.String(8))
    signals: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    band_since: Mapped[datetime] = mapped_column(default=utcnow)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("score BETWEEN 0 AND 100", name="score"),
        sa.CheckConstraint("band in ('red', 'yellow', 'green')", name="band"),
        sa.Index("ix_customer_health_engineer_band", "engineer_id", "band", "score"),
        sa.Index("ix_customer_health_estate_band", "estate_id", "band"),
    )


class HealthAlert(db.Model):
    """A customer turned red: shown on the steward's and the duty agents' workbench until handled."""

    __tablename__ = "customer_health_alerts"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    score: Mapped[int]
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)  # the signals that weighed most
    status: Mapped[str] = mapped_column(sa.String(16), default="open")  # open | handled
    handled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    handled_at: Mapped[datetime | None]
    handled_note: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("status in ('open', 'handled')", name="status"),
        sa.Index("ix_customer_health_alerts_engineer_status", "engineer_id", "status", "id"),
        sa.Index("ix_customer_health_alerts_estate_status", "estate_id", "status", "id"),
        # At most one open alert per customer (concurrent recomputes included).
        sa.Index("uq_customer_health_alerts_open", "resident_id", unique=True,
                 sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'")),
    )
