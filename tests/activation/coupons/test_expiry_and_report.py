"""The daily expiry with its one reminder, the per-estate report (figures, filters, CSV with
formula-like cells kept as text) and the admin console pages."""
import csv
import io
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from core.formatting import business_today
from tests.conftest import flashes, html, post_form


def _set(query, coupon_id, **values):
    from activation.coupons.models import Coupon

    def work(db):
        db.session.execute(sa.update(Coupon).where(Coupon.id == coupon_id).values(**values))
        db.session.commit()
    query(work)


def test_the_job_expires_past_coupons_and_tells_holders_once_before(client, login, make_template, issue, query,
                                                                    request_service, estate, resident):
    from activation.coupons import services
    from activation.coupons.models import Coupon
    from core.notifications.models import Notification
    t = make_template(per_user_limit=5)
    today = business_today()
    a, b = login(), login()
    past, soon, later, soon_b = (issue(t["id"], a.user_id), issue(t["id"], a.user_id), issue(t["id"], a.user_id),
                                 issue(t["id"], b.user_id))
    held = issue(t["id"], resident.user_id)
    assert request_service(resident, estate, coupon_id=held).status_code == 201
    for coupon_id, day in ((past, today - timedelta(days=1)), (soon, today + timedelta(days=2)),
                           (later, today + timedelta(days=10)), (soon_b, today + timedelta(days=3)),
                           (held, today - timedelta(days=1))):
        _set(query, coupon_id, expires_on=day)

    def run(db):
        result = services.expire_coupons(today)
        db.session.commit()
        return result
    assert query(run) == {"expired": 1, "reminded": 2, "holders_told": 2}
    assert query(run) == {"expired": 0, "reminded": 0, "holders_told": 0}  # once
    states = query(lambda db: dict(db.session.execute(sa.select(Coupon.id, Coupon.status)).all()))
    assert states == {past: "expired", soon: "available", later: "available", soon_b: "available", held: "locked"}
    notices = query(lambda db: sorted(db.session.execute(sa.select(Notification.user_id, Notification.body).where(
        Notification.kind == "coupon")).all()))
    soon_day, soon_b_day = today + timedelta(days=2), today + timedelta(days=3)
    assert notices == [(a.user_id, f"您有 1 张优惠券最早将于 {soon_day.month}月{soon_day.day}日 到期，请尽快使用。"),
                       (b.user_id, f"您有 1 张优惠券最早将于 {soon_b_day.month}月{soon_b_day.day}日 到期，请尽快使用。")]
    assert "expire-coupons" in [job.name for job in __import__("core.scheduler", fromlist=["all_jobs"]).all_jobs()]


def _report(client, admin, **args):
    r = client.get("/api/v1/admin/coupon-report", headers=admin.headers, query_string=args)
    assert r.status_code == 200, r.json
    return r.json


def test_the_report_counts_issued_claimed_used_and_cost_per_estate(client, admin, make_estate, resident_of, make_template,
                                                                   issue, redeem, refund, query, make_engineer,
                                                                   request_service, complete):
    north = make_estate(name="北园", city="广州市")
    south = make_estate(name="=SUM(A1)南苑", city="深圳市")
    n1, n2, s1 = resident_of(north), resident_of(north), resident_of(south)
    t = make_template(per_user_limit=3, service_types=[])
    other = make_template(name="另一券")
    c1 = issue(t["id"], n1.user_id, source="claim", estate_id=north)
    c2 = issue(t["id"], n2.user_id, source="claim", estate_id=north)
    c3 = issue(t["id"], s1.user_id, source="grant", estate_id=south)
    c4 = issue(t["id"], s1.user_id, source="grant", estate_id=south)
    issue(other["id"], n1.user_id, source="claim", estate_id=north)
    engineer = make_engineer([north])
    order = request_service(n1, north, coupon_id=c1, preferred_engineer_id=engineer.engineer_id).json
    complete(engineer, order["id"])  # 10 yuan at north
    code = lambda who, cid: client.get(f"/api/v1/me/coupons/{cid}", headers=who.headers).json["code"]  # noqa: E731
    assert redeem(code(s1, c3), "X-1", amount="50.00").status_code == 200  # 10 yuan at south
    assert redeem(code(s1, c4), "X-2", amount="50.00").status_code == 200
    assert refund("X-2").status_code == 200  # refunded: not counted
    assert c2
    data = _report(client, admin, template_id=t["id"])
    assert data["totals"] == {"issued": 4, "claimed": 2, "used": 2, "cost_fen": 2000}
    rows = {r["estate"]["name"]: (r["issued"], r["claimed"], r["used"], r["cost_fen"]) for r in data["items"]}
    assert rows == {"北园": (2, 2, 1, 1000), "=SUM(A1)南苑": (2, 0, 1, 1000)}
    everything = _report(client, admin)
    assert everything["totals"]["issued"] == 5 and everything["items"][0]["estate"]["name"] == "北园"
    assert [r["estate"]["name"] for r in _report(client, admin, city="深圳市")["items"]] == ["=SUM(A1)南苑"]
    assert [r["estate"]["name"] for r in _report(client, admin, q="北")["items"]] == ["北园"]
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    assert _report(client, admin, **{"from": tomorrow})["totals"] == {"issued": 0, "claimed": 0, "used": 0, "cost_fen": 0}
    page = _report(client, admin, limit=1)
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = _report(client, admin, limit=1, cursor=page["next_cursor"])
    assert [r["estate"]["name"] for r in rest["items"]] == ["=SUM(A1)南苑"] and rest["next_cursor"] is None
    r = client.get("/api/v1/admin/coupon-report", headers=admin.headers, query_string={"from": "2026-02-01",
                                                                                     "to": "2026-01-01"})
    assert r.status_code == 422 and r.json["error"]["details"]["fields"] == {"to": ["结束日期不能早于开始日期"]}
    figures = client.get(f"/api/v1/admin/coupon-templates/{t['id']}", headers=admin.headers).json["figures"]
    assert figures == {"issued": 4, "claimed": 2, "used": 2, "cost_fen": 2000, "refunded": 1,
                       "by_status": {"available": 2, "locked": 0, "used": 2, "expired": 0, "void": 0}}


