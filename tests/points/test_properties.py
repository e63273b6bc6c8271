"""Property-based tests of the ledger: random sequences of movements keep every promise.

Hypothesis draws sequences of grant / spend / hold / settle / release / reverse / expire /
adjust (and re-posts of earlier keys) over a few fresh users, and a pure-Python model says what
each step must do. After every step `verify()` is clean and the database agrees with the model
to the point: available, held, expiring, every lot's remainder and expiry, and the number of
transactions (so a re-posted key never moves points twice). A refusal happens exactly when the
model says it must, and a refused step (rolled back, as the API boundary does) changes nothing.

The ledger's clock is a fake "now" that only moves forward, also across examples: each example
starts past every expiry an earlier one created and first expires what they left, so its own
expiry counts are exact. Every example uses new users (the ledger tables are append-only).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from core.accounts.models import User
from core.errors import APIError
from core.extensions import db
from points import ledger, services
from points.models import Hold, LedgerTransaction, Lot, LotUse, PointsAccount, Posting
from tests.conftest import ON_POSTGRES

GRANT, SPEND, HOLD, ADJUST_IN, ADJUST_OUT = "grant", "spend", "hold", "adjust+", "adjust-"
# What a key promises: the ledger kind and the direction of the movement (source → sink).
MOVEMENT = {GRANT: ("test", "issuance→user"), SPEND: ("test", "user→redeemed"), HOLD: ("hold", "user→held"),
            ADJUST_IN: ("adjustment", "adjustments→user"), ADJUST_OUT: ("adjustment", "user→adjustments")}


class Clock:
    """The ledger's "now": forward only, for the whole session (see the module docstring)."""

    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    floor = now  # later than every expiry any example has created so far

    @classmethod
    def see(cls, moment: datetime | None) -> None:
        if moment is not None and moment > cls.floor:
            cls.floor = moment


@pytest.fixture
def fake_now(monkeypatch):
    monkeypatch.setattr(ledger, "utcnow", lambda: Clock.now)
    monkeypatch.setattr(services, "utcnow", lambda: Clock.now)
    return Clock


# -- the model --------------------------------------------------------------------------------

@dataclass(eq=False)
class MLot:
    user: int
    amount: int
    expires: datetime | None
    seq: int  # creation order (the database's lot ids follow it)
    remaining: int = 0
    tx: "MTx | None" = None


@dataclass(eq=False)
class MTx:
    op: str  # grant spend hold adjust+ adjust- settle release reverse expiry
    user: int
    amount: int
    key: str
    args: tuple = ()  # how it was called, to re-post it as it was
    db_id: int | None = None
    lot: MLot | None = None  # the lot a credit created
    uses: list = field(default_factory=list)  # (lot, amount) a debit took
    reversed_by: "MTx | None" = None
    is_reversal: bool = False

    @property
    def movement(self):
        return (*MOVEMENT[self.op], self.user, self.amount)


@dataclass(eq=False)
class MHold:
    tx: MTx
    db_id: int | None = None
    status: str = "held"
    resolved_by: MTx | None = None


