"""The household's reminders and the one tap that books one: a service request pre-filled with the
care, the product and its address, assigned to the steward; a second tap returns the same order;
the order completing closes the item, its cancellation opens it again."""
from datetime import timedelta

import sqlalchemy as sa

from tests.community.care.conftest import headers, today


def book(client, who, item_id, **body):
    return client.post(f"/api/v1/me/reminders/{item_id}/book", headers=headers(who), json=body)


def my_reminders(client, who) -> list[dict]:
    r = client.get("/api/v1/me/reminders", headers=headers(who))
    assert r.status_code == 200, r.json
    return r.json["items"]


def test_my_reminders_list_the_live_care_of_my_products_with_my_steward(
        client, make_estate, make_engineer, household, make_product, generate):
    estate = make_estate()
    steward = make_engineer([estate], name="王建国")
    home, neighbour = household(estate, steward), household(estate)
    later, _ = make_product(owner_id=home.user_id, estate_id=estate, due_on=today() + timedelta(days=25))
    sooner, _ = make_product(owner_id=home.user_id, estate_id=estate, due_on=today() + timedelta(days=5),
                             model_name="RO-800")
    make_product(owner_id=neighbour.user_id, estate_id=estate)
    generate()
    mine = my_reminders(client, home)
    assert [i["product"]["id"] for i in mine] == [sooner, later]  # the soonest first
    first = mine[0]
    assert (first["status"], first["can_book"], first["days_left"], first["due_on"]) == (
        "open", True, 5, (today() + timedelta(days=5)).isoformat())
    assert first["product"]["model_name"] == "RO-800" and first["product"]["category_label"] == "净水器"
    assert first["plan"]["name"] == "滤芯更换" and first["plan"]["service_type"] == "maintenance"
    assert first["steward"]["name"] == "王建国" and first["is_my_steward"] is True
    assert "customer" not in first
    assert len(my_reminders(client, neighbour)) == 1
    page = client.get("/api/v1/me/reminders?limit=1", headers=headers(home)).json
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = client.get(f"/api/v1/me/reminders?limit=1&cursor={page['next_cursor']}", headers=headers(home)).json
    assert [i["product"]["id"] for i in rest["items"]] == [later] and rest["next_cursor"] is None
    assert client.get("/api/v1/me/reminders?cursor=bogus", headers=headers(home)).status_code == 400


def test_one_tap_books_an_order_assigned_to_the_steward_and_a_second_tap_returns_it(
        app, client, make_estate, make_engineer, household, make_product, generate, items):
    estate = make_estate()
    steward = make_engineer([estate], name="王建国")
    home = household(estate, steward)
    product, _ = make_product(owner_id=home.user_id, estate_id=estate, address="阳光花园 3栋 2单元 1201",
                              model_name="RO-600G")
    generate()
    item_id = items()[0]["id"]
    r = book(client, home, item_id, preferred_time="周六上午", note="厨房水槽下")
    assert r.status_code == 200, r.json
    assert r.json["created"] is True
    order = r.json["order"]
    assert (order["status"], order["engineer_id"], order["preferred_engineer_id"]) == (
        "assigned", steward.engineer_id, steward.engineer_id)
    assert (order["service_type"], order["address"], order["preferred_slot"]) == (
        "maintenance", "阳光花园 3栋 2单元 1201", "周六上午")
    assert order["description"].startswith("保养提醒：滤芯更换（净水器 RO-600G，序列号 ")
    assert order["description"].endswith("到期）\n厨房水槽下")
    assert r.json["item"]["status"] == "booked" and r.json["item"]["order_id"] == order["id"]
    with app.app_context():
        from community.orders.models import ServiceOrder
        from core.extensions import db
        assert db.session.get(ServiceOrder, order["id"]).product_id == product
    # the steward has it, as any assigned order; the household was told as for any order
    assigned = client.get("/api/v1/engineer/service-orders?status=assigned", headers=headers(steward)).json["items"]
    assert [o["id"] for o in assigned] == [order["id"]]
    notices = client.get("/api/v1/me/notifications", headers=headers(home)).json["items"]
    assert [n["title"] for n in notices] == ["服务单已派单"]
    again = book(client, home, item_id)
    assert again.status_code == 200 and again.json["created"] is False
    assert again.json["order"]["id"] == order["id"]
    assert len(client.get("/api/v1/me/service-orders", headers=headers(home)).json["items"]) == 1
    booked = client.get("/api/v1/engineer/reminders?status=booked", headers=headers(steward)).json["items"]
    assert [(i["id"], i["order_id"]) for i in booked] == [(item_id, order["id"])]