def test_the_console_creates_a_template_grants_it_and_exports_the_report(console, client, make_estate, resident_of,
                                                                       query):
    from activation.coupons.models import CouponTemplate
    estate = make_estate(name="+CMD 小区")
    people = [resident_of(estate), resident_of(estate)]
    page = client.get("/admin/coupons")
    assert page.status_code == 200 and "还没有优惠券" in html(page)
    r = post_form(client, "/admin/coupons/new", "/admin/coupons/new", {
        "name": "", "kind": "percent", "percent_off": "15", "validity": "days", "valid_days": "30",
        "per_user_limit": "1"})
    assert r.status_code == 200 and "请填写优惠券名称" in html(r)
    r = post_form(client, "/admin/coupons/new", "/admin/coupons/new", {
        "name": "清洗八五折", "kind": "percent", "percent_off": "15", "validity": "days", "valid_days": "30",
        "per_user_limit": "1"})
    assert r.status_code == 200 and "折扣券须填写最高减免金额" in html(r)
    r = post_form(client, "/admin/coupons/new", "/admin/coupons/new", [
        ("name", "清洗八五折"), ("kind", "percent"), ("percent_off", "15"), ("cap_yuan", "30.5"), ("min_spend_yuan", "100"),
        ("service_types", "cleaning"), ("validity", "fixed"), ("valid_from", business_today().isoformat()),
        ("valid_until", (business_today() + timedelta(days=30)).isoformat()), ("total_stock", "100"),
        ("per_user_limit", "1"), ("claimable", "y")])
    assert r.status_code == 302, html(r)[:2000]
    t = query(lambda db: db.session.scalars(sa.select(CouponTemplate)).one())
    assert (t.kind, t.percent_off, t.cap_fen, t.min_spend_fen, t.service_types, t.valid_days) == (
        "percent", 15, 3050, 10000, ["cleaning"], None)
    detail = f"/admin/coupons/{t.id}"
    r = post_form(client, detail, f"{detail}/grants", {"to": "estates", "ids": str(estate), "grant_id": "g1"},
                  follow_redirects=True)
    assert "已发放 2 张（共 2 位住户）" in flashes(r)
    r = post_form(client, detail, f"{detail}/grants", {"to": "estates", "ids": str(estate), "grant_id": "g1"},
                  follow_redirects=True)
    assert "已发放 0 张，2 人此前已发放（共 2 位住户）" in flashes(r)
    page = html(client.get(detail))
    assert "+CMD 小区" in page and 'data-stat="issued">2<' in page and "满100享8.5折" in page
    r = client.get(f"/admin/coupons/{t.id}/edit")
    assert "已发出 2 张" in html(r)
    r = post_form(client, f"/admin/coupons/{t.id}/edit", f"/admin/coupons/{t.id}/edit", {
        "name": "清洗八五折（加量）", "total_stock": "200", "per_user_limit": "2", "auto_issue": "", "kind": "amount"})
    assert r.status_code == 302, html(r)[:3000]
    t2 = query(lambda db: db.session.get(CouponTemplate, t.id))
    assert (t2.name, t2.total_stock, t2.per_user_limit, t2.kind) == ("清洗八五折（加量）", 200, 2, "percent")
    exported = client.get(f"/admin/coupons/{t.id}/report.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [["小区", "城市", "区县", "发放", "领取", "使用", "优惠金额（元）"],
                    ["'+CMD 小区", "深圳市", "南山区", "2", "0", "0", "0.00"]]
    r = post_form(client, detail, f"{detail}/pause", {}, follow_redirects=True)
    assert "已暂停发放" in flashes(r)
    assert client.get("/admin/coupons/report").status_code == 200
    assert client.get("/admin/coupons/report.csv?city=深圳市").get_data(as_text=True).count("\n") == 2
    assert people


def test_the_console_is_for_admins_only(client, make_admin, web_login):
    make_admin("agent-x", "agent-pass-1", roles={"agent"})
    web_login("agent-x", "agent-pass-1")
    assert client.get("/admin/coupons").status_code == 403
    assert client.get("/admin/coupons/report.csv").status_code == 403


def test_a_used_at_outside_the_period_leaves_the_use_out(client, admin, make_estate, resident_of, make_template, issue,
                                                         redeem, query):
    from activation.coupons.models import CouponUse
    estate = make_estate()
    who = resident_of(estate)
    t = make_template()
    coupon_id = issue(t["id"], who.user_id, estate_id=estate)
    code = client.get(f"/api/v1/me/coupons/{coupon_id}", headers=who.headers).json["code"]
    assert redeem(code, "OLD-1").status_code == 200

    def backdate(db):
        db.session.execute(sa.update(CouponUse).values(used_at=datetime.now(timezone.utc) - timedelta(days=40)))
        db.session.commit()
    query(backdate)
    since = (business_today() - timedelta(days=7)).isoformat()
    assert _report(client, admin, **{"from": since})["totals"] == {"issued": 1, "claimed": 0, "used": 0, "cost_fen": 0}
