"""Races (PostgreSQL: SQLite serialises writers): 100 residents claiming a stock of 50 get exactly
50; one resident claiming 100 times at once against a limit of 2 gets 2; a grant racing claims
never passes the stock; one order redeemed twice at once uses the coupon once."""
import pytest
import sqlalchemy as sa

from tests.activation.coupons.conftest import signed_post
from tests.concurrency import http_race, in_own_context, outcomes, race
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


def _claims(app, template_id, people):
    url = f"/api/v1/coupon-templates/{template_id}/claim"
    return http_race(app, [lambda c, who=who: c.post(url, headers=who.headers, json={}) for who in people])


def _issued(query, template_id):
    from activation.coupons.models import Coupon, CouponTemplate
    return query(lambda db: (db.session.get(CouponTemplate, template_id).issued, db.session.scalar(
        sa.select(sa.func.count()).select_from(Coupon).where(Coupon.template_id == template_id))))


def test_100_residents_claiming_a_stock_of_50_get_exactly_50(app, estate, resident_of, make_template, offer, query):
    t = make_template(total_stock=50, per_user_limit=1)
    offer(t["id"], estate)
    people = [resident_of(estate) for _ in range(100)]
    results = _claims(app, t["id"], people)
    codes = sorted(r.status_code for r in results)
    assert codes == [201] * 50 + [409] * 50
    assert {r.json["error"]["code"] for r in results if r.status_code == 409} == {"coupon_out_of_stock"}
    assert _issued(query, t["id"]) == (50, 50)


def test_one_resident_claiming_100_times_at_once_gets_the_limit_of_2(app, estate, resident, make_template, offer, query):
    from activation.coupons.models import Coupon
    t = make_template(per_user_limit=2)
    offer(t["id"], estate)
    results = _claims(app, t["id"], [resident] * 100)
    assert sorted(r.status_code for r in results) == [201] * 2 + [409] * 98
    assert {r.json["error"]["code"] for r in results if r.status_code == 409} == {"coupon_limit_reached"}
    assert _issued(query, t["id"]) == (2, 2)  # refused claims gave their stock back
    slots = query(lambda db: sorted(db.session.scalars(sa.select(Coupon.slot).where(Coupon.user_id == resident.user_id))))
    assert slots == [1, 2]


def test_grants_and_service_issues_racing_never_pass_the_stock(app, login, make_template, query):
    from activation.coupons import services
    t = make_template(total_stock=30, per_user_limit=1, claimable=False)
    people = [login().user_id for _ in range(40)]
    calls = [in_own_context(app, lambda ids=people[:20], n=n: services.grant(t["id"], None, grant_id=f"g{n}",
                                                                            user_ids=ids)) for n in range(2)]
    calls += [in_own_context(app, lambda u=u: services.issue_coupon(t["id"], u, source="activity",
                                                                    issue_key=f"activity:1:{u}")) for u in people[10:]]
    results = race(calls)
    assert outcomes(results) == {"ok": len(calls)}
    assert _issued(query, t["id"]) == (30, 30)


def test_one_order_redeemed_twice_at_once_uses_the_coupon_once(app, client, resident, make_template, issue, query):
    from activation.coupons.models import CouponUse
    t = make_template()
    coupon_id = issue(t["id"], resident.user_id)
    code = client.get(f"/api/v1/me/coupons/{coupon_id}", headers=resident.headers).json["code"]
    body = {"code": code, "order_id": "RACE-1", "amount": "88.00", "service_type": "repair"}
    results = http_race(app, [lambda c: signed_post(c, "/api/v1/integrations/coupons/redeem", body) for _ in range(8)])
    assert {r.status_code for r in results} == {200}
    assert len({r.json["used_at"] for r in results}) == 1
    assert query(lambda db: db.session.scalar(sa.select(sa.func.count()).select_from(CouponUse))) == 1
