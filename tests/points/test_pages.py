"""The points console pages through the test client: real login, real forms, CSRF on."""
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from core.formatting import BUSINESS_TZ
from points.models import EarningRule, Reward
from tests.conftest import csrf_token, flashes, html, post_form
from tests.points.test_api import give, make_reward, points_of, redeem, seed_rule, verify


def status_of(client, resident) -> list[str]:
    return [r["status"] for r in client.get("/api/v1/me/redemptions", headers=resident.headers).json["items"]]


@pytest.fixture
def queue(app, console, login):
    """Two residents with points, a reward and three pending redemptions."""
    admin = console.admin
    alice, bob = login(), login()
    with app.app_context():
        from core.accounts.models import User
        db.session.get(User, alice.user_id).display_name = "张阿姨"
        db.session.get(User, bob.user_id).display_name = "李先生"
        db.session.commit()
    give(app, alice.user_id, 1000)
    give(app, bob.user_id, 1000)
    reward = make_reward(console, admin, name="保温杯", cost=100, stock=10)
    ids = [redeem(console, alice, reward["id"]).json["id"], redeem(console, alice, reward["id"]).json["id"],
           redeem(console, bob, reward["id"]).json["id"]]
    return {"alice": alice, "bob": bob, "reward": reward, "ids": ids}


# -- access -----------------------------------------------------------------------------------

PAGES = ["/admin/points/redemptions", "/admin/points/users", "/admin/points/rules", "/admin/points/rewards",
         "/admin/points/rewards/new"]


def test_pages_need_an_admin_session(client, make_engineer, web_login):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location, path
    engineer = make_engineer()
    client.put("/api/v1/me/password", headers=engineer.headers, json=engineer.first_password("eng-pass-123"))
    web_login(engineer.employee_no, "eng-pass-123")
    for path in PAGES:
        assert client.get(path, headers={"Accept": "text/html"}).status_code == 403, path


def test_the_nav_links_the_points_pages_and_no_page_promises_points_for_good_reviews(app, console, queue):
    home = html(console.get("/admin/"))
    assert 'href="/admin/points/redemptions"' in home and "积分" in home  # the section's entry
    section = html(console.get("/admin/points/redemptions"))  # its sub-navigation
    for label, path in (("兑换审核", "/admin/points/redemptions"), ("积分规则", "/admin/points/rules"),
                        ("奖品", "/admin/points/rewards")):
        assert f'href="{path}"' in section and label in section
    pages = PAGES + [f"/admin/points/redemptions/{queue['ids'][0]}", f"/admin/points/users/{queue['alice'].user_id}",
                     f"/admin/points/rewards/{queue['reward']['id']}"]
    for path in pages:
        response = console.get(path)
        assert response.status_code == 200, path
        assert "好评" not in html(response), path


# -- the redemption queue ---------------------------------------------------------------------

def test_the_queue_lists_pending_redemptions_and_filters_by_status(app, console, queue):
    page = html(console.get("/admin/points/redemptions"))
    rows = re.findall(r'data-testid="redemption-row" data-id="(\d+)"', page)
    assert rows == [str(i) for i in reversed(queue["ids"])]
    assert "张阿姨" in page and "李先生" in page and "保温杯" in page and "待审核" in page
    assert page.count('name="ids"') == 3
    console.post(f"/api/v1/admin/redemptions/{queue['ids'][0]}/approve", headers=console.admin.headers)
    approved = html(console.get("/admin/points/redemptions?status=approved"))
    assert re.findall(r'data-testid="redemption-row" data-id="(\d+)"', approved) == [str(queue["ids"][0])]
    assert 'name="ids"' not in approved and "确认发放" in approved
    everything = html(console.get("/admin/points/redemptions?status=all"))
    assert len(re.findall(r'data-testid="redemption-row"', everything)) == 3


