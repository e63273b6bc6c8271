"""The ledger under real concurrency: threads with their own app context, session and connection,
released together by a Barrier (and checked to have overlapped).

PostgreSQL only: SQLite serialises writers, so it cannot show these races. Redemptions and
approvals go through the API, as the mini-program and the console make them; grants, earnings
and jobs call the services, as the other packages and the scheduler do.
"""
import threading
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.accounts import services as accounts
from core.accounts.models import User
from core.db import utcnow
from core.extensions import db
from points import jobs, ledger, services
from points.models import EarningCounter, EarningRule, LedgerTransaction, Lot, LotUse, Redemption, Reward
from tests.concurrency import cli_verify, in_own_context, outcomes, race
from tests.conftest import ON_POSTGRES, Account

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


@pytest.fixture
def app_config(app_config):
    """A connection for every thread of the largest crowd (50), so none waits for the pool."""
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 52, "max_overflow": 0, "pool_timeout": 30}
    return app_config


# -- setup helpers ----------------------------------------------------------------------------

def new_user(app, name="住户", roles=frozenset({"resident"})) -> int:
    with app.app_context():
        user = User(display_name=name, roles=roles)
        db.session.add(user)
        db.session.commit()
        return user.id


def residents(app, n: int) -> list[Account]:
    """n residents with a mini-program token each (made directly: fifty logins cost seconds)."""
    with app.app_context():
        users = [User(display_name=f"住户{i}") for i in range(n)]
        db.session.add_all(users)
        db.session.flush()
        tokens = [accounts.issue_token(user, "wechat")[0] for user in users]
        db.session.commit()
        return [Account(user_id=user.id, token=token) for user, token in zip(users, tokens)]


def give(app, user_ids: list[int], amount: int) -> None:
    with app.app_context():
        for user_id in user_ids:
            ledger.grant(user_id, amount, "test", f"seed:{user_id}:{uuid.uuid4().hex}", "测试发放")
        db.session.commit()


def new_reward(app, cost: int, stock: int | None) -> int:
    admin = new_user(app, "奖品管理员", frozenset({"admin"}))
    with app.app_context():
        reward = services.create_reward({"name": "保温杯", "cost": cost, "stock": stock}, db.session.get(User, admin))
        db.session.commit()
        return reward.id


def redeem_call(app, account, reward_id: int):
    """One redemption as the mini-program makes it: `POST /api/v1/redemptions`."""
    def call():
        response = app.test_client().post("/api/v1/redemptions", json={"reward_id": reward_id, "quantity": 1},
                                          headers={**account.headers, "Idempotency-Key": uuid.uuid4().hex})
        if response.status_code == 201:
            return "ok", response.json["id"]
        assert response.status_code == 409, response.json
        return "error", response.json["error"]["code"]
    return call


def state(app, user_id: int, reward_id: int) -> tuple[int, int, int | None]:
    with app.app_context():
        balance = services.balance(user_id)
        return balance.available, balance.held, db.session.get(Reward, reward_id).stock


# -- redemptions ------------------------------------------------------------------------------

def test_fifty_redemptions_against_a_balance_for_k_of_them(app):
    k, cost = 7, 10
    [resident] = residents(app, 1)
    give(app, [resident.user_id], k * cost + cost - 1)  # one point short of k + 1
    reward = new_reward(app, cost, stock=100)
    results = race([redeem_call(app, resident, reward) for _ in range(50)])

    assert outcomes(results) == {"ok": k, "insufficient_points": 50 - k}
    assert state(app, resident.user_id, reward) == (cost - 1, k * cost, 100 - k)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Redemption).where(
            Redemption.status == "pending")) == k
    cli_verify(app)


def test_fifty_redemptions_of_a_reward_with_stock_for_k(app):
    """Fifty residents with points enough: the stock (a conditional decrement) is the only limit."""
    k, cost = 5, 10
    crowd = residents(app, 50)
    give(app, [resident.user_id for resident in crowd], 100)
    reward = new_reward(app, cost, stock=k)
    results = race([redeem_call(app, resident, reward) for resident in crowd])

    assert outcomes(results) == {"ok": k, "out_of_stock": 50 - k}
    winners = {resident.user_id for resident, (kind, _) in zip(crowd, results) if kind == "ok"}
    for resident in crowd:
        won = resident.user_id in winners
        assert state(app, resident.user_id, reward) == (100 - cost * won, cost * won, 0)
    cli_verify(app)


def test_two_admins_approving_one_redemption_decide_it_once(app, make_admin):
    [resident] = residents(app, 1)
    give(app, [resident.user_id], 100)
    reward = new_reward(app, 30, stock=3)
    kind, redemption_id = redeem_call(app, resident, reward)()
    assert kind == "ok"
    admins = [make_admin(), make_admin()]

    def approve(admin):
        def call():
            response = app.test_client().post(f"/api/v1/admin/redemptions/{redemption_id}/approve",
                                              headers=admin.headers)
            if response.status_code == 200:
                return "ok", response.json["status"]
            assert response.status_code == 409, response.json
            return "error", response.json["error"]["code"]
        return call

    results = race([approve(admin) for admin in admins])
    assert outcomes(results) == {"ok": 1, "redemption_already_decided": 1}
    assert state(app, resident.user_id, reward) == (70, 0, 2)
    with app.app_context():
        from core.models import AuditEntry
        redemption = db.session.get(Redemption, redemption_id)
        assert redemption.status == "approved"
        assert [e.status for e in redemption.events] == ["pending", "approved"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "settle")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "points.redemption.approve")) == 1
    cli_verify(app)


