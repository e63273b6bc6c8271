"""Service requests and orders: request → assigned → scheduled → completed | cancelled, each step by
the right actor with its time; the owner's one review, complaints resolved by agents, likes for
engineers who served the resident; imported history on the same rows.

Every status change is a conditional UPDATE on the expected status, so two actors racing on one
order resolve it once (the loser gets 409 `order_state_changed`).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from community.estates import services as estates
from community.estates.models import Engineer, Estate, Residency
from community.orders.models import Complaint, ServiceOrder, ServiceReview, VisitAnnouncement, VisitSlot
from community.products import services as products
from community.service_types import SERVICE_TYPES
from community.stats import services as stats
from community.stewards import services as stewards
from core import audit, signals
from core.accounts.models import User
from core.accounts.services import Principal
from core.db import MAX_ID, dialect_insert, insert_or_nothing, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed, invalid
from core.extensions import db
from core.formatting import BUSINESS_TZ, localtime, mask_name, mask_phone
from core.models import AuditEntry
from core.notifications import services as notifications
from core.pagination import Page, paginate
from core.uploads import services as uploads
from points import rules, services as points

STATUS_LABELS = {"requested": "待派单", "assigned": "已派单", "scheduled": "已预约", "completed": "已完成",
                 "cancelled": "已取消"}
OPEN = ("requested", "assigned", "scheduled")
MAX_PHOTOS = 9
# Orders the resident placed in the mini-program: only these tell the resident about their steps.
NOTIFIED_SOURCES = ("app", "booking")


def get_order(order_id: int, *, lock: bool = False) -> ServiceOrder:
    stmt = sa.select(ServiceOrder).where(ServiceOrder.id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    order = db.session.scalars(stmt).first()
    if order is None:
        raise NotFound("服务单不存在", code="order_not_found")
    return order


def visible_order(order_id: int, who: Principal) -> ServiceOrder:
    """An order its resident, its engineer, agents and admins may see; anyone else gets 404."""
    order = get_order(order_id)
    if who.has_role("admin", "agent") or order.resident_id == who.id:
        return order
    engineer = estates.active_engineer(who.id) if who.has_role("engineer") else None
    if engineer is not None and order.engineer_id == engineer.id:
        return order
    raise NotFound("服务单不存在", code="order_not_found")


class OrderView:
    """A service order as one actor sees it (made by `order_views`): every field of the order,
    with `contact_phone` in full or masked and the customer's name. Responses and pages show
    orders only through it (ServiceOrderSchema refuses a bare order)."""

    def __init__(self, order: ServiceOrder, *, full: bool, customer_name: str | None,
                 engineer: dict | None = None, review: ServiceReview | None = None):
        self.order = order
        self.phone_full = full
        phone = order.contact_phone or order.resident_phone  # imported orders: the service system's phone
        # mask_phone keeps a number shorter than 7 characters as it is: such a number is hidden whole
        self.contact_phone = phone if full or not phone else (mask_phone(phone) if len(phone) >= 7 else "****")
        self.customer_name = customer_name
        self.engineer = engineer  # {id, name, photo} of the assigned engineer, or None
        self.review = review  # the resident's review, or None

    def __getattr__(self, name):
        return getattr(self.order, name)


def order_views(orders, who: Principal | User | None) -> list[OrderView]:
    """Orders as `who` sees them: the order's resident and its assigned engineer see the contact
    phone in full; everyone else (agents and admins included; None: a system caller) sees it
    masked. Name and address are shown to everyone who may see the order. Each view carries the
    assigned engineer (name and photo, for the resident's order pages) and the order's review.
    At most four queries, whatever the number of orders."""
    orders = list(orders)
    own_engineer = None
    if who is not None and who.has_role("engineer"):
        engineer = estates.active_engineer(who.id)
        own_engineer = engineer.id if engineer is not None else None
    resident_ids = {o.resident_id for o in orders if o.resident_id is not None}
    names = dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(resident_ids)))
                 .all()) if resident_ids else {}
    engineer_ids = {o.engineer_id for o in orders if o.engineer_id is not None}
    engineers = {row.id: {"id": row.id, "name": row.name, "photo": row.photo} for row in db.session.execute(
        sa.select(Engineer.id, Engineer.name, Engineer.photo).where(Engineer.id.in_(engineer_ids)))} \
        if engineer_ids else {}
    completed = [o.id for o in orders if o.status == "completed" and o.resident_id is not None]
    reviews = {r.order_id: r for r in db.session.scalars(
        sa.select(ServiceReview).where(ServiceReview.order_id.in_(completed)))} if completed else {}
    return [OrderView(o, full=who is not None and (o.resident_id == who.id or (
        own_engineer is not None and o.engineer_id == own_engineer)),
        customer_name=(names.get(o.resident_id) or "").strip() or o.contact_name or None,
        engineer=engineers.get(o.engineer_id), review=reviews.get(o.id)) for o in orders]


def order_view(order: ServiceOrder, who: Principal | User | None) -> OrderView:
    return order_views([order], who)[0]


def view_page(page: Page, who: Principal | User | None) -> Page:
    return Page(order_views(page.items, who), page.next_cursor, page.prev_cursor)


def best_engineer(estate_id: int) -> int | None:
    """Dispatch: the best-ranked active engineer covering the estate (the ranking's order)."""
    ranked = stats.ranking(estate_id, limit=1, activated_only=True)
    return ranked[0]["engineer"]["id"] if ranked else None


def _one_line(text: str | None) -> str:
    """Text on one line: control characters (newlines included) and runs of spaces become one space."""
    return " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c for c in text or "").split())


def _where_and_whom(user: User, estate_id: int, *, address_id: int | None, address: str | None,
                    contact_name: str | None, contact_phone: str | None) -> dict:
    """The order's copies of where and whom: an address from the caller's address book (its
    estate must be the order's) or one written out; the contact given, else the address book's,
    else (the phone) the caller's own."""
    book = None
    address = _one_line(address)
    if address_id is not None:
        book = estates.address_of(user.id, address_id)  # 404 unless it is the caller's own
        if book.estate_id != estate_id:
            raise invalid("address_id", "该地址不在所选小区，请选择本小区的地址")
        if address:
            raise invalid("address", "已选择地址簿中的地址，请勿再填写地址")
        address = _one_line(estates.address_text(book))[:255]
    if len(address) > 255:
        raise invalid("address", "地址不能超过 255 个字")
    name = _one_line(contact_name) or (book.contact_name if book is not None else "") or None
    if name is not None and len(name) > 32:
        raise invalid("contact_name", "联系人姓名不能超过 32 个字")
    phone = re.sub(r"[\s-]", "", contact_phone or "")
    if phone and not (phone.isascii() and estates.PHONE_RE.match(phone)):  # \d also matches "１３８…"
        raise invalid("contact_phone", "请填写 11 位手机号")
    phone = phone or (book.contact_phone if book is not None else None) or user.phone or None
    return {"address": address, "contact_name": name, "contact_phone": phone}


def request_service(user: User, estate_id: int, service_type: str, description: str = "", *,
                    preferred_engineer_id: int | None = None, preferred_slot: str | None = None,
                    address_id: int | None = None, address: str | None = None, contact_name: str | None = None,
                    contact_phone: str | None = None, photos: list[str] | None = None,
                    product_id: int | None = None, coupon_id: int | None = None) -> ServiceOrder:
    """A resident asks for service at one of their estates, optionally naming the engineer, with
    where (an address of their address book, or written out), whom to call and photos; `product_id`
    names the appliance serviced: one of the resident's own products in use (else 404), whose care
    schedule advances when the order completes; `coupon_id` one of the resident's coupons, held for
    the order (core.signals.coupon_for_order: activation checks and locks it, or refuses)."""
    estate = db.session.get(Estate, estate_id)
    if estate is None:
        raise NotFound("小区不存在", code="estate_not_found")
    if product_id is not None:
        products.own_product(user.id, product_id, active=True)
    if not estates.is_resident(user.id, estate_id):
        raise Forbidden("只有该小区的住户可以为这里申请服务", code="not_a_resident")
    if service_type not in SERVICE_TYPES:
        raise invalid("service_type", f"服务类型须为：{'、'.join(SERVICE_TYPES)}")
    description = (description or "").strip()
    if len(description) > 1000:
        raise invalid("description", "描述不能超过 1000 字")
    contact = _where_and_whom(user, estate_id, address_id=address_id, address=address, contact_name=contact_name,
                              contact_phone=contact_phone)
    photos = uploads.require_own_photos(user.id, photos, field="photos", most=MAX_PHOTOS)
    engineer = None
    if preferred_engineer_id is not None:
        engineer = db.session.get(Engineer, preferred_engineer_id)
        if engineer is not None and engineer.status == "invited" and estates.covers(engineer, estate_id):
            # In the ranking by their imported history, but nobody can serve through an account not yet claimed.
            message = "该工程师尚未激活账号，暂不能预约，请选择其他工程师"
            raise Conflict(message, code="engineer_not_activated",
                           details={"fields": {"preferred_engineer_id": [message]}})
        allowed = engineer is not None and engineer.status == "active" and (
            estates.covers(engineer, estate_id) or stewards.steward_engineer_id(user.id) == engineer.id)
        if not allowed:
            raise invalid("preferred_engineer_id", "只能选择服务该小区的工程师或您的管家")
    else:
        dispatched = best_engineer(estate_id)
        engineer = db.session.get(Engineer, dispatched) if dispatched is not None else None
    now = utcnow()
    order = ServiceOrder(source="app", estate_id=estate_id, resident_id=user.id, service_type=service_type,
                         description=description, preferred_engineer_id=preferred_engineer_id,
                         preferred_slot=(preferred_slot or "").strip()[:64] or None, requested_at=now,
                         engineer_id=engineer.id if engineer else None,
                         status="assigned" if engineer else "requested", assigned_at=now if engineer else None,
                         photos=photos, product_id=product_id, **contact)
    db.session.add(order)
    db.session.flush()
    if coupon_id is not None:
        refusal = signals.ask(signals.coupon_for_order, default=invalid("coupon_id", "优惠券暂不可用"), user_id=user.id,
                              coupon_id=coupon_id, order_id=order.id, service_type=service_type, estate_id=estate_id)
        if refusal is not None:
            raise refusal
    stats.on_requested(order)
    if engineer is not None:
        _notify_resident(order, "assigned", engineer=engineer)
    return order


def _transition(order: ServiceOrder, expected: tuple[str, ...], **values) -> ServiceOrder:
    done = db.session.execute(sa.update(ServiceOrder).where(ServiceOrder.id == order.id,
                                                            ServiceOrder.status.in_(expected))
                              .values(updated_at=utcnow(), **values)
                              .execution_options(synchronize_session=False)).rowcount
    if not done:
        db.session.refresh(order)
        raise Conflict(f"服务单当前状态为“{STATUS_LABELS[order.status]}”，不能执行此操作",
                       code="order_state_changed", details={"status": order.status})
    db.session.refresh(order)
    return order


# What the resident is told at each step (docs/community.md, "Order status reaches the resident"):
# the inbox title, the body, and the order-status template's `thing2` detail and `phrase3` status.
NOTICES = {
    "assigned": ("服务单已派单", "您的{kind}服务单（#{id}）已派给{engineer}，师傅会尽快与您联系确定上门时间。",
                 "{kind} {engineer}", "已派单"),
    "scheduled": ("已预约上门时间", "{engineer}将于{when}上门为您提供{kind}服务（服务单 #{id}）。",
                  "{kind} {when}上门", "已预约"),
    "rescheduled": ("上门时间已更改", "{engineer}已将上门时间改为{when}（{kind}服务单 #{id}）。",
                    "{kind} {when}上门", "已改约"),
    "completed": ("服务已完成", "{engineer}已完成您的{kind}服务（服务单 #{id}），欢迎评价。",
                  "{kind} {engineer}", "已完成"),
    "cancelled": ("服务单已取消", "您的{kind}服务单（#{id}）已被{by}取消，原因：{reason}。",
                  "{kind} {reason}", "已取消"),
}


def _notify_resident(order: ServiceOrder, event: str, *, engineer: Engineer | None = None, by: str = "") -> None:
    """Tell the order's resident about a step of it: an inbox notice always, a subscribe message
    (the order-status template, purpose "order") when they hold quota; in the caller's
    transaction, so the step and its notice commit together. Only orders the resident placed in
    the mini-program notify: imported and integrated orders are linked to an account by phone."""
    if order.resident_id is None or order.source not in NOTIFIED_SOURCES:
        return
    if engineer is None and order.engineer_id is not None:
        engineer = db.session.get(Engineer, order.engineer_id)
    when = order.scheduled_for.astimezone(BUSINESS_TZ) if order.scheduled_for else None
    words = {"id": order.id, "kind": SERVICE_TYPES.get(order.service_type, order.service_type),
             "engineer": f"{engineer.name}师傅" if engineer else "工程师", "by": by,
             "when": f"{when.month}月{when.day}日 {when:%H:%M}" if when else "",
             "reason": _one_line(order.cancel_reason)}
    title, body, detail, status = NOTICES[event]
    notifications.notify(
        [order.resident_id], kind="order", title=title, body=body.format(**words), purpose="order",
        page=f"pages/order/index?id={order.id}",
        data={"character_string1": str(order.id), "thing2": detail.format(**words), "phrase3": status,
              "time4": localtime(utcnow())})


def assign(order_id: int, engineer_id: int, actor: User) -> ServiceOrder:
    """An agent or admin (re)assigns an open, unscheduled order to an engineer covering the estate."""
    order = get_order(order_id)
    engineer = db.session.get(Engineer, engineer_id)
    if engineer is None or engineer.status != "active" or not estates.covers(engineer, order.estate_id):
        raise invalid("engineer_id", "只能指派服务该小区的在职工程师")
    before = {"engineer_id": order.engineer_id, "status": order.status}
    _transition(order, ("requested", "assigned"), engineer_id=engineer_id, status="assigned", assigned_at=utcnow())
    audit.record(actor, "service_order.assign", "service_order", order.id, before=before,
                 after={"engineer_id": engineer_id, "status": "assigned"})
    if before != {"engineer_id": engineer_id, "status": "assigned"}:  # the same engineer again: nothing new
        _notify_resident(order, "assigned", engineer=engineer)
    return order


def _own_engineer(order: ServiceOrder, user_id: int) -> Engineer:
    engineer = estates.active_engineer(user_id)
    if engineer is None or order.engineer_id != engineer.id:
        raise NotFound("服务单不存在", code="order_not_found")
    return engineer


def schedule(order_id: int, user: User, scheduled_for: datetime) -> ServiceOrder:
    """The assigned engineer fixes (or moves) the appointment."""
    order = get_order(order_id)
    _own_engineer(order, user.id)
    if scheduled_for <= utcnow():
        raise invalid("scheduled_for", "预约时间须在将来")
    before = (order.status, order.scheduled_for)
    _transition(order, ("assigned", "scheduled"), status="scheduled", scheduled_for=scheduled_for,
                scheduled_at=utcnow())
    if before != ("scheduled", order.scheduled_for):  # the same time again: nothing new
        _notify_resident(order, "rescheduled" if before[0] == "scheduled" else "scheduled")
    return order


def complete(order_id: int, user: User) -> ServiceOrder:
    """The assigned engineer marks the order done: it counts in the ranking from now on."""
    order = get_order(order_id)
    _own_engineer(order, user.id)
    order = _transition(order, ("assigned", "scheduled"), status="completed", completed_at=utcnow())
    stats.on_completed(order)
    if order.product_id is not None:  # the appliance's care schedule counts from this service
        products.record_service(order.product_id, order.service_type, products.business_date(order.completed_at))
    if order.resident_id is not None:
        signals.service_completed.send(resident_id=order.resident_id, order_id=order.id)
    _notify_resident(order, "completed")
    return order


def cancel(order_id: int, who: Principal, reason: str) -> ServiceOrder:
    """The resident (their own), the assigned engineer, an agent or an admin cancels an open order.
    A resident cancelling their booking of an announced visit frees the slot for others, unless
    its time has passed (an engineer, agent or admin cancelling leaves the slot taken: the
    engineer may not be able to come then)."""
    order = get_order(order_id)
    allowed = order.resident_id == who.id or who.has_role("admin", "agent")
    if not allowed and who.has_role("engineer"):
        engineer = estates.active_engineer(who.id)
        allowed = engineer is not None and order.engineer_id == engineer.id
    if not allowed:
        raise NotFound("服务单不存在", code="order_not_found")
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", "请填写取消原因")
    _transition(order, OPEN, status="cancelled", cancelled_at=utcnow(), cancelled_by_id=who.id,
                cancel_reason=reason[:255])
    signals.service_cancelled.send(order_id=order.id)
    if order.source == "booking" and order.resident_id == who.id:
        db.session.execute(sa.update(VisitSlot).where(VisitSlot.order_id == order.id, VisitSlot.starts_at > utcnow())
                           .values(booked_by_id=None, booked_at=None, order_id=None)
                           .execution_options(synchronize_session=False))
    if order.resident_id != who.id:  # the resident knows what they did themselves
        by = "管理员" if who.has_role("admin") else "客服" if who.has_role("agent") else "工程师"
        _notify_resident(order, "cancelled", by=by)
    return order


# -- reviews, complaints, likes ---------------------------------------------------------------


def review(order_id: int, user: User, rating: int, text: str = "", photos: list[str] | None = None) -> dict:
    """The owner reviews a completed order once. Points for it never depend on the rating."""
    order = get_order(order_id)
    if order.resident_id != user.id:
        engineer = estates.active_engineer(user.id)
        if engineer is not None and engineer.id == order.engineer_id:
            raise Forbidden("工程师不能评价自己的服务", code="own_work")
        raise NotFound("服务单不存在", code="order_not_found")
    if order.status != "completed":
        raise Conflict("服务完成后才能评价", code="order_not_completed")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise invalid("rating", "评分须为 1–5")
    text = (text or "").strip()
    if len(text) > 1000:
        raise invalid("text", "评价不能超过 1000 字")
    photos = uploads.require_own_photos(user.id, photos, field="photos", most=MAX_PHOTOS)
    created = insert_or_nothing(ServiceReview, dict(order_id=order.id, resident_id=user.id,
                                                    engineer_id=order.engineer_id, estate_id=order.estate_id,
                                                    rating=rating, text=text, photos=photos),
                                conflict=["order_id"])
    if created is None:
        raise Conflict("该服务单已经评价过了", code="already_reviewed")
    signals.review_written.send(review_id=created.id, resident_id=user.id, order_id=order.id, estate_id=order.estate_id)
    db.session.execute(sa.update(ServiceOrder).where(ServiceOrder.id == order.id).values(rating=rating)
                       .execution_options(synchronize_session=False))
    stats.on_rated(order, rating)
    earned, refusal = 0, None
    try:
        points.earn(user.id, rules.SERVICE_REVIEW, f"review:{created.id}", "评价服务单")
        earned = points.get_rule(rules.SERVICE_REVIEW).points
    except points.EarningRefused as exc:
        refusal = exc.message
    return {"review": created, "points": earned, "points_refused": refusal}


def complain(order_id: int, user: User, text: str) -> Complaint:
    """The owner complains about an order (once per order); an agent resolves it."""
    order = get_order(order_id)
    if order.resident_id != user.id:
        raise NotFound("服务单不存在", code="order_not_found")
    if order.status in ("requested", "cancelled"):
        raise Conflict("该服务单尚未派单或已取消，无法投诉", code="order_not_served")
    text = (text or "").strip()
    if not text:
        raise invalid("text", "请描述投诉内容")
    complaint = insert_or_nothing(Complaint, dict(order_id=order.id, resident_id=user.id,
                                                  engineer_id=order.engineer_id, estate_id=order.estate_id,
                                                  text=text[:1000]), conflict=["order_id"])
    if complaint is None:
        raise Conflict("该服务单已经投诉过了，请等待处理", code="already_complained")
    db.session.execute(sa.update(ServiceOrder).where(ServiceOrder.id == order.id).values(complained=True)
                       .execution_options(synchronize_session=False))
    stats.on_complaint(order)
    return complaint


def get_complaint(complaint_id: int) -> Complaint:
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound("投诉不存在", code="complaint_not_found")
    return complaint


def resolve_complaint(complaint_id: int, actor: User, resolution: str) -> Complaint:
    if not actor.has_role("agent", "admin"):
        raise Forbidden("只有客服或管理员可以处理投诉", code="forbidden")
    resolution = (resolution or "").strip()
    if not resolution:
        raise invalid("resolution", "请填写处理结果")
    complaint = get_complaint(complaint_id)
    done = db.session.execute(sa.update(Complaint).where(Complaint.id == complaint_id, Complaint.status == "open")
                              .values(status="resolved", resolution=resolution[:1000], resolved_by_id=actor.id,
                                      resolved_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not done:
        raise Conflict("该投诉已处理", code="already_resolved")
    db.session.refresh(complaint)
    audit.record(actor, "complaint.resolve", "complaint", complaint.id, before={"status": "open"},
                 after={"status": "resolved", "resolution": complaint.resolution})
    return complaint


def complaints(*, status: str | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    stmt = sa.select(Complaint)
    if status:
        stmt = stmt.where(Complaint.status == status)
    return paginate(stmt, [Complaint.id], limit=limit, cursor=cursor, descending=status != "open")


def like_engineer(user: User, engineer_id: int) -> bool:
    """Like an engineer who completed an order for you: once per pair (repeating is harmless).
    Returns whether this call added the like."""
    estates.get_engineer(engineer_id)
    if not _served(engineer_id, user.id):
        raise Forbidden("只有这位工程师为您完成过服务后才能点赞", code="not_served")
    return stats.add_like(user.id, engineer_id)


def _served(engineer_id: int, resident_id: int) -> bool:
    """The engineer completed an order for the resident (what a like needs)."""
    return db.session.scalar(sa.select(sa.literal(1)).where(
        ServiceOrder.engineer_id == engineer_id, ServiceOrder.resident_id == resident_id,
        ServiceOrder.status == "completed").limit(1)) is not None


def review_of(order_id: int) -> ServiceReview | None:
    """The review of an order, or None (for the feed, which shares a review to the estate)."""
    return db.session.scalar(sa.select(ServiceReview).where(ServiceReview.order_id == order_id))


# -- the engineer's public profile ---------------------------------------------------------------

def _public_engineer(engineer_id: int) -> Engineer:
    """An engineer anyone logged in may look up; one who left is gone (404)."""
    engineer = estates.get_engineer(engineer_id)
    if engineer.status == "left":
        raise NotFound("工程师不存在", code="engineer_not_found")
    return engineer


def engineer_profile(engineer_id: int, who: Principal | User) -> dict:
    """An engineer's brand page: who they are, the estates they serve with their rank in each
    (as `GET /estates/{id}/engineers` ranks them), their totals, and what the caller may do."""
    engineer = _public_engineer(engineer_id)
    ranks = stats.ranks_of(engineer.id)
    served_estates = [{"id": e.id, "name": e.name, "city": e.city, "district": e.district,
                       **ranks.get(e.id, {"rank": None, "score": None})} for e in engineer.estates]
    completed = db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder).where(
        ServiceOrder.engineer_id == engineer.id, ServiceOrder.status == "completed"))
    reviews, average = db.session.execute(sa.select(sa.func.count(), sa.func.avg(ServiceReview.rating))
                                          .where(ServiceReview.engineer_id == engineer.id)).one()
    likes, liked = stats.likes_of(engineer.id, who.id)
    return {
        "id": engineer.id, "name": engineer.name, "photo": engineer.photo, "intro": engineer.intro or "",
        "status": engineer.status, "estates": served_estates,
        "totals": {"completed": completed, "reviews": reviews,
                   "avg_rating": round(float(average), 2) if reviews else None, "likes": likes},
        "liked": liked, "can_like": not liked and _served(engineer.id, who.id),
        "is_my_steward": stewards.steward_engineer_id(who.id) == engineer.id,
    }


def engineer_reviews(engineer_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """The engineer's reviews, newest first, for their public page: no reviewer id or phone,
    the reviewer's name masked. One query per page (with the estate and reviewer names)."""
    _public_engineer(engineer_id)
    r = ServiceReview
    page = paginate(sa.select(r.id, r.rating, r.text, r.photos, r.created_at, Estate.name.label("estate_name"),
                              User.display_name.label("reviewer"))
                    .join(Estate, Estate.id == r.estate_id).join(User, User.id == r.resident_id)
                    .where(r.engineer_id == engineer_id), [r.id], limit=limit, cursor=cursor, scalars=False)
    return Page([{"id": row.id, "rating": row.rating, "text": row.text, "photos": row.photos or [],
                  "created_at": row.created_at, "estate_name": row.estate_name,
                  "reviewer_name": mask_name(row.reviewer)} for row in page.items], page.next_cursor)


# -- lists ------------------------------------------------------------------------------------

def orders_of_resident(user_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    return paginate(sa.select(ServiceOrder).where(ServiceOrder.resident_id == user_id), [ServiceOrder.id],
                    limit=limit, cursor=cursor)


def orders_of_engineer(user_id: int, *, status: str | None = None, resident_id: int | None = None,
                       limit: int = 20, cursor: str | None = None) -> Page:
    """An engineer's assigned orders, newest first (one status, one customer's, or all)."""
    engineer = estates.active_engineer(user_id)
    if engineer is None:
        raise Forbidden("仅在职工程师可以使用", code="not_engineer")
    stmt = sa.select(ServiceOrder).where(ServiceOrder.engineer_id == engineer.id)
    if status:
        stmt = stmt.where(ServiceOrder.status == status)
    if resident_id:
        stmt = stmt.where(ServiceOrder.resident_id == resident_id)
    return paginate(stmt, [ServiceOrder.id], limit=limit, cursor=cursor)


def open_order_counts(user_id: int) -> dict[str, int]:
    """What an engineer has to act on: their orders to schedule (`assigned`) and to complete
    (`scheduled`), in one statement."""
    engineer = estates.active_engineer(user_id)
    if engineer is None:
        raise Forbidden("仅在职工程师可以使用", code="not_engineer")
    counts = dict(db.session.execute(sa.select(ServiceOrder.status, sa.func.count()).where(
        ServiceOrder.engineer_id == engineer.id, ServiceOrder.status.in_(("assigned", "scheduled")))
        .group_by(ServiceOrder.status)).all())
    return {"assigned": counts.get("assigned", 0), "scheduled": counts.get("scheduled", 0)}


def _order_filters(estate_id: int | None, status: str | None) -> list:
    return [c for c in (ServiceOrder.estate_id == estate_id if estate_id else None,
                        ServiceOrder.status == status if status else None) if c is not None]


def all_orders(*, estate_id: int | None = None, status: str | None = None, limit: int = 20,
               cursor: str | None = None, before: str | None = None) -> Page:
    """The console's order list, newest first, paged both ways by id (indexes: estate, status)."""
    stmt = sa.select(ServiceOrder).where(*_order_filters(estate_id, status))
    return paginate(stmt, [ServiceOrder.id], limit=limit, cursor=cursor, before=before)


def count_orders(*, estate_id: int | None = None, status: str | None = None) -> int | None:
    """How many orders the list holds, when that is cheap: within one estate (its range of the
    (estate_id, id) index). The whole network or one status across it: None (not counted)."""
    if not estate_id:
        return None
    return db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)
                             .where(*_order_filters(estate_id, status)))


SOURCE_LABELS = {"app": "小程序", "import": "历史导入", "integration": "服务系统", "booking": "接续排期"}


def order_timeline(order_id: int, who: Principal) -> tuple[OrderView, list[dict]]:
    """An order as `who` sees it and what happened to it, oldest first: its own times (request,
    assignment, appointment, completion or cancellation), staff assignments from the audit log,
    the review and the complaint. Five statements by key."""
    order = order_view(visible_order(order_id, who), who)
    events = [{"at": order.requested_at, "title": "提交服务请求",
               "detail": f"来源：{SOURCE_LABELS.get(order.source, order.source)}"}]
    engineer_ids = {order.engineer_id, order.preferred_engineer_id}
    staff_assigns = list(db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.object_type == "service_order", AuditEntry.object_id == str(order.id),
        AuditEntry.action == "service_order.assign").order_by(AuditEntry.id)))
    engineer_ids |= {(e.after or {}).get("engineer_id") for e in staff_assigns}
    engineer_ids |= {(e.before or {}).get("engineer_id") for e in staff_assigns[:1]}
    names = {i: e.name for i, e in estates.engineers_by_id(i for i in engineer_ids if i).items()}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(
        User.id.in_({e.actor_id for e in staff_assigns if e.actor_id})))} if staff_assigns else {}
    if order.preferred_engineer_id:
        events[0]["detail"] += f"；指定工程师：{names.get(order.preferred_engineer_id, '—')}"
    if staff_assigns:
        dispatched = (staff_assigns[0].before or {}).get("engineer_id")  # by the ranking, before staff changed it
        if dispatched:
            events.append({"at": order.requested_at, "title": "自动派单", "detail": names.get(dispatched, "—")})
        for entry in staff_assigns:
            actor = actors.get(entry.actor_id)
            who_did = (actor.display_name or actor.username) if actor else "系统"
            # the audit log keeps whole seconds: never before the request it follows
            events.append({"at": max(_utc(entry.created_at), _utc(order.requested_at)), "title": "客服派单",
                           "detail": f"{who_did} 派给 {names.get((entry.after or {}).get('engineer_id'), '—')}"})
    elif order.assigned_at:
        events.append({"at": order.assigned_at, "title": "已派单", "detail": names.get(order.engineer_id, "—")})
    if order.scheduled_at:
        detail = f"上门时间：{localtime(order.scheduled_for)}" if order.scheduled_for else ""
        events.append({"at": order.scheduled_at, "title": "已预约上门", "detail": detail})
    if order.completed_at:
        events.append({"at": order.completed_at, "title": "服务完成", "detail": names.get(order.engineer_id, "")})
    if order.cancelled_at:
        events.append({"at": order.cancelled_at, "title": "已取消", "detail": order.cancel_reason or ""})
    review = db.session.scalars(sa.select(ServiceReview).where(ServiceReview.order_id == order.id)).first()
    if review is not None:
        events.append({"at": review.created_at, "title": "住户评价",
                       "detail": "★" * review.rating + (f" {review.text}" if review.text else "")})
    elif order.rating and not order.completed_at:
        events.append({"at": order.requested_at, "title": "评分", "detail": "★" * order.rating})
    complaint = db.session.scalars(sa.select(Complaint).where(Complaint.order_id == order.id)).first()
    if complaint is not None:
        events.append({"at": complaint.created_at, "title": "住户投诉", "detail": complaint.text, "bad": True})
        if complaint.resolved_at:
            events.append({"at": complaint.resolved_at, "title": "投诉已处理", "detail": complaint.resolution or ""})
    events.sort(key=lambda e: _utc(e["at"]))
    return order, events


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


