"""Stewards (管家): the binding code an engineer shows at a visit, the one-call binding after
the scan, the resident's steward and its history, the engineer's customers, and moving
customers when an engineer hands over or leaves."""
from __future__ import annotations

import re
import secrets
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app

from community.estates import services as estates
from community.estates.models import Engineer, Estate, Residency
from community.stats import services as stats
from community.stewards.models import BindingCode, StewardBinding, Visit
from core import audit, crypto, signals
from core.accounts import services as accounts
from core.accounts.models import User
from core.accounts.services import Principal
from core.db import insert_or_nothing, utcnow
from core.errors import BadRequest, Conflict, Forbidden, Gone, NotFound, invalid
from core.extensions import db
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


def mint_binding_code(engineer: Engineer, estate_id: int, visit_ref: str | None = None) -> BindingCode:
    """A fresh mini-program code for a visit to a covered estate (image fetched once, stored)."""
    estate = estates.get_estate(estate_id)
    if estate.status != "active":
        raise Conflict("该小区已停用", code="estate_inactive")
    if not estates.covers(engineer, estate_id):
        raise Forbidden("您未负责该小区，请联系管理员分配", code="estate_not_covered")
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


def binding_code_for_scene(scene: str) -> BindingCode:
    _verify_scene(scene)
    code = db.session.scalars(sa.select(BindingCode).where(BindingCode.scene == scene)).first()
    if code is None:
        raise BadRequest("二维码无效，请让工程师重新出示", code="binding_code_invalid")
    return code


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


def bind_by_scene(wx_code: str, scene: str, rating: int | None = None,
                  comment: str | None = None) -> tuple[User, BindingOutcome]:
    """The one call after a scan: log in with the wx.login code, then bind steward and estate."""
    code = binding_code_for_scene(scene)  # checked before the wx code is spent
    user = accounts.login_with_wechat(wx_code)
    return user, bind(user, code, rating=rating, comment=comment)


def bind(user: User, code: BindingCode, *, rating: int | None = None, comment: str | None = None) -> BindingOutcome:
    engineer = code.engineer
    if engineer.status != "active" or not estates.covers(engineer, code.estate_id):
        raise Gone("该二维码已失效，请让工程师重新出示", code="binding_code_revoked")
    if engineer.user_id == user.id:
        raise BadRequest("工程师不能绑定自己", code="self_binding")
    if rating is not None and not 1 <= rating <= 5:
        raise invalid("rating", "must be 1–5", "评分须为 1–5 星")
    estates.join_estate(user, code.estate_id, source="binding")
    visit = _record_visit(user, code, rating, comment)
    binding, result = _assign_steward(user, code)
    if result in ("created", "switched"):
        signals.steward_bound.send(resident_id=user.id, engineer_id=binding.engineer_id, estate_id=binding.estate_id,
                                   first=result == "created" and _first_binding(user.id, binding.id))
    outcome = BindingOutcome(binding=binding, estate=code.estate, visit=visit, result=result)
    if binding is not None:
        outcome.rank = stats.ranks_of(binding.engineer_id).get(binding.estate_id, {}).get("rank")
    if visit.rating is not None and binding is not None and binding.engineer_id == code.engineer_id:
        _reward_rated_binding(user, binding, outcome)
    return outcome


def _first_binding(resident_id: int, binding_id: int) -> bool:
    """The resident never had a steward before this binding (none ended either)."""
    return db.session.scalar(sa.select(sa.literal(1)).where(
        StewardBinding.resident_id == resident_id, StewardBinding.id != binding_id).limit(1)) is None


