"""Stewards (管家): the binding code an engineer shows at a visit, the one-call binding after
the scan, the resident's steward and its history, the engineer's customers, and moving
customers when an engineer hands over or leaves."""
from __future__ import annotations

import re
import secrets
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app

from community.estates import services as estates
from community.estates.models import Engineer, EngineerEstate, Estate, Residency
from community.stats import services as stats
from community.stewards.models import BindingCode, StewardBinding, StewardHandover, Visit
from core import audit, crypto, signals
from core.accounts import services as accounts
from core.accounts.models import User
from core.accounts.services import Principal
from core.db import insert_or_nothing, utcnow
from core.errors import BadRequest, Conflict, Forbidden, Gone, NotFound, invalid
from core.extensions import db
from core.formatting import localtime
from core.notifications import services as notifications
from core.pagination import Page, paginate
from core.wechat import gateway
from points import rules, services as points

# -- binding codes (the signed scene) -----------------------------------------------------------
# scene = base64url(nonce 9 bytes ‖ expiry 4 bytes ‖ HMAC-SHA256 8 bytes) = 28 characters, all in
# WeChat's allowed set; opaque (no ids), unforgeable without SECRET_KEY, and it carries its expiry
# because codes from getwxacodeunlimit never expire on WeChat's side.


SCENE_PURPOSE = "binding-scene"
SCENE_LENGTH = 28


def _sign_scene(expires_at: datetime) -> str:
    payload = secrets.token_bytes(9) + struct.pack(">I", int(expires_at.timestamp()))
    return crypto.b64url(payload + crypto.hmac_digest(crypto.derive_key(SCENE_PURPOSE), payload, 8))


def _verify_scene(scene: str) -> None:
    try:
        raw = crypto.unb64url(scene) if len(scene) == SCENE_LENGTH else b""
    except ValueError:
        raw = b""
    if len(raw) != 21 or not secrets.compare_digest(
            raw[13:], crypto.hmac_digest(crypto.derive_key(SCENE_PURPOSE), raw[:13], 8)):
        raise BadRequest("二维码无效，请让工程师重新出示", code="binding_code_invalid")
    (expires,) = struct.unpack(">I", raw[9:13])
    if expires <= utcnow().timestamp():
        raise Gone("二维码已过期，请让工程师刷新后再扫", code="binding_code_expired")


def _covers(engineer_id, estate_id) -> sa.Exists:
    """The engineer covers the estate (an engineer_estates row: estates.covers), as a column of a
    statement that loads something else anyway, so that the check costs no round trip of its own."""
    return sa.exists().where(EngineerEstate.engineer_id == engineer_id, EngineerEstate.estate_id == estate_id)


# Built once (bound parameters per call), as the binding flow's other statements below.
_ESTATE_FOR_CODE = sa.select(Estate, _covers(sa.bindparam("engineer_id"), Estate.id)).where(
    Estate.id == sa.bindparam("estate_id"))


def mint_binding_code(engineer: Engineer, estate_id: int, visit_ref: str | None = None) -> BindingCode:
    """A fresh mini-program code for a visit to a covered estate (image fetched once, stored)."""
    row = db.session.execute(_ESTATE_FOR_CODE, {"estate_id": estate_id, "engineer_id": engineer.id}).first()
    if row is None:
        raise NotFound("小区不存在", code="estate_not_found")  # as estates.get_estate
    estate, covered = row
    if estate.status != "active":
        raise Conflict("该小区已停用", code="estate_inactive")
    if not covered:
        raise Forbidden("您未负责该小区，请联系管理员分配", code="estate_not_covered")
    refusal = signals.ask(signals.visit_ref_refusal, engineer_id=engineer.id, visit_ref=visit_ref) if visit_ref else None
    if refusal is not None:  # the order integration knows this engineer's orders, and not this one
        raise refusal
    expires_at = utcnow() + timedelta(seconds=current_app.config["BINDING_CODE_TTL_SECONDS"])
    scene = _sign_scene(expires_at)
    # WeChat first, with no write pending: the token store may need the database meanwhile.
    image = gateway.unlimited_code_image(scene, current_app.config["WECHAT_BIND_PAGE"])
    code = BindingCode(scene=scene, engineer=engineer, estate=estate, visit_ref=visit_ref,
                       expires_at=expires_at.replace(microsecond=0), image=image,
                       image_type="image/png" if image[:4] == b"\x89PNG" else "image/jpeg")
    db.session.add(code)
    db.session.flush()
    return code


_CODE_BY_SCENE = sa.select(BindingCode, _covers(BindingCode.engineer_id, BindingCode.estate_id)).where(
    BindingCode.scene == sa.bindparam("scene"))


def binding_code_for_scene(scene: str) -> BindingCode:
    """The minted code of a scene that is still good: signed by us, not expired, and its engineer
    still active and covering its estate (checked before the wx.login code is spent)."""
    _verify_scene(scene)
    row = db.session.execute(_CODE_BY_SCENE, {"scene": scene}).first()
    if row is None:
        raise BadRequest("二维码无效，请让工程师重新出示", code="binding_code_invalid")
    code, covered = row
    _check_live(code, covered)
    return code


def _check_live(code: BindingCode, covered: bool) -> None:
    """A code dies with its engineer's departure or the end of their coverage of its estate."""
    if code.engineer.status != "active" or not covered:
        raise Gone("该二维码已失效，请让工程师重新出示", code="binding_code_revoked")


def binding_code_image(scene: str) -> tuple[bytes, str]:
    code = db.session.scalars(sa.select(BindingCode).where(BindingCode.scene == scene).options(
        sa.orm.undefer(BindingCode.image))).first()
    if code is None:
        raise NotFound("二维码不存在")
    return code.image, code.image_type


# -- binding ----------------------------------------------------------------------------------

