"""Order status reaches the resident: each step (assigned at request time or by an agent,
scheduled, moved, completed, cancelled by someone else) is one inbox notice, and one order-status
subscribe message when the resident holds quota, written with the step; a refused step, the
resident's own doing, imported history and the integration's orders notify nothing."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.community.stats.test_ranking_and_history import _import

TEMPLATE = "tmpl_order_status"


def err(response):
    return response.json["error"]["code"]


@pytest.fixture
def estate(make_estate):
    return make_estate(name="阳光花园")


@pytest.fixture
def make_resident(client, login, wechat):
    def make(estate: int, quota: int = 0):
        account = login()
        assert client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate}).status_code == 201
        if quota:
            r = client.post("/api/v1/me/subscriptions", headers=account.headers, json={"template_ids": [TEMPLATE] * quota})
            assert r.status_code == 200, r.json
            wechat.control("POST", "subscriptions", json={"openid": account.openid, "template_id": TEMPLATE,
                                                          "count": quota})
        return account
    return make


def request(client, who, estate, **extra):
    r = client.post("/api/v1/service-requests", headers=who.headers,
                    json={"estate_id": estate, "service_type": "repair", **extra})
    assert r.status_code == 201, r.json
    return r.json


def schedule(client, engineer, order_id, when: datetime):
    return client.post(f"/api/v1/engineer/service-orders/{order_id}/schedule", headers=engineer.headers,
                       json={"scheduled_for": when.isoformat()})


def notices(client, who) -> list[dict]:
    """The resident's order notices, oldest first."""
    items = client.get("/api/v1/me/notifications?limit=100", headers=who.headers).json["items"]
    return [n for n in reversed(items) if n["kind"] == "order"]


def outbox(app) -> list[dict]:
    from core.extensions import db
    from core.notifications.models import OutboxMessage
    with app.app_context():
        return [{"user_id": m.user_id, "template_id": m.template_id, "data": m.data, "page": m.page}
                for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))]


def send(app):
    from core.notifications import services
    with app.app_context():
        return services.send_due()


def test_each_step_is_one_notice_and_a_message_only_while_quota_lasts(app, client, wechat, estate, make_resident,
                                                                      make_engineer):
    engineer = make_engineer([estate], name="王建国")
    resident = make_resident(estate, quota=3)
    order = request(client, resident, estate)  # dispatched at once: assigned
    assert order["status"] == "assigned"
    when = datetime(2031, 5, 3, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert schedule(client, engineer, order["id"], when).status_code == 200
    assert schedule(client, engineer, order["id"], when + timedelta(days=1)).status_code == 200  # moved
    assert client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete",
                       headers=engineer.headers).status_code == 200
    seen = notices(client, resident)
    assert [n["title"] for n in seen] == ["服务单已派单", "已预约上门时间", "上门时间已更改", "服务已完成"]
    assert "王建国师傅" in seen[0]["body"] and f"#{order['id']}" in seen[0]["body"]
    assert "5月3日 09:30" in seen[1]["body"] and "5月4日 09:30" in seen[2]["body"]
    assert [n["wechat"] for n in seen] == [True, True, True, False]  # three acceptances, three messages
    assert all(n["page"] == f"pages/order/index?id={order['id']}" for n in seen)
    queued = outbox(app)
    assert [m["user_id"] for m in queued] == [resident.user_id] * 3
    assert {m["template_id"] for m in queued} == {TEMPLATE}
    assert [m["data"]["phrase3"] for m in queued] == ["已派单", "已预约", "已改约"]
    assert queued[0]["data"]["thing2"] == "维修 王建国师傅"
    assert queued[1]["data"]["thing2"] == "维修 5月3日 09:30上门"
    assert queued[0]["data"]["character_string1"] == str(order["id"])
    assert client.get("/api/v1/me/subscriptions", headers=resident.headers).json["quotas"] == {TEMPLATE: 0}
    # the fake WeChat checks every keyword against the template and its limits (47003 otherwise)
    assert messages_sent(app, wechat) == 3


