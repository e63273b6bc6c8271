"""Subscribe-message quota, the outbox of WeChat sends, template pauses, and the in-app inbox."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import BigID, utcnow
from core.extensions import db


class SubscriptionQuota(db.Model):
    """How many messages of a template we may still send a user: +1 per acceptance in the
    mini-program's subscribe dialog, -1 per send; WeChat's 43101 zeroes it."""

    __tablename__ = "subscription_quotas"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    template_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    remaining: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.CheckConstraint("remaining >= 0", name="remaining"),
                      sa.Index("ix_subscription_quotas_template", "template_id", "user_id"),
                      # The console's quota per template reads only the users who hold some.
                      sa.Index("ix_subscription_quotas_holding", "template_id", "remaining",
                               sqlite_where=sa.text("remaining > 0"), postgresql_where=sa.text("remaining > 0")))


class Notification(db.Model):
    """A notice in a user's in-app inbox."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.String(500), default="")
    page: Mapped[str | None] = mapped_column(sa.String(128))  # where the mini-program opens it
    wechat: Mapped[bool] = mapped_column(default=False)  # also queued as a subscribe message
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.Index("ix_notifications_user", "user_id", "id"),
        sa.Index("ix_notifications_unread", "user_id", sqlite_where=sa.text("read_at IS NULL"),
                 postgresql_where=sa.text("read_at IS NULL")),
    )


OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "unknown")


class OutboxMessage(db.Model):
    """One subscribe message to send: written with the event, claimed by the sender in batches,
    sent with no database transaction open, its outcome recorded afterwards. `unknown`: WeChat may
    have delivered it (no answer to a sent request, or 43101 on a message reclaimed after a crash);
    it is never sent again (core.notifications.services)."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notifications.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    openid: Mapped[str] = mapped_column(sa.String(64))
    template_id: Mapped[str] = mapped_column(sa.String(64))
    page: Mapped[str | None] = mapped_column(sa.String(128))
    data: Mapped[dict] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    msgid: Mapped[str | None] = mapped_column(sa.String(32))
    last_error: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A staff resend of a failed (or maybe delivered) message: at most one per original.
    resent_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id"), unique=True)

    __table_args__ = (
        sa.CheckConstraint("status in ('pending', 'sending', 'sent', 'failed', 'unknown')", name="status"),
        sa.Index("ix_outbox_messages_due", "status", "next_attempt_at", "id"),
        sa.Index("ix_outbox_messages_status_id", "status", "id"),  # the console's list and counts by status
    )


class TemplatePause(db.Model):
    """A template WeChat rate-limited (45009): nothing of it is sent before `until`."""

    __tablename__ = "template_pauses"

    template_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    until: Mapped[datetime]
