"""Service requests and orders: request → assigned → scheduled → completed | cancelled, each step by
the right actor with its time; the owner's one review, complaints resolved by agents, likes for
engineers who served the resident; imported history on the same rows.

Every status change is a conditional UPDATE on the expected status, so two actors racing on one
order resolve it once (the loser gets 409 `order_state_changed`).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from community import ranking, services
from community.models import (Complaint, Engineer, EngineerEstateStat, EngineerLike, Estate, ServiceOrder,
                              ServiceReview, StewardBinding)
from core import audit
from core.accounts.models import User
from core.accounts.services import Principal
from core.db import insert_or_nothing, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.pagination import Page, paginate
from core.uploads import services as uploads
from points import services as points

SERVICE_TYPES = {"install": "安装", "repair": "维修", "maintenance": "保养", "cleaning": "清洗",
                 "inspection": "检测", "other": "其他"}
STATUS_LABELS = {"requested": "待派单", "assigned": "已派单", "scheduled": "已预约", "completed": "已完成",
                 "cancelled": "已取消"}
OPEN = ("requested", "assigned", "scheduled")
REVIEW_RULE = "service_review"  # points per review: the same whatever the rating (see points.services)
MAX_PHOTOS = 9


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": {field: [message]}})


def get_order(order_id: int, *, lock: bool = False) -> ServiceOrder:
    stmt = sa.select(ServiceOrder).where(ServiceOrder.id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    order = db.session.scalars(stmt).first()
    if order is None:
        raise NotFound("服务单不存在", code="order_not_found")
    return order


def _engineer_of_user(user_id: int) -> Engineer | None:
    return db.session.scalars(sa.select(Engineer).where(Engineer.user_id == user_id,
                                                        Engineer.status == "active")).first()


def visible_order(order_id: int, who: Principal) -> ServiceOrder:
    """An order its resident, its engineer, agents and admins may see; anyone else gets 404."""
    order = get_order(order_id)
    if who.has_role("admin", "agent") or order.resident_id == who.id:
        return order
    engineer = _engineer_of_user(who.id) if who.has_role("engineer") else None
    if engineer is not None and order.engineer_id == engineer.id:
        return order
    raise NotFound("服务单不存在", code="order_not_found")


def _steward_engineer_id(resident_id: int) -> int | None:
    return db.session.scalar(sa.select(StewardBinding.engineer_id).where(
        StewardBinding.resident_id == resident_id, StewardBinding.ended_at.is_(None)))


def best_engineer(estate_id: int) -> int | None:
    """Dispatch: the best-ranked active engineer covering the estate (the ranking's order)."""
    ranked = ranking.ranking(estate_id, limit=1)
    return ranked[0]["engineer"]["id"] if ranked else None


def request_service(user: User, estate_id: int, service_type: str, description: str = "", *,
                    preferred_engineer_id: int | None = None, preferred_slot: str | None = None) -> ServiceOrder:
    """A resident asks for service at one of their estates, optionally naming the engineer."""
    estate = db.session.get(Estate, estate_id)
    if estate is None:
        raise NotFound("小区不存在", code="estate_not_found")
    if not services.is_resident(user.id, estate_id):
        raise Forbidden("只有该小区的住户可以为这里申请服务", code="not_a_resident")
    if service_type not in SERVICE_TYPES:
        raise _invalid("service_type", f"服务类型须为：{'、'.join(SERVICE_TYPES)}")
    description = (description or "").strip()
    if len(description) > 1000:
        raise _invalid("description", "描述不能超过 1000 字")
    engineer_id = None
    if preferred_engineer_id is not None:
        engineer = db.session.get(Engineer, preferred_engineer_id)
        allowed = engineer is not None and engineer.status == "active" and (
            services.covers(engineer, estate_id) or _steward_engineer_id(user.id) == engineer.id)
        if not allowed:
            raise _invalid("preferred_engineer_id", "只能选择服务该小区的工程师或您的管家")
        engineer_id = engineer.id
    else:
        engineer_id = best_engineer(estate_id)
    now = utcnow()
    order = ServiceOrder(source="app", estate_id=estate_id, resident_id=user.id, service_type=service_type,
                         description=description, preferred_engineer_id=preferred_engineer_id,
                         preferred_slot=(preferred_slot or "").strip()[:64] or None, requested_at=now,
                         engineer_id=engineer_id, status="assigned" if engineer_id else "requested",
                         assigned_at=now if engineer_id else None)
    db.session.add(order)
    db.session.flush()
    ranking.on_requested(order)
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


def assign(order_id: int, engineer_id: int, actor: User) -> ServiceOrder:
    """An agent or admin (re)assigns an open, unscheduled order to an engineer covering the estate."""
    order = get_order(order_id)
    engineer = db.session.get(Engineer, engineer_id)
    if engineer is None or engineer.status != "active" or not services.covers(engineer, order.estate_id):
        raise _invalid("engineer_id", "只能指派服务该小区的在职工程师")
    before = {"engineer_id": order.engineer_id, "status": order.status}
    _transition(order, ("requested", "assigned"), engineer_id=engineer_id, status="assigned", assigned_at=utcnow())
    audit.record(actor, "service_order.assign", "service_order", order.id, before=before,
                 after={"engineer_id": engineer_id, "status": "assigned"})
    return order


def _own_engineer(order: ServiceOrder, user_id: int) -> Engineer:
    engineer = _engineer_of_user(user_id)
    if engineer is None or order.engineer_id != engineer.id:
        raise NotFound("服务单不存在", code="order_not_found")
    return engineer


def schedule(order_id: int, user: User, scheduled_for: datetime) -> ServiceOrder:
    """The assigned engineer fixes (or moves) the appointment."""
    order = get_order(order_id)
    _own_engineer(order, user.id)
    if scheduled_for <= utcnow():
        raise _invalid("scheduled_for", "预约时间须在将来")
    return _transition(order, ("assigned", "scheduled"), status="scheduled", scheduled_for=scheduled_for,
                       scheduled_at=utcnow())


def complete(order_id: int, user: User) -> ServiceOrder:
    """The assigned engineer marks the order done: it counts in the ranking from now on."""
    order = get_order(order_id)
    _own_engineer(order, user.id)
    order = _transition(order, ("assigned", "scheduled"), status="completed", completed_at=utcnow())
    ranking.on_completed(order)
    if order.resident_id is not None:
        _first_real_service(order.resident_id)
    return order


def _first_real_service(resident_id: int) -> None:
    """A completed service is the "first real service" that rewards whoever invited the resident
    (the ambassador package decides whether it qualifies and pays at most once)."""
    from ambassador import referrals  # a feature calling another's service; imported late (no cycle)

    referrals.qualify(resident_id, "service")


def cancel(order_id: int, who: Principal, reason: str) -> ServiceOrder:
    """The resident (their own), the assigned engineer, an agent or an admin cancels an open order."""
    order = get_order(order_id)
    allowed = order.resident_id == who.id or who.has_role("admin", "agent")
    if not allowed and who.has_role("engineer"):
        engineer = _engineer_of_user(who.id)
        allowed = engineer is not None and order.engineer_id == engineer.id
    if not allowed:
        raise NotFound("服务单不存在", code="order_not_found")
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "请填写取消原因")
    return _transition(order, OPEN, status="cancelled", cancelled_at=utcnow(), cancelled_by_id=who.id,
                       cancel_reason=reason[:255])


