"""Issuing: claims where a template is offered (stock, the per-user limit, Idempotency-Key), the
review coupon whatever the rating, the first-binding coupon once, an activity's coupon by key, and
grants to users or estates, idempotent per grant id."""
import pytest
import sqlalchemy as sa

from core.formatting import business_today
from tests.activation.coupons.conftest import err
from tests.conftest import bearer

URL = "/api/v1/admin/coupon-templates"


def mine(client, who, status="available"):
    r = client.get(f"/api/v1/me/coupons?status={status}", headers=who.headers)
    assert r.status_code == 200, r.json
    return r.json["items"]


# -- claims ----------------------------------------------------------------------------------------

def test_a_resident_claims_a_coupon_offered_in_their_estate(client, make_estate, estate, resident, make_template,
                                                           offer, claim):
    t = make_template(total_stock=5)
    r = claim(resident, t["id"])
    assert r.status_code == 403 and err(r) == "coupon_not_offered"
    assert r.json["error"]["message"] == "您所在的小区暂未发放该优惠券"
    offer(t["id"], make_estate())  # offered elsewhere only
    assert err(claim(resident, t["id"])) == "coupon_not_offered"
    offer(t["id"], estate)
    r = claim(resident, t["id"])
    assert r.status_code == 201, r.json
    c = r.json
    assert (c["status"], c["source"], c["source_label"], c["usable_now"]) == ("available", "claim", "领取", True)
    assert len(c["code"]) == 12 and c["template"]["face"] == "立减10"
    assert (c["expires_on"] > c["valid_from"]) and c["template"]["service_types"] == ["repair", "maintenance"]
    detail = client.get(f"/api/v1/coupon-templates/{t['id']}", headers=resident.headers).json
    assert (detail["held"], detail["can_claim"], detail["remaining"]) == (1, False, 4)
    r = claim(resident, t["id"])
    assert r.status_code == 409 and err(r) == "coupon_limit_reached"
    assert r.json["error"]["message"] == "每人限领 1 张，您已领过了"
    assert [x["id"] for x in mine(client, resident)] == [c["id"]]


def test_a_claim_names_the_estate_or_takes_the_first_offering_one(client, make_estate, resident_of, make_template,
                                                                  offer, claim, query):
    from activation.coupons.models import Coupon
    home, parents = make_estate(), make_estate()
    who = resident_of(home, parents)
    t = make_template(per_user_limit=3)
    offer(t["id"], parents)
    assert err(claim(who, t["id"], estate_id=home)) == "coupon_not_offered"
    assert err(claim(who, t["id"], estate_id=make_estate())) == "not_a_resident"
    first = claim(who, t["id"]).json
    assert query(lambda db: db.session.get(Coupon, first["id"]).estate_id) == parents


def test_stock_pause_end_and_unclaimable_templates_refuse_claims(client, admin, estate, resident_of, make_template,
                                                                 offer, claim):
    t = make_template(total_stock=1)
    offer(t["id"], estate)
    first, second = resident_of(estate), resident_of(estate)
    assert claim(first, t["id"]).status_code == 201
    r = claim(second, t["id"])
    assert r.status_code == 409 and err(r) == "coupon_out_of_stock" and r.json["error"]["message"] == "优惠券已被领完"
    paused = make_template()
    offer(paused["id"], estate)
    client.post(f"{URL}/{paused['id']}/pause", headers=admin.headers)
    r = claim(first, paused["id"])
    assert r.status_code == 409 and err(r) == "coupon_template_inactive"
    hidden = make_template(claimable=False)
    offer(hidden["id"], estate)
    assert claim(first, hidden["id"]).status_code == 404
    assert client.get(f"/api/v1/coupon-templates/{hidden['id']}", headers=first.headers).status_code == 404


def test_a_fixed_date_template_past_its_last_day_is_not_issued(client, admin, estate, resident, make_template, offer,
                                                               claim, issue):
    from datetime import timedelta
    today = business_today()
    t = make_template(valid_days=None, valid_from=today.isoformat(), valid_until=(today + timedelta(days=1)).isoformat())
    offer(t["id"], estate)
    assert issue(t["id"], resident.user_id, today=today + timedelta(days=2)) is None
    c = claim(resident, t["id"]).json
    assert (c["valid_from"], c["expires_on"]) == (today.isoformat(), (today + timedelta(days=1)).isoformat())


