"""Coupon templates through the admin API: the terms checked field by field in Chinese, what may
change once coupons are out, pausing and ending, one template per automatic event, and the audit."""
from datetime import timedelta

import sqlalchemy as sa

from core.formatting import business_today
from tests.activation.coupons.conftest import err, fields

URL = "/api/v1/admin/coupon-templates"


def test_an_admin_creates_an_amount_template_and_reads_its_terms(client, admin):
    r = client.post(URL, headers=admin.headers, json={
        "name": " 清洗 满100减20 ", "kind": "amount", "amount_fen": 2000, "min_spend_fen": 10000,
        "service_types": ["maintenance", "cleaning"], "valid_days": 30, "total_stock": 500, "per_user_limit": 2,
        "claimable": True})
    assert r.status_code == 201, r.json
    t = r.json
    assert (t["name"], t["face"], t["status"], t["issued"], t["remaining"]) == ("清洗 满100减20", "满100减20", "active", 0, 500)
    assert [s["code"] for s in t["service_types"]] == ["maintenance", "cleaning"]  # the catalogue's order
    assert t["terms"] == ["减 20 元", "订单满 100 元可用", "限保养、清洗服务使用", "领取后 30 天内有效", "每人限领 2 张"]
    assert t["figures"] == {"issued": 0, "claimed": 0, "used": 0, "cost_fen": 0, "refunded": 0,
                            "by_status": {"available": 0, "locked": 0, "used": 0, "expired": 0, "void": 0}}
    assert client.get(f"{URL}/{t['id']}", headers=admin.headers).json["validity"] == "领取后 30 天内有效"
    listed = client.get(URL, headers=admin.headers).json["items"]
    assert [x["id"] for x in listed] == [t["id"]]


def test_a_percentage_needs_its_cap_and_reads_as_a_discount(client, admin):
    r = client.post(URL, headers=admin.headers, json={"name": "八五折", "kind": "percent", "percent_off": 15,
                                                      "valid_days": 7})
    assert r.status_code == 422 and fields(r) == {"cap_fen": ["折扣券须填写最高减免金额"]}
    r = client.post(URL, headers=admin.headers, json={"name": "八五折", "kind": "percent", "percent_off": 15,
                                                      "cap_fen": 5000, "valid_days": 7})
    assert r.status_code == 201 and r.json["face"] == "8.5折"
    assert r.json["terms"][:2] == ["打8.5折，最高减 50 元", "无门槛"]
    assert r.json["terms"][2] == "全部服务类型可用"


def test_every_field_at_fault_is_named_in_chinese(client, admin):
    yesterday = (business_today() - timedelta(days=2)).isoformat()
    r = client.post(URL, headers=admin.headers, json={
        "name": "", "kind": "amount", "amount_fen": 0, "min_spend_fen": -1, "valid_from": yesterday,
        "valid_until": yesterday, "total_stock": -5, "per_user_limit": 0, "partner_id": 99})
    assert r.status_code == 422 and err(r) == "validation_error"
    assert r.json["error"]["message"] == "优惠券设置有误"
    assert fields(r) == {
        "name": ["请填写优惠券名称"], "amount_fen": ["减免金额须大于 0 元、不超过 10 万元"],
        "min_spend_fen": ["使用门槛须在 0 到 10 万元之间"], "valid_until": ["结束日期不能早于今天"],
        "total_stock": ["总库存须在 0 到 1000 万之间（留空为不限）"], "per_user_limit": ["每人限领须在 1 到 100 张之间"],
        "partner_id": ["合作伙伴不存在或未通过审核"]}
    r = client.post(URL, headers=admin.headers, json={"name": "x", "kind": "percent", "percent_off": 95, "cap_fen": 100,
                                                      "valid_days": 5, "valid_from": "2030-01-01"})
    assert fields(r) == {"percent_off": ["折扣须在 1 到 90 之间（15 表示打八五折）"],
                         "valid_days": ["有效期请二选一：固定日期，或领取后有效天数"]}
    r = client.post(URL, headers=admin.headers, json={"name": "x", "kind": "amount", "amount_fen": 3000,
                                                      "min_spend_fen": 2000})
    assert fields(r) == {"amount_fen": ["减免金额不能超过使用门槛"], "valid_days": ["请填写有效期：固定日期，或领取后有效天数"]}
    r = client.post(URL, headers=admin.headers, json={"name": "x", "kind": "gift", "valid_from": "2030-02-01",
                                                      "valid_until": "2030-01-01", "service_types": ["painting"]})
    assert r.status_code == 422 and set(fields(r)) == {"kind", "service_types"}  # the schema's own check first
    r = client.post(URL, headers=admin.headers, json={"name": "x", "kind": "amount", "amount_fen": 100,
                                                      "valid_from": "2030-02-01", "valid_until": "2030-01-01"})
    assert fields(r) == {"valid_until": ["结束日期不能早于开始日期"]}
    r = client.post(URL, headers=admin.headers, json={"name": "x", "kind": "amount", "amount_fen": 1.5, "valid_days": 3})
    assert r.status_code == 422 and fields(r) == {"amount_fen": ["应为整数"]}


