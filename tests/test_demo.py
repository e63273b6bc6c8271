"""The demo data `make demo` loads: a working set, loaded once, with a sound ledger and audit chain,
the care already due and every customer's health (what the nightly jobs would have made)."""
from datetime import datetime

import sqlalchemy as sa

from community.estates.models import Engineer, Estate
from community.stewards.models import StewardBinding
from core import audit
from core.accounts import services as accounts
from core.extensions import db
from demo import data
from points import services as points
from points.models import Redemption
from tests.conftest import csrf_token


def test_seed_loads_a_consistent_demo_once(ctx):
    assert data.seed() is True
    assert data.seed() is False  # already there: nothing twice
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Estate)) == len(data.ESTATES)
    assert db.session.scalar(sa.select(sa.func.count()).where(Engineer.status == "active")) == len(data.ENGINEERS)
    assert db.session.scalar(sa.select(sa.func.count()).where(StewardBinding.ended_at.is_(None))) >= 10
    assert db.session.scalar(sa.select(sa.func.count()).where(Redemption.status == "pending")) == 3
    # the logins the README and `make demo` print work
    assert accounts.authenticate_password(*data.ADMIN).has_role("admin")
    assert accounts.authenticate_password(data.ENGINEERS[0][2], data.ENGINEER_PASSWORD).has_role("engineer")
    # WeChat DevTools logs in as these two (`flask demo` prints how): a bound resident and an engineer
    resident = accounts.wechat_identity(data.DEVTOOLS_RESIDENT).user
    assert db.session.scalar(sa.select(sa.func.count()).where(
        StewardBinding.resident_id == resident.id, StewardBinding.ended_at.is_(None))) >= 1
    assert accounts.wechat_identity(data.DEVTOOLS_ENGINEER).user.has_role("engineer")
    # the community and ambassador areas have something to show
    from ambassador.models import Ambassador, Application
    from ambassador.tasks.models import Task
    from community.feed.models import Post
    from community.orders.models import ServiceOrder
    from community.stats.models import EstateMonthStat
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)) > 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EstateMonthStat)) >= 40  # 14 months, 5 estates
    assert db.session.scalar(sa.select(sa.func.count()).where(Post.kind == "question", Post.answers_count == 0,
                                                              Post.status == "published")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ambassador)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).where(Application.status == "pending")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).where(Task.status == "published")) == 1
    # the nightly jobs' work is there: care items routed to the stewards, a health score per customer
    from community.book.models import CustomerHealth
    from community.care import services as care
    from community.care.models import CareItem
    bound = db.session.scalar(sa.select(sa.func.count()).where(StewardBinding.ended_at.is_(None)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerHealth)) == bound
    assert db.session.scalar(sa.select(sa.func.count()).where(CareItem.status == "open")) >= 10
    assert db.session.scalar(sa.select(sa.func.count()).where(CareItem.engineer_id.is_(None))) == 0
    engineer = accounts.authenticate_password(data.ENGINEERS[0][2], data.ENGINEER_PASSWORD)
    counts = care.engineer_counts(accounts.Principal(id=engineer.id, roles=engineer.roles))
    assert counts["due"] + counts["overdue"] >= 1  # /engineer/reminders has work on it
    # the DevTools resident's purifier is overdue for its filters: their score counts it
    health = db.session.get(CustomerHealth, resident.id)
    assert health.signals["overdue_care"] >= 1 and health.score < 100
    assert points.verify() == []
    assert audit.verify()[1] == []


