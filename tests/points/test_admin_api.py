"""The admin points API: rewards, earning rules, adjustments, reversals, the redemption queue."""
from datetime import datetime, timedelta

import sqlalchemy as sa

from core.extensions import db
from core.formatting import BUSINESS_TZ
from core.models import AuditEntry, IdempotencyRecord
from points import services
from points.models import LedgerTransaction
from tests.points.test_api import error_code, give, make_reward, points_of, redeem, seed_rule, stock_of, verify


def audit_actions(app) -> list[tuple[str, str, int]]:
    """The points package's audit rows (action, object id, actor), oldest first."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(sa.select(
            AuditEntry.action, AuditEntry.object_id, AuditEntry.actor_id).where(
            AuditEntry.action.like("points.%")).order_by(AuditEntry.id))]


def pending_redemption(app, client, admin, login, *, cost=100, stock=None, points=1000):
    """A resident with points and one pending redemption: (resident, reward, redemption)."""
    resident = login()
    give(app, resident.user_id, points)
    reward = make_reward(client, admin, cost=cost, stock=stock)
    redemption = redeem(client, resident, reward["id"]).json
    assert redemption["status"] == "pending"
    return resident, reward, redemption


# -- access -----------------------------------------------------------------------------------

def test_the_admin_points_api_is_for_admins_only(client, login):
    resident = login()
    for method, path in [("get", "/api/v1/admin/rewards"), ("post", "/api/v1/admin/rewards"),
                         ("get", "/api/v1/admin/earning-rules"), ("post", "/api/v1/admin/points/adjustments"),
                         ("get", "/api/v1/admin/redemptions"), ("post", "/api/v1/admin/redemptions/1/approve"),
                         ("post", "/api/v1/admin/redemptions/bulk"),
                         ("get", f"/api/v1/admin/users/{resident.user_id}/points")]:
        response = client.open(path, method=method.upper(), headers=resident.headers,
                               json={} if method == "post" else None)
        assert response.status_code == 403 and error_code(response) == "forbidden", path


# -- rewards ----------------------------------------------------------------------------------

def test_admin_creates_lists_reads_and_edits_rewards(app, client, admin):
    response = client.post("/api/v1/admin/rewards", headers=admin.headers, json={
        "name": "空调清洗券", "description": "上门清洗一次", "image_url": "https://img.example/ac.png", "cost": 800,
        "stock": 20, "per_user_limit": 1, "min_level": 2, "auto_approve": True, "auto_approve_min_level": 3,
        "starts_at": "2026-12-01T00:00:00", "ends_at": "2027-01-01T00:00:00+08:00"})
    assert response.status_code == 201, response.json
    reward = response.json
    # A time without an offset is Asia/Shanghai; every time comes back as UTC with its offset.
    assert reward["starts_at"] == "2026-12-01T00:00:00+08:00"
    assert reward["ends_at"] == "2027-01-01T00:00:00+08:00"
    assert {k: reward[k] for k in ("stock", "per_user_limit", "min_level", "auto_approve",
                                   "auto_approve_min_level", "active")} == {
        "stock": 20, "per_user_limit": 1, "min_level": 2, "auto_approve": True, "auto_approve_min_level": 3,
        "active": True}
    other = make_reward(client, admin, name="纸巾")

    page = client.get("/api/v1/admin/rewards?limit=1", headers=admin.headers).json
    assert [r["id"] for r in page["items"]] == [other["id"]] and page["next_cursor"]
    assert client.get(f"/api/v1/admin/rewards/{reward['id']}", headers=admin.headers).json == reward

    response = client.patch(f"/api/v1/admin/rewards/{reward['id']}", headers=admin.headers,
                            json={"stock": None, "cost": 900, "active": False})
    assert response.status_code == 200
    changed = response.json
    assert (changed["stock"], changed["cost"], changed["active"]) == (None, 900, False)
    assert changed["name"] == "空调清洗券" and changed["min_level"] == 2  # untouched fields stay
    assert [a[0] for a in audit_actions(app)] == ["points.reward.create", "points.reward.create",
                                                  "points.reward.update"]


def test_reward_validation_and_unknown_rewards(client, admin):
    response = client.post("/api/v1/admin/rewards", headers=admin.headers,
                           json={"name": "", "cost": 0, "stock": -1, "image_url": "javascript:alert(1)"})
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == {"name", "cost", "stock", "image_url"}
    response = client.post("/api/v1/admin/rewards", headers=admin.headers, json={
        "name": "倒挂", "cost": 10, "starts_at": "2027-01-02T00:00:00+08:00", "ends_at": "2027-01-01T00:00:00+08:00"})
    assert response.status_code == 422 and "ends_at" in response.json["error"]["details"]["fields"]
    response = client.patch("/api/v1/admin/rewards/999999", headers=admin.headers, json={"cost": 5})
    assert response.status_code == 404 and error_code(response) == "reward_not_found"


def test_creating_a_reward_twice_with_one_key_creates_one(client, admin):
    headers = {**admin.headers, "Idempotency-Key": "reward-1"}
    first = client.post("/api/v1/admin/rewards", headers=headers, json={"name": "雨伞", "cost": 50})
    again = client.post("/api/v1/admin/rewards", headers=headers, json={"name": "雨伞", "cost": 50})
    assert first.status_code == again.status_code == 201 and first.json == again.json
    assert len(client.get("/api/v1/admin/rewards", headers=admin.headers).json["items"]) == 1


# -- earning rules ----------------------------------------------------------------------------

def test_admin_reads_and_edits_earning_rules_and_they_take_effect(app, client, admin, login):
    seed_rule(app)
    rules = client.get("/api/v1/admin/earning-rules", headers=admin.headers).json["items"]
    assert ("binding_rating", 20, True) in [(r["kind"], r["points"], r["enabled"]) for r in rules]
    response = client.patch("/api/v1/admin/earning-rules/binding_rating", headers=admin.headers,
                            json={"points": 30, "daily_cap": 50})
    assert response.status_code == 200
    assert (response.json["points"], response.json["daily_cap"], response.json["lifetime_cap"]) == (30, 50, None)

    resident = login()
    with app.app_context():
        assert services.earn(resident.user_id, "binding_rating", "binding:t1", "测试").created
        db.session.commit()
        try:
            services.earn(resident.user_id, "binding_rating", "binding:t2", "测试")
            raise AssertionError("the daily cap should refuse a second grant of 30 (cap 50)")
        except services.EarningRefused as refused:
            assert refused.code == "earning_daily_cap"
        db.session.rollback()
    assert points_of(client, resident)["balance"] == 30

    response = client.patch("/api/v1/admin/earning-rules/binding_rating", headers=admin.headers,
                            json={"enabled": False, "daily_cap": None})
    assert (response.json["enabled"], response.json["daily_cap"]) == (False, None)
    assert audit_actions(app)[-1][:2] == ("points.rule.update", "binding_rating")


def test_earning_rule_errors(app, client, admin):
    seed_rule(app)
    response = client.patch("/api/v1/admin/earning-rules/nope", headers=admin.headers, json={"points": 1})
    assert response.status_code == 404 and error_code(response) == "rule_not_found"
    response = client.patch("/api/v1/admin/earning-rules/binding_rating", headers=admin.headers,
                            json={"points": -1, "lifetime_cap": "many"})
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == {"points", "lifetime_cap"}


# -- adjustments ------------------------------------------------------------------------------

def adjust(client, admin, user_id, amount, reason="客服补偿", key=None):
    headers = {**admin.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post("/api/v1/admin/points/adjustments", headers=headers,
                       json={"user_id": user_id, "amount": amount, "reason": reason})


def test_adjustments_grant_and_deduct_with_a_reason_and_are_audited(app, client, admin, login):
    resident = login()
    response = adjust(client, admin, resident.user_id, 100, "活动补发")
    assert response.status_code == 201
    assert response.json["created"] is True and response.json["balance"]["balance"] == 100
    assert (response.json["user_id"], response.json["amount"], response.json["reason"]) == (
        resident.user_id, 100, "活动补发")
    response = adjust(client, admin, resident.user_id, -30, "误发扣回")
    assert response.status_code == 201 and response.json["balance"]["balance"] == 70
    entries = client.get("/api/v1/me/points/entries", headers=resident.headers).json["items"]
    assert [(e["amount"], e["kind"], e["reason"]) for e in entries] == [
        (-30, "adjustment", "误发扣回"), (100, "adjustment", "活动补发")]
    assert [a[0] for a in audit_actions(app)] == ["points.adjust", "points.adjust"]
    assert all(a[2] == admin.user_id for a in audit_actions(app))
    assert verify(app) == []


def test_adjustment_refusals(app, client, admin, login):
    resident = login()
    give(app, resident.user_id, 50)
    response = adjust(client, admin, resident.user_id, -51)
    assert response.status_code == 409 and error_code(response) == "insufficient_points"
    assert points_of(client, resident)["balance"] == 50
    response = adjust(client, admin, resident.user_id, 0)
    assert response.status_code == 422 and "amount" in response.json["error"]["details"]["fields"]
    response = adjust(client, admin, resident.user_id, 10, reason="   ")
    assert response.status_code == 422 and "reason" in response.json["error"]["details"]["fields"]
    response = client.post("/api/v1/admin/points/adjustments", headers=admin.headers,
                           json={"user_id": resident.user_id, "amount": 10})
    assert response.status_code == 422 and set(response.json["error"]["details"]["fields"]) == {"reason"}
    response = adjust(client, admin, 987654, 10)
    assert response.status_code == 404 and error_code(response) == "user_not_found"
    assert audit_actions(app) == []


def test_an_adjustment_retried_with_its_key_posts_once_even_after_the_stored_response_is_gone(app, client, admin,
                                                                                            login):
    resident = login()
    first = adjust(client, admin, resident.user_id, 100, key="adj-1")
    again = adjust(client, admin, resident.user_id, 100, key="adj-1")
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json == first.json
    assert points_of(client, resident)["balance"] == 100

    # A day later the generic record is purged; the ledger still knows the key.
    with app.app_context():
        db.session.execute(sa.delete(IdempotencyRecord))
        db.session.commit()
    late = adjust(client, admin, resident.user_id, 100, key="adj-1")
    assert late.status_code == 201 and "Idempotent-Replayed" not in late.headers
    assert late.json["transaction_id"] == first.json["transaction_id"] and late.json["created"] is False
    assert points_of(client, resident)["balance"] == 100
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(LedgerTransaction.kind == "adjustment")) == 1
        db.session.execute(sa.delete(IdempotencyRecord))
        db.session.commit()
    # The same key for another amount is refused, not posted.
    conflict = adjust(client, admin, resident.user_id, 200, key="adj-1")
    assert conflict.status_code == 409 and error_code(conflict) == "idempotency_conflict"
    assert [a[0] for a in audit_actions(app)] == ["points.adjust"]


def test_two_admins_may_use_the_same_key(app, client, make_admin, login):
    resident = login()
    first_admin, second_admin = make_admin(), make_admin()
    assert adjust(client, first_admin, resident.user_id, 10, key="1").json["created"] is True
    assert adjust(client, second_admin, resident.user_id, 10, key="1").json["created"] is True
    assert points_of(client, resident)["balance"] == 20


def test_a_very_long_key_still_fits_the_ledger(app, client, admin, login):
    resident = login()
    key = "k" * 128
    first = adjust(client, admin, resident.user_id, 10, key=key)
    assert first.status_code == 201
    with app.app_context():
        db.session.execute(sa.delete(IdempotencyRecord))
        db.session.commit()
    assert adjust(client, admin, resident.user_id, 10, key=key).json["created"] is False
    assert points_of(client, resident)["balance"] == 10


# -- reversals --------------------------------------------------------------------------------

def test_reversing_a_transaction_once(app, client, admin, login):
    resident = login()
    granted = adjust(client, admin, resident.user_id, 100).json["transaction_id"]
    response = client.post(f"/api/v1/admin/points/transactions/{granted}/reverse", headers=admin.headers,
                           json={"reason": "发错人"})
    assert response.status_code == 200 and response.json["created"] is True
    assert response.json["reverses_id"] == granted
    assert points_of(client, resident)["balance"] == 0
    again = client.post(f"/api/v1/admin/points/transactions/{granted}/reverse", headers=admin.headers,
                        json={"reason": "再点一次"})
    assert again.status_code == 200 and again.json["created"] is False
    assert again.json["transaction_id"] == response.json["transaction_id"]
    assert points_of(client, resident)["balance"] == 0
    entries = client.get("/api/v1/me/points/entries", headers=resident.headers).json["items"]
    assert (entries[0]["kind"], entries[0]["amount"], entries[0]["reason"]) == ("reverse", -100, "发错人")
    assert [a[0] for a in audit_actions(app)] == ["points.adjust", "points.reverse"]
    assert verify(app) == []


def test_reversal_refusals(app, client, admin, login):
    resident = login()
    granted = give(app, resident.user_id, 100)
    reward = make_reward(client, admin, cost=100)
    assert redeem(client, resident, reward["id"]).status_code == 201  # the granted points are now held
    response = client.post(f"/api/v1/admin/points/transactions/{granted}/reverse", headers=admin.headers,
                           json={"reason": "收回"})
    assert response.status_code == 409 and error_code(response) == "insufficient_points"
    hold = client.get("/api/v1/me/points/entries", headers=resident.headers).json["items"][0]
    assert hold["kind"] == "hold"
    response = client.post(f"/api/v1/admin/points/transactions/{hold['transaction_id']}/reverse",
                           headers=admin.headers, json={"reason": "收回"})
    assert response.status_code == 409 and error_code(response) == "not_reversible"
    response = client.post("/api/v1/admin/points/transactions/987654/reverse", headers=admin.headers,
                           json={"reason": "收回"})
    assert response.status_code == 404 and error_code(response) == "transaction_not_found"
    response = client.post(f"/api/v1/admin/points/transactions/{granted}/reverse", headers=admin.headers, json={})
    assert response.status_code == 422 and "reason" in response.json["error"]["details"]["fields"]
    assert points_of(client, resident)["held"] == 100


# -- the redemption queue ---------------------------------------------------------------------

def test_the_queue_filters_by_status_and_paginates(app, client, admin, login):
    resident = login()
    give(app, resident.user_id, 1000)
    reward = make_reward(client, admin, cost=10)
    ids = [redeem(client, resident, reward["id"]).json["id"] for _ in range(3)]
    client.post(f"/api/v1/admin/redemptions/{ids[1]}/approve", headers=admin.headers)
    pending = client.get("/api/v1/admin/redemptions?status=pending", headers=admin.headers).json
    assert [r["id"] for r in pending["items"]] == [ids[2], ids[0]]
    assert pending["items"][0]["user_id"] == resident.user_id
    approved = client.get("/api/v1/admin/redemptions?status=approved", headers=admin.headers).json
    assert [r["id"] for r in approved["items"]] == [ids[1]] and approved["items"][0]["decided_by_id"] == admin.user_id
    page = client.get("/api/v1/admin/redemptions?limit=2", headers=admin.headers).json
    assert [r["id"] for r in page["items"]] == [ids[2], ids[1]]
    rest = client.get(f"/api/v1/admin/redemptions?limit=2&cursor={page['next_cursor']}", headers=admin.headers).json
    assert [r["id"] for r in rest["items"]] == [ids[0]]
    response = client.get("/api/v1/admin/redemptions?status=lost", headers=admin.headers)
    assert response.status_code == 422 and "status" in response.json["error"]["details"]["fields"]


def test_a_redemption_shows_every_step_with_actor_and_time(app, client, admin, login):
    resident, _, redemption = pending_redemption(app, client, admin, login)
    client.post(f"/api/v1/admin/redemptions/{redemption['id']}/approve", headers=admin.headers)
    client.post(f"/api/v1/admin/redemptions/{redemption['id']}/fulfil", headers=admin.headers,
                json={"note": "顺丰 SF100"})
    detail = client.get(f"/api/v1/admin/redemptions/{redemption['id']}", headers=admin.headers).json
    assert [(e["status"], e["actor_id"], e["note"]) for e in detail["events"]] == [
        ("pending", resident.user_id, None), ("approved", admin.user_id, None),
        ("fulfilled", admin.user_id, "顺丰 SF100")]
    times = [datetime.fromisoformat(e["created_at"]) for e in detail["events"]]
    assert times == sorted(times) and all(t.utcoffset() == timedelta(hours=8) for t in times)
    assert client.get("/api/v1/admin/redemptions/987654", headers=admin.headers).status_code == 404


def test_approving_spends_the_held_points_and_a_second_approval_is_409(app, client, admin, make_admin, login):
    resident, reward, redemption = pending_redemption(app, client, admin, login, cost=100, stock=5)
    other_admin = make_admin()
    first = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/approve", headers=admin.headers)
    second = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/approve", headers=other_admin.headers)
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    assert first.json["status"] == "approved" and first.json["decided_by_id"] == admin.user_id
    assert error_code(second) == "redemption_already_decided"
    assert second.json["error"]["details"] == {"status": "approved"}
    assert points_of(client, resident) == {"balance": 900, "held": 0, "pending": 0,
                                           "expiring": {"points": 0, "before": None}}
    assert stock_of(app, reward["id"]) == 4
    assert [a[:2] for a in audit_actions(app) if a[0].startswith("points.redemption")] == [
        ("points.redemption.approve", str(redemption["id"]))]
    assert client.get("/api/v1/me/redemptions", headers=resident.headers).json["items"][0]["status"] == "approved"
    assert verify(app) == []


def test_rejecting_returns_points_and_stock_and_needs_a_reason(app, client, admin, login):
    resident, reward, redemption = pending_redemption(app, client, admin, login, cost=100, stock=5)
    assert stock_of(app, reward["id"]) == 4
    response = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/reject", headers=admin.headers, json={})
    assert response.status_code == 422 and "reason" in response.json["error"]["details"]["fields"]
    response = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/reject", headers=admin.headers,
                           json={"reason": "   "})
    assert response.status_code == 422
    response = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/reject", headers=admin.headers,
                           json={"reason": "该奖品已停产"})
    assert response.status_code == 200
    assert response.json["status"] == "rejected" and response.json["reason"] == "该奖品已停产"
    assert points_of(client, resident)["balance"] == 1000 and points_of(client, resident)["held"] == 0
    assert stock_of(app, reward["id"]) == 5
    mine = client.get("/api/v1/me/redemptions", headers=resident.headers).json["items"][0]
    assert (mine["status"], mine["reason"]) == ("rejected", "该奖品已停产")
    approve = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/approve", headers=admin.headers)
    assert approve.status_code == 409 and error_code(approve) == "redemption_already_decided"
    assert verify(app) == []


def test_rejecting_after_approval_is_409(app, client, admin, login):
    resident, reward, redemption = pending_redemption(app, client, admin, login, stock=3)
    client.post(f"/api/v1/admin/redemptions/{redemption['id']}/approve", headers=admin.headers)
    response = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/reject", headers=admin.headers,
                           json={"reason": "改主意了"})
    assert response.status_code == 409 and error_code(response) == "redemption_already_decided"
    assert points_of(client, resident)["balance"] == 900 and stock_of(app, reward["id"]) == 2


def test_fulfilling_needs_an_approved_redemption_and_a_note(app, client, admin, login):
    resident, _, redemption = pending_redemption(app, client, admin, login)
    url = f"/api/v1/admin/redemptions/{redemption['id']}/fulfil"
    response = client.post(url, headers=admin.headers, json={"note": "券码 X1"})
    assert response.status_code == 409 and error_code(response) == "redemption_already_decided"
    assert response.json["error"]["details"] == {"status": "pending"}
    client.post(f"/api/v1/admin/redemptions/{redemption['id']}/approve", headers=admin.headers)
    response = client.post(url, headers=admin.headers, json={})
    assert response.status_code == 422 and "note" in response.json["error"]["details"]["fields"]
    response = client.post(url, headers=admin.headers, json={"note": "券码 X1"})
    assert response.status_code == 200
    assert (response.json["status"], response.json["note"]) == ("fulfilled", "券码 X1")
    assert response.json["fulfilled_at"]
    again = client.post(url, headers=admin.headers, json={"note": "券码 X2"})
    assert again.status_code == 409
    mine = client.get("/api/v1/me/redemptions", headers=resident.headers).json["items"][0]
    assert (mine["status"], mine["note"]) == ("fulfilled", "券码 X1")


def test_bulk_decides_each_and_reports_each_outcome(app, client, admin, login):
    resident = login()
    give(app, resident.user_id, 1000)
    reward = make_reward(client, admin, cost=100, stock=10)
    ids = [redeem(client, resident, reward["id"]).json["id"] for _ in range(4)]
    client.post(f"/api/v1/admin/redemptions/{ids[2]}/approve", headers=admin.headers)
    client.post(f"/api/v1/admin/redemptions/{ids[3]}/reject", headers=admin.headers, json={"reason": "重复"})
    response = client.post("/api/v1/admin/redemptions/bulk", headers=admin.headers,
                           json={"ids": [ids[0], ids[1], ids[2], ids[3], 987654, ids[0]], "action": "approve"})
    assert response.status_code == 200
    assert response.json == {"decided": 2, "refused": 3, "items": [
        {"id": ids[0], "ok": True, "code": "ok"}, {"id": ids[1], "ok": True, "code": "ok"},
        {"id": ids[2], "ok": False, "code": "redemption_already_decided"},
        {"id": ids[3], "ok": False, "code": "redemption_already_decided"},
        {"id": 987654, "ok": False, "code": "redemption_not_found"}]}
    mine = client.get("/api/v1/me/redemptions", headers=resident.headers).json["items"]
    statuses = {r["id"]: r["status"] for r in mine}
    assert statuses == {ids[0]: "approved", ids[1]: "approved", ids[2]: "approved", ids[3]: "rejected"}
    assert points_of(client, resident)["balance"] == 700 and points_of(client, resident)["held"] == 0
    assert verify(app) == []


def test_bulk_reject_needs_a_reason_and_returns_points_and_stock(app, client, admin, login):
    resident = login()
    give(app, resident.user_id, 1000)
    reward = make_reward(client, admin, cost=100, stock=10)
    ids = [redeem(client, resident, reward["id"]).json["id"] for _ in range(3)]
    response = client.post("/api/v1/admin/redemptions/bulk", headers=admin.headers,
                           json={"ids": ids, "action": "reject"})
    assert response.status_code == 422 and "reason" in response.json["error"]["details"]["fields"]
    response = client.post("/api/v1/admin/redemptions/bulk", headers=admin.headers,
                           json={"ids": [], "action": "shred", "reason": "x"})
    assert response.status_code == 422 and set(response.json["error"]["details"]["fields"]) == {"ids", "action"}
    assert points_of(client, resident)["held"] == 300
    response = client.post("/api/v1/admin/redemptions/bulk", headers=admin.headers,
                           json={"ids": ids[:2], "action": "reject", "reason": "活动已结束"})
    assert response.json["decided"] == 2
    assert points_of(client, resident)["balance"] == 900 and points_of(client, resident)["held"] == 100
    assert stock_of(app, reward["id"]) == 9
    assert verify(app) == []


# -- a user's points --------------------------------------------------------------------------

def test_admin_reads_a_users_points_and_history(app, client, admin, login):
    resident = login()
    soon = datetime.now(BUSINESS_TZ) + timedelta(days=5)
    give(app, resident.user_id, 40, expires_at=soon)
    for _ in range(21):
        give(app, resident.user_id, 10, expires_at=None)
    reward = make_reward(client, admin, cost=100)
    redeem(client, resident, reward["id"])
    response = client.get(f"/api/v1/admin/users/{resident.user_id}/points", headers=admin.headers)
    assert response.status_code == 200
    body = response.json
    assert (body["balance"], body["held"], body["pending"]) == (150, 100, 0)
    assert body["expiring"]["points"] == 0  # the soon-expiring lot went on hold first
    assert body["user"]["id"] == resident.user_id
    assert len(body["entries"]["items"]) == 20 and body["entries"]["items"][0]["kind"] == "hold"
    more = client.get(f"/api/v1/admin/users/{resident.user_id}/points/entries?cursor={body['entries']['next_cursor']}",
                      headers=admin.headers).json
    assert [e["amount"] for e in more["items"]] == [10, 10, 40] and more["next_cursor"] is None
    for path in ("/api/v1/admin/users/987654/points", "/api/v1/admin/users/987654/points/entries"):
        assert client.get(path, headers=admin.headers).status_code == 404
