"""The steward's lists (due, overdue, snoozed, booked, done) and the outcomes they record: booked on
the customer's behalf, done elsewhere, declined, snoozed until a date; only the item's engineer
(and staff); the same outcome again is a no-op, a change of a closed item a 409."""
from datetime import timedelta

import sqlalchemy as sa

from tests.community.care.conftest import headers, today


def outcome(client, who, item_id, **body):
    return client.post(f"/api/v1/engineer/reminders/{item_id}/outcome", headers=headers(who), json=body)


def listed(client, who, status, **args) -> list[dict]:
    r = client.get("/api/v1/engineer/reminders", headers=headers(who), query_string={"status": status, **args})
    assert r.status_code == 200, r.json
    return r.json["items"]


def set_phone(app, user_id, phone):
    from core.accounts.models import User
    from core.extensions import db
    with app.app_context():
        user = db.session.get(User, user_id)
        user.phone, user.display_name = phone, "陈晓明"
        db.session.commit()


def test_the_lists_sort_items_by_due_date_with_product_plan_and_customer(
        app, client, agent, make_estate, make_engineer, household, make_product, generate, items):
    estate, other = make_estate(name="阳光花园"), make_estate()
    steward = make_engineer([estate, other])
    home = household(estate, steward)
    set_phone(app, home.user_id, "13912345678")
    due, _ = make_product(owner_id=home.user_id, estate_id=estate, due_on=today() + timedelta(days=12),
                          model_name="RO-600G")
    due_today, _ = make_product(owner_id=home.user_id, estate_id=estate, due_on=today())
    overdue, _ = make_product(owner_id=home.user_id, estate_id=estate, due_on=today() - timedelta(days=4))
    there, _ = make_product(owner_id=household(other, steward).user_id, estate_id=other,
                            due_on=today() + timedelta(days=2))
    generate()
    due_list = listed(client, steward, "due")
    assert [i["product"]["id"] for i in due_list] == [due_today, there, due]
    item = due_list[-1]
    assert item["product"] == {"id": due, "serial": item["product"]["serial"], "model_code": item["product"]["model_code"],
                               "model_name": "RO-600G", "category": "water_purifier", "category_label": "净水器",
                               "address": ""}
    assert item["plan"]["name"] == "滤芯更换" and item["plan"]["service_type_label"] == "保养"
    assert item["customer"] == {"id": home.user_id, "name": "陈晓明", "phone": "13912345678", "phone_full": True}  # their steward
    assert item["estate"] == {"id": estate, "name": "阳光花园"}
    assert (item["status"], item["route"], item["days_left"], item["overdue"]) == ("open", "steward", 12, False)
    assert [i["product"]["id"] for i in listed(client, steward, "overdue")] == [overdue]
    assert listed(client, steward, "overdue")[0]["overdue"] is True
    assert [i["product"]["id"] for i in listed(client, steward, "due", estate_id=other)] == [there]
    assert listed(client, steward, "booked") == [] and listed(client, steward, "done") == []
    counts = client.get("/api/v1/engineer/reminders/counts", headers=headers(steward)).json
    assert counts == {"due": 3, "overdue": 1, "snoozed": 0, "booked": 0, "done": 0}
    page = client.get("/api/v1/engineer/reminders?status=due&limit=2", headers=headers(steward)).json
    assert len(page["items"]) == 2
    rest = client.get(f"/api/v1/engineer/reminders?status=due&limit=2&cursor={page['next_cursor']}",
                      headers=headers(steward)).json
    assert [i["product"]["id"] for i in rest["items"]] == [due] and rest["next_cursor"] is None
    assert client.get("/api/v1/engineer/reminders?status=bogus", headers=headers(steward)).status_code == 422
    # another engineer sees none of them; a resident may not ask
    assert listed(client, make_engineer([estate]), "due") == []
    assert client.get("/api/v1/engineer/reminders", headers=headers(home)).status_code == 403
    # an agent sees the phone masked (who may see a phone: the orders' rule)
    r = client.post(f"/api/v1/engineer/reminders/{items(product_id=due)[0]['id']}/outcome", headers=agent.headers,
                    json={"outcome": "snoozed", "snoozed_until": (today() + timedelta(days=3)).isoformat()})
    assert r.status_code == 200, r.json
    assert r.json["item"]["customer"]["phone"] == "139****5678" and r.json["item"]["customer"]["phone_full"] is False


