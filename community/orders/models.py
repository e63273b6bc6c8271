"""Service orders and what follows them (reviews, complaints), and engineers' announced visit
days with bookable slots."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import BigID, utcnow
from core.extensions import db

ORDER_STATUSES = ("requested", "assigned", "scheduled", "completed", "cancelled")
ORDER_SOURCES = ("app", "import", "integration", "booking")


class ServiceOrder(db.Model):
    """A service request and its lifecycle; imported history uses the same rows (source=import)."""

    __tablename__ = "service_orders"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    # The service system's id for imported or integrated orders: imports are idempotent by it.
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    source: Mapped[str] = mapped_column(sa.String(16), default="app")
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resident_phone: Mapped[str | None] = mapped_column(sa.String(20))  # imported, not (yet) a user
    engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineers.id"))
    preferred_engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineers.id"))
    service_type: Mapped[str] = mapped_column(sa.String(32))
    # The appliance serviced, when known: a completed order advances that product's care schedule.
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id"))
    description: Mapped[str] = mapped_column(sa.String(1000), default="")
    preferred_slot: Mapped[str | None] = mapped_column(sa.String(64))
    # Where and whom: a copy of the resident's address and contact at the request (later edits of
    # the address book do not move an order); only the resident, the assigned engineer and staff
    # see the full phone.
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    contact_name: Mapped[str | None] = mapped_column(sa.String(32))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)  # upload names
    status: Mapped[str] = mapped_column(sa.String(16), default="requested")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_at: Mapped[datetime | None]
    scheduled_for: Mapped[datetime | None]
    scheduled_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(255))
    rating: Mapped[int | None]  # the review's rating (or the imported one)
    complained: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("status in ('requested', 'assigned', 'scheduled', 'completed', 'cancelled')",
                           name="status"),
        sa.CheckConstraint("source in ('app', 'import', 'integration', 'booking')", name="source"),
        sa.CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating"),
        sa.Index("ix_service_orders_estate_requested", "estate_id", "requested_at"),
        sa.Index("ix_service_orders_engineer_status", "engineer_id", "status", "id"),
        sa.Index("ix_service_orders_resident", "resident_id", "id"),
        sa.Index("ix_service_orders_product_id", "product_id"),
        # The console's list filtered by status (newest first) and its per-estate total.
        sa.Index("ix_service_orders_status_id", "status", "id"),
        sa.Index("ix_service_orders_estate_id_id", "estate_id", "id"),
        sa.Index("ix_service_orders_engineer_resident_done", "engineer_id", "resident_id",
                 sqlite_where=sa.text("status = 'completed'"), postgresql_where=sa.text("status = 'completed'")),
    )


class ServiceReview(db.Model):
    """The owner's one review of a completed order (the unique order_id holds under races)."""

    __tablename__ = "service_reviews"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_orders.id"), unique=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    rating: Mapped[int]
    text: Mapped[str] = mapped_column(sa.String(1000), default="")
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)  # upload names
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        sa.Index("ix_service_reviews_engineer", "engineer_id", "id"),
    )


class Complaint(db.Model):
    """A complaint about an order, resolved by an agent."""

    __tablename__ = "service_complaints"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("service_orders.id"), unique=True)
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    engineer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineers.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    text: Mapped[str] = mapped_column(sa.String(1000), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="open")  # open resolved
    resolution: Mapped[str | None] = mapped_column(sa.String(1000))
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("status in ('open', 'resolved')", name="status"),
        sa.Index("ix_service_complaints_status", "status", "id"),
    )


class VisitAnnouncement(db.Model):
    """An engineer announces a day in an estate; residents are notified and may book a slot."""

    __tablename__ = "visit_announcements"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    day: Mapped[date]
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    notified: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("engineer_id", "estate_id", "day"),
        sa.Index("ix_visit_announcements_estate_day", "estate_id", "day"),
    )


class VisitSlot(db.Model):
    """One bookable time of an announced visit; a conditional UPDATE books it exactly once."""

    __tablename__ = "visit_slots"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_announcements.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    booked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_orders.id"), unique=True)
    booked_at: Mapped[datetime | None]
