"""The points ledger (accounts, transactions, postings, lots), earning rules, rewards, redemptions."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import BigID, utcnow
from core.extensions import db

# System accounts. The two sources (issuance, adjustments) go negative by design: they are where
# points come from. Every other account, each user's included, never does.
ISSUANCE, ADJUSTMENTS, HELD, REDEEMED, EXPIRED = "issuance", "adjustments", "held", "redeemed", "expired"
SYSTEM_ACCOUNTS = {ISSUANCE: True, ADJUSTMENTS: True, HELD: False, REDEEMED: False, EXPIRED: False}
Points = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class PointsAccount(db.Model):
    __tablename__ = "points_accounts"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    code: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    # Kept in the same transaction as every posting (a conditional UPDATE), so reads are a row.
    balance: Mapped[int] = mapped_column(Points, default=0)
    allow_negative: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("allow_negative OR balance >= 0", name="balance"),
        sa.CheckConstraint("(user_id IS NULL) <> (code IS NULL)", name="owner"),
    )


class LedgerTransaction(db.Model):
    """One movement of points: immutable (a database trigger refuses UPDATE and DELETE)."""

    __tablename__ = "points_transactions"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    # grant spend hold settle release reverse expire adjust, or the earning rule's kind (up to 32;
    # SQLite enforces no length, and its tables keep the 16 they were built with)
    kind: Mapped[str] = mapped_column(sa.String(32).with_variant(sa.String(16), "sqlite"))
    idempotency_key: Mapped[str] = mapped_column(sa.String(128), unique=True)
    # What the key promises: the same key must mean the same movement (else 409).
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("points_accounts.id"))
    amount: Mapped[int] = mapped_column(Points)
    reason: Mapped[str] = mapped_column(sa.String(255))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reverses_id: Mapped[int | None] = mapped_column(sa.ForeignKey("points_transactions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    postings: Mapped[list["Posting"]] = relationship(back_populates="transaction", lazy="selectin",
                                                     order_by="Posting.id")

    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount"),)


class Posting(db.Model):
    """One leg of a transaction; a transaction's postings sum to zero. Immutable."""

    __tablename__ = "points_postings"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("points_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("points_accounts.id"))
    amount: Mapped[int] = mapped_column(Points)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="postings")

    __table_args__ = (
        sa.CheckConstraint("amount <> 0", name="amount"),
        sa.Index("ix_points_postings_account_id_id", "account_id", "id"),
    )


class Lot(db.Model):
    """Points earned together, expiring together. `remaining` is what is still spendable."""

    __tablename__ = "points_lots"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("points_accounts.id"))
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("points_transactions.id"), index=True)
    amount: Mapped[int] = mapped_column(Points)
    remaining: Mapped[int] = mapped_column(Points)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining"),
        # Spending order: soonest expiry first, never-expiring last, oldest first among equals.
        sa.Index("ix_points_lots_spendable", "account_id", "expires_at", "id",
                 sqlite_where=sa.text("remaining > 0"), postgresql_where=sa.text("remaining > 0")),
        sa.Index("ix_points_lots_due", "expires_at", "id",
                 sqlite_where=sa.text("remaining > 0"), postgresql_where=sa.text("remaining > 0")),
    )


class LotUse(db.Model):
    """Which lots a debit took points from, so a release or a reversal puts them back. Immutable."""

    __tablename__ = "points_lot_uses"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    # No index on lot_id: uses are read by transaction only (migration d15a00000002).
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("points_lots.id"))
    transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("points_transactions.id"), index=True)
    amount: Mapped[int] = mapped_column(Points)  # > 0 taken from the lot, < 0 put back

    __table_args__ = (sa.CheckConstraint("amount <> 0", name="amount"),)


class Hold(db.Model):
    """Points set aside for a pending redemption: settled (spent) or released (returned)."""

    __tablename__ = "points_holds"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("points_accounts.id"))
    amount: Mapped[int] = mapped_column(Points)
    status: Mapped[str] = mapped_column(sa.String(16), default="held")  # held settled released
    hold_transaction_id: Mapped[int] = mapped_column(sa.ForeignKey("points_transactions.id"), unique=True)
    resolve_transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("points_transactions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("status in ('held', 'settled', 'released')", name="status"),
        sa.Index("ix_points_holds_account_held", "account_id",
                 sqlite_where=sa.text("status = 'held'"), postgresql_where=sa.text("status = 'held'")),
    )