def test_a_retried_request_with_its_idempotency_key_replays_the_first_answer(
        client, make_estate, make_engineer, household, make_product, generate, items):
    estate = make_estate()
    home = household(estate, make_engineer([estate]))
    make_product(owner_id=home.user_id, estate_id=estate, address="1栋101")
    generate()
    item_id = items()[0]["id"]
    key = {**headers(home), "Idempotency-Key": "care-book-1"}
    first = client.post(f"/api/v1/me/reminders/{item_id}/book", headers=key, json={})
    second = client.post(f"/api/v1/me/reminders/{item_id}/book", headers=key, json={})
    assert first.status_code == second.status_code == 200
    assert second.headers.get("Idempotent-Replayed") == "true" and second.json == first.json
    other = client.post(f"/api/v1/me/reminders/{item_id}/book", headers=key, json={"note": "换个说法"})
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_key_reused"


def test_the_address_is_the_products_else_my_default_one_in_the_estate_or_the_one_i_choose(
        client, make_estate, make_engineer, household, make_product, generate, items):
    estate, other_estate = make_estate(name="翠竹苑"), make_estate()
    home = household(estate, make_engineer([estate]))
    add = lambda estate_id, building, **extra: client.post(  # noqa: E731
        "/api/v1/me/addresses", headers=headers(home), json={"estate_id": estate_id, "building": building,
                                                             "contact_name": "陈女士", "contact_phone": "13912345678",
                                                             **extra}).json
    add(other_estate, "9", is_default=True)
    there = add(estate, "3", room="1201")
    chosen = add(estate, "5", room="502")
    by_book, _ = make_product(owner_id=home.user_id, estate_id=estate, address_id=there["id"])
    plain, _ = make_product(owner_id=home.user_id, estate_id=estate)
    picked, _ = make_product(owner_id=home.user_id, estate_id=estate, address="写在档案上的地址")
    generate()
    made = {i["product_id"]: i["id"] for i in items()}
    first = book(client, home, made[by_book]).json["order"]
    assert (first["address"], first["contact_name"], first["contact_phone"]) == (
        "翠竹苑 3栋 1201", "陈女士", "13912345678")
    # no address on the archive: my addresses in that estate (the default is in another estate)
    assert book(client, home, made[plain]).json["order"]["address"] == "翠竹苑 5栋 502"
    assert book(client, home, made[picked], address_id=chosen["id"]).json["order"]["address"] == "翠竹苑 5栋 502"


def test_someone_elses_item_is_not_found_and_a_closed_one_is_a_conflict(
        app, client, make_estate, make_engineer, household, make_product, generate, items):
    from community.care.models import CareItem
    from core.extensions import db

    estate = make_estate()
    home, neighbour = household(estate), household(estate)
    make_product(owner_id=home.user_id, estate_id=estate)
    generate()
    item_id = items()[0]["id"]
    r = book(client, neighbour, item_id)
    assert r.status_code == 404 and r.json["error"]["code"] == "care_item_not_found"
    assert book(client, neighbour, 2**63).status_code == 404
    with app.app_context():
        db.session.execute(sa.update(CareItem).values(status="declined"))
        db.session.commit()
    r = book(client, home, item_id)
    assert r.status_code == 409 and r.json["error"]["code"] == "care_item_closed"
    assert r.json["error"]["message"] == "该保养提醒已关闭（客户不需要），不能再更改"
    assert client.get("/api/v1/me/service-orders", headers=headers(home)).json["items"] == []
    assert client.post(f"/api/v1/me/reminders/{item_id}/book", json={}).status_code == 401