def test_snoozed_needs_a_date_within_90_days_and_the_same_again_changes_nothing(
        app, client, make_estate, make_engineer, household, make_product, generate, items):
    estate = make_estate()
    steward = make_engineer([estate])
    make_product(owner_id=household(estate, steward).user_id, estate_id=estate)
    generate()
    item_id = items()[0]["id"]
    r = outcome(client, steward, item_id, outcome="snoozed")
    assert r.status_code == 422 and "snoozed_until" in r.json["error"]["details"]["fields"]
    for bad in (today(), today() + timedelta(days=91)):
        r = outcome(client, steward, item_id, outcome="snoozed", snoozed_until=bad.isoformat())
        assert r.status_code == 422, r.json
    r = outcome(client, steward, item_id, outcome="declined", snoozed_until=(today() + timedelta(days=3)).isoformat())
    assert r.status_code == 422
    r = outcome(client, steward, item_id, outcome="maybe")
    assert r.status_code == 422
    until = (today() + timedelta(days=14)).isoformat()
    r = outcome(client, steward, item_id, outcome="snoozed", snoozed_until=until, note="客户出差，两周后再联系")
    assert r.status_code == 200, r.json
    assert (r.json["item"]["status"], r.json["item"]["snoozed_until"], r.json["item"]["outcome_note"]) == (
        "snoozed", until, "客户出差，两周后再联系")
    stamp = items()[0]["updated_at"]
    again = outcome(client, steward, item_id, outcome="snoozed", snoozed_until=until)
    assert again.status_code == 200 and items()[0]["updated_at"] == stamp
    assert [i["id"] for i in listed(client, steward, "snoozed")] == [item_id]
    assert listed(client, steward, "due") == []
    later = (today() + timedelta(days=30)).isoformat()
    assert outcome(client, steward, item_id, outcome="snoozed", snoozed_until=later).json["item"]["snoozed_until"] == later


def test_declined_skips_this_cycle_and_a_closed_item_cannot_change(
        app, client, make_estate, make_engineer, household, make_product, generate, items):
    from community.products.models import ProductSchedule
    from core.extensions import db

    estate = make_estate()
    steward = make_engineer([estate])
    product, plan = make_product(owner_id=household(estate, steward).user_id, estate_id=estate)
    generate()
    item_id = items()[0]["id"]
    r = outcome(client, steward, item_id, outcome="declined", note="客户说暂时不用")
    assert r.status_code == 200, r.json
    assert r.json["item"]["status"] == "declined" and r.json["order"] is None
    with app.app_context():  # the products area moved the schedule to the next cycle
        assert db.session.get(ProductSchedule, (product, plan)).next_due_on > today() + timedelta(days=10)
    assert outcome(client, steward, item_id, outcome="declined").status_code == 200  # the same again
    r = outcome(client, steward, item_id, outcome="snoozed", snoozed_until=(today() + timedelta(days=3)).isoformat())
    assert r.status_code == 409 and r.json["error"]["code"] == "care_item_closed"
    assert r.json["error"]["message"] == "该保养提醒已关闭（客户不需要），不能再更改"
    assert outcome(client, steward, item_id, outcome="booked").status_code == 409
    assert [i["id"] for i in listed(client, steward, "done")] == [item_id]
    counts = client.get("/api/v1/engineer/reminders/counts", headers=headers(steward)).json
    assert (counts["done"], counts["due"]) == (1, 0)
    assert generate()["created"] == 0  # the next cycle is beyond the horizon


def test_done_elsewhere_moves_the_schedule_from_today(app, client, make_estate, make_engineer, household,
                                                     make_product, generate, items):
    from community.products.models import ProductSchedule
    from core.extensions import db

    estate = make_estate()
    steward = make_engineer([estate])
    product, plan = make_product(owner_id=household(estate, steward).user_id, estate_id=estate)
    generate()
    r = outcome(client, steward, items()[0]["id"], outcome="done_elsewhere", note="客户自己在网上买了滤芯换过了")
    assert r.status_code == 200 and r.json["item"]["status"] == "done_elsewhere"
    with app.app_context():
        schedule = db.session.get(ProductSchedule, (product, plan))
        assert schedule.last_done_on == today() and schedule.next_due_on > today() + timedelta(days=150)
    assert items()[0]["outcome_by_id"] == steward.user_id