class EarningRule(db.Model):
    """Event kind → points, with caps per user (Asia/Shanghai days). Admins edit these."""

    __tablename__ = "points_earning_rules"

    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    points: Mapped[int]
    daily_cap: Mapped[int | None]  # points per user per day
    lifetime_cap: Mapped[int | None]  # points per user ever
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("points >= 0", name="points"),
        sa.CheckConstraint("daily_cap IS NULL OR daily_cap >= 0", name="daily_cap"),
        sa.CheckConstraint("lifetime_cap IS NULL OR lifetime_cap >= 0", name="lifetime_cap"),
    )


class EarningCounter(db.Model):
    """Points a user earned by a rule in a period ('2026-11-25' or 'lifetime'): caps are
    conditional updates of this row, so they hold exactly under concurrency."""

    __tablename__ = "points_earning_counters"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    points: Mapped[int] = mapped_column(Points, default=0)


class Reward(db.Model):
    __tablename__ = "points_rewards"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(1000), default="")
    image_url: Mapped[str] = mapped_column(sa.String(500), default="")
    cost: Mapped[int] = mapped_column(Points)
    stock: Mapped[int | None]  # None: unlimited
    per_user_limit: Mapped[int | None]
    min_level: Mapped[int | None]  # None: everyone; else ambassadors of this level order and above
    # Redeemable only by residents of the estates a live offer of it matches (activation.offers),
    # in addition to min_level; asked through core.signals.reward_offered.
    offer_only: Mapped[bool] = mapped_column(default=False)
    auto_approve: Mapped[bool] = mapped_column(default=False)  # for trusted users (see services)
    auto_approve_min_level: Mapped[int | None]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("cost > 0", name="cost"),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name="stock"),
        sa.CheckConstraint("per_user_limit IS NULL OR per_user_limit > 0", name="per_user_limit"),
    )


REDEMPTION_STATUSES = ("pending", "approved", "fulfilled", "rejected", "cancelled", "voided")


class Redemption(db.Model):
    __tablename__ = "points_redemptions"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reward_id: Mapped[int] = mapped_column(sa.ForeignKey("points_rewards.id"))
    quantity: Mapped[int]
    points: Mapped[int] = mapped_column(Points)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    hold_id: Mapped[int] = mapped_column(sa.ForeignKey("points_holds.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(sa.String(255))  # why rejected / cancelled / voided
    note: Mapped[str | None] = mapped_column(sa.String(500))  # delivery note or voucher code
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decide_by: Mapped[datetime]  # voided automatically when still pending then
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    fulfilled_at: Mapped[datetime | None]

    reward: Mapped[Reward] = relationship(lazy="joined", innerjoin=True)
    events: Mapped[list["RedemptionEvent"]] = relationship(order_by="RedemptionEvent.id", lazy="select")

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity"),
        sa.CheckConstraint("status in ('pending', 'approved', 'fulfilled', 'rejected', 'cancelled', 'voided')",
                           name="status"),
        sa.Index("ix_points_redemptions_user_id_id", "user_id", "id"),
        sa.Index("ix_points_redemptions_status_id", "status", "id"),
        # The per-user limit's count (user, reward) uses ix_points_redemptions_user_id_id: a user
        # has few redemptions (migration d15a00000002 dropped the (user_id, reward_id) index).
        sa.Index("ix_points_redemptions_pending_due", "decide_by",
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
    )


class RedemptionEvent(db.Model):
    """Every step of a redemption with its actor and time (append-only)."""

    __tablename__ = "points_redemption_events"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    redemption_id: Mapped[int] = mapped_column(sa.ForeignKey("points_redemptions.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingGrant(db.Model):
    """Points promised but not yet spendable (an order's points inside its refund window):
    not in the ledger until released, when they are granted under the same idempotency key;
    cancelled (a refund inside the window) they never were points."""

    __tablename__ = "points_pending_grants"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(Points)
    kind: Mapped[str] = mapped_column(sa.String(32))
    idempotency_key: Mapped[str] = mapped_column(sa.String(128), unique=True)
    reason: Mapped[str] = mapped_column(sa.String(255))
    release_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # pending released cancelled
    transaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("points_transactions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount"),
        sa.CheckConstraint("status in ('pending', 'released', 'cancelled')", name="status"),
        sa.Index("ix_points_pending_grants_due", "release_at",
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
        sa.Index("ix_points_pending_grants_user", "user_id", "status"),
    )
