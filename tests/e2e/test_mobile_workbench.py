"""The engineer workbench on a phone (390×844, touch) and on a desktop (1280×800), on the demo
data plus open orders, a visit day and a question with long text: nothing sticks out of the
viewport, the navigation is all reachable, list tables become cards, controls are big enough
to tap, and the binding code with its countdown is above the fold. The demo's care is due (one
item booked, one snoozed, one done elsewhere) and its customers have health; the first customer's
book has a long note, tags and a follow-up. The admin console gets the
same checks (its lists are cards too; only the KPI and league grids scroll inside their card), and
both keep their tables on a desktop. Screenshots of every page go to test-artifacts/screens/ for a
human to look at.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core.extensions import db
from tests.e2e.conftest import ARTIFACTS

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
SCREENS = ARTIFACTS / "screens"
ENGINEER_LINKS = ["我的客户", "跟进", "绑定码", "服务单", "保养提醒", "小区问答", "上门安排"]
ADMIN_LINKS = ["概览", "小区", "工程师", "服务单", "产品", "代言人", "积分", "用户"]

# A long unbroken token (a pasted link), the kind of text that pushes a layout sideways.
LONG_LINK = "https://pan.example.com/s/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-heater-photos"


@dataclass
class Demo:
    engineer: str          # the engineer's login (E1001)
    password: str
    admin: tuple[str, str]
    customer: int          # the engineer's first customer (their book has notes, tags and a follow-up)


def seed(app) -> Demo:
    """The demo data, and in the first engineer's estates: two open orders (one scheduled), a visit
    day, a question with long text, the first customer's book filled in, and the steward's care
    items in every state; in a new estate nobody covered, a care item in the agents' queue."""
    from community.book import services as book
    from community.care import services as care
    from community.care.models import CareItem
    from community.estates import services as places
    from community.estates.models import Engineer
    from community.feed import services as feed
    from community.orders import services as orders
    from community.products import services as products
    from community.stewards.models import StewardBinding
    from core.accounts import services as accounts
    from core.accounts.models import User
    from core.formatting import BUSINESS_TZ
    from demo import data

    with app.app_context():
        assert data.seed()
        login = data.ENGINEERS[0][2]
        engineer = db.session.scalars(sa.select(Engineer).where(Engineer.employee_no == login)).one()
        engineer_user = db.session.get(User, engineer.user_id)
        admin = db.session.scalars(sa.select(User).where(User.username == data.ADMIN[0])).one()
        binding = db.session.scalars(sa.select(StewardBinding).where(StewardBinding.engineer_id == engineer.id,
                                                                     StewardBinding.ended_at.is_(None))
                                     .order_by(StewardBinding.id)).first()
        resident, estate_id = db.session.get(User, binding.resident_id), binding.estate_id
        first = orders.request_service(
            resident, estate_id, "repair", f"燃气热水器打不着火，点火时有咔哒声但不出热水，已拍视频：{LONG_LINK}",
            preferred_slot="周六上午 9:00-12:00", address="南山大道 1088 号翠竹苑 12 栋 2 单元 1803 室",
            contact_name="陈女士", contact_phone="13912345678")
        orders.assign(first.id, engineer.id, admin)
        second = orders.request_service(resident, estate_id, "install", "新买的净水器需要安装，厨房水槽下面空间比较小")
        orders.assign(second.id, engineer.id, admin)
        orders.schedule(second.id, engineer_user, datetime.now(BUSINESS_TZ) + timedelta(days=2))
        tomorrow = datetime.now(BUSINESS_TZ).date() + timedelta(days=1)
        orders.announce(engineer_user, estate_id, tomorrow,
                        ["09:00-10:00", "10:00-11:00", "11:00-12:00", "14:00-15:00", "15:00-16:00", "16:00-17:00"],
                        "顺路为大家免费检测净水器水质")
        who = accounts.Principal(id=resident.id, roles=resident.roles)
        post = feed.create_post(who, estate_id, "question",
                                f"家里的燃气热水器用了八年，最近冬天水温忽冷忽热，是不是该换了？说明书在这里：{LONG_LINK}")
        if post.status == "held":
            feed.moderate("post", post.id, "restore", "演示数据，人工审核通过", admin)
        steward = accounts.Principal(id=engineer_user.id, roles=engineer_user.roles)
        book.add_note(steward, resident.id, f"家里两台净水器：厨房 RO-400 和阳台的老款，老款滤芯两年没换；上门前先打电话给女儿，"
                                            f"照片：{LONG_LINK}")
        book.add_tag(steward, resident.id, "老人独居")
        book.add_tag(steward, resident.id, "净水器老客户")
        book.add_follow_up(steward, resident.id, book.business_today() + timedelta(days=2), "回访热水器点火情况，顺便看看滤芯")
        # the demo's care (generated by the seed): one item of each of the steward's outcomes
        waiting = db.session.scalars(sa.select(CareItem.id).where(CareItem.engineer_id == engineer.id,
                                                                  CareItem.status == "open")
                                     .order_by(CareItem.due_on, CareItem.id)).all()
        assert len(waiting) >= 4, waiting
        care.record_outcome(waiting[0], steward, "booked", preferred_time="周六上午")
        care.record_outcome(waiting[1], steward, "snoozed", snoozed_until=care.business_today() + timedelta(days=7))
        care.record_outcome(waiting[2], steward, "done_elsewhere", note=f"客户自己在网上买了滤芯换过了：{LONG_LINK}")
        # a household in an estate nobody covered yet: its care goes to the agents' queue; then an
        # engineer starts covering the estate, so the agent can assign the item to them
        estate = places.create_estate({
            "code": "SZ-LH-0099", "name": "新开的龙华小区", "province": "广东省", "city": "深圳市", "district": "龙华区",
            "address": "民治大道 1 号", "lat": 22.62, "lng": 114.03, "households": 600}, actor=None)
        newcomer = accounts.wechat_identity("e2e-lonely-household").user
        newcomer.display_name, newcomer.phone = "欧阳先生", "13700001111"
        places.join_estate(newcomer, estate.id)
        installed = products.today() - timedelta(days=400)
        products.register_product({"model_code": "RO-400", "serial": "RO4000E2E0001", "install_date": installed,
                                   "estate_id": estate.id, "address": "3栋 2101"}, newcomer, owner=newcomer,
                                  source="resident")
        assert care.generate_due_items()["agent"] >= 1
        other = db.session.scalars(sa.select(Engineer).where(Engineer.employee_no == data.ENGINEERS[2][2])).one()
        places.set_engineer_estates(other, [e.id for e in other.estates] + [estate.id], actor=admin)
        db.session.commit()
        return Demo(login, data.ENGINEER_PASSWORD, data.ADMIN, resident.id)


