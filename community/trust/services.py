"""Trust in steward bindings (anti-fraud, docs/community.md "Fake households").

An engineer could mint code after code and bind made-up residents, each earning binding points.
So a new binding is watched (`BindingWatch`): its points stay pending until the resident shows a
sign of real life (a completed order, a product registered, a session on another Asia/Shanghai
day, a phone confirmed through WeChat), and lapse after BINDING_POINTS_LAPSE_DAYS otherwise.
Bindings that look made up get flags with a reason (`BindingFlag`), checked inside the binding
transaction with indexed look-ups only, or by the lapse job; agents confirm (a fake: its points
are taken back, the binding ends with reason `fake`) or dismiss them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from community.estates import services as estates
from community.estates.models import Engineer, Estate
from community.orders.models import ServiceOrder
from community.stewards import services as stewards
from community.stewards.models import StewardBinding
from community.trust.models import FLAG_STATUSES, LIFE_SIGNS, BindingFlag, BindingWatch
from core import audit
from core.accounts.models import User
from core.accounts.services import Principal
from core.db import insert_or_nothing, utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import BUSINESS_TZ, mask_phone
from core.pages import WorkQueue
from core.pagination import Page, paginate
from points import services as points

# Residents sharing one phone read for one flag: more would only repeat the point.
SHARED_PHONE_LIMIT = 20


def points_key(binding_id: int) -> str:
    """The key community.stewards promises a binding's points under."""
    return f"binding:{binding_id}"


def _day(moment: datetime):
    return moment.astimezone(BUSINESS_TZ).date()


# -- a new binding ---------------------------------------------------------------------------

def binding_recorded(*, binding_id: int, resident_id: int, engineer_id: int, estate_id: int, result: str,
                     visit_ref: str | None = None, latitude: float | None = None,
                     longitude: float | None = None) -> BindingWatch | None:
    """A binding call finished (core.signals.binding_recorded): a new binding is watched and
    checked for flags, once; a resident already known to be real is paid at once."""
    if result in ("created", "switched"):
        now = utcnow()
        watch = insert_or_nothing(BindingWatch, dict(
            binding_id=binding_id, resident_id=resident_id, engineer_id=engineer_id, estate_id=estate_id,
            bound_at=now, lapse_at=now + timedelta(days=current_app.config["BINDING_POINTS_LAPSE_DAYS"]),
            status="pending"), conflict=["binding_id"])
        if watch is not None:
            ordered = _check_new_binding(watch, visit_ref, latitude, longitude)
            sign = _known_alive(watch, ordered)
            if sign:
                _settle(watch, sign)
    watch = db.session.get(BindingWatch, binding_id)
    if watch is None or watch.status == "alive":
        # A binding from before the watch began, or a resident known to be real: a rating added
        # by a repeated call is paid at once.
        points.release_now(points_key(binding_id))
    return watch


def _check_new_binding(watch: BindingWatch, visit_ref: str | None, latitude: float | None,
                       longitude: float | None) -> bool:
    """The flags a binding can earn at once; each is an indexed look-up, never a scan. Returns
    whether the resident completed an order before (a sign of life `_known_alive` reads), which
    the burst count's statement answers in the same round trip."""
    config = current_app.config
    estate = estates.get_estate(watch.estate_id)
    # (a) many bindings from one engineer in one estate in a day, beyond the estate's size
    since = watch.bound_at - timedelta(hours=config["BINDING_BURST_HOURS"])
    count, ordered = db.session.execute(_NEW_BINDING_FACTS, {
        "engineer_id": watch.engineer_id, "estate_id": watch.estate_id, "since": since,
        "resident_id": watch.resident_id}).one()
    limit = burst_limit(estate.households)
    if count > limit:
        _flag(watch, "burst", {"count": count, "limit": limit, "hours": config["BINDING_BURST_HOURS"],
                               "households": estate.households})
    # (d) a work-order number the service system does not know, though it knows the engineer's orders
    if visit_ref and orders_known(watch.engineer_id) and not order_matches(watch.engineer_id, visit_ref):
        _flag(watch, "visit_ref_unmatched", {"visit_ref": visit_ref})
    # (e) far from the estate, when the client said where it was
    if latitude is not None and longitude is not None and estate.lat is not None and estate.lng is not None:
        metres = estates.distance_m(latitude, longitude, float(estate.lat), float(estate.lng))
        if metres > config["BINDING_FAR_METERS"]:
            _flag(watch, "far_from_estate", {"distance_m": round(metres), "latitude": latitude,
                                             "longitude": longitude, "limit_m": config["BINDING_FAR_METERS"]})
    # (c) a phone the resident shares with another bound resident
    phone = db.session.get(User, watch.resident_id).phone  # loaded by the binding call already
    if phone:
        _check_shared_phone(watch.resident_id, phone)
    return bool(ordered)


