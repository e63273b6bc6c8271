"""Points: earning rules, rewards and redemptions on top of the ledger.

Other packages use only this module's functions: `grant`, `spend`, `hold`, `settle`, `release`,
`reverse` (from points.ledger), `balance`, `earn` (a grant by an earning rule, with caps) and the
pending grants at the end (`earn_pending`, `release_pending`, `cancel_pending`, `take_back`).
Points never depend on what a review says: China's Provisional Provisions against Unfair
Competition on the Internet (2024-09-01, Art. 9) forbid rewarding positive reviews, so `earn`
takes no rating and the rules pay a fixed amount per event.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app

from core import audit, checkpoint, signals
from core.accounts.models import User
from core.db import UTCDateTime, insert_or_nothing, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import BUSINESS_TZ, localtime
from core.notifications import services as notifications
from core.pagination import Page, paginate
from points import ledger
from points.ledger import Balance, IdempotencyConflict, InsufficientPoints, Posted, expire_due, grant, hold, release, reverse, settle, spend  # noqa: F401
from points.models import (
    EarningCounter,
    EarningRule,
    Hold,
    LedgerTransaction,
    PendingGrant,
    PointsAccount,
    Posting,
    Redemption,
    RedemptionEvent,
    Reward,
)

# -- levels -----------------------------------------------------------------------------------

def level_of(user_id: int) -> int | None:
    """The user's ambassador level position, for rewards offered to a level and above (the
    ambassador feature answers core.signals.ambassador_level; without it nobody has a level)."""
    return signals.ask(signals.ambassador_level, user_id=user_id)


# -- earning rules ----------------------------------------------------------------------------

class EarningRefused(Conflict):
    """A grant by rule that the rules refuse; `code` says why (disabled, daily or lifetime cap)."""


def rules() -> list[EarningRule]:
    return list(db.session.scalars(sa.select(EarningRule).order_by(EarningRule.kind)))


def get_rule(kind: str) -> EarningRule:
    rule = db.session.get(EarningRule, kind)
    if rule is None:
        raise NotFound("积分规则不存在", code="rule_not_found")
    return rule


RULE_FIELDS = ("name", "points", "daily_cap", "lifetime_cap", "enabled")


def update_rule(kind: str, data: dict, actor: User) -> EarningRule:
    rule = get_rule(kind)
    before = {f: getattr(rule, f) for f in RULE_FIELDS}
    for field in RULE_FIELDS:
        if field in data:
            setattr(rule, field, data[field])
    for field in ("points", "daily_cap", "lifetime_cap"):
        value = getattr(rule, field)
        if value is not None and value < 0:
            raise ValidationFailed("积分规则有误", details={"fields": {field: ["不能小于 0"]}})
    db.session.flush()
    audit.record(actor, "points.rule.update", "earning_rule", kind, before=before,
                 after={f: getattr(rule, f) for f in RULE_FIELDS})
    return rule


def _count(user_id: int, kind: str, period: str, amount: int, cap: int) -> bool:
    """Add `amount` to the user's counter of `kind` in `period` unless it would pass `cap`."""
    insert_or_nothing(EarningCounter, {"user_id": user_id, "kind": kind, "period": period, "points": 0},
                      conflict=["user_id", "kind", "period"])
    return bool(db.session.execute(sa.update(EarningCounter).where(
        EarningCounter.user_id == user_id, EarningCounter.kind == kind, EarningCounter.period == period,
        EarningCounter.points + amount <= cap).values(points=EarningCounter.points + amount)).rowcount)


def _uncount(user_id: int, kind: str, period: str, amount: int) -> None:
    db.session.execute(sa.update(EarningCounter).where(
        EarningCounter.user_id == user_id, EarningCounter.kind == kind, EarningCounter.period == period
    ).values(points=EarningCounter.points - amount))


def _enabled_rule(kind: str) -> EarningRule:
    rule = db.session.get(EarningRule, kind)
    if rule is None or not rule.enabled or rule.points <= 0:
        raise EarningRefused("该项积分暂未开放", code="earning_rule_disabled", details={"kind": kind})
    return rule


def _count_within_caps(user_id: int, rule: EarningRule, amount: int) -> list[str]:
    """Count `amount` against the rule's lifetime and daily caps; returns the periods counted
    (`_uncount_all` takes them back when a concurrent twin wins the key). A cap that would be
    passed takes back what was counted and raises EarningRefused. The counters are conditional
    updates, so the caps hold exactly under concurrency."""
    counted = []
    caps = (("lifetime", rule.lifetime_cap, "earning_lifetime_cap", "该项积分已达累计上限"),
            (utcnow().astimezone(BUSINESS_TZ).date().isoformat(), rule.daily_cap, "earning_daily_cap",
             "今日该项积分已达上限"))
    for period, cap, code, message in caps:
        if cap is None:
            continue
        if not _count(user_id, rule.kind, period, amount, cap):
            _uncount_all(user_id, rule.kind, counted, amount)
            raise EarningRefused(message, code=code, details={"kind": rule.kind, "cap": cap})
        counted.append(period)
    return counted


def _uncount_all(user_id: int, kind: str, periods: list[str], amount: int) -> None:
    for period in periods:
        _uncount(user_id, kind, period, amount)


def earn(user_id: int, kind: str, key: str, reason: str, *, quantity: int = 1) -> Posted:
    """Grant the points the rule `kind` pays (× quantity), within its daily and lifetime caps.

    The same key again returns the first grant. A refusal (rule disabled, cap reached) raises
    EarningRefused and leaves nothing written, so the caller's own work can go on.
    """
    rule = _enabled_rule(kind)
    amount = rule.points * quantity
    account = ledger.account_id_of(user_id)
    # The same key is the same event: its first grant again, whatever the rule pays now (an admin
    # may have changed it since). Another kind or user under the key is still a conflict.
    paid = db.session.scalar(sa.select(LedgerTransaction.amount).where(LedgerTransaction.idempotency_key == key))
    if paid is not None:
        return ledger._existing(key, kind, account, paid)
    counted = _count_within_caps(user_id, rule, amount)
    posted = grant(user_id, amount, kind, key, reason)
    if not posted.created:  # a concurrent twin granted this key first: its count stands, ours goes
        _uncount_all(user_id, kind, counted, amount)
    return posted


