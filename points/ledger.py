"""The double-entry ledger: the only code that moves points.

Rules it keeps (docs/points.md, "The ledger"):
- Every movement is one transaction whose postings sum to zero, under a unique idempotency key:
  the same key again returns the first transaction and moves nothing; the same key for a
  different movement is a 409.
- A user's balance never goes negative: every debit is a conditional UPDATE
  (`balance + amount >= 0`) in the same database transaction, never a read-then-write.
- Earned points form lots with an expiry date; debits take from the lots that expire soonest
  (never-expiring last, oldest first among equals) and record which lots they used, so a release
  or a reversal puts the points back where they came from. Points on hold are out of their lots,
  so they cannot expire under a pending redemption.
- Nothing is updated or deleted in the ledger tables (database triggers refuse it); a correction
  is a reversing transaction.
- The account row is the lock of its lots: every change of a user's lots first updates (and so
  locks) that user's account row.
- System accounts (issuance, adjustments, held, redeemed, expired) keep no running balance: it
  would make one row every transaction must lock. Their balance is the sum of their postings.

Statements are SQLAlchemy Core, built once: this is the platform's hottest write path. On PostgreSQL
a grant is one statement and a redemption's hold part of one (see "one round trip on PostgreSQL").
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from core.db import UTCDateTime, insert_or_nothing, utcnow
from core.errors import Conflict, NotFound
from core.extensions import db
from core.formatting import BUSINESS_TZ
from points.models import (
    ADJUSTMENTS,
    EXPIRED,
    HELD,
    ISSUANCE,
    REDEEMED,
    SYSTEM_ACCOUNTS,
    Hold,
    LedgerTransaction,
    Lot,
    LotUse,
    PointsAccount,
    Posting,
)

_accounts, _lots, _txs = PointsAccount.__table__, Lot.__table__, LedgerTransaction.__table__
_postings, _lot_uses = Posting.__table__, LotUse.__table__


class InsufficientPoints(Conflict):
    code, message = "insufficient_points", "积分不足"


class IdempotencyConflict(Conflict):
    code, message = "idempotency_conflict", "该幂等键已用于另一笔不同的积分变动"


# -- accounts ---------------------------------------------------------------------------------

_UNCOMMITTED = "points.system_accounts.uncommitted"


def system_account_id(code: str) -> int:
    """The id of a system account (created on first use), cached per app once committed."""
    cache = current_app.extensions.setdefault("points.system_accounts", {})
    if code in cache:
        return cache[code]
    account_id = db.session.scalar(sa.select(_accounts.c.id).where(_accounts.c.code == code))
    if account_id is None:
        created = insert_or_nothing(PointsAccount, {"code": code, "allow_negative": SYSTEM_ACCOUNTS[code]},
                                    conflict=["code"])
        account_id = created.id if created else db.session.scalar(
            sa.select(_accounts.c.id).where(_accounts.c.code == code))
    # The row may be this transaction's own insert: cache it only when a commit made it durable.
    # A rolled-back id in the cache names no row, or on SQLite (which reuses rowids) the next
    # account inserted, whose balance would then silently take another account's postings.
    db.session.info.setdefault(_UNCOMMITTED, {})[code] = (cache, account_id)
    return account_id


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _cache_committed_system_accounts(session) -> None:
    for code, (cache, account_id) in session.info.pop(_UNCOMMITTED, {}).items():
        cache[code] = account_id


@sa.event.listens_for(sa.orm.Session, "after_soft_rollback")
def _forget_uncommitted_system_accounts(session, previous_transaction) -> None:
    session.info.pop(_UNCOMMITTED, None)  # any rollback, a savepoint's too: look them up again


_ACCOUNT_OF_USER = sa.select(_accounts.c.id).where(_accounts.c.user_id == sa.bindparam("user_id"))


def account_id_of(user_id: int) -> int:
    """The user's points account id (created on first use)."""
    account_id = db.session.scalar(_ACCOUNT_OF_USER, {"user_id": user_id})
    if account_id is None:
        created = insert_or_nothing(PointsAccount, {"user_id": user_id}, conflict=["user_id"])
        account_id = created.id if created else db.session.scalar(_ACCOUNT_OF_USER, {"user_id": user_id})
    return account_id


