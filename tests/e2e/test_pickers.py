"""The console's pickers and the notifications page in a real browser, desktop and phone."""
from playwright.sync_api import expect

from core.extensions import db
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_console import create_admin, log_in


def test_estate_picker_fills_the_filter_and_notifications_page_renders(live_app, page, browser, make_estate):
    make_estate(name="阳光花园", code="SZ-0001", district="南山区")
    make_estate(name="阳光水岸", code="SZ-0002", district="福田区")
    with live_app.app_context():
        from core.accounts.models import User
        from core.notifications.models import OutboxMessage
        user = User(display_name="陈女士", phone="13812345678")
        db.session.add(user)
        db.session.flush()
        db.session.add(OutboxMessage(user_id=user.id, openid="o-test", template_id="tmpl_visit_notice",
                                     data={"thing1": "阳光花园上门服务"}, status="failed", last_error="errcode 47003"))
        db.session.commit()
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height, name in ((1280, 900, "desktop"), (390, 844, "phone")):
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        log_in(tab, live_app.url, *create_admin(live_app, username=f"boss{name}"))
        tab.goto(live_app.url + "/admin/care/queue")
        box = tab.get_by_label("小区")
        box.fill("阳光")
        options = tab.get_by_role("option")
        expect(options).to_have_count(2)
        tab.screenshot(path=str(ARTIFACTS / f"picker-{name}.png"), full_page=False)
        options.filter(has_text="阳光水岸").click()
        expect(box).to_have_value("阳光水岸")
        assert tab.locator("input[name=estate_id]").input_value().isdigit()
        tab.get_by_role("button", name="筛选").click()
        expect(tab.get_by_label("小区")).to_have_value("阳光水岸")
        tab.goto(live_app.url + "/admin/notifications")
        expect(tab.get_by_text("模板参数不正确").first).to_be_visible()
        tab.screenshot(path=str(ARTIFACTS / f"notifications-{name}.png"), full_page=True)
        context.close()