@dataclass
class BindingOutcome:
    binding: StewardBinding | None  # the resident's active binding after the call
    estate: Estate  # the estate of the visit, which the resident now belongs to
    visit: Visit
    # created: new steward; unchanged: already this engineer; kept: another steward is protected;
    # switched: this engineer took over from a lapsed steward
    result: str
    points: int = 0  # granted by this call for rating the service (the same whatever the rating)
    rank: int | None = None  # the steward's place in the estate's engineer ranking
    points_refused: points.EarningRefused | None = None  # why none were granted, when a rule said no
    points_pending: bool = False  # the points wait for a sign of life (community.trust, docs/community.md)


def bind_by_scene(wx_code: str, scene: str, rating: int | None = None, comment: str | None = None,
                  location: tuple[float, float] | None = None) -> tuple[User, BindingOutcome]:
    """The one call after a scan: log in with the wx.login code, then bind steward and estate."""
    code = binding_code_for_scene(scene)  # checked before the wx code is spent
    user = accounts.login_with_wechat(wx_code)
    return user, _bind(user, code, rating=rating, comment=comment, location=location)


def bind(user: User, code: BindingCode, *, rating: int | None = None, comment: str | None = None,
         location: tuple[float, float] | None = None) -> BindingOutcome:
    """Bind a logged-in user with a code loaded by other means than its scene (the demo data)."""
    _check_live(code, estates.covers(code.engineer, code.estate_id))
    return _bind(user, code, rating=rating, comment=comment, location=location)


def _bind(user: User, code: BindingCode, *, rating: int | None, comment: str | None,
          location: tuple[float, float] | None) -> BindingOutcome:
    """The binding itself, for a code already checked live (_check_live)."""
    engineer = code.engineer
    if engineer.user_id == user.id:
        raise BadRequest("工程师不能绑定自己", code="self_binding")
    if rating is not None and not 1 <= rating <= 5:
        raise invalid("rating", "须为 1–5 星", "评分须为 1–5 星")
    estates.join_estate(user, code.estate_id, source="binding")
    visit = _record_visit(user, code, rating, comment)
    binding, result = _assign_steward(user, code)
    if result in ("created", "switched"):
        signals.steward_bound.send(resident_id=user.id, engineer_id=binding.engineer_id, estate_id=binding.estate_id,
                                   first=result == "created" and _first_binding(user.id, binding.id))
    outcome = BindingOutcome(binding=binding, estate=code.estate, visit=visit, result=result)
    if binding is not None:
        outcome.rank = stats.rank_in(binding.engineer_id, binding.estate_id)
    promise = None
    if visit.rating is not None and binding is not None and binding.engineer_id == code.engineer_id:
        promise = _reward_rated_binding(user, binding, outcome)
    if binding is not None and binding.engineer_id == code.engineer_id:
        signals.binding_recorded.send(
            binding_id=binding.id, resident_id=user.id, engineer_id=binding.engineer_id, estate_id=binding.estate_id,
            result=result, visit_ref=code.visit_ref, latitude=location[0] if location else None,
            longitude=location[1] if location else None)
    if promise is not None:  # a resident already known to be real is paid at once (community.trust):
        # its release (points.release_now, UPDATE … RETURNING with populate_existing) refreshed this
        # very row in the session, so its status is current without reading it again
        outcome.points_pending = promise.status == "pending"
    if result in ("created", "switched"):
        # The console's bindings per day, last: the region's row of the day is shared by every
        # binding in the district, and its lock is held until the commit, so the shorter the rest
        # of the transaction after it, the less concurrent bindings wait (issue 15's binding p99).
        stats.on_bound(binding.estate_id, utcnow())
    return outcome


_OTHER_BINDING = sa.select(sa.literal(1)).where(
    StewardBinding.resident_id == sa.bindparam("resident_id"), StewardBinding.id != sa.bindparam("binding_id")).limit(1)


def _first_binding(resident_id: int, binding_id: int) -> bool:
    """The resident never had a steward before this binding (none ended either)."""
    return db.session.scalar(_OTHER_BINDING, {"resident_id": resident_id, "binding_id": binding_id}) is None


def _reward_rated_binding(user: User, binding: StewardBinding, outcome: BindingOutcome) -> points.PendingGrant | None:
    """A completed steward binding with a service rating earns the resident points, once per
    binding. The amount comes from the rule, never from the rating: rewarding good reviews is
    unlawful in China (Provisional Provisions against Unfair Competition on the Internet, Art. 9).
    They are promised, and released when the resident shows a sign of life (community.trust).
    Returns the promise this call made (None: none made now)."""
    try:
        promise = points.earn_pending(user.id, rules.BINDING_RATING, f"binding:{binding.id}", "完成管家绑定并评价服务",
                                      release_at=points.ON_CONDITION)
    except points.EarningRefused as refused:
        outcome.points_refused = refused
        return None
    except points.IdempotencyConflict:  # promised by an earlier call, before the rule's points changed
        return None
    if not promise.created:
        return None
    outcome.points, outcome.points_pending = promise.grant.amount, True
    return promise.grant


_codes = BindingCode.__table__.c
# Count one more resident against the code's uses; the condition holds under concurrency.
_TAKE_USE = BindingCode.__table__.update().where(
    _codes.id == sa.bindparam("code_id"), _codes.uses < sa.bindparam("max_uses")).values(uses=_codes.uses + 1)
_VISIT = sa.select(Visit).where(Visit.binding_code_id == sa.bindparam("code_id"),
                                Visit.resident_id == sa.bindparam("resident_id"))