def _user_account_ids(account_ids) -> set[int]:
    return set(db.session.scalars(sa.select(_accounts.c.id).where(
        _accounts.c.id.in_(list(account_ids)), _accounts.c.user_id.is_not(None))))


# -- the posting core -------------------------------------------------------------------------

_DEBIT = sa.update(_accounts).where(
    _accounts.c.id == sa.bindparam("account"), _accounts.c.balance + sa.bindparam("delta") >= 0
).values(balance=_accounts.c.balance + sa.bindparam("delta"))
_CREDIT = sa.update(_accounts).where(_accounts.c.id == sa.bindparam("account")).values(
    balance=_accounts.c.balance + sa.bindparam("delta"))
_LOCK = sa.select(_accounts.c.balance).where(_accounts.c.id == sa.bindparam("account")).with_for_update()


@dataclass
class Posted:
    transaction_id: int
    created: bool  # False: the key was posted before and nothing moved now


_BY_KEY = sa.select(_txs.c.id, _txs.c.kind, _txs.c.account_id, _txs.c.amount).where(
    _txs.c.idempotency_key == sa.bindparam("key"))


def _existing(key: str, kind: str, account_id: int, amount: int,
              legs: list[tuple[int, int]] | None = None) -> Posted | None:
    row = db.session.execute(_BY_KEY, {"key": key}).first()
    if row is None:
        return None
    same = (row.kind, row.account_id, row.amount) == (kind, account_id, amount)
    if same and legs is not None:
        # Kind, account and amount do not say which way the points went (a grant and a spend of
        # the same kind and amount, an adjustment of +10 and of -10): the postings do.
        posted = db.session.execute(sa.select(Posting.account_id, Posting.amount).where(
            Posting.transaction_id == row.id)).all()
        same = sorted(tuple(p) for p in posted) == sorted(legs)
    if not same:
        raise IdempotencyConflict(details={"idempotency_key": key, "transaction_id": row.id})
    return Posted(row.id, False)


def post(kind: str, key: str, reason: str, *, account_id: int, amount: int, legs: list[tuple[int, int]],
         actor_id: int | None = None, reverses_id: int | None = None, user_accounts: set[int] | None = None) -> Posted:
    """Record one balanced transaction and move the user balances it touches.

    `account_id`/`amount` name the movement (what the idempotency key promises); `legs` are the
    postings (account, signed amount), which must sum to zero. `user_accounts` are the legs'
    accounts that keep a balance (looked up when not given). Raises InsufficientPoints when a
    user's balance would go negative; the caller's transaction must then roll back.
    """
    if amount <= 0 or sum(a for _, a in legs) != 0 or any(a == 0 for _, a in legs):
        raise ValueError(f"unbalanced or empty movement: {legs}")
    # Claim the key first: a concurrent twin waits on the unique index, then sees this transaction.
    # A key posted before inserts nothing either, so this one statement claims a new key and finds
    # an old one. PostgreSQL and SQLite check the ON CONFLICT index before any other unique index,
    # so a repeated reversal (whose reverses_id is taken too) also inserts nothing here.
    tx_id = db.session.execute(_claim_key(), {
        "kind": kind, "idempotency_key": key, "account_id": account_id, "amount": amount, "reason": reason[:255],
        "actor_id": actor_id, "reverses_id": reverses_id, "created_at": utcnow()}).scalar()
    if tx_id is None:  # posted before, or a concurrent twin committed this key first
        existing = _existing(key, kind, account_id, amount, legs)
        if existing is None:
            raise RuntimeError(f"points: key {key} conflicted but cannot be read")
        return existing
    if user_accounts is None:
        user_accounts = _user_account_ids(a for a, _ in legs)
    for leg_account, delta in sorted(legs):  # a fixed lock order: no deadlock between two movements
        if leg_account not in user_accounts:
            continue
        if delta < 0:
            if not db.session.execute(_DEBIT, {"account": leg_account, "delta": delta}).rowcount:
                raise InsufficientPoints(details={"needed": -delta})
        else:
            db.session.execute(_CREDIT, {"account": leg_account, "delta": delta})
    db.session.execute(_INSERT_POSTINGS, [
        {"transaction_id": tx_id, "account_id": a, "amount": d} for a, d in legs])
    return Posted(tx_id, True)


