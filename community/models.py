"""Estates, engineers and their coverage, residency, steward bindings, binding codes and visits."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from core.accounts.models import User
from core.db import BigID, utcnow
from core.extensions import db

ESTATE_STATUSES = ("active", "inactive")
ENGINEER_STATUSES = ("invited", "active", "left")


class Estate(db.Model):
    """A residential estate (小区): the unit of community, ranking, offers and KPIs."""

    __tablename__ = "estates"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    # The manufacturer's own estate code: the natural key of CSV imports (so re-imports update).
    code: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    province: Mapped[str] = mapped_column(sa.String(32))
    city: Mapped[str] = mapped_column(sa.String(32))
    district: Mapped[str] = mapped_column(sa.String(32))
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    lat: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    lng: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    households: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("status in ('active', 'inactive')", name="status"),
        sa.CheckConstraint("households >= 0", name="households"),
        sa.Index("ix_estates_city_name", "city", "name"),
        sa.Index("ix_estates_name", "name"),
    )


class Engineer(db.Model):
    """A field engineer, created by an admin and claimed from the mini-program with an invite code."""

    __tablename__ = "engineers"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    phone: Mapped[str] = mapped_column(sa.String(20))
    employee_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="invited")
    invite_code_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    invite_expires_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()
    estates: Mapped[list[Estate]] = relationship(secondary="engineer_estates", order_by="Estate.id")

    __table_args__ = (sa.CheckConstraint("status in ('invited', 'active', 'left')", name="status"),)


class EngineerEstate(db.Model):
    """Coverage: an engineer serves an estate (an estate may have several engineers)."""

    __tablename__ = "engineer_estates"

    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"), primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"), primary_key=True, index=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class Residency(db.Model):
    """A resident belongs to an estate (a resident may have several: own home, parents' home)."""

    __tablename__ = "residencies"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    source: Mapped[str] = mapped_column(sa.String(16))  # binding | self | admin
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]

    estate: Mapped[Estate] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "estate_id"),
        sa.Index("ix_residencies_estate_id_user_id", "estate_id", "user_id"),
    )


class BindingCode(db.Model):
    """A mini-program code an engineer shows at a visit; the scene is signed and expires."""

    __tablename__ = "binding_codes"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    scene: Mapped[str] = mapped_column(sa.String(32), unique=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"), index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    visit_ref: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    uses: Mapped[int] = mapped_column(default=0)
    image: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary))
    image_type: Mapped[str] = mapped_column(sa.String(32))

    engineer: Mapped[Engineer] = relationship(lazy="joined", innerjoin=True)
    estate: Mapped[Estate] = relationship(lazy="joined", innerjoin=True)


