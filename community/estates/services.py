"""Estates (create, edit, search, bulk upsert), engineers (created by admins, claimed with an
invite code, covering estates, their own profile), residency (a resident belongs to one or more
estates) and residents' address books.

Plain functions taking the acting user; they flush, the caller commits."""
from __future__ import annotations

import math
import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from community.estates.models import Address, AgentDuty, Engineer, EngineerEstate, Estate, Residency
from core import audit, crypto, signals
from core.accounts import services as accounts
from core.accounts.models import User
from core.db import insert_or_nothing, starts_with, utcnow
from core.errors import BadRequest, Conflict, Forbidden, Gone, NotFound, ValidationFailed, invalid
from core.extensions import db
from core.pagination import Page, decode_cursor, encode_cursor, paginate
from core.uploads import services as uploads
from core.wechat import gateway

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
EMPLOYEE_NO_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Crockford base32 without I, L, O, U: easy to read aloud and type from a screen.
INVITE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
INVITE_LENGTH = 10


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
                errors[name] = ["必填"]
            elif len(value) > (128 if name == "name" else 32):
                errors[name] = [f"最多 {128 if name == 'name' else 32} 个字"]
            out[name] = value
    if "address" in data or not partial:
        out["address"] = (data.get("address") or "").strip()
        if len(out["address"]) > 255:
            errors["address"] = ["最多 255 个字"]
    if "code" in data:
        code = (data.get("code") or "").strip() or None
        if code is not None and len(code) > 64:
            errors["code"] = ["最多 64 个字"]
        out["code"] = code
    for name in ("code", "name", "province", "city", "district", "address"):
        # PostgreSQL refuses NUL in text: caught here, it is one bad field, not a failed batch.
        if out.get(name) and "\x00" in out[name]:
            errors.setdefault(name, []).append("含有无效字符")
    for name, limit in (("lat", 90), ("lng", 180)):
        if name in data or not partial:
            raw = data.get(name)
            if raw in (None, ""):
                out[name] = None
                continue
            try:
                value = Decimal(str(raw)).quantize(Decimal("0.000001"))
            except InvalidOperation:
                errors[name] = ["应为数字"]
                continue
            if not -limit <= value <= limit:
                errors[name] = [f"应在 -{limit} 到 {limit} 之间"]
            out[name] = value
    if "households" in data or not partial:
        raw = data.get("households")
        try:
            households = int(raw) if raw not in (None, "") else 0
            if households < 0:
                raise ValueError
            out["households"] = households
        except (TypeError, ValueError):
            errors["households"] = ["应为不小于 0 的整数"]
        else:
            if households > HOUSEHOLDS_MAX:  # the column is a 32-bit INTEGER on PostgreSQL
                errors["households"] = [f"不能大于 {HOUSEHOLDS_MAX}"]
    if "status" in data or not partial:
        status = (data.get("status") or "active").strip()
        if status not in ("active", "inactive"):
            errors["status"] = ["须为 active（启用）或 inactive（停用）"]
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


def estates_by_id(ids) -> dict[int, Estate]:
    """The estates behind these ids (one query), for names in tables; unknown ids are left out."""
    wanted = {i for i in ids if isinstance(i, int)}
    if not wanted:
        return {}
    return {e.id: e for e in db.session.scalars(sa.select(Estate).where(Estate.id.in_(wanted)))}


def reach_of(estate_ids: sa.Select) -> tuple[int, int]:
    """(estates, households) of the distinct estates a one-column SELECT of ids names, in one
    statement (a partner's reach across its live offers)."""
    wanted = sa.select(estate_ids.subquery().c[0].label("estate_id")).distinct().subquery()
    row = db.session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Estate.households), 0))
                             .select_from(Estate).join(wanted, wanted.c.estate_id == Estate.id)).one()
    return row[0], int(row[1])


def _estate_filters(*, q: str | None, province: str | None, city: str | None, district: str | None,
                    status: str | None) -> list:
    """Region (indexed equality), status, and name contains or exact code."""
    where = [column == value for column, value in (
        (Estate.province, province), (Estate.city, city), (Estate.district, district), (Estate.status, status))
        if value]
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(sa.or_(Estate.name.like(pattern, escape="\\"), Estate.code == q))
    return where


def search_estates(*, q: str | None = None, province: str | None = None, city: str | None = None,
                   district: str | None = None, status: str | None = None,
                   limit: int = 20, cursor: str | None = None) -> Page:
    """Filter by region (indexed equality) and name (contains); newest first."""
    stmt = sa.select(Estate).where(*_estate_filters(q=q, province=province, city=city, district=district,
                                                     status=status))
    return paginate(stmt, [Estate.id], limit=limit, cursor=cursor)


