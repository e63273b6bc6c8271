"""Community activities in a browser: the organiser's pages on a phone (390×844, touch) — the list,
the activity with its check-in form, QR code and attendees as cards, checking someone in by typing
their code — and the console's activity pages on a desktop. Nothing sticks out of the viewport;
screenshots go to test-artifacts/screens/ for a human to look at."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from playwright.sync_api import expect

from core.extensions import db
from tests.e2e.test_mobile_workbench import DESKTOP, PHONE, SMALL_TARGETS, assert_cards, assert_fits, log_in, open_page, shoot  # noqa: F401 - fixtures


def seed(app) -> dict:
    """The demo data; its first engineer (an ambassador) raised to the gold level, who organises an
    activity starting in half an hour in their first estate, with three residents signed up."""
    from activation.activities import services
    from ambassador.models import Ambassador, Level
    from community.estates import services as places
    from community.estates.models import Engineer
    from core.accounts import services as accounts
    from core.accounts.models import User
    from demo import data

    with app.app_context():
        assert data.seed()
        login = data.ENGINEERS[0][2]
        engineer = db.session.scalars(sa.select(Engineer).where(Engineer.employee_no == login)).one()
        gold = db.session.scalars(sa.select(Level).where(Level.position == 3)).one()
        db.session.execute(sa.update(Ambassador).where(Ambassador.user_id == engineer.user_id).values(level_id=gold.id))
        organiser = db.session.get(User, engineer.user_id)
        estate_id = services.organizer_of(organiser).estate_ids[0]
        now = datetime.now(timezone.utc)
        activity = services.create_activity(organiser, {
            "title": "冬季家电安全讲座暨免费检测（请携带家中小家电）", "description": "讲解燃气热水器、电暖器的安全使用",
            "place": "南山区翠竹苑小区中心广场东侧活动中心二楼多功能厅", "starts_at": now + timedelta(minutes=30),
            "ends_at": now + timedelta(hours=2), "capacity": 2, "estate_ids": [estate_id]})
        codes = []
        for n, name in enumerate(("陈女士", "欧阳先生", "李阿姨")):
            person = accounts.wechat_identity(f"e2e-activity-{n}").user
            person.display_name = name
            places.join_estate(person, estate_id)
            result = services.sign_up(activity.id, person, {"contact_name": name, "contact_phone": f"1390000000{n}"})
            codes.append(result.signup.code)
        db.session.commit()
        name = places.get_estate(estate_id).name
        return {"estate": name, "login": login, "password": data.ENGINEER_PASSWORD, "admin": data.ADMIN, "activity_id": activity.id,
                "code": codes[0]}


def test_an_organiser_checks_people_in_on_a_phone(live_app, open_page):  # noqa: F811 - the imported fixture
    world = seed(live_app)
    page = open_page(PHONE)
    log_in(page, live_app.url, world["login"], world["password"], "我的客户")
    page.get_by_role("link", name="社区活动", exact=True).click()
    expect(page.get_by_role("heading", name="社区活动")).to_be_visible()
    assert_fits(page, "phone organiser list")
    assert_cards(page, "phone organiser list")
    shoot(page, "phone-organizer-activities")
    page.get_by_role("link", name="冬季家电安全讲座暨免费检测（请携带家中小家电）").click()
    form = page.get_by_test_id("check-in")
    expect(form).to_be_visible()
    assert form.bounding_box()["y"] < 844, "the check-in form is above the fold"
    assert_fits(page, "phone organiser activity")
    assert_cards(page, "phone organiser activity")
    assert page.evaluate(SMALL_TARGETS) == [], "controls smaller than 44 px"
    expect(page.get_by_test_id("activity-code").locator("svg")).to_be_visible()
    shoot(page, "phone-organizer-activity")
    page.get_by_label("签到：输入或扫描参加者的签到码", exact=False).fill(world["code"].lower())
    page.get_by_role("button", name="签到", exact=True).click()
    expect(page.locator(".flash.success")).to_have_text("签到成功：陈女士")
    assert_fits(page, "phone organiser after check-in")
    shoot(page, "phone-organizer-checked-in")
    page.goto(live_app.url + f"/organizer/activities/{world['activity_id']}/edit")
    assert_fits(page, "phone organiser edit")
    shoot(page, "phone-organizer-edit")


def test_the_console_activity_pages_on_a_desktop(live_app, open_page):  # noqa: F811 - the imported fixture
    world = seed(live_app)
    page = open_page(DESKTOP)
    log_in(page, live_app.url, *world["admin"], "概览")
    page.goto(live_app.url + "/admin/activities")
    expect(page.get_by_test_id("activity-row")).to_have_count(3)  # this one and the demo's two (demo/activation.py)
    assert_fits(page, "desktop activities")
    shoot(page, "desktop-activities")
    page.goto(live_app.url + f"/admin/activities/{world['activity_id']}")
    expect(page.get_by_test_id("attendee-row")).to_have_count(3)
    assert_fits(page, "desktop activity")
    shoot(page, "desktop-activity")
    page.goto(live_app.url + "/admin/activities/new")
    page.get_by_label("按规则筛选小区").check()
    expect(page.locator("#estate_ids")).to_be_hidden()
    page.get_by_label("指定小区").check()
    page.locator("#estate-search").fill(world["estate"][:2])
    page.get_by_role("button", name="搜索").click()
    page.locator("#estate-results button").first.click()
    expect(page.locator("#estate_ids")).not_to_have_value("")
    assert_fits(page, "desktop new activity")
    shoot(page, "desktop-activity-new")
