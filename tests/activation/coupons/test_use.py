"""Using a coupon: held by a platform service request, used when it completes, released when it is
cancelled; the manufacturer's signed redeem and refund (refusals of the signature, idempotency, the
minimum spend, the cap, the refund window); a holder's coupon tabs."""
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from core.formatting import business_today
from tests.activation.coupons.conftest import err, fields, signed_post


def _coupon(make_template, issue, who, **template):
    t = make_template(**template)
    return t, issue(t["id"], who.user_id)


# -- platform service requests --------------------------------------------------------------------

def test_a_request_holds_the_coupon_completion_uses_it_at_face_value(client, estate, resident, make_engineer,
                                                                      make_template, issue, request_service, complete,
                                                                      my_coupon, query):
    from activation.coupons.models import CouponUse
    engineer = make_engineer([estate])
    t, coupon_id = _coupon(make_template, issue, resident, min_spend_fen=5000)
    r = request_service(resident, estate, coupon_id=coupon_id, preferred_engineer_id=engineer.engineer_id)
    assert r.status_code == 201, r.json
    order_id = r.json["id"]
    held = my_coupon(resident, coupon_id)
    assert (held["status"], held["status_label"], held["locked_order_id"], held["usable_now"]) == (
        "locked", "使用中", order_id, False)
    assert "订单满 50 元可用" in held["template"]["terms"]  # the engineer applies it on the bill
    # held: another request cannot name it
    r = request_service(resident, estate, coupon_id=coupon_id)
    assert r.status_code == 409 and err(r) == "coupon_locked"
    complete(engineer, order_id)
    used = my_coupon(resident, coupon_id)
    assert (used["status"], used["discount_fen"], used["locked_order_id"]) == ("used", 1000, order_id)
    uses = query(lambda db: [(u.kind, u.service_order_id, u.discount_fen, u.estate_id)
                             for u in db.session.scalars(sa.select(CouponUse))])
    assert uses == [("service_order", order_id, 1000, estate)]
    assert err(request_service(resident, estate, coupon_id=coupon_id)) == "coupon_used"


def test_a_percentage_coupon_on_a_service_order_gives_its_cap(client, estate, resident, make_engineer, make_template,
                                                               issue, request_service, complete, my_coupon):
    engineer = make_engineer([estate])
    _, coupon_id = _coupon(make_template, issue, resident, kind="percent", percent_off=20, cap_fen=3000)
    order = request_service(resident, estate, coupon_id=coupon_id, preferred_engineer_id=engineer.engineer_id).json
    complete(engineer, order["id"])
    assert my_coupon(resident, coupon_id)["discount_fen"] == 3000


def test_a_cancelled_request_releases_the_coupon(client, estate, resident, make_template, issue, request_service,
                                                 my_coupon):
    _, coupon_id = _coupon(make_template, issue, resident)
    order = request_service(resident, estate, coupon_id=coupon_id).json
    r = client.post(f"/api/v1/service-orders/{order['id']}/cancel", headers=resident.headers, json={"reason": "不需要了"})
    assert r.status_code == 200, r.json
    back = my_coupon(resident, coupon_id)
    assert (back["status"], back["locked_order_id"], back["usable_now"]) == ("available", None, True)
    assert request_service(resident, estate, coupon_id=coupon_id).status_code == 201


def test_a_request_refuses_someone_elses_coupon_another_service_type_or_a_partners(
        client, estate, resident, resident_of, make_template, issue, request_service, query):
    from activation.coupons.models import Coupon
    from activation.partners.models import Partner
    from community.orders.models import ServiceOrder
    other = resident_of(estate)
    _, theirs = _coupon(make_template, issue, other)
    r = request_service(resident, estate, coupon_id=theirs)
    assert r.status_code == 404 and err(r) == "coupon_not_found"
    _, repair_only = _coupon(make_template, issue, resident, service_types=["repair"])
    r = request_service(resident, estate, service_type="cleaning", coupon_id=repair_only)
    assert r.status_code == 422 and fields(r) == {"coupon_id": ["该优惠券仅限维修服务使用"]}

    def partner(db):
        row = Partner(code="JZ01", name="好邻居家政", category="家政", contact_name="王", contact_phone="13800000001",
                      status="approved")
        db.session.add(row)
        db.session.commit()
        return row.id
    _, partners = _coupon(make_template, issue, resident, partner_id=query(partner), service_types=[])
    r = request_service(resident, estate, coupon_id=partners)
    assert r.status_code == 422 and fields(r) == {"coupon_id": ["该优惠券仅限好邻居家政的服务使用"]}
    # nothing was kept of the refused requests, and the coupons are untouched
    assert query(lambda db: db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder))) == 0
    assert query(lambda db: set(db.session.scalars(sa.select(Coupon.status)))) == {"available"}