class Refused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class Model:
    def __init__(self, users: list[int], grace: timedelta, notice: timedelta):
        self.users, self.grace, self.notice = users, grace, notice
        self.lots: list[MLot] = []
        self.txs: list[MTx] = []
        self.holds: list[MHold] = []
        self.by_key: dict[str, MTx] = {}
        self.seq = 0

    # reading
    def available(self, user: int) -> int:
        return sum(lot.remaining for lot in self.lots if lot.user == user)

    def held(self, user: int) -> int:
        return sum(h.tx.amount for h in self.holds if h.tx.user == user and h.status == "held")

    def expiring(self, user: int, now: datetime) -> tuple[int, datetime | None]:
        soon = [lot for lot in self.lots if lot.user == user and lot.remaining > 0 and lot.expires is not None
                and lot.expires <= now + self.notice]
        return sum(lot.remaining for lot in soon), min((lot.expires for lot in soon), default=None)

    # moving
    def _spending_order(self, user: int, first: MLot | None = None) -> list[MLot]:
        lots = sorted((lot for lot in self.lots if lot.user == user and lot.remaining > 0),
                      key=lambda lot: (lot.expires is None, lot.expires or Clock.now, lot.seq))
        return sorted(lots, key=lambda lot: lot is not first)  # stable: the expiry order otherwise

    def _take(self, user: int, amount: int, first: MLot | None = None) -> list:
        uses, left = [], amount
        for lot in self._spending_order(user, first):
            if not left:
                break
            take = min(lot.remaining, left)
            lot.remaining -= take
            left -= take
            uses.append((lot, take))
        assert not left
        return uses

    def _put_back(self, uses: list, now: datetime) -> None:
        for lot, amount in uses:
            lot.remaining += amount
            if lot.expires is not None and lot.expires <= now:
                lot.expires = now + self.grace
                Clock.see(lot.expires)

    def _record(self, tx: MTx) -> MTx:
        self.txs.append(tx)
        self.by_key[tx.key] = tx
        return tx

    def movement(self, op: str, user: int, amount: int, key: str, expires=None) -> tuple[MTx, bool]:
        """grant / spend / hold / adjust: (the transaction, whether it is new); raises Refused."""
        existing = self.by_key.get(key)
        if existing is not None:  # the same movement again moves nothing; another one is refused
            if existing.movement != (*MOVEMENT[op], user, amount):
                raise Refused("idempotency_conflict")
            return existing, False
        if op in (SPEND, HOLD, ADJUST_OUT) and self.available(user) < amount:
            raise Refused("insufficient_points")
        tx = MTx(op, user, amount, key, args=(expires,))
        if op in (GRANT, ADJUST_IN):
            self.seq += 1
            tx.lot = MLot(user, amount, expires, self.seq, remaining=amount, tx=tx)
            self.lots.append(tx.lot)
        else:
            tx.uses = self._take(user, amount)
        if op == HOLD:
            self.holds.append(MHold(tx))
        return self._record(tx), True

    def resolve(self, hold: MHold, to: str, now: datetime) -> tuple[MTx, bool]:
        if hold.status != "held":
            if hold.status == to:
                return hold.resolved_by, False
            raise Refused("hold_already_resolved")
        hold.status = to
        tx = MTx("settle" if to == "settled" else "release", hold.tx.user, hold.tx.amount, f"hold-resolve:{id(hold)}")
        if to == "released":
            self._put_back(hold.tx.uses, now)
        hold.resolved_by = tx
        self.txs.append(tx)
        return tx, True

    def reverse(self, original: MTx, now: datetime) -> tuple[MTx, bool]:
        if original.op in (HOLD, "settle", "release") or original.is_reversal:
            raise Refused("not_reversible")
        if original.reversed_by is not None:
            return original.reversed_by, False
        tx = MTx("reverse", original.user, original.amount, f"reverse:{id(original)}", is_reversal=True)
        if original.op in (GRANT, ADJUST_IN):  # take the credit back, from its own lot first
            if self.available(original.user) < original.amount:
                raise Refused("insufficient_points")
            tx.uses = self._take(original.user, original.amount, first=original.lot)
        else:  # spend, adjust-, expiry: the points go back where they came from
            self._put_back(original.uses, now)
        original.reversed_by = tx
        self.txs.append(tx)
        return tx, True

    def expire(self, now: datetime) -> list[MTx]:
        done = []
        for lot in self.lots:
            if lot.remaining > 0 and lot.expires is not None and lot.expires <= now:
                tx = MTx("expiry", lot.user, lot.remaining, f"expire:{id(lot)}", uses=[(lot, lot.remaining)])
                lot.remaining = 0
                self.txs.append(tx)
                done.append(tx)
        return done


# -- the test ---------------------------------------------------------------------------------

def _fresh_users(n: int) -> tuple[list[int], User]:
    users = [User(display_name=f"住户{i}") for i in range(n)]
    admin = User(display_name="管理员", roles=frozenset({"admin"}))
    db.session.add_all([*users, admin])
    db.session.commit()
    return [u.id for u in users], admin


def _tx_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction))


def _check(model: Model, expected_txs: int) -> None:
    """The database agrees with the model, and every invariant holds."""
    assert services.verify() == []
    assert _tx_count() == expected_txs
    for index, user_id in enumerate(model.users):
        balance = services.balance(user_id)
        assert (balance.available, balance.held) == (model.available(index), model.held(index)), f"user {index}"
        assert (balance.expiring, balance.expiring_before) == model.expiring(index, Clock.now), f"user {index}"
    stored = {row.transaction_id: (row.remaining, row.expires_at) for row in db.session.execute(
        sa.select(Lot.transaction_id, Lot.remaining, Lot.expires_at).join(
            PointsAccount, PointsAccount.id == Lot.account_id).where(PointsAccount.user_id.in_(model.users)))}
    assert stored == {lot.tx.db_id: (lot.remaining, lot.expires) for lot in model.lots}


