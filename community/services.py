"""Estates, engineers, residency and steward binding: the business rules.

Steward rules (README "Steward rules"):
- A resident has at most one active steward. A scan of another engineer's code records the
  visit and the estate, but takes the resident over only when the current steward has not
  visited them for STEWARD_PROTECTION_DAYS (an active steward keeps the customer they serve).
- History is append-only: a binding is ended (with reason and actor), never edited or deleted.
- When an engineer leaves, an admin reassigns their customers to another engineer (all, or
  one estate at a time); whatever is not reassigned ends with reason `engineer_left`.
"""
from __future__ import annotations

import re
import secrets
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from community.models import (BindingCode, Engineer, EngineerEstate, Estate, Residency, StewardBinding,
                              Visit)
from core import audit, crypto
from core.accounts import services as accounts
from core.accounts.models import User
from core.db import insert_or_nothing, utcnow
from core.errors import BadRequest, Conflict, Forbidden, Gone, NotFound, ValidationFailed
from core.extensions import db
from core.pagination import Page, paginate
from core.wechat import gateway
from points import services as points

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
EMPLOYEE_NO_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Crockford base32 without I, L, O, U: easy to read aloud and type from a screen.
INVITE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
INVITE_LENGTH = 10


def _invalid(field: str, message: str, zh: str) -> ValidationFailed:
    return ValidationFailed(zh, details={"fields": {field: [message]}})


# -- estates ----------------------------------------------------------------------------------

ESTATE_FIELDS = ("code", "name", "province", "city", "district", "address", "lat", "lng", "households", "status")
HOUSEHOLDS_MAX = 2**31 - 1


def clean_estate(data: dict, *, partial: bool = False) -> dict:
    """Validate and normalise estate fields (shared by the API, the pages and the CSV import).

    Raises ValidationFailed listing every bad field.
    """
    out, errors = {}, {}
    for name in ("name", "province", "city", "district"):
        if name in data or not partial:
            value = (data.get(name) or "").strip()
            if not value:
                errors[name] = ["required"]
            elif len(value) > (128 if name == "name" else 32):
                errors[name] = ["too long"]
            out[name] = value
    if "address" in data or not partial:
        out["address"] = (data.get("address") or "").strip()
        if len(out["address"]) > 255:
            errors["address"] = ["too long"]
    if "code" in data:
        code = (data.get("code") or "").strip() or None
        if code is not None and len(code) > 64:
            errors["code"] = ["too long"]
        out["code"] = code
    for name in ("code", "name", "province", "city", "district", "address"):
        # PostgreSQL refuses NUL in text: caught here, it is one bad field, not a failed batch.
        if out.get(name) and "\x00" in out[name]:
            errors.setdefault(name, []).append("must not contain NUL characters")
    for name, limit in (("lat", 90), ("lng", 180)):
        if name in data or not partial:
            raw = data.get(name)
            if raw in (None, ""):
                out[name] = None
                continue
            try:
                value = Decimal(str(raw)).quantize(Decimal("0.000001"))
            except InvalidOperation:
                errors[name] = ["not a number"]
                continue
            if not -limit <= value <= limit:
                errors[name] = [f"must be between -{limit} and {limit}"]
            out[name] = value
    if "households" in data or not partial:
        raw = data.get("households")
        try:
            households = int(raw) if raw not in (None, "") else 0
            if households < 0:
                raise ValueError
            out["households"] = households
        except (TypeError, ValueError):
            errors["households"] = ["must be a whole number ≥ 0"]
        else:
            if households > HOUSEHOLDS_MAX:  # the column is a 32-bit INTEGER on PostgreSQL
                errors["households"] = [f"must be at most {HOUSEHOLDS_MAX}"]
    if "status" in data or not partial:
        status = (data.get("status") or "active").strip()
        if status not in ("active", "inactive"):
            errors["status"] = ["must be active or inactive"]
        out["status"] = status
    if errors:
        raise ValidationFailed("小区信息有误", details={"fields": errors})
    return out


def _estate_state(estate: Estate) -> dict:
    return {f: getattr(estate, f) for f in ESTATE_FIELDS}


def create_estate(data: dict, *, actor: User | None) -> Estate:
    fields = clean_estate(data)
    _check_estate_code_free(fields.get("code"))
    estate = Estate(**fields)
    db.session.add(estate)
    db.session.flush()
    audit.record(actor, "estate.create", "estate", estate.id, after=_estate_state(estate))
    return estate


