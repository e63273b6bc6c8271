"""The engineer's customer book (private notes, tags, follow-ups and one timeline per customer) and
customer health: a score per bound customer, recomputed set-based every day, with its band and
trend, and an alert when a customer turns red (docs/community.md, "Customer book" and "Customer
health").

Who may read and write a customer's book is one function, `book_of`: the customer's current
steward, admins, and the agents on duty for the customer's estate. The book is keyed by the
resident, so a handover passes it on to the new steward whole.
"""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from community.book.models import CustomerHealth, CustomerNote, CustomerTag, FollowUp, HealthAlert
from community.care.models import CareItem
from community.estates import services as estates
from community.estates.models import Engineer
from community.orders.models import Complaint, ServiceOrder, ServiceReview
from community.products.models import MaintenancePlan, Product, ProductModel
from community.service_types import SERVICE_TYPES
from community.stewards import services as stewards
from community.stewards.models import StewardBinding, Visit
from core.accounts import services as accounts
from core.accounts.models import User
from core.accounts.services import Principal
from core.db import UTCDateTime, dialect_insert, insert_or_nothing, utcnow
from core.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed, invalid
from core.extensions import db
from core.formatting import BUSINESS_TZ
from core.notifications import services as notifications
from core.notifications.models import SubscriptionQuota
from core.pagination import Page, decode_cursor, encode_cursor, paginate


def business_today() -> date:
    return datetime.now(BUSINESS_TZ).date()


def _day_start(day: date) -> datetime:
    """The first instant of a business day (Asia/Shanghai), as an aware datetime."""
    return datetime.combine(day, time(0), BUSINESS_TZ)


