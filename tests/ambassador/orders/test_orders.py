"""Value sharing through the signed order integration: who is paid, pending for the refund window,
paid once, refunds (inside the window, after release, beyond the balance, unknown orders),
contribution following the points, referrals, validation, and the admin API and pages."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ambassador.models import Ambassador
from ambassador.orders.models import Order
from ambassador.referrals.models import Referral
from core.accounts.models import User, WeChatIdentity
from core.audit import AuditEntry
from core.extensions import db
from points import services as points
from points.models import EarningRule, LedgerTransaction, PendingGrant
from tests.ambassador.orders.conftest import World
from tests.core.test_integrations import signed_post

PAID_AT = "2026-11-20T10:00:00+08:00"
PAID = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
RELEASE = PAID + timedelta(days=7)


def body(w: World | None = None, **fields):
    resident = {"openid": w.resident_openid} if w else {"phone": "10000000000"}
    return {"external_id": f"JD{time.time_ns()}", "status": "paid", "amount": "199.99", "paid_at": PAID_AT,
            "resident": resident, "items": [{"sku": "AC-1", "name": "空调清洗", "qty": 1}], **fields}


def post(client, data, **kwargs):
    return signed_post(client, data, **kwargs)


def snapshot(app, *user_ids):
    """(available, pending) per user."""
    with app.app_context():
        return [(b.available, b.pending) for b in (points.balance(u) for u in user_ids)]


def release(app, now):
    with app.app_context():
        count = points.release_pending(now=now)
        db.session.commit()
        return count


def counts(app):
    with app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Order, PendingGrant))


def points_of(app, user_id):
    with app.app_context():
        return points.balance(user_id).available


# -- paying ----------------------------------------------------------------------------------------

def test_a_paid_order_promises_steward_and_inviter_points_pending_for_the_window(app, client, world):
    w = world()
    inviter_before = points_of(app, w.inviter_id)  # (the referral reward comes on top, see below)
    response = post(client, body(w))
    assert response.status_code == 200, response.json
    order = response.json
    assert order["matched"] is True and order["status"] == "paid" and order["amount"] == "199.99"
    assert [(p["role"], p["points"], p["state"]) for p in order["payouts"]] == [
        ("steward", 398, "pending"), ("inviter", 199, "pending")]  # 199 whole yuan × 2 and × 1
    assert datetime.fromisoformat(order["payouts"][0]["release_at"]) == RELEASE
    steward, inviter = snapshot(app, w.steward_id, w.inviter_id)
    assert steward == (0, 398) and inviter[1] == 199
    referral_reward = inviter[0] - inviter_before
    # One second before the window ends nothing is spendable; at its end everything is.
    assert release(app, RELEASE - timedelta(seconds=1)) == 0
    assert release(app, RELEASE) == 2
    assert snapshot(app, w.steward_id, w.inviter_id) == [(398, 0), (inviter_before + referral_reward + 199, 0)]
    detail = client.get(f"/api/v1/admin/ambassador/orders/{order['id']}", headers=_admin_headers(client, app))
    assert {p["role"]: p["state"] for p in detail.json["payouts"]} == {"steward": "released", "inviter": "released"}


def test_the_same_paid_order_again_answers_the_same_and_moves_nothing(app, client, world):
    w = world()
    data = body(w)
    first = post(client, data)
    again = post(client, data)  # signed afresh (another timestamp): another signature
    assert first.status_code == again.status_code == 200
    assert again.json == first.json
    assert counts(app) == (1, 2)
    assert snapshot(app, w.steward_id) == [(0, 398)]


def test_the_same_order_id_with_another_amount_is_a_conflict(client, world):
    w = world()
    data = body(w)
    assert post(client, data).status_code == 200
    response = post(client, {**data, "amount": "10.00"})
    assert response.status_code == 409 and response.json["error"]["code"] == "order_conflict"


def test_an_unmatched_resident_is_stored_and_pays_nothing(app, client):
    response = post(client, body(resident={"phone": "19900000000", "openid": "o-unknown", "unionid": "u-unknown"}))
    assert response.status_code == 200
    assert response.json["matched"] is False and response.json["payouts"] == []
    assert counts(app) == (1, 0)


def test_a_resident_without_a_steward_pays_only_the_inviter(app, client, world):
    w = world(steward=False)
    response = post(client, body(w))
    assert [(p["role"], p["points"]) for p in response.json["payouts"]] == [("inviter", 199)]
    with app.app_context():
        referral = db.session.scalars(sa.select(Referral)).one()
        assert referral.status == "pending"  # no steward: not a "first real service"


@pytest.mark.parametrize("status", ["flagged", "lapsed"])  # lapsed: an admin dismissed the flagged pair
def test_a_flagged_or_dismissed_inviter_is_not_paid(app, client, world, status):
    w = world(referral_status=status)
    response = post(client, body(w))
    assert [p["role"] for p in response.json["payouts"]] == ["steward"]
    assert snapshot(app, w.inviter_id) == [(0, 0)]


def test_a_pair_sharing_a_phone_is_flagged_by_the_order_and_the_inviter_is_not_paid(app, client, world):
    w = world()
    with app.app_context():
        for user_id in (w.resident_id, w.inviter_id):
            db.session.get(User, user_id).phone = "13711112222"
        db.session.commit()
    response = post(client, body(w))
    assert [p["role"] for p in response.json["payouts"]] == ["steward"]
    with app.app_context():
        referral = db.session.scalars(sa.select(Referral)).one()
        assert referral.status == "flagged" and referral.flag_reason == "same_phone"
        assert db.session.get(Order, response.json["id"]).inviter_id is None
    assert snapshot(app, w.inviter_id) == [(0, 0)]


def test_a_paid_order_with_a_steward_qualifies_the_referral_as_a_first_service(app, client, world):
    w = world()
    post(client, body(w))
    with app.app_context():
        referral = db.session.scalars(sa.select(Referral)).one()
        assert referral.qualified_by == "service" and referral.status == "rewarded"
        rule = db.session.get(EarningRule, "referral_service")
        assert points.balance(w.inviter_id).available == rule.points


def test_the_resident_is_matched_by_openid_of_this_app_then_unionid_then_phone(app, client, world, login):
    w = world(inviter=False)
    other = login(unionid="uOTHER")
    with app.app_context():
        # The same openid in another app names nobody here.
        db.session.add(WeChatIdentity(user_id=other.user_id, appid="wx_other_app", openid="oShared"))
        db.session.get(User, w.resident_id).phone = "13600000001"
        db.session.commit()
    by = {}
    for name, resident in (("openid", {"openid": w.resident_openid, "phone": "13600000009"}),
                           ("other-app openid falls to unionid", {"openid": "oShared", "unionid": "uOTHER"}),
                           ("phone", {"openid": "oNobody", "phone": "13600000001"})):
        by[name] = post(client, body(resident=resident)).json
    with app.app_context():
        resident_of = {n: db.session.get(Order, o["id"]).resident_id for n, o in by.items()}
    assert resident_of == {"openid": w.resident_id, "other-app openid falls to unionid": other.user_id,
                           "phone": w.resident_id}


def test_a_phone_shared_by_two_users_matches_nobody(app, client, login):
    users = [login().user_id, login().user_id]
    with app.app_context():
        for user_id in users:
            db.session.get(User, user_id).phone = "13500000000"
        db.session.commit()
    assert post(client, body(resident={"phone": "13500000000"})).json["matched"] is False


def test_less_than_one_yuan_and_a_disabled_rule_pay_nothing(app, client, world):
    w = world()
    small = post(client, body(w, amount="0.99")).json
    assert {p["state"] for p in small["payouts"]} == {"unpaid"}
    with app.app_context():
        db.session.get(EarningRule, "order_inviter").enabled = False
        db.session.commit()
    big = post(client, body(w, amount="50")).json
    assert [(p["role"], p["points"], p["state"]) for p in big["payouts"]] == [
        ("steward", 100, "pending"), ("inviter", 0, "unpaid")]


# -- refunds ---------------------------------------------------------------------------------------

def refund(client, data, **kwargs):
    return post(client, {**data, "status": "refunded"}, **kwargs)


def test_a_refund_inside_the_window_cancels_the_pending_points(app, client, world):
    w = world()
    data = body(w)
    post(client, data)
    before = snapshot(app, w.steward_id, w.inviter_id)
    assert before[0] == (0, 398) and before[1][1] == 199
    response = refund(client, data)
    assert response.status_code == 200 and response.json["status"] == "refunded"
    assert {p["state"] for p in response.json["payouts"]} == {"cancelled"}
    after = snapshot(app, w.steward_id, w.inviter_id)
    assert after == [(0, 0), (before[1][0], 0)]  # available untouched, pending gone
    assert release(app, RELEASE + timedelta(days=1)) == 0
    assert snapshot(app, w.steward_id, w.inviter_id) == after
    # A second refund and a late paid message move nothing.
    assert post(client, {**data, "status": "refunded"}).status_code == 200
    assert post(client, data).json["status"] == "refunded"
    assert snapshot(app, w.steward_id, w.inviter_id) == after
    assert counts(app) == (1, 2)


def test_a_refund_after_release_reverses_exactly(app, client, world):
    w = world()
    data = body(w)
    post(client, data)
    release(app, RELEASE)
    before = snapshot(app, w.steward_id, w.inviter_id)
    assert before[0] == (398, 0)
    response = refund(client, data)
    assert {p["state"] for p in response.json["payouts"]} == {"reversed"}
    assert snapshot(app, w.steward_id, w.inviter_id) == [(0, 0), (before[1][0] - 199, 0)]
    detail = client.get(f"/api/v1/admin/ambassador/orders/{response.json['id']}",
                        headers=_admin_headers(client, app)).json
    steward = next(p for p in detail["payouts"] if p["role"] == "steward")
    assert (steward["taken_back"], steward["shortfall"]) == (398, 0)
    with app.app_context():
        reversal = db.session.get(LedgerTransaction, steward["reversal_transaction_id"])
        assert reversal.reverses_id == steward["grant_transaction_id"] and reversal.amount == 398
        assert points.verify() == []
    refund(client, data)  # again: nothing
    assert snapshot(app, w.steward_id, w.inviter_id) == [(0, 0), (before[1][0] - 199, 0)]


def test_a_refund_beyond_the_balance_takes_what_is_left_and_records_the_shortfall(app, client, world):
    w = world(inviter=False)
    data = body(w)
    post(client, data)
    release(app, RELEASE)
    with app.app_context():
        points.spend(w.steward_id, 300, "spend", "test:spend", "兑换了奖品")
        db.session.commit()
    assert snapshot(app, w.steward_id) == [(98, 0)]
    response = refund(client, data)
    assert response.status_code == 200
    assert snapshot(app, w.steward_id) == [(0, 0)]
    detail = client.get(f"/api/v1/admin/ambassador/orders/{response.json['id']}",
                        headers=_admin_headers(client, app)).json
    steward = detail["payouts"][0]
    assert (steward["state"], steward["points"], steward["taken_back"], steward["shortfall"]) == (
        "reversed", 398, 98, 300)
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "ambassador.order.refund")).one()
        after = entry.after if isinstance(entry.after, dict) else json.loads(entry.after)
        assert after["payouts"]["steward"]["shortfall"] == 300 and after["payouts"]["steward"]["taken"] == 98
        assert points.verify() == []


def test_a_refund_for_an_unknown_order_is_stored_and_a_later_paid_pays_nothing(app, client, world):
    w = world()
    data = body(w)
    first = refund(client, data)
    assert first.status_code == 200 and first.json["status"] == "refunded" and first.json["payouts"] == []
    later = post(client, data)
    assert later.status_code == 200 and later.json["status"] == "refunded" and later.json["payouts"] == []
    assert counts(app) == (1, 0)
    assert snapshot(app, w.steward_id) == [(0, 0)]


# -- contribution follows the points ------------------------------------------------------------

def contribution(app, user_id):
    with app.app_context():
        return db.session.get(Ambassador, user_id).contribution_total


def test_an_ambassador_steward_gets_contribution_when_the_points_are_released(app, client, world,
                                                                              make_ambassador):
    w = world(inviter=False)
    make_ambassador(user=_account(w.steward_id))
    data = body(w)
    post(client, data)
    assert contribution(app, w.steward_id) == 0  # pending: not yet
    release(app, RELEASE)
    assert contribution(app, w.steward_id) == 398
    refund(client, data)  # after release: the reversal takes the contribution back
    assert contribution(app, w.steward_id) == 0


def test_cancelled_points_never_count_as_contribution(app, client, world, make_ambassador):
    w = world(inviter=False)
    make_ambassador(user=_account(w.steward_id))
    data = body(w)
    post(client, data)
    refund(client, data)
    release(app, RELEASE)
    assert contribution(app, w.steward_id) == 0


def test_a_reversal_debits_only_contribution_that_was_credited(app, client, world, make_ambassador):
    """Released before the steward became an ambassador: nothing was credited, nothing is taken."""
    w = world(inviter=False)
    data = body(w)
    post(client, data)
    release(app, RELEASE)
    make_ambassador(user=_account(w.steward_id))
    refund(client, data)
    assert contribution(app, w.steward_id) == 0
    assert snapshot(app, w.steward_id) == [(0, 0)]


# -- validation ------------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("amount", "1.234"), ("amount", "-1.00"), ("amount", "1e3"), ("amount", 12.5), ("amount", ""),
    ("amount", "100000000.00"), ("amount", "01.00"), ("paid_at", "2026-11-20T10:00:00"), ("paid_at", "yesterday"),
    ("paid_at", "0001-01-01T00:00:00+08:00"), ("paid_at", "9999-12-31T23:59:59-08:00"),
    ("status", "shipped"), ("external_id", ""), ("external_id", "has space"), ("external_id", "x" * 65),
    ("resident", {}), ("resident", {"phone": ""}), ("items", "none"), ("items", [1, 2]),
    ("items", [{"note": "x" * 20_001}])])
def test_an_invalid_body_is_refused_naming_the_field(client, field, value):
    response = post(client, body(**{field: value}))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["details"]["fields"], response.json


@pytest.mark.parametrize("missing", ["external_id", "status", "amount", "paid_at", "resident"])
def test_a_missing_field_is_refused(client, missing):
    data = body()
    del data[missing]
    response = post(client, data)
    assert response.status_code == 422 and missing in response.json["error"]["details"]["fields"]


def test_amounts_are_read_exactly_in_fen(app, client):
    for amount, fen in (("0", 0), ("0.5", 50), ("12.30", 1230), ("99999999.99", 9999999999)):
        order = post(client, body(amount=amount)).json
        with app.app_context():
            assert db.session.get(Order, order["id"]).amount_fen == fen


# -- admins ----------------------------------------------------------------------------------------

def _account(user_id):
    from tests.conftest import Account
    return Account(user_id=user_id, token="")


def _admin_headers(client, app):
    """A bearer token of the admin `orders-admin` (created on first use; the pages log in as it too)."""
    from core.accounts import services as accounts
    with app.app_context():
        if db.session.scalar(sa.select(User).where(User.username == "orders-admin")) is None:
            accounts.create_staff("orders-admin", "admin-pass-1", {"admin"})
            db.session.commit()
    token = client.post("/api/v1/auth/password-login",
                        json={"username": "orders-admin", "password": "admin-pass-1"}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def test_admin_api_lists_and_searches_orders(app, client, world, admin, login):
    w = world(inviter=False)
    a = post(client, body(w, external_id="JD-A-1")).json
    b = post(client, body(external_id="JD-B-2")).json  # unmatched
    refund(client, body(w, external_id="JD-A-1"))
    url = "/api/v1/admin/ambassador/orders"

    def ids(**query):
        response = client.get(url, query_string=query, headers=admin.headers)
        assert response.status_code == 200, response.json
        return [o["id"] for o in response.json["items"]]

    assert ids() == [b["id"], a["id"]]
    assert ids(q="JD-A") == [a["id"]]
    assert ids(q="JD-%") == []  # a LIKE wildcard is a plain character
    assert ids(resident=str(w.resident_id)) == [a["id"]]
    assert ids(status="refunded") == [a["id"]] and ids(status="paid") == [b["id"]]
    assert ids(limit=1) == [b["id"]]
    assert client.get(url, query_string={"status": "lost"}, headers=admin.headers).status_code == 422
    assert client.get(url, headers=login().headers).status_code == 403
    assert client.get(f"{url}/999999", headers=admin.headers).json["error"]["code"] == "order_not_found"
    assert client.get(f"{url}/{2**64}", headers=admin.headers).status_code == 404


def test_admin_pages_list_and_show_orders(app, client, world, web_login):
    w = world()
    data = body(w, external_id="JD-PAGE-1")
    order = post(client, data).json
    post(client, body(external_id="JD-PAGE-2"))
    release(app, RELEASE)
    with app.app_context():
        points.spend(w.steward_id, 300, "spend", "test:page", "兑换")
        db.session.commit()
    refund(client, data)
    _admin_headers(client, app)
    web_login("orders-admin", "admin-pass-1")
    page = client.get("/admin/ambassador/orders?q=JD-PAGE").get_data(as_text=True)
    assert "JD-PAGE-1" in page and "JD-PAGE-2" in page and "未匹配" in page and "199.99" in page
    page = client.get("/admin/ambassador/orders?status=refunded").get_data(as_text=True)
    assert "JD-PAGE-1" in page and "JD-PAGE-2" not in page
    detail = client.get(f"/admin/ambassador/orders/{order['id']}").get_data(as_text=True)
    assert 'data-role="steward" data-state="reversed"' in detail and 'data-testid="shortfall">300<' in detail
    assert 'data-role="inviter" data-state="reversed"' in detail and "空调清洗" in detail
    assert client.get("/admin/ambassador/orders/987654").status_code == 404


def test_only_admins_open_the_order_pages(app, client, web_login):
    assert client.get("/admin/ambassador/orders").status_code in (302, 401)  # not logged in
    from core.accounts import services as accounts
    with app.app_context():
        accounts.create_staff("orders-agent", "agent-pass-1", {"agent"})
        db.session.commit()
    web_login("orders-agent", "agent-pass-1")
    assert client.get("/admin/ambassador/orders").status_code == 403


def test_unknown_fields_are_refused(client):
    response = post(client, body(coupon="X"))
    assert response.status_code == 422 and "coupon" in response.json["error"]["details"]["fields"]


@pytest.mark.parametrize("raw, status", [(b"not json", 400), (b"[1, 2]", 422), (b"", 422), (b"null", 422)])
def test_a_signed_body_that_is_not_an_order_object_is_a_4xx(app, client, raw, status):
    response = signed_post(client, None, raw=raw)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert set(response.json["error"]) == {"code", "message", "details"}
    assert counts(app) == (0, 0)