@pytest.fixture
def demo(live_app):
    return seed(live_app)


@pytest.fixture
def open_page(browser):
    """open_page(device) -> a new page with that device's viewport; closed at the end."""
    contexts = []

    def make(device: dict):
        context = browser.new_context(locale="zh-CN", **device)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page
    yield make
    for context in contexts:
        context.close()


def log_in(page, base: str, username: str, password: str, heading: str):
    page.goto(base + "/login")
    page.get_by_label("用户名 / 工号").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def shoot(page, name: str):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


# -- what is measured in the page -------------------------------------------------------------

# Every rendered element's box against the viewport. Elements inside a container that scrolls
# sideways on purpose (overflow-x auto/scroll) are reported apart, with the container.
LAYOUT = """() => {
  const W = window.innerWidth;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
    + (el.dataset && el.dataset.testid ? `[${el.dataset.testid}]` : '');
  const scroller = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return p;
    }
    return null;
  };
  const outside = [], scrolled = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right <= W + 1 && r.left >= -1) continue;
    const box = scroller(el);
    if (box) { scrolled.add(name(box)); continue; }
    outside.push(`${name(el)} [${Math.round(r.left)}..${Math.round(r.right)}] ${(el.innerText || '').slice(0, 30)}`);
  }
  return {width: W, scrollWidth: document.documentElement.scrollWidth, outside, scrolled: [...scrolled]};
}"""

# Controls smaller than a fingertip (44 CSS px) on a touch screen.
SMALL_TARGETS = """() => {
  const sel = 'header a, header button, main a.button, main button, main select, main textarea,'
    + ' main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main td a';
  return [...document.querySelectorAll(sel)].filter(el => {
    const r = el.getBoundingClientRect();
    return getComputedStyle(el).visibility !== 'hidden' && r.width > 0 && r.height > 0
      && (r.height < 43.5 || r.width < 43.5);
  }).map(el => `${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.name || '').trim().slice(0, 20)}"`
              + ` ${Math.round(el.getBoundingClientRect().width)}×${Math.round(el.getBoundingClientRect().height)}`);
}"""