# -- visit announcements and slot booking (接续排期) ----------------------------------------------


SLOT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
MAX_SLOTS = 16
MAX_DAYS_AHEAD = 60


def _parse_slots(day: date, slots: list[str]) -> list[tuple[datetime, datetime]]:
    if not slots or len(slots) > MAX_SLOTS:
        raise invalid("slots", f"请给出 1–{MAX_SLOTS} 个时段，如 09:00-10:00")
    parsed = []
    for text in slots:
        match = SLOT.match(str(text).strip())
        if not match:
            raise invalid("slots", f"时段格式须为 HH:MM-HH:MM：{text}")
        h1, m1, h2, m2 = map(int, match.groups())
        start = datetime(day.year, day.month, day.day, h1, m1, tzinfo=BUSINESS_TZ)
        end = datetime(day.year, day.month, day.day, h2, m2, tzinfo=BUSINESS_TZ)
        if end <= start:
            raise invalid("slots", f"结束时间须晚于开始时间：{text}")
        parsed.append((start, end))
    parsed.sort()
    for (_, end), (start, _) in zip(parsed, parsed[1:]):
        if start < end:
            raise invalid("slots", "时段不能重叠")
    return parsed


def announce(user: User, estate_id: int, day: date, slots: list[str], note: str = "") -> tuple[VisitAnnouncement, dict]:
    """Announce a visit day with slots and notify every resident of the estate (one transaction)."""
    engineer = estates.engineer_of(user.id)
    estate = db.session.get(Estate, estate_id)
    if estate is None:
        raise NotFound("小区不存在", code="estate_not_found")
    if not estates.covers(engineer, estate_id):
        raise Forbidden("只能在您服务的小区发布上门安排", code="not_covering")
    today = utcnow().astimezone(BUSINESS_TZ).date()
    if not today <= day <= today + timedelta(days=MAX_DAYS_AHEAD):
        raise invalid("date", f"日期须在今天到 {MAX_DAYS_AHEAD} 天之内")
    parsed = _parse_slots(day, slots)
    if parsed[0][0] <= utcnow():
        raise invalid("slots", "时段须在将来")
    announcement = insert_or_nothing(VisitAnnouncement, dict(engineer_id=engineer.id, estate_id=estate_id, day=day,
                                                             note=(note or "").strip()[:200]),
                                     conflict=["engineer_id", "estate_id", "day"])
    if announcement is None:
        raise Conflict("您已发布过这一天在该小区的上门安排", code="already_announced")
    db.session.add_all(VisitSlot(announcement_id=announcement.id, starts_at=start, ends_at=end)
                       for start, end in parsed)
    residents = db.session.scalars(sa.select(Residency.user_id).where(Residency.estate_id == estate_id,
                                                                      Residency.left_at.is_(None))).all()
    when = f"{day.month}月{day.day}日 {slots[0].split('-')[0]}起"
    counts = notifications.notify(
        residents, kind="visit", title=f"{engineer.name}师傅{day.month}月{day.day}日上门服务",
        body=f"{engineer.name}师傅将于{when}在{estate.name}提供上门服务，可预约剩余时段。{announcement.note}",
        purpose="visit", page=f"pages/estate/index?id={estate_id}&tab=visits",
        data={"thing1": f"{estate.name}上门服务", "time2": f"{day.isoformat()} {parsed[0][0].strftime('%H:%M')}",
              "thing3": f"{engineer.name}师傅"})
    announcement.notified = counts["notified"]
    db.session.flush()
    return announcement, counts