# -- manual adjustments and reversals (admins; audited) -----------------------------------------

def _adjust_key(actor: User, key: str | None) -> str:
    """The ledger key of a manual adjustment. A client's key (an Idempotency-Key, a form's one-time
    key) is the acting admin's, as in core.idempotency: two admins may pick the same one."""
    if key is None:
        return f"adjust:{uuid.uuid4().hex}"
    scoped = f"adjust:{actor.id}:{key}"
    if len(scoped) > 128:  # the ledger's key column
        scoped = f"adjust:{actor.id}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return scoped


def adjust(user_id: int, amount: int, reason: str, actor: User, key: str | None = None) -> Posted:
    """Grant (amount > 0) or deduct (amount < 0) with a mandatory reason; audited."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("调整积分必须填写原因", details={"fields": {"reason": ["必填"]}})
    if amount == 0:
        raise ValidationFailed("调整数量不能为 0", details={"fields": {"amount": ["不能为 0"]}})
    if db.session.get(User, user_id) is None:
        raise NotFound("用户不存在", code="user_not_found")
    posted = ledger.adjust(user_id, amount, _adjust_key(actor, key), reason, actor_id=actor.id)
    if posted.created:
        audit.record(actor, "points.adjust", "user", user_id,
                     after={"amount": amount, "reason": reason, "transaction_id": posted.transaction_id})
    return posted


def reverse_transaction(transaction_id: int, reason: str, actor: User) -> Posted:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("冲正必须填写原因", details={"fields": {"reason": ["必填"]}})
    posted = reverse(transaction_id, reason, actor_id=actor.id)
    if posted.created:
        audit.record(actor, "points.reverse", "points_transaction", transaction_id,
                     after={"reason": reason, "transaction_id": posted.transaction_id})
    return posted


# -- history ----------------------------------------------------------------------------------

def entries(user_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """A user's postings, newest first, with their transaction's kind and reason."""
    account = db.session.scalar(sa.select(PointsAccount.id).where(PointsAccount.user_id == user_id))
    stmt = sa.select(Posting.id, Posting.amount, LedgerTransaction.id.label("transaction_id"),
                     LedgerTransaction.kind, LedgerTransaction.reason, LedgerTransaction.created_at).join(
        LedgerTransaction, LedgerTransaction.id == Posting.transaction_id).where(Posting.account_id == (account or 0))
    return paginate(stmt, [Posting.id], limit=limit, cursor=cursor, scalars=False)


# -- lookups for other packages (they never read the ledger's tables) ----------------------------

def granted(keys) -> dict[str, int]:
    """The amount of each transaction posted under one of `keys` (keys never posted are absent)."""
    keys = list(keys)
    if not keys:
        return {}
    return dict(db.session.execute(sa.select(LedgerTransaction.idempotency_key, LedgerTransaction.amount)
                                   .where(LedgerTransaction.idempotency_key.in_(keys))).all())


def posted_clause(key: sa.ColumnElement) -> sa.ColumnElement:
    """A SQL condition: a transaction was posted under the key `key` computes (for filters)."""
    return sa.exists().where(LedgerTransaction.idempotency_key == key)


def earned_total(user_id: int, kinds, key_prefix: str) -> int:
    """Points granted to a user by transactions of `kinds` whose keys start with `key_prefix`."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerTransaction.amount), 0)).join(
        PointsAccount, PointsAccount.id == LedgerTransaction.account_id).where(
        PointsAccount.user_id == user_id, LedgerTransaction.kind.in_(list(kinds)),
        LedgerTransaction.idempotency_key.like(key_prefix.replace("%", r"\%") + "%"))))


def reversal_of(transaction_id: int) -> LedgerTransaction | None:
    """The transaction that reversed `transaction_id`, if one did."""
    return db.session.scalars(sa.select(LedgerTransaction).where(
        LedgerTransaction.reverses_id == transaction_id)).first()


# -- rewards ----------------------------------------------------------------------------------

REWARD_FIELDS = ("name", "description", "image_url", "cost", "stock", "per_user_limit", "min_level",
                 "offer_only", "auto_approve", "auto_approve_min_level", "starts_at", "ends_at", "active")


def _check_reward(reward: Reward) -> None:
    errors = {}
    if not (reward.name or "").strip():
        errors["name"] = ["必填"]
    if reward.cost is None or reward.cost <= 0:
        errors["cost"] = ["应大于 0"]
    if reward.stock is not None and reward.stock < 0:
        errors["stock"] = ["不能小于 0"]
    if reward.per_user_limit is not None and reward.per_user_limit <= 0:
        errors["per_user_limit"] = ["应大于 0"]
    if reward.starts_at and reward.ends_at and reward.ends_at <= reward.starts_at:
        errors["ends_at"] = ["应晚于开始时间"]
    if errors:
        raise ValidationFailed("奖品信息有误", details={"fields": errors})


def _reward_state(reward: Reward) -> dict:
    return {f: getattr(reward, f) for f in REWARD_FIELDS}


def create_reward(data: dict, actor: User) -> Reward:
    reward = Reward(**{k: v for k, v in data.items() if k in REWARD_FIELDS})
    _check_reward(reward)
    db.session.add(reward)
    db.session.flush()
    audit.record(actor, "points.reward.create", "reward", reward.id, after=_reward_state(reward))
    return reward


