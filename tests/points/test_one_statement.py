"""On PostgreSQL a grant is one statement and a redemption two (points.ledger, "one round trip on
PostgreSQL"); SQLite, and POINTS_ONE_STATEMENT = False, take the portable path. Both must write
the same ledger: the same scenario runs through each path on the same database and the rows it
leaves (ids and times aside) and the refusals it meets must be equal.
"""
import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from core.accounts.models import User
from core.accounts.services import Principal
from core.errors import APIError
from core.extensions import db
from points import ledger, services
from points.models import HELD, Hold, LedgerTransaction, Lot, LotUse, PointsAccount, Redemption, RedemptionEvent, Reward
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="the one-statement path is PostgreSQL's")

SOON = datetime(2031, 3, 1, tzinfo=timezone.utc)
LATER = datetime(2032, 3, 1, tzinfo=timezone.utc)


class Statements:
    """SQL statements the engine sends while inside the block."""

    def __enter__(self):
        self.count = 0
        sa.event.listen(db.engine, "before_cursor_execute", self._count)
        return self

    def _count(self, *args):
        self.count += 1

    def __exit__(self, *exc):
        sa.event.remove(db.engine, "before_cursor_execute", self._count)


def _refused(call) -> tuple:
    """Run `call` in a savepoint; its refusal (code, message, details), the savepoint rolled back."""
    try:
        with db.session.begin_nested():
            call()
    except APIError as exc:  # the key and transaction named differ by run: their presence counts
        return exc.code, exc.message, {k: "…" if k in ("idempotency_key", "transaction_id") else v
                                       for k, v in exc.details.items()}
    raise AssertionError("not refused")


def scenario(app, tag: str) -> dict:
    """Grants, redemptions across lots, every refusal, approval and rejection; returns the rows."""
    resident, other, admin = User(display_name="住户"), User(display_name="新住户"), User(display_name="管理员",
                                                                                        roles=frozenset({"admin"}))
    db.session.add_all([resident, other, admin])
    db.session.commit()
    me = Principal(resident.id, frozenset({"resident"}))
    refusals = []

    services.grant(resident.id, 30, "test", f"{tag}:g1", "发放一", expires_at=SOON)
    services.grant(resident.id, 50, "test", f"{tag}:g2", "发放二", expires_at=LATER)
    services.grant(resident.id, 20, "test", f"{tag}:g3", "发放三", expires_at=None)
    assert not services.grant(resident.id, 30, "test", f"{tag}:g1", "发放一", expires_at=SOON).created
    refusals.append(_refused(lambda: services.grant(resident.id, 31, "test", f"{tag}:g1", "发放一")))
    rewards = {name: services.create_reward(dict(name=name, cost=cost, **more), admin).id for name, cost, more in [
        ("杯子", 40, {"stock": 5}), ("电视", 500, {}), ("限兑", 5, {"per_user_limit": 1}),
        ("最后一件", 5, {"stock": 1}), ("代言人专享", 5, {"min_level": 1}), ("下架", 5, {"active": False}),
        ("自动", 5, {"auto_approve": True})]}
    db.session.commit()

    first = services.redeem(me, rewards["杯子"]).id  # 30 from the soonest lot, 10 from the next
    refusals.append(_refused(lambda: services.redeem(me, rewards["电视"])))
    services.redeem(me, rewards["限兑"])
    refusals.append(_refused(lambda: services.redeem(me, rewards["限兑"])))
    services.redeem(me, rewards["最后一件"])
    refusals.append(_refused(lambda: services.redeem(me, rewards["最后一件"])))
    refusals.append(_refused(lambda: services.redeem(me, rewards["代言人专享"])))
    refusals.append(_refused(lambda: services.redeem(me, rewards["下架"])))
    refusals.append(_refused(lambda: services.redeem(me, 10**12)))
    refusals.append(_refused(lambda: services.redeem(Principal(other.id, frozenset({"resident"})), rewards["杯子"])))
    auto = services.redeem(Principal(resident.id, frozenset({"resident", "engineer"})), rewards["自动"])
    assert auto.status == "approved"
    last = services.redeem(me, rewards["杯子"]).id  # the rest of the second lot, then the never-expiring one
    db.session.commit()
    services.approve(first, admin)
    services.reject(last, admin, "缺货")
    db.session.commit()
    return {"rows": rows([resident.id, other.id], {admin.id: "admin", resident.id: "resident"}, rewards),
            "refusals": refusals}


