"""Partner organisations, their staff accounts, their listings (announcements and services) and
the residents who signed up for a listing in the platform."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import BigID, utcnow
from core.extensions import db


def one_of(column: str, values) -> str:
    """The SQL of a CHECK constraint: the column holds one of these values."""
    return f"{column} in ({', '.join(repr(v) for v in values)})"


PARTNER_STATUSES = ("pending", "approved", "rejected", "suspended")
# What everything a partner publishes goes through: pending (moderation) → published | rejected;
# the partner or an admin may withdraw a published item.
REVIEW_STATUSES = ("pending", "published", "rejected", "withdrawn")
LISTING_KINDS = ("announcement", "service")
SIGNUP_MODES = ("platform", "link", "none")
LEAD_STATUSES = ("new", "contacted", "closed")


class Partner(db.Model):
    """An organisation that brings its services into the estates (家政, 洗衣, 宠物, 社区团购, ...).
    It may reach only the estates its `reach_rule` matches (a targeting rule, as offers use)."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)  # names the partner in the order integration
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    category: Mapped[str] = mapped_column(sa.String(32))
    description: Mapped[str] = mapped_column(sa.String(1000), default="")
    logo: Mapped[str | None] = mapped_column(sa.String(48))  # an upload's name
    contact_name: Mapped[str] = mapped_column(sa.String(32))
    contact_phone: Mapped[str] = mapped_column(sa.String(20))
    reach_rule: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # community.profiles rule
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    # Who applied from the mini-program (POST /api/v1/partners/applications); None: entered by an admin.
    applicant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(one_of("status", PARTNER_STATUSES), name="status"),
        sa.Index("ix_partners_status", "status", "id"),
        sa.Index("ix_partners_applicant", "applicant_id", "id"),
    )


class PartnerStaff(db.Model):
    """A user who works for a partner (role `partner`); a user works for at most one partner."""

    __tablename__ = "partner_staff"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partners.id"), index=True)
    owner: Mapped[bool] = mapped_column(default=False)  # may add and remove the partner's staff
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PartnerListing(db.Model):
    """An announcement or a service a partner publishes; shown in estates through an offer."""

    __tablename__ = "partner_listings"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partners.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.String(2000), default="")
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)  # upload names
    price_fen: Mapped[int | None]  # a service's price; None: priced on request
    price_note: Mapped[str] = mapped_column(sa.String(64), default="")  # 起, /次, /小时
    signup_mode: Mapped[str] = mapped_column(sa.String(16), default="none")
    link_url: Mapped[str | None] = mapped_column(sa.String(500))  # signup_mode == "link"
    # Where and when the partner asks to be shown: a community.profiles rule (intersected with the
    # partner's reach) and a window; approving the listing puts it in an offer with them.
    audience_rule: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    show_from: Mapped[datetime | None]  # None: from approval
    show_until: Mapped[datetime | None]  # None: services.LISTING_DAYS after it starts
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(one_of("kind", LISTING_KINDS), name="kind"),
        sa.CheckConstraint(one_of("signup_mode", SIGNUP_MODES), name="signup_mode"),
        sa.CheckConstraint(one_of("status", REVIEW_STATUSES), name="status"),
        sa.CheckConstraint("price_fen IS NULL OR price_fen >= 0", name="price_fen"),
        sa.Index("ix_partner_listings_partner_status", "partner_id", "status", "id"),
        sa.Index("ix_partner_listings_status", "status", "id"),
    )


class PartnerLead(db.Model):
    """A resident who signed up in the platform for a partner's service: the partner's audience."""

    __tablename__ = "partner_leads"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    listing_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_listings.id"))
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partners.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estates.id"))
    contact_name: Mapped[str] = mapped_column(sa.String(32), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="new")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("listing_id", "user_id"),
        sa.CheckConstraint(one_of("status", LEAD_STATUSES), name="status"),
        sa.Index("ix_partner_leads_partner", "partner_id", "id"),
        sa.Index("ix_partner_leads_user", "user_id", "id"),
    )