def upcoming(estate_id: int, who_id: int) -> list[dict]:
    """The estate's announced visits from today on, with their slots (booked ones marked). A slot
    is `mine` while my booking's order is not cancelled (an engineer's cancellation leaves the
    slot taken, and no longer mine)."""
    today = utcnow().astimezone(BUSINESS_TZ).date()
    rows = db.session.execute(
        sa.select(VisitAnnouncement, Engineer.name, VisitSlot, ServiceOrder.status)
        .join(Engineer, Engineer.id == VisitAnnouncement.engineer_id)
        .join(VisitSlot, VisitSlot.announcement_id == VisitAnnouncement.id)
        .outerjoin(ServiceOrder, ServiceOrder.id == VisitSlot.order_id)
        .where(VisitAnnouncement.estate_id == estate_id, VisitAnnouncement.day >= today)
        .order_by(VisitAnnouncement.day, VisitAnnouncement.id, VisitSlot.starts_at)).all()
    result: dict[int, dict] = {}
    for announcement, engineer_name, slot, order_status in rows:
        item = result.setdefault(announcement.id, {
            "id": announcement.id, "day": announcement.day, "note": announcement.note,
            "engineer": {"id": announcement.engineer_id, "name": engineer_name}, "slots": []})
        mine = slot.booked_by_id == who_id and order_status != "cancelled"
        item["slots"].append({"id": slot.id, "starts_at": slot.starts_at, "ends_at": slot.ends_at,
                              "available": slot.booked_by_id is None, "mine": mine,
                              "order_id": slot.order_id if mine else None})
    return list(result.values())