class StewardBinding(db.Model):
    """Who is a resident's steward (管家). Append-only history: a row is only ever ended, never
    changed otherwise, and at most one row per resident is active (ended_at IS NULL)."""

    __tablename__ = "steward_bindings"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    start_reason: Mapped[str] = mapped_column(sa.String(16))  # scan | takeover | reassigned
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(16))  # takeover | reassigned | engineer_left
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    engineer: Mapped[Engineer] = relationship(lazy="joined", innerjoin=True)
    estate: Mapped[Estate] = relationship(lazy="joined", innerjoin=True)
    resident: Mapped[User] = relationship(foreign_keys=[resident_id])

    __table_args__ = (
        sa.Index("uq_steward_bindings_active_resident", "resident_id", unique=True,
                 sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL")),
        sa.Index("ix_steward_bindings_engineer_active", "engineer_id", "id",
                 sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL")),
        sa.Index("ix_steward_bindings_engineer_estate_active", "engineer_id", "estate_id", "id",
                 sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL")),
        sa.Index("ix_steward_bindings_resident_id", "resident_id", "id"),
    )


class Visit(db.Model):
    """A service visit recorded by a scan of the engineer's code (with the resident's optional rating)."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"))
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    binding_code_id: Mapped[int] = mapped_column(sa.ForeignKey("binding_codes.id"))
    visit_ref: Mapped[str | None] = mapped_column(sa.String(64))
    rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # One visit per resident per code: repeating the binding call records nothing new.
        sa.UniqueConstraint("binding_code_id", "resident_id"),
        sa.CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating"),
        sa.Index("ix_visits_resident_id_engineer_id", "resident_id", "engineer_id", "id"),
        sa.Index("ix_visits_engineer_id", "engineer_id", "id"),
    )


# -- service orders, reviews, complaints, likes, and the statistics they keep up to date --------

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
    description: Mapped[str] = mapped_column(sa.String(1000), default="")
    preferred_slot: Mapped[str | None] = mapped_column(sa.String(64))
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


class EngineerLike(db.Model):
    """A resident likes an engineer who completed an order for them: once per pair."""

    __tablename__ = "engineer_likes"

    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EngineerEstateStat(db.Model):
    """An engineer's record in one estate, kept up to date as orders complete, reviews, likes and
    complaints arrive; `score` orders the estate's ranking (formula in community/ranking.py)."""

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

    __table_args__ = (sa.Index("ix_engineer_estate_stats_rank", "estate_id", "score", "first_service_at",
                               "engineer_id"),)


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


# -- the estate feed: questions, reviews and photo shares; answers, comments, likes ---------------

POST_KINDS = ("question", "review", "photo", "announcement")
CONTENT_STATUSES = ("published", "held", "hidden")


class Post(db.Model):
    """A post in an estate's feed. `held`: content security asked for a human look (only the
    author sees it until an admin restores it); `hidden`: taken down by a moderator."""

    __tablename__ = "estate_posts"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.String(2000), default="")
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)  # upload names
    status: Mapped[str] = mapped_column(sa.String(16), default="published")
    security_verdict: Mapped[str] = mapped_column(sa.String(16), default="pass")  # pass review unchecked
    moderation_reason: Mapped[str | None] = mapped_column(sa.String(255))
    moderated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    moderated_at: Mapped[datetime | None]
    answers_count: Mapped[int] = mapped_column(default=0)
    comments_count: Mapped[int] = mapped_column(default=0)
    likes_count: Mapped[int] = mapped_column(default=0)
    accepted_answer_id: Mapped[int | None] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("kind in ('question', 'review', 'photo', 'announcement')", name="kind"),
        sa.CheckConstraint("status in ('published', 'held', 'hidden')", name="status"),
        sa.Index("ix_estate_posts_feed", "estate_id", "status", "id"),
        sa.Index("ix_estate_posts_kind", "estate_id", "kind", "status", "id"),
        sa.Index("ix_estate_posts_unanswered", "estate_id", "id",
                 sqlite_where=sa.text("kind = 'question' AND status = 'published' AND answers_count = 0"),
                 postgresql_where=sa.text("kind = 'question' AND status = 'published' AND answers_count = 0")),
        sa.Index("ix_estate_posts_status", "status", "id"),
        sa.Index("ix_estate_posts_author", "author_id", "id"),
    )


class Answer(db.Model):
    __tablename__ = "post_answers"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("estate_posts.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(sa.String(2000))
    status: Mapped[str] = mapped_column(sa.String(16), default="published")
    security_verdict: Mapped[str] = mapped_column(sa.String(16), default="pass")
    accepted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("status in ('published', 'held', 'hidden')", name="status"),
        sa.Index("ix_post_answers_post", "post_id", "id"),
    )


class Comment(db.Model):
    __tablename__ = "post_comments"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("estate_posts.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(16), default="published")
    security_verdict: Mapped[str] = mapped_column(sa.String(16), default="pass")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("status in ('published', 'held', 'hidden')", name="status"),
        sa.Index("ix_post_comments_post", "post_id", "id"),
    )


class PostLike(db.Model):
    __tablename__ = "post_likes"

    post_id: Mapped[int] = mapped_column(sa.ForeignKey("estate_posts.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- engineer visit announcements and their bookable slots (接续排期) -------------------------------

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


class MediaCheck(db.Model):
    """A photo of a post sent to WeChat's asynchronous image check; its verdict arrives as a
    pushed `wxa_media_check` event carrying the trace_id."""

    __tablename__ = "media_checks"

    trace_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("estate_posts.id"), index=True)
    upload_name: Mapped[str] = mapped_column(sa.String(48))
    verdict: Mapped[str | None] = mapped_column(sa.String(16))  # pass review risky
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