def rows(user_ids: list[int], actors: dict[int, str], rewards: dict[str, int]) -> dict:
    """Everything the scenario wrote for these users and rewards, ids replaced by positions."""
    accounts = dict(db.session.execute(sa.select(PointsAccount.id, PointsAccount.code)).all())
    mine = [a for a, in db.session.execute(sa.select(PointsAccount.id).where(PointsAccount.user_id.in_(user_ids))
                                           .order_by(PointsAccount.user_id))]
    account = {a: accounts[a] or f"user{mine.index(a)}" for a in accounts if accounts[a] or a in mine}
    txs = db.session.scalars(sa.select(LedgerTransaction).where(LedgerTransaction.account_id.in_(mine))
                             .order_by(LedgerTransaction.id)).all()
    tx = {t.id: i for i, t in enumerate(txs)}
    lots = db.session.scalars(sa.select(Lot).where(Lot.account_id.in_(mine)).order_by(Lot.id)).all()
    lot = {x.id: i for i, x in enumerate(lots)}
    reward_name = {v: k for k, v in rewards.items()}
    redemptions = db.session.scalars(sa.select(Redemption).where(Redemption.user_id.in_(user_ids))
                                     .order_by(Redemption.id)).all()
    holds = {h.id: h for h in db.session.scalars(sa.select(Hold).where(Hold.account_id.in_(mine)))}

    def text(value):  # ids inside keys and reasons (hold:<id>:settled, 兑换#<id>, redemption:<uuid>)
        return None if value is None else re.sub(r"[0-9a-f]{32}|\d+", "#", value.split(":", 1)[-1])

    return {
        "balances": [b for b, in db.session.execute(sa.select(PointsAccount.balance).where(
            PointsAccount.id.in_(mine)).order_by(PointsAccount.user_id))],
        "transactions": [(t.kind, text(t.idempotency_key), account[t.account_id], t.amount, text(t.reason),
                          actors.get(t.actor_id), tx.get(t.reverses_id),
                          [(account[p.account_id], p.amount) for p in t.postings]) for t in txs],
        "lots": [(tx[x.transaction_id], account[x.account_id], x.amount, x.remaining, x.expires_at) for x in lots],
        "lot_uses": [(lot[u.lot_id], tx[u.transaction_id], u.amount) for u in db.session.scalars(
            sa.select(LotUse).where(LotUse.lot_id.in_(lot)).order_by(LotUse.id))],
        "redemptions": [(reward_name[r.reward_id], r.quantity, r.points, r.status, r.reason, r.note,
                         actors.get(r.decided_by_id), tx[holds[r.hold_id].hold_transaction_id],
                         holds[r.hold_id].amount, holds[r.hold_id].status,
                         tx.get(holds[r.hold_id].resolve_transaction_id),
                         [(e.status, actors.get(e.actor_id), e.note) for e in db.session.scalars(
                             sa.select(RedemptionEvent).where(RedemptionEvent.redemption_id == r.id)
                             .order_by(RedemptionEvent.id))]) for r in redemptions],
        "holds": len(holds),
        "stock": {name: db.session.get(Reward, reward_id).stock for name, reward_id in rewards.items()},
    }


def test_both_paths_write_the_same_ledger(app, ctx):
    app.config["POINTS_ONE_STATEMENT"] = False
    portable = scenario(app, "portable")
    app.config["POINTS_ONE_STATEMENT"] = True
    fast = scenario(app, "fast")

    assert fast["refusals"] == portable["refusals"]
    assert [code for code, _, _ in fast["refusals"]] == [
        "idempotency_conflict", "insufficient_points", "per_user_limit_reached", "out_of_stock",
        "reward_not_in_audience", "reward_unavailable", "reward_not_found", "insufficient_points"]
    assert fast["rows"] == portable["rows"]
    # The redemptions took from several lots, soonest expiry first, and the rejection put them back.
    assert [lot[3] for lot in fast["rows"]["lots"]] == [0, 25, 20]
    assert services.verify() == []


def test_a_grant_is_one_statement_and_a_redemption_two(app, ctx):
    user = User(display_name="住户")
    db.session.add(user)
    admin = User(display_name="管理员", roles=frozenset({"admin"}))
    db.session.add(admin)
    db.session.commit()
    user_id = user.id
    services.grant(user_id, 100, "test", "first", "开户")  # creates the account
    ledger.system_account_id(HELD)  # as on a running platform: the system accounts exist
    reward = services.create_reward({"name": "杯子", "cost": 10, "stock": 3, "per_user_limit": 2}, admin).id
    db.session.commit()

    with Statements() as grant:
        services.grant(user_id, 10, "test", "second", "发放")
    with Statements() as redemption:
        redeemed = services.redeem(Principal(user_id, frozenset({"resident"})), reward)
    db.session.commit()

    assert (grant.count, redemption.count) == (1, 2)
    assert (redeemed.status, redeemed.points, redeemed.reward.name) == ("pending", 10, "杯子")
    assert services.balance(user_id).available == 100 and services.balance(user_id).held == 10
    assert services.verify() == []