# How each list table (one with a header row) is shown: how many of its column names show (a
# review queue's "select all" box has none) out of how many there are, each row's display, and
# every cell with content that has no visible column label (a row's checkbox, its actions and
# its forms go without).
TABLES = """() => [...document.querySelectorAll('main table')].filter(t => t.tHead).map(t => ({
  grid: !!t.closest('.grid-scroll'),
  head: [...t.tHead.rows[0].cells].filter(th => !th.classList.contains('check') && th.innerText.trim()
    && th.getClientRects().length).length,
  columns: [...t.tHead.rows[0].cells].filter(th => !th.classList.contains('check') && th.textContent.trim()).length,
  rows: [...new Set([...t.tBodies[0].rows].map(r => getComputedStyle(r).display))],
  unlabelled: [...t.querySelectorAll('tbody td')].filter(td => td.innerText.trim() && !td.classList.contains('empty')
      && !td.classList.contains('actions') && !td.classList.contains('ops')
      && !(td.dataset.label && getComputedStyle(td, '::before').content.includes(td.dataset.label)))
    .map(td => td.innerText.trim().slice(0, 20)),
}))"""


# Tables wider than the card they sit in (on a desktop a card does not scroll: the table would
# stick out of it); a grid of figures scrolls inside its card on purpose.
WIDE_TABLES = """() => [...document.querySelectorAll('main .card:not(.grid-scroll) table')].filter(t => {
  const card = t.closest('.card'), box = card.getBoundingClientRect();
  const inner = box.right - parseFloat(getComputedStyle(card).paddingRight) - parseFloat(getComputedStyle(card).borderRightWidth);
  return t.getBoundingClientRect().right > inner + 1;
}).map(t => `${t.dataset.testid || t.className || 'table'}: ${Math.round(t.getBoundingClientRect().width)} px`)"""


def assert_fits(page, where: str):
    """Nothing beyond the viewport's width; only a grid of figures (`.grid-scroll`, the KPI and league
    tables of the console) may scroll sideways inside its card."""
    layout = page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= layout["width"], f"{where}: the page scrolls sideways ({layout})"
    assert layout["outside"] == [], f"{where}: elements beyond the viewport: {layout['outside']}"
    scrolled = [box for box in layout["scrolled"] if ".grid-scroll" not in box]
    assert scrolled == [], f"{where}: content scrolls sideways inside {scrolled}"


def assert_nav_reachable(page, labels: list[str], where: str):
    nav = page.locator("header.top nav")
    for label in labels:
        link = nav.get_by_role("link", name=label, exact=True)
        expect(link).to_be_visible()
        box = link.bounding_box()
        width = page.viewport_size["width"]
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, f"{where}: nav link {label} is clipped ({box})"


def assert_cards(page, where: str):
    for table in page.evaluate(TABLES):
        if table["grid"]:
            continue
        assert table["head"] == 0, f"{where}: a list table keeps its header row on a phone"
        assert set(table["rows"]) <= {"block", "grid", "flex"}, f"{where}: table rows are not cards ({table['rows']})"
        assert table["unlabelled"] == [], f"{where}: cells without their column label: {table['unlabelled']}"


def assert_phone_page(page, where: str):
    assert_fits(page, where)
    assert_nav_reachable(page, ENGINEER_LINKS, where)
    assert page.evaluate(SMALL_TARGETS) == [], f"{where}: controls smaller than 44 px"
    assert_cards(page, where)


def assert_desktop_page(page, where: str):
    assert_fits(page, where)
    assert_nav_reachable(page, ENGINEER_LINKS, where)
    tops = {round(page.get_by_role("link", name=label, exact=True).first.bounding_box()["y"])
            for label in ENGINEER_LINKS}
    assert len(tops) == 1, f"{where}: the navigation wraps on a desktop"
    for table in page.evaluate(TABLES):
        assert table["head"] == table["columns"], f"{where}: a desktop table lost its header row"
        assert table["rows"] == ["table-row"], f"{where}: desktop rows are not table rows"
    assert page.evaluate(WIDE_TABLES) == [], f"{where}: a table sticks out of its card"