# A new binding's two reads in one round trip, built once (every binding call runs it): the
# engineer's watched bindings in the estate since the burst window began (this one included),
# and whether the resident has a completed order (a sign of life, `_known_alive`).
_w, _o = BindingWatch.__table__.c, ServiceOrder.__table__.c
_NEW_BINDING_FACTS = sa.select(
    sa.select(sa.func.count()).select_from(BindingWatch.__table__).where(
        _w.engineer_id == sa.bindparam("engineer_id"), _w.estate_id == sa.bindparam("estate_id"),
        _w.bound_at >= sa.bindparam("since", type_=_w.bound_at.type)).scalar_subquery().label("burst"),
    sa.exists().where(_o.resident_id == sa.bindparam("resident_id"), _o.status == "completed").label("ordered"))


def burst_limit(households: int) -> int:
    """Bindings one engineer may make in one estate within BINDING_BURST_HOURS before they are flagged."""
    config = current_app.config
    return max(config["BINDING_BURST_MIN"], math.ceil((households or 0) * config["BINDING_BURST_PERCENT"] / 100))


def _known_alive(watch: BindingWatch, ordered: bool) -> str | None:
    """A sign of life the resident showed before this binding: a session on an earlier day (their
    account is older than today), a completed order (`ordered`, read with the burst count), or a
    WeChat-confirmed phone of their own."""
    user = db.session.get(User, watch.resident_id)
    if _day(user.created_at) < _day(watch.bound_at):
        return "known"
    if ordered:
        return "known"
    if user.phone_confirmed_at is not None and user.phone and not _bound_sharers(user.id, user.phone):
        return "known"
    return None


# -- the work-order number -------------------------------------------------------------------

def orders_known(engineer_id: int) -> bool:
    """Does the service system's integration (or its history import) know this engineer's orders?"""
    return db.session.scalar(sa.select(ServiceOrder.id).where(
        ServiceOrder.engineer_id == engineer_id, ServiceOrder.external_id.is_not(None)).limit(1)) is not None


def order_matches(engineer_id: int, visit_ref: str) -> bool:
    return db.session.scalar(sa.select(ServiceOrder.engineer_id).where(
        ServiceOrder.external_id == visit_ref.strip())) == engineer_id


def visit_ref_refusal(*, engineer_id: int, visit_ref: str) -> ValidationFailed | None:
    """core.signals.visit_ref_refusal: a binding code may name a work order the service system
    knows for this engineer; when it knows none of theirs, any number is taken (and checked again
    at binding)."""
    if not orders_known(engineer_id) or order_matches(engineer_id, visit_ref):
        return None
    message = "工单号与您的服务单不符，请核对后重新填写（不填工单号也可生成绑定码）"
    return ValidationFailed(message, code="visit_ref_unknown", details={"fields": {"visit_ref": [message]}})


# -- signs of life ---------------------------------------------------------------------------

def life_sign(resident_id: int, sign: str, *, now: datetime | None = None) -> int:
    """The resident showed a sign of life: their pending watches settle and their binding points
    are released. A session counts only on another Asia/Shanghai day than the binding's.
    Returns how many watches settled."""
    if sign not in LIFE_SIGNS:
        raise ValueError(sign)
    today = _day(now or utcnow())
    settled = 0
    for watch in db.session.scalars(sa.select(BindingWatch).where(
            BindingWatch.resident_id == resident_id, BindingWatch.status == "pending")).all():
        if sign == "session" and _day(watch.bound_at) >= today:
            continue
        settled += _settle(watch, sign)
    return settled