def _identify_expiries(model: Model, expiries: list[MTx]) -> None:
    """Learn the database ids of the expiry transactions just posted (to reverse them later)."""
    if not expiries:
        return
    lot_of = {lot.tx.db_id: lot for lot in model.lots}
    known = {tx.db_id for tx in model.txs if tx.db_id is not None}
    rows = db.session.execute(sa.select(LotUse.transaction_id, Lot.transaction_id).join(
        Lot, Lot.id == LotUse.lot_id).join(LedgerTransaction, LedgerTransaction.id == LotUse.transaction_id).where(
        LedgerTransaction.kind == "expiry", Lot.transaction_id.in_(list(lot_of)))).all()
    new = {lot_of[grant_id]: expiry_id for expiry_id, grant_id in rows if expiry_id not in known}
    for tx in expiries:
        lot = tx.uses[0][0]
        tx.db_id = new.pop(lot)
    assert not new


def _amounts():
    return st.integers(1, 60)


def _key(data, prefix: str) -> str:
    """A fresh key, or one of a small pool (so keys collide across users, amounts and kinds)."""
    pooled = data.draw(st.one_of(st.none(), st.integers(0, 4)), label="pooled key")
    return f"{prefix}:{uuid.uuid4().hex[:8] if pooled is None else pooled}"


def _expiry(data) -> datetime | None:
    choice = data.draw(st.one_of(st.none(), st.just("policy"), st.tuples(st.integers(0, 200), st.integers(0, 23))),
                       label="expiry")
    if choice is None:
        return None
    if choice == "policy":
        return ledger.expiry_for(Clock.now)
    days, hours = choice
    return Clock.now + timedelta(days=days, hours=hours)


OPS = ["grant", "grant", "grant", "spend", "spend", "hold", "hold", "settle", "release", "reverse", "reverse",
       "expire", "expire", "adjust", "repost", "misuse"]


def _step(data, model: Model, admin: User, prefix: str):
    """Draw one step; returns (what the model expects, a thunk doing it against the ledger)."""
    op = data.draw(st.sampled_from(OPS), label="op")
    now = Clock.now
    if op in ("grant", "spend", "hold", "adjust", "repost", "misuse"):
        if op in ("repost", "misuse"):
            earlier = [tx for tx in model.txs if tx.op in MOVEMENT]
            if not earlier:
                return None
            tx = data.draw(st.sampled_from(earlier), label="re-posted")
            kind, user, amount, key, expires = tx.op, tx.user, tx.amount, tx.key, tx.args[0]
            if op == "misuse":  # the same key, user and amount for another movement
                others = [k for k in MOVEMENT if k != kind and k.startswith("adjust") == kind.startswith("adjust")]
                kind = data.draw(st.sampled_from(others), label="other movement")
                expires = Clock.now + timedelta(days=1)
        else:
            user = data.draw(st.integers(0, len(model.users) - 1), label="user")
            amount = data.draw(_amounts(), label="amount")
            key = _key(data, prefix)
            expires = None
            kind = {"grant": GRANT, "spend": SPEND, "hold": HOLD}.get(op)
            if op == "adjust":
                kind = data.draw(st.sampled_from([ADJUST_IN, ADJUST_OUT]), label="direction")
                key = f"adjust:{key}"
            if kind in (GRANT, ADJUST_IN):
                expires = _expiry(data) if kind == GRANT else ledger.expiry_for(now)
        user_id = model.users[user]

        def run():
            if kind == GRANT:
                return ledger.grant(user_id, amount, "test", key, "测试发放", expires_at=expires)
            if kind == SPEND:
                return ledger.spend(user_id, amount, "test", key, "测试消费")
            if kind == HOLD:
                return ledger.hold(user_id, amount, key, "测试冻结")
            return services.adjust(user_id, amount if kind == ADJUST_IN else -amount, "测试调整", admin,
                                   key=key.removeprefix("adjust:"))
        return lambda: model.movement(kind, user, amount, key, expires), run
    if op in ("settle", "release"):
        if not model.holds:
            return None
        hold = data.draw(st.sampled_from(model.holds), label="hold")
        to = "settled" if op == "settle" else "released"

        def run():
            record = db.session.get(Hold, hold.db_id)
            return (ledger.settle if op == "settle" else ledger.release)(record, "测试")
        return lambda: model.resolve(hold, to, now), run
    if op == "reverse":
        if not model.txs:
            return None
        original = data.draw(st.sampled_from(model.txs), label="reversed")
        return lambda: model.reverse(original, now), lambda: ledger.reverse(original.db_id, "测试冲正")
    # expire: time passes first
    days = data.draw(st.integers(0, 120), label="days pass")
    hours = data.draw(st.integers(0, 23), label="hours pass")
    Clock.now = now = now + timedelta(days=days, hours=hours)
    return lambda: model.expire(now), lambda: services.expire_due()