def estates_where(*, q: str | None = None, province: str | None = None, city: str | None = None,
                  district: str | None = None) -> sa.Select:
    """SELECT id, name, province, city, district of the estates a console filter names (region,
    and name contains or exact code), for a report to join its figures with."""
    return sa.select(Estate.id, Estate.name, Estate.province, Estate.city, Estate.district).where(
        *_estate_filters(q=q, province=province, city=city, district=district, status=None))


def pick_estates(q: str, *, limit: int = accounts.PICK_LIMIT) -> list[Estate]:
    """A picker's suggestions: the estate whose code `q` is, then estates whose name starts with
    it (the name index: a range with a limit, however many estates share the prefix)."""
    q = (q or "").strip()[:128]
    if not q:
        return []
    found = {e.id: e for e in db.session.scalars(sa.select(Estate).where(Estate.code == q))}
    for estate in db.session.scalars(sa.select(Estate).where(starts_with(Estate.name, q)).limit(limit)):
        found.setdefault(estate.id, estate)
    return sorted(found.values(), key=lambda e: (e.code != q and e.name != q, e.status != "active", e.name, e.id))[:limit]


def resolve_estate(text: str, *, field: str = "estate") -> Estate:
    """The one estate a typed text names (a form without its picker's script): its code, its
    exact name when no other estate bears it, or the only suggestion."""
    q = (text or "").strip()
    if not q:
        raise invalid(field, "请选择小区")
    found = pick_estates(q)
    exact = [e for e in found if e.code == q] or [e for e in found if e.name == q]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0]
    if not found:
        raise invalid(field, f"没有找到小区“{q}”，请输入小区名称或编码")
    raise invalid(field, f"“{q}”匹配到多个小区，请从列表中选择或输入小区编码")


# -- estates near a point ---------------------------------------------------------------------
#
# The mini-program's "附近的小区": wx.getLocation's GCJ-02 coordinates (the datum of Tencent and
# AMap maps, which is where estate coordinates are copied from) against the estates' lat/lng.
# A bounding box around the point narrows the estates on the (lat, lng) index, in plain SQL that
# SQLite and PostgreSQL both run; the great-circle distance of each candidate is then measured
# here, and the page is cut from the candidates ordered by (distance, id). An estate without
# coordinates is never "nearby".

NEARBY_RADIUS_M = 5000
NEARBY_RADIUS_MAX_M = 20000
EARTH_RADIUS_M = 6371008.8
COORDINATE = Decimal("0.000001")


