"""Steward bindings (管家) and how they come about: binding codes shown at visits, and the visits."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from community.estates.models import Engineer, Estate
from core.accounts.models import User
from core.db import BigID, utcnow
from core.extensions import db


class BindingCode(db.Model):
    """A mini-program code an engineer shows at a visit; the scene is signed and expires."""

    __tablename__ = "binding_codes"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    scene: Mapped[str] = mapped_column(sa.String(32), unique=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"), index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    visit_ref: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    uses: Mapped[int] = mapped_column(default=0)
    image: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    image_type: Mapped[str] = mapped_column(sa.String(32))

    engineer: Mapped[Engineer] = relationship(lazy="joined", innerjoin=True)
    estate: Mapped[Estate] = relationship(lazy="joined", innerjoin=True)


class StewardBinding(db.Model):
    """Who is a resident's steward (管家). Append-only history: a row is only ever ended, never
    changed otherwise, and at most one row per resident is active (ended_at IS NULL)."""

    __tablename__ = "steward_bindings"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    start_reason: Mapped[str] = mapped_column(sa.String(16))  # scan | takeover | reassigned
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(16))  # takeover | reassigned | engineer_left
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    engineer: Mapped[Engineer] = relationship(lazy="joined", innerjoin=True)
    estate: Mapped[Estate] = relationship(lazy="joined", innerjoin=True)
    resident: Mapped[User] = relationship(foreign_keys=[resident_id])

    __table_args__ = (
        sa.Index("uq_steward_bindings_active_resident", "resident_id", unique=True,
                 sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL")),
        sa.Index("ix_steward_bindings_engineer_active", "engineer_id", "id",
                 sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL")),
        sa.Index("ix_steward_bindings_engineer_estate_active", "engineer_id", "estate_id", "id",
                 sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL")),
        sa.Index("ix_steward_bindings_resident_id", "resident_id", "id"),
    )


class Visit(db.Model):
    """A service visit recorded by a scan of the engineer's code (with the resident's optional rating)."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"))
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    binding_code_id: Mapped[int] = mapped_column(sa.ForeignKey("binding_codes.id"))
    visit_ref: Mapped[str | None] = mapped_column(sa.String(64))
    rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # One visit per resident per code: repeating the binding call records nothing new.
        sa.UniqueConstraint("binding_code_id", "resident_id"),
        sa.CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating"),
        sa.Index("ix_visits_resident_id_engineer_id", "resident_id", "engineer_id", "id"),
        sa.Index("ix_visits_engineer_id", "engineer_id", "id"),
    )


class StewardHandover(db.Model):
    """A change of steward waiting for, or decided by, the customer (modelled on WeCom's customer
    handover). `kind`: `reassign` (an admin moved the customer), `engineer_left` (their engineer
    left with a successor), both of which complete by themselves at `due_at` unless the customer
    refuses; `request` (the resident asked for another engineer of the estate), which staff
    approve or reject and which never completes by itself (`due_at` NULL). At most one pending row
    per resident (partial unique index): repeats and races cannot offer two changes at once."""

    __tablename__ = "steward_handovers"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # reassign | engineer_left | request
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    from_engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineers.id"))  # None: no steward (request)
    to_engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    # pending | completed | refused (by the customer) | rejected (a request, by staff) | cancelled
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(sa.String(200))  # why it was started (a request's reason)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    due_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # None: the job
    refusal_reason: Mapped[str | None] = mapped_column(sa.String(200))

    from_engineer: Mapped[Engineer | None] = relationship(foreign_keys=[from_engineer_id], lazy="joined")
    to_engineer: Mapped[Engineer] = relationship(foreign_keys=[to_engineer_id], lazy="joined", innerjoin=True)
    estate: Mapped[Estate] = relationship(lazy="joined", innerjoin=True)
    resident: Mapped[User] = relationship(foreign_keys=[resident_id])

    __table_args__ = (
        sa.CheckConstraint("kind IN ('reassign', 'engineer_left', 'request')", name="kind"),
        sa.CheckConstraint("status IN ('pending', 'completed', 'refused', 'rejected', 'cancelled')", name="status"),
        sa.Index("uq_steward_handovers_pending_resident", "resident_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
        # the completion job: due rows, oldest first
        sa.Index("ix_steward_handovers_pending_due", "due_at", "id",
                 sqlite_where=sa.text("status = 'pending' AND due_at IS NOT NULL"),
                 postgresql_where=sa.text("status = 'pending' AND due_at IS NOT NULL")),
        sa.Index("ix_steward_handovers_status", "status", "id"),
        sa.Index("ix_steward_handovers_resident", "resident_id", "id"),
        sa.Index("ix_steward_handovers_from", "from_engineer_id", "id"),
        sa.Index("ix_steward_handovers_to", "to_engineer_id", "id"),
    )