def announcements_of(engineer_id: int, since: date) -> list[tuple[VisitAnnouncement, list[VisitSlot]]]:
    """An engineer's announced visit days from `since` on, each with its slots in time order."""
    announcements = db.session.scalars(sa.select(VisitAnnouncement).where(
        VisitAnnouncement.engineer_id == engineer_id, VisitAnnouncement.day >= since)
        .order_by(VisitAnnouncement.day)).all()
    slots: dict[int, list[VisitSlot]] = {a.id: [] for a in announcements}
    if announcements:
        for slot in db.session.scalars(sa.select(VisitSlot).where(VisitSlot.announcement_id.in_(slots))
                                       .order_by(VisitSlot.starts_at)):
            slots[slot.announcement_id].append(slot)
    return [(a, slots[a.id]) for a in announcements]


def book(user: User, slot_id: int, service_type: str, description: str = "") -> ServiceOrder:
    """Book a remaining slot: exactly one resident wins it (conditional UPDATE); the booking is a
    scheduled service order for the announcing engineer."""
    slot = db.session.get(VisitSlot, slot_id)
    if slot is None:
        raise NotFound("时段不存在", code="slot_not_found")
    announcement = db.session.get(VisitAnnouncement, slot.announcement_id)
    if not estates.is_resident(user.id, announcement.estate_id):
        raise Forbidden("只有该小区的住户可以预约", code="not_a_resident")
    if service_type not in SERVICE_TYPES:
        raise invalid("service_type", f"服务类型须为：{'、'.join(SERVICE_TYPES)}")
    if slot.starts_at <= utcnow():
        raise Conflict("该时段已过", code="slot_past")
    now = utcnow()
    taken = db.session.execute(sa.update(VisitSlot).where(VisitSlot.id == slot_id, VisitSlot.booked_by_id.is_(None))
                               .values(booked_by_id=user.id, booked_at=now)
                               .execution_options(synchronize_session=False)).rowcount
    if not taken:
        raise Conflict("该时段已被预约，请选择其他时段", code="slot_taken")
    order = ServiceOrder(source="booking", estate_id=announcement.estate_id, resident_id=user.id,
                         engineer_id=announcement.engineer_id, preferred_engineer_id=announcement.engineer_id,
                         service_type=service_type, description=(description or "").strip()[:1000],
                         status="scheduled", requested_at=now, assigned_at=now, scheduled_at=now,
                         scheduled_for=slot.starts_at, contact_phone=user.phone or None)
    db.session.add(order)
    db.session.flush()
    db.session.execute(sa.update(VisitSlot).where(VisitSlot.id == slot_id).values(order_id=order.id)
                       .execution_options(synchronize_session=False))
    stats.on_requested(order)
    return order