def update_estate(estate: Estate, data: dict, *, actor: User | None) -> Estate:
    fields = clean_estate(data, partial=True)
    if fields.get("code") and fields["code"] != estate.code:
        _check_estate_code_free(fields["code"])
    before = _estate_state(estate)
    for name, value in fields.items():
        setattr(estate, name, value)
    db.session.flush()
    audit.record(actor, "estate.update", "estate", estate.id, before=before, after=_estate_state(estate))
    return estate


def _check_estate_code_free(code: str | None) -> None:
    if code and db.session.scalars(sa.select(Estate.id).where(Estate.code == code)).first():
        raise Conflict("小区编码已存在", code="estate_code_taken")


def get_estate(estate_id: int) -> Estate:
    estate = db.session.get(Estate, estate_id)
    if estate is None:
        raise NotFound("小区不存在", code="estate_not_found")
    return estate


def search_estates(*, q: str | None = None, province: str | None = None, city: str | None = None,
                   district: str | None = None, status: str | None = None,
                   limit: int = 20, cursor: str | None = None) -> Page:
    """Filter by region (indexed equality) and name (contains); newest first."""
    stmt = sa.select(Estate)
    for column, value in ((Estate.province, province), (Estate.city, city), (Estate.district, district),
                          (Estate.status, status)):
        if value:
            stmt = stmt.where(column == value)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(sa.or_(Estate.name.like(pattern, escape="\\"), Estate.code == q))
    return paginate(stmt, [Estate.id], limit=limit, cursor=cursor)


def upsert_estates(rows: list[dict], fields: Iterable[str] = ESTATE_FIELDS) -> None:
    """Insert or update cleaned estate rows by their code (the CSV import's batches).

    An update overwrites only `fields`, so a file without an optional column keeps what is stored.
    Give each code once per call: a multi-row INSERT … ON CONFLICT is refused by PostgreSQL when it
    touches a row twice, and the import counts inserts and updates per distinct code.
    """
    if not rows:
        return
    now = utcnow()
    for row in rows:
        row.setdefault("created_at", now)
        row["updated_at"] = now
    # One single-row statement run as an executemany: SQLAlchemy compiles it once and caches it.
    # (core.db.upsert builds a multi-row VALUES, compiled afresh on every call: ~1 s per 1,000 rows.)
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    stmt = insert(Estate.__table__)
    update = [f for f in ESTATE_FIELDS if f != "code" and f in fields] + ["updated_at"]
    stmt = stmt.on_conflict_do_update(index_elements=["code"], set_={c: stmt.excluded[c] for c in update})
    db.session.execute(stmt, rows)


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


# -- engineers --------------------------------------------------------------------------------