_INSERT_POSTINGS = sa.insert(_postings)
_CLAIM_KEY: dict[str, sa.Insert] = {}  # by dialect: INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING id


def _claim_key() -> sa.Insert:
    from core.db import dialect_insert
    dialect = db.session.get_bind().dialect.name
    if dialect not in _CLAIM_KEY:
        _CLAIM_KEY[dialect] = dialect_insert()(_txs).on_conflict_do_nothing(
            index_elements=["idempotency_key"]).returning(_txs.c.id)
    return _CLAIM_KEY[dialect]


# -- lots -------------------------------------------------------------------------------------

def expiry_for(earned_at: datetime) -> datetime | None:
    """End of the POINTS_EXPIRY_MONTHS-th month after the month of earning, Asia/Shanghai (None: never)."""
    months = current_app.config["POINTS_EXPIRY_MONTHS"]
    if months <= 0:
        return None
    local = earned_at.astimezone(BUSINESS_TZ)
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    end = datetime(year, month + 1, last_day, tzinfo=BUSINESS_TZ) + timedelta(days=1)
    return end.astimezone(utcnow().tzinfo)


_INSERT_LOT = sa.insert(_lots)


def _new_lot(account_id: int, tx_id: int, amount: int, expires_at: datetime | None) -> None:
    db.session.execute(_INSERT_LOT, {"account_id": account_id, "transaction_id": tx_id, "amount": amount,
                                     "remaining": amount, "expires_at": expires_at, "created_at": utcnow()})


_SPENDABLE = sa.select(_lots.c.id, _lots.c.remaining).where(
    _lots.c.account_id == sa.bindparam("account"), _lots.c.remaining > 0
).order_by(_lots.c.expires_at.is_(None), _lots.c.expires_at, _lots.c.id)
_TAKE_FROM_LOT = sa.update(_lots).where(_lots.c.id == sa.bindparam("lot")).values(
    remaining=_lots.c.remaining - sa.bindparam("taken"))
_INSERT_LOT_USES = sa.insert(_lot_uses)


def _take(account_id: int, tx_id: int, amount: int, first_lot_ids: tuple[int, ...] = ()) -> None:
    """Take `amount` from the account's lots, soonest expiry first (`first_lot_ids` before all).

    Called after the account row was updated, so this transaction holds its lock."""
    rows = db.session.execute(_SPENDABLE, {"account": account_id}).all()
    rows.sort(key=lambda r: r.id not in first_lot_ids)  # stable: keeps expiry order otherwise
    uses, left = [], amount
    for lot_id, remaining in rows:
        if left == 0:
            break
        take = min(remaining, left)
        uses.append({"lot_id": lot_id, "transaction_id": tx_id, "amount": take})
        left -= take
    if left:
        raise RuntimeError(f"account {account_id}: lots hold {amount - left} of the {amount} its balance allowed")
    for use in uses:
        db.session.execute(_TAKE_FROM_LOT, {"lot": use["lot_id"], "taken": use["amount"]})
    db.session.execute(_INSERT_LOT_USES, uses)


def _put_back(original_tx_id: int, tx_id: int) -> None:
    """Return what a debit took to the lots it took it from; a lot that expired meanwhile gets
    POINTS_RETURN_GRACE_DAYS more, so a resident is not punished for an admin's slow decision."""
    taken = db.session.execute(sa.select(LotUse.lot_id, sa.func.sum(LotUse.amount)).where(
        LotUse.transaction_id == original_tx_id).group_by(LotUse.lot_id)).all()
    now = utcnow()
    # Typed as the column (naive UTC): an untyped aware datetime reaches PostgreSQL as timestamptz
    # and is cast to the column's plain timestamp in the session's time zone, shifting the date.
    grace = sa.literal(now + timedelta(days=current_app.config["POINTS_RETURN_GRACE_DAYS"]), _lots.c.expires_at.type)
    for lot_id, amount in taken:
        db.session.execute(sa.update(_lots).where(_lots.c.id == lot_id).values(
            remaining=_lots.c.remaining + amount,
            expires_at=sa.case((_lots.c.expires_at <= now, grace), else_=_lots.c.expires_at)))
    if taken:
        db.session.execute(sa.insert(LotUse.__table__), [
            {"lot_id": lot_id, "transaction_id": tx_id, "amount": -amount} for lot_id, amount in taken])


