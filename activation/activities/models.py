"""Activities, the estates they are for, and each resident's sign-up (confirmed or waitlisted),
check-in and reward."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from activation.partners.models import REVIEW_STATUSES, one_of
from core.db import BigID, utcnow
from core.extensions import db

ORGANIZER_KINDS = ("admin", "ambassador", "partner")
# pending (a partner's, in moderation) → published → ended (by time) | cancelled; rejected.
ACTIVITY_STATUSES = REVIEW_STATUSES + ("cancelled",)
SIGNUP_STATUSES = ("confirmed", "waitlisted", "cancelled")


class Activity(db.Model):
    """A community activity. `confirmed` counts confirmed sign-ups and never exceeds `capacity`
    (a conditional UPDATE), so concurrent sign-ups give exactly `capacity` seats."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(4000), default="")
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)  # upload names
    place: Mapped[str] = mapped_column(sa.String(128))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    signup_deadline: Mapped[datetime]
    capacity: Mapped[int]
    confirmed: Mapped[int] = mapped_column(default=0)
    waitlisted: Mapped[int] = mapped_column(default=0)
    checked_in: Mapped[int] = mapped_column(default=0)
    # Audience: the listed estates (activity_estates), or a targeting rule whose matches are
    # precomputed into activity_estates (community.profiles).
    audience_rule: Mapped[dict | None] = mapped_column(sa.JSON)
    points_reward: Mapped[int] = mapped_column(default=0)  # paid once per person on check-in
    coupon_template_id: Mapped[int | None] = mapped_column(sa.ForeignKey("coupon_templates.id"))
    organizer_kind: Mapped[str] = mapped_column(sa.String(16))
    organizer_user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partners.id"))
    checkin_token: Mapped[str] = mapped_column(sa.String(24), unique=True)  # the activity's own code (attendees scan it)
    status: Mapped[str] = mapped_column(sa.String(16), default="published")
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(sa.String(500))
    cancelled_reason: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(one_of("organizer_kind", ORGANIZER_KINDS), name="organizer_kind"),
        sa.CheckConstraint(one_of("status", ACTIVITY_STATUSES), name="status"),
        sa.CheckConstraint("capacity BETWEEN 1 AND 100000", name="capacity"),
        sa.CheckConstraint("confirmed >= 0 AND confirmed <= capacity", name="confirmed"),
        sa.CheckConstraint("waitlisted >= 0 AND checked_in >= 0", name="counts"),
        sa.CheckConstraint("points_reward >= 0", name="points_reward"),
        sa.CheckConstraint("starts_at < ends_at AND signup_deadline <= ends_at", name="times"),
        sa.Index("ix_activities_status_starts", "status", "starts_at"),
        sa.Index("ix_activities_organizer", "organizer_user_id", "id"),
        sa.Index("ix_activities_partner", "partner_id", "id"),
    )


class ActivityEstate(db.Model):
    """An estate an activity is for: `GET /api/v1/estates/{id}/activities` is an index read."""

    __tablename__ = "activity_estates"

    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activities.id"), primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"), primary_key=True)

    __table_args__ = (sa.Index("ix_activity_estates_estate", "estate_id", "activity_id"),)


class ActivitySignup(db.Model):
    """One resident's place in an activity. A cancelled sign-up may sign up again (the same row
    goes back to the end of the queue). `code` is the attendee's own code, which the organiser
    scans; `checked_in_at` is set once; `rewarded_at` when the reward was paid (once)."""

    __tablename__ = "activity_signups"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activities.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estates.id"))
    status: Mapped[str] = mapped_column(sa.String(16))
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)  # the waitlist's order
    code: Mapped[str] = mapped_column(sa.String(24), unique=True)
    contact_name: Mapped[str] = mapped_column(sa.String(32), default="")
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    promoted_at: Mapped[datetime | None]  # moved up from the waitlist
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rewarded_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # the day-before reminder went out
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("activity_id", "user_id"),
        sa.CheckConstraint(one_of("status", SIGNUP_STATUSES), name="status"),
        sa.Index("ix_activity_signups_queue", "activity_id", "status", "queued_at", "id"),
        sa.Index("ix_activity_signups_user", "user_id", "id"),
    )