def update_reward(reward: Reward, data: dict, actor: User) -> Reward:
    before = _reward_state(reward)
    for key, value in data.items():
        if key in REWARD_FIELDS:
            setattr(reward, key, value)
    _check_reward(reward)
    db.session.flush()
    audit.record(actor, "points.reward.update", "reward", reward.id, before=before, after=_reward_state(reward))
    return reward


def get_reward(reward_id: int) -> Reward:
    reward = db.session.get(Reward, reward_id)
    if reward is None:
        raise NotFound("奖品不存在", code="reward_not_found")
    return reward


def _on_offer(now: datetime):
    return sa.and_(Reward.active.is_(True), sa.or_(Reward.starts_at.is_(None), Reward.starts_at <= now),
                   sa.or_(Reward.ends_at.is_(None), Reward.ends_at > now))


def rewards_for(user_id: int) -> list[Reward]:
    """The rewards this user can redeem now (on offer, for their level, and — when `offer_only` —
    offered in an estate they live in: one question for all of them, core.signals.reward_offered)."""
    level = level_of(user_id)
    audience = Reward.min_level.is_(None) if level is None else sa.or_(
        Reward.min_level.is_(None), Reward.min_level <= level)
    found = list(db.session.scalars(sa.select(Reward).where(_on_offer(utcnow()), audience).order_by(
        Reward.cost, Reward.id)))
    offer_only = [r.id for r in found if r.offer_only]
    if not offer_only:
        return found
    offered = signals.ask(signals.reward_offered, default=set(), user_id=user_id, reward_ids=offer_only)
    return [r for r in found if not r.offer_only or r.id in offered]


def all_rewards(*, limit: int = 50, cursor: str | None = None) -> Page:
    return paginate(sa.select(Reward), [Reward.id], limit=limit, cursor=cursor)


# -- redemptions ------------------------------------------------------------------------------

def _trusted(user: User, reward: Reward) -> bool:
    """Auto-approval: verified (active) engineers, and ambassadors at or above the reward's level."""
    if not reward.auto_approve:
        return False
    if user.has_role("engineer"):
        return True
    level = level_of(user.id)
    return reward.auto_approve_min_level is not None and level is not None and level >= reward.auto_approve_min_level


def _event(redemption: Redemption, status: str, actor_id: int | None, note: str | None = None) -> None:
    db.session.add(RedemptionEvent(redemption_id=redemption.id, status=status, actor_id=actor_id, note=note))


def _check_redeemable(user: User, reward, now: datetime) -> None:
    """On offer now, and for this user when the reward has an audience (`reward`: a Reward, or a
    row with its columns)."""
    on_offer = reward.active and (reward.starts_at is None or reward.starts_at <= now) and (
        reward.ends_at is None or reward.ends_at > now)
    if not on_offer:
        raise Conflict("该奖品当前不可兑换", code="reward_unavailable")
    # The level is asked only when the reward has an audience: most rewards are for everyone.
    if reward.min_level is not None and ((level := level_of(user.id)) is None or level < reward.min_level):
        raise Forbidden("该奖品仅限相应等级的服务代言人兑换", code="reward_not_in_audience")
    if reward.offer_only and not signals.ask(signals.reward_offered, default=False, user_id=user.id, reward_id=reward.id):
        raise Forbidden("该奖品仅限活动小区的住户兑换", code="reward_not_offered")


def _per_user_limit_reached(reward, taken: int) -> Conflict:
    return Conflict(f"每人限兑 {reward.per_user_limit} 件", code="per_user_limit_reached",
                    details={"limit": reward.per_user_limit, "already": int(taken)})


def _out_of_stock() -> Conflict:
    return Conflict("奖品库存不足", code="out_of_stock")


def redeem(user: User, reward_id: int, quantity: int = 1) -> Redemption:
    """Hold the points and reserve the stock in one transaction: a pending redemption (approved at
    once for trusted users when the reward allows it). On PostgreSQL two statements
    (`_redeem_in_two_statements`), elsewhere the ORM and the ledger's statements: the same rows."""
    if quantity < 1:
        raise ValidationFailed("数量至少为 1", details={"fields": {"quantity": ["至少为 1"]}})
    if ledger.one_statement():
        return _redeem_in_two_statements(user, reward_id, quantity)
    reward = get_reward(reward_id)
    now = utcnow()
    _check_redeemable(user, reward, now)
    points = reward.cost * quantity
    # The hold's conditional debit locks the user's account row: this user's redemptions run one
    # at a time from here, so the per-user count below cannot be raced.
    held = hold(user.id, points, f"redemption:{uuid.uuid4().hex}", f"兑换「{reward.name}」×{quantity}",
                actor_id=user.id)
    if reward.per_user_limit is not None:
        taken = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Redemption.quantity), 0)).where(
            Redemption.user_id == user.id, Redemption.reward_id == reward.id,
            Redemption.status.in_(ACTIVE_STATUSES)))
        if taken + quantity > reward.per_user_limit:
            raise _per_user_limit_reached(reward, taken)
    if reward.stock is not None and not db.session.execute(sa.update(Reward).where(
            Reward.id == reward.id, Reward.stock >= quantity).values(stock=Reward.stock - quantity)).rowcount:
        raise _out_of_stock()
    redemption = Redemption(user_id=user.id, reward_id=reward.id, quantity=quantity, points=points, hold_id=held.id,
                            decide_by=now + timedelta(days=current_app.config["REDEMPTION_DECISION_DAYS"]))
    db.session.add(redemption)
    db.session.flush()
    _event(redemption, "pending", user.id)
    if _trusted(user, reward):
        _decide(redemption, "approved", None, "自动审核通过")
    db.session.flush()
    return redemption