def test_seed_activates_the_demo_residents_estate(ctx):
    """Estate activation made through the real services: tags and profiles, coupons, a partner
    with a login, activities with sign-ups and a waitlist, and offers live in the resident's estate."""
    from activation.activities.models import Activity, ActivitySignup
    from activation.coupons.models import CouponTemplate
    from activation.offers import services as offers
    from activation.partners import services as partners
    from activation.partners.models import Partner, PartnerListing
    from community.profiles.models import EstateProfile, EstateTag
    from core.formatting import BUSINESS_TZ
    from demo import activation as demo

    assert data.seed() is True
    resident = accounts.wechat_identity(data.DEVTOOLS_RESIDENT).user
    home = db.session.scalars(sa.select(Estate).where(Estate.code == data.ESTATES[0][0])).one()
    assert home.name == "翠竹苑"
    # estate tags on a few estates, and a fresh profile for every estate (with its order history)
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(EstateTag.estate_id)))) == len(demo.TAGS)
    profiles = db.session.scalars(sa.select(EstateProfile)).all()
    assert len(profiles) == len(data.ESTATES) and all(p.orders_12m > 0 for p in profiles)

    # the coupons: one to claim (¥30 off ≥ ¥200 for cleaning and maintenance, 500 in stock), one for reviews
    claimable = db.session.scalars(sa.select(CouponTemplate).where(CouponTemplate.name == demo.COUPON_TEMPLATE)).one()
    assert (claimable.amount_fen, claimable.min_spend_fen, claimable.total_stock, claimable.claimable) == (
        3000, 20000, 500, True)
    assert set(claimable.service_types) == {"cleaning", "maintenance"} and claimable.status == "active"
    review = db.session.scalars(sa.select(CouponTemplate).where(CouponTemplate.auto_issue == "review")).one()
    assert review.name == demo.REVIEW_TEMPLATE and review.claimable is False

    # live offers in the DevTools resident's estate: the coupon (claimable there), the activities,
    # the partner's service and the offer-only reward
    shown = offers.estate_offers(home.id, user_id=resident.id, limit=50).items
    assert {o["kind"] for o in shown} == {"coupon", "activity", "partner_service", "reward"}
    coupon = next(o for o in shown if o["kind"] == "coupon")
    assert coupon["coupon"]["id"] == claimable.id and coupon["coupon"]["can_claim"] is True
    assert offers.offered_in("coupon", claimable.id, [home.id]) == home.id
    assert {o["activity"]["title"] for o in shown if o["kind"] == "activity"} == {demo.BIG_ACTIVITY, demo.SMALL_ACTIVITY}
    service = next(o for o in shown if o["kind"] == "partner_service")
    assert service["listing"]["partner"]["name"] == demo.PARTNER_NAME
    reward = next(o for o in shown if o["kind"] == "reward")
    assert reward["reward"]["name"] in [r.name for r in points.rewards_for(resident.id)]
    # 万科城 has no tag the coupon's rule reads, is outside the listing's districts and the reward's
    far = db.session.scalars(sa.select(Estate).where(Estate.code == data.ESTATES[4][0])).one()
    assert {o["kind"] for o in offers.estate_offers(far.id, limit=50).items} == set()

    # activities: next week in 翠竹苑 (30 seats, points for taking part) with sign-ups; a small one full
    big = db.session.scalars(sa.select(Activity).where(Activity.title == demo.BIG_ACTIVITY)).one()
    days_ahead = (big.starts_at.astimezone(BUSINESS_TZ).date() - datetime.now(BUSINESS_TZ).date()).days
    assert (big.capacity, big.points_reward, big.status, days_ahead) == (30, 50, "published", 7)
    assert big.confirmed >= 3 and big.waitlisted == 0
    small = db.session.scalars(sa.select(Activity).where(Activity.title == demo.SMALL_ACTIVITY)).one()
    assert (small.capacity, small.confirmed, small.waitlisted) == (3, 3, 1)
    statuses = db.session.scalars(sa.select(ActivitySignup.status).where(ActivitySignup.activity_id == small.id)).all()
    assert sorted(statuses) == ["confirmed", "confirmed", "confirmed", "waitlisted"]
    assert db.session.scalar(sa.select(sa.func.count()).where(ActivitySignup.user_id == resident.id)) == 0

    # the partner: approved, a published service, one announcement waiting; its login works
    partner = db.session.scalars(sa.select(Partner).where(Partner.name == demo.PARTNER_NAME)).one()
    assert partner.status == "approved"
    listings = {x.kind: x.status for x in db.session.scalars(sa.select(PartnerListing).where(
        PartnerListing.partner_id == partner.id))}
    assert listings == {"service": "published", "announcement": "pending"}
    staff = accounts.authenticate_password(*data.PARTNER_LOGIN)
    assert staff.has_role("partner") and partners.partner_of(staff).id == partner.id
    assert points.verify() == []
    assert audit.verify()[1] == []


def test_the_demo_pages_and_the_mini_program_show_the_activation(app, client, login, web_login):
    """What `make demo` shows: the admin pages, the partner's console, the resident's estate page."""
    from demo import activation as demo
    with app.app_context():
        assert data.seed() is True
        home = db.session.scalars(sa.select(Estate.id).where(Estate.code == data.ESTATES[0][0])).one()
    me = login(data.DEVTOOLS_RESIDENT)  # the fake WeChat logs DevTools in as this resident
    r = client.get(f"/api/v1/estates/{home}/offers", headers=me.headers)
    assert r.status_code == 200, r.json
    coupon = next(o for o in r.json["items"] if o["kind"] == "coupon")
    assert coupon["coupon"]["name"] == demo.COUPON_TEMPLATE and coupon["coupon"]["can_claim"] is True
    r = client.post(f"/api/v1/coupon-templates/{coupon['coupon']['id']}/claim", headers=me.headers, json={})
    assert r.status_code == 201, r.json
    activities = client.get(f"/api/v1/estates/{home}/activities", headers=me.headers).json["items"]
    assert {a["title"] for a in activities} == {demo.BIG_ACTIVITY, demo.SMALL_ACTIVITY}
    assert "南山小区专享：油烟机深度清洗" in [x["name"] for x in client.get("/api/v1/rewards", headers=me.headers).json["items"]]

    # the partner's login lands on its console, which shows its published service
    token = csrf_token(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"csrf_token": token, "username": data.PARTNER_LOGIN[0],
                                    "password": data.PARTNER_LOGIN[1]})
    assert r.status_code == 302 and r.headers["Location"].endswith("/partner/")
    page = client.get("/partner/").get_data(as_text=True)
    assert demo.PARTNER_NAME in page
    listings = client.get("/partner/listings").get_data(as_text=True)
    assert "上门深度保洁（3 小时）" in listings

    web_login(*data.ADMIN)
    for path, text in [("/admin/offers", demo.COUPON_TEMPLATE), ("/admin/activities", demo.BIG_ACTIVITY),
                       ("/admin/coupons", demo.REVIEW_TEMPLATE), ("/admin/partners", demo.PARTNER_NAME)]:
        r = client.get(path)
        assert r.status_code == 200 and text in r.get_data(as_text=True), path
