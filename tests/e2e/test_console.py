"""Admin console and engineer workbench in a real browser."""
import re
import uuid

import requests
from playwright.sync_api import expect

from core.accounts import services as accounts
from core.extensions import db


def create_admin(app, username="boss", password="boss-pass-123"):
    with app.app_context():
        accounts.create_staff(username, password, {"admin"}, display_name="运营主管")
        db.session.commit()
    return username, password


def log_in(page, base, username, password):
    page.goto(base + "/login")
    page.get_by_label("用户名 / 工号").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_wrong_password_is_refused(live_app, page):
    create_admin(live_app)
    log_in(page, live_app.url, "boss", "not-the-password")
    expect(page.get_by_text("用户名或密码错误")).to_be_visible()
    assert page.url.endswith("/login")


def test_admin_creates_estate_with_field_errors(live_app, page):
    log_in(page, live_app.url, *create_admin(live_app))
    page.get_by_role("link", name="小区").first.click()
    page.get_by_role("link", name="新建小区").click()
    page.get_by_label("小区名称").fill("翠竹苑")
    page.get_by_label("省份").fill("广东省")
    page.get_by_label("城市").fill("深圳市")
    page.get_by_label("区县").fill("南山区")
    page.get_by_label("户数").fill("很多")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("应为不小于 0 的整数")).to_be_visible()
    page.get_by_label("户数").fill("1260")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("小区已创建")).to_be_visible()
    expect(page.locator("table")).to_contain_text("翠竹苑")


def test_engineer_onboarding_binding_code_and_customers(live_app, page, make_estate, wechat):
    """Admin creates an engineer and assigns an estate; the engineer claims in the mini-program,
    logs in to the workbench, shows a binding code; a resident scans it and appears as a customer."""
    base = live_app.url
    make_estate(name="海岸城公寓", district="南山区")
    log_in(page, base, *create_admin(live_app))

    page.get_by_role("link", name="工程师").first.click()
    page.get_by_role("link", name="新建工程师").click()
    page.get_by_label("姓名").fill("王建国")
    page.get_by_label("手机号").fill("13800138001")
    page.get_by_label("工号").fill("E2001")
    page.get_by_role("button", name="创建并生成邀请码").click()
    invite = page.get_by_test_id("invite-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", invite)

    page.get_by_role("link", name="分配负责小区").click()
    page.get_by_label("添加小区：按名称或编码搜索").fill("海岸")
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("button", name="添加").click()
    expect(page.get_by_text("已添加负责小区")).to_be_visible()

    # The engineer claims the invite from the mini-program (API) and sets a web password.
    api = requests.Session()
    engineer_openid = f"o{uuid.uuid4().hex[:27]}"
    login = api.post(base + "/api/v1/auth/wechat-login", json={"code": wechat.code(engineer_openid)}).json()
    headers = {"Authorization": f"Bearer {login['token']}"}
    assert api.post(base + "/api/v1/engineer/claim", json={"invite_code": invite.lower()},
                    headers=headers).status_code == 200
    assert api.put(base + "/api/v1/me/password", json={"password": "wang-pass-2026",
                                                         "wechat_code": wechat.code(engineer_openid)},
                   headers=headers).status_code == 204

    page.get_by_role("button", name="退出").click()
    log_in(page, base, "E2001", "wang-pass-2026")
    expect(page.get_by_role("heading", name="我的客户")).to_be_visible()
    expect(page.get_by_text("暂无客户")).to_be_visible()

    page.get_by_role("link", name="绑定码", exact=True).click()
    page.get_by_label("工单号（选填）").fill("WO-88")
    page.get_by_role("button", name="生成绑定码").click()
    image = page.get_by_test_id("binding-code")
    expect(image).to_be_visible()
    assert page.evaluate("img => img.naturalWidth", image.element_handle()) >= 280
    expect(page.locator("#expiry")).to_contain_text("剩余")
    scene = image.get_attribute("src").split("/")[-2]

    # A resident scans it: one binding call from the mini-program.
    bound = api.post(base + "/api/v1/bindings", json={"code": wechat.code(), "scene": scene, "rating": 5}).json()
    assert bound["result"] == "created"

    page.get_by_role("link", name="我的客户", exact=True).click()
    rows = page.get_by_test_id("customer-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("海岸城公寓")
    rows.first.get_by_role("link", name="详情").click()
    # the visit, in the customer's visits and in their timeline
    expect(page.get_by_role("cell", name="WO-88")).to_be_visible()
    expect(page.get_by_role("cell", name="★★★★★")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("工单 WO-88 · ★★★★★")