# -- one round trip on PostgreSQL ------------------------------------------------------------
# A grant, and the hold of a redemption (points.services), are the platform's hottest writes. On
# PostgreSQL each is one statement of data-modifying CTEs, built once per process, sent with bound
# parameters: the same rows as the statements above (tests/points/test_one_statement.py runs both
# paths and compares), in one round trip instead of five to eleven. The rules stay in the SQL the
# database runs: the key is claimed by INSERT … ON CONFLICT DO NOTHING, a debit is the conditional
# UPDATE, and every later row is written only from what those two returned. SQLite (and
# POINTS_ONE_STATEMENT = False) take the portable path.

def one_statement() -> bool:
    """Post grants and redemption holds in one statement each: PostgreSQL, unless the app sets
    POINTS_ONE_STATEMENT to False (the tests do, to compare both paths on the same database)."""
    return db.session.get_bind().dialect.name == "postgresql" and current_app.config["POINTS_ONE_STATEMENT"]


def _typed(sql: str, **types) -> sa.TextClause:
    """A statement built once, its parameters typed (UTC datetimes are stored naive)."""
    return sa.text(sql).bindparams(*(sa.bindparam(name, type_=type_) for name, type_ in types.items()))


_GRANT = _typed("""
WITH account AS (
    SELECT id FROM points_accounts WHERE user_id = :user_id
), tx AS (
    -- the key first: a concurrent twin waits on the unique index, a repeated key inserts nothing
    INSERT INTO points_transactions (kind, idempotency_key, account_id, amount, reason, actor_id, created_at)
    SELECT :kind, :key, account.id, :amount, :reason, :actor_id, :now FROM account
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, account_id
), credit AS (
    UPDATE points_accounts SET balance = balance + :amount FROM tx WHERE points_accounts.id = tx.account_id
), postings AS (
    INSERT INTO points_postings (transaction_id, account_id, amount)
    SELECT tx.id, leg.account_id, leg.amount
    FROM tx CROSS JOIN LATERAL (VALUES (1, :source, -:amount), (2, tx.account_id, :amount)) AS leg(n, account_id, amount)
    ORDER BY leg.n
), lot AS (
    INSERT INTO points_lots (account_id, transaction_id, amount, remaining, expires_at, created_at)
    SELECT account_id, id, :amount, :amount, :expires_at, :now FROM tx
)
SELECT (SELECT id FROM account) AS account_id, (SELECT id FROM tx) AS transaction_id
""", user_id=sa.BigInteger(), kind=sa.String(), key=sa.String(), amount=sa.BigInteger(), reason=sa.String(),
    actor_id=sa.BigInteger(), now=UTCDateTime(), source=sa.BigInteger(), expires_at=UTCDateTime())


def _grant_in_one_statement(user_id: int, amount: int, kind: str, key: str, reason: str, *, actor_id: int | None,
                            source: str, expires_at: datetime | None) -> Posted:
    """`grant` on PostgreSQL: account, key, credit, postings and lot in one statement."""
    params = {"user_id": user_id, "kind": kind, "key": key, "amount": amount, "reason": reason[:255],
              "actor_id": actor_id, "now": utcnow(), "source": system_account_id(source), "expires_at": expires_at}
    row = db.session.connection().execute(_GRANT, params).one()
    if row.account_id is None:  # the user's first points: create the account, then post
        account_id_of(user_id)
        row = db.session.connection().execute(_GRANT, params).one()
    if row.transaction_id is None:  # posted before, or a concurrent twin committed this key first
        existing = _existing(key, kind, row.account_id, amount, [(params["source"], -amount), (row.account_id, amount)])
        if existing is None:
            raise RuntimeError(f"points: key {key} conflicted but cannot be read")
        return existing
    return Posted(row.transaction_id, True)