def _reward_rated_binding(user: User, binding: StewardBinding, outcome: BindingOutcome) -> None:
    """A completed steward binding with a service rating earns the resident points, once per
    binding. The amount comes from the rule, never from the rating: rewarding good reviews is
    unlawful in China (Provisional Provisions against Unfair Competition on the Internet, Art. 9)."""
    try:
        posted = points.earn(user.id, rules.BINDING_RATING, f"binding:{binding.id}", "完成管家绑定并评价服务")
    except points.EarningRefused as refused:
        outcome.points_refused = refused
        return
    if posted.created:
        outcome.points = points.get_rule(rules.BINDING_RATING).points


def _record_visit(user: User, code: BindingCode, rating: int | None, comment: str | None) -> Visit:
    visit = db.session.scalars(sa.select(Visit).where(
        Visit.binding_code_id == code.id, Visit.resident_id == user.id)).first()
    if visit is None:
        # Count this resident against the code's uses; the condition holds under concurrency.
        taken = db.session.execute(sa.update(BindingCode).where(
            BindingCode.id == code.id, BindingCode.uses < current_app.config["BINDING_CODE_MAX_USES"]
        ).values(uses=BindingCode.uses + 1)).rowcount
        if not taken:
            raise Gone("该二维码使用次数已满，请让工程师刷新", code="binding_code_used_up")
        visit = insert_or_nothing(Visit, dict(
            engineer_id=code.engineer_id, resident_id=user.id, estate_id=code.estate_id,
            binding_code_id=code.id, visit_ref=code.visit_ref), conflict=["binding_code_id", "resident_id"])
        if visit is None:  # the same resident's twin request won
            raise Conflict("请求重复，请稍后刷新", code="duplicate_request")
    # The rating is given once; a repeated call may add it but never change it.
    if rating is not None and visit.rating is None:
        visit.rating = rating
        visit.comment = (comment or "").strip()[:500] or None
    db.session.flush()
    return visit


def active_binding(user_id: int, *, lock: bool = False) -> StewardBinding | None:
    stmt = sa.select(StewardBinding).where(StewardBinding.resident_id == user_id,
                                           StewardBinding.ended_at.is_(None))
    if lock:
        stmt = stmt.with_for_update(of=StewardBinding)
    return db.session.scalars(stmt).first()


def _assign_steward(user: User, code: BindingCode) -> tuple[StewardBinding | None, str]:
    current = active_binding(user.id, lock=True)
    if current is not None and current.engineer_id == code.engineer_id:
        return current, "unchanged"
    if current is not None:
        if _protected(current):
            return current, "kept"
        _end_binding(current, "takeover", None)
        result = "switched"
    else:
        result = "created"
    binding = insert_or_nothing(StewardBinding, dict(
        resident_id=user.id, engineer_id=code.engineer_id, estate_id=code.estate_id,
        start_reason="scan" if result == "created" else "takeover"),
        conflict=["resident_id"], where=StewardBinding.ended_at.is_(None))
    if binding is None:
        # A concurrent call bound this resident first (the partial unique index held): use that.
        binding = active_binding(user.id)
        return binding, "unchanged" if binding and binding.engineer_id == code.engineer_id else "kept"
    binding.engineer, binding.estate = code.engineer, code.estate  # known: no reload for the response
    return binding, result


def _protected(binding: StewardBinding) -> bool:
    """The current steward keeps the resident while they visited them within the protection window."""
    days = current_app.config["STEWARD_PROTECTION_DAYS"]
    if days <= 0:
        return False
    last_visit = db.session.scalar(sa.select(sa.func.max(Visit.created_at)).where(
        Visit.resident_id == binding.resident_id, Visit.engineer_id == binding.engineer_id))
    if last_visit is not None and last_visit.tzinfo is None:
        last_visit = last_visit.replace(tzinfo=timezone.utc)  # func.max bypasses the column type
    since = max(filter(None, (last_visit, binding.started_at)))
    return since > utcnow() - timedelta(days=days)


def _end_binding(binding: StewardBinding, reason: str, actor: User | None) -> None:
    binding.ended_at = utcnow()
    binding.end_reason = reason
    binding.ended_by_id = actor.id if actor else None
    db.session.flush()


