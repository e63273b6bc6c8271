"""Pending grants: promised points that become spendable when their window ends (orders), cancelled
inside it, reversed exactly after it; caps, one key once, the release job, and `pending` in reads."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core import signals
from core.accounts.models import User
from core.db import utcnow
from core.errors import Conflict
from core.extensions import db
from points import jobs, ledger, services
from points.models import EarningRule, LedgerTransaction, PendingGrant

RELEASE = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)


@pytest.fixture
def user_id(ctx):
    user = User(display_name="测试管家")
    db.session.add(user)
    db.session.commit()
    return user.id


def rule(kind="order_steward", points=2, daily_cap=None, lifetime_cap=None, enabled=True) -> str:
    db.session.merge(EarningRule(kind=kind, name="管家客户下单（每元）", points=points, daily_cap=daily_cap,
                                 lifetime_cap=lifetime_cap, enabled=enabled))
    db.session.commit()
    return kind


def promise(user_id, key="order:A1:steward", quantity=50, release_at=RELEASE, kind="order_steward"):
    pending = services.earn_pending(user_id, kind, key, "订单 A1 管家奖励", release_at=release_at, quantity=quantity)
    db.session.commit()
    return pending


def state(user_id):
    b = services.balance(user_id)
    return b.available, b.pending


def test_a_promise_moves_no_points_and_shows_as_pending(user_id):
    rule()
    pending = promise(user_id)
    assert pending.created and pending.grant.amount == 100 and pending.grant.status == "pending"
    assert state(user_id) == (0, 100)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == 0
    assert services.verify() == []


def test_release_at_the_window_edge(user_id):
    rule()
    promise(user_id)
    assert services.release_pending(now=RELEASE - timedelta(seconds=1)) == 0
    db.session.commit()
    assert state(user_id) == (0, 100)
    assert services.release_pending(now=RELEASE) == 1
    db.session.commit()
    assert state(user_id) == (100, 0)
    grant = db.session.scalars(sa.select(PendingGrant)).one()
    tx = db.session.get(LedgerTransaction, grant.transaction_id)
    assert grant.status == "released" and tx.idempotency_key == "order:A1:steward" and tx.amount == 100
    assert tx.kind == "order_steward"
    assert services.release_pending(now=RELEASE + timedelta(days=1)) == 0  # released once
    db.session.commit()
    assert state(user_id) == (100, 0) and services.verify() == []


def test_a_crash_mid_batch_loses_nothing(user_id):
    rule()
    for n in range(3):
        promise(user_id, key=f"order:C{n}:steward", quantity=1)
    assert services.release_pending(limit=2, now=RELEASE) == 2
    db.session.rollback()  # the process died before the batch committed
    assert state(user_id) == (0, 6)
    from core.scheduler import in_batches
    assert in_batches(lambda: services.release_pending(limit=2, now=RELEASE)) == 3
    assert state(user_id) == (6, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == 3


def test_the_release_job_releases_only_what_is_due(user_id, monkeypatch):
    rule()
    now = utcnow()
    promise(user_id, key="order:due:steward", quantity=3, release_at=now - timedelta(minutes=1))
    promise(user_id, key="order:later:steward", quantity=4, release_at=now + timedelta(days=1))
    assert jobs.release_pending_points() == 1
    assert state(user_id) == (6, 8)
    from core.scheduler import all_jobs
    assert any(j.name == "release-pending-points" and j.func is jobs.release_pending_points for j in all_jobs())


def test_a_cancel_inside_the_window_means_the_points_never_were(user_id):
    rule()
    promise(user_id)
    assert services.cancel_pending("order:A1:steward", "订单退款") is True
    db.session.commit()
    assert state(user_id) == (0, 0)
    assert services.release_pending(now=RELEASE + timedelta(days=30)) == 0
    assert services.cancel_pending("order:A1:steward", "订单退款") is False
    assert services.cancel_pending("order:nope:steward", "订单退款") is False
    grant = db.session.scalars(sa.select(PendingGrant)).one()
    assert grant.status == "cancelled" and "已取消：订单退款" in grant.reason
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == 0


def test_take_back_inside_the_window_cancels(user_id):
    rule()
    promise(user_id)
    taken = services.take_back("order:A1:steward", "订单退款")
    db.session.commit()
    assert (taken.state, taken.amount, taken.taken, taken.shortfall) == ("cancelled", 100, 0, 0)
    assert state(user_id) == (0, 0)
    assert services.take_back("order:A1:steward", "订单退款").state == "already"
    assert services.take_back("order:unknown:steward", "订单退款").state == "none"


def test_take_back_after_release_reverses_exactly(user_id):
    rule()
    ledger.grant(user_id, 30, "task", "task:1", "任务奖励")
    promise(user_id)
    services.release_pending(now=RELEASE)
    db.session.commit()
    assert state(user_id) == (130, 0)
    taken = services.take_back("order:A1:steward", "订单退款")
    db.session.commit()
    assert (taken.state, taken.amount, taken.taken, taken.shortfall) == ("reversed", 100, 100, 0)
    assert state(user_id) == (30, 0)
    reversal = db.session.get(LedgerTransaction, taken.transaction_id)
    grant = db.session.scalars(sa.select(PendingGrant)).one()
    assert reversal.reverses_id == grant.transaction_id and reversal.amount == 100
    again = services.take_back("order:A1:steward", "订单退款")
    assert (again.state, again.taken, again.transaction_id) == ("already", 100, reversal.id)
    db.session.commit()
    assert state(user_id) == (30, 0) and services.verify() == []


def test_take_back_after_spending_takes_what_is_left_and_records_the_shortfall(user_id):
    rule()
    promise(user_id)
    services.release_pending(now=RELEASE)
    ledger.spend(user_id, 70, "spend", "shop:1", "兑换")
    db.session.commit()
    assert state(user_id) == (30, 0)
    taken = services.take_back("order:A1:steward", "订单退款")
    db.session.commit()
    assert (taken.state, taken.amount, taken.taken, taken.shortfall) == ("reversed", 100, 30, 70)
    assert state(user_id) == (0, 0)
    reversal = db.session.get(LedgerTransaction, taken.transaction_id)
    assert reversal.amount == 30 and reversal.kind == "reverse" and "差额 70" in reversal.reason
    # The grant is reversed for good: neither a second take-back nor an admin reversal takes more.
    assert services.take_back("order:A1:steward", "订单退款").taken == 30
    with pytest.raises(Conflict):
        ledger.reverse(reversal.reverses_id, "再冲正")
    db.session.rollback()
    assert state(user_id) == (0, 0) and services.verify() == []


def test_take_back_of_an_empty_balance_moves_nothing_and_owes_everything(user_id):
    rule()
    promise(user_id)
    services.release_pending(now=RELEASE)
    ledger.spend(user_id, 100, "spend", "shop:1", "兑换")
    db.session.commit()
    taken = services.take_back("order:A1:steward", "订单退款")
    db.session.commit()
    assert (taken.state, taken.taken, taken.shortfall, taken.transaction_id) == ("reversed", 0, 100, None)
    assert state(user_id) == (0, 0) and services.verify() == []


def test_the_same_key_is_one_promise(user_id):
    rule()
    first = promise(user_id)
    again = promise(user_id)
    assert not again.created and again.grant.id == first.grant.id
    assert state(user_id) == (0, 100)
    with pytest.raises(services.IdempotencyConflict) as caught:
        promise(user_id, quantity=51)  # same key, another amount
    assert caught.value.status == 409
    db.session.rollback()
    other = User(display_name="另一人")
    db.session.add(other)
    db.session.commit()
    with pytest.raises(services.IdempotencyConflict):
        promise(other.id)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingGrant)) == 1


def test_caps_count_the_promise_and_a_refused_promise_writes_nothing(user_id):
    rule(daily_cap=10, lifetime_cap=14)
    promise(user_id, key="order:1:steward", quantity=4)  # 8 of 10 today
    with pytest.raises(services.EarningRefused) as caught:
        promise(user_id, key="order:2:steward", quantity=2)  # 12 > 10
    assert caught.value.code == "earning_daily_cap"
    db.session.rollback()
    promise(user_id, key="order:3:steward", quantity=1)  # 10 of 10
    assert state(user_id) == (0, 10)
    # A cancellation does not give the cap back: a buy-and-refund cycle cannot earn past it.
    assert services.cancel_pending("order:3:steward", "退款")
    db.session.commit()
    with pytest.raises(services.EarningRefused):
        promise(user_id, key="order:4:steward", quantity=1)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingGrant)) == 2


def test_a_refused_promise_leaves_no_row_when_the_caller_goes_on(user_id):
    """earn_pending inserts the promise before it counts the caps: a refusal takes the row back out
    itself, since a caller that catches the refusal (a rated binding) commits its own work."""
    rule(daily_cap=10)
    promise(user_id, key="order:1:steward", quantity=4)  # 8 of 10 today
    with pytest.raises(services.EarningRefused):
        promise(user_id, key="order:2:steward", quantity=2)  # 12 > 10
    db.session.commit()  # no rollback: the caller's work goes on
    assert services.pending_by_key("order:2:steward") is None
    assert state(user_id) == (0, 8)
    promise(user_id, key="order:2:steward", quantity=1)  # the key is free again: 10 of 10
    assert state(user_id) == (0, 10)


def test_a_disabled_rule_promises_nothing(user_id):
    rule(enabled=False)
    with pytest.raises(services.EarningRefused) as caught:
        promise(user_id)
    assert caught.value.code == "earning_rule_disabled"
    assert state(user_id) == (0, 0)


def test_each_release_is_announced_once(user_id):
    rule()
    promise(user_id)
    seen = []

    def receiver(sender, **released):
        seen.append(released)

    with signals.points_released.connected_to(receiver):
        services.release_pending(now=RELEASE)
        services.release_pending(now=RELEASE)
    assert seen == [{"user_id": user_id, "kind": "order_steward", "amount": 100, "key": "order:A1:steward"}]


# -- the API and the console --------------------------------------------------------------------

def test_me_points_shows_pending_beside_balance(app, client, login):
    account = login()
    with app.app_context():
        rule()
        ledger.grant(account.user_id, 5, "task", "task:me", "任务奖励")
        services.earn_pending(account.user_id, "order_steward", "order:ME:steward", "订单奖励",
                              release_at=utcnow() + timedelta(days=7), quantity=21)
        db.session.commit()
    body = client.get("/api/v1/me/points", headers=account.headers).json
    assert body["balance"] == 5 and body["pending"] == 42 and body["held"] == 0


def test_admins_see_pending_in_the_user_points_api_and_page(app, client, admin, login, web_login):
    account = login()
    with app.app_context():
        rule()
        services.earn_pending(account.user_id, "order_steward", "order:ADM:steward", "订单奖励",
                              release_at=utcnow() + timedelta(days=7), quantity=6)
        db.session.commit()
        from core.accounts import services as accounts
        accounts.create_staff("pendingadmin", "admin-pass-1", {"admin"})
        db.session.commit()
    body = client.get(f"/api/v1/admin/users/{account.user_id}/points", headers=admin.headers).json
    assert body["pending"] == 12 and body["balance"] == 0
    web_login("pendingadmin", "admin-pass-1")
    page = client.get(f"/admin/points/users/{account.user_id}").get_data(as_text=True)
    assert 'data-testid="pending">12<' in page


def test_points_verify_cli_stays_clean(app, user_id):
    rule()
    promise(user_id)
    services.release_pending(now=RELEASE)
    db.session.commit()
    services.take_back("order:A1:steward", "退款")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["points", "verify"])
    assert result.exit_code == 0, result.output


def test_verify_notices_a_pending_grant_that_disagrees_with_the_ledger(user_id):
    rule()
    promise(user_id)
    assert services.verify() == []
    ledger.grant(user_id, 100, "order_steward", "order:A1:steward", "绕过待入账直接发放")
    db.session.commit()
    assert services.verify() == [f"pending grant {db.session.scalar(sa.select(PendingGrant.id))} is pending "
                                 "but its key was posted"]
