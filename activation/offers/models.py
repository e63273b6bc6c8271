"""Offers, the estates each one matches (precomputed), and what residents muted."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from activation.partners.models import one_of
from core.db import BigID, utcnow
from core.extensions import db

# kind → what ref_id names: coupon → coupon_templates, activity → activities, reward →
# points_rewards, partner_service / announcement → partner_listings.
OFFER_KINDS = ("coupon", "activity", "reward", "partner_service", "announcement")
# What a resident can mute (the notice of a new offer; the estate's list still shows it).
CATEGORIES = {"coupon": "coupon", "activity": "activity", "reward": "reward",
              "partner_service": "partner", "announcement": "partner"}
OFFER_STATUSES = ("draft", "published", "withdrawn")
# The notice fan-out after publishing, estate by estate in id order (resumable: notify_cursor is
# the last estate done, committed with its notices).
NOTIFY_STATES = ("none", "pending", "done")


class Offer(db.Model):
    """One thing shown in the estates its rule matches between `starts_at` and `ends_at`."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    ref_id: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(64))  # shown in the estate's list; defaults to the thing's name
    summary: Mapped[str] = mapped_column(sa.String(200), default="")
    rule: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # community.profiles rule ({} = every active estate)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partners.id"))  # a partner's offer (reach applies)
    matched: Mapped[int] = mapped_column(default=0)  # estates matched at the last refresh
    matched_at: Mapped[datetime | None]
    notify_state: Mapped[str] = mapped_column(sa.String(16), default="none")
    notify_cursor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    notified: Mapped[int] = mapped_column(default=0)  # residents told (subscribe message or inbox)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(one_of("kind", OFFER_KINDS), name="kind"),
        sa.CheckConstraint(one_of("status", OFFER_STATUSES), name="status"),
        sa.CheckConstraint(one_of("notify_state", NOTIFY_STATES), name="notify_state"),
        sa.CheckConstraint("starts_at < ends_at", name="times"),
        sa.Index("ix_offers_kind_ref", "kind", "ref_id"),
        sa.Index("ix_offers_status_ends", "status", "ends_at"),
    )


class OfferEstate(db.Model):
    """An estate an offer's rule matched at its last refresh: the estate's offer list is an index read."""

    __tablename__ = "offer_estates"

    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id"), primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"), primary_key=True)

    __table_args__ = (sa.Index("ix_offer_estates_estate", "estate_id", "offer_id"),)


class OfferMute(db.Model):
    """A resident who does not want to hear of new offers of a category."""

    __tablename__ = "offer_mutes"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