def _normalise_invite(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def _new_invite(engineer: Engineer) -> str:
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
    engineer.invite_code_hash = crypto.token_hash(code)
    engineer.invite_expires_at = utcnow() + timedelta(days=current_app.config["ENGINEER_INVITE_TTL_DAYS"])
    return f"{code[:5]}-{code[5:]}"


def _clean_engineer(data: dict, *, partial: bool = False) -> dict:
    out, errors = {}, {}
    if "name" in data or not partial:
        name = (data.get("name") or "").strip()
        if not name or len(name) > 64:
            errors["name"] = ["required, at most 64 characters"]
        out["name"] = name
    if "phone" in data or not partial:
        phone = re.sub(r"[\s-]", "", data.get("phone") or "")
        if not PHONE_RE.match(phone):
            errors["phone"] = ["must be an 11-digit mainland mobile number"]
        out["phone"] = phone
    if not partial:
        employee_no = (data.get("employee_no") or "").strip()
        if not EMPLOYEE_NO_RE.match(employee_no):
            errors["employee_no"] = ["1–32 letters, digits, - or _"]
        out["employee_no"] = employee_no
    if errors:
        raise ValidationFailed("工程师信息有误", details={"fields": errors})
    return out


def _engineer_state(engineer: Engineer) -> dict:
    return {"name": engineer.name, "phone": engineer.phone, "employee_no": engineer.employee_no,
            "status": engineer.status, "user_id": engineer.user_id}


def create_engineer(data: dict, estate_ids: list[int] | None = None, *, actor: User | None) -> tuple[Engineer, str]:
    """Create an engineer and their one-time invite code (returned once, stored hashed)."""
    fields = _clean_engineer(data)
    if db.session.scalars(sa.select(Engineer.id).where(Engineer.employee_no == fields["employee_no"])).first():
        raise Conflict("工号已存在", code="employee_no_taken")
    engineer = Engineer(**fields, status="invited")
    invite = _new_invite(engineer)
    db.session.add(engineer)
    db.session.flush()
    audit.record(actor, "engineer.create", "engineer", engineer.id, after=_engineer_state(engineer))
    if estate_ids:
        set_engineer_estates(engineer, estate_ids, actor=actor)
    return engineer, invite


def update_engineer(engineer: Engineer, data: dict, *, actor: User | None) -> Engineer:
    before = _engineer_state(engineer)
    for name, value in _clean_engineer(data, partial=True).items():
        setattr(engineer, name, value)
    db.session.flush()
    audit.record(actor, "engineer.update", "engineer", engineer.id, before=before, after=_engineer_state(engineer))
    return engineer


def renew_invite(engineer: Engineer, *, actor: User | None) -> str:
    if engineer.status != "invited":
        raise Conflict("该工程师已激活，无需邀请码", code="engineer_already_claimed")
    invite = _new_invite(engineer)
    audit.record(actor, "engineer.invite.renew", "engineer", engineer.id,
                 after={"invite_expires_at": engineer.invite_expires_at})
    return invite


def set_engineer_password(engineer: Engineer, password: str, *, actor: User | None) -> None:
    """An admin sets a claimed engineer's workbench password (audited; the password is not)."""
    accounts.set_password(engineer_account(engineer), password)
    audit.record(actor, "engineer.password.set", "engineer", engineer.id)


def claim_engineer(user: User, invite_code: str) -> Engineer:
    """The engineer enters their invite code in the mini-program: their WeChat account becomes theirs."""
    code = _normalise_invite(invite_code)
    engineer = None
    if len(code) == INVITE_LENGTH:
        engineer = db.session.scalars(sa.select(Engineer).where(
            Engineer.invite_code_hash == crypto.token_hash(code)).with_for_update(of=Engineer)).first()
    if engineer is None or engineer.status != "invited":
        raise BadRequest("邀请码无效或已使用", code="invite_code_invalid")
    if engineer.invite_expires_at <= utcnow():
        raise Gone("邀请码已过期，请联系管理员重新生成", code="invite_code_expired")
    if db.session.scalars(sa.select(Engineer.id).where(Engineer.user_id == user.id)).first():
        raise Conflict("该微信账号已绑定其他工程师", code="already_engineer")
    engineer.user_id = user.id
    engineer.status = "active"
    engineer.claimed_at = utcnow()
    engineer.invite_code_hash = None
    accounts.add_role(user, "engineer")
    user.display_name = user.display_name or engineer.name
    if user.username is None and not db.session.scalars(
            sa.select(User.id).where(User.username == engineer.employee_no)).first():
        user.username = engineer.employee_no  # the web workbench login
    db.session.flush()
    return engineer


def get_engineer(engineer_id: int) -> Engineer:
    engineer = db.session.get(Engineer, engineer_id)
    if engineer is None:
        raise NotFound("工程师不存在", code="engineer_not_found")
    return engineer


def engineer_by_employee_no(employee_no: str) -> Engineer:
    engineer = db.session.scalars(sa.select(Engineer).where(Engineer.employee_no == employee_no)).first()
    if engineer is None:
        raise NotFound(f"工号 {employee_no} 不存在", code="engineer_not_found")
    return engineer


def engineer_account(engineer: Engineer) -> User:
    """The user account of a claimed engineer."""
    if engineer.user_id is None:
        raise Conflict("该工程师尚未在小程序中激活", code="engineer_not_claimed")
    return db.session.get(User, engineer.user_id)


def engineer_of(user_id: int) -> Engineer:
    """The active engineer profile of a user, or 403."""
    engineer = db.session.scalars(sa.select(Engineer).where(Engineer.user_id == user_id)).first()
    if engineer is None or engineer.status != "active":
        raise Forbidden("仅在职工程师可以使用", code="not_engineer")
    return engineer


def list_engineers(*, q: str | None = None, status: str | None = None, estate_id: int | None = None,
                   limit: int = 20, cursor: str | None = None) -> Page:
    stmt = sa.select(Engineer)
    if status:
        stmt = stmt.where(Engineer.status == status)
    if estate_id:
        stmt = stmt.where(Engineer.id.in_(sa.select(EngineerEstate.engineer_id).where(
            EngineerEstate.estate_id == estate_id)))
    if q:
        stmt = stmt.where(sa.or_(Engineer.name.contains(q, autoescape=True),
                                 Engineer.employee_no == q, Engineer.phone == q))
    return paginate(stmt.options(sa.orm.selectinload(Engineer.estates)), [Engineer.id], limit=limit, cursor=cursor)


def set_engineer_estates(engineer: Engineer, estate_ids: list[int], *, actor: User | None) -> Engineer:
    """Replace the estates an engineer covers."""
    wanted = set(estate_ids)
    found = set(db.session.scalars(sa.select(Estate.id).where(Estate.id.in_(wanted))))
    missing = sorted(wanted - found)
    if missing:
        raise ValidationFailed("部分小区不存在", details={"fields": {"estate_ids": [f"unknown estate {i}" for i in missing]}})
    current = set(db.session.scalars(sa.select(EngineerEstate.estate_id).where(
        EngineerEstate.engineer_id == engineer.id)))
    if current - wanted:
        db.session.execute(sa.delete(EngineerEstate).where(
            EngineerEstate.engineer_id == engineer.id, EngineerEstate.estate_id.in_(current - wanted)))
    for estate_id in sorted(wanted - current):
        db.session.add(EngineerEstate(engineer_id=engineer.id, estate_id=estate_id))
    db.session.flush()
    db.session.expire(engineer, ["estates"])
    if wanted != current:
        audit.record(actor, "engineer.estates.set", "engineer", engineer.id,
                     before={"estate_ids": sorted(current)}, after={"estate_ids": sorted(wanted)})
    return engineer


def covers(engineer: Engineer, estate_id: int) -> bool:
    return db.session.get(EngineerEstate, (engineer.id, estate_id)) is not None


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
    estate = get_estate(estate_id)
    if estate.status != "active":
        raise Conflict("该小区已停用", code="estate_inactive")
    if not covers(engineer, estate_id):
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
    points_refused: points.EarningRefused | None = None  # why none were granted, when a rule said no


def bind_by_scene(wx_code: str, scene: str, rating: int | None = None,
                  comment: str | None = None) -> tuple[User, BindingOutcome]:
    """The one call after a scan: log in with the wx.login code, then bind steward and estate."""
    code = binding_code_for_scene(scene)  # checked before the wx code is spent
    user = accounts.login_with_wechat(wx_code)
    return user, bind(user, code, rating=rating, comment=comment)


def bind(user: User, code: BindingCode, *, rating: int | None = None, comment: str | None = None) -> BindingOutcome:
    engineer = code.engineer
    if engineer.status != "active" or not covers(engineer, code.estate_id):
        raise Gone("该二维码已失效，请让工程师重新出示", code="binding_code_revoked")
    if engineer.user_id == user.id:
        raise BadRequest("工程师不能绑定自己", code="self_binding")
    if rating is not None and not 1 <= rating <= 5:
        raise _invalid("rating", "must be 1–5", "评分须为 1–5 星")
    join_estate(user, code.estate_id, source="binding")
    visit = _record_visit(user, code, rating, comment)
    binding, result = _assign_steward(user, code)
    outcome = BindingOutcome(binding=binding, estate=code.estate, visit=visit, result=result)
    if visit.rating is not None and binding is not None and binding.engineer_id == code.engineer_id:
        _reward_rated_binding(user, binding, outcome)
    return outcome


def _reward_rated_binding(user: User, binding: StewardBinding, outcome: BindingOutcome) -> None:
    """A completed steward binding with a service rating earns the resident points, once per
    binding. The amount comes from the rule, never from the rating: rewarding good reviews is
    unlawful in China (Provisional Provisions against Unfair Competition on the Internet, Art. 9)."""
    try:
        posted = points.earn(user.id, "binding_rating", f"binding:{binding.id}", "完成管家绑定并评价服务")
    except points.EarningRefused as refused:
        outcome.points_refused = refused
        return
    if posted.created:
        outcome.points = points.get_rule("binding_rating").points


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
    _b.id, _b.started_at, _g.id.label("engineer_id"), _g.name.label("engineer_name"), _g.phone, _g.status,
    _e.id.label("estate_id"), _e.name.label("estate_name"), _e.city, _e.district,
).select_from(StewardBinding.__table__.join(Engineer.__table__, _g.id == _b.engineer_id)
              .join(Estate.__table__, _e.id == _b.estate_id)).where(
    _b.resident_id == sa.bindparam("resident_id"), _b.ended_at.is_(None))