def test_booked_by_the_steward_makes_the_customers_order_and_then_only_the_order_moves_it(
        app, client, make_estate, make_engineer, household, make_product, generate, items):
    estate = make_estate()
    steward = make_engineer([estate])
    home = household(estate, steward)
    set_phone(app, home.user_id, "13912345678")
    make_product(owner_id=home.user_id, estate_id=estate, address="2栋 301")
    make_product(estate_id=estate, owner_phone="13900003333")  # nobody to book for
    generate()
    item_id, ownerless = items()[0]["id"], items()[1]["id"]
    r = outcome(client, steward, item_id, outcome="booked", preferred_time="明天下午", note="电话已确认")
    assert r.status_code == 200, r.json
    order = r.json["order"]
    assert (order["resident_id"], order["engineer_id"], order["status"], order["preferred_slot"]) == (
        home.user_id, steward.engineer_id, "assigned", "明天下午")
    assert r.json["item"]["status"] == "booked" and r.json["item"]["order_id"] == order["id"]
    assert order["contact_phone"] == "13912345678"  # the order as its engineer sees it: the phone in full
    again = outcome(client, steward, item_id, outcome="booked")
    assert again.status_code == 200 and again.json["order"]["id"] == order["id"]
    r = outcome(client, steward, item_id, outcome="declined")
    assert r.status_code == 409 and r.json["error"]["code"] == "care_item_booked"
    mine = client.get("/api/v1/me/service-orders", headers=headers(home)).json["items"]
    assert [o["id"] for o in mine] == [order["id"]]
    r = outcome(client, steward, ownerless, outcome="booked")
    assert r.status_code == 409 and r.json["error"]["code"] == "care_item_no_customer"
    moved_out = household(estate, steward)
    make_product(owner_id=moved_out.user_id, estate_id=estate)
    generate()
    assert client.delete(f"/api/v1/me/estates/{estate}", headers=headers(moved_out)).status_code in (200, 204)
    r = outcome(client, steward, items(resident_id=moved_out.user_id)[0]["id"], outcome="booked")
    assert r.status_code == 409 and r.json["error"]["code"] == "customer_not_resident"
    assert items(resident_id=moved_out.user_id)[0]["status"] == "open"  # nothing half-done


def test_only_the_items_engineer_and_staff_record_outcomes(app, client, admin, make_estate, make_engineer, household,
                                                          make_product, generate, items):
    estate = make_estate()
    steward, colleague = make_engineer([estate]), make_engineer([estate])
    home = household(estate, steward)
    make_product(owner_id=home.user_id, estate_id=estate)
    generate()
    item_id = items()[0]["id"]
    r = outcome(client, colleague, item_id, outcome="declined")
    assert r.status_code == 404 and r.json["error"]["code"] == "care_item_not_found"
    assert outcome(client, home, item_id, outcome="declined").status_code == 403
    assert client.post(f"/api/v1/engineer/reminders/{item_id}/outcome", json={"outcome": "declined"}).status_code == 401
    r = client.post(f"/api/v1/engineer/reminders/{item_id}/outcome", headers=admin.headers,
                    json={"outcome": "declined"})
    assert r.status_code == 200 and r.json["item"]["status"] == "declined"
    assert items()[0]["outcome_by_id"] == admin.user_id


def test_a_concurrent_change_is_refused_not_applied_twice(app, make_estate, make_engineer, household, make_product,
                                                         generate, items):
    from community.care import services
    from community.care.models import CareItem
    from core.accounts.services import Principal
    from core.errors import Conflict
    from core.extensions import db

    estate = make_estate()
    steward = make_engineer([estate])
    make_product(owner_id=household(estate, steward).user_id, estate_id=estate)
    generate()
    item_id = items()[0]["id"]
    with app.app_context():
        who = Principal(id=steward.user_id, roles=frozenset({"engineer"}))
        item = services.visible_item(item_id, who)
        # someone else closed it after we read it
        db.session.execute(sa.update(CareItem).values(status="done_elsewhere").execution_options(
            synchronize_session=False))
        try:
            services._transition(item, services.WAITING, status="declined")
        except Conflict as exc:
            assert exc.code == "care_item_closed"
        else:
            raise AssertionError("the stale change went through")
        db.session.rollback()
