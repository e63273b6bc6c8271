"""The residents' points API: balance, history, rewards, redemptions, cancel — and every refusal."""
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from points import ledger, services
from points.models import EarningRule, Hold, Reward

# -- helpers (also used by the admin API and page tests) --------------------------------------

def give(app, user_id: int, amount: int, *, expires_at=..., key: str | None = None) -> int:
    """Grant a user points straight through the ledger; returns the transaction id."""
    with app.app_context():
        posted = ledger.grant(user_id, amount, "test", key or f"test:{uuid.uuid4().hex}",
                              "测试发放", expires_at=expires_at)
        db.session.commit()
        return posted.transaction_id


def seed_rule(app, kind: str = "binding_rating", name: str = "完成管家绑定并评价服务", points: int = 20) -> None:
    """The migration seeds this rule, but on PostgreSQL the suite empties every table between tests."""
    with app.app_context():
        db.session.merge(EarningRule(kind=kind, name=name, points=points, daily_cap=None, lifetime_cap=None,
                                     enabled=True))
        db.session.commit()


def make_reward(client, admin, **fields) -> dict:
    response = client.post("/api/v1/admin/rewards", headers=admin.headers,
                           json={"name": "保温杯", "cost": 100, **fields})
    assert response.status_code == 201, response.json
    return response.json