# -- the workbench ----------------------------------------------------------------------------

def visit_workbench(page, base: str, demo: Demo, device: str, check):
    """Every workbench page, in the order an engineer meets them; `check(page, where)` on each."""
    page.goto(base + "/login")
    assert_fits(page, f"{device} login")
    shoot(page, f"{device}-login")
    log_in(page, base, demo.engineer, demo.password, "我的客户")

    expect(page.get_by_test_id("customer-row").first).to_be_visible()
    check(page, "customers")
    shoot(page, f"{device}-customers")

    page.get_by_test_id("customer-row").first.get_by_role("link", name="详情").click()
    expect(page.get_by_role("heading", name="上门记录")).to_be_visible()
    check(page, "customer")
    shoot(page, f"{device}-customer")

    page.get_by_role("link", name="服务单", exact=True).click()
    expect(page.get_by_test_id("order-row").first).to_be_visible()
    expect(page.get_by_role("button", name="完成").first).to_be_visible()
    check(page, "orders")
    shoot(page, f"{device}-orders")

    page.get_by_role("link", name="小区问答", exact=True).click()
    expect(page.get_by_test_id("question").first).to_be_visible()
    check(page, "questions")
    shoot(page, f"{device}-questions")

    page.get_by_role("link", name="上门安排", exact=True).click()
    expect(page.get_by_test_id("announcement").first).to_be_visible()
    check(page, "visits")
    shoot(page, f"{device}-visits")

    page.goto(f"{base}/engineer/customers/{demo.customer}")
    expect(page.get_by_test_id("note").first).to_be_visible()
    expect(page.get_by_test_id("follow-up").first).to_be_visible()
    expect(page.get_by_test_id("health")).to_contain_text("分")
    check(page, "book")
    shoot(page, f"{device}-book")

    page.get_by_role("link", name="跟进", exact=True).click()
    expect(page.get_by_test_id("follow-up-row").first).to_be_visible()
    check(page, "follow-ups")
    shoot(page, f"{device}-follow-ups")

    page.get_by_role("link", name="保养提醒", exact=True).click()
    expect(page.get_by_test_id("care-tabs")).to_be_visible()
    for tab in ("due", "overdue", "snoozed", "booked", "done"):
        if tab != "due":
            page.goto(f"{base}/engineer/reminders?tab={tab}")
        expect(page.get_by_test_id("reminder-row").first).to_be_visible()
        check(page, f"reminders {tab}")
        shoot(page, f"{device}-reminders-{tab}")

    page.goto(base + "/account/password")
    check(page, "password")
    shoot(page, f"{device}-password")

    page.get_by_role("link", name="绑定码", exact=True).click()
    expect(page.get_by_role("button", name="生成绑定码")).to_be_visible()  # the page is there, not on its way
    check(page, "code form")
    shoot(page, f"{device}-code-form")
    page.get_by_label("工单号（选填）").fill("DEMO-00000")  # a work order the service system knows for this engineer
    page.get_by_role("button", name="生成绑定码").click()
    image = page.get_by_test_id("binding-code")
    expect(image).to_be_visible()
    # a function, not an expression: Playwright evals an expression, which the page's CSP refuses
    page.wait_for_function("() => document.querySelector('[data-testid=binding-code]').complete")
    expect(page.locator("#expiry")).to_contain_text("剩余")
    check(page, "code")
    shoot(page, f"{device}-code")


def test_workbench_fits_a_phone(live_app, demo, open_page):
    page = open_page(PHONE)
    visit_workbench(page, live_app.url, demo, "phone", assert_phone_page)
    # The code the resident scans, and how long it is good for, without scrolling.
    assert page.evaluate("window.scrollY") == 0
    image = page.get_by_test_id("binding-code").bounding_box()
    expiry = page.locator("#expiry").bounding_box()
    assert image["width"] >= 280, f"the code is too small to scan from a phone: {image}"
    assert image["y"] + image["height"] <= 844, f"the binding code is below the fold: {image}"
    assert expiry["y"] + expiry["height"] <= 844, f"the countdown is below the fold: {expiry}"


def test_workbench_on_a_desktop(live_app, demo, open_page):
    page = open_page(DESKTOP)
    visit_workbench(page, live_app.url, demo, "desktop", assert_desktop_page)
    image = page.get_by_test_id("binding-code").bounding_box()
    assert image["y"] + image["height"] <= 800, f"the binding code is below the fold: {image}"