def messages_sent(app, wechat) -> int:
    counts = send(app)
    assert counts["failed"] == 0, counts
    return len([m for m in wechat.control("GET", "messages")["messages"] if m["template_id"] == TEMPLATE])


def test_without_quota_the_inbox_still_gets_every_notice(app, client, estate, make_resident, make_engineer):
    engineer = make_engineer([estate])
    resident = make_resident(estate)
    order = request(client, resident, estate)
    client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete", headers=engineer.headers)
    assert [(n["title"], n["wechat"]) for n in notices(client, resident)] == [("服务单已派单", False),
                                                                              ("服务已完成", False)]
    assert outbox(app) == []


def test_refused_or_repeated_steps_and_the_residents_own_notify_nothing(app, client, estate, make_resident,
                                                                         make_engineer, admin):
    engineer = make_engineer([estate])
    resident = make_resident(estate, quota=5)
    order = request(client, resident, estate)
    soon = datetime.now(timezone.utc) + timedelta(days=2)
    assert schedule(client, engineer, order["id"], soon).status_code == 200
    before = len(notices(client, resident))
    assert before == 2
    # the same time again changes nothing the resident sees; a time in the past is refused
    assert schedule(client, engineer, order["id"], soon).status_code == 200
    assert schedule(client, engineer, order["id"], soon - timedelta(days=3)).status_code == 422
    assert len(notices(client, resident)) == before
    assert client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete",
                       headers=engineer.headers).status_code == 200
    again = client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete", headers=engineer.headers)
    assert again.status_code == 409 and err(again) == "order_state_changed"
    late = client.post(f"/api/v1/service-orders/{order['id']}/cancel", headers=admin.headers, json={"reason": "重复"})
    assert late.status_code == 409
    assert [n["title"] for n in notices(client, resident)][before:] == ["服务已完成"]
    # the resident cancels their own order: they know; assigning the same engineer again is no news
    mine = request(client, resident, estate)
    r = client.post(f"/api/v1/admin/service-orders/{mine['id']}/assign", headers=admin.headers,
                    json={"engineer_id": engineer.engineer_id})
    assert r.status_code == 200
    assert client.post(f"/api/v1/service-orders/{mine['id']}/cancel", headers=resident.headers,
                       json={"reason": "不需要了"}).status_code == 200
    titles = [n["title"] for n in notices(client, resident)]
    assert titles[before + 1:] == ["服务单已派单"]  # the dispatch at request time only
    assert len(outbox(app)) == len(titles)  # quota to spare: one message per notice, none for the rest


def test_agent_assignment_and_cancellation_by_others_notify(app, client, wechat, make_estate, make_resident,
                                                          make_engineer, agent):
    lonely = make_estate()
    resident = make_resident(lonely, quota=1)
    waiting = request(client, resident, lonely)
    assert waiting["status"] == "requested" and notices(client, resident) == []  # nobody covers it yet
    first = make_engineer([lonely], name="李四")
    second = make_engineer([lonely], name="赵六")
    r = client.post(f"/api/v1/admin/service-orders/{waiting['id']}/assign", headers=agent.headers,
                    json={"engineer_id": first.engineer_id})
    assert r.status_code == 200
    r = client.post(f"/api/v1/admin/service-orders/{waiting['id']}/assign", headers=agent.headers,
                    json={"engineer_id": second.engineer_id})
    assert r.status_code == 200
    r = client.post(f"/api/v1/service-orders/{waiting['id']}/cancel", headers=agent.headers,
                    json={"reason": "师傅临时有事，改天再约" * 3})
    assert r.status_code == 200
    seen = notices(client, resident)
    assert [n["title"] for n in seen] == ["服务单已派单", "服务单已派单", "服务单已取消"]
    assert "李四师傅" in seen[0]["body"] and "赵六师傅" in seen[1]["body"]
    assert "已被客服取消" in seen[2]["body"] and "师傅临时有事" in seen[2]["body"]
    assert [n["wechat"] for n in seen] == [True, False, False]
    # an engineer's cancellation names them as engineer
    other = request(client, resident, lonely)
    who = first if other["engineer_id"] == first.engineer_id else second
    assert client.post(f"/api/v1/service-orders/{other['id']}/cancel", headers=who.headers,
                       json={"reason": "配件缺货"}).status_code == 200
    assert "已被工程师取消，原因：配件缺货" in notices(client, resident)[-1]["body"]
    assert messages_sent(app, wechat) == 1