# -- reviews, complaints, likes ---------------------------------------------------------------

def review(order_id: int, user: User, rating: int, text: str = "", photos: list[str] | None = None) -> dict:
    """The owner reviews a completed order once. Points for it never depend on the rating."""
    order = get_order(order_id)
    if order.resident_id != user.id:
        engineer = _engineer_of_user(user.id)
        if engineer is not None and engineer.id == order.engineer_id:
            raise Forbidden("工程师不能评价自己的服务", code="own_work")
        raise NotFound("服务单不存在", code="order_not_found")
    if order.status != "completed":
        raise Conflict("服务完成后才能评价", code="order_not_completed")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise _invalid("rating", "评分须为 1–5")
    text = (text or "").strip()
    if len(text) > 1000:
        raise _invalid("text", "评价不能超过 1000 字")
    photos = uploads.require_own_photos(user.id, photos, field="photos", most=MAX_PHOTOS)
    created = insert_or_nothing(ServiceReview, dict(order_id=order.id, resident_id=user.id,
                                                    engineer_id=order.engineer_id, estate_id=order.estate_id,
                                                    rating=rating, text=text, photos=photos),
                                conflict=["order_id"])
    if created is None:
        raise Conflict("该服务单已经评价过了", code="already_reviewed")
    db.session.execute(sa.update(ServiceOrder).where(ServiceOrder.id == order.id).values(rating=rating)
                       .execution_options(synchronize_session=False))
    ranking.on_rated(order, rating)
    earned, refusal = 0, None
    try:
        points.earn(user.id, REVIEW_RULE, f"review:{created.id}", "评价服务单")
        earned = points.get_rule(REVIEW_RULE).points
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
        raise _invalid("text", "请描述投诉内容")
    complaint = insert_or_nothing(Complaint, dict(order_id=order.id, resident_id=user.id,
                                                  engineer_id=order.engineer_id, estate_id=order.estate_id,
                                                  text=text[:1000]), conflict=["order_id"])
    if complaint is None:
        raise Conflict("该服务单已经投诉过了，请等待处理", code="already_complained")
    db.session.execute(sa.update(ServiceOrder).where(ServiceOrder.id == order.id).values(complained=True)
                       .execution_options(synchronize_session=False))
    ranking.on_complaint(order)
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
        raise _invalid("resolution", "请填写处理结果")
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


