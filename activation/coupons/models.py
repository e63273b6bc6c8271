"""Coupon templates, the coupons issued from them, and each use of a coupon (a refund within the
window restores it, so a coupon may have several uses of which at most one stands)."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from activation.partners.models import one_of
from core.db import BigID, utcnow
from core.extensions import db

DISCOUNT_KINDS = ("amount", "percent")  # amount_fen off; or percent off, at most cap_fen
TEMPLATE_STATUSES = ("active", "paused", "ended")
# How a coupon came to its holder: claimed in the mini-program (领券), a rule (taking part in an
# activity, writing a review, a first steward binding), or an admin's grant to a segment.
COUPON_SOURCES = ("claim", "activity", "review", "binding", "grant")
# available → locked (held by a service request) → used; locked → available (request cancelled);
# used → available (refunded within the window, before it expired); available → expired (job);
# void: withdrawn by an admin.
COUPON_STATUSES = ("available", "locked", "used", "expired", "void")
USE_KINDS = ("service_order", "external_order")
# Events that issue a template's coupon by themselves (the admin picks the template; at most one
# template per event at a time): a review written (whatever its rating), a first steward binding.
AUTO_ISSUE = ("review", "binding")


class CouponTemplate(db.Model):
    """What a coupon is worth and who may hold how many. Stock counts issued coupons and never
    exceeds `total_stock` (a conditional UPDATE of `issued`)."""

    __tablename__ = "coupon_templates"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    kind: Mapped[str] = mapped_column(sa.String(16))
    amount_fen: Mapped[int | None]  # kind == "amount"
    percent_off: Mapped[int | None]  # kind == "percent": 1..90 (15 = 15% off, 八五折)
    cap_fen: Mapped[int | None]  # kind == "percent": the largest discount
    min_spend_fen: Mapped[int] = mapped_column(default=0)
    service_types: Mapped[list] = mapped_column(sa.JSON, default=list)  # SERVICE_TYPES; [] = every type
    valid_from: Mapped[date | None]  # fixed dates (both set) ...
    valid_until: Mapped[date | None]
    valid_days: Mapped[int | None]  # ... or N days from issue (then both dates are NULL)
    total_stock: Mapped[int | None]  # None: unlimited
    issued: Mapped[int] = mapped_column(default=0)
    per_user_limit: Mapped[int] = mapped_column(default=1)
    claimable: Mapped[bool] = mapped_column(default=False)  # residents may claim it (领券) where it is offered
    auto_issue: Mapped[str | None] = mapped_column(sa.String(16))  # AUTO_ISSUE: issued on that event
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partners.id"))  # a partner's coupon
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(one_of("kind", DISCOUNT_KINDS), name="kind"),
        sa.CheckConstraint(one_of("status", TEMPLATE_STATUSES), name="status"),
        sa.CheckConstraint("(kind = 'amount' AND amount_fen > 0 AND percent_off IS NULL) OR "
                           "(kind = 'percent' AND percent_off BETWEEN 1 AND 90 AND amount_fen IS NULL)", name="value"),
        sa.CheckConstraint("cap_fen IS NULL OR cap_fen > 0", name="cap_fen"),
        sa.CheckConstraint("min_spend_fen >= 0", name="min_spend_fen"),
        sa.CheckConstraint("(valid_days IS NULL AND valid_from IS NOT NULL AND valid_until IS NOT NULL "
                           "AND valid_from <= valid_until) OR "
                           "(valid_days BETWEEN 1 AND 3650 AND valid_from IS NULL AND valid_until IS NULL)",
                           name="validity"),
        sa.CheckConstraint("total_stock IS NULL OR total_stock >= 0", name="total_stock"),
        sa.CheckConstraint("total_stock IS NULL OR issued <= total_stock", name="stock_held"),
        sa.CheckConstraint("per_user_limit BETWEEN 1 AND 100", name="per_user_limit"),
        sa.CheckConstraint(one_of("auto_issue", AUTO_ISSUE), name="auto_issue"),
        sa.UniqueConstraint("auto_issue"),  # NULLs are distinct: one template per event
    )


class Coupon(db.Model):
    """One coupon held by one resident. `slot` (1..per_user_limit) makes the per-user limit a
    unique index, so concurrent claims cannot exceed it; `issue_key` makes a rule's or a grant's
    issue idempotent (review:<id>, activity:<id>:<user>, binding:<user>, grant:<id>:<user>)."""

    __tablename__ = "coupons"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)  # opaque; what a cashier or the service system quotes
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("coupon_templates.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estates.id"))  # the holder's estate at issue (the report)
    slot: Mapped[int]
    source: Mapped[str] = mapped_column(sa.String(16))
    issue_key: Mapped[str | None] = mapped_column(sa.String(96), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="available")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_from: Mapped[date]
    expires_on: Mapped[date]  # the last day it may be used (Asia/Shanghai)
    locked_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_orders.id"))
    used_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # the holder was told it expires soon (once)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("template_id", "user_id", "slot"),
        sa.CheckConstraint(one_of("source", COUPON_SOURCES), name="source"),
        sa.CheckConstraint(one_of("status", COUPON_STATUSES), name="status"),
        sa.CheckConstraint("slot >= 1", name="slot"),
        sa.Index("ix_coupons_user_status", "user_id", "status", "expires_on"),
        sa.Index("ix_coupons_template_estate", "template_id", "estate_id"),
        sa.Index("ix_coupons_available_expiry", "expires_on", sqlite_where=sa.text("status = 'available'"),
                 postgresql_where=sa.text("status = 'available'")),
        sa.Index("ix_coupons_locked_order", "locked_order_id"),
    )


class CouponUse(db.Model):
    """A coupon used against a platform service order or an order of the manufacturer's systems
    (the signed redeem call; `request_key` makes it idempotent). At most one use of a coupon
    stands (not refunded)."""

    __tablename__ = "coupon_uses"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(sa.ForeignKey("coupons.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    service_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_orders.id"))
    external_order_id: Mapped[str | None] = mapped_column(sa.String(64))
    request_key: Mapped[str | None] = mapped_column(sa.String(96), unique=True)  # integration: source + order id
    order_amount_fen: Mapped[int | None]
    discount_fen: Mapped[int]  # the discount given (face value, or computed on the order amount)
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estates.id"))
    partner_code: Mapped[str | None] = mapped_column(sa.String(32))
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    refunded_at: Mapped[datetime | None]

    __table_args__ = (
        sa.CheckConstraint(one_of("kind", USE_KINDS), name="kind"),
        sa.CheckConstraint("discount_fen >= 0", name="discount_fen"),
        sa.Index("uq_coupon_uses_standing", "coupon_id", unique=True,
                 sqlite_where=sa.text("refunded_at IS NULL"), postgresql_where=sa.text("refunded_at IS NULL")),
        sa.Index("ix_coupon_uses_estate_used", "estate_id", "used_at"),
    )