ACTIVE_STATUSES = ("pending", "approved", "fulfilled")  # what counts against a reward's per-user limit
_rewards, _accounts = Reward.__table__, ledger._accounts
# Statement 1: the reward, and the user's account row locked (the lock of its lots, and of this
# user's redemptions: the per-user count in statement 2 cannot be raced).
_REWARD_LOCKING_ACCOUNT = sa.select(
    *(_rewards.c[name] for name in ("id", "name", "cost", "stock", "per_user_limit", "min_level", "offer_only",
                                    "auto_approve", "auto_approve_min_level", "active", "starts_at", "ends_at")),
    sa.select(_accounts.c.id).where(_accounts.c.user_id == sa.bindparam("user_id")).with_for_update()
    .scalar_subquery().label("account_id"),
).where(_rewards.c.id == sa.bindparam("reward_id"))
# Statement 2: the hold (points.ledger's CTEs) and the redemption, written only when the debit, the
# per-user limit and the stock (a conditional decrement) all pass; otherwise nothing but the
# claimed key and the debit, which the caller's rollback undoes, as on the portable path.
_REDEEM = ledger._typed(f"""
WITH {ledger.HOLD_DEBIT}, within_limit AS (
    SELECT coalesce(sum(quantity), 0) AS already,
           :per_user_limit IS NULL OR coalesce(sum(quantity), 0) + :quantity <= :per_user_limit AS ok
    FROM points_redemptions
    WHERE user_id = :user_id AND reward_id = :reward_id AND status IN {ACTIVE_STATUSES!r}
      AND :per_user_limit IS NOT NULL
), stock AS (
    UPDATE points_rewards SET stock = stock - :quantity
    WHERE id = :reward_id AND stock >= :quantity AND :stock_limited
      AND EXISTS (SELECT FROM debit) AND (SELECT ok FROM within_limit)
    RETURNING id
), go AS (
    SELECT tx.id FROM tx
    WHERE EXISTS (SELECT FROM debit) AND (SELECT ok FROM within_limit)
      AND (NOT :stock_limited OR EXISTS (SELECT FROM stock))
), {ledger.HOLD_WRITES}, redemption AS (
    INSERT INTO points_redemptions (user_id, reward_id, quantity, points, status, hold_id, created_at, decide_by)
    SELECT :user_id, :reward_id, :quantity, :amount, 'pending', hold.id, :now, :decide_by FROM hold
    RETURNING id, hold_id
), event AS (
    INSERT INTO points_redemption_events (redemption_id, status, actor_id, created_at)
    SELECT id, 'pending', :user_id, :now FROM redemption
)
SELECT EXISTS (SELECT FROM debit) AS debited, (SELECT already FROM within_limit) AS already,
       (SELECT ok FROM within_limit) AS within_limit, (SELECT sum(amount) FROM taken) AS from_lots,
       redemption.id AS redemption_id, redemption.hold_id
FROM (SELECT 1) AS one LEFT JOIN redemption ON true
""", **ledger.HOLD_TYPES, user_id=sa.BigInteger(), reward_id=sa.BigInteger(), quantity=sa.Integer(),
    per_user_limit=sa.Integer(), stock_limited=sa.Boolean(), decide_by=UTCDateTime())


def _redeem_in_two_statements(user: User, reward_id: int, quantity: int) -> Redemption:
    """`redeem` on PostgreSQL: the reward with the account locked, then everything it writes in
    one statement; refusals in the same order and with the same errors as the portable path."""
    now = utcnow()
    connection = db.session.connection()
    reward = connection.execute(_REWARD_LOCKING_ACCOUNT, {"reward_id": reward_id, "user_id": user.id}).first()
    if reward is None:
        raise NotFound("奖品不存在", code="reward_not_found")
    _check_redeemable(user, reward, now)
    account = reward.account_id or ledger.account_id_of(user.id)  # no account yet: no points either
    points = reward.cost * quantity
    decide_by = now + timedelta(days=current_app.config["REDEMPTION_DECISION_DAYS"])
    row = connection.execute(_REDEEM, {
        "key": f"redemption:{uuid.uuid4().hex}", "account": account, "amount": points,
        "reason": f"兑换「{reward.name}」×{quantity}"[:255], "actor_id": user.id, "now": now,
        "held": ledger.system_account_id(ledger.HELD), "user_id": user.id, "reward_id": reward.id,
        "quantity": quantity, "per_user_limit": reward.per_user_limit, "stock_limited": reward.stock is not None,
        "decide_by": decide_by}).one()
    if not row.debited:
        raise InsufficientPoints(details={"needed": points})
    if not row.within_limit:
        raise _per_user_limit_reached(reward, row.already)
    if row.redemption_id is None:
        raise _out_of_stock()
    if row.from_lots != points:
        raise RuntimeError(f"account {account}: lots hold {row.from_lots} of the {points} its balance allowed")
    # The row as written, without reading it back: a persistent object for the caller.
    redemption = Redemption(id=row.redemption_id, user_id=user.id, reward_id=reward.id, quantity=quantity,
                            points=points, status="pending", hold_id=row.hold_id, reason=None, note=None,
                            created_at=now, decide_by=decide_by, decided_at=None, decided_by_id=None,
                            fulfilled_at=None)
    sa.orm.make_transient_to_detached(redemption)
    db.session.add(redemption)
    if _trusted(user, reward):
        _decide(redemption, "approved", None, "自动审核通过")
        db.session.flush()
    return redemption


def get_redemption(redemption_id: int) -> Redemption:
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None:
        raise NotFound("兑换记录不存在", code="redemption_not_found")
    return redemption


STATUS_LABELS = {"pending": "待审核", "approved": "已通过", "fulfilled": "已发放", "rejected": "已拒绝",
                 "cancelled": "已取消", "voided": "已作废"}

_OUTCOMES = {"approved": ("pending",), "rejected": ("pending",), "cancelled": ("pending",),
             "voided": ("pending",), "fulfilled": ("approved",)}