# -- the admin console ------------------------------------------------------------------------

ADMIN_PAGES = [
    "/admin/", "/admin/estates", "/admin/estates/new", "/admin/estate-league", "/admin/moderation",
    "/admin/engineers", "/admin/engineers/new", "/admin/health", "/admin/health?by=estate", "/admin/duties",
    "/admin/service-orders", "/admin/complaints", "/admin/care", "/admin/care?by=engineer", "/admin/care/queue",
    "/admin/products/models", "/admin/products/models/new", "/admin/products/plans", "/admin/products/plans/new",
    "/admin/products/conflicts",
    "/admin/ambassador/applications", "/admin/ambassador/ambassadors", "/admin/ambassador/tasks",
    "/admin/ambassador/tasks/new", "/admin/ambassador/submissions", "/admin/ambassador/referrals",
    "/admin/ambassador/orders", "/admin/ambassador/levels", "/admin/ambassador/levels/override",
    "/admin/points/redemptions", "/admin/points/users", "/admin/points/rules", "/admin/points/rewards",
    "/admin/points/rewards/new", "/admin/users", "/account/password",
    "/admin/offers", "/admin/offers/new", "/admin/estates/tags",
]
# (a list, a link on it to a detail page): one detail page of each kind
ADMIN_DETAILS = [
    ("/admin/engineers", "main a[href^='/admin/engineers/']:not([href$='/new'])"),
    ("/admin/estates", "main a[href^='/admin/estates/']:not([href$='/new'])"),
    ("/admin/ambassador/ambassadors", "a[href^='/admin/ambassador/ambassadors/']"),
    ("/admin/ambassador/tasks", "main a[href^='/admin/ambassador/tasks/']:not([href$='/new'])"),
    ("/admin/points/redemptions", "a[href^='/admin/points/redemptions/']"),
    ("/admin/users", "a[href^='/admin/users/']"),
    ("/admin/products/models", "main a[href^='/admin/products/models/']:not([href$='/new'])"),
    ("/admin/products/plans", "main a[href^='/admin/products/plans/']:not([href$='/new'])"),
]


def visit_console(page, base: str, demo: Demo, device: str, check):
    """Every console page (lists, forms, a detail page of each kind, a bulk confirmation)."""
    log_in(page, base, *demo.admin, "概览")
    pages = list(ADMIN_PAGES)
    for list_path, link in ADMIN_DETAILS:
        page.goto(base + list_path)
        pages.append(page.locator(link).first.get_attribute("href"))
    pages.append(pages[len(ADMIN_PAGES) + 1] + "/kpis")  # the estate's monthly figures
    pages.append(pages[len(ADMIN_PAGES) + 1] + "/profile")  # its profile and tags
    for path in pages:
        response = page.goto(base + path)
        assert response.status == 200, path
        check(page, f"console {path}")
        shoot(page, f"{device}-admin" + (path.rstrip("/").replace("/admin", "").replace("/", "-")
                                         .replace("?", "-").replace("=", "-") or "-home"))
    page.goto(base + "/admin/points/redemptions")
    page.locator("#select-all").check()
    page.get_by_role("button", name="批量通过").click()
    expect(page.get_by_role("heading", name="确认批量通过")).to_be_visible()
    check(page, "console bulk confirmation")
    shoot(page, f"{device}-admin-bulk-confirm")


def test_console_fits_a_phone(live_app, demo, open_page):
    def check(page, where):
        assert_fits(page, where)
        assert_nav_reachable(page, ADMIN_LINKS, where)
        assert_cards(page, where)
    visit_console(open_page(PHONE), live_app.url, demo, "phone", check)


def test_console_on_a_desktop(live_app, demo, open_page):
    def check(page, where):
        assert_fits(page, where)
        assert_nav_reachable(page, ADMIN_LINKS, where)
        for table in page.evaluate(TABLES):
            assert table["head"] == table["columns"], f"{where}: a desktop table lost its header row"
            assert table["rows"] in (["table-row"], []), f"{where}: desktop rows are not table rows"
        assert page.evaluate(WIDE_TABLES) == [], f"{where}: a table sticks out of its card"
    visit_console(open_page(DESKTOP), live_app.url, demo, "desktop", check)