class NearbyEstate:
    """An estate and its distance from the point searched: dumped like the estate, plus `distance_m`."""

    __slots__ = ("estate", "distance_m")

    def __init__(self, estate: Estate, distance_m: int):
        self.estate, self.distance_m = estate, distance_m

    def __getattr__(self, name):
        return getattr(self.estate, name)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Metres between two points on the sphere (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _check_point(lat, lng) -> tuple[float, float]:
    summary = "位置坐标无效，请重新定位"
    if lat is None or lng is None:
        raise invalid("lng" if lat is not None else "lat", "经度和纬度需要同时提供", summary)
    for name, value, limit, label in (("lat", lat, 90, "纬度"), ("lng", lng, 180, "经度")):
        if not isinstance(value, (int, float)) or not math.isfinite(value) or not -limit <= value <= limit:
            raise invalid(name, f"{label}应在 -{limit} 到 {limit} 之间", summary)
    return float(lat), float(lng)


def _bounding_box(lat: float, lng: float, radius_m: float) -> list:
    """Conditions keeping the estates within `radius_m` of the point (and some more in the corners)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    low, high = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    # Compared as decimals, like the columns: a float parameter would make PostgreSQL skip the index.
    where = [Estate.lat.between(Decimal(low).quantize(COORDINATE, "ROUND_FLOOR"),
                                Decimal(high).quantize(COORDINATE, "ROUND_CEILING")), Estate.lng.isnot(None)]
    widest = math.radians(max(abs(low), abs(high)))
    if math.cos(widest) * EARTH_RADIUS_M * math.pi <= radius_m:
        return where  # near a pole: every longitude
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * math.cos(widest)))
    west, east = lng - dlng, lng + dlng
    if dlng >= 180:
        return where

    def dec(value: float, rounding: str) -> Decimal:
        return Decimal(value).quantize(COORDINATE, rounding)

    if west < -180:  # the box crosses the antimeridian: two ranges
        where.append(sa.or_(Estate.lng >= dec(west + 360, "ROUND_FLOOR"), Estate.lng <= dec(east, "ROUND_CEILING")))
    elif east > 180:
        where.append(sa.or_(Estate.lng >= dec(west, "ROUND_FLOOR"), Estate.lng <= dec(east - 360, "ROUND_CEILING")))
    else:
        where.append(Estate.lng.between(dec(west, "ROUND_FLOOR"), dec(east, "ROUND_CEILING")))
    return where


def nearby_estates(lat, lng, *, radius_m: int | None = None, q: str | None = None, province: str | None = None,
                   city: str | None = None, district: str | None = None, status: str | None = "active",
                   limit: int = 20, cursor: str | None = None) -> Page:
    """Estates within `radius_m` of the point (default NEARBY_RADIUS_M), the nearest first; each
    item a NearbyEstate. The same filters as search_estates apply. Bad coordinates are a 422."""
    lat, lng = _check_point(lat, lng)
    radius = NEARBY_RADIUS_M if radius_m is None else radius_m
    if not 0 < radius <= NEARBY_RADIUS_MAX_M:
        raise invalid("radius_m", f"范围应在 1 到 {NEARBY_RADIUS_MAX_M} 米之间")
    where = _bounding_box(lat, lng, radius) + _estate_filters(
        q=q, province=province, city=city, district=district, status=status)
    found = []
    for estate_id, estate_lat, estate_lng in db.session.execute(
            sa.select(Estate.id, Estate.lat, Estate.lng).where(*where)):
        metres = distance_m(lat, lng, float(estate_lat), float(estate_lng))
        if metres <= radius:
            found.append((round(metres), estate_id))
    found.sort()
    if cursor:
        after = tuple(decode_cursor(cursor, 2, [int, int]))
        found = [key for key in found if key > after]
    page, more = found[:limit], len(found) > limit
    estates = estates_by_id([estate_id for _, estate_id in page])
    return Page([NearbyEstate(estates[estate_id], metres) for metres, estate_id in page],
                encode_cursor(list(page[-1])) if more else None)


def find_estates(*, lat: float | None = None, lng: float | None = None, radius_m: int | None = None,
                 **filters) -> Page:
    """The resident's estate finder (active estates only): near a point when given one (either
    coordinate asks for it), else by name and region, newest first."""
    if lat is not None or lng is not None:
        return nearby_estates(lat, lng, radius_m=radius_m, status="active", **filters)
    if radius_m is not None:
        raise invalid("radius_m", "按范围查找需要提供位置坐标")
    return search_estates(status="active", **filters)


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
            errors["name"] = ["必填，最多 64 个字"]
        out["name"] = name
    if "phone" in data or not partial:
        phone = re.sub(r"[\s-]", "", data.get("phone") or "")
        if not PHONE_RE.match(phone):
            errors["phone"] = ["应为 11 位手机号"]
        out["phone"] = phone
    if not partial:
        employee_no = (data.get("employee_no") or "").strip()
        if not EMPLOYEE_NO_RE.match(employee_no):
            errors["employee_no"] = ["1–32 位字母、数字、- 或 _"]
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


def active_engineer(user_id: int) -> Engineer | None:
    """The user's engineer profile while they work (status active), else None."""
    return db.session.scalars(sa.select(Engineer).where(Engineer.user_id == user_id,
                                                        Engineer.status == "active")).first()


def engineer_of(user_id: int) -> Engineer:
    """The active engineer profile of a user, or 403 (for engineer-only actions)."""
    engineer = active_engineer(user_id)
    if engineer is None:
        raise Forbidden("仅在职工程师可以使用", code="not_engineer")
    return engineer


INTRO_MAX = 500


def _has_control_characters(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


def update_engineer_profile(user: User, data: dict) -> Engineer:
    """An active engineer sets their own introduction and photo (only the keys in `data` change).

    The introduction goes through WeChat's text security as a profile (scene 1), like a
    nickname: `risky` refuses it (409 content_risky); `review`, or no verdict at all (WeChat
    down, not active in the mini-program lately), keeps it: an engineer is accountable staff and
    the change is audited. Empty text removes it. The photo must be the engineer's own upload
    (null removes it). Audited when something changed.
    """
    engineer = engineer_of(user.id)
    if data.get("photo") is not None:
        uploads.require_own_photos(user.id, [data["photo"]], field="photo", most=1)
    before = {"intro": engineer.intro, "photo": engineer.photo}
    if "intro" in data:
        intro = (data["intro"] or "").strip()
        if len(intro) > INTRO_MAX:
            raise invalid("intro", f"简介最多 {INTRO_MAX} 个字")
        if _has_control_characters(intro, allowed="\n"):
            raise invalid("intro", "简介不能包含控制字符")
        if intro and intro != engineer.intro:
            if gateway.text_verdict(intro, accounts.openid_of(user.id), scene=1) == "risky":
                raise Conflict("简介包含违规信息，请修改后再试", code="content_risky")
        engineer.intro = intro
    if "photo" in data:
        engineer.photo = data["photo"]
    after = {"intro": engineer.intro, "photo": engineer.photo}
    db.session.flush()
    if after != before:
        audit.record(user, "engineer.profile.update", "engineer", engineer.id, before=before, after=after)
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
        phone = accounts.phone_match(Engineer.phone, Engineer.phone_tail, q)
        stmt = stmt.where(sa.or_(Engineer.name.contains(q, autoescape=True), Engineer.employee_no == q,
                                 *([phone] if phone is not None else [])))
    return paginate(stmt.options(sa.orm.selectinload(Engineer.estates)), [Engineer.id], limit=limit, cursor=cursor)


def pick_engineers(q: str, *, limit: int = accounts.PICK_LIMIT) -> list[Engineer]:
    """A picker's suggestions: by employee number (exact), name prefix or phone (whole or its last
    4+ digits), each an index range with a limit; exact matches first."""
    q = (q or "").strip()[:64]
    if not q:
        return []
    conditions = [Engineer.employee_no == q, starts_with(Engineer.name, q)]
    if (phone := accounts.phone_match(Engineer.phone, Engineer.phone_tail, q)) is not None:
        conditions.append(phone)
    found: dict[int, Engineer] = {}
    for condition in conditions:
        for engineer in db.session.scalars(sa.select(Engineer).where(condition).limit(limit)):
            found.setdefault(engineer.id, engineer)
    return sorted(found.values(), key=lambda e: (q not in (e.employee_no, e.name, e.phone), e.status == "left",
                                                 e.name, e.id))[:limit]


def resolve_engineer(text: str, *, field: str = "engineer") -> Engineer:
    """The one engineer a typed text names (a form without its picker's script): an employee
    number or phone, or the only suggestion."""
    q = (text or "").strip()
    if not q:
        raise invalid(field, "请选择工程师")
    found = pick_engineers(q)
    exact = [e for e in found if q in (e.employee_no, e.phone)]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0]
    if not found:
        raise invalid(field, f"没有找到工程师“{q}”，请输入姓名、工号或手机号")
    raise invalid(field, f"“{q}”匹配到多位工程师，请从列表中选择或输入工号")