def test_an_expired_coupon_is_refused_even_before_the_job_ran(client, estate, resident, make_template, issue,
                                                              request_service, query):
    from activation.coupons.models import Coupon
    _, coupon_id = _coupon(make_template, issue, resident)

    def age(db):
        db.session.execute(sa.update(Coupon).values(expires_on=business_today() - timedelta(days=3)))
        db.session.commit()
    query(age)
    r = request_service(resident, estate, coupon_id=coupon_id)
    assert r.status_code == 409 and err(r) == "coupon_expired" and r.json["error"]["message"] == "该优惠券已过期"


# -- my coupons ------------------------------------------------------------------------------------

def test_my_coupons_by_tab_soonest_to_expire_first_with_cursor_and_service_type(client, resident, login, make_template,
                                                                               issue, query):
    from activation.coupons.models import Coupon
    short = make_template(name="三天券", valid_days=3, service_types=["cleaning"])
    long = make_template(name="月券", valid_days=30, per_user_limit=3)
    ids = [issue(long["id"], resident.user_id), issue(short["id"], resident.user_id), issue(long["id"], resident.user_id)]
    used, gone = issue(long["id"], resident.user_id), issue(make_template()["id"], resident.user_id)
    issue(long["id"], login().user_id)  # someone else's

    def states(db):
        db.session.execute(sa.update(Coupon).where(Coupon.id == used).values(status="used"))
        db.session.execute(sa.update(Coupon).where(Coupon.id == gone).values(expires_on=business_today() - timedelta(days=1)))
        db.session.commit()
    query(states)
    page = client.get("/api/v1/me/coupons?limit=2", headers=resident.headers).json
    assert [c["id"] for c in page["items"]] == [ids[1], ids[0]] and page["next_cursor"]
    rest = client.get(f"/api/v1/me/coupons?limit=2&cursor={page['next_cursor']}", headers=resident.headers).json
    assert [c["id"] for c in rest["items"]] == [ids[2]] and rest["next_cursor"] is None
    assert [c["id"] for c in client.get("/api/v1/me/coupons?status=used", headers=resident.headers).json["items"]] == [used]
    expired = client.get("/api/v1/me/coupons?status=expired", headers=resident.headers).json["items"]
    assert [(c["id"], c["status"], c["usable_now"]) for c in expired] == [(gone, "expired", False)]
    cleaning = client.get("/api/v1/me/coupons?service_type=cleaning", headers=resident.headers).json["items"]
    assert [c["template"]["name"] for c in cleaning] == ["三天券"]
    assert client.get("/api/v1/me/coupons?status=all", headers=resident.headers).status_code == 422
    assert client.get("/api/v1/me/coupons?cursor=bad", headers=resident.headers).status_code == 400
    assert client.get(f"/api/v1/me/coupons/{ids[0]}", headers=login().headers).status_code == 404


# -- the manufacturer's systems ----------------------------------------------------------------------

def _code(client, who, coupon_id):
    return client.get(f"/api/v1/me/coupons/{coupon_id}", headers=who.headers).json["code"]


def test_redeem_computes_the_discount_on_the_amount_once_per_order(client, resident, make_template, issue, redeem,
                                                                   my_coupon):
    _, coupon_id = _coupon(make_template, issue, resident, kind="percent", percent_off=15, cap_fen=2000,
                           min_spend_fen=5000, service_types=["install"])
    code = _code(client, resident, coupon_id)
    r = redeem(code, "OMS-1", amount="40.00", service_type="install")
    assert r.status_code == 422 and fields(r) == {"amount": ["订单金额未满 50 元，不能使用该优惠券"]}
    r = redeem(code, "OMS-1", amount="99.99", service_type="repair")
    assert r.status_code == 422 and fields(r) == {"service_type": ["该优惠券仅限安装服务使用"]}
    r = redeem(code.lower(), "OMS-1", amount="99.99", service_type="install")
    assert r.status_code == 200, r.json
    assert (r.json["discount"], r.json["discount_fen"], r.json["status"], r.json["coupon_status"]) == (
        "14.99", 1499, "used", "used")  # 15% of 99.99 rounded down to the fen
    again = redeem(code, "OMS-1", amount="99.99", service_type="install")
    assert again.status_code == 200 and again.json == r.json  # a retry (new signature) replays
    r = redeem(code, "OMS-1", amount="120.00", service_type="install")
    assert r.status_code == 409 and err(r) == "order_coupon_conflict"
    r = redeem(code, "OMS-2", amount="99.99", service_type="install")
    assert r.status_code == 409 and err(r) == "coupon_used"
    assert my_coupon(resident, coupon_id)["discount_fen"] == 1499
    assert redeem("NOSUCHCODE22", "OMS-3").status_code == 404


def test_a_percentage_is_held_to_its_cap_and_an_amount_to_the_order(client, resident, make_template, issue, redeem):
    _, capped = _coupon(make_template, issue, resident, kind="percent", percent_off=50, cap_fen=3000)
    assert redeem(_code(client, resident, capped), "A-1", amount="1000.00").json["discount"] == "30.00"
    _, big = _coupon(make_template, issue, resident, amount_fen=5000)
    assert redeem(_code(client, resident, big), "A-2", amount="12.50").json["discount_fen"] == 1250