def test_the_order_completing_closes_the_item_and_its_cancellation_opens_it_again(
        app, client, make_estate, make_engineer, household, make_product, generate, items):
    estate = make_estate()
    steward = make_engineer([estate])
    home = household(estate, steward)
    cancelled_product, _ = make_product(owner_id=home.user_id, estate_id=estate)
    completed_product, _ = make_product(owner_id=home.user_id, estate_id=estate)
    generate()
    made = {i["product_id"]: i["id"] for i in items()}
    first = book(client, home, made[cancelled_product]).json["order"]
    r = client.post(f"/api/v1/service-orders/{first['id']}/cancel", headers=headers(home), json={"reason": "改天"})
    assert r.status_code == 200, r.json
    item = items(id=made[cancelled_product])[0]
    assert (item["status"], item["order_id"]) == ("open", None)
    rebooked = book(client, home, made[cancelled_product])
    assert rebooked.json["created"] is True and rebooked.json["order"]["id"] != first["id"]

    order = book(client, home, made[completed_product]).json["order"]
    r = client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete", headers=headers(steward))
    assert r.status_code == 200, r.json
    item = items(id=made[completed_product])[0]
    assert (item["status"], item["order_id"], item["outcome_at"] is not None) == ("done", order["id"], True)
    done = client.get("/api/v1/engineer/reminders?status=done", headers=headers(steward)).json["items"]
    assert [i["id"] for i in done] == [made[completed_product]]
    r = book(client, home, made[completed_product])
    assert r.status_code == 409 and r.json["error"]["code"] == "care_item_closed"


def test_an_order_of_the_same_kind_for_the_product_closes_its_waiting_item(
        app, client, make_estate, make_engineer, household, make_product, generate, items):
    from community.orders import services as orders
    from core.accounts.models import User
    from core.extensions import db

    estate = make_estate()
    steward = make_engineer([estate])
    home = household(estate, steward)
    product, _ = make_product(owner_id=home.user_id, estate_id=estate)
    generate()
    with app.app_context():  # booked another way: a plain service request naming the product
        order = orders.request_service(db.session.get(User, home.user_id), estate, "maintenance",
                                       preferred_engineer_id=steward.engineer_id, product_id=product)
        db.session.commit()
        order_id = order.id
    client.post(f"/api/v1/engineer/service-orders/{order_id}/complete", headers=headers(steward))
    assert (items()[0]["status"], items()[0]["order_id"]) == ("done", order_id)


def test_one_reminder_of_mine_in_any_status_and_nobody_elses(
        app, client, make_estate, make_engineer, household, make_product, generate, items):
    from community.care.models import CareItem
    from core.extensions import db

    estate = make_estate()
    home, neighbour = household(estate, make_engineer([estate], name="王建国")), household(estate)
    make_product(owner_id=home.user_id, estate_id=estate, model_name="RO-600G")
    generate()
    item_id = items()[0]["id"]
    r = client.get(f"/api/v1/me/reminders/{item_id}", headers=headers(home))
    assert r.status_code == 200, r.json
    assert (r.json["id"], r.json["status"], r.json["can_book"], r.json["product"]["model_name"]) == (
        item_id, "open", True, "RO-600G")
    assert r.json["steward"]["name"] == "王建国" and "customer" not in r.json
    order = book(client, home, item_id).json["order"]
    booked = client.get(f"/api/v1/me/reminders/{item_id}", headers=headers(home)).json
    assert (booked["status"], booked["order_id"], booked["can_book"]) == ("booked", order["id"], False)
    with app.app_context():
        db.session.execute(sa.update(CareItem).values(status="done_elsewhere"))
        db.session.commit()
    closed = client.get(f"/api/v1/me/reminders/{item_id}", headers=headers(home)).json
    assert (closed["status"], closed["status_label"], closed["can_book"]) == ("done_elsewhere", "已在别处完成", False)
    r = client.get(f"/api/v1/me/reminders/{item_id}", headers=headers(neighbour))
    assert r.status_code == 404 and r.json["error"]["code"] == "care_item_not_found"
    assert client.get(f"/api/v1/me/reminders/{item_id}").status_code == 401
