"""Membership tiers of the manufacturer's loyalty programme."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import utcnow
from core.extensions import db


class Membership(db.Model):
    """A user's membership tier in the manufacturer's loyalty programme (gold, silver), set by
    an admin or an import; a qualifying tier pre-qualifies an ambassador application."""

    __tablename__ = "ambassador_memberships"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(sa.String(16))
    source: Mapped[str] = mapped_column(sa.String(16), default="admin")  # admin | import
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