def test_a_retried_claim_with_the_same_idempotency_key_gets_the_same_coupon(client, estate, resident, make_template,
                                                                          offer):
    t = make_template(per_user_limit=5)
    offer(t["id"], estate)
    headers = {**resident.headers, "Idempotency-Key": "claim-1"}
    first = client.post(f"/api/v1/coupon-templates/{t['id']}/claim", headers=headers, json={})
    again = client.post(f"/api/v1/coupon-templates/{t['id']}/claim", headers=headers, json={})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json["id"] == first.json["id"]
    assert len(mine(client, resident)) == 1


# -- rules -----------------------------------------------------------------------------------------

def _reviewed(client, who, estate, engineer, request_service, complete, rating):
    order = request_service(who, estate, preferred_engineer_id=engineer.engineer_id).json
    complete(engineer, order["id"])
    r = client.post(f"/api/v1/service-orders/{order['id']}/review", headers=who.headers,
                    json={"rating": rating, "text": "好" if rating > 3 else "不满意"})
    assert r.status_code in (200, 201), r.json
    return order


def test_the_review_coupon_is_the_same_whatever_the_rating(client, estate, resident_of, make_engineer, make_template,
                                                          request_service, complete, query):
    from activation.coupons.models import Coupon
    from core.notifications.models import Notification
    engineer = make_engineer([estate])
    unhappy, happy, before = resident_of(estate), resident_of(estate), resident_of(estate)
    _reviewed(client, before, estate, engineer, request_service, complete, 5)  # no review template yet: nothing
    t = make_template(name="评价有礼", claimable=False, auto_issue="review", per_user_limit=5)
    _reviewed(client, unhappy, estate, engineer, request_service, complete, 1)
    order = _reviewed(client, happy, estate, engineer, request_service, complete, 5)
    got = query(lambda db: {c.user_id: (c.template_id, c.source, c.estate_id) for c in db.session.scalars(sa.select(Coupon))})
    assert got == {unhappy.user_id: (t["id"], "review", estate), happy.user_id: (t["id"], "review", estate)}
    assert mine(client, unhappy)[0]["template"]["face"] == mine(client, happy)[0]["template"]["face"] == "立减10"
    # a second review of the same order is refused and issues nothing
    r = client.post(f"/api/v1/service-orders/{order['id']}/review", headers=happy.headers, json={"rating": 2})
    assert r.status_code == 409
    assert query(lambda db: db.session.scalar(sa.select(sa.func.count()).select_from(Coupon))) == 2
    told = query(lambda db: db.session.scalars(sa.select(Notification.body).where(Notification.kind == "coupon")).all())
    assert told == ["感谢您评价服务，送您「评价有礼」（立减10），领取后 30 天内有效。"] * 2


@pytest.fixture
def takeovers(app_config):
    app_config["STEWARD_PROTECTION_DAYS"] = 0  # a second engineer may take a resident over


def test_the_first_binding_coupon_is_issued_once(takeovers, app, client, estate, make_engineer, mint_code, bind,
                                                 make_template, query):
    from activation.coupons import services
    from activation.coupons.models import Coupon
    t = make_template(name="绑定有礼", claimable=False, auto_issue="binding", per_user_limit=3)
    first, second = make_engineer([estate]), make_engineer([estate])
    r = bind(mint_code(first, estate)["scene"], openid="o-bind-once")
    assert r.status_code == 200 and r.json["result"] == "created", r.json
    user_id = r.json["user"]["id"]
    r = bind(mint_code(second, estate)["scene"], openid="o-bind-once")
    assert r.json["result"] == "switched"
    coupons = query(lambda db: [(c.user_id, c.template_id, c.source, c.issue_key)
                                for c in db.session.scalars(sa.select(Coupon))])
    assert coupons == [(user_id, t["id"], "binding", f"binding:{user_id}")]

    def deliver_again(db):  # the event delivered twice still issues once
        services.steward_bound(None, resident_id=user_id, engineer_id=first.engineer_id, estate_id=estate, first=True)
        db.session.commit()
        return db.session.scalar(sa.select(sa.func.count()).select_from(Coupon))
    assert query(deliver_again) == 1


def test_an_activity_or_rule_issue_is_idempotent_by_its_key_and_says_none_when_refused(make_template, login, issue):
    t = make_template(total_stock=2, per_user_limit=1)
    a, b, c = login(), login(), login()
    first = issue(t["id"], a.user_id, source="activity", issue_key=f"activity:7:{a.user_id}")
    assert issue(t["id"], a.user_id, source="activity", issue_key=f"activity:7:{a.user_id}") == first
    assert issue(t["id"], a.user_id, source="activity", issue_key=f"activity:8:{a.user_id}") is None  # the limit
    assert issue(t["id"], b.user_id, source="activity", issue_key=f"activity:7:{b.user_id}") is not None
    assert issue(t["id"], c.user_id, source="activity", issue_key=f"activity:7:{c.user_id}") is None  # no stock