# The hold of a redemption, as CTEs that points.services.redeem puts around its own (the reward's
# per-user limit and stock, the redemption and its event), all in one statement. The statement must
# come after one that locked the user's account row (the lock of its lots): PostgreSQL takes one
# snapshot per statement, so only then does the lots' FIFO read below see every committed change.
# `go` is the caller's CTE: one row when the debit passed and so did the caller's checks.
HOLD_DEBIT = """
tx AS (
    INSERT INTO points_transactions (kind, idempotency_key, account_id, amount, reason, actor_id, created_at)
    VALUES ('hold', :key, :account, :amount, :reason, :actor_id, :now)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), debit AS (
    -- never negative: this conditional update is the check
    UPDATE points_accounts SET balance = balance - :amount
    WHERE id = :account AND balance - :amount >= 0 AND EXISTS (SELECT FROM tx)
    RETURNING id
)"""
HOLD_WRITES = """
postings AS (
    INSERT INTO points_postings (transaction_id, account_id, amount)
    SELECT go.id, leg.account_id, leg.amount
    FROM go CROSS JOIN LATERAL (VALUES (1, :account, -:amount), (2, :held, :amount)) AS leg(n, account_id, amount)
    ORDER BY leg.n
), spendable AS (
    -- soonest expiry first, never-expiring last (NULLs sort last), oldest first among equals:
    -- the order of ix_points_lots_spendable; `before` is what the lots ahead of this one hold
    SELECT id, remaining,
           sum(remaining) OVER (ORDER BY expires_at, id ROWS UNBOUNDED PRECEDING) - remaining AS before
    FROM points_lots WHERE account_id = :account AND remaining > 0
), taken AS (
    SELECT spendable.id, least(spendable.remaining, :amount - spendable.before) AS amount, spendable.before
    FROM spendable, go WHERE spendable.before < :amount
), lots AS (
    UPDATE points_lots SET remaining = points_lots.remaining - taken.amount FROM taken WHERE points_lots.id = taken.id
), lot_uses AS (
    INSERT INTO points_lot_uses (lot_id, transaction_id, amount)
    SELECT taken.id, go.id, taken.amount FROM taken, go ORDER BY taken.before
), hold AS (
    INSERT INTO points_holds (account_id, amount, status, hold_transaction_id, created_at)
    SELECT :account, :amount, 'held', go.id, :now FROM go
    RETURNING id
)"""
HOLD_TYPES = {"key": sa.String(), "account": sa.BigInteger(), "amount": sa.BigInteger(), "reason": sa.String(),
              "actor_id": sa.BigInteger(), "now": UTCDateTime(), "held": sa.BigInteger()}


# -- the movements ----------------------------------------------------------------------------

def grant(user_id: int, amount: int, kind: str, key: str, reason: str, *, actor_id: int | None = None,
          source: str = ISSUANCE, expires_at: datetime | None = ...) -> Posted:
    """Give a user points (a new lot). Idempotent by `key`. On PostgreSQL one statement
    (`_grant_in_one_statement`), elsewhere the statements below: the same rows either way."""
    if one_statement():
        if amount <= 0:
            raise ValueError(f"nothing to grant: {amount}")
        return _grant_in_one_statement(user_id, amount, kind, key, reason, actor_id=actor_id, source=source,
                                       expires_at=expiry_for(utcnow()) if expires_at is ... else expires_at)
    account = account_id_of(user_id)
    posted = post(kind, key, reason, account_id=account, amount=amount, actor_id=actor_id,
                  legs=[(system_account_id(source), -amount), (account, amount)], user_accounts={account})
    if posted.created:
        _new_lot(account, posted.transaction_id, amount, expiry_for(utcnow()) if expires_at is ... else expires_at)
    return posted


