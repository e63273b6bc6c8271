"""The demo's estate activation (千区千面), made through the real services: estate tags and fresh
profiles, two coupon templates (one to claim, one for reviews), an approved partner with a staff
login and a published service, activities with sign-ups and a waitlist, and offers that put them
in front of the estates they fit."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from activation.activities import services as activities
from activation.coupons import services as coupons
from activation.ecosystem import services as ecosystem
from activation.offers import services as offers
from activation.partners import services as partners
from community.profiles import services as profiles
from core.accounts.models import User
from core.db import utcnow
from core.extensions import db
from core.formatting import BUSINESS_TZ
from points import services as points

PARTNER_NAME = "邻家洁净家政"
PARTNER_LOGIN = ("partner-demo", "linli-partner")  # the partner's owner; the web console lands on /partner/
# Estate code → tags (the profile page and the offer rules read them); the last estate has none.
TAGS = {
    "SZ-NS-0001": ["亲子家庭", "养宠家庭"],
    "SZ-NS-0002": ["新小区", "年轻租客"],
    "SZ-FT-0003": ["老旧小区", "长者多"],
    "SZ-BA-0004": ["别墅", "亲子家庭"],
}
COUPON_TEMPLATE = "家政清洗满200减30"
REVIEW_TEMPLATE = "评价有礼·保养立减券"
BIG_ACTIVITY = "翠竹苑家电清洗保养义诊"
SMALL_ACTIVITY = "亲子手工课：旧物改造收纳盒"
BIG_SIGNUPS = 5  # at most: the two Nanshan estates have only a few demo residents
SMALL_CAPACITY, SMALL_SIGNUPS = 3, 4  # one on the waitlist


def _at(days: int, hour: int, minute: int = 0) -> datetime:
    """That many days from today (Asia/Shanghai) at that local time."""
    day = datetime.now(BUSINESS_TZ).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), BUSINESS_TZ)


def _publish(admin: User, kind: str, ref_id: int, rule: dict, ends_at: datetime, **wording) -> None:
    offer = offers.create_offer({"kind": kind, "ref_id": ref_id, "rule": rule, "starts_at": utcnow(),
                                 "ends_at": ends_at, **wording}, admin)
    offers.publish(offer.id, admin)


def seed_activation(admin: User, estates, residents, devtools_resident: User) -> None:
    """`estates` in the order of demo.data.ESTATES; `residents` (user, estate id) as bound. The
    DevTools resident signs up for nothing, so the mini-program shows them every button."""
    by_code = {e.code: e for e in estates}
    home = estates[0]  # 翠竹苑, where the DevTools resident lives

    # -- the estates' profiles: tags, then the figures the nightly job would have refreshed
    for code, tags in TAGS.items():
        profiles.set_estate_tags(by_code[code].id, tags, admin)
    profiles.refresh_profiles()
    db.session.commit()

    # -- coupons: one to claim where an offer shows it, one issued for every review
    claimable = coupons.create_template({
        "name": COUPON_TEMPLATE, "description": "上门清洗、保养满 200 元立减 30 元，每人限领 1 张。",
        "kind": "amount", "amount_fen": 3000, "min_spend_fen": 20000, "service_types": ["cleaning", "maintenance"],
        "valid_days": 30, "total_stock": 500, "per_user_limit": 1, "claimable": True}, admin)
    coupons.create_template({
        "name": REVIEW_TEMPLATE, "description": "评价任意一次上门服务即得（与评分无关），保养时抵扣 20 元。",
        "kind": "amount", "amount_fen": 2000, "service_types": ["maintenance"], "valid_days": 60,
        "total_stock": None, "per_user_limit": 5, "claimable": False, "auto_issue": "review"}, admin)
    db.session.commit()

    # -- a partner: approved, within Shenzhen, its owner's login, a service moderation passed
    partner = partners.create_partner({
        "name": PARTNER_NAME, "category": "家政保洁", "description": "深圳本地家政团队，日常保洁、深度保洁、开荒保洁。",
        "contact_name": "周店长", "contact_phone": "0755-86668888"}, admin)
    ecosystem.decide_partner(partner.id, "approve", "演示数据：资质齐全", admin)
    ecosystem.set_reach(partner.id, {"cities": ["深圳市"]}, admin)
    staff = partners.add_staff(partner.id, {"username": PARTNER_LOGIN[0], "password": PARTNER_LOGIN[1],
                                            "display_name": "周店长", "owner": True}, admin)
    db.session.commit()
    service = partners.create_listing(staff, {
        "kind": "service", "title": "上门深度保洁（3 小时）",
        "body": "两名保洁师上门，厨房重油污、卫生间除垢、全屋除尘，自带工具和环保清洁剂。",
        "price_fen": 19900, "price_note": "起", "signup_mode": "platform",
        "audience_rule": {"districts": ["南山区", "福田区"]}})
    ecosystem.publish_listing(service.id, admin, "演示数据，审核通过")
    partners.create_listing(staff, {  # waiting in /admin/partners/listings
        "kind": "announcement", "title": "端午假期保洁档期开放预约",
        "body": "端午期间照常上门，名额有限，请提前预约。", "audience_rule": {"districts": ["南山区"]}})
    db.session.commit()

    # -- an activity in 翠竹苑 for it and its Nanshan neighbour (and a small one with a waitlist),
    #    signed up by their residents
    big = activities.create_activity(admin, {
        "title": BIG_ACTIVITY, "place": "翠竹苑会所二楼多功能厅",
        "description": "工程师现场检测空调、净水器、油烟机，讲解清洗保养要点；到场签到送积分。",
        "starts_at": _at(7, 9, 30), "ends_at": _at(7, 11, 30), "capacity": 30, "points_reward": 50,
        "estate_ids": [home.id, estates[1].id]})
    small = activities.create_activity(admin, {
        "title": SMALL_ACTIVITY, "place": "海岸城公寓一楼活动室",
        "description": "家长和孩子一起动手，把旧纸盒改成收纳盒。名额很少，额满自动候补。",
        "starts_at": _at(3, 19), "ends_at": _at(3, 20, 30), "capacity": SMALL_CAPACITY, "points_reward": 20,
        "estate_ids": [estates[0].id, estates[1].id]})
    neighbours = [(user, estate_id) for user, estate_id in residents if user.id != devtools_resident.id]
    for user, _ in [r for r in neighbours if r[1] in (estates[0].id, estates[1].id)][:BIG_SIGNUPS]:
        activities.sign_up(big.id, user)
    for user, _ in [r for r in neighbours if r[1] in (estates[0].id, estates[1].id)][:SMALL_SIGNUPS]:
        activities.sign_up(small.id, user)
    db.session.commit()

    # -- an offer-only reward (仅限投放的小区) for the Nanshan estates
    reward = points.create_reward({"name": "南山小区专享：油烟机深度清洗", "cost": 600, "stock": 30, "per_user_limit": 1,
                                   "offer_only": True,
                                   "description": "仅限投放的小区住户兑换，工程师上门拆洗油烟机一次。"}, admin)

    # -- offers: what each estate's page shows (the partner's service went up with its moderation)
    ends = utcnow() + timedelta(days=30)
    _publish(admin, "coupon", claimable.id, {"tags_any": ["亲子家庭", "新小区"]}, ends,
             summary="亲子家庭、新小区专享：上门清洗保养满 200 减 30")
    _publish(admin, "activity", big.id, {}, big.ends_at)
    _publish(admin, "activity", small.id, {}, small.ends_at)
    _publish(admin, "reward", reward.id, {"districts": ["南山区"]}, ends)
    db.session.commit()
