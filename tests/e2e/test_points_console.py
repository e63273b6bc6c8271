"""The points console in a real browser, with a resident on the mini-program API alongside."""
import uuid

import requests
from playwright.sync_api import expect

from core.accounts import services as accounts
from core.extensions import db
from tests.e2e.conftest import ARTIFACTS


def log_in_admin(app, page):
    with app.app_context():
        accounts.create_staff("points-boss", "points-pass-123", {"admin"}, display_name="积分运营")
        db.session.commit()
    page.goto(app.url + "/login")
    page.get_by_label("用户名 / 工号").fill("points-boss")
    page.get_by_label("密码").fill("points-pass-123")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="概览")).to_be_visible()


class Resident:
    """The mini-program side: a resident calling the JSON API."""

    def __init__(self, base: str, wechat):
        self.base, self.http = base, requests.Session()
        login = self.http.post(base + "/api/v1/auth/wechat-login", json={"code": wechat.code()}, timeout=10).json()
        self.user_id = login["user"]["id"]
        self.http.headers["Authorization"] = f"Bearer {login['token']}"

    def get(self, path: str) -> dict:
        response = self.http.get(self.base + path, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def points(self) -> tuple[int, int]:
        mine = self.get("/api/v1/me/points")
        return mine["balance"], mine["held"]

    def redemptions(self) -> list[tuple[str, str | None]]:
        return [(r["status"], r["note"]) for r in self.get("/api/v1/me/redemptions")["items"]]


def test_reward_redeemed_approved_in_bulk_and_fulfilled(live_app, page, wechat):
    base = live_app.url
    resident = Resident(base, wechat)
    log_in_admin(live_app, page)

    # The admin gives the resident points from their ledger page.
    page.get_by_role("link", name="积分", exact=True).click()
    page.get_by_role("link", name="查询用户积分").click()
    page.get_by_label("姓名、手机号（或后 4 位）、用户名或用户 ID").fill(str(resident.user_id))
    page.get_by_role("button", name="查询").click()
    try:  # the one match opens its ledger (a slow shared machine gets time)
        page.wait_for_url(f"**/admin/points/users/{resident.user_id}", timeout=30_000)
    finally:
        page.screenshot(path=str(ARTIFACTS / "test_points_console_lookup.png"), full_page=True)
    page.get_by_label("积分数量").fill("500")
    page.get_by_label("原因（必填，将记入审计日志）").fill("新用户体验积分")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("已发放 500 积分")).to_be_visible()
    expect(page.get_by_test_id("balance")).to_have_text("500")
    assert resident.points() == (500, 0)

    # The admin creates a reward.
    page.get_by_role("link", name="奖品", exact=True).click()
    page.get_by_role("link", name="新建奖品").click()
    page.get_by_label("奖品名称").fill("304 不锈钢保温杯")
    page.get_by_label("说明").fill("500ml，社区服务站领取")
    page.get_by_label("所需积分").fill("200")
    page.get_by_label("剩余库存（留空为不限）").fill("5")
    page.get_by_label("每人限兑（留空为不限）").fill("2")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("奖品已创建")).to_be_visible()
    row = page.get_by_test_id("reward-row").filter(has_text="304 不锈钢保温杯")
    expect(row).to_contain_text("兑换中")

    # The resident sees it in the mini-program and redeems it (a retry with the same key is harmless).
    rewards = resident.get("/api/v1/rewards")["items"]
    assert [(r["name"], r["cost"], r["stock"]) for r in rewards] == [("304 不锈钢保温杯", 200, 5)]
    key = {"Idempotency-Key": uuid.uuid4().hex}
    for _ in range(2):
        response = resident.http.post(base + "/api/v1/redemptions", json={"reward_id": rewards[0]["id"]},
                                      headers=key, timeout=10)
        assert response.status_code == 201 and response.json()["status"] == "pending"
    redemption_id = response.json()["id"]
    assert resident.points() == (300, 200)
    assert resident.redemptions() == [("pending", None)]

    # The admin finds it in the queue and approves it in bulk, after a confirmation step.
    page.get_by_role("link", name="积分", exact=True).click()
    row = page.locator(f'[data-testid="redemption-row"][data-id="{redemption_id}"]')
    expect(row).to_contain_text("304 不锈钢保温杯")
    expect(row).to_contain_text("待审核")
    row.get_by_role("checkbox").check()
    expect(page.locator("#selected-count")).to_have_text("已选择 1 条")
    page.get_by_role("button", name="批量通过").click()
    expect(page.get_by_role("heading", name="确认批量通过")).to_be_visible()
    expect(page.get_by_test_id("confirm-row")).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "test_points_console_confirm.png"), full_page=True)
    assert resident.redemptions() == [("pending", None)]  # nothing happens before the confirmation
    page.get_by_role("button", name="确认通过 1 条").click()
    expect(page.get_by_text("已通过 1 条兑换申请")).to_be_visible()
    expect(page.locator(f'[data-testid="redemption-row"][data-id="{redemption_id}"]')).to_have_count(0)
    assert resident.points() == (300, 0)
    assert resident.redemptions() == [("approved", None)]

    # Then fulfils it with a delivery note.
    page.get_by_label("状态").select_option("approved")
    page.get_by_role("button", name="筛选").click()
    row = page.locator(f'[data-testid="redemption-row"][data-id="{redemption_id}"]')
    expect(row).to_contain_text("已通过")
    row.get_by_text("发放", exact=True).click()
    row.get_by_label("快递单号、券码或备注").fill("服务站自提码 8842")
    row.get_by_role("button", name="确认发放").click()
    expect(page.get_by_text(f"兑换 #{redemption_id} 已标记为已发放")).to_be_visible()
    assert resident.redemptions() == [("fulfilled", "服务站自提码 8842")]
    assert resident.points() == (300, 0)

    # The detail page tells the whole story: who did what, when.
    page.get_by_label("状态").select_option("all")
    page.get_by_role("button", name="筛选").click()
    page.locator(f'[data-testid="redemption-row"][data-id="{redemption_id}"]').get_by_role("link", name="详情").click()
    events = page.get_by_test_id("event-row")
    expect(events).to_have_count(3)
    expect(events.nth(0)).to_contain_text("住户本人")
    expect(events.nth(1)).to_contain_text("积分运营")
    expect(events.nth(2)).to_contain_text("服务站自提码 8842")