def engineers_by_id(ids) -> dict[int, Engineer]:
    """The engineers behind these ids (one query), for names in tables."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {e.id: e for e in db.session.scalars(sa.select(Engineer).where(Engineer.id.in_(wanted)))}


def covering_engineers(estate_ids) -> dict[int, list[Engineer]]:
    """The active engineers covering each of these estates, by name (one query)."""
    covering: dict[int, list[Engineer]] = {}
    for estate_id, engineer in db.session.execute(
            sa.select(EngineerEstate.estate_id, Engineer).join(Engineer, Engineer.id == EngineerEstate.engineer_id)
            .where(EngineerEstate.estate_id.in_(set(estate_ids)), Engineer.status == "active")
            .order_by(Engineer.name)):
        covering.setdefault(estate_id, []).append(engineer)
    return covering


def set_engineer_estates(engineer: Engineer, estate_ids: list[int], *, actor: User | None) -> Engineer:
    """Replace the estates an engineer covers."""
    wanted = set(estate_ids)
    found = set(db.session.scalars(sa.select(Estate.id).where(Estate.id.in_(wanted))))
    missing = sorted(wanted - found)
    if missing:
        raise ValidationFailed("部分小区不存在", details={"fields": {"estate_ids": [f"小区 {i} 不存在" for i in missing]}})
    current = set(db.session.scalars(sa.select(EngineerEstate.estate_id).where(
        EngineerEstate.engineer_id == engineer.id)))
    if current - wanted:
        db.session.execute(sa.delete(EngineerEstate).where(
            EngineerEstate.engineer_id == engineer.id, EngineerEstate.estate_id.in_(current - wanted)))
    for estate_id in sorted(wanted - current):
        db.session.add(EngineerEstate(engineer_id=engineer.id, estate_id=estate_id))
    db.session.flush()
    if wanted - current:  # the new rows' ranking key (community.stats)
        signals.coverage_added.send(None, engineer_ids=[engineer.id])
    db.session.expire(engineer, ["estates"])
    if wanted != current:
        audit.record(actor, "engineer.estates.set", "engineer", engineer.id,
                     before={"estate_ids": sorted(current)}, after={"estate_ids": sorted(wanted)})
    return engineer


def covers(engineer: Engineer, estate_id: int) -> bool:
    return db.session.get(EngineerEstate, (engineer.id, estate_id)) is not None


# -- residency --------------------------------------------------------------------------------


def estates_of(user: User) -> list[Residency]:
    return list(db.session.scalars(sa.select(Residency).where(
        Residency.user_id == user.id, Residency.left_at.is_(None)).order_by(Residency.joined_at)))


def is_resident(user_id: int, estate_id: int) -> bool:
    """The user lives in the estate now (an active residency)."""
    return db.session.scalar(sa.select(sa.literal(1)).where(
        Residency.user_id == user_id, Residency.estate_id == estate_id, Residency.left_at.is_(None))) is not None


def residents_of(estate_ids) -> sa.Select:
    """SELECT user_id, estate_id: one row per current resident of these estates (ids, or a SELECT
    of estate ids such as a targeting rule's), with the lowest of their estates among them; for
    INSERT … SELECT and batched reads, never a loop over estates."""
    return sa.select(Residency.user_id, sa.func.min(Residency.estate_id).label("estate_id")).where(
        Residency.estate_id.in_(estate_ids), Residency.left_at.is_(None)).group_by(Residency.user_id)


def home_estates(user_ids) -> dict[int, int]:
    """Each of these users' current estate (the earliest joined, when several); users living
    nowhere are left out."""
    wanted = sorted({i for i in user_ids if isinstance(i, int)})
    homes: dict[int, int] = {}
    for start in range(0, len(wanted), 1000):
        for user_id, estate_id in db.session.execute(sa.select(Residency.user_id, Residency.estate_id).where(
                Residency.user_id.in_(wanted[start:start + 1000]), Residency.left_at.is_(None))
                .order_by(Residency.joined_at.desc(), Residency.id.desc())):
            homes[user_id] = estate_id  # the earliest joined is written last
    return homes


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


# -- the address book -------------------------------------------------------------------------
#
# A resident's service addresses, each in an estate. Rules: saving an address in an estate makes
# the user its resident (join_estate, source "self"), so the estate must exist and be active; the
# first address is the default, and while a book has addresses exactly one is the default
# (setting another clears the old one first, in the same transaction; the default cannot be
# unset, only replaced; deleting it makes the newest remaining one the default); at most
# ADDRESSES_MAX per user. The writes of one user's book take turns on the user's row, so the
# partial unique index uq_addresses_default never fires, and neither the limit nor "the first is
# the default" can be raced past.

ADDRESSES_MAX = 20
ADDRESS_TEXT = {"building": (32, "楼栋"), "unit": (16, "单元"), "room": (16, "房号"), "contact_name": (32, "联系人")}
ADDRESS_REQUIRED = ("building", "contact_name")


def _clean_address(data: dict) -> dict:
    """The address fields present in `data`, trimmed and checked; a 422 lists every bad field."""
    out, errors = {}, {}
    for name, (most, label) in ADDRESS_TEXT.items():
        if name not in data:
            continue
        value = (data[name] or "").strip()
        if not value and name in ADDRESS_REQUIRED:
            errors[name] = [f"请填写{label}"]
        elif len(value) > most:
            errors[name] = [f"{label}最多 {most} 个字"]
        elif _has_control_characters(value):
            errors[name] = [f"{label}不能包含换行或控制字符"]
        out[name] = value
    if "contact_phone" in data:
        phone = re.sub(r"[\s-]", "", data["contact_phone"] or "")
        if not (phone.isascii() and PHONE_RE.match(phone)):
            errors["contact_phone"] = ["请填写 11 位手机号码"]
        out["contact_phone"] = phone
    if errors:
        raise ValidationFailed("地址信息有误", details={"fields": errors})
    return out


def _lock_address_book(user_id: int) -> None:
    """Writes to one user's addresses take turns: the user's row, FOR NO KEY UPDATE (PostgreSQL;
    it leaves foreign-key checks on the row alone). SQLite has one writer at a time anyway."""
    db.session.execute(sa.select(User.id).where(User.id == user_id).with_for_update(key_share=True))


def _clear_default(user_id: int) -> None:
    """Before another address becomes the default: the old one stops being it (a statement of
    its own, so the index never sees two)."""
    db.session.execute(sa.update(Address).where(Address.user_id == user_id, Address.is_default)
                       .values(is_default=False))


def address_text(address: Address) -> str:
    """The address on one line, e.g. "翠竹苑 3栋 2单元 1201" (orders copy it): the estate, then
    building, unit and room; a bare number or letter gets its word (3 → 3栋, 2 → 2单元), so the
    line reads the same however it was typed."""
    parts = [address.estate.name]
    for value, word in ((address.building, "栋"), (address.unit, "单元"), (address.room, "")):
        if value:
            parts.append(value + word if value.isascii() and value.isalnum() else value)
    return " ".join(parts)


def addresses_of(user_id: int) -> list[Address]:
    """A user's addresses: the default first, then the newest first."""
    return list(db.session.scalars(sa.select(Address).where(Address.user_id == user_id).order_by(
        Address.is_default.desc(), Address.created_at.desc(), Address.id.desc())))


def address_of(user_id: int, address_id: int) -> Address:
    """One of the user's addresses; someone else's (or none) is a 404."""
    address = db.session.scalars(sa.select(Address).where(
        Address.id == address_id, Address.user_id == user_id)).first()
    if address is None:
        raise NotFound("地址不存在", code="address_not_found")
    return address


def create_address(user: User, data: dict) -> Address:
    """Add an address (estate_id, building, unit, room, contact_name, contact_phone, is_default)."""
    fields = _clean_address(data)
    _lock_address_book(user.id)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Address).where(Address.user_id == user.id))
    if count >= ADDRESSES_MAX:
        raise Conflict(f"最多保存 {ADDRESSES_MAX} 个地址，请先删除不用的地址", code="address_limit")
    residency, _ = join_estate(user, data["estate_id"], source="self")
    default = bool(data.get("is_default")) or count == 0
    if default:
        _clear_default(user.id)
    address = Address(user_id=user.id, estate=residency.estate, is_default=default, **fields)
    db.session.add(address)
    db.session.flush()
    return address


