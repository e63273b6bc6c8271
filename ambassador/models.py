"""What every ambassador area stands on: levels (data, not code), the ambassadors, the estates
they serve, every change of their level or status, and the applications that make them."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import BigID, utcnow
from core.extensions import db

Points = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

CHANNELS = ("engineer", "member", "referral")
# What a level may allow; levels are data, these are the names code checks for.
PERMISSIONS = ("recruit", "announce", "lead_activities")
AMBASSADOR_STATUSES = ("active", "suspended", "removed")
APPLICATION_STATUSES = ("pending", "approved", "rejected", "withdrawn")


def one_of(column: str, values: tuple[str, ...]) -> str:
    """The SQL of a CHECK constraint: the column holds one of these values."""
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Level(db.Model):
    """An ambassador level: data, not code. `position` orders levels (1 is the entry level)."""

    __tablename__ = "ambassador_levels"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(32))
    position: Mapped[int] = mapped_column(unique=True)
    # Contribution points earned in the rolling window (AMBASSADOR_WINDOW_DAYS) to hold the level.
    threshold: Mapped[int] = mapped_column(Points, default=0)
    permissions: Mapped[list] = mapped_column(sa.JSON, default=list)  # subset of PERMISSIONS
    multiplier_pct: Mapped[int] = mapped_column(default=100)  # task points x multiplier_pct / 100
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("position > 0", name="position"),
        sa.CheckConstraint("threshold >= 0", name="threshold"),
        sa.CheckConstraint("multiplier_pct between 1 and 1000", name="multiplier_pct"),
    )


class Ambassador(db.Model):
    """An approved ambassador; never deleted (removal is a status), so history stays."""

    __tablename__ = "ambassadors"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    level_id: Mapped[int] = mapped_column(sa.ForeignKey("ambassador_levels.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    status_reason: Mapped[str | None] = mapped_column(sa.String(255))
    channel: Mapped[str] = mapped_column(sa.String(16))
    real_name: Mapped[str] = mapped_column(sa.String(32))
    phone: Mapped[str] = mapped_column(sa.String(20))
    # First estate's city, kept for the city leaderboard and the list filter.
    city: Mapped[str | None] = mapped_column(sa.String(32))
    invite_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    invite_image: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    invite_image_type: Mapped[str | None] = mapped_column(sa.String(32))
    inviter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Contribution: points earned as an ambassador. Spending never lowers these.
    contribution_total: Mapped[int] = mapped_column(Points, default=0)
    window_contribution: Mapped[int] = mapped_column(Points, default=0)  # at the last evaluation
    below_since: Mapped[datetime | None]  # first evaluation found the level's threshold unmet
    level_pinned_until: Mapped[datetime | None]  # an admin override holds the level until then
    evaluated_at: Mapped[datetime | None]
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(one_of("status", AMBASSADOR_STATUSES), name="status"),
        sa.CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        sa.Index("ix_ambassadors_level_status", "level_id", "status", "user_id"),
        sa.Index("ix_ambassadors_city", "city", "user_id"),
    )


class AmbassadorEstate(db.Model):
    """The estates an ambassador serves (from the application; admins may change them)."""

    __tablename__ = "ambassador_estates"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ambassadors.user_id"), primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"), primary_key=True, index=True)


class Application(db.Model):
    __tablename__ = "ambassador_applications"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(sa.String(16))
    invite_code: Mapped[str | None] = mapped_column(sa.String(16))
    inviter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    real_name: Mapped[str] = mapped_column(sa.String(32))
    phone: Mapped[str] = mapped_column(sa.String(20))
    estate_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    statement: Mapped[str] = mapped_column(sa.String(1000), default="")
    qualified: Mapped[bool] = mapped_column(default=False)  # pre-qualified (engineer, member tier)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(one_of("status", APPLICATION_STATUSES), name="status"),
        sa.CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        # One open application per person, also under concurrent submits.
        sa.Index("uq_ambassador_applications_open", "user_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
        sa.Index("ix_ambassador_applications_user", "user_id", "id"),
        sa.Index("ix_ambassador_applications_status", "status", "id"),
    )


class LevelChange(db.Model):
    """Every change of an ambassador's level or status, with its reason and actor. Append-only."""

    __tablename__ = "ambassador_level_changes"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # join promote demote override suspend reinstate remove
    kind: Mapped[str] = mapped_column(sa.String(16))
    from_level_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ambassador_levels.id"))
    to_level_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ambassador_levels.id"))
    contribution: Mapped[int | None] = mapped_column(Points)  # window contribution at the time
    reason: Mapped[str] = mapped_column(sa.String(255))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # None: the job
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.Index("ix_ambassador_level_changes_user", "user_id", "id"),)
