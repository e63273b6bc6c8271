"""The order integration under real concurrency (PostgreSQL): duplicate posts pay once, concurrent
replays of one signature let one through, a refund racing its payment or the release job leaves
every balance exact."""
import json
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ambassador.orders.models import Order
from core import integrations
from core.extensions import db
from points import services as points
from points.models import EarningCounter, LedgerTransaction, PendingGrant
from tests.ambassador.orders.test_orders import RELEASE, body
from tests.concurrency import in_own_context, race
from tests.conftest import ON_POSTGRES
from tests.core.test_integrations import SECRET, URL, signed_post

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


@pytest.fixture
def app_config(app_config):
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 24, "max_overflow": 0, "pool_timeout": 30}
    return app_config


def posting(app, data, timestamp):
    """A call that posts `data` signed at `timestamp` from its own client; returns (status, json)."""
    def call():
        response = signed_post(app.test_client(), data, timestamp=timestamp)
        return response.status_code, response.json
    return call


def totals(app, user_id):
    with app.app_context():
        b = points.balance(user_id)
        return b.available, b.pending


def test_concurrent_duplicate_posts_make_one_order_and_one_payment(app, world):
    w = world()
    data = body(w)
    now = int(time.time())
    results = race([posting(app, data, now - i) for i in range(12)])  # twelve signatures, one order
    assert {status for status, _ in results} == {200}
    assert len({json.dumps(b, sort_keys=True) for _, b in results}) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
        grants = db.session.scalars(sa.select(PendingGrant).order_by(PendingGrant.kind)).all()
        assert [(g.kind, g.amount) for g in grants] == [("order_inviter", 199), ("order_steward", 398)]
    assert totals(app, w.steward_id) == (0, 398)
    with app.app_context():
        assert points.release_pending(now=RELEASE) == 2
        db.session.commit()
        assert points.verify() == []
    assert totals(app, w.steward_id) == (398, 0)


def test_concurrent_replays_of_one_signature_let_exactly_one_through(app, world):
    w = world(inviter=False)
    data = json.dumps(body(w)).encode()
    timestamp = str(int(time.time()))
    headers = {"X-Linli-Timestamp": timestamp, "X-Linli-Signature": integrations.sign(SECRET, timestamp, data),
               "Content-Type": "application/json"}

    def replay():
        response = app.test_client().post(URL, data=data, headers=headers)
        return response.status_code, (response.json.get("error") or {}).get("code")

    results = race([replay for _ in range(10)])
    assert sorted(results) == [(200, None)] + [(401, "signature_replayed")] * 9


def test_a_capped_rule_holds_exactly_under_concurrent_orders(app, world):
    """Twelve different orders of one steward at once against a daily cap of 5 orders' points."""
    w = world(inviter=False)
    with app.app_context():
        from points.models import EarningRule
        db.session.get(EarningRule, "order_steward").daily_cap = 5 * 20
        db.session.commit()
    now = int(time.time())
    results = race([posting(app, body(w, amount="10.00"), now - i) for i in range(12)])
    states = sorted(b["payouts"][0]["state"] for _, b in results)
    assert states == ["pending"] * 5 + ["unpaid"] * 7
    assert totals(app, w.steward_id) == (0, 100)
    with app.app_context():
        counted = db.session.scalars(sa.select(EarningCounter.points).where(
            EarningCounter.user_id == w.steward_id, EarningCounter.kind == "order_steward")).all()
        assert counted == [100]


@pytest.mark.parametrize("round_", range(3))
def test_a_refund_racing_its_payment_leaves_nothing_paid(app, world, round_):
    w = world(inviter=False)
    data = body(w)
    now = int(time.time())
    results = race([posting(app, data, now), posting(app, {**data, "status": "refunded"}, now - 1)])
    assert [status for status, _ in results] == [200, 200]
    with app.app_context():
        order = db.session.scalars(sa.select(Order)).one()
        assert order.status == "refunded"
        assert points.release_pending(now=RELEASE) == 0
        db.session.commit()
    assert totals(app, w.steward_id) == (0, 0)


@pytest.mark.parametrize("round_", range(3))
def test_a_refund_racing_the_release_job_leaves_the_balance_exact(app, world, make_ambassador, round_):
    from tests.conftest import Account
    w = world(inviter=False)
    make_ambassador(user=Account(user_id=w.steward_id, token=""))
    data = body(w)
    assert signed_post(app.test_client(), data).status_code == 200

    def release():
        return points.release_pending(now=RELEASE + timedelta(seconds=1))

    results = race([in_own_context(app, release), posting(app, {**data, "status": "refunded"}, int(time.time()) - 1)])
    assert results[1][0] == 200
    assert totals(app, w.steward_id) == (0, 0)
    with app.app_context():
        from ambassador.models import Ambassador
        assert db.session.get(Ambassador, w.steward_id).contribution_total == 0
        grant = db.session.scalars(sa.select(PendingGrant)).one()
        reversed_ = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.reverses_id.is_not(None)))
        # Either the refund cancelled the promise first, or the release won and the refund reversed it.
        assert (grant.status, reversed_) in {("cancelled", 0), ("released", 1)}
        assert points.verify() == []