def test_bulk_approval_asks_for_confirmation_first(app, console, queue):
    alice, ids = queue["alice"], queue["ids"]
    response = post_form(console, "/admin/points/redemptions", "/admin/points/redemptions/bulk",
                         {"ids": [ids[0], ids[1]], "action": "approve", "next": "/admin/points/redemptions"})
    assert response.status_code == 200
    page = html(response)
    assert "确认批量通过" in page and "确认通过 2 条" in page
    assert len(re.findall(r'data-testid="confirm-row"', page)) == 2
    assert status_of(console, alice) == ["pending", "pending"]  # nothing decided yet

    # Meanwhile another admin approves one of them: the confirmed bulk decides the rest and says so.
    console.post(f"/api/v1/admin/redemptions/{ids[1]}/approve", headers=console.admin.headers)
    form = dict(re.findall(r'<input type="hidden" name="(action|reason|next|confirmed)" value="([^"]*)">', page))
    response = console.post("/admin/points/redemptions/bulk", follow_redirects=True, data={
        "csrf_token": csrf_token(page), "ids": re.findall(r'name="ids" value="(\d+)"', page), **form})
    assert response.request.path == "/admin/points/redemptions"
    assert flashes(response) == ["已通过 1 条兑换申请", f"1 条未通过：#{ids[1]}（已被处理）"]
    assert status_of(console, alice) == ["approved", "approved"]
    assert status_of(console, queue["bob"]) == ["pending"]
    assert points_of(console, alice) == {"balance": 800, "held": 0, "pending": 0,
                                         "expiring": {"points": 0, "before": None}}
    assert verify(app) == []


def test_bulk_rejection_needs_a_reason_and_returns_points_and_stock(app, console, queue):
    alice, ids = queue["alice"], queue["ids"]
    response = post_form(console, "/admin/points/redemptions", "/admin/points/redemptions/bulk",
                         {"ids": ids[:2], "action": "reject", "reason": ""}, follow_redirects=True)
    assert flashes(response) == ["批量拒绝必须填写拒绝原因"]
    response = post_form(console, "/admin/points/redemptions", "/admin/points/redemptions/bulk",
                         {"action": "approve"}, follow_redirects=True)
    assert flashes(response) == ["请先勾选要处理的兑换申请"]

    page = html(post_form(console, "/admin/points/redemptions", "/admin/points/redemptions/bulk",
                          {"ids": ids[:2], "action": "reject", "reason": "奖品已停产"}))
    assert "确认拒绝 2 条" in page and "奖品已停产" in page
    response = console.post("/admin/points/redemptions/bulk", follow_redirects=True, data={
        "csrf_token": csrf_token(page), "ids": ids[:2], "action": "reject", "reason": "奖品已停产", "confirmed": "1"})
    assert flashes(response) == ["已拒绝 2 条兑换申请"]
    mine = console.get("/api/v1/me/redemptions", headers=alice.headers).json["items"]
    assert [(r["status"], r["reason"]) for r in mine] == [("rejected", "奖品已停产")] * 2
    assert points_of(console, alice)["balance"] == 1000
    with app.app_context():
        assert db.session.get(Reward, queue["reward"]["id"]).stock == 9  # bob's is still reserved


def test_a_form_without_the_csrf_token_is_refused(app, console, queue):
    response = console.post("/admin/points/redemptions/bulk",
                            data={"ids": queue["ids"], "action": "approve", "confirmed": "1"})
    assert response.status_code == 400
    response = console.post(f"/admin/points/redemptions/{queue['ids'][0]}/approve")
    assert response.status_code == 400
    assert status_of(console, queue["alice"]) == ["pending", "pending"]