# A resident's steward card is read on every mini-program start: a Core statement built once,
# returning plain values, costs a fraction of an ORM load with two joined entities.
_b, _g, _e = StewardBinding.__table__.c, Engineer.__table__.c, Estate.__table__.c  # no ORM compile step
_STEWARD_CARDS = sa.select(
    _b.id, _b.started_at, _g.id.label("engineer_id"), _g.name.label("engineer_name"), _g.phone, _g.status, _g.photo,
    _e.id.label("estate_id"), _e.name.label("estate_name"), _e.city, _e.district,
).select_from(StewardBinding.__table__.join(Engineer.__table__, _g.id == _b.engineer_id)
              .join(Estate.__table__, _e.id == _b.estate_id)).where(
    _b.resident_id == sa.bindparam("resident_id"), _b.ended_at.is_(None))


def stewards_of(user_id: int) -> list[dict]:
    """The resident's active steward(s), shaped like StewardBinding for the StewardSchema."""
    return [{
        "id": row.id, "started_at": row.started_at,
        "engineer": {"id": row.engineer_id, "name": row.engineer_name, "phone": row.phone, "status": row.status,
                     "photo": row.photo},
        "estate": {"id": row.estate_id, "name": row.estate_name, "city": row.city, "district": row.district},
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


def reassign_customers(source: Engineer, target: Engineer, actor: User, estate_id: int | None = None) -> int:
    """Move the source engineer's active customers (all, or one estate's) to the target engineer."""
    if source.id == target.id:
        raise BadRequest("不能转给同一位工程师", code="same_engineer")
    if target.status != "active":
        raise Conflict("接收的工程师未在职", code="target_engineer_inactive")
    stmt = sa.select(StewardBinding).where(StewardBinding.engineer_id == source.id,
                                           StewardBinding.ended_at.is_(None))
    if estate_id:
        stmt = stmt.where(StewardBinding.estate_id == estate_id)
    moved = 0
    for binding in db.session.scalars(stmt.with_for_update(of=StewardBinding)).all():
        _end_binding(binding, "reassigned", actor)
        db.session.add(StewardBinding(resident_id=binding.resident_id, engineer_id=target.id,
                                      estate_id=binding.estate_id, start_reason="reassigned"))
        moved += 1
    db.session.flush()
    audit.record(actor, "engineer.customers.reassign", "engineer", source.id,
                 after={"to_engineer_id": target.id, "estate_id": estate_id, "moved": moved})
    return moved


def deactivate_engineer(engineer: Engineer, actor: User, reassign_to: Engineer | None = None) -> int:
    """An engineer leaves: codes stop working, customers go to `reassign_to` or lose their steward."""
    if engineer.status == "left":
        raise Conflict("该工程师已离职", code="engineer_already_left")
    moved = reassign_customers(engineer, reassign_to, actor) if reassign_to else 0
    for binding in db.session.scalars(sa.select(StewardBinding).where(
            StewardBinding.engineer_id == engineer.id, StewardBinding.ended_at.is_(None))).all():
        _end_binding(binding, "engineer_left", actor)
    engineer.status = "left"
    engineer.left_at = utcnow()
    engineer.invite_code_hash = None
    if engineer.user_id:
        user = db.session.get(User, engineer.user_id)
        accounts.remove_role(user, "engineer")
    db.session.flush()
    audit.record(actor, "engineer.deactivate", "engineer", engineer.id, before={"status": "active"},
                 after={"status": "left", "reassign_to": getattr(reassign_to, "id", None), "moved": moved,
                        "roles_removed": ["engineer"] if engineer.user_id else []})
    return moved


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
        "bindings_24h": count(sa.select(sa.func.count()).where(StewardBinding.started_at >= day_start)),
        "visits_24h": count(sa.select(sa.func.count()).where(Visit.created_at >= day_start)),
    }
