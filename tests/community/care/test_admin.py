"""Staff: the agent queue of care items nobody could be routed to (by the agents' duties), the
assignment of one to an engineer, and the report of due, overdue, booked and done per estate and
per engineer with the conversion."""
from datetime import timedelta

import sqlalchemy as sa

from tests.community.care.conftest import headers, today


def queue(client, who, **args) -> list[dict]:
    r = client.get("/api/v1/admin/care/queue", headers=who.headers, query_string=args)
    assert r.status_code == 200, r.json
    return r.json["items"]


def test_the_queue_holds_the_unrouted_items_of_the_estates_an_agent_is_on_duty_for(
        app, client, admin, make_admin, make_estate, make_engineer, household, make_product, generate, items):
    from community.estates import services as estates
    from core.extensions import db

    suzhou = make_estate(city="苏州市", district="姑苏区")
    wuxi = make_estate(city="无锡市", district="梁溪区")
    covered = make_estate(city="苏州市", district="姑苏区")
    make_engineer([covered])
    in_suzhou, _ = make_product(owner_id=household(suzhou).user_id, estate_id=suzhou,
                                due_on=today() + timedelta(days=3))
    in_wuxi, _ = make_product(owner_id=household(wuxi).user_id, estate_id=wuxi, due_on=today() + timedelta(days=1))
    make_product(owner_id=household(covered).user_id, estate_id=covered)
    generate()
    suzhou_agent, wuxi_agent = make_admin(roles={"agent"}), make_admin(roles={"agent"})
    with app.app_context():
        estates.add_agent_duty(suzhou_agent.user_id, "苏州市", None, actor=None)
        estates.add_agent_duty(wuxi_agent.user_id, "无锡市", "梁溪区", actor=None)
        db.session.commit()
    assert [i["product"]["id"] for i in queue(client, admin)] == [in_wuxi, in_suzhou]  # the soonest first
    assert [i["product"]["id"] for i in queue(client, suzhou_agent)] == [in_suzhou]
    assert [i["product"]["id"] for i in queue(client, wuxi_agent)] == [in_wuxi]
    assert [i["product"]["id"] for i in queue(client, admin, estate_id=suzhou)] == [in_suzhou]
    assert queue(client, admin)[0]["route"] == "agent" and queue(client, admin)[0]["engineer"] is None
    resident = household(suzhou)
    assert client.get("/api/v1/admin/care/queue", headers=headers(resident)).status_code == 403


def test_an_agent_assigns_a_queued_item_to_an_engineer_covering_the_estate(
        app, client, agent, make_estate, make_engineer, household, make_product, generate, items):
    lonely, elsewhere = make_estate(), make_estate()
    home = household(lonely)
    make_product(owner_id=home.user_id, estate_id=lonely)
    generate()
    item_id = items()[0]["id"]
    newcomer, stranger = make_engineer([lonely]), make_engineer([elsewhere])
    url = f"/api/v1/admin/care/items/{item_id}/assign"
    r = client.post(url, headers=agent.headers, json={"engineer_id": stranger.engineer_id})
    assert r.status_code == 422 and "engineer_id" in r.json["error"]["details"]["fields"]
    r = client.post(url, headers=agent.headers, json={"engineer_id": newcomer.engineer_id})
    assert r.status_code == 200, r.json
    assert r.json["engineer"]["id"] == newcomer.engineer_id and r.json["route"] == "agent"
    assert queue(client, agent) == []
    due = client.get("/api/v1/engineer/reminders", headers=headers(newcomer)).json["items"]
    assert [i["id"] for i in due] == [item_id]
    generate()  # the assignment stands
    assert items()[0]["engineer_id"] == newcomer.engineer_id
    with app.app_context():
        from community.care.models import CareItem
        from core.extensions import db
        db.session.execute(sa.update(CareItem).values(status="declined"))
        db.session.commit()
    r = client.post(url, headers=agent.headers, json={"engineer_id": newcomer.engineer_id})
    assert r.status_code == 409 and r.json["error"]["code"] == "care_item_closed"
    assert client.post("/api/v1/admin/care/items/999999/assign", headers=agent.headers,
                       json={"engineer_id": newcomer.engineer_id}).status_code == 404


def test_the_report_counts_per_estate_and_per_engineer_with_the_conversion(
        app, client, admin, make_estate, make_engineer, household, make_product, generate, items):
    from community.care.models import CareItem
    from core.extensions import db

    east, west = make_estate(name="东苑"), make_estate(name="西苑")
    steward = make_engineer([east], name="王建国")
    home = household(east, steward)
    east_products = [make_product(owner_id=home.user_id, estate_id=east, due_on=today() + timedelta(days=d))[0]
                     for d in (-5, 3, 5, 7, 9, 11)]
    west_product, _ = make_product(owner_id=household(west).user_id, estate_id=west)
    generate()
    statuses = {east_products[2]: "booked", east_products[3]: "done", east_products[4]: "done_elsewhere",
                east_products[5]: "declined", west_product: "cancelled"}
    with app.app_context():
        for product_id, status in statuses.items():
            db.session.execute(sa.update(CareItem).where(CareItem.product_id == product_id).values(status=status))
        db.session.commit()
    r = client.get("/api/v1/admin/care/report", headers=admin.headers)
    assert r.status_code == 200, r.json
    rows = {row["name"]: row for row in r.json["items"]}
    assert set(rows) == {"东苑", "西苑"}
    east_row = rows["东苑"]
    assert {k: east_row[k] for k in ("due", "overdue", "booked", "done", "done_elsewhere", "declined", "total")} == {
        "due": 1, "overdue": 1, "booked": 1, "done": 1, "done_elsewhere": 1, "declined": 1, "total": 6}
    assert east_row["conversion"] == 0.5  # (booked + done) / (booked + done + elsewhere + declined)
    assert rows["西苑"]["cancelled"] == 1 and rows["西苑"]["conversion"] is None
    assert r.json["totals"]["total"] == 7 and r.json["totals"]["conversion"] == 0.5
    by_engineer = client.get("/api/v1/admin/care/report?by=engineer", headers=admin.headers).json
    names = {row["name"]: row for row in by_engineer["items"]}
    assert names["王建国"]["total"] == 6 and names["未分配（客服队列）"]["total"] == 1
    # the period is of due dates
    narrow = client.get("/api/v1/admin/care/report", headers=admin.headers, query_string={
        "from": (today() + timedelta(days=4)).isoformat(), "to": (today() + timedelta(days=8)).isoformat()}).json
    assert narrow["totals"]["total"] == 2 and narrow["from"] == (today() + timedelta(days=4)).isoformat()
    bad = client.get("/api/v1/admin/care/report", headers=admin.headers,
                     query_string={"from": today().isoformat(), "to": (today() - timedelta(days=1)).isoformat()})
    assert bad.status_code == 422
    assert client.get("/api/v1/admin/care/report?by=city", headers=admin.headers).status_code == 422
    page = client.get("/api/v1/admin/care/report?limit=1", headers=admin.headers).json
    rest = client.get(f"/api/v1/admin/care/report?limit=1&cursor={page['next_cursor']}", headers=admin.headers).json
    assert [page["items"][0]["name"], rest["items"][0]["name"]] == ["东苑", "西苑"]
