"""Who brought whom in, and whether the inviter's reward is pending, paid or withheld."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ambassador.models import one_of
from core.db import BigID, utcnow
from core.extensions import db

REFERRAL_STATUSES = ("pending", "rewarded", "flagged", "lapsed")


class Referral(db.Model):
    """Who brought a user in (first touch, protected for REFERRAL_PROTECTION_DAYS) and whether the
    inviter's reward is pending, paid, or withheld (flagged for admins)."""

    __tablename__ = "ambassador_referrals"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    inviter_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    invitee_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    invite_code: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    flag_reason: Mapped[str | None] = mapped_column(sa.String(64))
    qualified_by: Mapped[str | None] = mapped_column(sa.String(16))  # ambassador | service
    attributed_at: Mapped[datetime] = mapped_column(default=utcnow)
    protected_until: Mapped[datetime]
    rewarded_at: Mapped[datetime | None]

    __table_args__ = (
        sa.CheckConstraint(one_of("status", REFERRAL_STATUSES), name="status"),
        sa.CheckConstraint("inviter_id <> invitee_id", name="not_self"),
        sa.Index("ix_ambassador_referrals_inviter", "inviter_id", "id"),
    )