def update_address(user: User, address_id: int, data: dict) -> Address:
    """Change one of the user's addresses (only the keys in `data`)."""
    fields = _clean_address(data)
    _lock_address_book(user.id)
    address = address_of(user.id, address_id)
    residency, _ = join_estate(user, data.get("estate_id", address.estate_id), source="self")
    if "is_default" in data and data["is_default"] != address.is_default:
        if not data["is_default"]:
            raise Conflict("默认地址不能取消，请把另一个地址设为默认", code="default_address_required")
        _clear_default(user.id)
        address.is_default = True
    for name, value in fields.items():
        setattr(address, name, value)
    address.estate = residency.estate
    db.session.flush()
    return address


def delete_address(user: User, address_id: int) -> None:
    """Delete one of the user's addresses; when it was the default, the newest remaining one is."""
    _lock_address_book(user.id)
    address = address_of(user.id, address_id)
    was_default = address.is_default
    db.session.delete(address)
    db.session.flush()
    if was_default:
        newest = db.session.scalars(sa.select(Address).where(Address.user_id == user.id).order_by(
            Address.created_at.desc(), Address.id.desc()).limit(1)).first()
        if newest is not None:
            newest.is_default = True
            db.session.flush()


# -- agents on duty -----------------------------------------------------------------------------
# An agent is on duty for the estates of a city, or of one district of it (AgentDuty). An estate
# whose city and district no active agent is on duty for is everyone's: every active agent.