def _clean_text(value: str | None, field: str, most: int, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise invalid(field, f"请填写{what}")
    if len(text) > most:
        raise invalid(field, f"{what}最多 {most} 个字")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise invalid(field, f"{what}含有无效字符")
    return text


# -- who may read and write a customer's book -----------------------------------------------------

NOT_FOUND = "客户不存在"


@dataclass
class Book:
    """A customer's book as one caller may use it."""
    resident: User
    binding: StewardBinding  # the customer's latest steward binding (active, or ended)
    access: str  # steward | admin | agent

    @property
    def bound(self) -> bool:
        """The customer has a steward now (the binding is active)."""
        return self.binding.ended_at is None

    @property
    def steward_id(self) -> int | None:
        return self.binding.engineer_id if self.bound else None


def book_of(who: Principal, resident_id: int) -> Book:
    """The book of a customer (a resident who has, or had, a steward) for `who`: their current
    steward, any admin, and the agents on duty for the estate of the customer's latest binding
    (`estates.agents_on_duty`). Any other engineer or agent gets a 404, the same as for a user
    who does not exist (nothing leaks); an engineer who no longer works gets 403 `not_engineer`,
    a resident 403."""
    if not who.has_role("engineer", "admin", "agent"):
        raise Forbidden()
    binding = db.session.scalars(sa.select(StewardBinding).where(StewardBinding.resident_id == resident_id)
                                 .order_by(StewardBinding.id.desc()).limit(1)).first()
    access = None
    if who.has_role("admin"):
        access = "admin"
    elif binding is not None and binding.ended_at is None and who.has_role("engineer"):
        engineer = estates.active_engineer(who.id)
        if engineer is not None and engineer.id == binding.engineer_id:
            access = "steward"
    if access is None and who.has_role("agent") and binding is not None \
            and estates.is_on_duty(who.id, binding.estate_id):
        access = "agent"
    if access is None:
        if who.has_role("engineer") and not who.has_role("agent"):
            stewards.customers_engineer(who)  # an engineer who left: 403, as for their customer list
        raise NotFound(NOT_FOUND, code="customer_not_found")
    if binding is None:
        raise NotFound(NOT_FOUND, code="customer_not_found")
    return Book(resident=binding.resident, binding=binding, access=access)


def customer_detail(who: Principal, resident_id: int) -> dict:
    """A current customer (an active binding) with the steward's visits, their estates, health and
    tags, for whoever may read the book (a customer without a steward now: 404)."""
    book = book_of(who, resident_id)
    if not book.bound:
        raise NotFound(NOT_FOUND, code="customer_not_found")
    detail = stewards.customer_of(who, resident_id, book.binding.engineer_id)
    return {"detail": detail, "resident": detail.resident, "binding": detail.binding, "estates": detail.estates,
            "visits": detail.visits, "health": health_view(health_of(resident_id)), "tags": tags_of(resident_id),
            "access": book.access}


# -- notes ----------------------------------------------------------------------------------------

NOTE_MAX = 1000


def add_note(who: Principal, resident_id: int, text: str) -> CustomerNote:
    book = book_of(who, resident_id)
    text = _clean_text(text, "text", NOTE_MAX, "备注")
    engineer = estates.active_engineer(who.id) if who.has_role("engineer") else None
    note = CustomerNote(resident_id=book.resident.id, author_id=who.id, text=text,
                        engineer_id=engineer.id if engineer else None)
    db.session.add(note)
    db.session.flush()
    _with_authors([note])
    return note


def notes_of(who: Principal, resident_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """A customer's notes, newest first, by every author (the book follows the customer)."""
    book_of(who, resident_id)
    page = paginate(sa.select(CustomerNote).where(CustomerNote.resident_id == resident_id), [CustomerNote.id],
                    limit=limit, cursor=cursor)
    _with_authors(page.items)
    return page


def _author_names(user_ids) -> dict[int, str]:
    """Who wrote something, as staff read it: the engineer's name, else the account's name."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    names = {u.id: u.display_name or u.username or f"用户 #{u.id}" for u in accounts.users_by_id(ids).values()}
    names.update(dict(db.session.execute(sa.select(Engineer.user_id, Engineer.name).where(
        Engineer.user_id.in_(ids))).all()))
    return names


def _with_authors(items) -> None:
    names = _author_names(i.author_id for i in items)
    for item in items:
        item.author_name = names.get(item.author_id, "")  # for responses, never stored


# -- tags -----------------------------------------------------------------------------------------

TAG_MAX = 16
TAGS_MAX = 20
# Offered on the customer's page; any other short word does too.
SUGGESTED_TAGS = ("VIP", "老人独居", "有宠物", "白天不在家", "需提前电话", "多套房产", "价格敏感", "意见领袖")


def tags_of(resident_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(CustomerTag.tag).where(CustomerTag.resident_id == resident_id)
                                   .order_by(CustomerTag.created_at, CustomerTag.tag)))


def customer_tags(who: Principal, resident_id: int) -> list[str]:
    book_of(who, resident_id)
    return tags_of(resident_id)


def _clean_tag(tag: str | None) -> str:
    tag = " ".join((tag or "").split())
    if not tag:
        raise invalid("tag", "请填写标签")
    if len(tag) > TAG_MAX:
        raise invalid("tag", f"标签最多 {TAG_MAX} 个字")
    if "/" in tag or any(unicodedata.category(c) == "Cc" for c in tag):
        raise invalid("tag", "标签不能含有 / 或控制字符")
    return tag


def add_tag(who: Principal, resident_id: int, tag: str) -> list[str]:
    """Label a customer; the same tag again changes nothing. Returns the customer's tags."""
    book = book_of(who, resident_id)
    tag = _clean_tag(tag)
    have = tags_of(book.resident.id)
    if tag not in have:
        if len(have) >= TAGS_MAX:
            raise Conflict(f"每位客户最多 {TAGS_MAX} 个标签", code="too_many_tags")
        insert_or_nothing(CustomerTag, {"resident_id": book.resident.id, "tag": tag, "created_by_id": who.id,
                                        "created_at": utcnow()}, conflict=["resident_id", "tag"])
    return tags_of(book.resident.id)


def remove_tag(who: Principal, resident_id: int, tag: str) -> list[str]:
    """Take a label off (one that is not there: nothing to do). Returns the customer's tags."""
    book = book_of(who, resident_id)
    db.session.execute(sa.delete(CustomerTag).where(CustomerTag.resident_id == book.resident.id,
                                                    CustomerTag.tag == " ".join((tag or "").split())))
    return tags_of(book.resident.id)


# -- follow-ups -----------------------------------------------------------------------------------

FOLLOW_UP_MAX = 500
FOLLOW_UP_DAYS_AHEAD = 366
FOLLOW_UP_STATUSES = {"open": "待跟进", "overdue": "已逾期", "done": "已完成"}


def add_follow_up(who: Principal, resident_id: int, due_on: date, text: str) -> FollowUp:
    """Something to do for the customer by a date: it lands on the list of the customer's steward."""
    book = book_of(who, resident_id)
    text = _clean_text(text, "text", FOLLOW_UP_MAX, "跟进内容")
    today = business_today()
    if not isinstance(due_on, date):
        raise invalid("due_on", "请选择跟进日期")
    if due_on < today:
        raise invalid("due_on", "跟进日期不能早于今天")
    if due_on > today + timedelta(days=FOLLOW_UP_DAYS_AHEAD):
        raise invalid("due_on", "跟进日期最多在一年之内")
    follow_up = FollowUp(resident_id=book.resident.id, engineer_id=book.steward_id, author_id=who.id,
                         due_on=due_on, text=text)
    db.session.add(follow_up)
    db.session.flush()
    _with_follow_up_context([follow_up])
    return follow_up


def complete_follow_up(who: Principal, follow_up_id: int) -> FollowUp:
    """Mark a follow-up done (again: it stays done as it was)."""
    follow_up = db.session.get(FollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound("跟进事项不存在", code="follow_up_not_found")
    try:
        book_of(who, follow_up.resident_id)
    except NotFound:
        raise NotFound("跟进事项不存在", code="follow_up_not_found") from None
    db.session.execute(sa.update(FollowUp).where(FollowUp.id == follow_up_id, FollowUp.done_at.is_(None))
                       .values(done_at=utcnow(), done_by_id=who.id).execution_options(synchronize_session=False))
    db.session.refresh(follow_up)
    _with_follow_up_context([follow_up])
    return follow_up


def follow_ups_of_customer(who: Principal, resident_id: int, *, done_limit: int = 10) -> list[FollowUp]:
    """One customer's follow-ups: the open ones by due date, then the latest done."""
    book_of(who, resident_id)
    base = sa.select(FollowUp).where(FollowUp.resident_id == resident_id)
    items = list(db.session.scalars(base.where(FollowUp.done_at.is_(None)).order_by(FollowUp.due_on, FollowUp.id)))
    items += list(db.session.scalars(base.where(FollowUp.done_at.is_not(None))
                                     .order_by(FollowUp.done_at.desc(), FollowUp.id.desc()).limit(done_limit)))
    _with_follow_up_context(items)
    return items


def my_follow_ups(who: Principal, status: str = "open", *, limit: int = 20, cursor: str | None = None,
                  today: date | None = None) -> Page:
    """The follow-ups of the engineer's current customers (whoever wrote them: the list follows
    the customer): open and overdue by due date, soonest first; done by due date, latest first."""
    engineer = stewards.customers_engineer(who)
    today = today or business_today()
    stmt = sa.select(FollowUp).join(StewardBinding, sa.and_(
        StewardBinding.resident_id == FollowUp.resident_id, StewardBinding.ended_at.is_(None),
        StewardBinding.engineer_id == engineer.id))
    if status == "done":
        stmt = stmt.where(FollowUp.done_at.is_not(None))
    else:
        stmt = stmt.where(FollowUp.done_at.is_(None))
        if status == "overdue":
            stmt = stmt.where(FollowUp.due_on < today)
    page = _date_page(stmt, FollowUp.due_on, FollowUp.id, limit=limit, cursor=cursor, descending=status == "done")
    _with_follow_up_context(page.items)
    for item in page.items:
        item.overdue = item.done_at is None and item.due_on < today
    return page


def follow_up_counts(who: Principal, today: date | None = None) -> dict[str, int]:
    """How many follow-ups of the engineer's customers are open, and overdue (one statement)."""
    engineer = stewards.customers_engineer(who)
    today = today or business_today()
    row = db.session.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((FollowUp.due_on < today, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((FollowUp.due_on <= today, 1), else_=0)), 0))
        .select_from(FollowUp).join(StewardBinding, sa.and_(
            StewardBinding.resident_id == FollowUp.resident_id, StewardBinding.ended_at.is_(None),
            StewardBinding.engineer_id == engineer.id)).where(FollowUp.done_at.is_(None))).one()
    return {"open": row[0], "overdue": row[1], "due": row[2]}


def _with_follow_up_context(items) -> None:
    names = dict(db.session.execute(sa.select(User.id, User.display_name).where(
        User.id.in_({i.resident_id for i in items}))).all()) if items else {}
    authors = _author_names(i.author_id for i in items)
    today = business_today()
    for item in items:  # for responses, never stored
        item.resident_name = names.get(item.resident_id) or f"住户 #{item.resident_id}"
        item.author_name = authors.get(item.author_id, "")
        item.overdue = item.done_at is None and item.due_on < today


def _date_page(stmt: sa.Select, day: sa.ColumnElement, id_: sa.ColumnElement, *, limit: int, cursor: str | None,
               descending: bool) -> Page:
    """Keyset pagination on (a date, id): the cursor carries the date as ISO text."""
    if cursor:
        raw_day, after_id = decode_cursor(cursor, 2, [str, int])
        try:
            after_day = date.fromisoformat(raw_day)
        except ValueError:
            raise BadRequest("分页游标无效", code="invalid_cursor",
                             details={"fields": {"cursor": ["分页游标无效"]}}) from None
        if descending:
            stmt = stmt.where(sa.or_(day < after_day, sa.and_(day == after_day, id_ < after_id)))
        else:
            stmt = stmt.where(sa.or_(day > after_day, sa.and_(day == after_day, id_ > after_id)))
    order = [day.desc(), id_.desc()] if descending else [day.asc(), id_.asc()]
    rows = list(db.session.scalars(stmt.order_by(*order).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    return Page(rows, encode_cursor([getattr(last, day.key).isoformat(), getattr(last, id_.key)]) if more else None)


# -- the timeline ---------------------------------------------------------------------------------

TIMELINE_KINDS = {
    "visit": "上门扫码", "binding_started": "成为客户", "binding_ended": "管家变更", "order_requested": "报修/预约",
    "order_completed": "服务完成", "review": "评价", "complaint": "投诉", "complaint_resolved": "投诉处理",
    "product": "登记产品", "care_generated": "保养提醒", "care_booked": "保养预约", "care_outcome": "保养结果",
    "note": "备注", "follow_up": "跟进计划", "follow_up_done": "跟进完成", "health_alert": "健康预警",
}
START_REASONS = {"scan": "上门扫码", "takeover": "上门扫码（接管）", "reassigned": "管理员转交", "handover": "离职交接",
                 "requested": "住户申请更换"}
END_REASONS = {"takeover": "被其他工程师接管", "reassigned": "管理员转交", "engineer_left": "工程师离职",
               "refused": "住户拒绝交接", "dropped": "住户解除", "changed": "住户申请更换"}
CARE_OUTCOMES = {"done": "已完成", "done_elsewhere": "已在别处完成", "declined": "客户婉拒", "snoozed": "暂缓",
                 "cancelled": "已取消", "open": "待处理", "booked": "已预约"}


def _events(resident_id: int) -> sa.Subquery:
    """Every event of a customer as (kind, at, id): one UNION ALL, each part on an index by resident."""
    def part(kind: str, at, id_, *where, join=None, table=None):
        stmt = sa.select(sa.literal(kind, sa.String(32)).label("kind"), sa.type_coerce(at, UTCDateTime()).label("at"),
                         id_.label("id"))
        if table is not None:
            stmt = stmt.select_from(table)
        if join is not None:
            stmt = stmt.join(*join)
        return stmt.where(*where)

    b, o, c = StewardBinding, ServiceOrder, CareItem
    parts = [
        part("visit", Visit.created_at, Visit.id, Visit.resident_id == resident_id),
        part("binding_started", b.started_at, b.id, b.resident_id == resident_id),
        part("binding_ended", b.ended_at, b.id, b.resident_id == resident_id, b.ended_at.is_not(None)),
        part("order_requested", o.requested_at, o.id, o.resident_id == resident_id),
        part("order_completed", o.completed_at, o.id, o.resident_id == resident_id, o.completed_at.is_not(None),
             o.status == "completed"),
        part("review", ServiceReview.created_at, ServiceReview.id, ServiceReview.resident_id == resident_id),
        part("complaint", Complaint.created_at, Complaint.id, Complaint.resident_id == resident_id),
        part("complaint_resolved", Complaint.resolved_at, Complaint.id, Complaint.resident_id == resident_id,
             Complaint.resolved_at.is_not(None)),
        part("product", Product.created_at, Product.id, Product.owner_id == resident_id),
        part("care_generated", c.created_at, c.id, c.resident_id == resident_id),
        part("care_booked", o.requested_at, c.id, c.resident_id == resident_id, table=c, join=(o, o.id == c.order_id)),
        part("care_outcome", sa.func.coalesce(c.outcome_at, c.updated_at), c.id, c.resident_id == resident_id,
             c.status.in_(("done", "done_elsewhere", "declined", "snoozed", "cancelled"))),
        part("note", CustomerNote.created_at, CustomerNote.id, CustomerNote.resident_id == resident_id),
        part("follow_up", FollowUp.created_at, FollowUp.id, FollowUp.resident_id == resident_id),
        part("follow_up_done", FollowUp.done_at, FollowUp.id, FollowUp.resident_id == resident_id,
             FollowUp.done_at.is_not(None)),
        part("health_alert", HealthAlert.created_at, HealthAlert.id, HealthAlert.resident_id == resident_id),
    ]
    return sa.union_all(*parts).subquery("events")


@dataclass
class TimelineEntry:
    kind: str
    at: datetime
    title: str
    detail: str
    links: dict


def timeline(who: Principal, resident_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """One list of everything that happened with a customer, newest first, cursor-paginated on
    (at, kind, id): visits, stewards gained and lost, orders requested and completed, reviews,
    complaints, products registered, care items (generated, booked, their outcome), notes,
    follow-ups and health alerts."""
    book_of(who, resident_id)
    events = _events(resident_id)
    stmt = sa.select(events.c.kind, events.c.at, events.c.id)
    if cursor:
        raw_at, after_kind, after_id = decode_cursor(cursor, 3, [str, str, int])
        try:
            after_at = datetime.fromisoformat(raw_at)
        except ValueError:
            after_at = None
        if after_at is None or after_at.tzinfo is None:
            raise BadRequest("分页游标无效", code="invalid_cursor", details={"fields": {"cursor": ["分页游标无效"]}})
        at = sa.literal(after_at, UTCDateTime())
        stmt = stmt.where(sa.or_(events.c.at < at, sa.and_(events.c.at == at, sa.or_(
            events.c.kind < after_kind, sa.and_(events.c.kind == after_kind, events.c.id < after_id)))))
    rows = db.session.execute(stmt.order_by(events.c.at.desc(), events.c.kind.desc(), events.c.id.desc())
                              .limit(limit + 1)).all()
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = encode_cursor([rows[-1].at.isoformat(), rows[-1].kind, rows[-1].id]) if more else None
    return Page(_describe(rows), next_cursor)


def _load(model, ids) -> dict:
    return {row.id: row for row in db.session.scalars(sa.select(model).where(model.id.in_(ids)))} if ids else {}


def _stars(rating: int | None) -> str:
    return "★" * rating + "☆" * (5 - rating) if rating else ""


def _short(text: str | None, most: int = 120) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= most else text[:most - 1] + "…"


def _describe(rows) -> list[TimelineEntry]:
    """Titles and details of a page of events: one query per kind of row on the page."""
    wanted: dict[str, set[int]] = defaultdict(set)
    table_of = {"visit": "visit", "binding_started": "binding", "binding_ended": "binding",
                "order_requested": "order", "order_completed": "order", "review": "review",
                "complaint": "complaint", "complaint_resolved": "complaint", "product": "product",
                "care_generated": "care", "care_booked": "care", "care_outcome": "care", "note": "note",
                "follow_up": "follow_up", "follow_up_done": "follow_up", "health_alert": "alert"}
    for row in rows:
        wanted[table_of[row.kind]].add(row.id)
    visits, bindings = _load(Visit, wanted["visit"]), _load(StewardBinding, wanted["binding"])
    reviews, complaints = _load(ServiceReview, wanted["review"]), _load(Complaint, wanted["complaint"])
    cares, notes = _load(CareItem, wanted["care"]), _load(CustomerNote, wanted["note"])
    follow_ups, alerts = _load(FollowUp, wanted["follow_up"]), _load(HealthAlert, wanted["alert"])
    products = _load(Product, wanted["product"] | {c.product_id for c in cares.values()})
    orders = _load(ServiceOrder, wanted["order"] | {r.order_id for r in reviews.values()}
                   | {c.order_id for c in complaints.values()} | {c.order_id for c in cares.values() if c.order_id})
    plans = _load(MaintenancePlan, {c.plan_id for c in cares.values()})
    engineer_ids = ({v.engineer_id for v in visits.values()} | {b.engineer_id for b in bindings.values()}
                    | {o.engineer_id for o in orders.values()} | {n.engineer_id for n in notes.values()})
    names = {e.id: e.name for e in estates.engineers_by_id(engineer_ids).values()}
    authors = _author_names({n.author_id for n in notes.values()} | {f.author_id for f in follow_ups.values()}
                            | {f.done_by_id for f in follow_ups.values()})
    models = {m.id: m for m in db.session.scalars(sa.select(ProductModel).where(
        ProductModel.id.in_({p.model_id for p in products.values()})))} if products else {}
    service = lambda order: SERVICE_TYPES.get(order.service_type, order.service_type) if order else ""  # noqa: E731
    engineer = lambda engineer_id: names.get(engineer_id, "") if engineer_id else ""  # noqa: E731

    def product_name(product):
        if product is None:
            return ""
        return models[product.model_id].name if product.model_id in models else product.serial

    entries = []
    for row in rows:
        kind, links, title, detail = row.kind, {}, TIMELINE_KINDS[row.kind], ""
        if kind == "visit":
            v = visits[row.id]
            links = {"visit_id": v.id, "engineer_id": v.engineer_id}
            title = f"{engineer(v.engineer_id)} 上门扫码"
            detail = " · ".join(filter(None, [f"工单 {v.visit_ref}" if v.visit_ref else "", _stars(v.rating),
                                              _short(v.comment)]))
        elif kind in ("binding_started", "binding_ended"):
            b = bindings[row.id]
            links = {"binding_id": b.id, "engineer_id": b.engineer_id, "estate_id": b.estate_id}
            if kind == "binding_started":
                title = f"成为 {engineer(b.engineer_id)} 的客户"
                detail = f"{START_REASONS.get(b.start_reason, b.start_reason)} · {b.estate.name}"
            else:
                title = f"不再是 {engineer(b.engineer_id)} 的客户"
                detail = END_REASONS.get(b.end_reason, b.end_reason or "")
        elif kind in ("order_requested", "order_completed"):
            o = orders[row.id]
            links = {"order_id": o.id, "engineer_id": o.engineer_id, "product_id": o.product_id}
            if kind == "order_requested":
                title = f"申请{service(o)}服务"
                detail = _short(o.description) or ("已取消" if o.status == "cancelled" else "")
            else:
                title = f"{service(o)}服务完成"
                detail = f"工程师 {engineer(o.engineer_id)}" if o.engineer_id else ""
        elif kind == "review":
            r = reviews[row.id]
            links = {"review_id": r.id, "order_id": r.order_id, "engineer_id": r.engineer_id}
            title = f"评价{service(orders.get(r.order_id))}服务 {_stars(r.rating)}"
            detail = _short(r.text)
        elif kind in ("complaint", "complaint_resolved"):
            c = complaints[row.id]
            links = {"complaint_id": c.id, "order_id": c.order_id}
            title = "投诉" + (f"{service(orders.get(c.order_id))}服务" if c.order_id in orders else "")
            if kind == "complaint_resolved":
                title = "投诉已处理"
            detail = _short(c.resolution if kind == "complaint_resolved" else c.text)
        elif kind == "product":
            p = products[row.id]
            links = {"product_id": p.id}
            title = f"登记产品：{product_name(p)}"
            detail = " · ".join(filter(None, [f"序列号 {p.serial}",
                                              f"保修至 {p.warranty_end.isoformat()}" if p.warranty_end else ""]))
        elif kind.startswith("care_"):
            c = cares[row.id]
            plan = plans.get(c.plan_id)
            links = {"care_item_id": c.id, "product_id": c.product_id, "order_id": c.order_id}
            what = f"{plan.name if plan else '保养'}（{product_name(products.get(c.product_id))}）"
            if kind == "care_generated":
                title, detail = f"待保养：{what}", f"到期日 {c.due_on.isoformat()}"
            elif kind == "care_booked":
                title, detail = f"已预约保养：{what}", f"服务单 #{c.order_id}"
            else:
                title = f"保养{CARE_OUTCOMES.get(c.status, c.status)}：{what}"
                detail = _short(c.outcome_note) or (f"暂缓至 {c.snoozed_until.isoformat()}"
                                                    if c.status == "snoozed" and c.snoozed_until else "")
        elif kind == "note":
            n = notes[row.id]
            links = {"note_id": n.id}
            title, detail = f"{authors.get(n.author_id, '')} 的备注", n.text
        elif kind in ("follow_up", "follow_up_done"):
            f = follow_ups[row.id]
            links = {"follow_up_id": f.id}
            if kind == "follow_up":
                title = f"计划 {f.due_on.isoformat()} 前跟进（{authors.get(f.author_id, '')}）"
            else:
                title = f"跟进完成（{authors.get(f.done_by_id, '')}）"
            detail = f.text
        elif kind == "health_alert":
            a = alerts[row.id]
            links = {"alert_id": a.id}
            title = f"健康分降至 {a.score}（红色预警）"
            detail = "；".join(r.get("text", "") for r in a.reasons or [])
        entries.append(TimelineEntry(kind=kind, at=row.at, title=title, detail=detail,
                                     links={k: v for k, v in links.items() if v is not None}))
    return entries


# -- customer health ------------------------------------------------------------------------------
# The formula (docs/community.md, "Customer health"): 100 minus the points of each signal, at
# least 0. Days count in business days (Asia/Shanghai).

GREEN_FROM, YELLOW_FROM = 70, 40  # green >= 70, yellow 40-69, red < 40
# days since the last contact (the current binding's start, a completed order, a visit): points
CONTACT_STEPS = ((60, 0), (120, 10), (180, 20), (365, 30))
CONTACT_MAX = 40
CARE_POINTS, CARE_MAX = 10, 30  # per open care item past its due date
COMPLAINT_POINTS, COMPLAINT_MAX = 35, 70  # per open complaint
LOW_RATING, LOW_RATING_DAYS = 2, 180  # a rating of 1-2 stars in the last 180 days
LOW_RATING_POINTS, LOW_RATING_MAX = 15, 30
INACTIVE_STEPS = ((90, 0), (180, 10))  # days since the mini-program was last used: points
INACTIVE_MAX = 20
UNSUBSCRIBED_POINTS = 10  # had subscribe-message quota, none left (spent, or refused: WeChat's 43101)

BAND_LABELS = {"red": "红色", "yellow": "黄色", "green": "绿色"}


def band_of(score: int) -> str:
    return "green" if score >= GREEN_FROM else "yellow" if score >= YELLOW_FROM else "red"


def score_of(signals: dict) -> int:
    """The score from the stored signals (the same formula as the SQL in `_scores`)."""
    deduction = (signals.get("contact", 0) + min(CARE_MAX, CARE_POINTS * signals.get("overdue_care", 0))
                 + min(COMPLAINT_MAX, COMPLAINT_POINTS * signals.get("open_complaints", 0))
                 + min(LOW_RATING_MAX, LOW_RATING_POINTS * signals.get("low_ratings", 0))
                 + signals.get("inactive", 0) + UNSUBSCRIBED_POINTS * signals.get("unsubscribed", 0))
    return max(0, 100 - deduction)


def reasons(signals: dict | None) -> list[dict]:
    """What lowered a score, heaviest first: [{signal, points, text}]."""
    signals = signals or {}
    found = []
    contact = signals.get("contact", 0)
    if contact:
        days = {10: 60, 20: 120, 30: 180}.get(contact)
        found.append(("contact", contact, f"超过 {days} 天未联系或服务" if days else "超过一年未联系或服务"))
    if signals.get("overdue_care"):
        n = signals["overdue_care"]
        found.append(("overdue_care", min(CARE_MAX, CARE_POINTS * n), f"{n} 项保养已逾期"))
    if signals.get("open_complaints"):
        n = signals["open_complaints"]
        found.append(("open_complaints", min(COMPLAINT_MAX, COMPLAINT_POINTS * n), f"{n} 个投诉未处理"))
    if signals.get("low_ratings"):
        n = signals["low_ratings"]
        found.append(("low_ratings", min(LOW_RATING_MAX, LOW_RATING_POINTS * n), f"近 {LOW_RATING_DAYS} 天 {n} 次差评"))
    if signals.get("inactive"):
        points = signals["inactive"]
        found.append(("inactive", points, f"超过 {90 if points == 10 else 180} 天未使用小程序"))
    if signals.get("unsubscribed"):
        found.append(("unsubscribed", UNSUBSCRIBED_POINTS, "订阅消息已用完或被拒收"))
    found.sort(key=lambda r: -r[1])
    return [{"signal": s, "points": p, "text": t} for s, p, t in found]


def _json_object(pairs: dict) -> sa.ColumnElement:
    """A JSON object built in SQL from (constant name, expression) pairs, on either database."""
    fn = sa.func.json_build_object if db.session.get_bind().dialect.name == "postgresql" else sa.func.json_object
    args = []
    for name, value in pairs.items():
        args += [sa.literal_column(f"'{name}'"), value]
    return fn(*args, type_=sa.JSON)


def _scores(today: date, now: datetime, resident_ids: list[int] | None) -> sa.Select:
    """One row per active steward binding (restricted to `resident_ids` when given): resident,
    steward, estate, score, band, signals, computed now. Aggregated subqueries, no Python loop."""
    def only(column):
        return column.in_(resident_ids) if resident_ids is not None else sa.true()

    def ago(days: int) -> datetime:
        return _day_start(today - timedelta(days=days))

    b, o = StewardBinding, ServiceOrder
    done = sa.select(o.resident_id.label("rid"), sa.func.max(o.completed_at).label("at")).where(
        o.status == "completed", only(o.resident_id)).group_by(o.resident_id).subquery("done")
    visited = sa.select(Visit.resident_id.label("rid"), sa.func.max(Visit.created_at).label("at")).where(
        only(Visit.resident_id)).group_by(Visit.resident_id).subquery("visited")
    care = sa.select(CareItem.resident_id.label("rid"), sa.func.count().label("n")).where(
        CareItem.status == "open", CareItem.due_on < today, only(CareItem.resident_id)
    ).group_by(CareItem.resident_id).subquery("care")
    complaints = sa.select(Complaint.resident_id.label("rid"), sa.func.count().label("n")).where(
        Complaint.status == "open", only(Complaint.resident_id)).group_by(Complaint.resident_id).subquery("complaints")
    since = ago(LOW_RATING_DAYS)
    rated = sa.union_all(
        # an order's rating is its review's (given when the review was written) or imported with it
        sa.select(o.resident_id.label("rid")).outerjoin(ServiceReview, ServiceReview.order_id == o.id).where(
            o.rating <= LOW_RATING, sa.func.coalesce(ServiceReview.created_at, o.completed_at) >= since,
            only(o.resident_id)),
        sa.select(Visit.resident_id).where(Visit.rating <= LOW_RATING, Visit.created_at >= since,
                                           only(Visit.resident_id))).subquery("rated")
    low = sa.select(rated.c.rid, sa.func.count().label("n")).group_by(rated.c.rid).subquery("low")
    q = SubscriptionQuota
    quota = sa.select(q.user_id.label("rid"), sa.func.sum(q.remaining).label("left")).where(
        only(q.user_id)).group_by(q.user_id).subquery("quota")

    def contacted_since(days: int):
        cut = ago(days)
        return sa.or_(b.started_at >= cut, done.c.at >= cut, visited.c.at >= cut)

    contact = sa.case(*[(contacted_since(days), points) for days, points in CONTACT_STEPS], else_=CONTACT_MAX)

    def active_since(days: int):
        return sa.or_(User.last_active_on >= today - timedelta(days=days),
                      sa.and_(User.last_active_on.is_(None), User.created_at >= ago(days)))

    inactive = sa.case(*[(active_since(days), points) for days, points in INACTIVE_STEPS], else_=INACTIVE_MAX)
    unsubscribed = sa.case((sa.and_(quota.c.left.is_not(None), quota.c.left == 0), 1), else_=0)
    signals = sa.select(
        b.resident_id, b.engineer_id, b.estate_id, contact.label("contact"),
        sa.func.coalesce(care.c.n, 0).label("overdue_care"),
        sa.func.coalesce(complaints.c.n, 0).label("open_complaints"),
        sa.func.coalesce(low.c.n, 0).label("low_ratings"), inactive.label("inactive"),
        unsubscribed.label("unsubscribed"),
    ).select_from(b).join(User, User.id == b.resident_id) \
        .outerjoin(done, done.c.rid == b.resident_id).outerjoin(visited, visited.c.rid == b.resident_id) \
        .outerjoin(care, care.c.rid == b.resident_id).outerjoin(complaints, complaints.c.rid == b.resident_id) \
        .outerjoin(low, low.c.rid == b.resident_id).outerjoin(quota, quota.c.rid == b.resident_id) \
        .where(b.ended_at.is_(None), only(b.resident_id)).subquery("signals")
    s = signals.c

    def capped(count, points, most):
        return sa.case((count * points >= most, most), else_=count * points)

    deduction = (s.contact + capped(s.overdue_care, CARE_POINTS, CARE_MAX)
                 + capped(s.open_complaints, COMPLAINT_POINTS, COMPLAINT_MAX)
                 + capped(s.low_ratings, LOW_RATING_POINTS, LOW_RATING_MAX)
                 + s.inactive + s.unsubscribed * UNSUBSCRIBED_POINTS)
    scored = sa.select(*s, sa.case((deduction >= 100, 0), else_=100 - deduction).label("score")).subquery("scored")
    c = scored.c
    band = sa.case((c.score >= GREEN_FROM, "green"), (c.score >= YELLOW_FROM, "yellow"), else_="red")
    at = sa.literal(now, UTCDateTime())
    return sa.select(c.resident_id, c.engineer_id, c.estate_id, c.score, band.label("band"), _json_object({
        "contact": c.contact, "overdue_care": c.overdue_care, "open_complaints": c.open_complaints,
        "low_ratings": c.low_ratings, "inactive": c.inactive, "unsubscribed": c.unsubscribed,
    }).label("signals"), at.label("band_since"), at.label("computed_at")).where(sa.true())


HEALTH_COLUMNS = ["resident_id", "engineer_id", "estate_id", "score", "band", "signals", "band_since", "computed_at"]


def _recompute(today: date | None, resident_ids: list[int] | None) -> dict:
    today = today or business_today()
    now = utcnow()
    t = CustomerHealth.__table__
    insert = dialect_insert()(t).from_select(HEALTH_COLUMNS, _scores(today, now, resident_ids))
    new = insert.excluded
    changed = t.c.score != new.score
    db.session.execute(insert.on_conflict_do_update(index_elements=["resident_id"], set_={
        "engineer_id": new.engineer_id, "estate_id": new.estate_id,
        # the previous score is the one before the last change (recomputing an unchanged score keeps the trend)
        "previous_score": sa.case((changed, t.c.score), else_=t.c.previous_score),
        "previous_band": sa.case((changed, t.c.band), else_=t.c.previous_band),
        "score": new.score, "band": new.band, "signals": new.signals,
        "band_since": sa.case((t.c.band != new.band, new.band_since), else_=t.c.band_since),
        "computed_at": new.computed_at}))
    scored = db.session.scalar(sa.select(sa.func.count()).select_from(t).where(
        t.c.computed_at == now, t.c.resident_id.in_(resident_ids) if resident_ids is not None else sa.true()))
    # A customer without a steward now has no score; an alert still open for them closes.
    bound = sa.select(StewardBinding.id).where(StewardBinding.resident_id == t.c.resident_id,
                                               StewardBinding.ended_at.is_(None)).exists()
    only = t.c.resident_id.in_(resident_ids) if resident_ids is not None else sa.true()
    removed = db.session.execute(sa.delete(t).where(~bound, only)).rowcount
    a = HealthAlert.__table__
    bound_alert = sa.select(StewardBinding.id).where(StewardBinding.resident_id == a.c.resident_id,
                                                     StewardBinding.ended_at.is_(None)).exists()
    db.session.execute(sa.update(a).where(
        a.c.status == "open", ~bound_alert, a.c.resident_id.in_(resident_ids) if resident_ids is not None else sa.true()
    ).values(status="handled", handled_at=now, handled_note="客户已没有管家，预警自动关闭"))
    alerts = _raise_alerts(now, resident_ids)
    db.session.expire_all()
    return {"scored": scored, "removed": removed, "alerts": alerts}


def recompute_health(today: date | None = None) -> dict:
    """Score every customer with an active steward binding (a few set-based statements), drop the
    scores of customers without one, and raise an alert for each customer who turned red."""
    return _recompute(today, None)


def recompute_customer_health(resident_id: int, today: date | None = None) -> CustomerHealth | None:
    """The same computation restricted to one customer (equal to their row after a full rebuild)."""
    _recompute(today, [resident_id])
    return health_of(resident_id)


ALERT_CHUNK = 1000


def _raise_alerts(now: datetime, resident_ids: list[int] | None) -> int:
    """One open alert for each customer whose band turned red in this run (`band_since` is now;
    a first score counts), unless one is open already; then one inbox notice per recipient."""
    t = CustomerHealth
    stmt = sa.select(t.resident_id, t.engineer_id, t.estate_id, t.score, t.signals).where(
        t.band == "red", t.band_since == now)
    if resident_ids is not None:
        stmt = stmt.where(t.resident_id.in_(resident_ids))
    rows = db.session.execute(stmt).all()
    created = []
    for start in range(0, len(rows), ALERT_CHUNK):
        values = [{"resident_id": r.resident_id, "engineer_id": r.engineer_id, "estate_id": r.estate_id,
                   "score": r.score, "reasons": reasons(r.signals), "status": "open", "created_at": now}
                  for r in rows[start:start + ALERT_CHUNK]]
        a = HealthAlert.__table__
        created += db.session.execute(dialect_insert()(a).values(values).on_conflict_do_nothing(
            index_elements=["resident_id"], index_where=sa.text("status = 'open'")).returning(
            a.c.id, a.c.resident_id, a.c.engineer_id, a.c.estate_id, a.c.score)).all()
    if created:
        _notify_alerts(created)
    return len(created)


def _notify_alerts(alerts) -> None:
    """The steward and the agents on duty for the estate hear of each new alert: one inbox
    notice per person per run (several customers in one notice)."""
    engineers = estates.engineers_by_id({a.engineer_id for a in alerts})
    stewards_of = {e.id: e.user_id for e in engineers.values()}
    engineer_names = {e.id: e.name for e in engineers.values()}
    on_duty = estates.agents_on_duty_for({a.estate_id for a in alerts})
    names = {}
    ids = sorted({a.resident_id for a in alerts})
    for start in range(0, len(ids), ALERT_CHUNK):
        names.update(dict(db.session.execute(sa.select(User.id, User.display_name).where(
            User.id.in_(ids[start:start + ALERT_CHUNK]))).all()))
    for_steward: dict[int, list] = defaultdict(list)
    for_agent: dict[int, list] = defaultdict(list)
    for alert in alerts:
        steward_user = stewards_of.get(alert.engineer_id)
        if steward_user is not None and steward_user != alert.resident_id:
            for_steward[steward_user].append(alert)
        for agent in on_duty.get(alert.estate_id, []):
            if agent != steward_user:
                for_agent[agent].append(alert)

    def name(alert):
        return names.get(alert.resident_id) or f"住户 #{alert.resident_id}"

    for user_id, mine in for_steward.items():
        if len(mine) == 1:
            body = f"您的客户 {name(mine[0])} 健康分降至 {mine[0].score} 分（红色），请尽快联系。"
            page = f"pages/work/customer/index?id={mine[0].resident_id}"
        else:
            first = "、".join(name(a) for a in mine[:3]) + ("等" if len(mine) > 3 else "")
            body = f"{len(mine)} 位客户健康分转为红色：{first}，请在工作台查看。"
            page = "pages/work/customers/index"
        notifications.notify([user_id], kind="health_alert", title="客户健康预警", body=body, page=page)
    for user_id, theirs in for_agent.items():
        if len(theirs) == 1:
            a = theirs[0]
            body = (f"客户 {name(a)}（管家 {engineer_names.get(a.engineer_id, '')}）健康分降至 {a.score} 分（红色），"
                    f"请协助跟进。")
        else:
            body = f"您值班的小区有 {len(theirs)} 位客户健康分转为红色，请在后台“客户健康”查看。"
        notifications.notify([user_id], kind="health_alert", title="客户健康预警", body=body)


def health_of(resident_id: int) -> CustomerHealth | None:
    return db.session.get(CustomerHealth, resident_id)


def health_view(health: CustomerHealth | None) -> dict | None:
    """A score as responses and pages show it: score, band, previous, trend, since, reasons."""
    if health is None:
        return None
    return {"score": health.score, "band": health.band, "band_label": BAND_LABELS[health.band],
            "previous_score": health.previous_score, "previous_band": health.previous_band,
            "trend": health.score - health.previous_score if health.previous_score is not None else None,
            "band_since": health.band_since, "computed_at": health.computed_at, "reasons": reasons(health.signals)}


# -- the customer list with health ------------------------------------------------------------------

UNSCORED = 101  # sorts customers without a score yet after every scored one


def customers_with_health(who: Principal, engineer_id: int | None = None, *, estate_id: int | None = None,
                          q: str | None = None, health: str | None = None, sort: str | None = None,
                          limit: int = 20, cursor: str | None = None) -> Page:
    """An engineer's current customers (stewards.customers_query: who may see them, estate, search)
    with their health; `health` keeps one band; `sort=health` puts the lowest scores first
    (unscored last), else newest first. Each binding carries `health` and `last_visit_at`."""
    engineer, stmt = stewards.customers_query(who, engineer_id, estate_id=estate_id, q=q)
    h = CustomerHealth
    stmt = stmt.outerjoin(h, h.resident_id == StewardBinding.resident_id).add_columns(h)
    if health:
        stmt = stmt.where(h.band == health)
    if sort == "health":
        key = sa.func.coalesce(h.score, UNSCORED)
        page = paginate(stmt, [key, StewardBinding.id], limit=limit, cursor=cursor, descending=False, scalars=False,
                        key_of=lambda row: [row[1].score if row[1] is not None else UNSCORED, row[0].id])
    else:
        page = paginate(stmt, [StewardBinding.id], limit=limit, cursor=cursor, scalars=False,
                        key_of=lambda row: [row[0].id])
    bindings = []
    for binding, score in page.items:
        binding.health = health_view(score)  # for the response, never stored
        bindings.append(binding)
    stewards.with_last_visits(engineer, bindings)
    return Page(bindings, page.next_cursor)


def band_counts(who: Principal, engineer_id: int | None = None) -> dict[str, int]:
    """How many of an engineer's current customers are in each band (and unscored)."""
    engineer = stewards.customers_engineer(who, engineer_id)
    rows = db.session.execute(sa.select(CustomerHealth.band, sa.func.count()).select_from(StewardBinding).outerjoin(
        CustomerHealth, CustomerHealth.resident_id == StewardBinding.resident_id).where(
        StewardBinding.engineer_id == engineer.id, StewardBinding.ended_at.is_(None)).group_by(CustomerHealth.band))
    counts = {"red": 0, "yellow": 0, "green": 0, "unscored": 0}
    for band, n in rows:
        counts[band or "unscored"] = n
    return counts


# -- alerts ---------------------------------------------------------------------------------------

ALERT_STATUSES = {"open": "待处理", "handled": "已处理"}
HANDLE_NOTE_MAX = 500


def _with_alert_context(alerts) -> None:
    names = dict(db.session.execute(sa.select(User.id, User.display_name).where(
        User.id.in_({a.resident_id for a in alerts}))).all()) if alerts else {}
    engineers = estates.engineers_by_id({a.engineer_id for a in alerts})
    estate_rows = estates.estates_by_id({a.estate_id for a in alerts})
    handlers = _author_names(a.handled_by_id for a in alerts)
    for alert in alerts:  # for responses, never stored
        alert.resident_name = names.get(alert.resident_id) or f"住户 #{alert.resident_id}"
        alert.engineer = engineers.get(alert.engineer_id)
        alert.estate = estate_rows.get(alert.estate_id)
        alert.handled_by_name = handlers.get(alert.handled_by_id, "") if alert.handled_by_id else None


def my_alerts(who: Principal, *, status: str | None = "open", limit: int = 20, cursor: str | None = None) -> Page:
    """The alerts of the engineer's current customers (raised for them or for their previous
    steward: alerts follow the customer), newest first."""
    engineer = stewards.customers_engineer(who)
    stmt = sa.select(HealthAlert).join(StewardBinding, sa.and_(
        StewardBinding.resident_id == HealthAlert.resident_id, StewardBinding.ended_at.is_(None),
        StewardBinding.engineer_id == engineer.id))
    if status:
        stmt = stmt.where(HealthAlert.status == status)
    page = paginate(stmt, [HealthAlert.id], limit=limit, cursor=cursor)
    _with_alert_context(page.items)
    return page


def staff_alerts(who: Principal, *, status: str | None = "open", engineer_id: int | None = None,
                 estate_id: int | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    """Alerts for the console, newest first: an admin sees all, an agent those of the estates they
    are on duty for (`estates.on_duty_for`)."""
    if not who.has_role("admin", "agent"):
        raise Forbidden()
    stmt = sa.select(HealthAlert)
    if not who.has_role("admin"):
        stmt = stmt.where(estates.on_duty_for(who.id, HealthAlert.estate_id))
    if status:
        stmt = stmt.where(HealthAlert.status == status)
    if engineer_id:
        stmt = stmt.where(HealthAlert.engineer_id == engineer_id)
    if estate_id:
        stmt = stmt.where(HealthAlert.estate_id == estate_id)
    page = paginate(stmt, [HealthAlert.id], limit=limit, cursor=cursor)
    _with_alert_context(page.items)
    return page


def customer_alerts(who: Principal, resident_id: int) -> list[HealthAlert]:
    """A customer's open alerts (at most one) and the latest handled ones, for their book."""
    book_of(who, resident_id)
    alerts = list(db.session.scalars(sa.select(HealthAlert).where(HealthAlert.resident_id == resident_id)
                                     .order_by(HealthAlert.id.desc()).limit(5)))
    _with_alert_context(alerts)
    return alerts


def handle_alert(who: Principal, alert_id: int, note: str) -> HealthAlert:
    """The steward, an admin or an agent on duty records what was done about an alert (once)."""
    alert = db.session.get(HealthAlert, alert_id)
    if alert is None:
        raise NotFound("预警不存在", code="alert_not_found")
    try:
        book_of(who, alert.resident_id)
    except NotFound:
        raise NotFound("预警不存在", code="alert_not_found") from None
    note = _clean_text(note, "note", HANDLE_NOTE_MAX, "处理说明")
    done = db.session.execute(sa.update(HealthAlert).where(HealthAlert.id == alert_id, HealthAlert.status == "open")
                              .values(status="handled", handled_by_id=who.id, handled_at=utcnow(), handled_note=note)
                              .execution_options(synchronize_session=False)).rowcount
    if not done:
        raise Conflict("该预警已处理", code="alert_already_handled", details={"status": "handled"})
    db.session.refresh(alert)
    _with_alert_context([alert])
    return alert


# -- the console's figures ------------------------------------------------------------------------------

SUMMARY_BY = ("engineer", "estate")


def health_totals() -> dict[str, int]:
    """Customers per band and open alerts, over all scored customers."""
    counts = dict(db.session.execute(sa.select(CustomerHealth.band, sa.func.count()).group_by(CustomerHealth.band)).all())
    return {"red": counts.get("red", 0), "yellow": counts.get("yellow", 0), "green": counts.get("green", 0),
            "open_alerts": db.session.scalar(sa.select(sa.func.count()).where(HealthAlert.status == "open"))}


def health_summary(by: str = "engineer", *, limit: int = 20, cursor: str | None = None) -> Page:
    """Customers per band by steward or by estate (as of the last recompute), the most red first,
    with each one's open alerts."""
    if by not in SUMMARY_BY:
        raise ValidationFailed("by 应为 engineer 或 estate", details={"fields": {"by": ["应为 engineer 或 estate"]}})
    h = CustomerHealth
    column = h.engineer_id if by == "engineer" else h.estate_id

    def count(band):
        return sa.func.coalesce(sa.func.sum(sa.case((h.band == band, 1), else_=0)), 0)

    grouped = sa.select(column.label("id"), count("red").label("red"), count("yellow").label("yellow"),
                        count("green").label("green"), sa.func.count().label("total")).group_by(column).subquery()
    page = paginate(sa.select(grouped), [grouped.c.red, grouped.c.id], limit=limit, cursor=cursor, scalars=False,
                    key_of=lambda row: [row.red, row.id])
    ids = [row.id for row in page.items]
    alert_column = HealthAlert.engineer_id if by == "engineer" else HealthAlert.estate_id
    open_alerts = dict(db.session.execute(sa.select(alert_column, sa.func.count()).where(
        HealthAlert.status == "open", alert_column.in_(ids)).group_by(alert_column)).all()) if ids else {}
    named = estates.engineers_by_id(ids) if by == "engineer" else estates.estates_by_id(ids)
    items = [{"id": row.id, "name": getattr(named.get(row.id), "name", ""), "red": row.red, "yellow": row.yellow,
              "green": row.green, "total": row.total, "open_alerts": open_alerts.get(row.id, 0)}
             for row in page.items]
    return Page(items, page.next_cursor)
