"""The resident hears of every step someone else takes on their redemption: approved, rejected
(with the reason), fulfilled (with the note), voided by the job; an inbox notice always and a
subscribe message with the redemption template when they hold quota, in the same transaction,
with values inside WeChat's keyword limits (the fake WeChat checks them when the sender sends)."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.wechat.fake import DEFAULT_TEMPLATES, FakeWeChatServer
from tests.points.test_admin_api import pending_redemption
from tests.points.test_api import error_code, give, make_reward, redeem

TEMPLATE = "tmpl_redemption_status"
# 兑换状态通知: reward, status, note, time (the keywords points.services._notify_resident fills)
KEYWORDS = ["thing1", "phrase2", "thing3", "time4"]


@pytest.fixture(scope="module")
def wechat_server():
    """The fake WeChat with the redemption template as the mini-program console would define it."""
    with FakeWeChatServer(templates={**DEFAULT_TEMPLATES, TEMPLATE: KEYWORDS}) as server:
        yield server


@pytest.fixture
def subscribe(client, wechat):
    """The resident accepts the redemption template `count` times (ours and WeChat's quota)."""
    def do(account, count=1):
        for _ in range(count):
            r = client.post("/api/v1/me/subscriptions", headers=account.headers, json={"template_ids": [TEMPLATE]})
            assert r.status_code == 200, r.json
        wechat.control("POST", "subscriptions", json={"openid": account.openid, "template_id": TEMPLATE,
                                                      "count": count})
    return do


def inbox(client, account) -> list[tuple[str, str, str, bool]]:
    items = client.get("/api/v1/me/notifications", headers=account.headers).json["items"]
    return [(n["kind"], n["title"], n["body"], n["wechat"]) for n in reversed(items)]  # oldest first


def send(app) -> dict:
    from core.notifications import services
    with app.app_context():
        return services.send_due()


def sent(wechat) -> list[dict]:
    """What WeChat delivered: each message's keyword values."""
    return [{k: v["value"] for k, v in m["data"].items()} | {"template_id": m["template_id"], "touser": m["touser"]}
            for m in wechat.control("GET", "messages")["messages"]]


def test_the_template_is_a_setting_the_mini_program_may_subscribe_to(app, client, login):
    assert app.config["WECHAT_TEMPLATE_REDEMPTION"] == TEMPLATE
    account = login()
    r = client.post("/api/v1/me/subscriptions", headers=account.headers, json={"template_ids": [TEMPLATE]})
    assert r.status_code == 200 and r.json["quotas"] == {TEMPLATE: 1}


def test_approval_and_fulfilment_reach_the_resident_inbox_and_wechat(app, client, wechat, login, admin, subscribe):
    resident, reward, redemption = pending_redemption(app, client, admin, login)
    subscribe(resident, count=2)
    assert inbox(client, resident) == []  # redeeming is the resident's own step: no notice
    r = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/approve", headers=admin.headers)
    assert r.status_code == 200
    assert inbox(client, resident) == [("redemption", "兑换已通过审核", "您兑换的「保温杯」已通过审核，我们会尽快发放。", True)]
    assert wechat.control("GET", "messages")["messages"] == []  # the outbox sends later, outside the transaction
    note = "顺丰 SF1234567890，\n预计 2 天内送达，请保持电话畅通，谢谢！"
    r = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/fulfil", headers=admin.headers, json={"note": note})
    assert r.status_code == 200
    assert inbox(client, resident)[-1] == (
        "redemption", "奖品已发放", "您兑换的「保温杯」已发放：顺丰 SF1234567890， 预计 2 天内送达，请保持电话畅通，谢谢！", True)
    assert send(app)["sent"] == 2  # the fake refuses a value outside its keyword's limits (47003)
    messages = sent(wechat)
    assert [(m["touser"], m["template_id"], m["thing1"], m["phrase2"]) for m in messages] == [
        (resident.openid, TEMPLATE, "保温杯", "已通过"), (resident.openid, TEMPLATE, "保温杯", "已发放")]
    assert messages[0]["thing3"] == "等待发放"
    assert messages[1]["thing3"] == "顺丰 SF1234567890， 预计…"  # one line, at most 20 characters
    assert len(messages[1]["thing3"]) == 20


def test_a_rejection_tells_the_reason_and_without_quota_only_the_inbox(app, client, wechat, login, admin):
    resident, reward, redemption = pending_redemption(app, client, admin, login, cost=150)
    r = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/reject", headers=admin.headers,
                    json={"reason": "该奖品本月已停止兑换。"})
    assert r.status_code == 200
    assert inbox(client, resident) == [(
        "redemption", "兑换未通过审核", "您兑换的「保温杯」未通过审核，原因：该奖品本月已停止兑换。150 积分已退回您的账户。", False)]
    assert send(app)["sent"] == 0 and sent(wechat) == []