# -- history from the service system -------------------------------------------------------------


COLUMNS = ("external_id", "estate_id", "engineer_employee_no", "resident_phone", "service_type", "requested_at",
           "completed_at", "rating", "complained")
REQUIRED = ("external_id", "estate_id", "service_type", "requested_at")
# Optional: the appliance serviced, as the model code and serial on its nameplate. A pair that
# names no product on record (or half a pair) is ignored: the order is imported without it.
PRODUCT_COLUMNS = ("model_code", "serial")


def _time(value: str, field: str, errors: dict) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors[field] = ["须为 ISO 8601 时间，如 2024-03-01T14:30:00+08:00"]
        return None
    if parsed.tzinfo is None:  # the service system's local time
        parsed = parsed.replace(tzinfo=BUSINESS_TZ)
    return parsed.astimezone(timezone.utc)


def clean_row(row: dict) -> dict:
    """Validate one order row (CSV or JSON, all values as text or numbers); ValidationFailed lists
    the fields."""
    get = lambda name: "" if row.get(name) is None else str(row.get(name)).strip()  # noqa: E731
    errors: dict[str, list[str]] = {}
    for name in REQUIRED:
        if not get(name):
            errors[name] = ["必填"]
    external_id = get("external_id")
    if len(external_id) > 64:
        errors["external_id"] = ["不能超过 64 个字符"]
    estate_id = None
    if get("estate_id"):
        try:
            estate_id = int(get("estate_id"))
            if not 1 <= estate_id <= MAX_ID:
                raise ValueError
        except ValueError:
            errors["estate_id"] = ["须为小区 ID（正整数）"]
    service_type = get("service_type")
    if len(service_type) > 32:
        errors["service_type"] = ["不能超过 32 个字符"]
    phone = get("resident_phone") or None
    if phone and (len(phone) > 20 or not phone.lstrip("+").isdigit()):
        errors["resident_phone"] = ["手机号格式不对"]
    requested_at = _time(get("requested_at"), "requested_at", errors)
    completed_at = _time(get("completed_at"), "completed_at", errors)
    if requested_at and completed_at and completed_at < requested_at:
        errors["completed_at"] = ["完成时间早于下单时间"]
    rating = None
    if get("rating"):
        try:
            rating = int(get("rating"))
            if not 1 <= rating <= 5:
                raise ValueError
        except ValueError:
            errors["rating"] = ["评分须为 1–5 或留空"]
    complained = get("complained") or "0"
    if complained not in ("0", "1"):
        errors["complained"] = ["须为 0 或 1"]
    engineer_no = get("engineer_employee_no") or None
    if rating is not None and not completed_at:
        errors["rating"] = ["未完成的服务单不能有评分"]
    if errors:
        raise ValidationFailed("服务单数据有误", details={"fields": errors})
    model_code, serial = products.normalise_code(get("model_code")), products.normalise_code(get("serial"))
    return {"external_id": external_id, "estate_id": estate_id, "engineer_employee_no": engineer_no,
            "resident_phone": phone, "service_type": service_type, "requested_at": requested_at,
            "completed_at": completed_at, "rating": rating, "complained": complained == "1",
            "model_code": model_code or None, "serial": serial or None}


