"""The customer book on a phone (390×844) and on a desktop: the workbench's customers with their
health and the alerts block, a red customer's book (health, tags, follow-ups, notes, timeline)
with its forms used by touch, the follow-ups page, and the console's customer health and book.
Screenshots go to test-artifacts/screens/ (phone-book-*, desktop-book-*)."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from core.extensions import db
from tests.e2e.test_mobile_workbench import (  # noqa: F401 - fixtures
    ADMIN_LINKS,
    DESKTOP,
    PHONE,
    assert_cards,
    assert_desktop_page,
    assert_fits,
    assert_nav_reachable,
    assert_phone_page,
    demo,
    log_in,
    open_page,
    shoot,
)

LONG_NOTE = ("客户家里两台净水器：厨房 R5 和阳台的老款 A3，A3 滤芯已经两年没换；女儿在外地，上门前先打电话给女儿确认时间，"
             "资料链接：https://pan.example.com/s/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-filters")


def make_red_customer(app) -> int:
    """The demo engineer's first customer turns red: two completed orders complained about, and a
    note; then the health of everyone is computed."""
    from community.book import services as book
    from community.estates.models import Engineer
    from community.orders import services as orders
    from community.stewards.models import StewardBinding
    from core.accounts.models import User
    from core.accounts.services import Principal
    from demo import data

    with app.app_context():
        engineer = db.session.scalars(sa.select(Engineer).where(Engineer.employee_no == data.ENGINEERS[0][2])).one()
        engineer_user = db.session.get(User, engineer.user_id)
        binding = db.session.scalars(sa.select(StewardBinding).where(
            StewardBinding.engineer_id == engineer.id, StewardBinding.ended_at.is_(None))
            .order_by(StewardBinding.id.desc())).first()
        resident = db.session.get(User, binding.resident_id)
        for text in ("热水器修好后第二天又打不着火", "约好的时间没来，也没有提前说"):
            order = orders.request_service(resident, binding.estate_id, "repair", "燃气热水器点不着",
                                           preferred_engineer_id=engineer.id)
            orders.complete(order.id, engineer_user)
            orders.complain(order.id, resident, text)
        who = Principal(id=engineer_user.id, roles=engineer_user.roles)
        book.add_note(who, resident.id, LONG_NOTE)
        book.add_tag(who, resident.id, "老人独居")
        book.add_follow_up(who, resident.id, book.business_today() + timedelta(days=2), "回访热水器点火情况")
        book.recompute_health()
        db.session.commit()
        return resident.id


def test_the_customer_book_on_a_phone(live_app, demo, open_page):  # noqa: F811 - the imported fixtures
    resident_id = make_red_customer(live_app)
    base = live_app.url
    page = open_page(PHONE)
    log_in(page, base, demo.engineer, demo.password, "我的客户")
    expect(page.get_by_test_id("alerts")).to_be_visible()
    expect(page.get_by_test_id("customer-row").first).to_be_visible()
    assert_phone_page(page, "customers with health")
    shoot(page, "phone-book-customers")

    page.get_by_test_id("alert-row").first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="客户动态")).to_be_visible()
    expect(page.get_by_test_id("open-alert")).to_be_visible()
    assert_phone_page(page, "book")
    shoot(page, "phone-book-customer")

    page.get_by_label("写备注（仅工作人员可见）").fill("已电话联系女儿，周六上午上门复查")
    page.get_by_role("button", name="保存备注").click()
    expect(page.get_by_text("备注已保存")).to_be_visible()
    page.get_by_label("添加标签").fill("VIP")
    page.get_by_role("button", name="添加", exact=True).click()
    expect(page.get_by_text("标签已添加")).to_be_visible()
    page.get_by_label("跟进日期").fill((datetime.now() + timedelta(days=3)).strftime("%Y-%m-%d"))
    page.get_by_label("跟进内容").fill("复查后回访")
    page.get_by_role("button", name="添加跟进").click()
    expect(page.get_by_text("跟进计划已添加")).to_be_visible()
    page.get_by_label("处理说明").fill("已电话联系女儿，约周六上午上门")
    page.get_by_role("button", name="标记已处理").click()
    expect(page.get_by_text("预警已处理")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("王建国 的备注")
    assert_phone_page(page, "book after the forms")
    shoot(page, "phone-book-customer-after")

    page.get_by_role("link", name="跟进", exact=True).click()
    expect(page.get_by_test_id("follow-up-row").first).to_be_visible()
    assert_phone_page(page, "follow-ups")
    shoot(page, "phone-book-follow-ups")
    page.get_by_role("button", name="完成").first.click()
    expect(page.get_by_text("已标记为完成")).to_be_visible()

    # the console: customer health, the customer's book, agents on duty
    console = open_page(PHONE)
    log_in(console, base, *demo.admin, "概览")
    for path, name in (("/admin/health", "health"), (f"/admin/customers/{resident_id}", "customer"),
                       ("/admin/duties", "duties")):
        assert console.goto(base + path).status == 200
        assert_fits(console, f"console {path}")
        assert_nav_reachable(console, ADMIN_LINKS, f"console {path}")
        assert_cards(console, f"console {path}")
        shoot(console, f"phone-book-admin-{name}")


def test_the_customer_book_on_a_desktop(live_app, demo, open_page):  # noqa: F811 - the imported fixtures
    resident_id = make_red_customer(live_app)
    page = open_page(DESKTOP)
    log_in(page, live_app.url, demo.engineer, demo.password, "我的客户")
    assert_desktop_page(page, "customers with health")
    shoot(page, "desktop-book-customers")
    page.goto(f"{live_app.url}/engineer/customers/{resident_id}")
    expect(page.get_by_role("heading", name="客户动态")).to_be_visible()
    assert_desktop_page(page, "book")
    shoot(page, "desktop-book-customer")
    page.get_by_role("link", name="跟进", exact=True).click()
    assert_desktop_page(page, "follow-ups")
    shoot(page, "desktop-book-follow-ups")