def spend(user_id: int, amount: int, kind: str, key: str, reason: str, *, actor_id: int | None = None,
          sink: str = REDEEMED) -> Posted:
    """Take points from a user (soonest-expiring lots first). Idempotent by `key`."""
    account = account_id_of(user_id)
    posted = post(kind, key, reason, account_id=account, amount=amount, actor_id=actor_id,
                  legs=[(account, -amount), (system_account_id(sink), amount)], user_accounts={account})
    if posted.created:
        _take(account, posted.transaction_id, amount)
    return posted


def hold(user_id: int, amount: int, key: str, reason: str, *, actor_id: int | None = None) -> Hold:
    """Set points aside (for a pending redemption): out of the user's lots, into `held`."""
    account = account_id_of(user_id)
    posted = post("hold", key, reason, account_id=account, amount=amount, actor_id=actor_id,
                  legs=[(account, -amount), (system_account_id(HELD), amount)], user_accounts={account})
    if not posted.created:
        return db.session.scalars(sa.select(Hold).where(Hold.hold_transaction_id == posted.transaction_id)).one()
    _take(account, posted.transaction_id, amount)
    record = Hold(account_id=account, amount=amount, hold_transaction_id=posted.transaction_id)
    db.session.add(record)
    db.session.flush()
    return record


def _resolve(record: Hold, to: str, reason: str, actor_id: int | None) -> Posted:
    """Settle (spend) or release (return) a hold, exactly once."""
    done = db.session.execute(sa.update(Hold).where(Hold.id == record.id, Hold.status == "held").values(
        status=to)).rowcount
    key = f"hold:{record.id}:{to}"
    if not done:
        db.session.refresh(record)
        if record.status == to:  # the same decision again: nothing moves
            return Posted(record.resolve_transaction_id, False)
        raise Conflict(f"积分冻结已{'结算' if record.status == 'settled' else '退回'}", code="hold_already_resolved")
    held = system_account_id(HELD)
    if to == "settled":
        legs = [(held, -record.amount), (system_account_id(REDEEMED), record.amount)]
    else:
        legs = [(held, -record.amount), (record.account_id, record.amount)]
    posted = post("settle" if to == "settled" else "release", key, reason, account_id=record.account_id,
                  amount=record.amount, actor_id=actor_id, legs=legs, user_accounts={record.account_id})
    if to == "released":
        _put_back(record.hold_transaction_id, posted.transaction_id)
    db.session.execute(sa.update(Hold).where(Hold.id == record.id).values(resolve_transaction_id=posted.transaction_id))
    db.session.refresh(record)
    return posted


def settle(record: Hold, reason: str, *, actor_id: int | None = None) -> Posted:
    return _resolve(record, "settled", reason, actor_id)


def release(record: Hold, reason: str, *, actor_id: int | None = None) -> Posted:
    return _resolve(record, "released", reason, actor_id)


def reverse(transaction_id: int, reason: str, *, actor_id: int | None = None) -> Posted:
    """Undo a grant, spend, adjustment or expiry with the opposite transaction (at most once).

    Undoing a credit takes the points back (from the lot it created first): refused with
    InsufficientPoints when they are already spent. Undoing a debit returns the points to the
    lots they came from. Holds are settled or released, never reversed.
    """
    original = db.session.get(LedgerTransaction, transaction_id)
    if original is None:
        raise NotFound("积分流水不存在", code="transaction_not_found")
    if original.kind in ("hold", "settle", "release") or original.reverses_id is not None:
        raise Conflict("该笔积分流水不能冲正", code="not_reversible")
    user_accounts = _user_account_ids(p.account_id for p in original.postings)
    user_legs = [(p.account_id, p.amount) for p in original.postings if p.account_id in user_accounts]
    if len(user_legs) != 1:
        raise Conflict("该笔积分流水不能冲正", code="not_reversible")
    account, delta = user_legs[0]
    posted = post("reverse", f"reverse:{original.id}", reason, account_id=account, amount=abs(delta),
                  actor_id=actor_id, reverses_id=original.id, user_accounts=user_accounts,
                  legs=[(p.account_id, -p.amount) for p in original.postings])
    if posted.created:
        if delta > 0:
            own = tuple(db.session.scalars(sa.select(_lots.c.id).where(_lots.c.transaction_id == original.id)))
            _take(account, posted.transaction_id, delta, first_lot_ids=own)
        else:
            _put_back(original.id, posted.transaction_id)
    return posted


