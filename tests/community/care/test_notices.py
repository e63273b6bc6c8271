"""The household hears of a care item once, when its notice date has come, between 09:00 and
20:00 Asia/Shanghai: a subscribe message with the maintenance template when they hold quota,
else an inbox notice, never both; items without a resident are not announced."""
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from core.formatting import BUSINESS_TZ
from core.wechat.fake import DEFAULT_PAGES, DEFAULT_TEMPLATES, FakeWeChatServer
from tests.community.care.conftest import TEMPLATE, headers, today


@pytest.fixture(scope="module")
def wechat_server():
    """The fake WeChat knowing the care page the mini-program will publish (pages/care/index)."""
    with FakeWeChatServer(pages=(*DEFAULT_PAGES, "pages/care/index"), templates=DEFAULT_TEMPLATES) as server:
        yield server


def at(hour: int, minute: int = 0, day=None) -> datetime:
    return datetime.combine(day or today(), time(hour, minute), tzinfo=BUSINESS_TZ)


@pytest.fixture
def notify(app):
    def run(now: datetime, limit: int = 200) -> dict:
        from community.care import services
        from core.extensions import db
        with app.app_context():
            counts = services.notify_due(now, limit)
            db.session.commit()
            return counts
    return run


@pytest.fixture
def subscribe(client, wechat):
    def do(account, count: int = 1):
        for _ in range(count):
            r = client.post("/api/v1/me/subscriptions", headers=headers(account), json={"template_ids": [TEMPLATE]})
            assert r.status_code == 200, r.json
        wechat.control("POST", "subscriptions", json={"openid": account.openid, "template_id": TEMPLATE,
                                                      "count": count})
    return do


def inbox(client, account) -> list[dict]:
    return client.get("/api/v1/me/notifications", headers=headers(account)).json["items"]


def outbox(app) -> list[dict]:
    from core.extensions import db
    from core.notifications.models import OutboxMessage
    with app.app_context():
        return [{"user_id": m.user_id, "template_id": m.template_id, "page": m.page, "data": m.data,
                 "notification_id": m.notification_id} for m in db.session.scalars(sa.select(OutboxMessage))]


def test_the_notice_names_the_product_the_care_and_the_steward_once_in_the_inbox_without_quota(
        app, client, make_estate, make_engineer, household, make_product, generate, notify, items):
    estate = make_estate()
    steward = make_engineer([estate], name="王建国")
    home = household(estate, steward)
    due = today() + timedelta(days=10)
    make_product(owner_id=home.user_id, estate_id=estate, due_on=due, model_name="RO-600G")
    generate()
    assert notify(at(10))["inbox"] == 1
    notices = inbox(client, home)
    assert len(notices) == 1
    assert notices[0]["kind"] == "care" and notices[0]["title"] == "净水器滤芯更换提醒"
    assert notices[0]["body"] == (f"您的净水器 RO-600G 该进行滤芯更换了，预计 {due.month}月{due.day}日到期，"
                                  "点击一键预约您的管家 王建国师傅")
    item = items()[0]
    assert notices[0]["page"] == f"pages/care/index?id={item['id']}"
    assert (item["channel"], item["notified_at"] is not None) == ("inbox", True)
    assert outbox(app) == []
    assert notify(at(11))["claimed"] == 0  # never twice
    assert len(inbox(client, home)) == 1


def test_with_quota_a_subscribe_message_only_and_wechat_accepts_its_values(
        app, client, wechat, make_estate, make_engineer, household, make_product, generate, notify, items, subscribe):
    from core.notifications import services as notifications

    estate = make_estate()
    steward = make_engineer([estate], name="李师")
    home = household(estate, steward)
    subscribe(home)
    due = today() + timedelta(days=3)
    make_product(owner_id=home.user_id, estate_id=estate, due_on=due, category="air_conditioner", model_name="KFR-35GW")
    generate()
    assert notify(at(9))["subscribe"] == 1
    assert inbox(client, home) == []  # never both
    [message] = outbox(app)
    item = items()[0]
    assert item["channel"] == "subscribe"
    assert (message["user_id"], message["template_id"], message["notification_id"]) == (home.user_id, TEMPLATE, None)
    assert message["page"] == f"pages/care/index?id={item['id']}"
    assert message["data"] == {"thing1": "空调滤芯更换", "date2": due.isoformat(), "thing3": "管家李师师傅",
                               "thing4": "点击一键预约上门服务"}
    quotas = client.get("/api/v1/me/subscriptions", headers=headers(home)).json
    assert quotas["quotas"] == {TEMPLATE: 0}
    assert {p["purpose"]: p["name"] for p in quotas["purposes"]}["maintenance"] == "保养提醒"
    with app.app_context():
        assert notifications.send_due()["sent"] == 1  # the fake WeChat checks each keyword's rules
    [sent] = wechat.control("GET", "messages")["messages"]
    assert sent["touser"] == home.openid and sent["template_id"] == TEMPLATE


def test_only_inside_the_window_and_only_when_the_notice_date_has_come(
        app, client, make_estate, make_engineer, household, make_product, generate, notify, items):
    estate = make_estate()
    home = household(estate, make_engineer([estate]))
    make_product(owner_id=home.user_id, estate_id=estate, due_on=today() + timedelta(days=5))
    later, _ = make_product(owner_id=home.user_id, estate_id=estate, due_on=today() + timedelta(days=20))
    generate()
    assert notify(at(8, 59))["claimed"] == 0
    assert notify(at(20, 0))["claimed"] == 0
    assert notify(at(23, 30))["claimed"] == 0
    assert inbox(client, home) == []
    assert notify(at(9, 0))["claimed"] == 1  # the later one is told 14 days ahead, not yet
    assert [i["notified_at"] is None for i in items()] == [False, True]
    next_week = today() + timedelta(days=7)
    assert notify(at(19, 59, next_week))["claimed"] == 1
    assert len(inbox(client, home)) == 2


def test_items_without_a_resident_snoozed_or_booked_are_not_announced(
        app, client, make_estate, make_engineer, household, make_product, generate, notify, items):
    from community.care.models import CareItem
    from core.extensions import db

    estate = make_estate()
    engineer = make_engineer([estate])
    make_product(estate_id=estate, owner_phone="13900002222")  # the owner has no account yet
    snoozed, _ = make_product(owner_id=household(estate).user_id, estate_id=estate)
    generate()
    with app.app_context():
        db.session.execute(sa.update(CareItem).where(CareItem.product_id == snoozed).values(
            status="snoozed", snoozed_until=today() + timedelta(days=3)))
        db.session.commit()
    assert notify(at(12))["claimed"] == 0
    assert {i["engineer_id"] for i in items()} == {engineer.engineer_id}
    assert all(i["notified_at"] is None for i in items())


def test_an_item_of_the_agent_queue_says_an_agent_will_arrange_it(
        app, client, make_estate, household, make_product, generate, notify):
    estate = make_estate()
    home = household(estate)
    make_product(owner_id=home.user_id, estate_id=estate, category="water_heater", model_name="JSQ30")
    generate()
    notify(at(15))
    [notice] = inbox(client, home)
    assert notice["body"].startswith("您的热水器 JSQ30 该进行滤芯更换了")
    assert notice["body"].endswith("点击一键预约上门服务，客服会为您安排师傅")
