"""Value sharing with partners: an order from the signed order integration names the partner
(`partner_code`, an approved partner's), is counted on that partner's dashboard only, and pays
the household's steward (and inviter) exactly as any order does."""
from __future__ import annotations

import time

import sqlalchemy as sa

from ambassador.orders.models import Order
from core.extensions import db
from tests.activation.partners.conftest import refused
from tests.ambassador.orders.conftest import world  # noqa: F401 - the fixture
from tests.core.test_integrations import signed_post


def order(w, **fields):
    return {"external_id": f"PT{time.time_ns()}", "status": "paid", "amount": "199.99",
            "paid_at": "2026-11-20T10:00:00+08:00", "resident": {"openid": w.resident_openid}, "items": [], **fields}


def payouts(response):
    return [(p["role"], p["points"], p["state"]) for p in response.json["payouts"]]


def test_a_partner_s_order_pays_the_steward_exactly_as_any_order(app, client, world, make_partner):  # noqa: F811
    partner = make_partner()
    w = world()
    plain = signed_post(client, order(w))
    named = signed_post(client, order(w, partner_code=partner.code))
    assert plain.status_code == named.status_code == 200, named.json
    assert named.json["partner_code"] == partner.code and plain.json["partner_code"] is None
    assert payouts(named) == payouts(plain) == [("steward", 398, "pending"), ("inviter", 199, "pending")]
    with app.app_context():
        stored = db.session.scalar(sa.select(Order).where(Order.external_id == named.json["external_id"]))
        assert (stored.partner_code, stored.steward_user_id) == (partner.code, w.steward_id)
    # a repeated message changes nothing
    again = signed_post(client, {**order(w, partner_code=partner.code), "external_id": named.json["external_id"]})
    assert again.json == named.json


def test_an_order_naming_no_approved_partner_is_refused_but_a_refund_always_lands(app, client, world,  # noqa: F811
                                                                                  make_partner):
    pending, suspended = make_partner(status="pending"), make_partner(status="suspended")
    w = world(inviter=False)
    for code in ("NO-SUCH", pending.code, suspended.code):
        error = refused(signed_post(client, order(w, partner_code=code)), 422, "validation_error")
        assert error["details"]["fields"]["partner_code"] == ["合作伙伴编码不存在或该伙伴未在合作中"]
    refund = signed_post(client, order(w, status="refunded", partner_code="NO-SUCH"))
    assert refund.status_code == 200 and refund.json["partner_code"] is None and refund.json["status"] == "refunded"
    refused(signed_post(client, order(w, partner_code="")), 422)  # present, it must say something


def test_the_dashboard_counts_the_partner_s_own_orders(app, client, world, make_partner):  # noqa: F811
    a, b = make_partner(), make_partner()
    w = world(inviter=False)
    signed_post(client, order(w, partner_code=a.code))
    signed_post(client, order(w, partner_code=a.code, amount="50.00"))
    refunded = order(w, partner_code=a.code, amount="20.00")
    signed_post(client, refunded)
    signed_post(client, {**refunded, "status": "refunded"})
    signed_post(client, order(w, partner_code=b.code))
    assert client.get("/api/v1/partner/dashboard", headers=a.owner.headers).json["orders"] == {
        "paid": 2, "paid_amount_fen": 24999, "refunded": 1}
    assert client.get("/api/v1/partner/dashboard", headers=b.owner.headers).json["orders"] == {
        "paid": 1, "paid_amount_fen": 19999, "refunded": 0}
    mine = client.get("/api/v1/partner/orders", headers=a.owner.headers).json["items"]
    assert [(o["status"], o["amount_fen"]) for o in mine] == [("refunded", 2000), ("paid", 5000), ("paid", 19999)]
    assert set(mine[0]) == {"id", "external_id", "status", "amount_fen", "paid_at", "refunded_at"}  # no resident data
    assert len(client.get("/api/v1/partner/orders", headers=b.owner.headers).json["items"]) == 1
