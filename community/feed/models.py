"""The estate feed: questions, reviews, photo shares and announcements; answers, comments,
likes; WeChat's verdicts on the photos."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import BigID, utcnow
from core.extensions import db

POST_KINDS = ("question", "review", "photo", "announcement")
CONTENT_STATUSES = ("published", "held", "hidden")


class Post(db.Model):
    """A post in an estate's feed. `held`: content security asked for a human look (only the
    author sees it until an admin restores it); `hidden`: taken down by a moderator."""

    __tablename__ = "estate_posts"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # What the author was when writing (engineer, agent, admin, ambassador), shown beside the name;
    # None: a resident, shown as a neighbour.
    author_badge: Mapped[str | None] = mapped_column(sa.String(16))
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
    # A review shared to the feed by its author (kind "review"): once per review.
    review_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_reviews.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("kind in ('question', 'review', 'photo', 'announcement')", name="kind"),
        sa.CheckConstraint("status in ('published', 'held', 'hidden')", name="status"),
        sa.Index("ix_estate_posts_feed", "estate_id", "status", "id"),
        # The feed page's order (published and the caller's held posts, newest first): an index
        # range read, also for an estate whose posts are old (issue 15, migration d15a00000003).
        sa.Index("ix_estate_posts_estate_id_id", "estate_id", "id"),
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
    author_badge: Mapped[str | None] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.String(2000))
    status: Mapped[str] = mapped_column(sa.String(16), default="published")
    security_verdict: Mapped[str] = mapped_column(sa.String(16), default="pass")
    accepted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("status in ('published', 'held', 'hidden')", name="status"),
        sa.Index("ix_post_answers_post", "post_id", "id"),
        # The moderation queue and the dashboard's count of held items: the few held rows only.
        sa.Index("ix_post_answers_held", "id", sqlite_where=sa.text("status = 'held'"),
                 postgresql_where=sa.text("status = 'held'")),
    )


class Comment(db.Model):
    __tablename__ = "post_comments"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("estate_posts.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    author_badge: Mapped[str | None] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(16), default="published")
    security_verdict: Mapped[str] = mapped_column(sa.String(16), default="pass")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("status in ('published', 'held', 'hidden')", name="status"),
        sa.Index("ix_post_comments_post", "post_id", "id"),
        # The moderation queue and the dashboard's count of held items: the few held rows only.
        sa.Index("ix_post_comments_held", "id", sqlite_where=sa.text("status = 'held'"),
                 postgresql_where=sa.text("status = 'held'")),
    )


class PostLike(db.Model):
    __tablename__ = "post_likes"

    post_id: Mapped[int] = mapped_column(sa.ForeignKey("estate_posts.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
