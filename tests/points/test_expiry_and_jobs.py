"""Expiry (the policy, batches resumable after a crash, holds spared, the grace period), stale
redemptions voided, and what a resident sees before points expire."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.accounts.models import User
from core.extensions import db
from points import jobs, ledger, services
from points.models import Hold, LedgerTransaction, Lot, LotUse, Redemption, Reward

T0 = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


class FrozenClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """The points clock, frozen at T0; move it by setting `clock.now`."""
    frozen = FrozenClock(T0)
    monkeypatch.setattr(services, "utcnow", frozen)
    monkeypatch.setattr(ledger, "utcnow", frozen)
    return frozen


@pytest.fixture
def make_user(ctx):
    def make(name="测试住户", roles=frozenset({"resident"})) -> User:
        user = User(display_name=name, roles=roles)
        db.session.add(user)
        db.session.commit()
        return user
    return make


def expiries(lot_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(LotUse).join(
        LedgerTransaction, LedgerTransaction.id == LotUse.transaction_id).where(
        LotUse.lot_id == lot_id, LedgerTransaction.kind == "expiry"))


def lot_of(posted) -> Lot:
    return db.session.scalars(sa.select(Lot).where(Lot.transaction_id == posted.transaction_id)).one()


# -- the policy -------------------------------------------------------------------------------

@pytest.mark.parametrize("earned, expires", [
    # end of the 12th month after the month of earning, in Shanghai (the ends shown in UTC)
    (utc(2026, 11, 25, 4, 0), utc(2027, 11, 30, 16, 0)),
    (utc(2026, 1, 31, 15, 30), utc(2027, 1, 31, 16, 0)),  # Jan 31 23:30 in Shanghai: a January lot
    (utc(2026, 1, 31, 16, 30), utc(2027, 2, 28, 16, 0)),  # Feb 1 00:30 in Shanghai: a February lot
    (utc(2026, 12, 10, 4, 0), utc(2027, 12, 31, 16, 0)),  # December: into the next year
    (utc(2026, 12, 31, 16, 30), utc(2028, 1, 31, 16, 0)),  # already 2027 in Shanghai
    (utc(2027, 2, 10, 4, 0), utc(2028, 2, 29, 16, 0)),  # to the end of a leap February
])
def test_points_expire_at_the_end_of_the_twelfth_month_after_earning_in_shanghai(ctx, earned, expires):
    assert ctx.config["POINTS_EXPIRY_MONTHS"] == 12
    assert ledger.expiry_for(earned) == expires


def test_the_expiry_policy_is_configurable_and_zero_means_never(ctx, make_user, clock):
    ctx.config["POINTS_EXPIRY_MONTHS"] = 1
    assert ledger.expiry_for(utc(2026, 1, 15, 4, 0)) == utc(2026, 2, 28, 16, 0)
    user = make_user()
    assert lot_of(ledger.grant(user.id, 10, "test", "one-month", "x")).expires_at == ledger.expiry_for(T0)
    ctx.config["POINTS_EXPIRY_MONTHS"] = 0
    assert ledger.expiry_for(T0) is None
    never = ledger.grant(user.id, 10, "test", "never", "x")
    adjusted = services.adjust(user.id, 5, "补发", make_user("管理员", frozenset({"admin"})), key="adj")
    db.session.commit()
    assert lot_of(never).expires_at is None and lot_of(adjusted).expires_at is None
    clock.now = utc(2100, 1, 1)
    assert services.expire_due() == 1  # only the one-month lot
    assert services.balance(user.id).available == 15


# -- expire_due: batches, crashes, reruns -----------------------------------------------------

def _due_lots(make_user, n_due=7) -> tuple[list[int], list[int], list[int]]:
    """n_due lots past their expiry over three users, plus two that must not expire."""
    users = [make_user(f"住户{i}").id for i in range(3)]
    due = [lot_of(ledger.grant(users[i % 3], 10 + i, "test", f"due:{i}", "x",
                               expires_at=T0 - timedelta(days=i + 1))).id for i in range(n_due)]
    keep = [lot_of(ledger.grant(users[0], 100, "test", "later", "x", expires_at=T0 + timedelta(days=1))).id,
            lot_of(ledger.grant(users[1], 100, "test", "never", "x", expires_at=None)).id]
    db.session.commit()
    return users, due, keep


def _expired_once(due, keep) -> None:
    assert [expiries(lot_id) for lot_id in due] == [1] * len(due)
    assert [expiries(lot_id) for lot_id in keep] == [0, 0]
    assert all(db.session.get(Lot, lot_id).remaining == 0 for lot_id in due)
    assert services.verify() == []


def test_expire_due_in_batches_resumes_after_a_crash_and_expires_each_lot_once(make_user, clock, monkeypatch):
    users, due, keep = _due_lots(make_user)
    assert services.expire_due(limit=2) == 2
    db.session.commit()
    # A crash after a batch did its work but before its commit: the work is lost, not half-kept.
    assert services.expire_due(limit=2) == 2
    db.session.rollback()
    # A crash in the middle of a batch (the second lot's posting fails).
    real_post, calls = ledger.post, []

    def failing_post(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("the process died")
        return real_post(*args, **kwargs)
    monkeypatch.setattr(ledger, "post", failing_post)
    with pytest.raises(RuntimeError):
        services.expire_due(limit=2)
    db.session.rollback()
    monkeypatch.setattr(ledger, "post", real_post)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
        LedgerTransaction.kind == "expiry")) == 2  # only the first committed batch
    counts = []
    while done := services.expire_due(limit=2):
        counts.append(done)
        db.session.commit()
    assert counts == [2, 2, 1]
    _expired_once(due, keep)
    assert services.expire_due() == 0  # a rerun finds nothing
    assert [services.balance(u).available for u in users] == [100, 100, 0]


def test_the_expiry_job_commits_batch_by_batch_and_a_rerun_finishes_the_rest(make_user, clock, monkeypatch):
    users, due, keep = _due_lots(make_user)
    real, calls = services.expire_due, []

    def crashing_on_the_third_batch(limit=500, now=None):
        calls.append(limit)
        if len(calls) == 3:
            raise RuntimeError("the process died")
        return real(limit=2, now=now)
    monkeypatch.setattr(services, "expire_due", crashing_on_the_third_batch)
    with pytest.raises(RuntimeError):
        jobs.expire_points()
    db.session.rollback()
    assert sum(expiries(lot_id) for lot_id in due) == 4  # two batches were committed
    monkeypatch.setattr(services, "expire_due", lambda limit=500, now=None: real(limit=2, now=now))
    assert jobs.expire_points() == 3
    _expired_once(due, keep)
    assert jobs.expire_points() == 0


# -- holds and the grace period ---------------------------------------------------------------

@pytest.fixture
def reward(make_user):
    def make(cost=60, stock=None, **fields) -> Reward:
        admin = make_user("管理员", frozenset({"admin"}))
        created = services.create_reward({"name": "保温杯", "cost": cost, "stock": stock, **fields}, admin)
        db.session.commit()
        return created
    return make


def test_held_points_never_expire_under_a_pending_redemption_and_return_with_grace(ctx, make_user, reward,
                                                                                   clock):
    resident, admin = make_user(), make_user("管理员", frozenset({"admin"}))
    lot = lot_of(ledger.grant(resident.id, 100, "test", "g", "x", expires_at=T0 + timedelta(days=10)))
    redemption = services.redeem(resident, reward(cost=60).id)
    db.session.commit()
    assert redemption.status == "pending"

    clock.now = T0 + timedelta(days=11)
    assert services.expire_due() == 1  # the 40 left in the lot; the 60 on hold stay held
    db.session.commit()
    balance = services.balance(resident.id)
    assert (balance.available, balance.held) == (0, 60)
    assert services.verify() == []

    clock.now = T0 + timedelta(days=12)
    services.reject(redemption.id, admin, "缺货")
    db.session.commit()
    grace = timedelta(days=ctx.config["POINTS_RETURN_GRACE_DAYS"])
    db.session.refresh(lot)
    assert (lot.remaining, lot.expires_at) == (60, clock.now + grace)
    balance = services.balance(resident.id)
    assert (balance.available, balance.held, balance.expiring, balance.expiring_before) == (
        60, 0, 60, clock.now + grace)

    deadline = clock.now + grace
    clock.now = deadline - timedelta(seconds=1)
    assert services.expire_due() == 0
    clock.now = deadline
    assert services.expire_due() == 1
    db.session.commit()
    assert services.balance(resident.id).available == 0
    assert services.verify() == []


def test_points_released_before_their_expiry_keep_their_date(ctx, make_user, reward, clock):
    resident = make_user()
    lot = lot_of(ledger.grant(resident.id, 100, "test", "g", "x", expires_at=T0 + timedelta(days=10)))
    redemption = services.redeem(resident, reward(cost=60).id)
    clock.now = T0 + timedelta(days=3)
    services.cancel(redemption.id, resident)
    db.session.commit()
    db.session.refresh(lot)
    assert (lot.remaining, lot.expires_at) == (100, T0 + timedelta(days=10))


def test_the_grace_date_is_exact_whatever_the_database_session_time_zone(app_config, monkeypatch):
    """Lots store naive UTC. A PostgreSQL server set to Asia/Shanghai (initdb takes the host's
    zone) must not shift the grace date a release computes by 8 hours."""
    if not app_config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite has no session time zone")
    from core import create_app
    app = create_app({**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {
        "connect_args": {"options": "-c timezone=Asia/Shanghai"}}})
    clock = FrozenClock(T0)
    monkeypatch.setattr(ledger, "utcnow", clock)
    with app.app_context():
        assert db.session.scalar(sa.text("SHOW timezone")) == "Asia/Shanghai"
        resident = User(display_name="住户")
        db.session.add(resident)
        db.session.flush()
        lot = lot_of(ledger.grant(resident.id, 100, "test", "g", "x", expires_at=T0 + timedelta(days=1)))
        held = ledger.hold(resident.id, 100, "h", "x")
        clock.now = T0 + timedelta(days=2)
        ledger.release(held, "退回")
        db.session.commit()
        db.session.refresh(lot)
        assert lot.expires_at == clock.now + timedelta(days=app.config["POINTS_RETURN_GRACE_DAYS"])
        assert services.verify() == []
        db.session.remove()
        db.engine.dispose()


# -- stale redemptions ------------------------------------------------------------------------

def test_void_stale_voids_undecided_redemptions_and_returns_points_and_stock(ctx, make_user, reward, clock):
    resident, admin = make_user(), make_user("管理员", frozenset({"admin"}))
    ledger.grant(resident.id, 500, "test", "g", "x")
    cup = reward(cost=50, stock=5)
    stale = services.redeem(resident, cup.id, quantity=2)
    decided = services.redeem(resident, cup.id)
    db.session.commit()
    services.approve(decided.id, admin)
    clock.now = T0 + timedelta(days=1)
    fresh = services.redeem(resident, cup.id)
    db.session.commit()
    days = ctx.config["REDEMPTION_DECISION_DAYS"]
    assert stale.decide_by == T0 + timedelta(days=days)
    assert (services.balance(resident.id).available, db.session.get(Reward, cup.id).stock) == (300, 1)

    assert services.void_stale(now=T0 + timedelta(days=days) - timedelta(seconds=1)) == 0
    clock.now = T0 + timedelta(days=days)
    assert jobs.void_stale_redemptions() == 1  # the job: services.void_stale, committed
    db.session.expire_all()
    stale = db.session.get(Redemption, stale.id)
    assert stale.status == "voided" and stale.reason and stale.decided_at == clock.now
    assert [(e.status, e.actor_id) for e in stale.events] == [("pending", resident.id), ("voided", None)]
    assert db.session.get(Hold, stale.hold_id).status == "released"
    assert (db.session.get(Redemption, decided.id).status, db.session.get(Redemption, fresh.id).status) == (
        "approved", "pending")
    balance = services.balance(resident.id)
    assert (balance.available, balance.held, db.session.get(Reward, cup.id).stock) == (400, 50, 3)
    assert services.void_stale() == 0  # once
    assert services.verify() == []


# -- what a resident sees ---------------------------------------------------------------------

def _expiring_lots(user_id: int) -> None:
    for key, amount, days in (("a", 50, 10), ("b", 20, 30), ("c", 30, 31), ("d", 5, None), ("e", 7, -1)):
        ledger.grant(user_id, amount, "test", key, "x",
                     expires_at=None if days is None else T0 + timedelta(days=days))
    db.session.commit()


def test_balance_shows_the_points_due_within_thirty_days(make_user, clock):
    user = make_user()
    _expiring_lots(user.id)
    balance = services.balance(user.id)
    # a (10 days), b (30 days) and e (already due, not yet expired by the job); not c nor d
    assert (balance.available, balance.expiring, balance.expiring_before) == (112, 77, T0 - timedelta(days=1))
    services.expire_due()
    db.session.commit()
    balance = services.balance(user.id)
    assert (balance.expiring, balance.expiring_before) == (70, T0 + timedelta(days=10))


def test_my_points_shows_what_expires_within_thirty_days(app, client, login, clock):
    resident = login()
    with app.app_context():
        _expiring_lots(resident.user_id)
        services.expire_due()
        db.session.commit()
    body = client.get("/api/v1/me/points", headers=resident.headers).json
    assert (body["balance"], body["held"], body["expiring"]["points"]) == (105, 0, 70)
    assert datetime.fromisoformat(body["expiring"]["before"]) == T0 + timedelta(days=10)
