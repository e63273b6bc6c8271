"""Due care (proactive service): care items generated from the product archives' schedules,
routed to a person, announced to the household once at a sensible hour, booked in one tap, and
closed by the steward's outcome or by the order that served them (docs/community.md, "Due care").

- Generation (`generate_due_items`, the daily job) is set-based SQL: one INSERT … SELECT creates
  every item due within the horizon that does not exist yet, with its route computed by
  correlated subqueries (the household's steward, else the estate's best-ranked engineer, else
  the agent queue). The unique (product, plan, due date) and the one-live-item partial index make
  a re-run, or two runs at once, create nothing twice. The same job reconciles what changed
  since: snoozes that ended, orders completed or cancelled, products that left, schedules that
  moved, engineers who left and households whose steward changed.
- Notices (`notify_due`) claim items with a conditional UPDATE (… WHERE notified_at IS NULL), so
  two runners never both notify one item; one channel per item: a subscribe message when the
  resident holds quota for the maintenance template, else an inbox notice.
- Every status change is a conditional UPDATE on the expected status (the loser of a race sees
  the winner's result or a 409), like the orders'.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from community.care.models import LIVE, CareItem
from community.estates import services as estates
from community.estates.models import Engineer, EngineerEstate
from community.orders import services as orders
from community.orders.models import ServiceOrder
from community.products import services as products
from community.products.models import CATEGORIES, MaintenancePlan, Product, ProductModel, ProductSchedule
from community.service_types import SERVICE_TYPES
from community.stats import services as stats
from community.stewards import services as stewards
from community.stewards.models import StewardBinding
from core import audit
from core.accounts.models import User
from core.accounts.services import Principal
from core.db import dialect_insert, utcnow, without_jit
from core.errors import BadRequest, Conflict, Forbidden, NotFound, invalid
from core.extensions import db
from core.formatting import BUSINESS_TZ, mask_name, mask_phone
from core.notifications import services as notifications
from core.pagination import Page, decode_cursor, paginate

STATUS_LABELS = {"open": "待处理", "snoozed": "稍后提醒", "booked": "已预约", "done": "已完成",
                 "done_elsewhere": "已在别处完成", "declined": "客户不需要", "cancelled": "已取消"}
ROUTE_LABELS = {"steward": "管家", "estate": "小区工程师", "agent": "客服队列"}
OUTCOMES = ("booked", "done_elsewhere", "declined", "snoozed")
OUTCOME_LABELS = {"booked": "代客预约", "done_elsewhere": "已在别处完成", "declined": "客户不需要", "snoozed": "稍后提醒"}
WAITING = ("open", "snoozed")  # live and not booked: what an outcome or an assignment may change
CLOSED = ("done", "done_elsewhere", "declined", "cancelled")
FINISHED = ("done", "done_elsewhere", "declined")  # the steward's "done" list (cancelled: the product left)
LISTS = ("due", "overdue", "snoozed", "booked", "done")
DONE_LIST_DAYS = 90
MAX_SNOOZE_DAYS = 90
NOTICE_WINDOW = (time(9, 0), time(20, 0))  # Asia/Shanghai: notices go out from 09:00 until before 20:00
NOTIFY_BATCH = 200
SERVICE_COUNTS_DAYS = 90  # a service recorded this many days before an item's due date (or later) is its care
REPORT_MAX_DAYS = 366


def business_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(BUSINESS_TZ).date()


def get_item(item_id: int) -> CareItem:
    item = db.session.get(CareItem, item_id)
    if item is None:
        raise NotFound("保养提醒不存在", code="care_item_not_found")
    return item


# -- routing: who should do a product's care (correlated subqueries, for INSERT and UPDATE alike) --

def _steward_of(resident, estate) -> sa.ScalarSelect:
    """The resident's active steward binding's engineer, while they work and serve the product's
    estate (the binding is in that estate, or the engineer covers it; a product without an
    estate takes the steward as they are)."""
    b = StewardBinding.__table__.alias("route_binding")
    g = Engineer.__table__.alias("route_steward")
    cover = EngineerEstate.__table__.alias("route_cover")
    covers = (sa.select(cover.c.engineer_id).where(cover.c.engineer_id == b.c.engineer_id, cover.c.estate_id == estate)
              .correlate_except(cover).exists())  # two levels down: name what is not correlated
    return (sa.select(b.c.engineer_id).select_from(b.join(g, g.c.id == b.c.engineer_id))
            .where(b.c.resident_id == resident, b.c.ended_at.is_(None), g.c.status == "active",
                   sa.or_(estate.is_(None), b.c.estate_id == estate, covers))
            .limit(1).scalar_subquery())


def _best_engineer_of(estate) -> sa.ScalarSelect:
    """The estate's best-ranked active covering engineer, ordered exactly as the ranking
    (community.stats.services.rank_order over the coverage rows, which carry the ranking key;
    dispatch's community.orders.services.best_engineer)."""
    c = EngineerEstate.__table__.alias("rank_cover")
    g = Engineer.__table__.alias("rank_engineer")
    return (sa.select(c.c.engineer_id)
            .select_from(c.join(g, g.c.id == c.c.engineer_id))
            .where(c.c.estate_id == estate, g.c.status == "active")
            .order_by(*stats.rank_order(c.c))
            .limit(1).scalar_subquery())


def _route(steward, engineer) -> sa.Case:
    return sa.case((steward.is_not(None), "steward"), (engineer.is_not(None), "estate"), else_="agent")


def _minus_days(day, days):
    """day - days (a date column minus an integer column), in the session's SQL dialect."""
    if db.session.get_bind().dialect.name == "postgresql":
        return day - days
    return sa.func.date(day, sa.func.printf("-%d days", days), type_=sa.Date)


# -- generation -----------------------------------------------------------------------------------

def generate_due_items(today: date | None = None, horizon_days: int | None = None) -> dict:
    """The daily run (`generate-service-reminders`): reconcile the live items, then create every
    item due within the horizon that does not exist yet. Set-based; a re-run creates nothing.
    Returns counts."""
    today = today or business_today()
    horizon_days = current_app.config["CARE_HORIZON_DAYS"] if horizon_days is None else horizon_days
    without_jit()  # its statements are short but their plans large: JIT compiling cost more than it saved
    counts = reconcile(today)
    counts.update(_insert_due(today, today + timedelta(days=horizon_days)))
    return counts


def _insert_due(today: date, horizon: date) -> dict:
    s, p, m = ProductSchedule.__table__.c, Product.__table__.c, MaintenancePlan.__table__.c
    existing = CareItem.__table__.alias("existing")
    day = sa.literal(today, sa.Date())
    notify_on = _minus_days(s.next_due_on, m.lead_days)
    candidates = (
        sa.select(s.product_id, s.plan_id, s.next_due_on.label("due_on"),
                  sa.case((notify_on < day, day), else_=notify_on).label("notify_on"),
                  p.owner_id.label("resident_id"), p.estate_id,
                  _steward_of(p.owner_id, p.estate_id).label("steward_id"))
        .select_from(ProductSchedule.__table__.join(Product.__table__, p.id == s.product_id)
                     .join(MaintenancePlan.__table__, m.id == s.plan_id))
        .where(s.next_due_on.is_not(None), s.next_due_on <= horizon, p.status == "active", m.active.is_(True),
               ~sa.select(existing.c.id).where(
                   existing.c.product_id == s.product_id, existing.c.plan_id == s.plan_id,
                   sa.or_(existing.c.status.in_(LIVE), existing.c.due_on == s.next_due_on)).exists())
    ).subquery("candidates")
    routed = sa.select(candidates, sa.func.coalesce(candidates.c.steward_id, _best_engineer_of(candidates.c.estate_id))
                       .label("engineer_id")).subquery("routed")
    now = sa.literal(utcnow(), CareItem.__table__.c.created_at.type)
    rows = sa.select(routed.c.product_id, routed.c.plan_id, routed.c.due_on, routed.c.notify_on, routed.c.resident_id,
                     routed.c.estate_id, routed.c.engineer_id, _route(routed.c.steward_id, routed.c.engineer_id),
                     sa.literal("open"), now, now).where(sa.true())  # SQLite: a WHERE before ON CONFLICT
    # One order for every run, so two runs at once wait for each other instead of deadlocking.
    rows = rows.order_by(routed.c.product_id, routed.c.plan_id)
    c = CareItem.__table__.c
    insert = (dialect_insert()(CareItem.__table__)
              .from_select(["product_id", "plan_id", "due_on", "notify_on", "resident_id", "estate_id", "engineer_id",
                            "route", "status", "created_at", "updated_at"], rows)
              # Either unique index (product, plan, due date; one live item) makes a concurrent
              # run's twin a no-op.
              .on_conflict_do_nothing()
              .returning(c.route))
    routes = Counter(db.session.execute(insert).scalars())
    return {"created": sum(routes.values()), **{route: routes.get(route, 0) for route in ("steward", "estate", "agent")}}


def reconcile(today: date) -> dict:
    """What changed since the items were made, set-based (part of the daily run): snoozes that
    ended, orders completed or cancelled (a safety net behind the signals), products that left,
    schedules that moved, owners who changed, and routes that no longer hold."""
    c, t = CareItem.__table__.c, CareItem.__table__
    now = utcnow()
    run = lambda stmt: db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount  # noqa: E731
    counts = {}
    counts["reopened"] = run(sa.update(t).where(c.status == "snoozed", c.snoozed_until <= today)
                             .values(status="open", snoozed_until=None, updated_at=now))
    o = ServiceOrder.__table__.c
    order_status = sa.select(o.status).where(o.id == c.order_id).scalar_subquery()
    counts["done_by_order"] = run(sa.update(t).where(c.status == "booked", order_status == "completed")
                                  .values(status="done", outcome_at=now, updated_at=now))
    counts["unbooked"] = run(sa.update(t).where(c.status == "booked", order_status == "cancelled")
                             .values(status="open", order_id=None, updated_at=now))
    p, m, s = Product.__table__.c, MaintenancePlan.__table__.c, ProductSchedule.__table__.c
    product_left = sa.select(p.id).where(p.id == c.product_id, p.status != "active").exists()
    plan_off = sa.select(m.id).where(m.id == c.plan_id, m.active.is_(False)).exists()
    schedule = sa.select(s.product_id).where(s.product_id == c.product_id, s.plan_id == c.plan_id)
    counts["cancelled"] = run(sa.update(t).where(c.status.in_(WAITING), sa.or_(product_left, plan_off, ~schedule.exists()))
                              .values(status="cancelled", outcome_at=now, updated_at=now))
    # The schedule moved past the item and a service of its kind was recorded in the item's
    # cycle (from any source: an order, the service system, an import): done. It moved
    # otherwise (the plan changed): cancelled, and this run creates the item of the new date.
    moved_past = schedule.where(sa.or_(s.next_due_on.is_(None), s.next_due_on > c.due_on),
                                s.last_done_on >= _minus_days(c.due_on, sa.literal(SERVICE_COUNTS_DAYS)))
    counts["done_by_schedule"] = run(sa.update(t).where(c.status.in_(WAITING), moved_past.exists())
                                     .values(status="done", outcome_at=now, updated_at=now))
    counts["cancelled"] += run(sa.update(t).where(c.status.in_(WAITING), schedule.where(
        s.next_due_on.is_distinct_from(c.due_on)).exists()).values(status="cancelled", outcome_at=now, updated_at=now))
    owner = sa.select(p.owner_id).where(p.id == c.product_id).scalar_subquery()
    run(sa.update(t).where(c.status.in_(WAITING), c.resident_id.is_distinct_from(owner))
        .values(resident_id=owner, updated_at=now))
    counts["rerouted"] = _reroute(now)
    return counts


def _reroute(now: datetime) -> int:
    """Waiting items whose route no longer holds take the route generation would give them now:
    the engineer left, the household's steward changed (or they have one now), or nobody was
    assigned yet. An agent's assignment stands while that engineer works.

    The stale items are found by joins (each waiting item with its current engineer and its
    resident's one active binding), so the daily run pays the correlated routing subqueries only
    for the few items that move."""
    c, t = CareItem.__table__.c, CareItem.__table__
    w = t.alias("waiting")
    g = Engineer.__table__.alias("current_engineer")
    b = StewardBinding.__table__.alias("stale_binding")
    sg = Engineer.__table__.alias("stale_steward")
    cover = EngineerEstate.__table__.alias("stale_cover")
    covers = sa.select(cover.c.engineer_id).where(cover.c.engineer_id == b.c.engineer_id,
                                                  cover.c.estate_id == w.c.estate_id).exists()
    steward_now = sa.case((sa.and_(sg.c.status == "active",
                                   sa.or_(w.c.estate_id.is_(None), b.c.estate_id == w.c.estate_id, covers)),
                           b.c.engineer_id))
    stale_ids = (
        sa.select(w.c.id)
        .select_from(w.outerjoin(g, g.c.id == w.c.engineer_id)
                     .outerjoin(b, sa.and_(b.c.resident_id == w.c.resident_id, b.c.ended_at.is_(None)))
                     .outerjoin(sg, sg.c.id == b.c.engineer_id))
        .where(w.c.status.in_(WAITING), sa.or_(
            w.c.engineer_id.is_(None), g.c.status.is_distinct_from("active"),
            sa.and_(w.c.route == "steward", steward_now.is_distinct_from(w.c.engineer_id)),
            sa.and_(w.c.route == "estate", steward_now.is_not(None)))))
    steward = _steward_of(c.resident_id, c.estate_id)
    engineer = sa.func.coalesce(steward, _best_engineer_of(c.estate_id))
    return db.session.execute(
        sa.update(t).where(c.id.in_(stale_ids),
                           sa.or_(engineer.is_distinct_from(c.engineer_id), _route(steward, engineer) != c.route))
        .values(engineer_id=engineer, route=_route(steward, engineer), updated_at=now)
        .execution_options(synchronize_session=False)).rowcount


# -- notices ----------------------------------------------------------------------------------------

def in_notice_window(now: datetime) -> bool:
    start, end = NOTICE_WINDOW
    return start <= now.astimezone(BUSINESS_TZ).time() < end


def notify_due(now: datetime | None = None, limit: int = NOTIFY_BATCH) -> dict:
    """One batch of notices (the job `notify-service-reminders` repeats it and commits each):
    open items with a resident whose notify date has come, inside the notice window only.

    The claim is one conditional UPDATE (… WHERE notified_at IS NULL; SKIP LOCKED on PostgreSQL),
    so two runners never notify the same item; the notice is written in the same transaction as
    the claim. Returns counts."""
    now = now or utcnow()
    counts = {"claimed": 0, "subscribe": 0, "inbox": 0}
    if not in_notice_window(now):
        return {**counts, "outside_window": 1}
    c, t = CareItem.__table__.c, CareItem.__table__
    due = (sa.select(c.id).where(c.notified_at.is_(None), c.notify_on <= business_today(now), c.status == "open",
                                 c.resident_id.is_not(None))
           .order_by(c.notify_on, c.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = db.session.execute(sa.update(t).where(c.id.in_(due), c.notified_at.is_(None))
                                 .values(notified_at=now, updated_at=now).returning(c.id)).scalars().all()
    counts["claimed"] = len(claimed)
    channels: dict[str, list[int]] = {"subscribe": [], "inbox": []}
    for view in _notice_views(claimed):
        title, body, data = _notice(view)
        sent = notifications.notify([view["resident_id"]], kind="care", title=title, body=body, purpose="maintenance",
                                    data=data, page=f"pages/care/index?id={view['id']}", inbox_when_sent=False)
        channels["subscribe" if sent["wechat"] else "inbox"].append(view["id"])
    for channel, ids in channels.items():
        if ids:
            db.session.execute(sa.update(t).where(c.id.in_(ids)).values(channel=channel)
                               .execution_options(synchronize_session=False))
        counts[channel] = len(ids)
    return counts


def _notice_views(ids: list[int]) -> list[dict]:
    if not ids:
        return []
    c = CareItem.__table__.c
    rows = db.session.execute(
        sa.select(c.id, c.resident_id, c.due_on, c.route, ProductModel.name.label("model_name"),
                  ProductModel.category, MaintenancePlan.name.label("plan_name"), Engineer.name.label("engineer_name"))
        .select_from(CareItem.__table__.join(Product, Product.id == c.product_id)
                     .join(ProductModel, ProductModel.id == Product.model_id)
                     .join(MaintenancePlan, MaintenancePlan.id == c.plan_id)
                     .outerjoin(Engineer, Engineer.id == c.engineer_id))
        .where(c.id.in_(ids)).order_by(c.id))
    return [dict(row._mapping) for row in rows]


def _notice(view: dict) -> tuple[str, str, dict]:
    """The notice's title and text, and the subscribe message's keywords, e.g. "您的净水器
    RO-600G 该进行滤芯更换了，预计 12月20日到期，点击一键预约您的管家 王建国师傅"."""
    category = CATEGORIES.get(view["category"], view["category"])
    due, name = view["due_on"], view["engineer_name"]
    when = f"{due.month}月{due.day}日"
    if name and view["route"] == "steward":
        who, short = f"您的管家 {name}师傅", f"管家{name}师傅"
    elif name:
        who, short = f"{name}师傅上门", f"{name}师傅"
    else:
        who, short = "上门服务，客服会为您安排师傅", "客服安排师傅"
    body = f"您的{category} {view['model_name']} 该进行{view['plan_name']}了，预计 {when}到期，点击一键预约{who}"
    data = {"thing1": f"{category}{view['plan_name']}", "date2": due.isoformat(), "thing3": short,
            "thing4": "点击一键预约上门服务"}
    return f"{category}{view['plan_name']}提醒", body, data


# -- what one actor sees of an item ------------------------------------------------------------------

def item_views(items, who: Principal | None) -> list[dict]:
    """Items as `who` sees them, with the product, the plan, the customer, the estate and the
    engineer. The customer's name and phone are in full for the item's engineer only (the orders'
    rule: the assigned engineer calls, and sees the name as in their customer list); agents and
    admins see both masked.
    Five queries at most, whatever the number of items."""
    items = list(items)
    if not items:
        return []
    own = None
    if who is not None and who.has_role("engineer"):
        engineer = estates.active_engineer(who.id)
        own = engineer.id if engineer is not None else None
    products = {row.id: row for row in db.session.execute(
        sa.select(Product.id, Product.serial, Product.owner_phone, Product.address, ProductModel.code, ProductModel.name,
                  ProductModel.category).join(ProductModel, ProductModel.id == Product.model_id)
        .where(Product.id.in_({i.product_id for i in items})))}
    plans = {plan.id: plan for plan in db.session.scalars(
        sa.select(MaintenancePlan).where(MaintenancePlan.id.in_({i.plan_id for i in items})))}
    resident_ids = {i.resident_id for i in items if i.resident_id is not None}
    residents = {row.id: row for row in db.session.execute(
        sa.select(User.id, User.display_name, User.phone).where(User.id.in_(resident_ids)))} if resident_ids else {}
    engineer_ids = {i.engineer_id for i in items if i.engineer_id is not None}
    engineers = {row.id: row for row in db.session.execute(
        sa.select(Engineer.id, Engineer.name, Engineer.photo).where(Engineer.id.in_(engineer_ids)))} \
        if engineer_ids else {}
    estate_names = {e.id: e.name for e in estates.estates_by_id(i.estate_id for i in items).values()}
    today = business_today()
    views = []
    for item in items:
        product, plan = products[item.product_id], plans[item.plan_id]
        resident = residents.get(item.resident_id)
        phone = (resident.phone if resident else None) or product.owner_phone
        full = own is not None and item.engineer_id == own
        engineer = engineers.get(item.engineer_id)
        views.append({
            "id": item.id, "status": item.status, "status_label": STATUS_LABELS[item.status], "route": item.route,
            "route_label": ROUTE_LABELS[item.route], "due_on": item.due_on, "notify_on": item.notify_on,
            "days_left": (item.due_on - today).days, "overdue": item.status in WAITING and item.due_on < today,
            "snoozed_until": item.snoozed_until, "notified_at": item.notified_at, "channel": item.channel,
            "order_id": item.order_id, "outcome_note": item.outcome_note, "outcome_at": item.outcome_at,
            "created_at": item.created_at,
            "product": {"id": item.product_id, "serial": product.serial, "model_code": product.code,
                        "model_name": product.name, "category": product.category,
                        "category_label": CATEGORIES.get(product.category, product.category), "address": product.address},
            "plan": {"id": plan.id, "name": plan.name, "service_type": plan.service_type,
                     "service_type_label": SERVICE_TYPES.get(plan.service_type, plan.service_type),
                     "description": plan.description},
            "customer": None if resident is None and not phone else {
                "id": item.resident_id,
                "name": (resident.display_name if full and resident and resident.display_name
                         else mask_name(resident.display_name if resident else None, "业主")),
                "phone": phone if full or not phone else (mask_phone(phone) if len(phone) >= 7 else "****"),
                "phone_full": full},
            "estate": {"id": item.estate_id, "name": estate_names.get(item.estate_id, "")} if item.estate_id else None,
            "engineer": {"id": engineer.id, "name": engineer.name, "photo": engineer.photo} if engineer else None,
        })
    return views


def view_page(page: Page, who: Principal | None) -> Page:
    return Page(item_views(page.items, who), page.next_cursor)


def _by_due(stmt: sa.Select, *, limit: int, cursor: str | None) -> Page:
    """Keyset pages by due date, then id (the soonest first): the cursor carries both."""
    if cursor:
        day, last_id = decode_cursor(cursor, 2, [str, int])
        try:
            day = date.fromisoformat(day)
        except ValueError:
            raise BadRequest("分页游标无效", code="invalid_cursor",
                             details={"fields": {"cursor": ["分页游标无效"]}}) from None
        stmt = stmt.where(sa.or_(CareItem.due_on > day, sa.and_(CareItem.due_on == day, CareItem.id > last_id)))
    return paginate(stmt, [CareItem.due_on, CareItem.id], limit=limit, cursor=None, descending=False,
                    key_of=lambda item: [item.due_on.isoformat(), item.id])


def _listed(stmt: sa.Select, status: str, *, limit: int, cursor: str | None) -> Page:
    """One of the steward's lists: due (open, due today or later), overdue (open, due before
    today), snoozed, booked, done (done, done elsewhere or declined in the last 90 days)."""
    today = business_today()
    if status == "due":
        return _by_due(stmt.where(CareItem.status == "open", CareItem.due_on >= today), limit=limit, cursor=cursor)
    if status == "overdue":
        return _by_due(stmt.where(CareItem.status == "open", CareItem.due_on < today), limit=limit, cursor=cursor)
    if status in ("snoozed", "booked"):
        return _by_due(stmt.where(CareItem.status == status), limit=limit, cursor=cursor)
    if status == "done":
        return paginate(stmt.where(CareItem.status.in_(FINISHED),
                                   CareItem.outcome_at >= utcnow() - timedelta(days=DONE_LIST_DAYS)),
                        [CareItem.id], limit=limit, cursor=cursor)
    raise invalid("status", f"状态须为：{'、'.join(LISTS)}")


def engineer_items(who: Principal, status: str = "due", *, estate_id: int | None = None, limit: int = 20,
                   cursor: str | None = None) -> Page:
    """The calling engineer's care items of one list, in one estate or all."""
    engineer = estates.engineer_of(who.id)
    stmt = sa.select(CareItem).where(CareItem.engineer_id == engineer.id)
    if estate_id:
        stmt = stmt.where(CareItem.estate_id == estate_id)
    return _listed(stmt, status, limit=limit, cursor=cursor)


def engineer_counts(who: Principal) -> dict[str, int]:
    """How many items are in each of the calling engineer's lists (one statement)."""
    engineer = estates.engineer_of(who.id)
    today = business_today()
    c = CareItem
    row = db.session.execute(sa.select(
        sa.func.count().filter(c.status == "open", c.due_on >= today),
        sa.func.count().filter(c.status == "open", c.due_on < today),
        sa.func.count().filter(c.status == "snoozed"),
        sa.func.count().filter(c.status == "booked"),
        sa.func.count().filter(c.status.in_(FINISHED)),
    ).where(c.engineer_id == engineer.id, sa.or_(
        c.status.in_(LIVE),
        sa.and_(c.status.in_(FINISHED), c.outcome_at >= utcnow() - timedelta(days=DONE_LIST_DAYS))))).one()
    return dict(zip(LISTS, row))


def visible_item(item_id: int, who: Principal) -> CareItem:
    """An item its engineer, agents and admins may act on; anyone else gets 404."""
    item = get_item(item_id)
    if who.has_role("admin", "agent"):
        return item
    engineer = estates.active_engineer(who.id) if who.has_role("engineer") else None
    if engineer is not None and item.engineer_id == engineer.id:
        return item
    raise NotFound("保养提醒不存在", code="care_item_not_found")


# -- the resident ---------------------------------------------------------------------------------

def my_items(user_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """The live items of the products I own, the soonest due first."""
    stmt = (sa.select(CareItem).join(Product, Product.id == CareItem.product_id)
            .where(Product.owner_id == user_id, CareItem.status.in_(LIVE)))
    return _by_due(stmt, limit=limit, cursor=cursor)


def my_item(user_id: int, item_id: int) -> CareItem:
    """One item of a product I own; anyone else's is a 404."""
    item = get_item(item_id)
    owner = db.session.scalar(sa.select(Product.owner_id).where(Product.id == item.product_id))
    if owner is None or owner != user_id:
        raise NotFound("保养提醒不存在", code="care_item_not_found")
    return item


# -- booking ----------------------------------------------------------------------------------------

@dataclass
class Booking:
    item: CareItem
    order: ServiceOrder
    created: bool  # False: the item was booked already, this is its order


def book_mine(user: User, item_id: int, *, address_id: int | None = None, preferred_time: str | None = None,
              note: str | None = None) -> Booking:
    """One tap: the household books its due care as a service request, pre-filled and assigned
    to the item's engineer (their steward). Booking a booked item again returns its order."""
    item = my_item(user.id, item_id)
    return _book(item, user, user, address_id=address_id, preferred_time=preferred_time, note=note)


def _closed(item: CareItem) -> Conflict:
    return Conflict(f"该保养提醒已关闭（{STATUS_LABELS[item.status]}），不能再更改", code="care_item_closed",
                    details={"status": item.status})


def _book(item: CareItem, resident: User, actor, *, address_id: int | None, preferred_time: str | None,
          note: str | None, on_behalf: bool = False) -> Booking:
    c, t = CareItem.__table__.c, CareItem.__table__
    note = (note or "").strip()
    if len(note) > 500:
        raise invalid("note", "备注不能超过 500 字")
    # The claim: one conditional UPDATE, so two taps (or a tap and the steward) make one order;
    # the loser waits for the winner's commit and then finds the item booked with its order.
    claimed = db.session.execute(sa.update(t).where(c.id == item.id, c.status.in_(WAITING))
                                 .values(status="booked", updated_at=utcnow())
                                 .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.refresh(item)
        if item.status == "booked":
            order = orders.get_order(item.order_id)
            if order.status != "cancelled":
                return Booking(item, order, False)
            # Its order was cancelled (and the item not reopened yet): book afresh.
            if not db.session.execute(sa.update(t).where(c.id == item.id, c.status == "booked",
                                                         c.order_id == order.id)
                                      .values(status="booked", order_id=None, updated_at=utcnow())
                                      .execution_options(synchronize_session=False)).rowcount:
                db.session.refresh(item)
                return Booking(item, orders.get_order(item.order_id), False)
        else:
            raise _closed(item)
    product = db.session.get(Product, item.product_id)
    plan = db.session.get(MaintenancePlan, item.plan_id)
    estate_id = product.estate_id or item.estate_id
    if estate_id is None:
        raise Conflict("该产品没有登记小区，无法预约，请联系客服", code="product_without_estate")
    where = _where(resident, product, estate_id) if address_id is None else {"address_id": address_id}
    category = CATEGORIES.get(product.model.category, product.model.category)
    description = (f"保养提醒：{plan.name}（{category} {product.model.name}，序列号 {product.serial}，"
                   f"{item.due_on.month}月{item.due_on.day}日到期）" + (f"\n{note}" if note else ""))
    try:
        order = orders.request_service(resident, estate_id, plan.service_type, description,
                                       preferred_engineer_id=_preferred_engineer(item, resident.id, estate_id),
                                       preferred_slot=preferred_time, product_id=product.id, **where)
    except Forbidden as exc:
        if on_behalf and exc.code == "not_a_resident":
            raise Conflict("客户尚未加入该小区，无法代为预约", code="customer_not_resident") from None
        raise
    db.session.refresh(item)
    item.order_id = order.id
    item.engineer_id = order.engineer_id or item.engineer_id
    item.snoozed_until = None
    item.outcome_by_id = actor.id
    item.outcome_at = utcnow()
    if note:
        item.outcome_note = note
    db.session.flush()
    return Booking(item, order, True)


def _where(resident: User, product: Product, estate_id: int) -> dict:
    """Where the service goes: the product's address (from the owner's address book, or written
    on the archive), else the owner's default address in the estate (else any of theirs there)."""
    if product.address_id is not None:
        try:
            address = estates.address_of(resident.id, product.address_id)
        except NotFound:
            address = None
        if address is not None and address.estate_id == estate_id:
            return {"address_id": address.id}
    if product.address:
        return {"address": product.address}
    for address in estates.addresses_of(resident.id):  # the default first
        if address.estate_id == estate_id:
            return {"address_id": address.id}
    return {}


def _preferred_engineer(item: CareItem, resident_id: int, estate_id: int) -> int | None:
    """The item's engineer when the order may name them (at work, and covering the estate or the
    household's steward); else None and dispatch decides."""
    if item.engineer_id is None:
        return None
    engineer = db.session.get(Engineer, item.engineer_id)
    if engineer.status == "active" and (estates.covers(engineer, estate_id)
                                        or stewards.steward_engineer_id(resident_id) == engineer.id):
        return engineer.id
    return None


# -- outcomes ---------------------------------------------------------------------------------------

def record_outcome(item_id: int, who: Principal, outcome: str, *, snoozed_until: date | None = None,
                   note: str | None = None, preferred_time: str | None = None) -> tuple[CareItem, ServiceOrder | None]:
    """The steward (or an agent or admin) records what became of an item: booked on the
    customer's behalf, done elsewhere, declined, or snoozed until a date. The same outcome
    again changes nothing; changing a closed item is a 409."""
    item = visible_item(item_id, who)
    if outcome not in OUTCOMES:
        raise invalid("outcome", f"结果须为：{'、'.join(OUTCOMES)}")
    today = business_today()
    if outcome == "snoozed":
        if snoozed_until is None:
            raise invalid("snoozed_until", "请选择下次提醒的日期")
        if not today < snoozed_until <= today + timedelta(days=MAX_SNOOZE_DAYS):
            raise invalid("snoozed_until", f"下次提醒的日期须在明天到 {MAX_SNOOZE_DAYS} 天之内")
    elif snoozed_until is not None:
        raise invalid("snoozed_until", "只有“稍后提醒”需要填写日期")
    note = (note or "").strip() or None
    if note is not None and len(note) > 500:
        raise invalid("note", "备注不能超过 500 字")
    unchanged = item.status == outcome and (outcome != "snoozed" or item.snoozed_until == snoozed_until)
    if unchanged:
        return item, orders.get_order(item.order_id) if item.order_id else None
    if item.status in CLOSED:
        raise _closed(item)
    if item.status == "booked":
        raise Conflict(f"该保养提醒已预约服务单 #{item.order_id}，请在服务单中处理", code="care_item_booked",
                       details={"status": item.status, "order_id": item.order_id})
    if outcome == "booked":  # for the product's owner (today's: the item's resident may be a day behind)
        owner_id = db.session.scalar(sa.select(Product.owner_id).where(Product.id == item.product_id))
        resident = db.session.get(User, owner_id) if owner_id else None
        if resident is None:
            raise Conflict("该产品还没有业主账号，无法代为预约，请电话联系后记录结果", code="care_item_no_customer")
        booking = _book(item, resident, who, address_id=None, preferred_time=preferred_time, note=note, on_behalf=True)
        return booking.item, booking.order
    values = {"status": outcome, "outcome_note": note, "outcome_by_id": who.id, "outcome_at": utcnow(),
              "snoozed_until": snoozed_until}
    _transition(item, WAITING, **values)
    if outcome == "done_elsewhere":  # the product's schedules of this kind count from today
        plan = db.session.get(MaintenancePlan, item.plan_id)
        products.record_service(item.product_id, plan.service_type, today)
    elif outcome == "declined":  # this cycle is skipped: the schedule moves to the next one
        products.skip_due(item.product_id, item.plan_id, item.due_on)
    return item, None


def _transition(item: CareItem, expected: tuple[str, ...], **values) -> CareItem:
    c = CareItem.__table__.c
    done = db.session.execute(sa.update(CareItem.__table__).where(c.id == item.id, c.status.in_(expected))
                              .values(updated_at=utcnow(), **values)
                              .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(item)
    if not done:
        if item.status in CLOSED:
            raise _closed(item)
        raise Conflict(f"该保养提醒当前状态为“{STATUS_LABELS[item.status]}”，不能执行此操作",
                       code="care_item_state_changed", details={"status": item.status})
    return item


# -- what orders tell us (signals connected in community.init_app) --------------------------------

def on_order_completed(order_id: int) -> int:
    """An order completed: the item it booked is done; so is a waiting item of the same product
    whose plan is of the order's service type (the household booked it another way)."""
    now, c, t = utcnow(), CareItem.__table__.c, CareItem.__table__
    done = db.session.execute(sa.update(t).where(c.order_id == order_id, c.status == "booked")
                              .values(status="done", outcome_at=now, updated_at=now)
                              .execution_options(synchronize_session=False)).rowcount
    order = orders.get_order(order_id)
    if order.product_id is not None:
        m = MaintenancePlan.__table__.c
        same_kind = sa.select(m.id).where(m.id == c.plan_id, m.service_type == order.service_type).exists()
        done += db.session.execute(sa.update(t).where(c.product_id == order.product_id, c.status.in_(WAITING), same_kind)
                                   .values(status="done", order_id=order_id, outcome_at=now, updated_at=now)
                                   .execution_options(synchronize_session=False)).rowcount
    return done


def on_order_cancelled(order_id: int) -> int:
    """An order was cancelled: the item it booked waits again (open; its notice is not repeated)."""
    c, t = CareItem.__table__.c, CareItem.__table__
    return db.session.execute(sa.update(t).where(c.order_id == order_id, c.status == "booked")
                              .values(status="open", order_id=None, updated_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount


# -- agents -----------------------------------------------------------------------------------------

def agent_queue(who: Principal, *, estate_id: int | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    """Waiting items nobody could be routed to (route agent, no engineer yet), the soonest due
    first. An agent sees the estates they are on duty for (and items without an estate); an
    admin sees all."""
    stmt = sa.select(CareItem).where(CareItem.route == "agent", CareItem.engineer_id.is_(None),
                                     CareItem.status.in_(WAITING))
    if estate_id:
        stmt = stmt.where(CareItem.estate_id == estate_id)
    if not who.has_role("admin"):
        stmt = stmt.where(sa.or_(CareItem.estate_id.is_(None), estates.on_duty_for(who.id, CareItem.estate_id)))
    return _by_due(stmt, limit=limit, cursor=cursor)


def assign_item(item_id: int, engineer_id: int, actor) -> CareItem:
    """An agent or admin gives a waiting item to an engineer at work who covers its estate (or
    is the household's steward); the item then shows in that engineer's lists."""
    item = get_item(item_id)
    if item.status in CLOSED:
        raise _closed(item)
    if item.status == "booked":
        raise Conflict(f"该保养提醒已预约服务单 #{item.order_id}，请在服务单中改派", code="care_item_booked",
                       details={"status": item.status, "order_id": item.order_id})
    engineer = db.session.get(Engineer, engineer_id)
    allowed = engineer is not None and engineer.status == "active" and (
        item.estate_id is None or estates.covers(engineer, item.estate_id)
        or (item.resident_id is not None and stewards.steward_engineer_id(item.resident_id) == engineer.id))
    if not allowed:
        raise invalid("engineer_id", "只能指派服务该小区的在职工程师")
    before = {"engineer_id": item.engineer_id}
    _transition(item, WAITING, engineer_id=engineer_id)
    audit.record(actor, "care_item.assign", "care_item", item.id, before=before, after={"engineer_id": engineer_id})
    return item


# -- the report -------------------------------------------------------------------------------------

def report_period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """The due dates a report covers: by default from 30 days ago to the end of the horizon."""
    today = business_today()
    date_from = date_from or today - timedelta(days=30)
    date_to = date_to or today + timedelta(days=current_app.config["CARE_HORIZON_DAYS"])
    if date_to < date_from:
        raise invalid("to", "结束日期不能早于开始日期")
    if (date_to - date_from).days >= REPORT_MAX_DAYS:
        raise invalid("to", f"统计区间最长 {REPORT_MAX_DAYS} 天")
    return date_from, date_to


def _figures(today: date) -> list:
    c = CareItem
    count = lambda *conditions: sa.func.count().filter(*conditions)  # noqa: E731
    return [
        count(c.status.in_(WAITING), c.due_on >= today).label("due"),
        count(c.status.in_(WAITING), c.due_on < today).label("overdue"),
        count(c.status == "booked").label("booked"),
        count(c.status == "done").label("done"),
        count(c.status == "done_elsewhere").label("done_elsewhere"),
        count(c.status == "declined").label("declined"),
        count(c.status == "cancelled").label("cancelled"),
        sa.func.count().label("total"),
    ]


FIGURES = ("due", "overdue", "booked", "done", "done_elsewhere", "declined", "cancelled", "total")


def _row(row) -> dict:
    figures = {name: getattr(row, name) or 0 for name in FIGURES}
    decided = figures["booked"] + figures["done"] + figures["done_elsewhere"] + figures["declined"]
    converted = figures["booked"] + figures["done"]
    figures["conversion"] = round(converted / decided, 4) if decided else None
    return figures


def report(by: str = "estate", date_from: date | None = None, date_to: date | None = None, *, limit: int = 50,
           cursor: str | None = None) -> dict:
    """Due, overdue, booked and done counts and the conversion per estate or per engineer, over
    the items due in a period. conversion = (booked + done) / (booked + done + done elsewhere +
    declined): of the items that reached an outcome, how many we served (cancelled items, whose
    product left, do not count). Pages by estate or engineer id; `totals` covers the whole period."""
    if by not in ("estate", "engineer"):
        raise invalid("by", "须为 estate 或 engineer")
    date_from, date_to = report_period(date_from, date_to)
    today = business_today()
    in_period = sa.and_(CareItem.due_on >= date_from, CareItem.due_on <= date_to)
    key = CareItem.estate_id if by == "estate" else sa.func.coalesce(CareItem.engineer_id, 0)
    stmt = sa.select(key.label("key"), *_figures(today)).where(in_period).group_by(key)
    if by == "estate":
        stmt = stmt.where(CareItem.estate_id.is_not(None))
    page = paginate(stmt, [key], limit=limit, cursor=cursor, descending=False, scalars=False,
                    key_of=lambda row: [row.key])
    keys = [row.key for row in page.items]
    if by == "estate":
        names = {e.id: e.name for e in estates.estates_by_id(keys).values()}
    else:
        names = {g.id: g.name for g in estates.engineers_by_id([k for k in keys if k]).values()}
    items = [{"id": row.key or None, "name": names.get(row.key) or ("未分配（客服队列）" if by == "engineer" else ""),
              **_row(row)} for row in page.items]
    totals = _row(db.session.execute(sa.select(*_figures(today)).where(in_period)).one())
    return {"by": by, "from": date_from, "to": date_to, "items": items, "next_cursor": page.next_cursor,
            "totals": totals}