def _decide(redemption: Redemption, to: str, actor: User | None, note: str | None) -> Redemption:
    """Move a redemption on exactly once: a conditional update, so two admins deciding at once
    resolve it once and the second gets a 409."""
    now = utcnow()
    values = {"status": to}
    if to == "fulfilled":
        values.update(fulfilled_at=now, note=note)
    else:
        values.update(decided_at=now, decided_by_id=getattr(actor, "id", None))
        if to != "approved":
            values["reason"] = note
    if not db.session.execute(sa.update(Redemption).where(
            Redemption.id == redemption.id, Redemption.status.in_(_OUTCOMES[to])).values(**values)).rowcount:
        db.session.refresh(redemption)
        raise Conflict(f"该兑换当前状态为「{STATUS_LABELS.get(redemption.status, redemption.status)}」，不能执行此操作",
                       code="redemption_already_decided",
                       details={"status": redemption.status})
    held = db.session.get(Hold, redemption.hold_id)
    reason = f"兑换#{redemption.id}"
    if to == "approved":
        settle(held, f"{reason} 审核通过", actor_id=getattr(actor, "id", None))
    elif to != "fulfilled":
        release(held, f"{reason} {dict(rejected='被拒绝', cancelled='已取消', voided='超时未处理')[to]}",
                actor_id=getattr(actor, "id", None))
        db.session.execute(sa.update(Reward).where(Reward.id == redemption.reward_id, Reward.stock.is_not(None))
                           .values(stock=Reward.stock + redemption.quantity))
    _event(redemption, to, getattr(actor, "id", None), note)
    db.session.refresh(redemption)
    return redemption


# The resident hears of every step someone else takes on their redemption (not of their own
# cancellation, nor of an approval at once, which the redeem answer shows): an inbox notice, and a
# subscribe message with the redemption template when they hold quota for it.
REDEMPTION_NOTICES = {  # status: (title, body)
    "approved": ("兑换已通过审核", "您兑换的{reward}已通过审核，我们会尽快发放。"),
    "rejected": ("兑换未通过审核", "您兑换的{reward}未通过审核，原因：{note}。{points} 积分已退回您的账户。"),
    "fulfilled": ("奖品已发放", "您兑换的{reward}已发放：{note}"),
    "voided": ("兑换已作废", "您兑换的{reward}超时未审核，已作废，{points} 积分已退回您的账户。"),
}


def _notify_resident(redemption: Redemption) -> None:
    """Tell the resident their redemption's new status, in the caller's transaction. The
    template's keywords (`tmpl_redemption_status`): thing1 the reward, phrase2 the status (已通过,
    已拒绝, 已发放, 已作废), thing3 the reason, the delivery note or what happened to the points,
    time4 when (Beijing time); core.notifications.fit keeps each inside WeChat's limits."""
    status = redemption.status
    note = " ".join(((redemption.note if status == "fulfilled" else redemption.reason) or "").split()).rstrip("。.")
    item = redemption.reward.name + (f"×{redemption.quantity}" if redemption.quantity > 1 else "")
    title, body = REDEMPTION_NOTICES[status]
    detail = {"approved": "等待发放", "rejected": note, "fulfilled": note, "voided": "积分已退回"}[status]
    notifications.notify(
        [redemption.user_id], kind="redemption", title=title,
        body=body.format(reward=f"「{item}」", note=note, points=redemption.points), purpose="redemption",
        page="pages/redemptions/index",
        data={"thing1": item, "phrase2": STATUS_LABELS[status], "thing3": detail, "time4": localtime(utcnow())})


def approve(redemption_id: int, actor: User) -> Redemption:
    redemption = _decide(get_redemption(redemption_id), "approved", actor, None)
    audit.record(actor, "points.redemption.approve", "redemption", redemption_id,
                 before={"status": "pending"}, after={"status": "approved"})
    _notify_resident(redemption)
    return redemption


def reject(redemption_id: int, actor: User, reason: str) -> Redemption:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("拒绝必须填写原因", details={"fields": {"reason": ["必填"]}})
    redemption = _decide(get_redemption(redemption_id), "rejected", actor, reason)
    audit.record(actor, "points.redemption.reject", "redemption", redemption_id,
                 before={"status": "pending"}, after={"status": "rejected", "reason": reason})
    _notify_resident(redemption)
    return redemption


def fulfil(redemption_id: int, actor: User, note: str) -> Redemption:
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("请填写发货单号、券码或备注", details={"fields": {"note": ["必填"]}})
    redemption = _decide(get_redemption(redemption_id), "fulfilled", actor, note)
    audit.record(actor, "points.redemption.fulfil", "redemption", redemption_id,
                 before={"status": "approved"}, after={"status": "fulfilled", "note": note})
    _notify_resident(redemption)
    return redemption


def cancel(redemption_id: int, user: User) -> Redemption:
    """The resident takes back a pending redemption (someone else's is a 404)."""
    redemption = db.session.get(Redemption, redemption_id)
    if redemption is None or redemption.user_id != user.id:
        raise NotFound("兑换记录不存在", code="redemption_not_found")
    return _decide(redemption, "cancelled", user, "用户取消")


def void_stale(limit: int = 200, now: datetime | None = None) -> int:
    """Void pending redemptions nobody decided in time; their points and stock return, and each
    resident is told."""
    now = now or utcnow()
    count = 0
    for redemption in db.session.scalars(sa.select(Redemption).where(
            Redemption.status == "pending", Redemption.decide_by <= now).order_by(Redemption.id).limit(limit)).all():
        try:
            with db.session.begin_nested():
                _notify_resident(_decide(redemption, "voided", None, "超时未审核，积分已退回"))
            count += 1
        except Conflict:  # decided meanwhile
            pass
    return count


