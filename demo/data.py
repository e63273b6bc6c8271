"""A small, believable data set: estates in Shenzhen, three engineers, residents bound at visits,
their appliances with the care due, every customer's health, and the estates' activation (tags,
coupons, a partner, activities and offers: demo/activation.py)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from ambassador.members import services as members
from ambassador.tasks import services as tasks
from community.book import services as book
from community.care import services as care
from community.estates import services as places
from community.feed import services as feed
from community.orders import services as orders
from community.stewards import services as stewards
from core.accounts import services as accounts
from core.accounts.models import User
from core.extensions import db
from demo import activation as demo_activation, products as demo_products
from points import services as points

ADMIN = ("admin", "linli-admin")
ENGINEER_PASSWORD = "linli-engineer"
PARTNER_LOGIN = demo_activation.PARTNER_LOGIN  # the demo partner's owner (its console: /partner/)
ESTATES = [
    ("SZ-NS-0001", "翠竹苑", "南山区", "南山大道 1088 号", 22.5329, 113.9300, 1260),
    ("SZ-NS-0002", "海岸城公寓", "南山区", "文心五路 33 号", 22.5176, 113.9361, 840),
    ("SZ-FT-0003", "桃源村三期", "福田区", "深南大道 6008 号", 22.5431, 114.0579, 2100),
    ("SZ-BA-0004", "碧海花园", "宝安区", "新湖路 99 号", 22.5533, 113.8830, 1500),
    ("SZ-LG-0005", "万科城", "龙岗区", "坂雪岗大道 3003 号", 22.6448, 114.0622, 3200),
]
ENGINEERS = [
    ("王建国", "13800138001", "E1001", [0, 1]),
    ("李明", "13800138002", "E1002", [1, 2, 3]),
    ("张伟", "13800138003", "E1003", [3, 4]),
]
# Who WeChat DevTools logs in as against the demo (the fake WeChat's devtools control).
DEVTOOLS_RESIDENT = "demo-resident-E1001-0-0"
DEVTOOLS_ENGINEER = "demo-engineer-E1001"
SURNAMES = "陈林黄周吴徐孙马朱胡郭何高罗郑梁谢宋唐许"


def seed() -> bool:
    """Load the demo data once and commit; returns False when it is already there.

    Commits before minting codes: a WeChat call must not wait on a pending write (SQLite
    would lock the shared token store).
    """
    if db.session.scalars(sa.select(User.id).where(User.username == ADMIN[0])).first():
        return False
    rng = random.Random(7)
    accounts.create_staff(*ADMIN, {"admin"}, display_name="演示管理员")
    estates = [places.create_estate({
        "code": code, "name": name, "province": "广东省", "city": "深圳市", "district": district,
        "address": address, "lat": lat, "lng": lng, "households": households,
    }, actor=None) for code, name, district, address, lat, lng, households in ESTATES]
    engineers = []
    for name, phone, employee_no, covered in ENGINEERS:
        engineer, invite = places.create_engineer(
            {"name": name, "phone": phone, "employee_no": employee_no}, [estates[i].id for i in covered], actor=None)
        user = accounts.wechat_identity(f"demo-engineer-{employee_no}").user
        places.claim_engineer(user, invite)
        accounts.set_password(user, ENGINEER_PASSWORD)
        engineers.append((engineer, covered))
    db.session.commit()
    residents = []  # (user, the estate of their visit), in the order they were bound
    for n, (engineer, covered) in enumerate(engineers):
        for i in covered:
            code = stewards.mint_binding_code(engineer, estates[i].id, visit_ref=f"WO{2026110 + n}{i}")
            for k in range(rng.randint(2, 4)):
                resident = accounts.wechat_identity(f"demo-resident-{engineer.employee_no}-{i}-{k}").user
                resident.display_name = rng.choice(SURNAMES) + rng.choice(["先生", "女士"])
                resident.phone = f"139{rng.randint(10000000, 99999999)}"
                stewards.bind(resident, code, rating=rng.choice([None, 4, 5, 5]))
                residents.append((resident, estates[i].id))
            db.session.commit()
    _seed_points(rng)
    db.session.commit()
    _seed_community(rng, estates, [e for e, _ in engineers], residents)
    db.session.commit()
    admin = db.session.scalars(sa.select(User).where(User.username == ADMIN[0])).one()
    demo_products.seed_products(random.Random(11), [e for e, _ in engineers], residents, admin)
    db.session.commit()
    _seed_ambassadors(estates, [e for e, _ in engineers])
    db.session.commit()
    demo_activation.seed_activation(admin, estates, residents, accounts.wechat_identity(DEVTOOLS_RESIDENT).user)
    # What the nightly jobs would have made by now: the care due within the horizon (routed to the
    # stewards), then every customer's health, which counts the overdue care.
    care.generate_due_items()
    db.session.commit()
    book.recompute_health()
    db.session.commit()
    return True


REWARDS = [
    ("滤芯 8 折券", "净水器滤芯更换八折，可与上门服务同时使用。", 200, None, None),
    ("免费深度清洗一次", "空调或油烟机深度清洗一次（工程师上门）。", 800, 50, 1),
    ("定制保温杯", "邻里定制款保温杯，附赠杯套。", 500, 100, 2),
]


def _seed_points(rng: random.Random) -> None:
    """A rewards catalogue, a welcome grant for every resident, and a redemption waiting for review."""
    admin = db.session.scalars(sa.select(User).where(User.username == ADMIN[0])).one()
    rewards = [points.create_reward({"name": name, "description": text, "cost": cost, "stock": stock,
                                     "per_user_limit": limit}, admin)
               for name, text, cost, stock, limit in REWARDS]
    residents = db.session.scalars(sa.select(User).where(User.roles == frozenset({"resident"}))
                                   .order_by(User.id)).all()
    for resident in residents:
        points.adjust(resident.id, rng.choice([300, 600, 1000]), "邻里上线体验积分", admin, key=f"demo:{resident.id}")
    for resident in residents[:3]:
        points.redeem(resident, rewards[0].id)


SERVICE_TYPES = ["repair", "install", "maintenance", "cleaning", "inspection"]


def _seed_community(rng: random.Random, estates, engineers, residents) -> None:
    """Fourteen months of service history (so KPIs have a year-on-year base), open requests in the
    workbench, a complaint, and a feed with an unanswered question."""
    now = datetime.now(timezone.utc)
    rows = []
    for n in range(420):
        engineer, covered = engineers[n % len(engineers)], ENGINEERS[n % len(engineers)][3]
        estate = estates[rng.choice(covered)]
        requested = now - timedelta(days=rng.uniform(3, 425))
        done = rng.random() < 0.93
        rows.append(orders.clean_row({
            "external_id": f"DEMO-{n:05d}", "estate_id": estate.id, "engineer_employee_no": engineer.employee_no,
            "service_type": rng.choice(SERVICE_TYPES), "requested_at": requested.isoformat(),
            "completed_at": (requested + timedelta(hours=rng.uniform(2, 48))).isoformat() if done else "",
            "rating": str(rng.choice([5, 5, 5, 4, 4, 3])) if done and rng.random() < 0.7 else "",
            "complained": "1" if rng.random() < 0.04 else "0"}))
    orders.import_orders(rows)
    (first, estate_id), (second, second_estate_id) = residents[:2]
    order = orders.request_service(first, estate_id, "repair", "厨房热水器打不着火")
    orders.complain(order.id, first, "约好上午来，一直没人联系")
    orders.request_service(second, second_estate_id, "cleaning", "空调清洗，周末最好")
    who = accounts.Principal(id=first.id, roles=first.roles)
    admin = db.session.scalars(sa.select(User).where(User.username == ADMIN[0])).one()
    for kind, text in (("question", "净水器滤芯一般多久换一次？家里是三口人。"),
                       ("review", "王师傅上门很准时，讲解也清楚，推荐给邻居们。")):
        post = feed.create_post(who, estate_id, kind, text)
        if post.status == "held":  # the demo residents never opened the mini-program: no verdict
            feed.moderate("post", post.id, "restore", "演示数据，人工审核通过", admin)


def _seed_ambassadors(estates, engineers) -> None:
    """The first ambassador (an engineer), a member's application waiting for review, a task."""
    admin = db.session.scalars(sa.select(User).where(User.username == ADMIN[0])).one()
    engineer_user = db.session.get(User, engineers[0].user_id)
    application = members.submit_application(engineer_user, {
        "channel": "engineer", "real_name": engineers[0].name, "phone": engineers[0].phone,
        "estate_ids": [estates[0].id, estates[1].id], "statement": "服务小区多年，愿意做邻里的服务代言人"})
    members.approve_application(application.id, admin)
    member = db.session.scalars(sa.select(User).where(User.roles == frozenset({"resident"}))
                                .order_by(User.id.desc())).first()
    members.set_membership(member.id, "gold", admin)
    members.submit_application(member, {
        "channel": "member", "real_name": "陈晓梅", "phone": member.phone or "13912345678",
        "estate_ids": [estates[0].id], "statement": "金卡会员，常帮邻居介绍靠谱师傅"})
    task = tasks.create_task({
        "title": "转发冬季保养活动", "description": "把冬季空调保养活动转发到小区业主群，截图上传。",
        "kind": "promotion", "points": 50, "deadline": datetime.now(timezone.utc) + timedelta(days=30),
        "total_limit": 100, "per_person_limit": 1, "proof_required": ["photos"]}, admin)
    tasks.publish_task(task.id, admin)
