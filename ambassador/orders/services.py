"""Value sharing: orders from the manufacturer's order system pay the resident's steward and
inviter by rule, pending for the refund window (docs/ambassador-orders.md).

- An order is stored once per `external_id` (insert-or-conflict: concurrent duplicates wait on
  the unique key and then find the first), so it pays at most once.
- The resident is matched by openid (in this app), else unionid, else phone; an unmatched order
  is stored and pays nothing. A paid order of a resident with a steward is their first real
  service for referrals (`ambassador.referrals.services.qualify`).
- Points are promised with `points.services.earn_pending` under `order:<external_id>:<role>`
  and released by the points job after ORDER_REFUND_WINDOW_DAYS; contribution follows the
  points when they are released (`points_released`, a receiver of core.signals).
- A refund cancels pending promises and reverses released ones (taking what the balance still
  holds; the shortfall is audited and shown on the order).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ambassador.levels import services as levels
from ambassador.models import Ambassador
from ambassador.orders.models import Order
from ambassador.referrals import services as referrals
from community.stewards import services as stewards
from core import audit, signals
from core.accounts.models import User, WeChatIdentity
from core.db import MAX_ID, insert_or_nothing, utcnow
from core.errors import Conflict, NotFound, invalid
from core.extensions import db
from core.pagination import Page, paginate
from points import rules, services as points

ROLES = (("steward", rules.ORDER_STEWARD), ("inviter", rules.ORDER_INVITER))
ORDER_KINDS = frozenset(kind for _, kind in ROLES)
STATUS_LABELS = {"paid": "已支付", "refunded": "已退款"}
PAYOUT_LABELS = {"pending": "待入账", "released": "已入账", "cancelled": "已取消", "reversed": "已冲回",
                 "unpaid": "未计发"}


def payout_key(external_id: str, role: str) -> str:
    return f"order:{external_id}:{role}"


# -- who the order concerns --------------------------------------------------------------------

def _only(user_ids) -> int | None:
    """The one user these rows name; None when none or several (an ambiguous match pays no one)."""
    found = set(user_ids)
    return found.pop() if len(found) == 1 else None


def match_resident(resident: dict) -> int | None:
    """openid in this app, else unionid, else phone; each must name exactly one user."""
    if resident.get("openid"):
        user_id = db.session.scalar(sa.select(WeChatIdentity.user_id).where(
            WeChatIdentity.appid == current_app.config["WECHAT_APPID"],
            WeChatIdentity.openid == resident["openid"]))
        if user_id is not None:
            return user_id
    if resident.get("unionid"):
        user_id = _only(db.session.scalars(sa.select(WeChatIdentity.user_id).where(
            WeChatIdentity.unionid == resident["unionid"]).limit(2)))
        if user_id is not None:
            return user_id
    if resident.get("phone"):
        return _only(db.session.scalars(sa.select(User.id).where(
            User.phone == resident["phone"], User.status == "active").limit(2)))
    return None


# -- receiving ---------------------------------------------------------------------------------

def get_order(order_id: int) -> Order:
    order = db.session.get(Order, order_id) if 0 < order_id <= MAX_ID else None
    if order is None:
        raise NotFound("订单不存在", code="order_not_found")
    return order


def _by_external_id(external_id: str) -> Order:
    return db.session.scalars(sa.select(Order).where(Order.external_id == external_id)
                              .execution_options(populate_existing=True)).one()


def receive_order(data: dict) -> Order:
    """Store an order message (`paid` or `refunded`) and move what it moves, at most once.

    `data`: external_id, status, amount_fen, paid_at, resident {phone, openid, unionid}, items,
    partner_code. A repeated message changes nothing and returns the stored order; a `refunded`
    message for an order not seen before stores it as refunded, so a later `paid` for it pays
    nothing.

    `partner_code` names the ecosystem partner whose service was ordered: a `paid` message must
    name an approved partner (asked through core.signals.partner_known, since partners live in a
    higher feature) or it is refused (422); a `refunded` one is never refused for it (a refund must
    land) and keeps the code only when it is known. It changes nobody's earnings: the steward and
    the inviter are paid exactly as for any order.
    """
    now = utcnow()
    partner_code = _partner_code(data.get("partner_code"), refusing=data["status"] == "paid")
    resident_id = match_resident(data["resident"])
    paid = data["status"] == "paid"
    steward_id = stewards.steward_user_id(resident_id) if paid and resident_id else None
    order = insert_or_nothing(Order, {
        "external_id": data["external_id"], "status": data["status"], "amount_fen": data["amount_fen"],
        "paid_at": data["paid_at"], "refunded_at": None if paid else now, "resident_id": resident_id,
        "steward_user_id": steward_id, "inviter_id": None, "items": data.get("items") or [],
        "partner_code": partner_code, "created_at": now, "updated_at": now}, conflict=["external_id"])
    if order is not None:
        if paid:
            _pay(order, now)
        return order
    order = _by_external_id(data["external_id"])  # seen before (or a concurrent twin committed it)
    if paid:
        if order.amount_fen != data["amount_fen"] and order.status == "paid":
            raise Conflict("该订单号已以不同金额提交过", code="order_conflict",
                           details={"external_id": order.external_id, "amount": yuan(order.amount_fen)})
        return order
    refund_order(order, now)
    return order


def _partner_code(code: str | None, *, refusing: bool) -> str | None:
    if not code:
        return None
    if signals.ask(signals.partner_known, default=False, code=code):
        return code
    if refusing:
        raise invalid("partner_code", "合作伙伴编码不存在或该伙伴未在合作中")
    return None


def _pay(order: Order, now: datetime) -> None:
    if order.resident_id is None:
        return
    if order.steward_user_id is not None:
        # First, as it may flag the pair (shared phone or unionid): a flagged inviter is not paid.
        referrals.qualify(order.resident_id, "service", now=now)
    order.inviter_id = referrals.payable_inviter(order.resident_id)
    db.session.flush()
    quantity = order.amount_fen // 100  # points are per whole yuan
    # The refund window runs from payment (a payment time in the future counts from now).
    release_at = min(order.paid_at, now) + timedelta(days=current_app.config["ORDER_REFUND_WINDOW_DAYS"])
    for (role, kind), user_id in zip(ROLES, (order.steward_user_id, order.inviter_id)):
        if user_id is None or quantity <= 0:
            continue
        reason = f"订单 {order.external_id}（{yuan(order.amount_fen)} 元）{'管家' if role == 'steward' else '邀请'}奖励"
        try:
            points.earn_pending(user_id, kind, payout_key(order.external_id, role), reason,
                                release_at=release_at, quantity=quantity)
        except points.EarningRefused:
            pass  # rule disabled or cap reached: the order stands, this party is not paid (shown as unpaid)


def refund_order(order: Order, now: datetime | None = None) -> bool:
    """Reverse what a paid order paid, once; False when it was refunded before."""
    now = now or utcnow()
    if not db.session.execute(sa.update(Order).where(Order.id == order.id, Order.status == "paid").values(
            status="refunded", refunded_at=now, updated_at=now)).rowcount:
        db.session.refresh(order)
        return False
    db.session.refresh(order)
    outcome = {}
    for role, _kind in ROLES:
        taken = points.take_back(payout_key(order.external_id, role), f"订单 {order.external_id} 退款")
        if taken.state == "none":
            continue
        outcome[role] = {"user_id": taken.user_id, "points": taken.amount, "state": taken.state,
                         "taken": taken.taken, "shortfall": taken.shortfall}
        if taken.state == "reversed":
            _debit_contribution(taken.user_id, taken.amount, taken.released_at)
    audit.record(None, "ambassador.order.refund", "order", order.id, before={"status": "paid"},
                 after={"status": "refunded", "payouts": outcome})
    return True


# -- contribution follows the points -----------------------------------------------------------

def points_released(sender, *, user_id: int, kind: str, amount: int, key: str) -> None:
    """signals.points_released: an order's points, released after the refund window, count as
    contribution from then (levels.credit records nothing for someone who is not an ambassador)."""
    if kind in ORDER_KINDS:
        levels.credit(user_id, amount)


def _debit_contribution(user_id: int, amount: int, released_at: datetime) -> None:
    """Take back the contribution a release credited: only when the user was an ambassador at
    release (credit records nothing for others), on the day it was credited."""
    joined_at = db.session.scalar(sa.select(Ambassador.joined_at).where(Ambassador.user_id == user_id))
    if joined_at is not None and joined_at <= released_at:
        levels.credit(user_id, -amount, at=released_at)


# -- reading -----------------------------------------------------------------------------------

def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@dataclass
class Payout:
    role: str  # steward | inviter
    user_id: int
    points: int  # promised
    state: str  # pending | released | cancelled | reversed | unpaid
    release_at: datetime | None = None
    grant_transaction_id: int | None = None
    reversal_transaction_id: int | None = None
    taken_back: int = 0
    shortfall: int = 0


def payouts(order: Order) -> list[Payout]:
    """What the order paid to whom, and where each promise stands."""
    result = []
    for (role, _kind), user_id in zip(ROLES, (order.steward_user_id, order.inviter_id)):
        if user_id is None:
            continue
        grant = points.pending_by_key(payout_key(order.external_id, role))
        if grant is None:
            result.append(Payout(role, user_id, 0, "unpaid"))
            continue
        payout = Payout(role, grant.user_id, grant.amount, grant.status, grant.release_at, grant.transaction_id)
        if grant.transaction_id is not None:
            reversal = points.reversal_of(grant.transaction_id)
            if reversal is not None or order.status == "refunded":
                payout.state = "reversed"
                payout.reversal_transaction_id = reversal.id if reversal else None
                payout.taken_back = reversal.amount if reversal else 0
                payout.shortfall = grant.amount - payout.taken_back
        result.append(payout)
    return result


def partner_order_stats(partner_code: str) -> dict:
    """What orders named this partner (its dashboard): paid and refunded counts, paid amount."""
    row = db.session.execute(sa.select(
        sa.func.count().filter(Order.status == "paid"),
        sa.func.coalesce(sa.func.sum(Order.amount_fen).filter(Order.status == "paid"), 0),
        sa.func.count().filter(Order.status == "refunded")).where(Order.partner_code == partner_code)).one()
    return {"paid": row[0], "paid_amount_fen": int(row[1]), "refunded": row[2]}


def list_orders(*, q: str | None = None, resident: str | None = None, status: str | None = None,
                partner_code: str | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    """Orders, newest first: `q` an external id (or its beginning), `resident` a user id or phone,
    `partner_code` the partner named."""
    stmt = sa.select(Order)
    if partner_code:
        stmt = stmt.where(Order.partner_code == partner_code)
    if q:
        stmt = stmt.where(Order.external_id.startswith(q.strip(), autoescape=True))
    if resident:
        resident = resident.strip()
        ids = sa.select(User.id).where(User.phone == resident)
        stmt = stmt.where(Order.resident_id.in_(ids) if not resident.isdigit() or len(resident) > 12 else
                          sa.or_(Order.resident_id == int(resident), Order.resident_id.in_(ids)))
    if status:
        stmt = stmt.where(Order.status == status)
    return paginate(stmt, [Order.id], limit=limit, cursor=cursor)