def redemptions_of(user_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    return paginate(sa.select(Redemption).where(Redemption.user_id == user_id), [Redemption.id],
                    limit=limit, cursor=cursor)


def list_redemptions(*, status: str | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    stmt = sa.select(Redemption)
    if status:
        stmt = stmt.where(Redemption.status == status)
    return paginate(stmt, [Redemption.id], limit=limit, cursor=cursor)


def decide_many(ids: list[int], action: str, actor: User, reason: str | None = None) -> dict[int, str]:
    """Approve or reject several redemptions; each is decided on its own (one refusal does not
    undo the others). Returns id → "ok" or the refusal's code."""
    outcome = {}
    for redemption_id in ids:
        try:
            with db.session.begin_nested():
                approve(redemption_id, actor) if action == "approve" else reject(redemption_id, actor, reason)
            outcome[redemption_id] = "ok"
        except (Conflict, NotFound, ValidationFailed) as exc:
            outcome[redemption_id] = exc.code
    return outcome


# -- verification -----------------------------------------------------------------------------

def verify() -> list[str]:
    """Check every invariant of the ledger; returns the violations (empty when sound)."""
    problems = []
    unbalanced = db.session.execute(sa.select(Posting.transaction_id, sa.func.sum(Posting.amount)).group_by(
        Posting.transaction_id).having(sa.func.sum(Posting.amount) != 0)).all()
    problems += [f"transaction {t}: postings sum to {s}, not 0" for t, s in unbalanced]
    posted = sa.select(Posting.account_id, sa.func.sum(Posting.amount).label("total")).group_by(
        Posting.account_id).subquery()
    for account_id, user_id, stored, allow_negative, total in db.session.execute(sa.select(
            PointsAccount.id, PointsAccount.user_id, PointsAccount.balance, PointsAccount.allow_negative,
            sa.func.coalesce(posted.c.total, 0)).outerjoin(posted, posted.c.account_id == PointsAccount.id)):
        if user_id is not None and stored != total:
            problems.append(f"account {account_id} (user {user_id}): balance {stored} but postings sum to {total}")
        if not allow_negative and total < 0:
            problems.append(f"account {account_id}: negative balance {total}")
    lots = sa.select(ledger._lots.c.account_id, sa.func.sum(ledger._lots.c.remaining).label("left")).group_by(
        ledger._lots.c.account_id).subquery()
    for account_id, stored, left in db.session.execute(sa.select(
            PointsAccount.id, PointsAccount.balance, sa.func.coalesce(lots.c.left, 0)).outerjoin(
            lots, lots.c.account_id == PointsAccount.id).where(PointsAccount.user_id.is_not(None))):
        if stored != left:
            problems.append(f"account {account_id}: balance {stored} but its lots hold {left}")
    held_total = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Hold.amount), 0)).where(
        Hold.status == "held"))
    held_posted = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Posting.amount), 0)).where(
        Posting.account_id == ledger.system_account_id(ledger.HELD)))
    if held_total != held_posted:
        problems.append(f"held account: postings sum to {held_posted} but open holds total {held_total}")
    bad_lots = db.session.scalar(sa.select(sa.func.count()).where(
        sa.or_(ledger._lots.c.remaining < 0, ledger._lots.c.remaining > ledger._lots.c.amount)))
    if bad_lots:
        problems.append(f"{bad_lots} lots hold less than 0 or more than they were given")
    return problems + verify_pending() + _checkpoint_problems()


# -- the checkpoint: what the ledger held, kept outside the database ----------------------------
# Signed with AUDIT_HMAC_KEY and stored in Redis or a file (core.checkpoint): someone who can
# rewrite the database can empty the ledger and zero the balances, which leaves every invariant
# above intact; the checkpoint still remembers. `head` is the newest transaction when it was taken
# (its id and a digest): missing or changed, the newest transactions were deleted or the table
# emptied. `settled` counts the transactions up to a boundary and sums their postings per account
# kind (users' accounts together, each system account): a transaction deleted or inserted below it
# shows. The boundary trails the present by SETTLE, so a transaction still open when the checkpoint
# is taken never commits below it. Taken by the `checkpoint-ledger` job and `flask points verify
# --checkpoint` (docs/security.md has the detection window).

CHECKPOINT = "points"
SETTLE = timedelta(minutes=10)
_txs = LedgerTransaction.__table__


def _digest_of(row) -> str:
    return hashlib.sha256(f"{row.id}|{row.kind}|{row.idempotency_key}|{row.account_id}|{row.amount}".encode()).hexdigest()


def _transaction(transaction_id: int):
    return db.session.execute(sa.select(_txs.c.id, _txs.c.kind, _txs.c.idempotency_key, _txs.c.account_id,
                                        _txs.c.amount).where(_txs.c.id == transaction_id)).first()


def _totals(after: int, upto: int) -> tuple[int, dict[str, int]]:
    """Transactions with after < id <= upto: their count, and their postings' sum per account kind."""
    count = db.session.scalar(sa.select(sa.func.count()).where(_txs.c.id > after, _txs.c.id <= upto))
    kind = sa.func.coalesce(PointsAccount.code, "user")
    sums = db.session.execute(sa.select(kind, sa.func.sum(Posting.amount)).join(
        PointsAccount, PointsAccount.id == Posting.account_id).where(
        Posting.transaction_id > after, Posting.transaction_id <= upto).group_by(kind)).all()
    return int(count), {name: int(total) for name, total in sums if total}


def _head_problem(mark: dict) -> str | None:
    head = _transaction(mark["head"]["id"])
    if head is None:
        return (f"transaction {mark['head']['id']}, the newest when the checkpoint was taken, is missing: "
                "the newest transactions were deleted, or the ledger emptied")
    if _digest_of(head) != mark["head"]["digest"]:
        return f"transaction {head.id} is not the one the checkpoint recorded (replaced)"
    return None


