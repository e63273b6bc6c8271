"""Engineer visit announcements: an engineer announces a day in an estate with bookable slots;
every resident is notified (WeChat subscribe message when they have quota, the in-app inbox
always), and a resident books one of the remaining slots as a follow-on appointment (接续排期),
which becomes a scheduled service order for that engineer."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from community import ranking, services
from community.models import Engineer, Estate, Residency, ServiceOrder, VisitAnnouncement, VisitSlot
from core.accounts.models import User
from core.db import insert_or_nothing, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import BUSINESS_TZ
from core.notifications import services as notifications

SLOT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
MAX_SLOTS = 16
MAX_DAYS_AHEAD = 60


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": {field: [message]}})


def _parse_slots(day: date, slots: list[str]) -> list[tuple[datetime, datetime]]:
    if not slots or len(slots) > MAX_SLOTS:
        raise _invalid("slots", f"请给出 1–{MAX_SLOTS} 个时段，如 09:00-10:00")
    parsed = []
    for text in slots:
        match = SLOT.match(str(text).strip())
        if not match:
            raise _invalid("slots", f"时段格式须为 HH:MM-HH:MM：{text}")
        h1, m1, h2, m2 = map(int, match.groups())
        start = datetime(day.year, day.month, day.day, h1, m1, tzinfo=BUSINESS_TZ)
        end = datetime(day.year, day.month, day.day, h2, m2, tzinfo=BUSINESS_TZ)
        if end <= start:
            raise _invalid("slots", f"结束时间须晚于开始时间：{text}")
        parsed.append((start, end))
    parsed.sort()
    for (_, end), (start, _) in zip(parsed, parsed[1:]):
        if start < end:
            raise _invalid("slots", "时段不能重叠")
    return parsed


def announce(user: User, estate_id: int, day: date, slots: list[str], note: str = "") -> tuple[VisitAnnouncement, dict]:
    """Announce a visit day with slots and notify every resident of the estate (one transaction)."""
    engineer = services.engineer_of(user.id)
    estate = db.session.get(Estate, estate_id)
    if estate is None:
        raise NotFound("小区不存在", code="estate_not_found")
    if not services.covers(engineer, estate_id):
        raise Forbidden("只能在您服务的小区发布上门安排", code="not_covering")
    today = utcnow().astimezone(BUSINESS_TZ).date()
    if not today <= day <= today + timedelta(days=MAX_DAYS_AHEAD):
        raise _invalid("date", f"日期须在今天到 {MAX_DAYS_AHEAD} 天之内")
    parsed = _parse_slots(day, slots)
    if parsed[0][0] <= utcnow():
        raise _invalid("slots", "时段须在将来")
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
        purpose="visit", page="pages/index/index",
        data={"thing1": f"{estate.name}上门服务", "time2": f"{day.isoformat()} {parsed[0][0].strftime('%H:%M')}",
              "thing3": f"{engineer.name}师傅"})
    announcement.notified = counts["notified"]
    db.session.flush()
    return announcement, counts


def upcoming(estate_id: int, who_id: int) -> list[dict]:
    """The estate's announced visits from today on, with their slots (booked ones marked)."""
    today = utcnow().astimezone(BUSINESS_TZ).date()
    rows = db.session.execute(
        sa.select(VisitAnnouncement, Engineer.name, VisitSlot)
        .join(Engineer, Engineer.id == VisitAnnouncement.engineer_id)
        .join(VisitSlot, VisitSlot.announcement_id == VisitAnnouncement.id)
        .where(VisitAnnouncement.estate_id == estate_id, VisitAnnouncement.day >= today)
        .order_by(VisitAnnouncement.day, VisitAnnouncement.id, VisitSlot.starts_at)).all()
    result: dict[int, dict] = {}
    for announcement, engineer_name, slot in rows:
        item = result.setdefault(announcement.id, {
            "id": announcement.id, "day": announcement.day, "note": announcement.note,
            "engineer": {"id": announcement.engineer_id, "name": engineer_name}, "slots": []})
        item["slots"].append({"id": slot.id, "starts_at": slot.starts_at, "ends_at": slot.ends_at,
                              "available": slot.booked_by_id is None, "mine": slot.booked_by_id == who_id})
    return list(result.values())


def book(user: User, slot_id: int, service_type: str, description: str = "") -> ServiceOrder:
    """Book a remaining slot: exactly one resident wins it (conditional UPDATE); the booking is a
    scheduled service order for the announcing engineer."""
    from community.orders import SERVICE_TYPES

    slot = db.session.get(VisitSlot, slot_id)
    if slot is None:
        raise NotFound("时段不存在", code="slot_not_found")
    announcement = db.session.get(VisitAnnouncement, slot.announcement_id)
    if not services.is_resident(user.id, announcement.estate_id):
        raise Forbidden("只有该小区的住户可以预约", code="not_a_resident")
    if service_type not in SERVICE_TYPES:
        raise _invalid("service_type", f"服务类型须为：{'、'.join(SERVICE_TYPES)}")
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
                         scheduled_for=slot.starts_at)
    db.session.add(order)
    db.session.flush()
    db.session.execute(sa.update(VisitSlot).where(VisitSlot.id == slot_id).values(order_id=order.id)
                       .execution_options(synchronize_session=False))
    ranking.on_requested(order)
    return order
