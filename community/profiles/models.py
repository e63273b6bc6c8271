"""What an estate is like, for targeting: editable tags and a precomputed row of its figures."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import utcnow
from core.extensions import db


class EstateTag(db.Model):
    """A tag of an estate (新小区, 别墅, 老旧小区, ...), edited by admins one by one or in bulk by CSV."""

    __tablename__ = "estate_tags"

    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.Index("ix_estate_tags_tag_estate", "tag", "estate_id"),)


class EstateProfile(db.Model):
    """One row per estate with the figures a targeting rule reads, refreshed set-based (daily, and
    for an estate when its figures are asked to be fresh): an index read instead of a scan of the
    statistics for every rule evaluation. Orders, complaints and ratings cover the last 12 full
    months of `estate_month_stats`; coverage is households with an active steward binding over
    the estate's households."""

    __tablename__ = "estate_profiles"

    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"), primary_key=True)
    households: Mapped[int] = mapped_column(default=0)
    orders_12m: Mapped[int] = mapped_column(default=0)
    complaints_12m: Mapped[int] = mapped_column(default=0)
    orders_per_1000: Mapped[float | None] = mapped_column(sa.Float)  # None when households is 0
    complaints_per_1000: Mapped[float | None] = mapped_column(sa.Float)
    avg_rating: Mapped[float | None] = mapped_column(sa.Float)  # None without ratings
    bound_residents: Mapped[int] = mapped_column(default=0)
    coverage: Mapped[float | None] = mapped_column(sa.Float)  # 0..1 (capped), None when households is 0
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)