def test_per_row_approve_reject_and_fulfil(app, console, queue):
    alice, bob, ids = queue["alice"], queue["bob"], queue["ids"]
    queue_url = "/admin/points/redemptions?status=all"
    response = post_form(console, queue_url, f"/admin/points/redemptions/{ids[0]}/approve",
                         {"next": queue_url}, follow_redirects=True)
    assert response.request.path == "/admin/points/redemptions"
    assert flashes(response) == [f"兑换 #{ids[0]} 已通过，积分已扣除"]

    response = post_form(console, queue_url, f"/admin/points/redemptions/{ids[2]}/reject",
                         {"reason": "  ", "next": queue_url}, follow_redirects=True)
    assert flashes(response) == ["拒绝必须填写原因"]
    response = post_form(console, queue_url, f"/admin/points/redemptions/{ids[2]}/reject",
                         {"reason": "地址不在配送范围", "next": queue_url}, follow_redirects=True)
    assert flashes(response) == [f"兑换 #{ids[2]} 已拒绝，积分和库存已退回"]
    assert points_of(console, bob)["balance"] == 1000

    # Fulfilling needs an approved redemption and a note.
    response = post_form(console, queue_url, f"/admin/points/redemptions/{ids[1]}/fulfil",
                         {"note": "顺丰 SF1", "next": queue_url}, follow_redirects=True)
    assert flashes(response) == ["该兑换当前状态为「待审核」，不能执行此操作"]
    response = post_form(console, queue_url, f"/admin/points/redemptions/{ids[0]}/fulfil",
                         {"note": "", "next": queue_url}, follow_redirects=True)
    assert flashes(response) == ["请填写发货单号、券码或备注"]
    response = post_form(console, queue_url, f"/admin/points/redemptions/{ids[0]}/fulfil",
                         {"note": "顺丰 SF1", "next": queue_url}, follow_redirects=True)
    assert flashes(response) == [f"兑换 #{ids[0]} 已标记为已发放"]
    mine = console.get("/api/v1/me/redemptions", headers=alice.headers).json["items"]
    assert [(r["status"], r["note"]) for r in mine] == [("pending", None), ("fulfilled", "顺丰 SF1")]

    # Approving twice: the second is refused, nothing moves.
    response = post_form(console, queue_url, f"/admin/points/redemptions/{ids[0]}/approve", {},
                         follow_redirects=True)
    assert flashes(response) == ["该兑换当前状态为「已发放」，不能执行此操作"]
    assert response.request.path == f"/admin/points/redemptions/{ids[0]}"  # no next: back to the detail
    assert points_of(console, alice)["balance"] == 800
    # `next` is local only.
    response = post_form(console, queue_url, f"/admin/points/redemptions/{ids[1]}/approve",
                         {"next": "https://evil.example/"})
    assert response.location.endswith(f"/admin/points/redemptions/{ids[1]}")
    assert verify(app) == []


def test_the_detail_page_shows_every_step_with_its_actor(app, console, queue):
    rid = queue["ids"][2]
    post_form(console, "/admin/points/redemptions", f"/admin/points/redemptions/{rid}/approve", {})
    post_form(console, f"/admin/points/redemptions/{rid}", f"/admin/points/redemptions/{rid}/fulfil",
              {"note": "券码 ABC-123"})
    page = html(console.get(f"/admin/points/redemptions/{rid}"))
    events = re.findall(r'<tr data-testid="event-row">(.*?)</tr>', page, re.S)
    assert len(events) == 3
    assert "住户本人" in events[0] and "待审核" in events[0]
    assert "boss" in events[1] and "已通过" in events[1]
    assert "boss" in events[2] and "券码 ABC-123" in events[2]
    assert "李先生" in page and 'data-testid="fulfil-note">券码 ABC-123' in page
    assert console.get("/admin/points/redemptions/987654", headers={"Accept": "text/html"}).status_code == 404


# -- a user's ledger --------------------------------------------------------------------------

def test_looking_a_user_up(app, console, queue):
    alice = queue["alice"]
    response = console.get(f"/admin/points/users?q={alice.user_id}")
    assert response.status_code == 302 and response.location.endswith(f"/admin/points/users/{alice.user_id}")
    response = console.get("/admin/points/users?q=nobody-here", follow_redirects=True)
    assert flashes(response) == ["没有找到用户“nobody-here”"]
    assert console.get("/admin/points/users/987654", headers={"Accept": "text/html"}).status_code == 404


def test_the_ledger_page_shows_balance_held_expiring_and_entries(app, console, login):
    resident = login()
    give(app, resident.user_id, 70, expires_at=utcnow() + timedelta(days=3))
    for _ in range(21):
        give(app, resident.user_id, 10)
    page = html(console.get(f"/admin/points/users/{resident.user_id}"))
    assert 'data-testid="balance">280<' in page and 'data-testid="held">0<' in page
    assert 'data-testid="expiring">70<' in page
    assert (datetime.now(BUSINESS_TZ) + timedelta(days=3)).strftime("%Y-%m-%d") + " 前到期" in page \
        or (datetime.now(BUSINESS_TZ) + timedelta(days=3, minutes=-1)).strftime("%Y-%m-%d") + " 前到期" in page
    assert page.count('data-testid="entry-row"') == 20
    cursor = re.search(r'cursor=([^"&]+)', page).group(1)
    rest = html(console.get(f"/admin/points/users/{resident.user_id}?cursor={cursor}"))
    assert rest.count('data-testid="entry-row"') == 2 and "+70" in rest


