"""The ledger's basic movements, as service calls inside an app context."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.accounts.models import User
from core.db import utcnow
from core.extensions import db
from points import ledger, services
from points.models import Lot


@pytest.fixture
def user_id(ctx):
    user = User(display_name="测试住户")
    db.session.add(user)
    db.session.commit()
    return user.id


def test_grant_spend_hold_release_settle_keep_every_invariant(user_id):
    ledger.grant(user_id, 100, "test", "g1", "测试发放")
    ledger.grant(user_id, 50, "test", "g2", "测试发放")
    assert services.balance(user_id).available == 150
    ledger.spend(user_id, 30, "test", "s1", "测试消费")
    h = ledger.hold(user_id, 70, "h1", "测试冻结")
    assert services.balance(user_id).available == 50 and services.balance(user_id).held == 70
    ledger.release(h, "退回")
    assert services.balance(user_id).available == 120 and services.balance(user_id).held == 0
    h2 = ledger.hold(user_id, 20, "h2", "测试冻结")
    ledger.settle(h2, "结算")
    assert services.balance(user_id).available == 100
    db.session.commit()
    assert services.verify() == []


def test_same_key_posts_once_and_a_different_movement_is_a_conflict(user_id):
    first = ledger.grant(user_id, 10, "test", "k", "发放")
    again = ledger.grant(user_id, 10, "test", "k", "发放")
    assert first.created and not again.created and again.transaction_id == first.transaction_id
    assert services.balance(user_id).available == 10
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.grant(user_id, 11, "test", "k", "发放")


def test_spending_more_than_the_balance_is_refused(user_id):
    ledger.grant(user_id, 10, "test", "g", "发放")
    with pytest.raises(ledger.InsufficientPoints):
        ledger.spend(user_id, 11, "test", "s", "消费")


def test_lots_are_spent_soonest_expiry_first(user_id):
    now = utcnow()
    ledger.grant(user_id, 10, "test", "late", "x", expires_at=now + timedelta(days=300))
    ledger.grant(user_id, 10, "test", "never", "x", expires_at=None)
    ledger.grant(user_id, 10, "test", "soon", "x", expires_at=now + timedelta(days=3))
    ledger.spend(user_id, 15, "test", "s", "x")
    left = dict(db.session.execute(sa.select(Lot.transaction_id, Lot.remaining)).all())
    txs = {k: db.session.scalar(sa.text("select id from points_transactions where idempotency_key = :k"), {"k": k})
           for k in ("late", "never", "soon")}
    assert left[txs["soon"]] == 0 and left[txs["late"]] == 5 and left[txs["never"]] == 10


def test_expiry_moves_due_lots_and_spares_held_points(user_id):
    now = utcnow()
    ledger.grant(user_id, 100, "test", "g", "x", expires_at=now + timedelta(days=1))
    h = ledger.hold(user_id, 60, "h", "x")
    assert ledger.expire_due(now=now + timedelta(days=2)) == 1
    assert services.balance(user_id).available == 0
    assert ledger.expire_due(now=now + timedelta(days=2)) == 0  # nothing left, nothing twice
    ledger.release(h, "退回")  # the lot expired meanwhile: the points come back with a grace period
    assert services.balance(user_id).available == 60
    db.session.commit()
    assert services.verify() == []


def test_reverse_a_grant_and_a_spend(user_id):
    g = ledger.grant(user_id, 40, "test", "g", "x")
    s = ledger.spend(user_id, 10, "test", "s", "x")
    ledger.reverse(s.transaction_id, "冲正")
    assert services.balance(user_id).available == 40
    ledger.reverse(g.transaction_id, "冲正")
    assert services.balance(user_id).available == 0
    assert not ledger.reverse(g.transaction_id, "冲正").created  # once
    db.session.commit()
    assert services.verify() == []


def test_the_database_refuses_to_change_ledger_rows(user_id):
    ledger.grant(user_id, 5, "test", "g", "x")
    db.session.commit()
    for statement in ("UPDATE points_postings SET amount = 1000", "DELETE FROM points_postings",
                      "UPDATE points_transactions SET amount = 1", "DELETE FROM points_transactions"):
        with pytest.raises(sa.exc.DatabaseError):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert services.verify() == []
