"""The notifications console: the outbox by status, WeChat's errors in Chinese, quota per
template, and resending a failed (or, once confirmed, a maybe delivered) message."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.errors import Conflict
from core.extensions import db
from core.models import AuditEntry
from core.notifications import services
from core.notifications.models import OutboxMessage, TemplatePause
from tests.conftest import ON_POSTGRES, csrf_token, flashes, html

TEMPLATE = "tmpl_visit_notice"
DATA = {"thing1": "阳光花园上门服务", "time2": "2026年12月06日 09:00", "thing3": "王师傅"}
SEND = "cgi-bin/message/subscribe/send"


@pytest.fixture(autouse=True)
def short_timeout(app_config):
    app_config["WECHAT_TIMEOUT"] = 1


@pytest.fixture
def resident(client, login, wechat):
    def make(quota: int = 1):
        account = login()
        for _ in range(quota):
            assert client.post("/api/v1/me/subscriptions", headers=account.headers,
                               json={"template_ids": [TEMPLATE]}).status_code == 200
        wechat.control("POST", "subscriptions", json={"openid": account.openid, "template_id": TEMPLATE, "count": quota})
        return account
    return make


def notify_and_send(app, residents, now=None):
    with app.app_context():
        services.notify([r.user_id for r in residents], kind="visit", title="上门服务", body="", purpose="visit", data=DATA)
        db.session.commit()
        return services.send_due(now=now)


def messages(app) -> dict[int, list[tuple[str, int | None]]]:
    with app.app_context():
        out: dict = {}
        for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)):
            out.setdefault(m.user_id, []).append((m.status, m.resent_from_id))
        return out


def quota(client, who) -> int:
    return client.get("/api/v1/me/subscriptions", headers=who.headers).json["quotas"].get(TEMPLATE, 0)


def test_page_shows_counts_failures_with_chinese_meanings_and_quota(app, console, resident, wechat):
    ok, bad = resident(quota=2), resident(quota=2)
    wechat.fault(SEND, count=1, errcode=47003)  # the first message sent (the lower user id) fails for good
    notify_and_send(app, [ok, bad])
    page = html(console.get("/admin/notifications"))
    assert 'data-status="failed"' in page and "47003" in page and "模板参数不正确" in page
    assert "上门服务安排" in page and TEMPLATE in page  # quota per template: both hold one send left
    with app.app_context():
        counts = services.status_counts()
        assert counts["failed"] == (1, False) and counts["sent"] == (1, False)
        assert services.status_counts(cap=0)["sent"] == (0, True)  # a capped count says so
        row = next(r for r in services.quota_by_template() if r["template_id"] == TEMPLATE)
        assert (row["holders"], row["remaining"], row["paused_until"]) == (2, 2, None)
        db.session.add(TemplatePause(template_id=TEMPLATE, until=utcnow() + timedelta(hours=3)))
        db.session.commit()
        assert next(r for r in services.quota_by_template() if r["template_id"] == TEMPLATE)["paused_until"]
    assert "暂停至" in html(console.get("/admin/notifications"))
    assert "订阅消息" in html(console.get("/admin/users"))  # in the console's navigation
    sent = html(console.get("/admin/notifications?status=sent"))
    assert "已发送的消息" in sent and "重发" not in sent.split("各模板")[0].split("已发送的消息")[1]


def test_resend_spends_quota_queues_once_and_is_audited(app, client, console, resident, wechat):
    who = resident(quota=2)
    wechat.fault(SEND, count=1, errcode=47003)
    notify_and_send(app, [who])
    [(status, _)] = messages(app)[who.user_id]
    assert status == "failed" and quota(client, who) == 1
    with app.app_context():
        failed_id = db.session.scalar(sa.select(OutboxMessage.id))
    page = console.get("/admin/notifications?status=failed")
    token = csrf_token(html(page))
    for _ in range(2):  # a double click queues one message
        console.post(f"/admin/notifications/{failed_id}/resend", data={"csrf_token": token})
    assert messages(app)[who.user_id] == [("failed", None), ("pending", failed_id)]
    assert quota(client, who) == 0
    assert any("该消息已重发过" in f for f in flashes(console.get("/admin/notifications")))
    with app.app_context():
        assert services.send_due()["sent"] == 1
        audit = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "notification.resend")).all()
        assert [a.object_id for a in audit] == [str(failed_id)]


def test_resend_is_refused_without_quota_and_for_other_statuses(app, client, resident, wechat, admin):
    who = resident(quota=1)
    wechat.fault(SEND, count=1, errcode=43101)  # WeChat says no quota: ours is zeroed
    notify_and_send(app, [who])
    with app.app_context():
        message = db.session.scalars(sa.select(OutboxMessage)).one()
        with pytest.raises(Conflict, match="已没有此模板的订阅次数"):
            services.resend(message.id, None)
        db.session.rollback()
    other = resident(quota=1)
    notify_and_send(app, [other])
    with app.app_context():
        sent = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.user_id == other.user_id)).one()
        assert sent.status == "sent"
        with pytest.raises(Conflict, match="只能重发发送失败或结果未知的消息"):
            services.resend(sent.id, None)


def test_a_maybe_delivered_message_is_resent_only_when_confirmed(app, client, console, resident, wechat):
    who = resident(quota=2)
    wechat.fault(SEND, count=1, delay=2)  # delivered, but no answer within the timeout
    notify_and_send(app, [who])
    [(status, _)] = messages(app)[who.user_id]
    assert status == "unknown"
    with app.app_context():
        message_id = db.session.scalar(sa.select(OutboxMessage.id))
        with pytest.raises(Conflict, match="可能已经送达"):
            services.resend(message_id, None)
        db.session.rollback()
    page = html(console.get("/admin/notifications?status=unknown"))
    assert "确认后重发" in page and "可能已送达" in page
    console.post(f"/admin/notifications/{message_id}/resend", data={"csrf_token": csrf_token(page), "confirm": "1"})
    assert messages(app)[who.user_id] == [("unknown", None), ("pending", message_id)]


@pytest.mark.skipif(not ON_POSTGRES, reason="concurrent resends need PostgreSQL's row locks")
def test_concurrent_resends_queue_one(app, resident, wechat):
    from tests.concurrency import race

    who = resident(quota=3)
    wechat.fault(SEND, count=1, errcode=47003)
    notify_and_send(app, [who])
    with app.app_context():
        message_id = db.session.scalar(sa.select(OutboxMessage.id))

    def resend():
        with app.app_context():
            _, created = services.resend(message_id, None)
            db.session.commit()
            return created

    assert sorted(race([resend] * 4)) == [False, False, False, True]
    assert len(messages(app)[who.user_id]) == 2