def test_manual_grant_and_deduct_need_a_reason_and_post_once(app, console, login):
    resident = login()
    url = f"/admin/points/users/{resident.user_id}"
    page = html(console.get(url))
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf_token(page), "direction": "grant", "amount": "150", "reason": "", "key": key}
    response = console.post(f"{url}/adjust", data=form)
    assert response.status_code == 200 and "请填写原因" in html(response)
    assert points_of(console, resident)["balance"] == 0

    form["reason"] = "社区活动奖励"
    response = console.post(f"{url}/adjust", data=form, follow_redirects=True)
    assert flashes(response) == ["已发放 150 积分"]
    # The same rendered form submitted twice (a double click, a reload) posts once.
    response = console.post(f"{url}/adjust", data=form, follow_redirects=True)
    assert flashes(response) == ["已发放 150 积分", "这次调整此前已提交过，未重复记账"]
    assert points_of(console, resident)["balance"] == 150

    page = html(console.get(url))
    form = {"csrf_token": csrf_token(page), "direction": "deduct", "amount": "500", "reason": "误发扣回",
            "key": re.search(r'name="key" type="hidden" value="([^"]+)"', page).group(1)}
    response = console.post(f"{url}/adjust", data=form, follow_redirects=True)
    assert "积分不足" in html(response)
    form["amount"] = "50"
    response = console.post(f"{url}/adjust", data=form, follow_redirects=True)
    assert flashes(response) == ["已扣除 50 积分"]
    assert points_of(console, resident)["balance"] == 100
    form["amount"] = "abc"
    assert "请输入整数" in html(console.post(f"{url}/adjust", data=form))
    assert verify(app) == []


def test_reversing_a_transaction_from_the_ledger_page(app, console, login):
    resident = login()
    tx = give(app, resident.user_id, 80)
    url = f"/admin/points/users/{resident.user_id}"
    page = html(console.get(url))
    assert f"/admin/points/transactions/{tx}/reverse" in page
    response = post_form(console, url, f"/admin/points/transactions/{tx}/reverse", {"reason": "", "next": url},
                         follow_redirects=True)
    assert flashes(response) == ["冲正必须填写原因"]
    response = post_form(console, url, f"/admin/points/transactions/{tx}/reverse",
                         {"reason": "重复发放", "next": url}, follow_redirects=True)
    assert flashes(response) == [f"流水 #{tx} 已冲正"]
    assert points_of(console, resident)["balance"] == 0
    response = post_form(console, url, f"/admin/points/transactions/{tx}/reverse",
                         {"reason": "重复发放", "next": url}, follow_redirects=True)
    assert flashes(response) == [f"流水 #{tx} 此前已冲正，未重复操作"]
    assert points_of(console, resident)["balance"] == 0


# -- earning rules ----------------------------------------------------------------------------

def test_editing_an_earning_rule(app, console):
    seed_rule(app)
    page = html(console.get("/admin/points/rules"))
    assert 'data-kind="binding_rating"' in page and "与星级和评价内容无关" in page
    data = {"name": "完成管家绑定并评价服务", "points": "25", "daily_cap": "50", "lifetime_cap": "", "enabled": "y"}
    response = post_form(console, "/admin/points/rules", "/admin/points/rules/binding_rating", data,
                         follow_redirects=True)
    assert flashes(response) == ["积分规则“完成管家绑定并评价服务”已保存"]
    with app.app_context():
        rule = db.session.get(EarningRule, "binding_rating")
        assert (rule.points, rule.daily_cap, rule.lifetime_cap, rule.enabled) == (25, 50, None, True)

    response = post_form(console, "/admin/points/rules", "/admin/points/rules/binding_rating",
                         {**data, "points": "-5", "enabled": ""}, follow_redirects=True)
    assert flashes(response) == ["每次积分：不能小于 0"]
    response = post_form(console, "/admin/points/rules", "/admin/points/rules/binding_rating",
                         {k: v for k, v in data.items() if k != "enabled"}, follow_redirects=True)
    assert flashes(response) == ["积分规则“完成管家绑定并评价服务”已保存"]
    with app.app_context():
        assert db.session.get(EarningRule, "binding_rating").enabled is False  # an unticked box disables