def stewards_of(user_id: int) -> list[dict]:
    """The resident's active steward(s), shaped like StewardBinding for the StewardSchema."""
    return [{
        "id": row.id, "started_at": row.started_at,
        "engineer": {"id": row.engineer_id, "name": row.engineer_name, "phone": row.phone, "status": row.status},
        "estate": {"id": row.estate_id, "name": row.estate_name, "city": row.city, "district": row.district},
    } for row in db.session.execute(_STEWARD_CARDS, {"resident_id": user_id})]


def binding_history(user_id: int) -> list[StewardBinding]:
    return list(db.session.scalars(sa.select(StewardBinding).where(
        StewardBinding.resident_id == user_id).order_by(StewardBinding.id.desc())))


# -- residency --------------------------------------------------------------------------------

def estates_of(user: User) -> list[Residency]:
    return list(db.session.scalars(sa.select(Residency).where(
        Residency.user_id == user.id, Residency.left_at.is_(None)).order_by(Residency.joined_at)))


def is_resident(user_id: int, estate_id: int) -> bool:
    """The user lives in the estate now (an active residency)."""
    return db.session.scalar(sa.select(sa.literal(1)).where(
        Residency.user_id == user_id, Residency.estate_id == estate_id, Residency.left_at.is_(None))) is not None