DUTY_FIELD_MAX = 32


def _is_active_agent():
    return sa.and_(User.status == "active", sa.type_coerce(User.roles, sa.String).like("%agent%"))


def _duty_matches(duty, estate):
    """The duty covers the estate: same city, and the whole city or the estate's district."""
    return sa.and_(duty.city == estate.city, sa.or_(duty.district.is_(None), duty.district == estate.district))


def agent_duties(*, city: str | None = None) -> list[AgentDuty]:
    """Every duty (a short list: cities times agents), by city, district and agent."""
    stmt = sa.select(AgentDuty)
    if city:
        stmt = stmt.where(AgentDuty.city == city.strip())
    return list(db.session.scalars(stmt.order_by(AgentDuty.city, AgentDuty.district.is_not(None),
                                                 AgentDuty.district, AgentDuty.user_id)))


def add_agent_duty(user_id: int, city: str, district: str | None, *, actor: User | None) -> AgentDuty:
    """Put an active agent on duty for a city (district None) or one district of it; adding the
    same duty again changes nothing and returns it."""
    city, district = (city or "").strip(), (district or "").strip() or None
    errors = {}
    if not city:
        errors["city"] = ["请填写城市"]
    elif len(city) > DUTY_FIELD_MAX:
        errors["city"] = [f"城市最多 {DUTY_FIELD_MAX} 个字"]
    if district and len(district) > DUTY_FIELD_MAX:
        errors["district"] = [f"区县最多 {DUTY_FIELD_MAX} 个字"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], details={"fields": errors})
    user = db.session.get(User, user_id)
    if user is None or user.status != "active" or not user.has_role("agent"):
        raise invalid("user_id", "请选择在职的客服账号")
    # NULL districts never collide in a unique index: look first (a duplicate row would be harmless).
    existing = db.session.scalars(sa.select(AgentDuty).where(
        AgentDuty.user_id == user_id, AgentDuty.city == city,
        AgentDuty.district.is_(None) if district is None else AgentDuty.district == district)).first()
    if existing is not None:
        return existing
    duty = AgentDuty(user_id=user_id, city=city, district=district)
    db.session.add(duty)
    db.session.flush()
    audit.record(actor, "agent_duty.add", "agent_duty", duty.id,
                 after={"user_id": user_id, "city": city, "district": district})
    return duty


def remove_agent_duty(duty_id: int, *, actor: User | None) -> None:
    duty = db.session.get(AgentDuty, duty_id)
    if duty is None:
        raise NotFound("值班安排不存在", code="duty_not_found")
    audit.record(actor, "agent_duty.remove", "agent_duty", duty.id,
                 before={"user_id": duty.user_id, "city": duty.city, "district": duty.district})
    db.session.delete(duty)
    db.session.flush()