def test_a_partners_coupon_redeems_only_on_its_orders(client, resident, make_template, issue, redeem, query):
    from activation.partners.models import Partner

    def partner(db):
        row = Partner(code="XY01", name="洗衣伙伴", category="洗衣", contact_name="李", contact_phone="13800000002",
                      status="approved")
        db.session.add(row)
        db.session.commit()
        return row.id
    _, coupon_id = _coupon(make_template, issue, resident, partner_id=query(partner), service_types=[])
    code = _code(client, resident, coupon_id)
    r = redeem(code, "P-1")
    assert r.status_code == 422 and fields(r) == {"partner_code": ["该优惠券仅限洗衣伙伴的服务使用"]}
    r = redeem(code, "P-1", partner_code="XY01")
    assert r.status_code == 200 and r.json["partner_code"] == "XY01"


def test_a_refund_within_the_window_restores_the_coupon_and_is_idempotent(client, resident, make_template, issue,
                                                                         redeem, refund, my_coupon, query):
    from activation.coupons.models import CouponUse
    _, coupon_id = _coupon(make_template, issue, resident)
    code = _code(client, resident, coupon_id)
    assert redeem(code, "R-1").status_code == 200
    assert refund("R-404").status_code == 404
    assert err(refund("R-1", code="ZZZZZZZZZZZZ")) == "order_coupon_conflict"
    r = refund("R-1", code=code)
    assert r.status_code == 200 and (r.json["status"], r.json["coupon_status"]) == ("refunded", "available")
    assert refund("R-1").json == r.json
    assert my_coupon(resident, coupon_id)["status"] == "available"
    # used again on another order; the refunded use no longer counts
    assert redeem(code, "R-2").json["status"] == "used"
    standing = query(lambda db: [u.external_order_id for u in db.session.scalars(
        sa.select(CouponUse).where(CouponUse.refunded_at.is_(None)))])
    assert standing == ["R-2"]


def test_a_refund_after_the_window_changes_nothing_and_an_expired_coupon_comes_back_expired(
        client, resident, make_template, issue, redeem, refund, my_coupon, query):
    from activation.coupons.models import Coupon, CouponUse
    _, late = _coupon(make_template, issue, resident)
    _, lapsed = _coupon(make_template, issue, resident, per_user_limit=2, name="另一张")
    assert redeem(_code(client, resident, late), "W-1").status_code == 200
    assert redeem(_code(client, resident, lapsed), "W-2").status_code == 200

    def shift(db):
        db.session.execute(sa.update(CouponUse).where(CouponUse.external_order_id == "W-1").values(
            used_at=datetime.now(timezone.utc) - timedelta(days=7, minutes=1)))
        db.session.execute(sa.update(Coupon).where(Coupon.id == lapsed).values(
            expires_on=business_today() - timedelta(days=1)))
        db.session.commit()
    query(shift)
    r = refund("W-1")
    assert r.status_code == 409 and err(r) == "refund_window_passed"
    assert r.json["error"]["message"] == "已超过 7 天的退款恢复期，优惠券不再恢复"
    assert my_coupon(resident, late)["status"] == "used"
    r = refund("W-2")
    assert r.status_code == 200 and (r.json["status"], r.json["coupon_status"]) == ("refunded", "expired")


def test_signed_calls_refuse_a_bad_signature_a_replay_and_a_stale_timestamp(client, resident, make_template, issue):
    import json

    from core import integrations
    from tests.activation.coupons.conftest import SECRET
    _, coupon_id = _coupon(make_template, issue, resident)
    body = {"code": _code(client, resident, coupon_id), "order_id": "S-1", "amount": "100.00", "service_type": "repair"}
    url = "/api/v1/integrations/coupons/redeem"
    r = signed_post(client, url, body, secret="not-the-secret")
    assert r.status_code == 401 and err(r) == "signature_mismatch"
    r = signed_post(client, url, body, timestamp=int(time.time()) - 3600)
    assert r.status_code == 401 and err(r) == "timestamp_out_of_window"
    r = client.post(url, json=body)
    assert r.status_code == 401 and err(r) == "signature_missing"
    data = json.dumps(body).encode()
    stamp = str(int(time.time()))
    headers = {"X-Linli-Timestamp": stamp, "X-Linli-Signature": integrations.sign(SECRET, stamp, data),
               "Content-Type": "application/json"}
    assert client.post(url, data=data, headers=headers).status_code == 200
    r = client.post(url, data=data, headers=headers)
    assert r.status_code == 401 and err(r) == "signature_replayed"
    r = signed_post(client, "/api/v1/integrations/coupons/refund", {"order_id": "S-1"}, secret="nope")
    assert r.status_code == 401 and err(r) == "signature_mismatch"
    r = signed_post(client, url, {**body, "amount": "1.234"})
    assert r.status_code == 422 and "amount" in fields(r)