def import_orders(rows: list[dict], *, source: str = "import") -> tuple[list[int], dict[int, str]]:
    """Insert cleaned rows (one batch); returns (ids inserted, {index: error} for rows refused).

    Rows whose external_id exists already are skipped silently (idempotent). Statistics for the
    inserted rows are applied in aggregate, the same sums the single events add. A row naming a
    product on record (model_code and serial) is linked to it, and a completed one advances that
    product's care schedule.
    """
    refused: dict[int, str] = {}
    known = set(db.session.scalars(sa.select(Estate.id).where(Estate.id.in_({r["estate_id"] for r in rows}))))
    numbers = {r["engineer_employee_no"] for r in rows if r["engineer_employee_no"]}
    engineers = dict(db.session.execute(sa.select(Engineer.employee_no, Engineer.id)
                                        .where(Engineer.employee_no.in_(numbers))).all()) if numbers else {}
    phones = {r["resident_phone"] for r in rows if r["resident_phone"]}
    users = {}
    if phones:
        for phone, user_id in db.session.execute(sa.select(User.phone, User.id).where(User.phone.in_(phones))
                                                 .order_by(User.id)):
            users.setdefault(phone, user_id)  # the oldest account with that phone
    serviced = products.products_by_serial((r.get("model_code"), r.get("serial")) for r in rows)
    values = []
    for index, row in enumerate(rows):
        if row["estate_id"] not in known:
            refused[index] = f"小区 {row['estate_id']} 不存在"
            continue
        engineer_id = None
        if row["engineer_employee_no"]:
            engineer_id = engineers.get(row["engineer_employee_no"])
            if engineer_id is None:
                refused[index] = f"工号 {row['engineer_employee_no']} 的工程师不存在"
                continue
        completed = row["completed_at"] is not None
        values.append({
            "external_id": row["external_id"], "source": source, "estate_id": row["estate_id"],
            "resident_id": users.get(row["resident_phone"]), "resident_phone": row["resident_phone"],
            "engineer_id": engineer_id, "service_type": row["service_type"], "description": "",
            "status": "completed" if completed and engineer_id else ("assigned" if engineer_id else "requested"),
            "requested_at": row["requested_at"], "assigned_at": row["requested_at"] if engineer_id else None,
            "completed_at": row["completed_at"] if engineer_id else None, "rating": row["rating"],
            "complained": row["complained"], "product_id": serviced.get((row.get("model_code"), row.get("serial"))),
            "created_at": datetime.now(timezone.utc), "updated_at": datetime.now(timezone.utc)})
    if not values:
        return [], refused
    insert = dialect_insert()(ServiceOrder.__table__).values(values)
    inserted = db.session.execute(insert.on_conflict_do_nothing(index_elements=["external_id"])
                                  .returning(ServiceOrder.__table__.c.id)).scalars().all()
    if inserted:
        orders = db.session.scalars(sa.select(ServiceOrder).where(ServiceOrder.id.in_(inserted))).all()
        stats.apply_history(orders)
        products.record_services((o.product_id, o.service_type, products.business_date(o.completed_at))
                                 for o in orders if o.status == "completed" and o.product_id is not None)
    return list(inserted), refused