def _checkpoint_problems() -> list[str]:
    try:
        mark = checkpoint.load(CHECKPOINT)
    except checkpoint.Problem as exc:
        return [str(exc)]
    if mark is None:
        return []
    problems = [p for p in [_head_problem(mark)] if p]
    settled = mark["settled"]
    count, sums = _totals(0, settled["id"])
    if count != settled["count"]:
        problems.append(f"{count} transactions up to {settled['id']}, the checkpoint counted {settled['count']} "
                        "(transactions deleted or inserted)")
    if sums != settled["sums"]:
        problems.append(f"postings up to transaction {settled['id']} sum to {sums} per account kind, "
                        f"the checkpoint recorded {settled['sums']}")
    return problems


def checkpoint_ledger(now: datetime | None = None) -> dict | None:
    """Move the checkpoint forward: the head to the newest transaction, the settled part to the
    transactions older than SETTLE (adding theirs to the recorded totals). Raises
    checkpoint.Mismatch, storing nothing, when the recorded head is gone (checkpoint.Forged when
    the stored checkpoint is): the full comparison is `verify`."""
    boundary_time = (now or utcnow()) - SETTLE

    def advance(current: dict | None) -> dict | None:
        if current is not None and (problem := _head_problem(current)):
            raise checkpoint.Mismatch(problem)
        newest = db.session.scalar(sa.select(sa.func.max(_txs.c.id)))
        if newest is None:
            return None
        settled = current["settled"] if current else {"id": 0, "count": 0, "sums": {}}
        boundary = max(settled["id"], db.session.scalar(sa.select(sa.func.max(_txs.c.id)).where(
            _txs.c.created_at <= boundary_time)) or 0)
        count, sums = _totals(settled["id"], boundary)
        for name, total in settled["sums"].items():
            sums[name] = sums.get(name, 0) + total
        return {"head": {"id": newest, "digest": _digest_of(_transaction(newest))},
                "settled": {"id": boundary, "count": settled["count"] + count,
                            "sums": {name: total for name, total in sorted(sums.items()) if total}}}

    return checkpoint.update(CHECKPOINT, advance)


# == pending grants: points promised inside a refund window ====================================
# An order's points wait ORDER_REFUND_WINDOW_DAYS before they are spendable. A promise is a
# PendingGrant row, outside the ledger; releasing it grants through the ledger under the same
# idempotency key, so a release is idempotent and a crash mid-batch loses nothing. Caps count
# when the promise is made (as `earn` counts them) and are not given back by a cancellation or a
# reversal: a buy-and-refund cycle cannot earn past a cap.

@dataclass
class Summary(Balance):
    pending: int = 0  # promised, not yet spendable (sum of the user's pending grants)


_PENDING_TOTAL = sa.select(sa.func.coalesce(sa.func.sum(PendingGrant.__table__.c.amount), 0)).where(
    PendingGrant.__table__.c.user_id == sa.bindparam("user_id"), PendingGrant.__table__.c.status == "pending")


def pending_total(user_id: int) -> int:
    return int(db.session.scalar(_PENDING_TOTAL, {"user_id": user_id}))


def balance(user_id: int) -> Summary:
    """The ledger's balance (available, held, expiring) and the pending points beside it."""
    return Summary(**asdict(ledger.balance(user_id)), pending=pending_total(user_id))


@dataclass
class Pending:
    grant: PendingGrant
    created: bool  # False: the key was promised before and nothing was written now


def pending_by_key(key: str) -> PendingGrant | None:
    """The promised grant under `key` (pending, released or cancelled), or None."""
    return db.session.scalars(sa.select(PendingGrant).where(PendingGrant.idempotency_key == key)
                              .execution_options(populate_existing=True)).first()


def _same_promise(existing: PendingGrant, user_id: int, kind: str, amount: int) -> Pending:
    if (existing.user_id, existing.kind, existing.amount) != (user_id, kind, amount):
        raise IdempotencyConflict(details={"idempotency_key": existing.idempotency_key,
                                           "pending_grant_id": existing.id})
    return Pending(existing, False)


def earn_pending(user_id: int, kind: str, key: str, reason: str, *, release_at: datetime,
                 quantity: int = 1) -> Pending:
    """Promise the points the rule `kind` pays (× quantity), spendable from `release_at`.

    Caps count now, as in `earn` (a refusal raises EarningRefused and writes nothing). The same
    key again returns the first promise; the same key for another user, kind or amount is a 409.
    No points move until `release_pending`.

    The INSERT comes first (ON CONFLICT on the key DO NOTHING): a first promise, the usual call (a
    rated binding), reads nothing by its key; only a repeated key reads the first promise (a
    concurrent twin waits on the key and reads the winner's). The caps are counted once the row
    is ours; a cap that refuses takes the row back out before raising.
    """
    rule = _enabled_rule(kind)
    amount = rule.points * quantity
    if amount <= 0:
        raise ValueError(f"nothing to promise: {rule.points} × {quantity}")
    now = utcnow()
    created = insert_or_nothing(PendingGrant, {
        "user_id": user_id, "amount": amount, "kind": kind, "idempotency_key": key, "reason": reason[:255],
        "release_at": release_at, "status": "pending", "created_at": now, "updated_at": now},
        conflict=["idempotency_key"])
    if created is None:  # promised before, or by a concurrent twin first (its caps counted it)
        return _same_promise(pending_by_key(key), user_id, kind, amount)
    try:
        _count_within_caps(user_id, rule, amount)
    except EarningRefused:
        db.session.expunge(created)
        db.session.execute(_DELETE_PENDING, {"id": created.id})
        raise
    return Pending(created, True)


_DELETE_PENDING = sa.delete(PendingGrant.__table__).where(PendingGrant.__table__.c.id == sa.bindparam("id"))


