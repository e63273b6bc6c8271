"""The engineer's customer list by health, the console's counts by engineer and estate and its
alerts (an agent sees their duty's), and agents on duty (the admin API and the fallback to everyone)."""
from __future__ import annotations

from datetime import timedelta

from community.estates import services as estates
from tests.community.book.conftest import care_item, complain, recompute, served
from tests.community.book.test_health import TODAY


def customers(client, engineer, **query):
    response = client.get("/api/v1/engineer/customers", headers=engineer.headers, query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def make_bands(app, client, make_customer, steward, estate):
    """green (100), yellow (65: an open complaint), red (30: two), unscored (bound after the recompute)."""
    green, yellow, red = (make_customer(steward, estate) for _ in range(3))
    complain(client, yellow, served(client, yellow, steward, estate)["id"])
    for _ in range(2):
        complain(client, red, served(client, red, steward, estate)["id"])
    recompute(app)
    unscored = make_customer(steward, estate)
    return green, yellow, red, unscored


def test_the_customer_list_filters_and_sorts_by_health(app, client, make_customer, steward, estate):
    green, yellow, red, unscored = make_bands(app, client, make_customer, steward, estate)
    newest = customers(client, steward)["items"]
    assert [c["user_id"] for c in newest] == [unscored.user_id, red.user_id, yellow.user_id, green.user_id]
    assert newest[0]["health"] is None
    assert newest[1]["health"]["band"] == "red" and newest[1]["health"]["score"] == 30
    assert newest[1]["last_visit_at"] and newest[1]["since"]
    assert [c["user_id"] for c in customers(client, steward, health="red")["items"]] == [red.user_id]
    assert [c["user_id"] for c in customers(client, steward, health="yellow")["items"]] == [yellow.user_id]
    worst_first = [c["user_id"] for c in customers(client, steward, sort="health")["items"]]
    assert worst_first == [red.user_id, yellow.user_id, green.user_id, unscored.user_id]
    # page by page, the same order
    pages, cursor = [], None
    while True:
        page = customers(client, steward, sort="health", limit=1, **({"cursor": cursor} if cursor else {}))
        pages += [c["user_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == worst_first
    assert client.get("/api/v1/engineer/customers", headers=steward.headers,
                      query_string={"health": "purple"}).status_code == 422
    assert client.get("/api/v1/engineer/customers", headers=steward.headers,
                      query_string={"sort": "name"}).status_code == 422


def test_the_console_counts_by_engineer_and_estate(app, client, admin, agent, make_customer, make_engineer,
                                                   make_estate, steward, estate):
    make_bands(app, client, make_customer, steward, estate)
    other_estate = make_estate(city="深圳市", district="福田区")
    other = make_engineer([other_estate], name="李师傅")
    make_customer(other, other_estate)
    recompute(app)
    by_engineer = client.get("/api/v1/admin/health/summary", headers=admin.headers).json
    assert by_engineer["totals"] == {"red": 1, "yellow": 1, "green": 3, "open_alerts": 1}
    assert [(r["name"], r["red"], r["yellow"], r["green"], r["total"], r["open_alerts"]) for r in by_engineer["items"]] \
        == [("王建国", 1, 1, 2, 4, 1), ("李师傅", 0, 0, 1, 1, 0)]
    by_estate = client.get("/api/v1/admin/health/summary", headers=agent.headers, query_string={"by": "estate"}).json
    assert [(r["id"], r["total"]) for r in by_estate["items"]] == [(estate, 4), (other_estate, 1)]
    first = client.get("/api/v1/admin/health/summary", headers=admin.headers, query_string={"limit": 1}).json
    rest = client.get("/api/v1/admin/health/summary", headers=admin.headers,
                      query_string={"limit": 1, "cursor": first["next_cursor"]}).json
    assert [r["name"] for r in first["items"] + rest["items"]] == ["王建国", "李师傅"]
    assert client.get("/api/v1/admin/health/summary", headers=admin.headers,
                      query_string={"by": "city"}).status_code == 422
    assert client.get("/api/v1/admin/health/summary", headers=steward.headers).status_code == 403


def test_console_alerts_an_agent_sees_those_of_their_duty(app, client, admin, make_admin, make_customer,
                                                          make_engineer, make_estate, steward, estate):
    make_bands(app, client, make_customer, steward, estate)
    far = make_estate(city="广州市", district="天河区")
    far_steward = make_engineer([far])
    far_red = make_customer(far_steward, far)
    for _ in range(2):
        complain(client, far_red, served(client, far_red, far_steward, far)["id"])
    recompute(app)
    shenzhen, idle = make_admin(roles={"agent"}), make_admin(roles={"agent"})
    assert client.post("/api/v1/admin/agent-duties", headers=admin.headers,
                       json={"user_id": shenzhen.user_id, "city": "深圳市"}).status_code == 201

    def alert_estates(who, **query):
        response = client.get("/api/v1/admin/health-alerts", headers=who.headers, query_string=query)
        assert response.status_code == 200, response.json
        return [a["estate"]["id"] for a in response.json["items"]]

    assert sorted(alert_estates(admin)) == sorted([estate, far])
    assert alert_estates(admin, estate_id=far) == [far]
    # nobody is on duty in Guangzhou: every agent is; Shenzhen is the duty agent's alone
    assert sorted(alert_estates(shenzhen)) == sorted([estate, far])
    assert alert_estates(idle) == [far]
    assert alert_estates(admin, status="handled") == []
    alert = client.get("/api/v1/admin/health-alerts", headers=admin.headers).json["items"][-1]
    assert alert["engineer"]["name"] == "王建国" and alert["resident_name"] and alert["reasons"]


def test_agent_duties(app, client, admin, agent, make_admin, estate):
    def post(**body):
        return client.post("/api/v1/admin/agent-duties", headers=admin.headers, json=body)

    city = post(user_id=agent.user_id, city="深圳市")
    assert city.status_code == 201 and city.json["district"] is None
    again = post(user_id=agent.user_id, city=" 深圳市 ")
    assert again.status_code == 201 and again.json["id"] == city.json["id"]
    district = post(user_id=agent.user_id, city="深圳市", district="南山区").json
    assert [d["id"] for d in client.get("/api/v1/admin/agent-duties", headers=admin.headers).json["items"]] == \
        [city.json["id"], district["id"]]
    not_agent = post(user_id=admin.user_id, city="深圳市")
    assert not_agent.status_code == 422 and not_agent.json["error"]["message"] == "请选择在职的客服账号"
    assert post(user_id=agent.user_id, city="").status_code == 422
    assert post(user_id=agent.user_id, city="市" * 33).status_code == 422
    assert client.post("/api/v1/admin/agent-duties", headers=agent.headers,
                       json={"user_id": agent.user_id, "city": "深圳市"}).status_code == 403

    on_duty = client.get(f"/api/v1/admin/estates/{estate}/agents-on-duty", headers=agent.headers).json
    assert on_duty == {"estate_id": estate, "user_ids": [agent.user_id]}
    other = make_admin(roles={"agent"})
    with app.app_context():
        assert estates.agents_on_duty(estate) == [agent.user_id]
    for duty in (city.json, district):
        assert client.delete(f"/api/v1/admin/agent-duties/{duty['id']}", headers=admin.headers).status_code == 204
    assert client.delete(f"/api/v1/admin/agent-duties/{city.json['id']}", headers=admin.headers).status_code == 404
    with app.app_context():  # nobody on duty: every active agent
        assert estates.agents_on_duty(estate) == sorted([agent.user_id, other.user_id])


def test_an_agent_who_leaves_hands_their_duty_to_everyone(app, client, admin, agent, make_admin, estate):
    other = make_admin(roles={"agent"})
    client.post("/api/v1/admin/agent-duties", headers=admin.headers, json={"user_id": agent.user_id, "city": "深圳市"})
    with app.app_context():
        assert estates.agents_on_duty(estate) == [agent.user_id]
        from core.accounts.models import User
        from core.extensions import db
        db.session.get(User, agent.user_id).status = "disabled"
        db.session.commit()
        assert estates.agents_on_duty(estate) == [other.user_id]


def test_overdue_care_shows_in_the_steward_list(app, client, steward, estate, customer):
    care_item(app, customer.user_id, estate, due_on=TODAY - timedelta(days=2))
    recompute(app)
    row = customers(client, steward)["items"][0]
    assert row["health"]["score"] == 90 and row["health"]["reasons"][0]["text"] == "1 项保养已逾期"