def join_estate(user: User, estate_id: int, source: str = "self") -> tuple[Residency, bool]:
    """Make the user a resident of an estate; returns (residency, created). Repeating is harmless."""
    estate = get_estate(estate_id)
    if estate.status != "active" and source == "self":
        raise Conflict("该小区已停用", code="estate_inactive")
    residency = db.session.scalars(sa.select(Residency).where(
        Residency.user_id == user.id, Residency.estate_id == estate_id)).first()
    if residency is not None:
        if residency.left_at is None:
            return residency, False
        residency.left_at, residency.joined_at, residency.source = None, utcnow(), source
        db.session.flush()
        return residency, True
    residency = insert_or_nothing(Residency, dict(user_id=user.id, estate_id=estate_id, source=source),
                                  conflict=["user_id", "estate_id"])
    if residency is None:  # a concurrent twin joined first
        return db.session.scalars(sa.select(Residency).where(
            Residency.user_id == user.id, Residency.estate_id == estate_id)).one(), False
    residency.estate = estate
    return residency, True


def leave_estate(user: User, estate_id: int) -> None:
    residency = db.session.scalars(sa.select(Residency).where(
        Residency.user_id == user.id, Residency.estate_id == estate_id, Residency.left_at.is_(None))).first()
    if residency is None:
        raise NotFound("您不是该小区的住户", code="residency_not_found")
    residency.left_at = utcnow()
    db.session.flush()


# -- an engineer's customers --------------------------------------------------------------------

def customers_of(engineer: Engineer, *, estate_id: int | None = None, limit: int = 20,
                 cursor: str | None = None) -> Page:
    """The engineer's current customers (active bindings), newest first."""
    stmt = sa.select(StewardBinding).where(StewardBinding.engineer_id == engineer.id,
                                           StewardBinding.ended_at.is_(None))
    if estate_id:
        stmt = stmt.where(StewardBinding.estate_id == estate_id)
    return paginate(stmt.options(sa.orm.joinedload(StewardBinding.resident)), [StewardBinding.id],
                    limit=limit, cursor=cursor)


@dataclass
class CustomerDetail:
    binding: StewardBinding
    resident: User
    estates: list[Residency]
    visits: list[Visit]


def customer_of(engineer: Engineer, resident_id: int) -> CustomerDetail:
    """One of the engineer's own customers; anyone else's is a 404 (not 403: nothing leaks)."""
    binding = db.session.scalars(sa.select(StewardBinding).where(
        StewardBinding.resident_id == resident_id, StewardBinding.engineer_id == engineer.id,
        StewardBinding.ended_at.is_(None))).first()
    if binding is None:
        raise NotFound("客户不存在", code="customer_not_found")
    visits = list(db.session.scalars(sa.select(Visit).where(
        Visit.resident_id == resident_id, Visit.engineer_id == engineer.id).order_by(Visit.id.desc()).limit(50)))
    return CustomerDetail(binding=binding, resident=binding.resident, estates=estates_of(binding.resident),
                          visits=visits)
