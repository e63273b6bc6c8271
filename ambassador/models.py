"""Service ambassadors (服务代言人): memberships, applications, levels, ambassadors and their
level history, contributions and standings, tasks and submissions, referrals, orders."""
from __future__ import annotations

from datetime import date, datetime

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
TASK_KINDS = ("promotion", "activity", "content", "recruit")
TASK_STATUSES = ("draft", "published", "closed")
PROOF_KINDS = ("text", "link", "photos")
SUBMISSION_STATUSES = ("pending", "approved", "rejected")
REFERRAL_STATUSES = ("pending", "rewarded", "flagged", "lapsed")
ORDER_STATUSES = ("paid", "refunded")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Membership(db.Model):
    """A user's membership tier in the manufacturer's loyalty programme (gold, silver), set by
    an admin or an import; a qualifying tier pre-qualifies an ambassador application."""

    __tablename__ = "ambassador_memberships"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(sa.String(16))
    source: Mapped[str] = mapped_column(sa.String(16), default="admin")  # admin | import
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


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
        sa.CheckConstraint(_in("status", AMBASSADOR_STATUSES), name="status"),
        sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
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
        sa.CheckConstraint(_in("status", APPLICATION_STATUSES), name="status"),
        sa.CheckConstraint(_in("channel", CHANNELS), name="channel"),
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


class Task(db.Model):
    __tablename__ = "ambassador_tasks"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(2000), default="")
    kind: Mapped[str] = mapped_column(sa.String(16))
    # Audience: each list empty means "any"; an ambassador must match every non-empty list.
    audience_level_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    audience_estate_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    audience_cities: Mapped[list] = mapped_column(sa.JSON, default=list)
    points: Mapped[int] = mapped_column(Points)
    deadline: Mapped[datetime]
    total_limit: Mapped[int | None]  # approved completions in all
    per_person_limit: Mapped[int] = mapped_column(default=1)
    proof_required: Mapped[list] = mapped_column(sa.JSON, default=list)  # subset of PROOF_KINDS
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    approved_count: Mapped[int] = mapped_column(default=0)  # conditional update against total_limit
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(_in("kind", TASK_KINDS), name="kind"),
        sa.CheckConstraint(_in("status", TASK_STATUSES), name="status"),
        sa.CheckConstraint("points >= 0", name="points"),
        sa.CheckConstraint("per_person_limit > 0", name="per_person_limit"),
        sa.CheckConstraint("total_limit IS NULL OR approved_count <= total_limit", name="total_limit"),
        sa.Index("ix_ambassador_tasks_status_deadline", "status", "deadline"),
    )


class TaskAcceptance(db.Model):
    """An ambassador took a task; `approved_count` guards the per-person limit."""

    __tablename__ = "ambassador_task_acceptances"

    task_id: Mapped[int] = mapped_column(sa.ForeignKey("ambassador_tasks.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, index=True)
    approved_count: Mapped[int] = mapped_column(default=0)
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskSubmission(db.Model):
    __tablename__ = "ambassador_task_submissions"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("ambassador_tasks.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    text: Mapped[str | None] = mapped_column(sa.String(2000))
    link: Mapped[str | None] = mapped_column(sa.String(500))
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    points: Mapped[int | None] = mapped_column(Points)  # paid on approval (multiplier applied)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(_in("status", SUBMISSION_STATUSES), name="status"),
        sa.Index("ix_ambassador_task_submissions_task", "task_id", "status", "id"),
        sa.Index("ix_ambassador_task_submissions_user", "user_id", "task_id", "id"),
        sa.Index("ix_ambassador_task_submissions_status", "status", "id"),
    )


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
        sa.CheckConstraint(_in("status", REFERRAL_STATUSES), name="status"),
        sa.CheckConstraint("inviter_id <> invitee_id", name="not_self"),
        sa.Index("ix_ambassador_referrals_inviter", "inviter_id", "id"),
    )


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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
        sa.CheckConstraint("amount_fen >= 0", name="amount_fen"),
    )