def agents_on_duty_for(estate_ids: Iterable[int]) -> dict[int, list[int]]:
    """For each estate, the user ids of the active agents on duty for it; nobody on duty: every
    active agent. Two statements, whatever the number of estates."""
    wanted = sorted({i for i in estate_ids if i is not None})
    if not wanted:
        return {}
    rows = db.session.execute(
        sa.select(Estate.id, AgentDuty.user_id).join(AgentDuty, _duty_matches(AgentDuty, Estate))
        .join(User, User.id == AgentDuty.user_id).where(Estate.id.in_(wanted), _is_active_agent())).all()
    on_duty: dict[int, set[int]] = {}
    for estate_id, user_id in rows:
        on_duty.setdefault(estate_id, set()).add(user_id)
    everyone: list[int] | None = None
    result = {}
    for estate_id in wanted:
        if estate_id in on_duty:
            result[estate_id] = sorted(on_duty[estate_id])
        else:
            if everyone is None:
                everyone = list(db.session.scalars(sa.select(User.id).where(_is_active_agent()).order_by(User.id)))
            result[estate_id] = everyone
    return result


def agents_on_duty(estate_id: int) -> list[int]:
    """The user ids of the active agents on duty for an estate (nobody on duty: every active agent)."""
    return agents_on_duty_for([estate_id]).get(estate_id, [])


def on_duty_for(user_id: int, estate_id: sa.ColumnElement) -> sa.ColumnElement:
    """SQL condition: the agent `user_id` is on duty for the estate `estate_id` (a column), by
    the same rule as `agents_on_duty`: a duty of theirs covers it, or no active agent's does."""
    estate, mine, anyone = sa.orm.aliased(Estate), sa.orm.aliased(AgentDuty), sa.orm.aliased(AgentDuty)
    covered_by_me = sa.select(mine.id).where(mine.user_id == user_id, _duty_matches(mine, estate)).exists()
    covered = sa.select(anyone.id).join(User, User.id == anyone.user_id).where(
        _duty_matches(anyone, estate), _is_active_agent()).exists()
    return sa.select(estate.id).where(estate.id == estate_id, sa.or_(covered_by_me, ~covered)).exists()


def is_on_duty(user_id: int, estate_id: int) -> bool:
    return user_id in agents_on_duty(estate_id)


def active_agents() -> list[User]:
    """Every active agent account (for choosing who goes on duty)."""
    return list(db.session.scalars(sa.select(User).where(_is_active_agent()).order_by(User.id)))


# -- engineers in bulk (flask engineers import, the console's upload) -----------------------------

ENGINEER_COLUMNS = ("employee_no", "name", "phone", "estate_codes")
ENGINEER_REQUIRED = ("employee_no", "name", "phone")
ESTATE_CODE_SEPARATORS = re.compile(r"[;；|｜]")
ENGINEER_BATCH = 1000
IN_CHUNK = 1000  # values per IN list


def clean_engineer_row(data: dict) -> dict:
    """One line of an engineers file, checked, with Chinese reasons: employee number, name, phone,
    and the estate codes (`;` or `|` between them)."""
    errors = {}
    employee_no = (data.get("employee_no") or "").strip()
    if not EMPLOYEE_NO_RE.match(employee_no):
        errors["employee_no"] = ["工号须为 1–32 位字母、数字、- 或 _"]
    name = (data.get("name") or "").strip()
    if not name or len(name) > 64 or _has_control_characters(name):
        errors["name"] = ["姓名不能为空，最多 64 个字"]
    phone = re.sub(r"[\s-]", "", data.get("phone") or "")
    if not PHONE_RE.match(phone):
        errors["phone"] = ["手机号须为 11 位大陆手机号"]
    codes = list(dict.fromkeys(c.strip() for c in ESTATE_CODE_SEPARATORS.split(data.get("estate_codes") or "") if c.strip()))
    if any(len(c) > 64 for c in codes):
        errors["estate_codes"] = ["小区编码最长 64 个字符"]
    if errors:
        raise ValidationFailed("工程师信息有误", details={"fields": errors})
    return {"employee_no": employee_no, "name": name, "phone": phone, "estate_codes": codes}


def _in_chunks(column, values):
    values = list(values)
    for i in range(0, len(values), IN_CHUNK):
        yield column.in_(values[i:i + IN_CHUNK])