def test_a_rejection_with_quota_sends_the_reason(app, client, wechat, login, admin, subscribe):
    resident, reward, redemption = pending_redemption(app, client, admin, login)
    subscribe(resident)
    client.post(f"/api/v1/admin/redemptions/{redemption['id']}/reject", headers=admin.headers,
                json={"reason": "收货地址不完整"})
    send(app)
    assert [(m["phrase2"], m["thing3"]) for m in sent(wechat)] == [("已拒绝", "收货地址不完整")]


def test_a_refused_decision_notifies_nobody(app, client, login, admin):
    resident, reward, redemption = pending_redemption(app, client, admin, login)
    client.post(f"/api/v1/admin/redemptions/{redemption['id']}/approve", headers=admin.headers)
    again = client.post(f"/api/v1/admin/redemptions/{redemption['id']}/approve", headers=admin.headers)
    assert again.status_code == 409 and error_code(again) == "redemption_already_decided"
    assert [title for _, title, _, _ in inbox(client, resident)] == ["兑换已通过审核"]


def test_the_residents_own_cancellation_and_an_automatic_approval_notify_nobody(app, client, login, admin,
                                                                                make_engineer):
    resident, reward, redemption = pending_redemption(app, client, admin, login)
    assert client.post(f"/api/v1/redemptions/{redemption['id']}/cancel", headers=resident.headers).status_code == 200
    engineer = make_engineer()
    give(app, engineer.user_id, 500)
    trusted = make_reward(client, admin, name="工具包", auto_approve=True)
    assert redeem(client, engineer, trusted["id"]).json["status"] == "approved"
    assert inbox(client, resident) == [] and inbox(client, engineer) == []


def test_bulk_decisions_notify_each_decided_one(app, client, wechat, login, admin, subscribe):
    residents, ids = [], []
    for _ in range(3):
        resident, reward, redemption = pending_redemption(app, client, admin, login)
        subscribe(resident)
        residents.append(resident)
        ids.append(redemption["id"])
    client.post(f"/api/v1/admin/redemptions/{ids[1]}/reject", headers=admin.headers, json={"reason": "重复兑换"})
    r = client.post("/api/v1/admin/redemptions/bulk", headers=admin.headers,
                    json={"ids": ids, "action": "approve"})
    assert r.status_code == 200
    assert [[title for _, title, _, _ in inbox(client, who)] for who in residents] == [
        ["兑换已通过审核"], ["兑换未通过审核"], ["兑换已通过审核"]]
    assert send(app)["sent"] == 3
    assert sorted((m["touser"], m["phrase2"]) for m in sent(wechat)) == sorted(
        [(residents[0].openid, "已通过"), (residents[1].openid, "已拒绝"), (residents[2].openid, "已通过")])


def test_the_void_job_tells_the_resident_their_points_came_back(app, client, wechat, login, admin, subscribe):
    from core.db import utcnow
    from core.extensions import db
    from points import services
    from points.models import Redemption
    resident, reward, redemption = pending_redemption(app, client, admin, login, cost=120)
    subscribe(resident)
    with app.app_context():
        due = db.session.scalar(sa.select(Redemption.decide_by).where(Redemption.id == redemption["id"]))
        assert services.void_stale(now=due - timedelta(seconds=1)) == 0
        assert services.void_stale(now=max(due, utcnow()) + timedelta(seconds=1)) == 1
        db.session.commit()
    assert inbox(client, resident) == [(
        "redemption", "兑换已作废", "您兑换的「保温杯」超时未审核，已作废，120 积分已退回您的账户。", True)]
    send(app)
    assert [(m["phrase2"], m["thing3"]) for m in sent(wechat)] == [("已作废", "积分已退回")]


def test_a_notice_rolls_back_with_its_decision(app, client, login, admin, monkeypatch):
    """Same transaction: a decision that fails after its notice leaves neither."""
    from points import services
    resident, reward, redemption = pending_redemption(app, client, admin, login)

    def broken_audit(*args, **kwargs):
        raise RuntimeError("audit log unavailable")
    real_notify = services._notify_resident
    calls = []

    def notify_then_fail(redemption):
        real_notify(redemption)
        calls.append(redemption.id)
        broken_audit()
    monkeypatch.setattr(services, "_notify_resident", notify_then_fail)
    with pytest.raises(RuntimeError):
        client.post(f"/api/v1/admin/redemptions/{redemption['id']}/approve", headers=admin.headers)
    assert calls == [redemption["id"]]
    monkeypatch.undo()
    assert inbox(client, resident) == []
    mine = client.get("/api/v1/me/redemptions", headers=resident.headers).json["items"]
    assert [(r["id"], r["status"]) for r in mine] == [(redemption["id"], "pending")]
