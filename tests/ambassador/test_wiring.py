"""Cross-package rewards through the real flows: an invitee approved as an ambassador pays the
inviter; an invitee's first completed service (platform order or live service-system order)
pays the inviter once."""
import json
import time

import sqlalchemy as sa

from ambassador.models import Ambassador
from core.extensions import db
from points import services as points


def available(app, user_id):
    with app.app_context():
        return points.balance(user_id).available


def code_of(app, user_id):
    with app.app_context():
        return db.session.scalar(sa.select(Ambassador.invite_code).where(Ambassador.user_id == user_id))


def rule_points(app, kind):
    with app.app_context():
        return points.get_rule(kind).points


def test_approving_a_referred_applicant_pays_the_inviter_once(app, client, login, admin, make_ambassador,
                                                              make_estate):
    inviter = make_ambassador(phone="13900000011")
    estate = make_estate()
    invitee = login()
    r = client.post("/api/v1/ambassador/applications", headers=invitee.headers, json={
        "channel": "referral", "invite_code": code_of(app, inviter.user_id), "real_name": "李小红",
        "phone": "13900000022", "estate_ids": [estate], "statement": "愿意帮邻居"})
    assert r.status_code == 201, r.json
    approved = client.post(f"/api/v1/admin/ambassador/applications/{r.json['id']}/approve", headers=admin.headers)
    assert approved.status_code == 200, approved.json
    assert available(app, inviter.user_id) == rule_points(app, "referral_ambassador")
    referrals = client.get("/api/v1/ambassador/referrals", headers=inviter.headers).json
    assert [i["status"] for i in referrals["items"]] == ["rewarded"]


def test_an_invitees_first_completed_service_pays_the_inviter_once(app, client, login, make_ambassador, make_estate,
                                                                  make_engineer, mint_code, bind):
    inviter = make_ambassador(phone="13900000033")
    invitee = login()
    assert client.post("/api/v1/referrals", headers=invitee.headers,
                       json={"invite_code": code_of(app, inviter.user_id)}).status_code in (200, 201)
    estate = make_estate()
    engineer = make_engineer([estate])
    assert bind(mint_code(engineer, estate)["scene"], openid=invitee.openid).status_code == 200
    for _ in range(2):  # the second completed order pays nothing more
        order = client.post("/api/v1/service-requests", headers=invitee.headers,
                            json={"estate_id": estate, "service_type": "repair"}).json
        assert client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete",
                           headers=engineer.headers).status_code == 200
        assert available(app, inviter.user_id) == rule_points(app, "referral_service")
    with app.app_context():
        assert points.verify() == []


def test_a_live_service_system_order_counts_as_the_first_real_service(app, client, login, make_ambassador,
                                                                      make_estate, make_engineer, mint_code, bind):
    from core import integrations
    from core.accounts.models import User

    inviter = make_ambassador(phone="13900000044")
    invitee = login()
    client.post("/api/v1/referrals", headers=invitee.headers, json={"invite_code": code_of(app, inviter.user_id)})
    estate = make_estate()
    engineer = make_engineer([estate])
    bind(mint_code(engineer, estate)["scene"], openid=invitee.openid)
    with app.app_context():
        db.session.get(User, invitee.user_id).phone = "13900000055"
        db.session.commit()
    raw = json.dumps({"external_id": "LIVE-1", "estate_id": estate, "engineer_employee_no": engineer.employee_no,
                      "resident_phone": "13900000055", "service_type": "repair",
                      "requested_at": "2026-11-20T09:00:00+08:00", "completed_at": "2026-11-20T11:00:00+08:00"}).encode()
    ts = str(int(time.time()))
    r = client.post("/api/v1/integrations/service-orders", data=raw, headers={
        "Content-Type": "application/json", "X-Linli-Timestamp": ts,
        "X-Linli-Signature": integrations.sign(app.config["INTEGRATION_SECRET"], ts, raw)})
    assert r.status_code == 200 and r.json["created"] is True, r.json
    assert available(app, inviter.user_id) == rule_points(app, "referral_service")