# -- grants ----------------------------------------------------------------------------------------

def test_a_grant_to_users_issues_one_each_and_repeating_it_issues_nothing_more(client, admin, make_template, login,
                                                                              estate, resident_of, query):
    from activation.coupons.models import Coupon, CouponTemplate
    t = make_template(claimable=False, total_stock=3, per_user_limit=1)
    people = [resident_of(estate), login(), login(), login()]
    body = {"grant_id": "spring-2026", "user_ids": [p.user_id for p in people] + [people[0].user_id, 10**9]}
    r = client.post(f"{URL}/{t['id']}/grants", headers=admin.headers, json=body)
    assert r.status_code == 200, r.json
    assert r.json == {"grant_id": "spring-2026", "targeted": 4, "issued": 3, "repeated": 0, "at_limit": 0,
                      "out_of_stock": 1}
    r = client.post(f"{URL}/{t['id']}/grants", headers=admin.headers, json=body)
    assert r.json == {"grant_id": "spring-2026", "targeted": 4, "issued": 0, "repeated": 3, "at_limit": 0,
                      "out_of_stock": 1}
    assert query(lambda db: db.session.get(CouponTemplate, t["id"]).issued) == 3
    rows = query(lambda db: [(c.user_id, c.estate_id, c.source) for c in db.session.scalars(
        sa.select(Coupon).order_by(Coupon.user_id))])
    # the holder's estate, when they have one
    assert rows == [(people[0].user_id, estate, "grant"), (people[1].user_id, None, "grant"),
                    (people[2].user_id, None, "grant")]
    assert mine(client, people[1])[0]["source_label"] == "平台发放"


def test_a_grant_to_estates_reaches_their_current_residents_within_the_limit(client, admin, make_template, make_estate,
                                                                            resident_of, issue):
    one, two, other = make_estate(), make_estate(), make_estate()
    both = resident_of(one, two)
    a, b, left, elsewhere = resident_of(one), resident_of(two), resident_of(one), resident_of(other)
    assert client.delete(f"/api/v1/me/estates/{one}", headers=left.headers).status_code in (200, 204)
    t = make_template(claimable=False, per_user_limit=1)
    issue(t["id"], a.user_id)  # already at the limit
    r = client.post(f"{URL}/{t['id']}/grants", headers=admin.headers, json={"estate_ids": [one, two]})
    assert r.status_code == 200, r.json
    assert (r.json["targeted"], r.json["issued"], r.json["at_limit"]) == (3, 2, 1)
    assert [len(mine(client, p)) for p in (both, a, b, left, elsewhere)] == [1, 1, 1, 0, 0]


def test_a_grant_by_targeting_rule_reaches_the_residents_of_the_matching_estates(client, admin, make_template,
                                                                                make_estate, resident_of):
    canton, shenzhen = make_estate(city="广州市"), make_estate(city="深圳市")
    there, here = resident_of(canton), resident_of(shenzhen)
    t = make_template(claimable=False)
    r = client.post(f"{URL}/{t['id']}/grants", headers=admin.headers, json={"rule": {"cities": ["广州市"]}})
    assert r.status_code == 200 and (r.json["targeted"], r.json["issued"]) == (1, 1), r.json
    assert (len(mine(client, there)), len(mine(client, here))) == (1, 0)
    r = client.post(f"{URL}/{t['id']}/grants", headers=admin.headers, json={"rule": {"colour": "红"}})
    assert r.status_code == 422 and r.json["error"]["details"]["fields"] == {"colour": ["不支持的筛选条件：colour"]}


def test_a_grant_names_exactly_one_segment_of_an_active_template(client, admin, make_template, login):
    t = make_template(claimable=False)
    r = client.post(f"{URL}/{t['id']}/grants", headers=admin.headers, json={"user_ids": [1], "estate_ids": [1]})
    assert r.status_code == 422 and r.json["error"]["details"]["fields"] == {
        "user_ids": ["请指定发放对象：用户、小区或筛选规则（三选一）"]}
    client.post(f"{URL}/{t['id']}/end", headers=admin.headers)
    r = client.post(f"{URL}/{t['id']}/grants", headers=admin.headers, json={"user_ids": [login().user_id]})
    assert r.status_code == 409 and err(r) == "coupon_template_inactive"
    assert client.post(f"{URL}/{t['id']}/grants", headers=bearer(login().token),
                       json={"user_ids": [1]}).status_code == 403