def adjust(user_id: int, amount: int, key: str, reason: str, *, actor_id: int) -> Posted:
    """A manual correction by an admin: positive grants (a new lot), negative deducts."""
    if amount > 0:
        return grant(user_id, amount, "adjustment", key, reason, actor_id=actor_id, source=ADJUSTMENTS)
    return spend(user_id, -amount, "adjustment", key, reason, actor_id=actor_id, sink=ADJUSTMENTS)


_DUE = sa.select(_lots.c.id, _lots.c.account_id, _lots.c.expires_at).where(
    _lots.c.remaining > 0, _lots.c.expires_at <= sa.bindparam("now")).order_by(_lots.c.expires_at, _lots.c.id)


def expire_due(limit: int = 500, now: datetime | None = None) -> int:
    """Move what is left of due lots into `expired`, one transaction per lot (key per lot and
    expiry, so a rerun after a crash skips what is done). Returns the number of lots expired."""
    now = now or utcnow()
    expired = system_account_id(EXPIRED)
    count = 0
    for lot_id, account, _ in db.session.execute(_DUE.limit(limit), {"now": now}).all():
        db.session.execute(_LOCK, {"account": account})  # the account row guards its lots
        # Read the lot again under the lock: since the batch was selected it may have been spent,
        # or a release may have put points back into it with a later (grace) expiry.
        remaining, expires_at = db.session.execute(sa.select(_lots.c.remaining, _lots.c.expires_at).where(
            _lots.c.id == lot_id)).one()
        if not remaining or expires_at is None or expires_at > now:
            continue
        posted = post("expiry", f"expire:{lot_id}:{int(expires_at.timestamp())}", "积分到期",
                      account_id=account, amount=remaining, legs=[(account, -remaining), (expired, remaining)],
                      user_accounts={account})
        if posted.created:
            db.session.execute(sa.update(_lots).where(_lots.c.id == lot_id).values(remaining=0))
            db.session.execute(sa.insert(LotUse.__table__).values(
                lot_id=lot_id, transaction_id=posted.transaction_id, amount=remaining))
            count += 1
    return count


# -- reading ----------------------------------------------------------------------------------

@dataclass
class Balance:
    available: int
    held: int
    expiring: int  # points that expire within POINTS_EXPIRY_NOTICE_DAYS
    expiring_before: datetime | None  # the soonest of those expiries


def _balance_statement() -> sa.Select:
    """The account's balance, its open holds and the points expiring before :horizon, with the
    soonest of those expiries: one statement (a balance is read on every visit to the points page)."""
    a, lots = _accounts.c, _lots.c
    expiring = sa.and_(lots.account_id == a.id, lots.remaining > 0, lots.expires_at <= sa.bindparam("horizon"))
    return sa.select(
        a.balance,
        sa.select(sa.func.coalesce(sa.func.sum(Hold.__table__.c.amount), 0)).where(
            Hold.__table__.c.account_id == a.id, Hold.__table__.c.status == "held").scalar_subquery().label("held"),
        sa.select(sa.func.coalesce(sa.func.sum(lots.remaining), 0)).where(expiring).scalar_subquery().label("expiring"),
        sa.select(sa.func.min(lots.expires_at)).where(expiring).scalar_subquery().label("soonest"),
    ).where(a.user_id == sa.bindparam("user_id"))


_BALANCE = _balance_statement()


def balance(user_id: int) -> Balance:
    horizon = utcnow() + timedelta(days=current_app.config["POINTS_EXPIRY_NOTICE_DAYS"])
    row = db.session.execute(_BALANCE, {"user_id": user_id, "horizon": horizon}).first()
    if row is None:
        return Balance(0, 0, 0, None)
    soonest = row.soonest
    if soonest is not None and soonest.tzinfo is None:
        soonest = soonest.replace(tzinfo=horizon.tzinfo)
    return Balance(row.balance, int(row.held), int(row.expiring), soonest)