# Each step is a dozen statements and a commit: fewer examples on PostgreSQL, where every statement
# is a round trip (the model and the ledger code are the same on both databases).
@settings(max_examples=25 if ON_POSTGRES else 60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_movements_keep_every_promise(ctx, fake_now, data):
    # A fresh start: past every expiry earlier examples made, with their leftovers expired.
    Clock.now = Clock.floor + timedelta(days=1)
    while services.expire_due():
        db.session.commit()
    db.session.commit()
    users, admin = _fresh_users(data.draw(st.integers(1, 3), label="users"))
    model = Model(users, timedelta(days=ctx.config["POINTS_RETURN_GRACE_DAYS"]),
                  timedelta(days=ctx.config["POINTS_EXPIRY_NOTICE_DAYS"]))
    prefix = uuid.uuid4().hex[:10]
    expected_txs = _tx_count()
    for _ in range(data.draw(st.integers(1, 20), label="steps")):
        step = _step(data, model, admin, prefix)
        if step is None:
            continue
        expect, run = step
        try:
            predicted = expect()
        except Refused as refused:
            with pytest.raises(APIError) as raised:
                run()
            assert raised.value.code == refused.code
            db.session.rollback()
        else:
            result = run()
            if isinstance(predicted, list):  # expiry: one transaction per due lot
                assert result == len(predicted)
                _identify_expiries(model, predicted)
                new = predicted
            else:
                tx, created = predicted
                db_id = result.hold_transaction_id if isinstance(result, Hold) else result.transaction_id
                if isinstance(result, Hold):
                    hold = next(h for h in model.holds if h.tx is tx)
                    assert hold.db_id in (None, result.id)
                    hold.db_id = result.id
                else:
                    assert result.created == created
                if created:
                    tx.db_id = db_id
                else:
                    assert db_id == tx.db_id  # the first transaction again, nothing moved
                new = [tx] if created else []
            expected_txs += len(new)
            db.session.commit()
        for lot in model.lots:
            Clock.see(lot.expires)
        Clock.see(Clock.now)
        _check(model, expected_txs)


@pytest.mark.parametrize("undo", ["rollback", "savepoint"])
def test_a_system_account_created_by_a_refused_movement_is_not_remembered(ctx, undo):
    """The first movement into `redeemed` is refused, so the account it created is rolled back
    with it. Its id must not be cached: it names no row then, or on SQLite (which reuses rowids)
    the next account created, which would silently take the postings meant for `redeemed`."""
    (spender, other), _ = _fresh_users(2)
    if undo == "rollback":
        with pytest.raises(ledger.InsufficientPoints):
            ledger.spend(spender, 10, "test", "refused", "测试消费")
        db.session.rollback()
    else:  # a savepoint rolled back inside a transaction that commits (as decide_many does)
        with pytest.raises(ledger.InsufficientPoints), db.session.begin_nested():
            ledger.spend(spender, 10, "test", "refused", "测试消费")
        db.session.commit()
    ledger.grant(other, 5, "test", "g-other", "测试发放")
    ledger.grant(spender, 10, "test", "g", "测试发放")
    ledger.spend(spender, 10, "test", "s", "测试消费")
    db.session.commit()
    by_code = dict(db.session.execute(sa.select(PointsAccount.code, sa.func.sum(Posting.amount)).join(
        Posting, Posting.account_id == PointsAccount.id).where(PointsAccount.code.is_not(None)).group_by(
        PointsAccount.code)).all())
    assert by_code == {"issuance": -15, "redeemed": 10}
    assert (services.balance(spender).available, services.balance(other).available) == (0, 5)
    assert services.verify() == []
