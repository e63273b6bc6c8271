"""Orders from the manufacturer's order system, received for value sharing."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ambassador.models import Points, one_of
from core.db import BigID, utcnow
from core.extensions import db

ORDER_STATUSES = ("paid", "refunded")


class Order(db.Model):
    """An order from the manufacturer's order system (value sharing); pays at most once and a
    refund reverses what it paid."""

    __tablename__ = "ambassador_orders"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    external_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    amount_fen: Mapped[int] = mapped_column(Points)
    paid_at: Mapped[datetime]
    refunded_at: Mapped[datetime | None]
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    steward_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    inviter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    items: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The ecosystem partner whose service was ordered (activation.partners code), if any.
    partner_code: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(one_of("status", ORDER_STATUSES), name="status"),
        sa.CheckConstraint("amount_fen >= 0", name="amount_fen"),
    )
