"""Figures kept up to date by events: engineer likes, each engineer's record in each estate
(the ranking), completions per day (its recent window), and per-estate monthly KPIs."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import utcnow
from core.extensions import db


class EngineerLike(db.Model):
    """A resident likes an engineer who completed an order for them: once per pair."""

    __tablename__ = "engineer_likes"

    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EngineerEstateStat(db.Model):
    """An engineer's record in one estate, kept up to date as orders complete, reviews, likes and
    complaints arrive; `score` orders the estate's ranking (formula in community/stats/services.py)."""

    __tablename__ = "engineer_estate_stats"

    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"), primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"), primary_key=True)
    completed: Mapped[int] = mapped_column(default=0)  # all time, in this estate
    recent_completed: Mapped[int] = mapped_column(default=0)  # in the recent window
    ratings_count: Mapped[int] = mapped_column(default=0)
    ratings_sum: Mapped[int] = mapped_column(default=0)
    complaints: Mapped[int] = mapped_column(default=0)
    likes: Mapped[int] = mapped_column(default=0)  # the engineer's likes (all estates)
    first_service_at: Mapped[datetime | None]
    score: Mapped[float] = mapped_column(sa.Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Read by primary key only. The ranking's order is the coverage row's copy of score and first
    # service (community.estates EngineerEstate, ix_engineer_estates_rank). No index by estate
    # here: PostgreSQL's generic plan of the ranking took one to read every stats row of the
    # estate and filter them against each coverer (issue 15).


class EngineerEstateDay(db.Model):
    """Orders an engineer completed in an estate on one Asia/Shanghai day: the recent window of
    the ranking adds days as they come and drops them as they leave the window."""

    __tablename__ = "engineer_estate_days"

    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"), primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    completed: Mapped[int] = mapped_column(default=0)


class EstateMonthStat(db.Model):
    """Per estate and Asia/Shanghai month of *request*: orders, complaints and ratings (KPIs)."""

    __tablename__ = "estate_month_stats"

    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"), primary_key=True)
    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)  # YYYY-MM
    orders: Mapped[int] = mapped_column(default=0)
    complaints: Mapped[int] = mapped_column(default=0)
    ratings_count: Mapped[int] = mapped_column(default=0)
    ratings_sum: Mapped[int] = mapped_column(default=0)


# -- region rollups: the console's charts read a few hundred rows, never the 500k estates ---------
# Keyed by the estate's (city, district) at the time of the event; the rebuild re-attributes
# everything by the estates' current regions (docs/community.md, "The console's dashboard").

class RegionDayStat(db.Model):
    """New steward bindings made by a resident's scan, per region and Asia/Shanghai day (kept up to
    date by the binding call; a binding confirmed fake is taken back out)."""

    __tablename__ = "region_day_stats"

    city: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    district: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    bindings: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.Index("ix_region_day_stats_day", "day"),)


class RegionMonthStat(db.Model):
    """Orders and complaints per region and Asia/Shanghai month of request (EstateMonthStat summed)."""

    __tablename__ = "region_month_stats"

    city: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    district: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)  # YYYY-MM
    orders: Mapped[int] = mapped_column(default=0)
    complaints: Mapped[int] = mapped_column(default=0)

    __table_args__ = (sa.Index("ix_region_month_stats_month", "month"),)


class RegionStat(db.Model):
    """Per region: its active estates, their households and the residents with an active steward,
    refreshed set-based daily and by the rebuild (estates change by edits and imports, bindings by
    scans, handovers, departures and fraud checks: one daily count instead of a hook in each)."""

    __tablename__ = "region_stats"

    city: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    district: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    bound: Mapped[int] = mapped_column(default=0)
    estates: Mapped[int] = mapped_column(default=0)
    households: Mapped[int] = mapped_column(default=0)