def _record_visit(user: User, code: BindingCode, rating: int | None, comment: str | None) -> Visit:
    """One visit per resident and code, counted against the code's uses. The INSERT comes first
    (a first scan, the usual call, is then two statements): when the code turns out used up, the
    request fails and its rollback takes the visit back out; only a repeated call reads the visit."""
    rated = {"rating": rating, "comment": _clean_comment(comment)} if rating is not None else {}
    visit = insert_or_nothing(Visit, dict(
        engineer_id=code.engineer_id, resident_id=user.id, estate_id=code.estate_id,
        binding_code_id=code.id, visit_ref=code.visit_ref, **rated), conflict=["binding_code_id", "resident_id"])
    if visit is not None:
        taken = db.session.execute(_TAKE_USE, {
            "code_id": code.id, "max_uses": current_app.config["BINDING_CODE_MAX_USES"]}).rowcount
        if not taken:
            raise Gone("该二维码使用次数已满，请让工程师刷新", code="binding_code_used_up")
        return visit
    visit = db.session.scalars(_VISIT, {"code_id": code.id, "resident_id": user.id}).first()
    if visit is None:  # the same resident's twin request won, then rolled back
        raise Conflict("请求重复，请稍后刷新", code="duplicate_request")
    # The rating is given once; a repeated call may add it but never change it.
    if rating is not None and visit.rating is None:
        visit.rating, visit.comment = rating, _clean_comment(comment)
        db.session.flush()
    return visit


def _clean_comment(comment: str | None) -> str | None:
    return (comment or "").strip()[:500] or None


def active_binding(user_id: int, *, lock: bool = False) -> StewardBinding | None:
    stmt = sa.select(StewardBinding).where(StewardBinding.resident_id == user_id,
                                           StewardBinding.ended_at.is_(None))
    if lock:
        stmt = stmt.with_for_update(of=StewardBinding)
    return db.session.scalars(stmt).first()


def _assign_steward(user: User, code: BindingCode) -> tuple[StewardBinding | None, str]:
    """The resident's steward after the scan. The INSERT comes first: a resident without a steward
    (every new one) gets theirs in one statement, and the partial unique index refuses a second
    active binding; only then is the current binding read (locked) and weighed."""
    binding = _insert_binding(user, code, "scan")
    if binding is not None:
        return binding, "created"
    current = active_binding(user.id, lock=True)
    if current is None or current.engineer_id == code.engineer_id:
        # this engineer already; or none any more, ended by a concurrent call meanwhile (no
        # steward this time, as when a concurrent call wins the takeover below)
        return current, "unchanged" if current is not None else "kept"
    if _protected(current):
        return current, "kept"
    _end_binding(current, "takeover", None)
    _cancel_offered(user.id)  # a handover of the ended binding has nothing left to move
    binding = _insert_binding(user, code, "takeover")
    if binding is None:
        # A concurrent call bound this resident first (the partial unique index held): use that.
        binding = active_binding(user.id)
        return binding, "unchanged" if binding and binding.engineer_id == code.engineer_id else "kept"
    return binding, "switched"


# The partial unique index of active bindings (one per resident), built once: insert_or_nothing
# reuses its statement per `where` object.
_ACTIVE = StewardBinding.ended_at.is_(None)


def _insert_binding(user: User, code: BindingCode, start_reason: str) -> StewardBinding | None:
    """The resident's new active binding to the code's engineer, or None while one is active."""
    binding = insert_or_nothing(StewardBinding, dict(
        resident_id=user.id, engineer_id=code.engineer_id, estate_id=code.estate_id, start_reason=start_reason),
        conflict=["resident_id"], where=_ACTIVE)
    if binding is not None:
        binding.engineer, binding.estate = code.engineer, code.estate  # known: no reload for the response
    return binding


def _protected(binding: StewardBinding) -> bool:
    """The current steward keeps the resident while they visited them within the protection window."""
    days = current_app.config["STEWARD_PROTECTION_DAYS"]
    if days <= 0 or binding.engineer.status != "active":  # an engineer who left protects nobody
        return False
    last_visit = db.session.scalar(sa.select(sa.func.max(Visit.created_at)).where(
        Visit.resident_id == binding.resident_id, Visit.engineer_id == binding.engineer_id))
    if last_visit is not None and last_visit.tzinfo is None:
        last_visit = last_visit.replace(tzinfo=timezone.utc)  # func.max bypasses the column type
    since = max(filter(None, (last_visit, binding.started_at)))
    return since > utcnow() - timedelta(days=days)


def _cancel_offered(resident_id: int) -> None:
    db.session.execute(sa.update(StewardHandover).where(
        StewardHandover.resident_id == resident_id, StewardHandover.status == "pending",
        StewardHandover.kind != "request").values(status="cancelled", decided_at=utcnow()))


def _end_binding(binding: StewardBinding, reason: str, actor: User | None) -> None:
    binding.ended_at = utcnow()
    binding.end_reason = reason
    binding.ended_by_id = actor.id if actor else None
    db.session.flush()


def end_binding(binding_id: int, reason: str, actor: User | None) -> bool:
    """End a binding that is still active (community.trust ends a confirmed fake); False when it ended before."""
    binding = db.session.scalars(sa.select(StewardBinding).where(
        StewardBinding.id == binding_id, StewardBinding.ended_at.is_(None)).with_for_update(of=StewardBinding)).first()
    if binding is not None:
        _end_binding(binding, reason, actor)
        if reason == "fake":
            stats.on_binding_voided(binding)  # out of the console's bindings per day
    return binding is not None


def bound_by_estate() -> sa.Select:
    """SELECT estate_id, residents with an active steward there (for the statistics' daily
    region refresh and the rebuild: one set-based count)."""
    return (sa.select(StewardBinding.estate_id, sa.func.count()).where(StewardBinding.ended_at.is_(None))
            .group_by(StewardBinding.estate_id))


def binding_rows():
    """Every binding's estate, start and end reasons, streamed (for `flask community rebuild-stats`)."""
    b = StewardBinding.__table__.c
    return db.session.execute(sa.select(b.estate_id, b.started_at, b.start_reason, b.end_reason)
                              .execution_options(yield_per=5000))