# -- grants and earning -----------------------------------------------------------------------

def test_twenty_grants_with_one_key_make_one_transaction(app):
    user = new_user(app)
    results = race([in_own_context(app, lambda: ledger.grant(user, 100, "task", "task:42", "完成任务"))
                    for _ in range(20)])

    assert {kind for kind, _ in results} == {"ok"}
    posted = [value for _, value in results]
    assert sum(p.created for p in posted) == 1
    assert len({p.transaction_id for p in posted}) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.idempotency_key == "task:42")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Lot)) == 1
        assert services.balance(user).available == 100
    cli_verify(app)


def test_fifty_earnings_under_a_daily_cap_for_n(app):
    n, points = 7, 10
    user = new_user(app)
    with app.app_context():
        db.session.add(EarningRule(kind="task", name="完成任务", points=points, daily_cap=n * points))
        db.session.commit()

    def earn(i):
        def work():
            try:
                return services.earn(user, "task", f"task:{i}", "完成任务").created
            except services.EarningRefused as refused:
                return refused.code  # nothing written: the caller's transaction commits anyway
        return in_own_context(app, work)

    results = race([earn(i) for i in range(50)])
    assert sorted(str(value) for _, value in results) == ["True"] * n + ["earning_daily_cap"] * (50 - n)
    with app.app_context():
        assert db.session.scalars(sa.select(EarningCounter.points)).all() == [n * points]
        assert services.balance(user).available == n * points
    cli_verify(app)


# -- expiry -----------------------------------------------------------------------------------

@pytest.mark.parametrize("batch", [500, 3])
def test_concurrent_expiry_jobs_expire_each_lot_once(app, monkeypatch, batch):
    users = [new_user(app, f"住户{i}") for i in range(8)]
    past = utcnow() - timedelta(days=1)
    with app.app_context():
        for i in range(40):
            ledger.grant(users[i % 8], 10 + i, "test", f"due:{i}", "x", expires_at=past - timedelta(minutes=i % 5))
        db.session.commit()
    real = services.expire_due
    monkeypatch.setattr(services, "expire_due", lambda limit=500, now=None: real(limit=min(limit, batch), now=now))

    def job():
        with app.app_context():
            try:
                return jobs.expire_points()
            finally:
                db.session.remove()

    results = race([job, job])
    assert sum(results) == 40
    with app.app_context():
        per_lot = db.session.execute(sa.select(LotUse.lot_id, sa.func.count()).join(
            LedgerTransaction, LedgerTransaction.id == LotUse.transaction_id).where(
            LedgerTransaction.kind == "expiry").group_by(LotUse.lot_id)).all()
        assert len(per_lot) == 40 and {count for _, count in per_lot} == {1}
        assert all(services.balance(u).available == 0 for u in users)
    cli_verify(app)


def test_a_release_committed_while_the_expiry_job_waits_keeps_its_grace(app):
    """The job picks a due lot, then waits for its account's lock while a rejected redemption
    puts points back into that lot (with a new, later expiry). When the job gets the lock, the
    lot is no longer due: the returned points must keep their grace period."""
    user = new_user(app)
    with app.app_context():
        lot_tx = ledger.grant(user, 100, "test", "g", "x", expires_at=utcnow() - timedelta(minutes=1))
        hold_id = ledger.hold(user, 60, "h", "x").id  # the job has not run yet: the lot is still spendable
        db.session.commit()  # the lot is due, with 40 left in it

    job_result = []
    with app.app_context():
        ledger.release(db.session.get(ledger.Hold, hold_id), "退回")  # holds the account's lock until commit
        job = threading.Thread(target=lambda: job_result.append(in_own_context(app, services.expire_due)()))
        job.start()
        _wait_until_blocked(app)
        db.session.commit()
    job.join(timeout=30)
    assert job_result == [("ok", 0)]
    with app.app_context():
        lot = db.session.scalars(sa.select(Lot).where(Lot.transaction_id == lot_tx.transaction_id)).one()
        assert lot.remaining == 100 and lot.expires_at > utcnow() + timedelta(days=29)
        assert services.balance(user).available == 100
    cli_verify(app)


def _wait_until_blocked(app, timeout: float = 10) -> None:
    """Until another connection waits for a row lock."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    try:
        deadline = time.monotonic() + timeout
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                if conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND wait_event_type = 'Lock'")).scalar():
                    return
                conn.rollback()
                time.sleep(0.02)
        raise AssertionError("the job never waited for the lock")
    finally:
        engine.dispose()