def import_engineers(rows: dict[str, tuple[int, dict]]) -> dict:
    """Create or update a batch of cleaned rows keyed by employee number (line, row), in a few
    set-based statements whatever the batch size: the estates of every code, the engineers of
    every number and their coverage are each read once. A new engineer is created `invited`
    (its invite code is made on its page when it is handed over); a known one gets the file's
    name, phone and exactly the file's estates. Returns the counts and the bad lines
    [(line, employee number, reason)]: unknown estate codes, engineers who left."""
    out = {"created": 0, "updated": 0, "unchanged": 0, "bad": []}
    if not rows:
        return out
    codes = {c for _, row in rows.values() for c in row["estate_codes"]}
    estate_ids: dict[str, int] = {}
    for condition in _in_chunks(Estate.code, codes):
        estate_ids.update(db.session.execute(sa.select(Estate.code, Estate.id).where(condition)).all())
    found: dict[str, Engineer] = {}
    for condition in _in_chunks(Engineer.employee_no, rows):
        found.update({e.employee_no: e for e in db.session.scalars(sa.select(Engineer).where(condition))})
    coverage: dict[int, set[int]] = {}
    for condition in _in_chunks(EngineerEstate.engineer_id, [e.id for e in found.values()]):
        for engineer_id, estate_id in db.session.execute(
                sa.select(EngineerEstate.engineer_id, EngineerEstate.estate_id).where(condition)):
            coverage.setdefault(engineer_id, set()).add(estate_id)

    wanted: dict[str, set[int]] = {}
    new: list[dict] = []
    for employee_no, (line, row) in rows.items():
        unknown = [c for c in row["estate_codes"] if c not in estate_ids]
        if unknown:
            out["bad"].append((line, employee_no, "小区编码不存在：" + "、".join(unknown[:5]) + ("等" if len(unknown) > 5 else "")))
            continue
        engineer = found.get(employee_no)
        if engineer is not None and engineer.status == "left":
            out["bad"].append((line, employee_no, "该工程师已离职，未更新（请在工程师页面处理）"))
            continue
        wanted[employee_no] = {estate_ids[c] for c in row["estate_codes"]}
        if engineer is None:
            new.append({"employee_no": employee_no, "name": row["name"], "phone": row["phone"], "status": "invited",
                        "intro": "", "created_at": utcnow()})
            out["created"] += 1
        elif (engineer.name, engineer.phone, coverage.get(engineer.id, set())) == (row["name"], row["phone"],
                                                                                    wanted[employee_no]):
            out["unchanged"] += 1
        else:
            engineer.name, engineer.phone = row["name"], row["phone"]
            out["updated"] += 1
    db.session.flush()  # the updates, as executemany
    ids = {no: e.id for no, e in found.items()}
    if new:  # one multi-row INSERT … RETURNING, not a statement per engineer
        table = Engineer.__table__
        ids.update({no: i for i, no in db.session.execute(
            sa.insert(table).returning(table.c.id, table.c.employee_no), new)})

    removed = [(ids[no], estate_id) for no, wants in wanted.items() for estate_id in coverage.get(ids[no], set()) - wants]
    added = [{"engineer_id": ids[no], "estate_id": estate_id, "assigned_at": utcnow()}
             for no, wants in wanted.items() for estate_id in wants - coverage.get(ids[no], set())]
    for i in range(0, len(removed), IN_CHUNK):
        db.session.execute(sa.delete(EngineerEstate).where(
            sa.tuple_(EngineerEstate.engineer_id, EngineerEstate.estate_id).in_(removed[i:i + IN_CHUNK])))
    if added:
        db.session.execute(sa.insert(EngineerEstate), added)
        signals.coverage_added.send(None, engineer_ids=sorted({row["engineer_id"] for row in added}))
    db.session.flush()
    return out


def import_engineers_file(path: str, *, encoding: str = "utf-8-sig", report, batch_size: int = ENGINEER_BATCH,
                          actor: User | None = None, progress=lambda position: None) -> dict:
    """Stream an engineers CSV (columns ENGINEER_COLUMNS; core.csvimport reads it) and import it a
    batch at a time, one commit per batch, so memory stays flat and a failure keeps the batches
    before it (running the file again completes it, changing nothing twice). Bad lines go to
    `report.add(line, key, reason)`; `progress(bytes read)` follows the file. One audit row per run.
    Raises core.csvimport.ImportAborted when the file cannot be read."""
    from core.csvimport import format_fields, open_csv, read_header, records

    totals = {"read": 0, "created": 0, "updated": 0, "unchanged": 0, "bad": 0}
    labels = {"employee_no": "工号", "name": "姓名", "phone": "手机号", "estate_codes": "小区编码"}
    with open_csv(path, encoding) as (reader, raw, size):
        index, width = read_header(reader, ENGINEER_COLUMNS, ENGINEER_REQUIRED)
        batch: dict[str, tuple[int, dict]] = {}

        def flush():
            outcome = import_engineers(batch)
            db.session.commit()
            for key in ("created", "updated", "unchanged"):
                totals[key] += outcome[key]
            for line, employee_no, reason in sorted(outcome["bad"]):
                report.add(line, employee_no, reason)
            batch.clear()
            progress(raw.tell())

        for line, data in records(reader, index, width, report, "employee_no"):
            totals["read"] += 1
            try:
                row = clean_engineer_row(data)
            except ValidationFailed as exc:
                fields = {labels[k]: v for k, v in exc.details["fields"].items()}
                report.add(line, data.get("employee_no", ""), format_fields(fields, tuple(labels.values())))
                continue
            batch.pop(row["employee_no"], None)  # a number twice in a batch: the later line wins
            batch[row["employee_no"]] = (line, row)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        progress(size)
    totals["bad"] = report.count
    audit.record(actor, "engineer.import", "engineer_file", path.rsplit("/", 1)[-1][:64], after=totals)
    db.session.commit()
    return totals
