"""One timeline per customer: every kind of event, newest first, the same list page by page."""
from __future__ import annotations

from datetime import timedelta

from core.formatting import business_today
from tests.community.book.conftest import care_item, complain, recompute, request_order, review, served, set_user
from tests.community.stewards.test_handover import complete_handovers

TOMORROW = (business_today() + timedelta(days=1)).isoformat()


def walk(client, who, user_id, limit):
    items, cursor = [], None
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/api/v1/engineer/customers/{user_id}/timeline", headers=who.headers, query_string=query)
        assert page.status_code == 200, page.json
        items += page.json["items"]
        cursor = page.json["next_cursor"]
        if not cursor:
            return items


def test_everything_with_a_customer_in_one_list(app, client, admin, make_engineer, estate, steward, customer):
    order = served(client, customer, steward, estate)
    review(client, customer, order["id"], 2, "师傅态度一般")
    complain(client, customer, order["id"], "迟到两小时")
    booked = request_order(client, customer, estate, preferred_engineer_id=steward.engineer_id, service_type="maintenance")
    care_item(app, customer.user_id, estate, due_on=business_today() + timedelta(days=3), status="booked",
              order_id=booked["id"])
    care_item(app, customer.user_id, estate, due_on=business_today() - timedelta(days=30), status="declined",
              outcome_note="客户说刚换过滤芯")
    h = steward.headers
    client.post(f"/api/v1/engineer/customers/{customer.user_id}/notes", headers=h, json={"text": "客户对价格敏感"})
    follow_up = client.post(f"/api/v1/engineer/customers/{customer.user_id}/follow-ups", headers=h,
                            json={"due_on": TOMORROW, "text": "回访投诉处理结果"}).json
    client.post(f"/api/v1/engineer/follow-ups/{follow_up['id']}/done", headers=h)
    set_user(app, customer.user_id, last_active_on=None)
    recompute(app)  # an open complaint and a low rating: a red customer? not yet (65 - 15 = 50): no alert
    successor = make_engineer([estate], name="李师傅")
    client.post(f"/api/v1/admin/engineers/{steward.engineer_id}/reassign", headers=admin.headers,
                json={"to_engineer_id": successor.engineer_id})
    complete_handovers(app)  # the customer did not refuse within 24 hours

    items = walk(client, successor, customer.user_id, limit=50)
    kinds = [e["kind"] for e in items]
    for kind in ("visit", "binding_started", "binding_ended", "order_requested", "order_completed", "review",
                 "complaint", "product", "care_generated", "care_booked", "care_outcome", "note", "follow_up",
                 "follow_up_done"):
        assert kind in kinds, kind
    assert kinds.count("binding_started") == 2 and kinds[0] == "binding_started"  # the handover came last
    assert [e["at"] for e in items] == sorted((e["at"] for e in items), reverse=True)
    by_kind = {}
    for e in items:
        by_kind.setdefault(e["kind"], e)  # the newest of each kind
    assert by_kind["binding_started"]["title"] == "成为 李师傅 的客户"
    assert by_kind["binding_ended"]["detail"] == "管理员转交"
    assert by_kind["review"]["title"] == "评价维修服务 ★★☆☆☆" and by_kind["review"]["detail"] == "师傅态度一般"
    assert by_kind["review"]["links"]["order_id"] == order["id"]
    assert by_kind["complaint"]["detail"] == "迟到两小时"
    assert by_kind["order_completed"]["title"] == "维修服务完成" and by_kind["order_completed"]["detail"] == "工程师 王建国"
    assert by_kind["care_outcome"]["title"].startswith("保养客户婉拒：滤芯更换") and \
        by_kind["care_outcome"]["detail"] == "客户说刚换过滤芯"
    assert by_kind["care_booked"]["links"]["order_id"] == booked["id"]
    assert by_kind["product"]["title"] == "登记产品：净水器 R5"
    assert by_kind["note"]["detail"] == "客户对价格敏感" and by_kind["note"]["title"] == "王建国 的备注"
    assert by_kind["follow_up_done"]["detail"] == "回访投诉处理结果"
    # page by page, the same list in the same order, whatever the page size
    for limit in (1, 3, 7):
        assert walk(client, successor, customer.user_id, limit) == items


def test_a_red_customer_shows_its_alert_and_a_bad_cursor_is_a_400(app, client, steward, estate, customer):
    first, second = served(client, customer, steward, estate), served(client, customer, steward, estate)
    complain(client, customer, first["id"])
    complain(client, customer, second["id"])
    recompute(app)
    items = walk(client, steward, customer.user_id, limit=20)
    alert = next(e for e in items if e["kind"] == "health_alert")
    assert alert["title"] == "健康分降至 30（红色预警）" and "2 个投诉未处理" in alert["detail"]
    for cursor in ("bm9wZQ", "WyJ4IiwidmlzaXQiLDFd"):  # not JSON; a time that is not one
        bad = client.get(f"/api/v1/engineer/customers/{customer.user_id}/timeline", headers=steward.headers,
                         query_string={"cursor": cursor})
        assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_cursor"