def test_only_admins_manage_templates(client, login, agent, make_template):
    t = make_template()
    for who in (login(), agent):
        assert client.post(URL, headers=who.headers, json={"name": "x"}).status_code == 403
        assert client.get(f"{URL}/{t['id']}", headers=who.headers).status_code == 403
        assert client.post(f"{URL}/{t['id']}/pause", headers=who.headers).status_code == 403


def test_terms_freeze_once_a_coupon_is_out_but_wording_stock_and_limit_may_change(client, admin, make_template,
                                                                                 login, issue):
    t = make_template(total_stock=10)
    r = client.patch(f"{URL}/{t['id']}", headers=admin.headers, json={"amount_fen": 1500, "valid_days": 10})
    assert r.status_code == 200 and (r.json["amount_fen"], r.json["valid_days"]) == (1500, 10)
    issue(t["id"], login().user_id)
    issue(t["id"], login().user_id)
    r = client.patch(f"{URL}/{t['id']}", headers=admin.headers, json={"amount_fen": 2000, "service_types": []})
    assert r.status_code == 422
    assert fields(r) == {"amount_fen": ["已有优惠券发出，不能再修改此项（持券人按领取时的条件使用）"],
                         "service_types": ["已有优惠券发出，不能再修改此项（持券人按领取时的条件使用）"]}
    r = client.patch(f"{URL}/{t['id']}", headers=admin.headers, json={"total_stock": 1})
    assert fields(r) == {"total_stock": ["总库存不能少于已发放的 2 张"]}
    r = client.patch(f"{URL}/{t['id']}", headers=admin.headers, json={
        "name": "维修立减券（加量）", "total_stock": 20, "per_user_limit": 3, "amount_fen": 1500})
    assert r.status_code == 200 and (r.json["name"], r.json["total_stock"], r.json["per_user_limit"]) == (
        "维修立减券（加量）", 20, 3)


def test_pause_resume_end_and_an_ended_template_stays_as_it_was(client, admin, make_template):
    t = make_template()
    url = f"{URL}/{t['id']}"
    assert client.post(f"{url}/resume", headers=admin.headers).json["error"]["code"] == "coupon_template_state"
    assert client.post(f"{url}/pause", headers=admin.headers).json["status"] == "paused"
    assert client.post(f"{url}/resume", headers=admin.headers).json["status"] == "active"
    assert client.post(f"{url}/end", headers=admin.headers).json["status"] == "ended"
    r = client.post(f"{url}/resume", headers=admin.headers)
    assert r.status_code == 409 and r.json["error"]["message"] == "只有已暂停的优惠券可以恢复发放"
    r = client.patch(url, headers=admin.headers, json={"name": "改名"})
    assert r.status_code == 409 and err(r) == "coupon_template_ended"


def test_one_template_per_automatic_event_and_ending_it_stops_the_rule(client, admin, make_template, query):
    from core.models import AuditEntry
    first = make_template(name="评价券一", claimable=False, auto_issue="review")
    second = make_template(name="评价券二", claimable=False, auto_issue="review")
    assert client.get(f"{URL}/{first['id']}", headers=admin.headers).json["auto_issue"] is None
    assert client.get(f"{URL}/{second['id']}", headers=admin.headers).json["auto_issue_label"] == "评价服务后发放"
    ended = client.post(f"{URL}/{second['id']}/end", headers=admin.headers).json
    assert ended["auto_issue"] is None
    actions = query(lambda db: db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.object_type == "coupon_template").order_by(AuditEntry.id)).all())
    assert actions == ["coupon_template.create", "coupon_template.auto_issue_moved", "coupon_template.create",
                       "coupon_template.end"]