def release_pending(limit: int = 500, now: datetime | None = None) -> int:
    """Grant due pending rows through the ledger under their own keys; returns how many.

    Each row moves from pending to released by a conditional update, so a concurrent
    cancellation or a second runner settles it once; the caller commits per batch. Each release
    is announced (core.signals.points_released) in the same transaction."""
    now = now or utcnow()
    due = db.session.scalars(sa.select(PendingGrant.id).where(
        PendingGrant.status == "pending", PendingGrant.release_at <= now).order_by(
        PendingGrant.release_at, PendingGrant.id).limit(limit)).all()
    return sum(_release(grant_id) for grant_id in due)


def _release(grant_id: int) -> bool:
    row = db.session.scalars(sa.update(PendingGrant).where(
        PendingGrant.id == grant_id, PendingGrant.status == "pending").values(status="released")
        .returning(PendingGrant), execution_options={"populate_existing": True}).first()
    if row is None:  # cancelled or released meanwhile
        return False
    posted = grant(row.user_id, row.amount, row.kind, row.idempotency_key, row.reason)
    row.transaction_id = posted.transaction_id
    db.session.flush()
    signals.points_released.send(user_id=row.user_id, kind=row.kind, amount=row.amount,
                                 key=row.idempotency_key)
    return True


# A promise that waits on a condition, not a date (binding points wait for a sign of life,
# community.trust): `release_pending` never reaches it; `release_now` or `cancel_pending` settle it.
ON_CONDITION = datetime(2999, 12, 31, tzinfo=timezone.utc)


def release_now(key: str) -> bool:
    """Release the promise under `key` now, whatever its release_at (the condition it waited on
    was met); False when nothing is pending under that key."""
    row = pending_by_key(key)
    return row is not None and row.status == "pending" and _release(row.id)


def cancel_pending(key: str, reason: str) -> bool:
    """Cancel a promise that is still pending (it never becomes points); False when there is
    no pending promise under `key` (none, released, or cancelled before)."""
    row = pending_by_key(key)
    if row is None:
        return False
    note = f"{row.reason}（已取消：{reason}）"[:255]
    return bool(db.session.execute(sa.update(PendingGrant).where(
        PendingGrant.id == row.id, PendingGrant.status == "pending").values(status="cancelled", reason=note)
    ).rowcount)


@dataclass
class TakeBack:
    """What `take_back` did to a promise: `state` none | cancelled | reversed | already."""
    state: str
    user_id: int | None = None
    amount: int = 0  # the promise
    taken: int = 0  # points taken back from the balance (reversed)
    shortfall: int = 0  # released points the balance could not cover
    transaction_id: int | None = None  # the reversal
    released_at: datetime | None = None


def _reverse_part(original: LedgerTransaction, amount: int, reason: str) -> Posted:
    """A reversal of part of a grant (what the balance still holds): the same key and
    `reverses_id` as a full reversal, so the grant can never be reversed again."""
    account = original.account_id
    source = next(p.account_id for p in original.postings if p.account_id != account)
    posted = ledger.post("reverse", f"reverse:{original.id}", reason, account_id=account, amount=amount,
                         reverses_id=original.id, legs=[(account, -amount), (source, amount)],
                         user_accounts={account})
    if posted.created:
        own = tuple(db.session.scalars(sa.select(ledger._lots.c.id).where(
            ledger._lots.c.transaction_id == original.id)))
        ledger._take(account, posted.transaction_id, amount, first_lot_ids=own)
    return posted


def take_back(key: str, reason: str) -> TakeBack:
    """Undo a promise: cancel it while pending; once released, reverse its grant.

    The balance may no longer cover a released grant (spent, or held for a redemption): the
    reversal then takes what is available and the rest is the shortfall (the ledger never goes
    negative). A second call changes nothing and says `already`.
    """
    row = pending_by_key(key)
    if row is None:
        return TakeBack("none")
    if cancel_pending(key, reason):
        return TakeBack("cancelled", row.user_id, row.amount)
    row = pending_by_key(key)
    if row.status != "released":
        return TakeBack("already", row.user_id, row.amount)
    original = db.session.get(LedgerTransaction, row.transaction_id)
    account = original.account_id
    # Lock the account row first: its balance cannot change between reading and taking.
    available = db.session.execute(ledger._LOCK, {"account": account}).scalar_one()
    done = db.session.scalar(sa.select(LedgerTransaction).where(LedgerTransaction.reverses_id == original.id))
    if done is not None:
        return TakeBack("already", row.user_id, row.amount, done.amount, row.amount - done.amount, done.id,
                        original.created_at)
    taken = min(available, row.amount)
    posted = None
    if taken == row.amount:
        posted = reverse(original.id, reason)
    elif taken > 0:
        posted = _reverse_part(original, taken, f"{reason}（余额不足，收回 {taken}，差额 {row.amount - taken}）")
    return TakeBack("reversed", row.user_id, row.amount, taken, row.amount - taken,
                    posted.transaction_id if posted else None, original.created_at)


def verify_pending() -> list[str]:
    """Pending grants agree with the ledger: a released one was granted under its key for its
    amount; one still pending or cancelled has nothing under its key."""
    problems = []
    for grant_id, status, amount, tx_amount in db.session.execute(sa.select(
            PendingGrant.id, PendingGrant.status, PendingGrant.amount, LedgerTransaction.amount).outerjoin(
            LedgerTransaction, LedgerTransaction.idempotency_key == PendingGrant.idempotency_key).where(
            sa.or_(PendingGrant.status == "released", LedgerTransaction.id.is_not(None)))):
        if status != "released":
            problems.append(f"pending grant {grant_id} is {status} but its key was posted")
        elif tx_amount != amount:
            problems.append(f"pending grant {grant_id}: released {amount} but its key posted {tx_amount}")
    return problems


def pending_redemptions_count() -> int:
    """Redemptions waiting for an admin's decision (the dashboard): the (status, id) index."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Redemption).where(Redemption.status == "pending"))