def redeem(client, account, reward_id: int, quantity: int = 1, key: str | None = None):
    headers = {**account.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post("/api/v1/redemptions", headers=headers, json={"reward_id": reward_id, "quantity": quantity})


def points_of(client, account) -> dict:
    response = client.get("/api/v1/me/points", headers=account.headers)
    assert response.status_code == 200
    return response.json


def stock_of(app, reward_id: int):
    with app.app_context():
        return db.session.get(Reward, reward_id).stock


def verify(app) -> list[str]:
    with app.app_context():
        return services.verify()


def error_code(response) -> str:
    return response.json["error"]["code"]


# -- balance and history ----------------------------------------------------------------------

def test_my_points_show_balance_held_pending_and_what_expires_soon(app, client, login, admin):
    resident = login()
    assert points_of(client, resident) == {"balance": 0, "held": 0, "pending": 0,
                                           "expiring": {"points": 0, "before": None}}
    soon = utcnow() + timedelta(days=10)
    give(app, resident.user_id, 70, expires_at=soon)
    give(app, resident.user_id, 30, expires_at=utcnow() + timedelta(days=20))
    give(app, resident.user_id, 500, expires_at=utcnow() + timedelta(days=200))
    mine = points_of(client, resident)
    assert mine["balance"] == 600 and mine["held"] == 0 and mine["pending"] == 0
    assert mine["expiring"]["points"] == 100
    assert datetime.fromisoformat(mine["expiring"]["before"]) == soon

    # A pending redemption holds points from the soonest lot: held, and no longer expiring.
    reward = make_reward(client, admin, cost=80)
    assert redeem(client, resident, reward["id"]).status_code == 201
    mine = points_of(client, resident)
    assert (mine["balance"], mine["held"], mine["expiring"]["points"]) == (520, 80, 20)


def test_entries_are_newest_first_signed_with_reasons_and_paginated(app, client, login, admin):
    resident, other = login(), login()
    first = give(app, resident.user_id, 100)
    second = give(app, resident.user_id, 40)
    give(app, other.user_id, 999)
    reward = make_reward(client, admin, name="雨伞", cost=60)
    assert redeem(client, resident, reward["id"]).status_code == 201

    response = client.get("/api/v1/me/points/entries?limit=2", headers=resident.headers)
    assert response.status_code == 200
    page = response.json
    assert [(e["amount"], e["kind"]) for e in page["items"]] == [(-60, "hold"), (40, "test")]
    assert page["items"][0]["reason"] == "兑换「雨伞」×1"
    assert page["items"][1]["transaction_id"] == second
    assert page["items"][0]["created_at"].endswith("+08:00")
    assert page["next_cursor"]
    rest = client.get(f"/api/v1/me/points/entries?limit=2&cursor={page['next_cursor']}",
                      headers=resident.headers).json
    assert [(e["amount"], e["transaction_id"]) for e in rest["items"]] == [(100, first)]
    assert rest["next_cursor"] is None

    assert client.get("/api/v1/me/points/entries?limit=0", headers=resident.headers).status_code == 422
    assert error_code(client.get("/api/v1/me/points/entries?cursor=nonsense", headers=resident.headers)) == \
        "invalid_cursor"


# -- rewards ----------------------------------------------------------------------------------

def test_rewards_list_only_what_this_user_can_redeem_now(app, client, login, admin, monkeypatch):
    resident = login()
    now = utcnow()
    cheap = make_reward(client, admin, name="纸巾", cost=10, stock=5)
    dear = make_reward(client, admin, name="空调清洗", cost=500)
    make_reward(client, admin, name="已下架", cost=5, active=False)
    make_reward(client, admin, name="下月上架", cost=5, starts_at=(now + timedelta(days=30)).isoformat())
    make_reward(client, admin, name="已结束", cost=5, ends_at=(now - timedelta(days=1)).isoformat())
    level2 = make_reward(client, admin, name="代言人专享", cost=50, min_level=2)

    listed = client.get("/api/v1/rewards", headers=resident.headers).json["items"]
    assert [r["id"] for r in listed] == [cheap["id"], dear["id"]]  # cheapest first, no level-only rewards
    assert listed[0] == {"id": cheap["id"], "name": "纸巾", "description": "", "image_url": "", "cost": 10,
                         "stock": 5, "per_user_limit": None, "ends_at": None}

    monkeypatch.setattr(services, "level_of", lambda user_id: 2 if user_id == resident.user_id else None)
    listed = client.get("/api/v1/rewards", headers=resident.headers).json["items"]
    assert [r["id"] for r in listed] == [cheap["id"], level2["id"], dear["id"]]


# -- redeeming --------------------------------------------------------------------------------

def test_redeeming_holds_points_and_reserves_stock(app, client, login, admin):
    resident = login()
    give(app, resident.user_id, 500)
    reward = make_reward(client, admin, cost=120, stock=3)
    response = redeem(client, resident, reward["id"], quantity=2)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "pending" and body["points"] == 240 and body["quantity"] == 2
    assert body["reward"] == {"id": reward["id"], "name": "保温杯", "image_url": "", "cost": 120}
    waits = datetime.fromisoformat(body["decide_by"]) - datetime.fromisoformat(body["created_at"])
    assert abs(waits - timedelta(days=14)) < timedelta(minutes=1)
    mine = points_of(client, resident)
    assert (mine["balance"], mine["held"]) == (260, 240)
    assert stock_of(app, reward["id"]) == 1
    listed = client.get("/api/v1/me/redemptions", headers=resident.headers).json
    assert [r["id"] for r in listed["items"]] == [body["id"]] and listed["items"][0]["status"] == "pending"
    assert verify(app) == []


def test_a_retried_redemption_with_the_same_key_holds_once(app, client, login, admin):
    resident = login()
    give(app, resident.user_id, 500)
    reward = make_reward(client, admin, cost=100, stock=10)
    first = redeem(client, resident, reward["id"], key="redeem-1")
    again = redeem(client, resident, reward["id"], key="redeem-1")
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json == first.json
    mine = points_of(client, resident)
    assert (mine["balance"], mine["held"]) == (400, 100)
    assert stock_of(app, reward["id"]) == 9
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Hold)) == 1
    # The same key for another body is a conflict; a new key is a new redemption.
    assert error_code(redeem(client, resident, reward["id"], quantity=2, key="redeem-1")) == "idempotency_key_reused"
    assert redeem(client, resident, reward["id"], key="redeem-2").status_code == 201
    assert points_of(client, resident)["held"] == 200


def test_unknown_reward_is_404(client, login):
    resident = login()
    response = redeem(client, resident, 987654)
    assert response.status_code == 404 and error_code(response) == "reward_not_found"


def test_out_of_stock_is_409_and_holds_nothing(app, client, login, admin):
    resident = login()
    give(app, resident.user_id, 500)
    reward = make_reward(client, admin, cost=100, stock=1)
    response = redeem(client, resident, reward["id"], quantity=2)
    assert response.status_code == 409 and error_code(response) == "out_of_stock"
    assert points_of(client, resident) == {"balance": 500, "held": 0, "pending": 0,
                                           "expiring": {"points": 0, "before": None}}
    assert redeem(client, resident, reward["id"]).status_code == 201
    response = redeem(client, resident, reward["id"])
    assert response.status_code == 409 and error_code(response) == "out_of_stock"
    assert stock_of(app, reward["id"]) == 0 and points_of(client, resident)["balance"] == 400