# -- rewards ----------------------------------------------------------------------------------

def reward_form(**overrides) -> dict:
    return {"name": "空调清洗券", "description": "上门清洗一次", "image_url": "https://img.example/ac.png",
            "cost": "800", "stock": "", "per_user_limit": "1", "min_level": "", "auto_approve_min_level": "",
            "starts_on": "2026-12-01", "ends_on": "2026-12-31", "active": "y", **overrides}


def test_creating_a_reward_stores_the_shanghai_days_in_utc(app, console):
    response = post_form(console, "/admin/points/rewards/new", "/admin/points/rewards/new", reward_form(),
                         follow_redirects=True)
    assert flashes(response) == ["奖品已创建"]
    assert "空调清洗券" in html(response) and "2026-12-01 至 2026-12-31" in html(response)
    with app.app_context():
        reward = db.session.scalars(sa.select(Reward)).one()
        assert reward.starts_at == datetime(2026, 11, 30, 16, tzinfo=timezone.utc)
        assert reward.ends_at == datetime(2026, 12, 31, 16, tzinfo=timezone.utc)  # the end of 12-31 in Shanghai
        assert (reward.stock, reward.per_user_limit, reward.min_level, reward.auto_approve, reward.active) == (
            None, 1, None, False, True)
        reward_id = reward.id

    # The edit form shows the same days back, and saving without changes keeps the times.
    page = html(console.get(f"/admin/points/rewards/{reward_id}"))
    assert 'value="2026-12-01"' in page and 'value="2026-12-31"' in page
    response = console.post(f"/admin/points/rewards/{reward_id}", follow_redirects=True, data={
        "csrf_token": csrf_token(page), **reward_form(stock="5", auto_approve="y", auto_approve_min_level="3",
                                                     active="")})
    assert flashes(response) == ["奖品已保存"]
    with app.app_context():
        reward = db.session.get(Reward, reward_id)
        assert reward.ends_at == datetime(2026, 12, 31, 16, tzinfo=timezone.utc)
        assert (reward.stock, reward.auto_approve, reward.auto_approve_min_level, reward.active) == (5, True, 3, False)


def test_reward_form_errors_are_shown_in_chinese(app, console):
    response = post_form(console, "/admin/points/rewards/new", "/admin/points/rewards/new", reward_form(
        name="", cost="0", stock="-1", image_url="ftp://x", starts_on="2026-12-31", ends_on="2026-12-01"))
    page = html(response)
    assert response.status_code == 200
    for message in ("请填写奖品名称", "须大于 0", "不能小于 0", "请填写以 https:// 开头的图片地址", "下架日期不能早于上架日期"):
        assert message in page, message
    response = post_form(console, "/admin/points/rewards/new", "/admin/points/rewards/new",
                         reward_form(starts_on="明天"))
    assert "请输入日期" in html(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Reward)) == 0


def test_the_rewards_list_shows_what_is_on_offer(app, console):
    admin = console.admin
    make_reward(console, admin, name="纸巾", cost=10, stock=3)
    make_reward(console, admin, name="已下架的杯子", cost=10, active=False)
    make_reward(console, admin, name="代言人专享", cost=10, min_level=2)
    page = html(console.get("/admin/points/rewards"))
    rows = re.findall(r'<tr data-testid="reward-row">(.*?)</tr>', page, re.S)
    assert len(rows) == 3
    assert "代言人专享" in rows[0] and "2 级及以上服务代言人" in rows[0] and "兑换中" in rows[0]
    assert "已下架的杯子" in rows[1] and "已下架" in rows[1]
    assert "纸巾" in rows[2] and "所有人" in rows[2] and ">3<" in rows[2]