def _settle(watch: BindingWatch, sign: str) -> bool:
    # Conditional: a concurrent lapse, confirmation or other sign settles it once.
    done = db.session.execute(sa.update(BindingWatch).where(
        BindingWatch.binding_id == watch.binding_id, BindingWatch.status == "pending").values(
        status="alive", life_sign=sign, settled_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if done:
        db.session.refresh(watch)
        points.release_now(points_key(watch.binding_id))
    return bool(done)


def user_active(user_id: int) -> int:
    """A session: a sign of life for the bindings of an earlier day. A user created today
    (Asia/Shanghai) has none (a binding comes after its resident's account), which is known without
    a query when the session holds the user already: every first login, the binding call's too."""
    user = db.session.identity_map.get(db.session.identity_key(User, user_id))
    if user is not None and "created_at" in sa.inspect(user).dict and _day(user.created_at) >= _day(utcnow()):
        return 0
    return life_sign(user_id, "session")


def product_registered(owner_id: int | None, source: str) -> int:
    """A product on the resident's record is a sign of life, unless their own steward put it
    there (an engineer could register appliances for a made-up customer)."""
    if owner_id is None or source == "engineer":
        return 0
    return life_sign(owner_id, "product")


def phone_confirmed(user_id: int, phone: str) -> int:
    """A phone confirmed through WeChat is a sign of life, unless another bound resident has the
    same number: then both bindings are flagged, and the phone proves nothing."""
    if _check_shared_phone(user_id, phone):
        return 0
    return life_sign(user_id, "phone")


def _bound_sharers(user_id: int, phone: str) -> list:
    """Active bindings of the residents who have this phone (at most SHARED_PHONE_LIMIT), when
    another resident than `user_id` is among them; else []."""
    b = StewardBinding
    rows = db.session.execute(sa.select(b.id, b.resident_id, b.engineer_id, b.estate_id).join(
        User, User.id == b.resident_id).where(User.phone == phone, b.ended_at.is_(None))
        .order_by(b.id).limit(SHARED_PHONE_LIMIT)).all()
    return rows if any(row.resident_id != user_id for row in rows) else []


def _check_shared_phone(user_id: int, phone: str) -> bool:
    rows = _bound_sharers(user_id, phone)
    if len({row.resident_id for row in rows}) < 2:
        return bool(rows)  # only others share it: the phone proves nothing either
    residents = sorted({row.resident_id for row in rows})
    for row in rows:
        _flag_binding(row.id, row.resident_id, row.engineer_id, row.estate_id, "shared_phone",
                      {"phone": mask_phone(phone), "resident_ids": residents})
    return True


# -- lapse -----------------------------------------------------------------------------------

def lapse_due(limit: int = 500, now: datetime | None = None) -> int:
    """Watches past their lapse time without a sign of life: their pending points are cancelled
    and the binding is flagged `never_returned`. Returns how many; the caller commits per batch."""
    now = now or utcnow()
    due = db.session.scalars(sa.select(BindingWatch).where(
        BindingWatch.status == "pending", BindingWatch.lapse_at <= now).order_by(
        BindingWatch.lapse_at, BindingWatch.binding_id).limit(limit)).all()
    count = 0
    for watch in due:
        done = db.session.execute(sa.update(BindingWatch).where(
            BindingWatch.binding_id == watch.binding_id, BindingWatch.status == "pending").values(
            status="lapsed", settled_at=now).execution_options(synchronize_session=False)).rowcount
        if not done:
            continue
        days = current_app.config["BINDING_POINTS_LAPSE_DAYS"]
        points.cancel_pending(points_key(watch.binding_id), f"绑定后 {days} 天内未见真实使用")
        _flag(watch, "never_returned", {"days": days, "bound_at": watch.bound_at.isoformat()})
        count += 1
    return count


# -- flags -----------------------------------------------------------------------------------

def _flag(watch: BindingWatch, reason: str, details: dict) -> BindingFlag | None:
    return _flag_binding(watch.binding_id, watch.resident_id, watch.engineer_id, watch.estate_id, reason, details)


def _flag_binding(binding_id: int, resident_id: int, engineer_id: int, estate_id: int, reason: str,
                  details: dict) -> BindingFlag | None:
    """One flag per binding and reason: a second occasion changes nothing (None)."""
    return insert_or_nothing(BindingFlag, dict(
        binding_id=binding_id, resident_id=resident_id, engineer_id=engineer_id, estate_id=estate_id,
        reason=reason, details=details, status="open", created_at=utcnow()), conflict=["binding_id", "reason"])


def flags_of(binding_id: int) -> list[BindingFlag]:
    return list(db.session.scalars(sa.select(BindingFlag).where(BindingFlag.binding_id == binding_id)
                                   .order_by(BindingFlag.id)))


def list_flags(*, status: str | None = "open", limit: int = 20, cursor: str | None = None) -> Page:
    """Flags newest first (all statuses when `status` is None)."""
    stmt = sa.select(BindingFlag)
    if status:
        if status not in FLAG_STATUSES:
            raise ValidationFailed("状态无效", details={"fields": {"status": ["须为 open、confirmed 或 dismissed"]}})
        stmt = stmt.where(BindingFlag.status == status)
    return paginate(stmt, [BindingFlag.id], limit=limit, cursor=cursor)


def open_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(BindingFlag).where(BindingFlag.status == "open"))


def get_flag(flag_id: int, *, lock: bool = False) -> BindingFlag:
    stmt = sa.select(BindingFlag).where(BindingFlag.id == flag_id).execution_options(populate_existing=True)
    flag = db.session.scalars(stmt.with_for_update() if lock else stmt).first()
    if flag is None:
        raise NotFound("可疑绑定记录不存在", code="binding_flag_not_found")
    return flag


@dataclass
class FlagView:
    """A flag with the names staff read beside it."""
    flag: BindingFlag
    resident: dict
    engineer: dict
    estate: dict
    binding: dict
    watch: dict | None

    def __getattr__(self, name):  # the flag's own columns (id, status, created_at, …)
        return getattr(self.flag, name)


def flag_views(flags: list[BindingFlag]) -> list[FlagView]:
    """Each flag with its resident, engineer, estate, binding and watch, in one statement."""
    if not flags:
        return []
    b, w = StewardBinding, BindingWatch
    rows = {row.binding_id: row for row in db.session.execute(sa.select(
        b.id.label("binding_id"), b.started_at, b.ended_at, b.end_reason, User.display_name, User.phone,
        Engineer.name.label("engineer_name"), Estate.name.label("estate_name"), w.status.label("watch_status"),
        w.life_sign, w.lapse_at).join(User, User.id == b.resident_id).join(Engineer, Engineer.id == b.engineer_id)
        .join(Estate, Estate.id == b.estate_id).outerjoin(w, w.binding_id == b.id)
        .where(b.id.in_({f.binding_id for f in flags})))}
    views = []
    for flag in flags:
        row = rows[flag.binding_id]
        watch = None if row.watch_status is None else {
            "status": row.watch_status, "life_sign": row.life_sign,
            "life_sign_label": LIFE_SIGNS.get(row.life_sign) if row.life_sign else None, "lapse_at": row.lapse_at}
        views.append(FlagView(
            flag, {"id": flag.resident_id, "display_name": row.display_name, "phone": mask_phone(row.phone)},
            {"id": flag.engineer_id, "name": row.engineer_name}, {"id": flag.estate_id, "name": row.estate_name},
            {"id": flag.binding_id, "started_at": row.started_at, "ended_at": row.ended_at,
             "end_reason": row.end_reason}, watch))
    return views


# -- decisions -------------------------------------------------------------------------------

@dataclass
class Decision:
    flag: BindingFlag
    changed: bool  # False: it was decided so before (a repeated call)


def confirm_flag(flag_id: int, actor: User, note: str | None = None) -> Decision:
    """The binding is fake: its points are taken back (cancelled while pending, reversed once
    released), the binding ends with reason `fake` (out of every count of active bindings) and
    its other open flags are confirmed with it. Confirming again changes nothing; a dismissed flag
    is a 409."""
    flag = get_flag(flag_id, lock=True)
    if flag.status == "confirmed":
        return Decision(flag, False)
    if flag.status == "dismissed":
        raise Conflict("该记录已判定为正常绑定，不能再认定为虚假", code="binding_flag_decided")
    note = (note or "").strip()[:255] or None
    now = utcnow()
    # Rows are taken in the order every writer takes them (watch, binding, points), so a sign of
    # life, the lapse job or a repeated binding call racing this waits instead of deadlocking; a
    # watch that is `fake` first never releases anything after.
    db.session.execute(sa.update(BindingWatch).where(BindingWatch.binding_id == flag.binding_id).values(
        status="fake", settled_at=sa.func.coalesce(BindingWatch.settled_at, now)))
    ended = stewards.end_binding(flag.binding_id, "fake", actor)
    taken = points.take_back(points_key(flag.binding_id), "认定为虚假绑定，积分收回")
    others = db.session.scalars(sa.update(BindingFlag).where(
        BindingFlag.binding_id == flag.binding_id, BindingFlag.status == "open").values(
        status="confirmed", decided_by_id=actor.id, decided_at=now, note=note).returning(BindingFlag.id)).all()
    db.session.refresh(flag)
    audit.record(actor, "binding_flag.confirm", "binding_flag", flag.id, before={"status": "open"}, after={
        "status": "confirmed", "binding_id": flag.binding_id, "reason": flag.reason, "note": note,
        "binding_ended": ended, "points": taken.state, "points_taken": taken.taken,
        "points_shortfall": taken.shortfall, "flags_confirmed": sorted(others)})
    return Decision(flag, True)


def dismiss_flag(flag_id: int, actor: User, note: str | None = None) -> Decision:
    """The binding is genuine as far as this reason goes: the flag closes, the binding and its
    points stay as they are. Dismissing again changes nothing; a confirmed flag is a 409."""
    flag = get_flag(flag_id, lock=True)
    if flag.status == "dismissed":
        return Decision(flag, False)
    if flag.status == "confirmed":
        raise Conflict("该记录已认定为虚假绑定，不能再判定为正常", code="binding_flag_decided")
    flag.status, flag.decided_by_id, flag.decided_at = "dismissed", actor.id, utcnow()
    flag.note = (note or "").strip()[:255] or None
    db.session.flush()
    audit.record(actor, "binding_flag.dismiss", "binding_flag", flag.id, before={"status": "open"},
                 after={"status": "dismissed", "binding_id": flag.binding_id, "reason": flag.reason,
                        "note": flag.note})
    return Decision(flag, True)


def decide_many(ids: list[int], action: str, actor: User, reason: str | None = None) -> dict[int, str]:
    """Confirm or dismiss several flags, each on its own (one refusal does not undo the others).
    `action`: confirm | dismiss, or the console's bulk words: reject (= confirm the fake) |
    approve (= the binding passes: dismiss). Returns id → "ok" or the refusal's code."""
    action = {"reject": "confirm", "approve": "dismiss"}.get(action, action)
    decide = confirm_flag if action == "confirm" else dismiss_flag
    outcome = {}
    for flag_id in ids:
        try:
            with db.session.begin_nested():
                decision = decide(flag_id, actor, reason)
            outcome[flag_id] = "ok" if decision.changed else "binding_flag_decided"
        except (Conflict, NotFound) as exc:
            outcome[flag_id] = exc.code
    return outcome


# -- the dashboard ---------------------------------------------------------------------------

def work_waiting(who: Principal, url: str) -> list[WorkQueue]:
    """core.signals.work_waiting: the open flags, for the staff who review them (`url`: the queue page)."""
    if not who.has_role("admin", "agent"):
        return []
    return [WorkQueue("待审核的可疑绑定", open_count(), url)]