# A resident's steward card is read on every mini-program start: a Core statement built once,
# returning plain values, costs a fraction of an ORM load with two joined entities.
_b, _g, _e = StewardBinding.__table__.c, Engineer.__table__.c, Estate.__table__.c  # no ORM compile step
_to_engineer = Engineer.__table__.alias("to_engineer")
_h, _to = StewardHandover.__table__.c, _to_engineer.c
_STEWARD_CARDS = sa.select(
    _b.id, _b.started_at, _g.id.label("engineer_id"), _g.name.label("engineer_name"), _g.phone, _g.status, _g.photo,
    _e.id.label("estate_id"), _e.name.label("estate_name"), _e.city, _e.district,
    # the handover offered to the customer, if any (at most one pending per resident)
    _h.id.label("handover_id"), _h.kind.label("handover_kind"), _h.due_at, _h.created_at.label("handover_at"),
    _to.id.label("to_id"), _to.name.label("to_name"), _to.status.label("to_status"), _to.photo.label("to_photo"),
).select_from(StewardBinding.__table__.join(Engineer.__table__, _g.id == _b.engineer_id)
              .join(Estate.__table__, _e.id == _b.estate_id)
              .outerjoin(StewardHandover.__table__, sa.and_(
                  _h.resident_id == _b.resident_id, _h.status == "pending", _h.kind != "request"))
              .outerjoin(_to_engineer, _to.id == _h.to_engineer_id)).where(
    _b.resident_id == sa.bindparam("resident_id"), _b.ended_at.is_(None))


def stewards_of(user_id: int) -> list[dict]:
    """The resident's active steward(s), shaped like StewardBinding for the StewardSchema, each
    with the handover offered to the customer (`handover`, None without one)."""
    return [{
        "id": row.id, "started_at": row.started_at,
        "engineer": {"id": row.engineer_id, "name": row.engineer_name, "phone": row.phone, "status": row.status,
                     "photo": row.photo},
        "estate": {"id": row.estate_id, "name": row.estate_name, "city": row.city, "district": row.district},
        "handover": {"id": row.handover_id, "kind": row.handover_kind, "status": "pending", "due_at": row.due_at,
                     "created_at": row.handover_at,
                     "to_engineer": {"id": row.to_id, "name": row.to_name, "status": row.to_status, "photo": row.to_photo}}
        if row.handover_id else None,
    } for row in db.session.execute(_STEWARD_CARDS, {"resident_id": user_id})]


def steward_engineer_id(resident_id: int) -> int | None:
    """The engineer id of the resident's current steward, if they have one."""
    return db.session.scalar(sa.select(StewardBinding.engineer_id).where(
        StewardBinding.resident_id == resident_id, StewardBinding.ended_at.is_(None)))


def steward_user_id(resident_id: int) -> int | None:
    """The user account of the resident's current steward (None: no steward, or one who never
    claimed their profile, or the resident is their own engineer's account)."""
    user_id = db.session.scalar(sa.select(Engineer.user_id).join(StewardBinding, StewardBinding.engineer_id == Engineer.id)
                                .where(StewardBinding.resident_id == resident_id, StewardBinding.ended_at.is_(None)))
    return user_id if user_id != resident_id else None


def binding_history(user_id: int) -> list[StewardBinding]:
    return list(db.session.scalars(sa.select(StewardBinding).where(
        StewardBinding.resident_id == user_id).order_by(StewardBinding.id.desc())))


# -- an engineer's customers --------------------------------------------------------------------


def customers_engineer(who: Principal, engineer_id: int | None = None) -> Engineer:
    """Whose customers `who` may see: an engineer their own (engineer_id None, or their own id);
    admins and agents any engineer's. Another engineer's customers are a 404 (nothing leaks);
    asking for one's own without being an active engineer is a 403."""
    if engineer_id is None:
        return estates.engineer_of(who.id)
    engineer = estates.get_engineer(engineer_id)
    if who.has_role("admin", "agent") or (engineer.user_id == who.id and engineer.status == "active"):
        return engineer
    raise NotFound("工程师不存在", code="engineer_not_found")


# A phone search needs this many digits at least: fewer would match nearly everyone.
PHONE_SEARCH_DIGITS = 4


