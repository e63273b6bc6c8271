"""Contribution days (the rolling window of level evaluation) and the precomputed leaderboard rows."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ambassador.models import Points
from core.extensions import db


class Contribution(db.Model):
    """Contribution points an ambassador earned on one Asia/Shanghai day: the rolling window of
    level evaluation sums these rows, so it reads days, not ledger postings."""

    __tablename__ = "ambassador_contributions"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    points: Mapped[int] = mapped_column(Points, default=0)


class Standing(db.Model):
    """Precomputed leaderboard rows: contribution points per scope ('all', 'estate:12',
    'city:上海市', 'level:3') and period ('all', '2026-11', '2026Q4'), kept incrementally."""

    __tablename__ = "ambassador_standings"

    scope: Mapped[str] = mapped_column(sa.String(48), primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    points: Mapped[int] = mapped_column(Points, default=0)

    __table_args__ = (
        sa.Index("ix_ambassador_standings_rank", "scope", "period", "points", "user_id"),
        # One ambassador's rows of one scope (moves on a level change, rebuilds), without scanning the scope.
        sa.Index("ix_ambassador_standings_user", "user_id", "scope"),
    )