def test_over_the_per_user_limit_is_409(app, client, login, admin):
    resident, neighbour = login(), login()
    give(app, resident.user_id, 1000)
    give(app, neighbour.user_id, 1000)
    reward = make_reward(client, admin, cost=100, per_user_limit=2, stock=10)
    response = redeem(client, resident, reward["id"], quantity=3)
    assert response.status_code == 409 and error_code(response) == "per_user_limit_reached"
    assert redeem(client, resident, reward["id"], quantity=2).status_code == 201
    response = redeem(client, resident, reward["id"])
    assert response.status_code == 409 and error_code(response) == "per_user_limit_reached"
    assert response.json["error"]["details"] == {"limit": 2, "already": 2}
    assert redeem(client, neighbour, reward["id"]).status_code == 201  # the limit is per user
    assert points_of(client, resident)["balance"] == 800 and stock_of(app, reward["id"]) == 7


def test_a_cancelled_redemption_no_longer_counts_against_the_limit(app, client, login, admin):
    resident = login()
    give(app, resident.user_id, 1000)
    reward = make_reward(client, admin, cost=100, per_user_limit=1)
    first = redeem(client, resident, reward["id"]).json
    assert client.post(f"/api/v1/redemptions/{first['id']}/cancel", headers=resident.headers).status_code == 200
    assert redeem(client, resident, reward["id"]).status_code == 201


def test_not_in_the_audience_is_403(app, client, login, admin, monkeypatch):
    resident = login()
    give(app, resident.user_id, 1000)
    reward = make_reward(client, admin, cost=100, min_level=2)
    response = redeem(client, resident, reward["id"])
    assert response.status_code == 403 and error_code(response) == "reward_not_in_audience"
    monkeypatch.setattr(services, "level_of", lambda user_id: 1)
    assert error_code(redeem(client, resident, reward["id"])) == "reward_not_in_audience"
    monkeypatch.setattr(services, "level_of", lambda user_id: 2)
    assert redeem(client, resident, reward["id"]).status_code == 201


def test_level_zero_may_redeem_a_level_zero_reward(app, client, login, admin, monkeypatch):
    resident = login()
    give(app, resident.user_id, 100)
    reward = make_reward(client, admin, cost=100, min_level=0)
    monkeypatch.setattr(services, "level_of", lambda user_id: 0)
    assert [r["id"] for r in client.get("/api/v1/rewards", headers=resident.headers).json["items"]] == [reward["id"]]
    assert redeem(client, resident, reward["id"]).status_code == 201


def test_not_enough_points_is_409_and_reserves_no_stock(app, client, login, admin):
    resident = login()
    give(app, resident.user_id, 99)
    reward = make_reward(client, admin, cost=100, stock=5)
    response = redeem(client, resident, reward["id"])
    assert response.status_code == 409 and error_code(response) == "insufficient_points"
    assert response.json["error"]["message"] == "积分不足"
    assert points_of(client, resident)["balance"] == 99 and stock_of(app, reward["id"]) == 5
    assert verify(app) == []


def test_a_reward_not_on_offer_is_409(app, client, login, admin):
    resident = login()
    give(app, resident.user_id, 1000)
    reward = make_reward(client, admin, cost=100, active=False)
    response = redeem(client, resident, reward["id"])
    assert response.status_code == 409 and error_code(response) == "reward_unavailable"


def test_redemption_validation_lists_the_fields(client, login):
    resident = login()
    response = client.post("/api/v1/redemptions", headers=resident.headers, json={"quantity": 0})
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == {"reward_id", "quantity"}
    response = client.post("/api/v1/redemptions", headers=resident.headers,
                           json={"reward_id": 2**63, "quantity": 101})
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == {"reward_id", "quantity"}
    assert client.post("/api/v1/redemptions", json={"reward_id": 1}).status_code == 401