def import_one(data: dict, *, source: str = "integration") -> tuple[ServiceOrder, bool]:
    """One order from the integration endpoint: (order, created). The same external_id again
    returns the stored order and changes nothing."""
    row = clean_row(data)
    inserted, refused = import_orders([row], source=source)
    if refused:
        raise ValidationFailed(refused[0], code="order_refused", details={"fields": {"order": [refused[0]]}})
    order = db.session.scalars(sa.select(ServiceOrder).where(ServiceOrder.external_id == row["external_id"])).one()
    if inserted and order.status == "completed" and order.resident_id is not None:
        # A live order from the service system (not imported history) completes a real service.
        signals.service_completed.send(resident_id=order.resident_id, order_id=order.id)
    return order, bool(inserted)


def rebuild_stats(*, today: date | None = None) -> dict:
    """Recompute the rankings and KPIs from every order (`flask community rebuild-stats`); the
    result must equal what the events kept up to date. Returns row counts."""
    o = ServiceOrder.__table__.c
    rows = db.session.execute(sa.select(o.estate_id, o.engineer_id, o.status, o.requested_at, o.completed_at,
                                        o.rating, o.complained).execution_options(yield_per=5000))
    return stats.rebuild(rows, bindings=stewards.binding_rows(), bound_by_estate=stewards.bound_by_estate(),
                         today=today)


def open_complaints_count() -> int:
    """Complaints waiting for an agent (the dashboard): the (status, id) index."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Complaint).where(Complaint.status == "open"))