def like_engineer(user: User, engineer_id: int) -> tuple[EngineerLike, bool]:
    """Like an engineer who completed an order for you: once per pair (repeating is harmless)."""
    if db.session.get(Engineer, engineer_id) is None:
        raise NotFound("工程师不存在", code="engineer_not_found")
    served = db.session.scalar(sa.select(sa.literal(1)).where(
        ServiceOrder.engineer_id == engineer_id, ServiceOrder.resident_id == user.id,
        ServiceOrder.status == "completed"))
    if served is None:
        raise Forbidden("只有这位工程师为您完成过服务后才能点赞", code="not_served")
    like = insert_or_nothing(EngineerLike, dict(resident_id=user.id, engineer_id=engineer_id),
                             conflict=["resident_id", "engineer_id"])
    if like is None:
        return db.session.get(EngineerLike, (user.id, engineer_id)), False
    ranking.on_liked(engineer_id)
    return like, True


# -- lists ------------------------------------------------------------------------------------

def orders_of_resident(user_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    return paginate(sa.select(ServiceOrder).where(ServiceOrder.resident_id == user_id), [ServiceOrder.id],
                    limit=limit, cursor=cursor)


def orders_of_engineer(user_id: int, *, status: str | None = None, limit: int = 20,
                       cursor: str | None = None) -> Page:
    engineer = _engineer_of_user(user_id)
    if engineer is None:
        raise Forbidden("仅在职工程师可以使用", code="not_engineer")
    stmt = sa.select(ServiceOrder).where(ServiceOrder.engineer_id == engineer.id)
    if status:
        stmt = stmt.where(ServiceOrder.status == status)
    return paginate(stmt, [ServiceOrder.id], limit=limit, cursor=cursor)


def all_orders(*, estate_id: int | None = None, status: str | None = None, limit: int = 20,
               cursor: str | None = None) -> Page:
    stmt = sa.select(ServiceOrder)
    if estate_id:
        stmt = stmt.where(ServiceOrder.estate_id == estate_id)
    if status:
        stmt = stmt.where(ServiceOrder.status == status)
    return paginate(stmt, [ServiceOrder.id], limit=limit, cursor=cursor)


def stat_of(engineer_id: int, estate_id: int) -> EngineerEstateStat | None:
    return db.session.get(EngineerEstateStat, (engineer_id, estate_id))