def test_trusted_users_are_approved_at_once_when_the_reward_allows(app, client, login, admin, make_engineer,
                                                                 monkeypatch):
    resident, ambassador, engineer = login(), login(), make_engineer()
    for account in (resident, ambassador, engineer):
        give(app, account.user_id, 1000)
    reward = make_reward(client, admin, cost=100, auto_approve=True, auto_approve_min_level=3)
    monkeypatch.setattr(services, "level_of", lambda user_id: 3 if user_id == ambassador.user_id else None)
    assert redeem(client, resident, reward["id"]).json["status"] == "pending"
    assert redeem(client, ambassador, reward["id"]).json["status"] == "approved"
    assert redeem(client, engineer, reward["id"]).json["status"] == "approved"
    assert points_of(client, engineer) == {"balance": 900, "held": 0, "pending": 0,
                                           "expiring": {"points": 0, "before": None}}
    # Without auto-approval everyone waits for an admin.
    manual = make_reward(client, admin, cost=100)
    assert redeem(client, engineer, manual["id"]).json["status"] == "pending"
    assert verify(app) == []


# -- my redemptions and cancelling ------------------------------------------------------------

def test_my_redemptions_are_mine_newest_first_and_paginated(app, client, login, admin):
    resident, other = login(), login()
    give(app, resident.user_id, 1000)
    give(app, other.user_id, 1000)
    reward = make_reward(client, admin, cost=10)
    mine = [redeem(client, resident, reward["id"]).json["id"] for _ in range(3)]
    redeem(client, other, reward["id"])
    page = client.get("/api/v1/me/redemptions?limit=2", headers=resident.headers).json
    assert [r["id"] for r in page["items"]] == mine[::-1][:2]
    rest = client.get(f"/api/v1/me/redemptions?limit=2&cursor={page['next_cursor']}", headers=resident.headers).json
    assert [r["id"] for r in rest["items"]] == [mine[0]] and rest["next_cursor"] is None


def test_cancelling_my_pending_redemption_returns_points_and_stock(app, client, login, admin):
    resident = login()
    give(app, resident.user_id, 300)
    reward = make_reward(client, admin, cost=100, stock=4)
    redemption = redeem(client, resident, reward["id"], quantity=2).json
    assert stock_of(app, reward["id"]) == 2
    response = client.post(f"/api/v1/redemptions/{redemption['id']}/cancel", headers=resident.headers)
    assert response.status_code == 200
    assert response.json["status"] == "cancelled" and response.json["reason"] == "用户取消"
    assert points_of(client, resident)["balance"] == 300 and points_of(client, resident)["held"] == 0
    assert stock_of(app, reward["id"]) == 4
    entries = client.get("/api/v1/me/points/entries", headers=resident.headers).json["items"]
    assert [(e["kind"], e["amount"]) for e in entries[:2]] == [("release", 200), ("hold", -200)]
    again = client.post(f"/api/v1/redemptions/{redemption['id']}/cancel", headers=resident.headers)
    assert again.status_code == 409 and error_code(again) == "redemption_already_decided"
    assert points_of(client, resident)["balance"] == 300 and stock_of(app, reward["id"]) == 4
    assert verify(app) == []


def test_someone_elses_redemption_cannot_be_cancelled_and_an_approved_one_neither(app, client, login, admin):
    resident, stranger = login(), login()
    give(app, resident.user_id, 300)
    reward = make_reward(client, admin, cost=100)
    redemption = redeem(client, resident, reward["id"]).json
    response = client.post(f"/api/v1/redemptions/{redemption['id']}/cancel", headers=stranger.headers)
    assert response.status_code == 404 and error_code(response) == "redemption_not_found"
    assert client.post("/api/v1/redemptions/424242/cancel", headers=resident.headers).status_code == 404
    assert client.get("/api/v1/me/redemptions", headers=resident.headers).json["items"][0]["status"] == "pending"

    approved = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/approve", headers=admin.headers)
    assert approved.status_code == 200
    response = client.post(f"/api/v1/redemptions/{redemption['id']}/cancel", headers=resident.headers)
    assert response.status_code == 409 and error_code(response) == "redemption_already_decided"
    assert response.json["error"]["message"] == "该兑换当前状态为「已通过」，不能执行此操作"
    assert points_of(client, resident) == {"balance": 200, "held": 0, "pending": 0,
                                           "expiring": {"points": 0, "before": None}}


def test_reads_need_a_token(client):
    for path in ("/api/v1/me/points", "/api/v1/me/points/entries", "/api/v1/rewards", "/api/v1/me/redemptions"):
        response = client.get(path)
        assert response.status_code == 401 and error_code(response) == "unauthorized", path