def customers_of(who: Principal, engineer_id: int | None = None, *, estate_id: int | None = None,
                 q: str | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    """An engineer's current customers (active bindings), newest first, for whoever may see them.

    `q` finds customers by name (contains, any case) or, when it is 4–11 digits (spaces and
    dashes dropped), by phone (contains: the last four digits of the masked number do). Each
    binding carries `last_visit_at`: the engineer's latest visit to that customer (None without
    one), in one more statement for the page.
    """
    engineer, stmt = customers_query(who, engineer_id, estate_id=estate_id, q=q)
    page = paginate(stmt, [StewardBinding.id], limit=limit, cursor=cursor)
    with_last_visits(engineer, page.items)
    return page


def customers_query(who: Principal, engineer_id: int | None = None, *, estate_id: int | None = None,
                    q: str | None = None) -> tuple[Engineer, sa.Select]:
    """The engineer whose customers `who` may see, and the unordered SELECT of those customers'
    active bindings (the base of `customers_of`; community.book joins health to it)."""
    engineer = customers_engineer(who, engineer_id)
    stmt = sa.select(StewardBinding).where(StewardBinding.engineer_id == engineer.id,
                                           StewardBinding.ended_at.is_(None))
    if estate_id:
        stmt = stmt.where(StewardBinding.estate_id == estate_id)
    q = (q or "").strip()
    if q:
        match = User.display_name.icontains(q, autoescape=True)
        digits = re.sub(r"[\s-]", "", q)
        if re.fullmatch(r"[0-9]{%d,11}" % PHONE_SEARCH_DIGITS, digits):
            match = sa.or_(match, User.phone.contains(digits, autoescape=True))
        stmt = stmt.join(User, User.id == StewardBinding.resident_id).where(match)
    return engineer, stmt.options(sa.orm.joinedload(StewardBinding.resident))


def with_last_visits(engineer: Engineer, bindings: list[StewardBinding]) -> None:
    """Each binding gets `last_visit_at`: the engineer's latest visit to that customer (one statement)."""
    last = dict(db.session.execute(
        sa.select(Visit.resident_id, sa.func.max(Visit.created_at)).where(
            Visit.engineer_id == engineer.id, Visit.resident_id.in_({b.resident_id for b in bindings}))
        .group_by(Visit.resident_id)).all()) if bindings else {}
    for binding in bindings:
        binding.last_visit_at = last.get(binding.resident_id)  # for the response, never stored


@dataclass
class CustomerDetail:
    binding: StewardBinding
    resident: User
    estates: list[Residency]
    visits: list[Visit]


def customer_of(who: Principal, resident_id: int, engineer_id: int | None = None) -> CustomerDetail:
    """One current customer of an engineer, for whoever may see that engineer's customers;
    anyone else's customer is a 404 (not 403: nothing leaks)."""
    engineer = customers_engineer(who, engineer_id)
    binding = db.session.scalars(sa.select(StewardBinding).where(
        StewardBinding.resident_id == resident_id, StewardBinding.engineer_id == engineer.id,
        StewardBinding.ended_at.is_(None))).first()
    if binding is None:
        raise NotFound("客户不存在", code="customer_not_found")
    visits = list(db.session.scalars(sa.select(Visit).where(
        Visit.resident_id == resident_id, Visit.engineer_id == engineer.id).order_by(Visit.id.desc()).limit(50)))
    return CustomerDetail(binding=binding, resident=binding.resident, estates=estates.estates_of(binding.resident),
                          visits=visits)


# -- handover (管家交接): consented, modelled on WeCom's customer handover ----------------------
#
# An admin's move (`reassign`) or an engineer's departure with a successor (`engineer_left`) offers
# each customer the new steward: a pending StewardHandover, an inbox notice and a subscribe
# message. The customer keeps their current binding meanwhile (also with an engineer who left:
# that binding stays active, engineer status `left`, until the handover decides). They may refuse
# within HANDOVER_WINDOW; without an answer `complete_due_handovers` completes it. A refusal keeps
# the old steward while they work; when they left, the customer has no steward until the next scan.
# A resident may also drop their steward or ask for another engineer of the estate (`request`),
# which staff approve or reject. docs/community.md, "Steward handover".

HANDOVER_WINDOW = timedelta(hours=24)
# The partial unique index's predicate as a literal: a bound parameter defeats PostgreSQL's
# ON CONFLICT inference once psycopg prepares the statement (after a few executions).
_PENDING = sa.text("status = 'pending'")
HANDOVER_LIMIT, HANDOVER_LIMIT_DAYS = 2, 90  # at most 2 handovers per customer in 90 days
COUNTED_KINDS = ("reassign", "engineer_left")  # a resident's own drop or request does not count
# How a completed handover reads in the binding history: (end_reason of the old, start_reason of the new).
HANDOVER_REASONS = {"reassign": ("reassigned", "reassigned"), "engineer_left": ("engineer_left", "handover"),
                    "request": ("changed", "requested")}
KIND_LABELS = {"reassign": "管理员转交", "engineer_left": "离职交接", "request": "住户申请更换"}
STATUS_LABELS = {"pending": "待确认", "completed": "已生效", "refused": "住户拒绝", "rejected": "已驳回",
                 "cancelled": "已取消"}


@dataclass
class HandoverOutcome:
    moved: int = 0  # customers offered to the new engineer (pending handovers started)
    # customers left where they are, by reason: `limit` (2 handovers in 90 days), `pending` (one is open)
    skipped: dict = field(default_factory=lambda: {"limit": 0, "pending": 0})
    ended: int = 0  # bindings ended at once (an engineer leaving: customers not handed over)


def _check_target(source: Engineer, target: Engineer) -> None:
    if source.id == target.id:
        raise BadRequest("不能转给同一位工程师", code="same_engineer")
    if target.status != "active":
        raise Conflict("接收的工程师未在职", code="target_engineer_inactive")


def reassign_customers(source: Engineer, target: Engineer, actor: User, estate_id: int | None = None,
                       *, now: datetime | None = None) -> HandoverOutcome:
    """Offer the source engineer's active customers (all, or one estate's) to the target engineer:
    a pending handover each, completed after HANDOVER_WINDOW unless the customer refuses."""
    _check_target(source, target)
    outcome = _hand_over(source, target, actor, "reassign", estate_id, now or utcnow())
    audit.record(actor, "engineer.customers.reassign", "engineer", source.id,
                 after={"to_engineer_id": target.id, "estate_id": estate_id, "moved": outcome.moved,
                        "skipped": outcome.skipped})
    return outcome


def _hand_over(source: Engineer, target: Engineer, actor: User, kind: str, estate_id: int | None,
               now: datetime) -> HandoverOutcome:
    stmt = sa.select(StewardBinding.resident_id, StewardBinding.estate_id).where(
        StewardBinding.engineer_id == source.id, StewardBinding.ended_at.is_(None))
    if estate_id:
        stmt = stmt.where(StewardBinding.estate_id == estate_id)
    bindings = db.session.execute(stmt.order_by(StewardBinding.id)).all()
    outcome = HandoverOutcome()
    due_at = now + HANDOVER_WINDOW
    h = StewardHandover.__table__.c
    since = now - timedelta(days=HANDOVER_LIMIT_DAYS)
    for chunk in _chunks(bindings):
        ids = [b.resident_id for b in chunk]
        pending = set(db.session.scalars(sa.select(h.resident_id).where(h.resident_id.in_(ids), h.status == "pending")))
        counted = dict(db.session.execute(sa.select(h.resident_id, sa.func.count()).where(
            h.resident_id.in_(ids), h.kind.in_(COUNTED_KINDS), h.status.in_(("pending", "completed")),
            h.created_at >= since).group_by(h.resident_id)).all())
        rows = []
        for b in chunk:
            if b.resident_id in pending:
                outcome.skipped["pending"] += 1
            elif counted.get(b.resident_id, 0) >= HANDOVER_LIMIT:
                outcome.skipped["limit"] += 1
            else:
                rows.append({"kind": kind, "resident_id": b.resident_id, "from_engineer_id": source.id,
                             "to_engineer_id": target.id, "estate_id": b.estate_id, "status": "pending",
                             "created_at": now, "created_by_id": getattr(actor, "id", None), "due_at": due_at})
        started = []
        for row in rows:  # the partial unique index keeps one pending handover per resident, also in a race
            if insert_or_nothing(StewardHandover, row, conflict=["resident_id"],
                                 where=_PENDING) is None:
                outcome.skipped["pending"] += 1
            else:
                started.append(row)
        outcome.moved += len(started)
        _notify_offered(started, source, target, due_at)
    db.session.flush()
    return outcome


def _chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _notify_offered(rows: list[dict], source: Engineer, target: Engineer, due_at: datetime) -> None:
    """Each customer hears who their new steward will be, and that they may refuse (one call per estate)."""
    by_estate: dict[int, list[int]] = {}
    for row in rows:
        by_estate.setdefault(row["estate_id"], []).append(row["resident_id"])
    for estate_id, residents in by_estate.items():
        estate = db.session.get(Estate, estate_id)
        notifications.notify(
            residents, kind="steward_handover", title="管家变更通知",
            body=f"您在{estate.name}的管家将由{source.name}变更为{target.name}。如不同意，请在"
                 f"{localtime(due_at)}前在小程序首页点击「拒绝」；逾期未处理将自动生效。",
            purpose="steward", page="pages/index/index",
            data={"thing1": f"新管家 {target.name}", "thing2": estate.name, "time3": localtime(due_at),
                  "thing4": "24小时内可在小程序拒绝"})


def deactivate_engineer(engineer: Engineer, actor: User, reassign_to: Engineer | None = None,
                        *, now: datetime | None = None) -> HandoverOutcome:
    """An engineer leaves: codes stop working; with a successor each customer is offered to them
    (pending handover, the binding stays until it decides); customers not handed over lose
    their steward at once (until their next scan)."""
    if engineer.status == "left":
        raise Conflict("该工程师已离职", code="engineer_already_left")
    now = now or utcnow()
    if reassign_to is not None:
        _check_target(engineer, reassign_to)
    engineer.status = "left"  # first: cancelling what was offered to them sees them gone
    engineer.left_at = now
    engineer.invite_code_hash = None
    db.session.flush()
    for handover in db.session.scalars(sa.select(StewardHandover).where(
            StewardHandover.to_engineer_id == engineer.id, StewardHandover.status == "pending")
            .with_for_update(of=StewardHandover)).all():
        _cancel(handover, actor, now)
    outcome = _hand_over(engineer, reassign_to, actor, "engineer_left", None, now) if reassign_to else HandoverOutcome()
    waiting = sa.select(StewardHandover.resident_id).where(  # their customers who wait for a handover
        StewardHandover.status == "pending", StewardHandover.from_engineer_id == engineer.id,
        StewardHandover.kind != "request")
    for binding in db.session.scalars(sa.select(StewardBinding).where(
            StewardBinding.engineer_id == engineer.id, StewardBinding.ended_at.is_(None),
            StewardBinding.resident_id.not_in(waiting)).with_for_update(of=StewardBinding)).all():
        _end_binding(binding, "engineer_left", actor)
        outcome.ended += 1
    if engineer.user_id:
        user = db.session.get(User, engineer.user_id)
        accounts.remove_role(user, "engineer")
    db.session.flush()
    audit.record(actor, "engineer.deactivate", "engineer", engineer.id, before={"status": "active"},
                 after={"status": "left", "reassign_to": getattr(reassign_to, "id", None), "moved": outcome.moved,
                        "skipped": outcome.skipped, "ended": outcome.ended,
                        "roles_removed": ["engineer"] if engineer.user_id else []})
    return outcome


def _lock_pending(handover_id: int) -> StewardHandover | None:
    return db.session.scalars(sa.select(StewardHandover).where(
        StewardHandover.id == handover_id, StewardHandover.status == "pending")
        .with_for_update(of=StewardHandover).execution_options(populate_existing=True)).first()


def _decide(handover: StewardHandover, status: str, actor_id: int | None, now: datetime,
            refusal_reason: str | None = None) -> None:
    handover.status = status
    handover.decided_at = now
    handover.decided_by_id = actor_id
    if refusal_reason is not None:
        handover.refusal_reason = refusal_reason
    db.session.flush()


def _end_with(binding: StewardBinding, reason: str, actor_id: int | None, now: datetime) -> None:
    binding.ended_at = now
    binding.end_reason = reason
    binding.ended_by_id = actor_id
    db.session.flush()


def _cancel(handover: StewardHandover, actor: User | None, now: datetime) -> None:
    """A handover that can no longer happen (its engineer left, the customer moved on). A
    customer still bound to an engineer who left loses that binding too."""
    _decide(handover, "cancelled", getattr(actor, "id", None), now)
    if handover.from_engineer_id is not None and handover.from_engineer.status == "left":
        current = active_binding(handover.resident_id, lock=True)
        if current is not None and current.engineer_id == handover.from_engineer_id:
            _end_with(current, "engineer_left", getattr(actor, "id", None), now)


def _complete(handover: StewardHandover, actor_id: int | None, now: datetime) -> bool:
    """Move the customer to the new steward; False (and cancelled) when that can no longer be."""
    current = active_binding(handover.resident_id, lock=True)
    target = handover.to_engineer
    moved_on = handover.kind != "request" and (current is None or current.engineer_id != handover.from_engineer_id)
    if moved_on or target.status != "active":
        _cancel(handover, None, now)
        return False
    _decide(handover, "completed", actor_id, now)
    if current is not None and current.engineer_id == target.id:
        return True  # already theirs (a scan of that engineer meanwhile)
    end_reason, start_reason = HANDOVER_REASONS[handover.kind]
    if current is not None:
        _end_with(current, end_reason, handover.created_by_id if handover.kind != "request" else actor_id, now)
    binding = insert_or_nothing(StewardBinding, dict(
        resident_id=handover.resident_id, engineer_id=target.id, estate_id=handover.estate_id,
        started_at=now, start_reason=start_reason), conflict=["resident_id"], where=_ACTIVE)
    if binding is None:  # unreachable while the active binding is locked; never two stewards
        raise Conflict("请求重复，请稍后刷新", code="duplicate_request")
    return True


def complete_due_handovers(now: datetime | None = None, *, batch: int = 200) -> dict:
    """Complete one batch of the handovers whose window ran out (the job commits and calls again).

    Rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, so two runs at once take
    different rows; each is decided only while still pending, so a repeat decides nothing twice."""
    now = now or utcnow()
    ids = db.session.scalars(sa.select(StewardHandover.id).where(
        StewardHandover.status == "pending", StewardHandover.due_at.is_not(None), StewardHandover.due_at <= now)
        .order_by(StewardHandover.due_at, StewardHandover.id).limit(batch)
        .with_for_update(skip_locked=True)).all()
    counts = {"claimed": len(ids), "completed": 0, "cancelled": 0}
    done = []
    for handover_id in ids:
        handover = _lock_pending(handover_id)
        if handover is None:
            continue
        if _complete(handover, None, now):
            counts["completed"] += 1
            done.append(handover.id)
        else:
            counts["cancelled"] += 1
    if done:
        audit.record(None, "steward.handover.complete", "steward_handover", done[0],
                     after={"completed": done})
    return counts


# -- the resident's side ------------------------------------------------------------------------

def my_handovers(user_id: int, limit: int = 20) -> list[StewardHandover]:
    """The resident's handovers and change requests, newest first (the pending one on top)."""
    return list(db.session.scalars(sa.select(StewardHandover).where(StewardHandover.resident_id == user_id)
                                   .order_by(StewardHandover.id.desc()).limit(limit)))


def _own_handover(user, handover_id: int) -> StewardHandover:
    handover = db.session.get(StewardHandover, handover_id)
    if handover is None or handover.resident_id != user.id:
        raise NotFound("管家变更不存在", code="handover_not_found")
    return handover


def _clean_reason(reason: str | None) -> str | None:
    return (reason or "").strip()[:200] or None


def refuse_handover(user, handover_id: int, reason: str | None = None, *, now: datetime | None = None) -> StewardHandover:
    """The customer says no within the window (their own change request: they withdraw it).
    Repeating the refusal answers the same."""
    now = now or utcnow()
    handover = _own_handover(user, handover_id)
    if handover.status in ("refused", "cancelled") and handover.decided_by_id == user.id:
        return handover
    locked = _lock_pending(handover.id)
    if locked is None:
        raise Conflict("该管家变更已处理", code="handover_decided")
    if locked.kind == "request":
        _decide(locked, "cancelled", user.id, now)
    else:
        if locked.due_at is not None and locked.due_at <= now:
            raise Conflict("已超过 24 小时，管家变更已生效", code="handover_expired")
        _decide(locked, "refused", user.id, now, _clean_reason(reason))
        if locked.from_engineer.status == "left":  # nobody to go back to: no steward until the next scan
            current = active_binding(user.id, lock=True)
            if current is not None and current.engineer_id == locked.from_engineer_id:
                _end_with(current, "refused", user.id, now)
    audit.record(user, "steward.handover.refuse", "steward_handover", locked.id,
                 before={"status": "pending"}, after={"status": locked.status, "reason": locked.refusal_reason})
    return locked


def accept_handover(user, handover_id: int, *, now: datetime | None = None) -> StewardHandover:
    """The customer agrees: the new steward at once. Repeating it answers the same."""
    now = now or utcnow()
    handover = _own_handover(user, handover_id)
    if handover.status == "completed":
        return handover
    locked = _lock_pending(handover.id)
    if locked is None or locked.kind == "request":
        raise Conflict("该管家变更已处理", code="handover_decided")
    if not _complete(locked, user.id, now):
        raise Conflict("该管家变更已失效", code="handover_cancelled")
    audit.record(user, "steward.handover.accept", "steward_handover", locked.id,
                 before={"status": "pending"}, after={"status": "completed"})
    return locked


def drop_steward(user, binding_id: int, reason: str | None, *, now: datetime | None = None) -> None:
    """The resident ends their steward binding (with a reason); no steward until their next scan.
    Dropping a binding that already ended is harmless."""
    reason = _clean_reason(reason)
    if not reason:
        raise invalid("reason", "required", "请填写解除原因")
    now = now or utcnow()
    binding = db.session.scalars(sa.select(StewardBinding).where(
        StewardBinding.id == binding_id, StewardBinding.resident_id == user.id)
        .with_for_update(of=StewardBinding)).first()
    if binding is None:
        raise NotFound("管家不存在", code="steward_not_found")
    if binding.ended_at is not None:
        return
    _end_with(binding, "dropped", user.id, now)
    for handover in db.session.scalars(sa.select(StewardHandover).where(
            StewardHandover.resident_id == user.id, StewardHandover.status == "pending",
            StewardHandover.kind != "request").with_for_update(of=StewardHandover)).all():
        _decide(handover, "cancelled", user.id, now)  # nothing left to hand over
    audit.record(user, "steward.drop", "steward_binding", binding.id,
                 before={"engineer_id": binding.engineer_id}, after={"end_reason": "dropped", "reason": reason})


def request_change(user, engineer_id: int, reason: str | None, estate_id: int | None = None,
                   *, now: datetime | None = None) -> tuple[StewardHandover, bool]:
    """The resident asks for another engineer covering their estate; staff decide. Repeating the
    same request answers the pending one (created False)."""
    reason = _clean_reason(reason)
    if not reason:
        raise invalid("reason", "required", "请填写更换原因")
    now = now or utcnow()
    current = active_binding(user.id)
    if estate_id is None:
        if current is None:
            raise invalid("estate_id", "required without a steward", "请选择小区")
        estate_id = current.estate_id
    elif not (current is not None and current.estate_id == estate_id) and not estates.is_resident(user.id, estate_id):
        raise Forbidden("您不是该小区的住户", code="not_resident")
    engineer = estates.get_engineer(engineer_id)
    if engineer.status != "active" or engineer.user_id == user.id:
        raise Conflict("该工程师暂不能接受申请", code="engineer_unavailable")
    if not estates.covers(engineer, estate_id):
        raise BadRequest("该工程师未负责您的小区", code="estate_not_covered")
    if current is not None and current.engineer_id == engineer.id:
        raise Conflict("该工程师已是您的管家", code="already_steward")
    values = {"kind": "request", "resident_id": user.id, "from_engineer_id": current.engineer_id if current else None,
              "to_engineer_id": engineer.id, "estate_id": estate_id, "status": "pending", "reason": reason,
              "created_at": now, "created_by_id": user.id, "due_at": None}
    handover = insert_or_nothing(StewardHandover, values, conflict=["resident_id"],
                                 where=_PENDING)
    if handover is None:
        pending = db.session.scalars(sa.select(StewardHandover).where(
            StewardHandover.resident_id == user.id, StewardHandover.status == "pending")).one()
        if pending.kind == "request" and pending.to_engineer_id == engineer.id:
            return pending, False
        raise Conflict("您有一项管家变更正在处理，请处理后再申请", code="handover_pending")
    audit.record(user, "steward.change.request", "steward_handover", handover.id,
                 after={"to_engineer_id": engineer.id, "estate_id": estate_id, "reason": reason})
    return handover, True


# -- staff: the handover queue ---------------------------------------------------------------------

def get_handover(handover_id: int) -> StewardHandover:
    handover = db.session.get(StewardHandover, handover_id)
    if handover is None:
        raise NotFound("管家变更不存在", code="handover_not_found")
    return handover


def list_handovers(*, status: str | None = None, kind: str | None = None, engineer_id: int | None = None,
                   resident_id: int | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    """Handovers and change requests, newest first; `engineer_id` matches either side."""
    stmt = sa.select(StewardHandover).options(sa.orm.joinedload(StewardHandover.resident))
    if status:
        stmt = stmt.where(StewardHandover.status == status)
    if kind:
        stmt = stmt.where(StewardHandover.kind == kind)
    if engineer_id:
        stmt = stmt.where(sa.or_(StewardHandover.from_engineer_id == engineer_id,
                                 StewardHandover.to_engineer_id == engineer_id))
    if resident_id:
        stmt = stmt.where(StewardHandover.resident_id == resident_id)
    return paginate(stmt, [StewardHandover.id], limit=limit, cursor=cursor)


def _staff_request(handover_id: int) -> StewardHandover:
    handover = get_handover(handover_id)
    if handover.kind != "request":
        raise Conflict("只有住户的更换申请需要审核", code="not_a_request")
    return handover


def approve_request(actor: User, handover_id: int, *, now: datetime | None = None) -> StewardHandover:
    """Staff approve a resident's change request: the binding is made at once (the resident asked)."""
    now = now or utcnow()
    handover = _staff_request(handover_id)
    if handover.status == "completed":
        return handover
    locked = _lock_pending(handover.id)
    if locked is None:
        raise Conflict("该申请已处理", code="handover_decided")
    if locked.to_engineer.status != "active" or not estates.covers(locked.to_engineer, locked.estate_id):
        raise Conflict("该工程师已不能接受此申请，请驳回", code="engineer_unavailable")
    _complete(locked, actor.id, now)
    notifications.notify([locked.resident_id], kind="steward_handover", title="管家更换申请已通过",
                         body=f"您的管家已更换为{locked.to_engineer.name}（{locked.estate.name}）。",
                         purpose="steward", page="pages/index/index",
                         data={"thing1": f"新管家 {locked.to_engineer.name}", "thing2": locked.estate.name,
                               "time3": localtime(now), "thing4": "更换申请已通过"})
    audit.record(actor, "steward.change.approve", "steward_handover", locked.id,
                 before={"status": "pending"}, after={"status": "completed"})
    return locked


def reject_request(actor: User, handover_id: int, reason: str | None, *, now: datetime | None = None) -> StewardHandover:
    """Staff reject a resident's change request, saying why; the resident keeps their steward."""
    now = now or utcnow()
    handover = _staff_request(handover_id)
    if handover.status == "rejected":
        return handover
    reason = _clean_reason(reason)
    if not reason:
        raise invalid("reason", "required", "请填写驳回原因")
    locked = _lock_pending(handover.id)
    if locked is None:
        raise Conflict("该申请已处理", code="handover_decided")
    _decide(locked, "rejected", actor.id, now, reason)
    notifications.notify([locked.resident_id], kind="steward_handover", title="管家更换申请未通过",
                         body=f"您申请更换管家为{locked.to_engineer.name}未通过：{reason}",
                         page="pages/index/index")
    audit.record(actor, "steward.change.reject", "steward_handover", locked.id,
                 before={"status": "pending"}, after={"status": "rejected", "reason": reason})
    return locked


def work_waiting(who: Principal) -> list:
    """The dashboard's waiting work of this area: residents' change requests (admins and agents)."""
    if not who.has_role("admin", "agent"):
        return []
    count = db.session.scalar(sa.select(sa.func.count()).select_from(StewardHandover).where(
        StewardHandover.status == "pending", StewardHandover.kind == "request"))
    return [("待确认的管家变更申请", count, {"status": "pending", "kind": "request"})]


# -- the console overview ---------------------------------------------------------------------

def overview_counts() -> dict:
    """Headline numbers for the admin overview."""
    day_start = utcnow() - timedelta(days=1)
    count = lambda stmt: db.session.scalar(stmt)  # noqa: E731
    return {
        "estates": count(sa.select(sa.func.count()).select_from(Estate)),
        "engineers": count(sa.select(sa.func.count()).where(Engineer.status == "active")),
        "invited": count(sa.select(sa.func.count()).where(Engineer.status == "invited")),
        "customers": count(sa.select(sa.func.count()).where(StewardBinding.ended_at.is_(None))),
        "bindings_24h": count(sa.select(sa.func.count()).where(  # confirmed fakes left out (community.trust)
            StewardBinding.started_at >= day_start, sa.func.coalesce(StewardBinding.end_reason, "") != "fake")),
        "visits_24h": count(sa.select(sa.func.count()).where(Visit.created_at >= day_start)),
    }