def test_long_names_and_reasons_are_cut_to_the_templates_limits(app, client, wechat, estate, make_resident,
                                                               make_engineer, admin):
    make_engineer([estate], name="欧阳" + "长" * 40)
    resident = make_resident(estate, quota=2)
    order = request(client, resident, estate)
    r = client.post(f"/api/v1/service-orders/{order['id']}/cancel", headers=admin.headers,
                    json={"reason": "第一行\n第二行" + "很长的原因" * 20})
    assert r.status_code == 200
    queued = outbox(app)
    assert all(len(m["data"]["thing2"]) <= 20 for m in queued)
    assert queued[1]["data"]["thing2"].startswith("维修 第一行 第二行")
    assert "已被管理员取消" in notices(client, resident)[-1]["body"]
    assert messages_sent(app, wechat) == 2


def test_imported_history_and_integration_orders_never_notify(app, client, tmp_path, estate, make_resident,
                                                              make_engineer, admin):
    import json
    import time

    from core import integrations
    from core.accounts.models import User
    from core.extensions import db

    engineer = make_engineer([estate])
    resident = make_resident(estate, quota=3)
    with app.app_context():
        db.session.get(User, resident.user_id).phone = "13912345678"
        db.session.commit()
    now = datetime.now(timezone.utc)
    result = _import(app, tmp_path, [
        f"H1,{estate},{engineer.employee_no},13912345678,repair,{(now - timedelta(days=3)).isoformat()},"
        f"{(now - timedelta(days=2)).isoformat()},5,0",
        f"H2,{estate},,13912345678,repair,{(now - timedelta(days=1)).isoformat()},,,0"])
    assert result.exit_code == 0, result.output
    raw = json.dumps({"external_id": "SVC-9", "estate_id": estate, "engineer_employee_no": engineer.employee_no,
                      "resident_phone": "13912345678", "service_type": "repair",
                      "requested_at": (now - timedelta(hours=3)).isoformat(),
                      "completed_at": (now - timedelta(hours=1)).isoformat()}).encode()
    ts = str(int(time.time()))
    r = client.post("/api/v1/integrations/service-orders", data=raw, headers={
        "Content-Type": "application/json", "X-Linli-Timestamp": ts,
        "X-Linli-Signature": integrations.sign(app.config["INTEGRATION_SECRET"], ts, raw)})
    assert r.status_code == 200 and r.json["order"]["resident_id"] == resident.user_id
    mine = client.get("/api/v1/me/service-orders", headers=resident.headers).json["items"]
    assert len(mine) == 3
    # a later step of an imported order in this system does not notify either (linked by phone only)
    waiting = next(o for o in mine if o["status"] == "requested")
    assert client.post(f"/api/v1/admin/service-orders/{waiting['id']}/assign", headers=admin.headers,
                       json={"engineer_id": engineer.engineer_id}).status_code == 200
    assert notices(client, resident) == [] and outbox(app) == []


def test_the_notice_is_written_in_the_transaction_of_the_step(app, estate, make_resident, make_engineer, client):
    """A step that rolls back takes its notice and its message with it."""
    from community.orders import services
    from core.accounts.models import User
    from core.extensions import db
    from core.notifications.models import Notification, OutboxMessage

    engineer = make_engineer([estate])
    resident = make_resident(estate, quota=2)
    order = request(client, resident, estate)
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Notification))
        services.complete(order["id"], db.session.get(User, engineer.user_id))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == before + 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == before
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    assert client.get("/api/v1/me/subscriptions", headers=resident.headers).json["quotas"] == {TEMPLATE: 1}
