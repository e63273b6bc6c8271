"""Ecosystem partners (生态伙伴): organisations, their staff accounts, what they publish and who
signed up for it (docs/activation.md, "Partners").

- A partner applies from the mini-program or is entered by an admin; either way it starts
  `pending` and an admin approves or rejects it with a note; an approved partner may be suspended
  and reinstated. Every decision is a conditional UPDATE on the status (two admins deciding at
  once: the second gets 409) and is audited.
- Its staff are username/password accounts with the role `partner` (core.accounts), added by an
  admin or by one of the partner's owners; the role follows the staff row (an admin cannot set it
  on the users page). A removed staff member's account is disabled and their tokens revoked.
- Only staff of an approved partner publish. A listing (an announcement or a service) starts
  `pending` and goes through moderation: approved → `published`, or `rejected` with a reason;
  the partner edits a pending, rejected or withdrawn listing (it goes back to `pending`) and may
  withdraw one. Showing a published listing in estates is an offer (activation.ecosystem).
- A resident signs up for a service in the platform once per listing (the unique key decides
  under concurrent taps); the lead belongs to the partner, who moves it to contacted or closed.
- Isolation: a partner's staff reach only their partner's rows. Who may see a listing, a lead or
  a partner is one function each taking the actor (`listing_for`, `lead_for`, `partner_for`);
  anything else is 404, as if it did not exist.

Plain functions with the acting user; they flush, the caller commits.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from activation.partners.models import (
    LEAD_STATUSES,
    LISTING_KINDS,
    PARTNER_STATUSES,
    REVIEW_STATUSES,
    SIGNUP_MODES,
    Partner,
    PartnerLead,
    PartnerListing,
    PartnerStaff,
)
from community.profiles import services as profiles
from core import audit
from core.accounts import services as accounts
from core.accounts.models import User
from core.db import MAX_ID, insert_or_nothing, utcnow
from core.errors import Conflict, Forbidden, NotFound, invalid
from core.extensions import db
from core.pagination import Page, paginate
from core.schemas import upload_url, upload_urls
from core.uploads import services as uploads

STATUS_LABELS = {"pending": "待审核", "approved": "合作中", "rejected": "已拒绝", "suspended": "已暂停"}
LISTING_STATUS_LABELS = {"pending": "待审核", "published": "已发布", "rejected": "已驳回", "withdrawn": "已撤下"}
KIND_LABELS = {"announcement": "公告", "service": "服务"}
SIGNUP_LABELS = {"platform": "在平台内报名", "link": "跳转外部链接", "none": "无需报名"}
LEAD_STATUS_LABELS = {"new": "新报名", "contacted": "已联系", "closed": "已完结"}
# Suggested in the forms; a partner's category is free text (1–32 characters).
CATEGORIES = ("家政保洁", "洗衣洗护", "宠物服务", "社区团购", "家电维修", "教育培训", "健康养老", "其他")

# decision → (new status, the statuses it applies to, whether a note is required)
DECISIONS = {"approve": ("approved", ("pending",), False), "reject": ("rejected", ("pending",), True),
             "suspend": ("suspended", ("approved",), True), "reinstate": ("approved", ("suspended",), False)}
DECISION_LABELS = {"approve": "通过", "reject": "拒绝", "suspend": "暂停合作", "reinstate": "恢复合作"}

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,31}")
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud, typed by an integrator
CONTACT_PHONE_RE = re.compile(r"\+?[0-9][0-9 -]{4,18}[0-9]")  # a mobile or a landline (0755-8888 6666)
MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
LINK_RE = re.compile(r"https://[^\s]{4,490}")
NOTE_MAX = 500
PHOTOS_MAX = 9
PRICE_MAX_FEN = 100_000_000  # one million yuan
LISTING_DAYS = 30  # how long an approved listing is shown when the partner gives no end
SHOW_MAX_DAYS = 366
TEXT_LIMITS = {"name": (2, 64, "名称"), "category": (1, 32, "类别"), "description": (0, 1000, "简介"),
               "contact_name": (1, 32, "联系人")}
LISTING_TEXT = {"title": (2, 64, "标题"), "body": (0, 2000, "正文"), "price_note": (0, 64, "价格说明")}


def _text(data: dict, field: str, limits: tuple[int, int, str]) -> str:
    low, high, label = limits
    value = data.get(field)
    value = "" if value is None else str(value).strip()
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise invalid(field, f"{label}不能包含控制字符")
    if not low <= len(value) <= high:
        raise invalid(field, f"请填写{label}" if not value else f"{label}应为 {low}–{high} 个字")
    return value


def _note(note: str | None, *, required: bool, what: str) -> str | None:
    note = (note or "").strip()
    if required and not note:
        raise invalid("note", f"{what}必须填写说明")
    if len(note) > NOTE_MAX:
        raise invalid("note", f"说明最多 {NOTE_MAX} 个字")
    return note or None


def _valid_id(value) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_ID


# -- who is who -------------------------------------------------------------------------------

def partner_of(user) -> Partner | None:
    """The partner a `partner`-role user works for (a User or a Principal), or None."""
    if user is None or not user.has_role("partner"):
        return None
    return db.session.scalar(sa.select(Partner).join(PartnerStaff, PartnerStaff.partner_id == Partner.id)
                             .where(PartnerStaff.user_id == user.id))


def acting_partner(actor, *, publishing: bool = False) -> Partner:
    """The actor's partner; `publishing` (anything that writes what residents see) needs it approved."""
    partner = partner_of(actor)
    if partner is None:
        raise Forbidden("您不是合作伙伴的员工", code="not_partner_staff")
    if publishing and partner.status != "approved":
        raise Forbidden("合作伙伴尚未通过审核或已暂停合作，暂不能发布或修改内容", code="partner_not_approved")
    return partner


def own_partner_id(actor) -> int | None:
    """The id of the partner the actor works for, or None."""
    if actor is None or not actor.has_role("partner"):
        return None
    return db.session.scalar(sa.select(PartnerStaff.partner_id).where(PartnerStaff.user_id == actor.id))


def is_owner(actor, partner_id: int) -> bool:
    return db.session.scalar(sa.select(PartnerStaff.owner).where(
        PartnerStaff.user_id == actor.id, PartnerStaff.partner_id == partner_id)) is True


def _is_staff_reader(actor) -> bool:
    return actor is not None and actor.has_role("admin", "agent")


def get_partner(partner_id: int) -> Partner:
    partner = db.session.get(Partner, partner_id) if _valid_id(partner_id) else None
    if partner is None:
        raise NotFound("合作伙伴不存在", code="partner_not_found")
    return partner


def partner_for(actor, partner_id: int) -> Partner:
    """A partner as `actor` may see it: admins and agents any, a partner's staff only their own."""
    partner = get_partner(partner_id)
    if _is_staff_reader(actor) or own_partner_id(actor) == partner.id:
        return partner
    raise NotFound("合作伙伴不存在", code="partner_not_found")


def partners_by_id(ids) -> dict[int, Partner]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {p.id: p for p in db.session.scalars(sa.select(Partner).where(Partner.id.in_(wanted)))}


def reach_rule(partner_id: int) -> dict:
    """The targeting rule a partner's offers are intersected with ({} = every active estate)."""
    return dict(db.session.scalar(sa.select(Partner.reach_rule).where(Partner.id == partner_id)) or {})


def partner_known(sender=None, *, code: str) -> bool:
    """core.signals.partner_known: an approved partner has this code (the order integration)."""
    return db.session.scalar(sa.select(sa.literal(True)).where(
        Partner.code == code, Partner.status == "approved")) is True


# -- organisations ----------------------------------------------------------------------------

def _new_code() -> str:
    for _ in range(10):
        code = "P" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(7))
        if db.session.scalar(sa.select(Partner.id).where(Partner.code == code)) is None:
            return code
    raise Conflict("暂时无法生成伙伴编码，请重试", code="code_exhausted")


def clean_partner(data: dict, actor, *, partner: Partner | None = None) -> dict:
    """The profile fields present in `data` (all of them when creating), checked."""
    creating = partner is None
    clean = {}
    for field, limits in TEXT_LIMITS.items():
        if creating or field in data:
            clean[field] = _text(data, field, limits)
    if creating or "contact_phone" in data:
        phone = str(data.get("contact_phone") or "").strip()
        if not CONTACT_PHONE_RE.fullmatch(phone):
            raise invalid("contact_phone", "联系电话格式不对（手机号或座机，如 0755-88886666）")
        clean["contact_phone"] = phone
    if "logo" in data:
        logo = data.get("logo") or None
        if logo is not None and logo != (partner.logo if partner else None) and uploads.not_owned(actor.id, [logo]):
            raise invalid("logo", "图片不存在或不是您上传的，请先上传")
        clean["logo"] = logo
    if data.get("code"):
        code = str(data["code"]).strip()
        if not CODE_RE.fullmatch(code):
            raise invalid("code", "伙伴编码须为 2–32 位英文字母、数字、- 或 _")
        clean["code"] = code
    if "name" in clean and db.session.scalar(sa.select(Partner.id).where(
            Partner.name == clean["name"], Partner.id != (partner.id if partner else 0))) is not None:
        raise Conflict("已有同名的合作伙伴", code="partner_name_taken", details={"fields": {"name": ["已有同名的合作伙伴"]}})
    if "code" in clean and db.session.scalar(sa.select(Partner.id).where(
            Partner.code == clean["code"], Partner.id != (partner.id if partner else 0))) is not None:
        raise Conflict("伙伴编码已被使用", code="partner_code_taken", details={"fields": {"code": ["伙伴编码已被使用"]}})
    return clean


def _state(partner: Partner) -> dict:
    return {k: getattr(partner, k) for k in ("code", "name", "category", "description", "logo", "contact_name",
                                             "contact_phone", "status")}


def create_partner(data: dict, actor: User) -> Partner:
    """An admin enters a partner (pending until an admin approves it). `code` names it in the order
    integration: given, or generated (P + 7 characters)."""
    clean = clean_partner(data, actor)
    clean.setdefault("code", _new_code())
    partner = Partner(**clean, reach_rule={}, status="pending")
    db.session.add(partner)
    db.session.flush()
    audit.record(actor, "activation.partner.create", "partner", partner.id, after=_state(partner))
    return partner


def update_partner(partner_id: int, data: dict, actor: User) -> Partner:
    """An admin edits a partner's profile; the code only while pending (orders name it afterwards)."""
    partner = get_partner(partner_id)
    clean = clean_partner(data, actor, partner=partner)
    if "code" in clean and clean["code"] != partner.code and partner.status != "pending":
        raise Conflict("伙伴编码已用于订单接入，通过审核后不能修改", code="partner_code_locked",
                       details={"fields": {"code": ["通过审核后不能修改"]}})
    before = _state(partner)
    for key, value in clean.items():
        setattr(partner, key, value)
    db.session.flush()
    audit.record(actor, "activation.partner.update", "partner", partner.id, before=before, after=_state(partner))
    return partner


def submit_application(user: User, data: dict) -> Partner:
    """A logged-in user applies to become a partner (成为合作伙伴). One open application per
    applicant; a rejected applicant may apply again (an application of theirs with the same name
    is reopened, since names are unique)."""
    if db.session.scalar(sa.select(Partner.id).where(Partner.applicant_id == user.id,
                                                     Partner.status == "pending")) is not None:
        raise Conflict("您已有一份待审核的合作申请，请耐心等待", code="application_pending")
    data = {k: v for k, v in data.items() if k != "code"}  # the platform gives the code
    name = str(data.get("name") or "").strip()
    mine = db.session.scalar(sa.select(Partner).where(Partner.applicant_id == user.id, Partner.name == name,
                                                      Partner.status == "rejected"))
    clean = clean_partner(data, user, partner=mine)
    if mine is not None:
        reopened = db.session.execute(sa.update(Partner).where(Partner.id == mine.id, Partner.status == "rejected")
                                      .values(**clean, status="pending", decided_by_id=None, decided_at=None,
                                              decision_note=None, updated_at=utcnow())).rowcount
        if not reopened:
            raise Conflict("该申请状态已变化，请刷新后重试", code="already_decided")
        db.session.refresh(mine)
        return mine
    partner = Partner(**clean, code=_new_code(), reach_rule={}, status="pending", applicant_id=user.id)
    db.session.add(partner)
    db.session.flush()
    return partner


def my_applications(user_id: int) -> list[Partner]:
    return list(db.session.scalars(sa.select(Partner).where(Partner.applicant_id == user_id)
                                   .order_by(Partner.id.desc()).limit(20)))


def decide_partner(partner_id: int, action: str, note: str | None, actor: User) -> Partner:
    """Approve or reject a pending partner, suspend an approved one, reinstate a suspended one
    (a note is required to reject and to suspend). What the partner shows in estates is withdrawn
    on suspension by activation.ecosystem.decide_partner, which calls this."""
    if action not in DECISIONS:
        raise invalid("action", "应为 approve、reject、suspend 或 reinstate 之一")
    status, sources, note_required = DECISIONS[action]
    note = _note(note, required=note_required, what=DECISION_LABELS[action])
    partner = get_partner(partner_id)
    before = partner.status
    now = utcnow()
    done = db.session.execute(sa.update(Partner).where(Partner.id == partner.id, Partner.status.in_(sources)).values(
        status=status, decided_by_id=actor.id, decided_at=now, decision_note=note, updated_at=now)).rowcount
    db.session.refresh(partner)
    if not done:
        raise Conflict(f"该合作伙伴当前为“{STATUS_LABELS[partner.status]}”，不能{DECISION_LABELS[action]}",
                       code="already_decided")
    audit.record(actor, f"activation.partner.{action}", "partner", partner.id,
                 before={"status": before}, after={"status": status, "note": note})
    return partner


def set_reach_rule(partner_id: int, rule: dict, actor: User) -> Partner:
    """An admin sets the estates a partner may reach (a targeting rule; {} = every active estate).
    Refreshing the partner's live offers is activation.ecosystem.set_reach's part."""
    partner = get_partner(partner_id)
    if not isinstance(rule, dict):
        raise invalid("reach_rule", "应为 JSON 对象")
    clean = profiles.validate_rule(rule)
    before = dict(partner.reach_rule or {})
    partner.reach_rule = clean
    db.session.flush()
    audit.record(actor, "activation.partner.reach", "partner", partner.id, before={"reach_rule": before},
                 after={"reach_rule": clean})
    return partner


def list_partners(*, status: str | None = None, q: str | None = None, limit: int = 20,
                  cursor: str | None = None) -> Page:
    """Partners, newest first; `q` matches the name's beginning or the exact code."""
    stmt = sa.select(Partner)
    if status:
        stmt = stmt.where(Partner.status == status)
    if q:
        q = q.strip()
        stmt = stmt.where(sa.or_(Partner.name.startswith(q, autoescape=True), Partner.code == q))
    return paginate(stmt, [Partner.id], limit=limit, cursor=cursor)


def status_counts() -> dict[str, int]:
    rows = db.session.execute(sa.select(Partner.status, sa.func.count()).group_by(Partner.status))
    return {status: 0 for status in PARTNER_STATUSES} | dict(rows.all())


# -- staff ------------------------------------------------------------------------------------

def _may_manage_staff(actor, partner: Partner) -> None:
    """Admins manage any partner's staff; a partner's owner their own; anyone else sees nothing."""
    if actor.has_role("admin"):
        return
    if own_partner_id(actor) != partner.id:
        raise NotFound("合作伙伴不存在", code="partner_not_found")
    if not is_owner(actor, partner.id):
        raise Forbidden("只有伙伴的负责人可以管理员工账号", code="not_partner_owner")


def list_staff(partner_id: int) -> list[tuple[PartnerStaff, User]]:
    return list(db.session.execute(sa.select(PartnerStaff, User).join(User, User.id == PartnerStaff.user_id)
                                   .where(PartnerStaff.partner_id == partner_id)
                                   .order_by(PartnerStaff.owner.desc(), PartnerStaff.created_at)).all())


def add_staff(partner_id: int, data: dict, actor) -> User:
    """A web account (role `partner`) for someone who works for the partner: by an admin, or by
    one of the partner's owners. `owner` lets them manage the staff too."""
    partner = get_partner(partner_id)
    _may_manage_staff(actor, partner)
    if partner.status == "rejected":
        raise Conflict("合作申请已被拒绝，不能添加员工", code="partner_rejected")
    display_name = _text(data, "display_name", (0, 32, "姓名")) if data.get("display_name") else ""
    user = accounts.new_password_account(str(data.get("username") or ""), str(data.get("password") or ""),
                                         {"partner"}, display_name)
    db.session.flush()
    owner = bool(data.get("owner"))
    db.session.add(PartnerStaff(user_id=user.id, partner_id=partner.id, owner=owner))
    db.session.flush()
    audit.record(actor, "activation.partner.staff.add", "partner", partner.id,
                 after={"user_id": user.id, "username": user.username, "owner": owner})
    return user


def staff_member(partner: Partner, user_id: int) -> tuple[PartnerStaff, User]:
    """One of the partner's staff (another partner's, or nobody's: 404)."""
    row = db.session.get(PartnerStaff, user_id) if _valid_id(user_id) else None
    if row is None or row.partner_id != partner.id:
        raise NotFound("该员工不存在", code="staff_not_found")
    return row, accounts.get_user(user_id)


def remove_staff(partner_id: int, user_id: int, actor) -> None:
    """The person no longer works for the partner: the staff row goes, the role goes, the account
    is disabled and every token revoked. An owner cannot remove themselves."""
    partner = get_partner(partner_id)
    _may_manage_staff(actor, partner)
    row, user = staff_member(partner, user_id)
    if user.id == actor.id:
        raise Conflict("不能移除自己的账号", code="cannot_remove_self")
    db.session.delete(row)
    accounts.remove_role(user, "partner")
    user.status = "disabled"
    accounts.revoke_all_tokens(user)
    db.session.flush()
    audit.record(actor, "activation.partner.staff.remove", "partner", partner.id,
                 before={"user_id": user.id, "username": user.username, "owner": row.owner})


def reset_staff_password(partner_id: int, user_id: int, password: str, actor) -> None:
    """An admin or an owner sets a staff member's password (their other web sessions end)."""
    partner = get_partner(partner_id)
    _may_manage_staff(actor, partner)
    _row, user = staff_member(partner, user_id)
    accounts.set_password(user, password or "")
    accounts.revoke_all_tokens(user)
    audit.record(actor, "activation.partner.staff.password", "partner", partner.id, after={"user_id": user.id})


# -- listings ---------------------------------------------------------------------------------

def get_listing(listing_id: int) -> PartnerListing:
    listing = db.session.get(PartnerListing, listing_id) if _valid_id(listing_id) else None
    if listing is None:
        raise NotFound("该内容不存在", code="listing_not_found")
    return listing


def listing_for(actor, listing_id: int) -> PartnerListing:
    """A listing as `actor` may manage or moderate it: admins and agents any, a partner's staff
    only their partner's (anyone else: 404). What residents see is activation.ecosystem's."""
    listing = get_listing(listing_id)
    if _is_staff_reader(actor):
        return listing
    if own_partner_id(actor) != listing.partner_id:
        raise NotFound("该内容不存在", code="listing_not_found")
    return listing


def listings_by_id(ids) -> dict[int, PartnerListing]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {x.id: x for x in db.session.scalars(sa.select(PartnerListing).where(PartnerListing.id.in_(wanted)))}


def _aware(data: dict, field: str) -> datetime | None:
    value = data.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise invalid(field, "时间应带时区")
    return value


def clean_listing(data: dict, actor, listing: PartnerListing | None = None) -> dict:
    """Every field of a listing, checked (an edit sends the whole listing again)."""
    clean = {}
    kind = data.get("kind")
    if kind not in LISTING_KINDS:
        raise invalid("kind", "类型应为公告（announcement）或服务（service）")
    clean["kind"] = kind
    for field, limits in LISTING_TEXT.items():
        clean[field] = _text(data, field, limits)
    price = data.get("price_fen")
    if price is not None and (isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= PRICE_MAX_FEN):
        raise invalid("price_fen", "价格应为 0–100 万元（以分计）")
    if kind == "announcement" and (price is not None or clean["price_note"]):
        raise invalid("price_fen", "公告没有价格")
    clean["price_fen"] = price
    mode = data.get("signup_mode") or "none"
    if mode not in SIGNUP_MODES:
        raise invalid("signup_mode", "报名方式应为 platform、link 或 none 之一")
    if kind == "announcement" and mode == "platform":
        raise invalid("signup_mode", "公告不能在平台内报名，请发布为服务")
    clean["signup_mode"] = mode
    link = str(data.get("link_url") or "").strip() or None
    if mode == "link":
        if link is None or not LINK_RE.fullmatch(link):
            raise invalid("link_url", "请填写以 https:// 开头的报名链接")
    elif link is not None:
        raise invalid("link_url", "只有“跳转外部链接”的报名方式需要链接")
    clean["link_url"] = link
    photos = list(data.get("photos") or [])
    kept = set(listing.photos or []) if listing is not None else set()
    uploads.require_own_photos(actor.id, [p for p in photos if p not in kept], field="photos", most=PHOTOS_MAX)
    if len(photos) > PHOTOS_MAX:
        raise invalid("photos", f"最多 {PHOTOS_MAX} 张照片")
    clean["photos"] = list(dict.fromkeys(photos))
    rule = data.get("audience_rule") or {}
    if not isinstance(rule, dict):
        raise invalid("audience_rule", "应为 JSON 对象")
    clean["audience_rule"] = profiles.validate_rule(rule)
    show_from, show_until = _aware(data, "show_from"), _aware(data, "show_until")
    now = utcnow()
    if show_until is not None:
        if show_until <= max(show_from or now, now):
            raise invalid("show_until", "结束时间须晚于开始时间和当前时间")
        if show_until - (show_from or now) > timedelta(days=SHOW_MAX_DAYS):
            raise invalid("show_until", f"展示期最长 {SHOW_MAX_DAYS} 天")
    if show_from is not None and show_from - now > timedelta(days=SHOW_MAX_DAYS):
        raise invalid("show_from", f"开始时间最晚为 {SHOW_MAX_DAYS} 天后")
    clean["show_from"], clean["show_until"] = show_from, show_until
    return clean


def create_listing(actor, data: dict) -> PartnerListing:
    """A partner's staff submit an announcement or a service: pending until moderated."""
    partner = acting_partner(actor, publishing=True)
    listing = PartnerListing(partner_id=partner.id, created_by_id=actor.id, status="pending",
                             **clean_listing(data, actor))
    db.session.add(listing)
    db.session.flush()
    return listing


def update_listing(actor, listing_id: int, data: dict) -> PartnerListing:
    """Edit a pending, rejected or withdrawn listing: it goes (back) to moderation. A published
    listing is withdrawn first (what residents were shown stays what was approved)."""
    partner = acting_partner(actor, publishing=True)
    listing = listing_for(actor, listing_id)
    if listing.partner_id != partner.id:
        raise NotFound("该内容不存在", code="listing_not_found")
    if listing.status == "published":
        raise Conflict("已发布的内容请先撤下再修改", code="listing_published")
    clean = clean_listing(data, actor, listing)
    values = {**clean, "status": "pending", "reviewed_by_id": None, "reviewed_at": None, "review_note": None,
              "updated_at": utcnow()}
    if not db.session.execute(sa.update(PartnerListing).where(
            PartnerListing.id == listing.id, PartnerListing.status != "published").values(**values)).rowcount:
        raise Conflict("该内容刚刚已发布，请先撤下再修改", code="listing_published")
    db.session.refresh(listing)
    return listing


def list_listings(*, partner_id: int | None = None, status: str | None = None, kind: str | None = None,
                  limit: int = 20, cursor: str | None = None, oldest_first: bool = False) -> Page:
    """Listings, newest first (the moderation queue: status=pending, oldest first)."""
    stmt = sa.select(PartnerListing)
    if partner_id is not None:
        stmt = stmt.where(PartnerListing.partner_id == partner_id)
    if status:
        stmt = stmt.where(PartnerListing.status == status)
    if kind:
        stmt = stmt.where(PartnerListing.kind == kind)
    return paginate(stmt, [PartnerListing.id], limit=limit, cursor=cursor, descending=not oldest_first)


def own_listings(actor, *, status: str | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    return list_listings(partner_id=acting_partner(actor).id, status=status, limit=limit, cursor=cursor)


def _review(listing_id: int, actor: User, status: str, note: str | None, action: str) -> PartnerListing:
    listing = get_listing(listing_id)
    now = utcnow()
    if not db.session.execute(sa.update(PartnerListing).where(
            PartnerListing.id == listing.id, PartnerListing.status == "pending").values(
            status=status, reviewed_by_id=actor.id, reviewed_at=now, review_note=note, updated_at=now)).rowcount:
        db.session.refresh(listing)
        raise Conflict(f"该内容当前为“{LISTING_STATUS_LABELS[listing.status]}”，已被处理", code="already_decided")
    db.session.refresh(listing)
    audit.record(actor, f"activation.listing.{action}", "partner_listing", listing.id,
                 before={"status": "pending"}, after={"status": status, "note": note})
    return listing


def approve_listing(listing_id: int, actor: User, note: str | None = None) -> PartnerListing:
    """Moderation passes a pending listing (its partner must be approved). Putting it in front of
    estates is activation.ecosystem.publish_listing, which calls this."""
    listing = get_listing(listing_id)
    if db.session.get(Partner, listing.partner_id).status != "approved":
        raise Conflict("该合作伙伴未在合作中，不能发布其内容", code="partner_not_approved")
    return _review(listing_id, actor, "published", _note(note, required=False, what="通过"), "approve")


def reject_listing(listing_id: int, actor: User, reason: str | None) -> PartnerListing:
    """Moderation refuses a pending listing, with a reason the partner reads."""
    return _review(listing_id, actor, "rejected", _note(reason, required=True, what="驳回"), "reject")


def withdraw_listing(listing_id: int, actor, reason: str | None = None) -> PartnerListing:
    """Take a pending or published listing down: its partner's staff, or an admin (audited, with a
    reason). Its offers are withdrawn by activation.ecosystem.withdraw_listing, which calls this."""
    listing = listing_for(actor, listing_id)
    own = own_partner_id(actor) == listing.partner_id
    by_admin = not own and actor.has_role("admin")
    if not own and not by_admin:
        raise Forbidden("只有管理员或该伙伴的员工可以撤下", code="forbidden")
    note = _note(reason, required=by_admin, what="撤下")
    before = listing.status
    if not db.session.execute(sa.update(PartnerListing).where(
            PartnerListing.id == listing.id, PartnerListing.status.in_(("pending", "published"))).values(
            status="withdrawn", updated_at=utcnow(),
            **({"review_note": note, "reviewed_by_id": actor.id, "reviewed_at": utcnow()} if by_admin else {}))
    ).rowcount:
        db.session.refresh(listing)
        raise Conflict(f"该内容当前为“{LISTING_STATUS_LABELS[listing.status]}”，不能撤下", code="not_withdrawable")
    db.session.refresh(listing)
    audit.record(actor, "activation.listing.withdraw", "partner_listing", listing.id,
                 before={"status": before}, after={"status": "withdrawn", "note": note, "by_admin": by_admin})
    return listing


def listing_view(listing: PartnerListing, partner: Partner | None = None) -> dict:
    """What a resident (and an offer) shows of a listing."""
    partner = partner or db.session.get(Partner, listing.partner_id)
    return {"id": listing.id, "kind": listing.kind, "title": listing.title, "body": listing.body,
            "photos": upload_urls(listing.photos),
            "price_fen": listing.price_fen, "price_note": listing.price_note, "signup_mode": listing.signup_mode,
            "link_url": listing.link_url, "status": listing.status,
            "partner": {"id": partner.id, "name": partner.name, "category": partner.category,
                        "description": partner.description,
                        "logo": upload_url(partner.logo)}}


def offer_window(listing: PartnerListing, now: datetime | None = None) -> tuple[datetime, datetime]:
    """When an approved listing is shown: from its start (or now) to its end (or LISTING_DAYS later)."""
    now = now or utcnow()
    starts = max(listing.show_from or now, now)
    ends = listing.show_until or starts + timedelta(days=LISTING_DAYS)
    return starts, max(ends, starts + timedelta(minutes=1))


# -- leads ------------------------------------------------------------------------------------

def clean_phone(value) -> str:
    phone = re.sub(r"[\s-]", "", str(value or ""))
    if phone.startswith("+86"):
        phone = phone[3:]
    if not MOBILE_RE.fullmatch(phone):
        raise invalid("contact_phone", "请填写 11 位手机号")
    return phone


def create_lead(listing: PartnerListing, user: User, data: dict, *, estate_id: int | None) -> PartnerLead:
    """A resident signs up in the platform for a published service (the caller checked that the
    listing is shown to them). The contact phone defaults to the user's WeChat-confirmed phone.
    Once per listing and person: a second sign-up is 409 `already_signed_up`."""
    if listing.status != "published" or listing.signup_mode != "platform":
        raise Conflict("该内容不接受平台内报名", code="signup_closed")
    phone = data.get("contact_phone")
    if not phone:
        if not (user.phone and user.phone_confirmed_at):
            raise invalid("contact_phone", "请填写联系电话")
        phone = user.phone
    values = {"listing_id": listing.id, "partner_id": listing.partner_id, "user_id": user.id, "estate_id": estate_id,
              "contact_name": _text(data, "contact_name", (0, 32, "联系人")) or (user.display_name or "")[:32],
              "contact_phone": clean_phone(phone), "note": _text(data, "note", (0, NOTE_MAX, "备注")),
              "status": "new", "created_at": utcnow(), "updated_at": utcnow()}
    lead = insert_or_nothing(PartnerLead, values, conflict=["listing_id", "user_id"])
    if lead is None:
        raise Conflict("您已报名过该服务，商家会尽快联系您", code="already_signed_up")
    return lead


def my_leads(user_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """`GET /me/partner-leads`: my sign-ups, newest first, each with what it was for."""
    page = paginate(sa.select(PartnerLead).where(PartnerLead.user_id == user_id), [PartnerLead.id],
                    limit=limit, cursor=cursor)
    listings = listings_by_id(lead.listing_id for lead in page.items)
    partners = partners_by_id(x.partner_id for x in listings.values())
    page.items = [{"id": lead.id, "status": lead.status, "contact_phone": lead.contact_phone, "note": lead.note,
                   "created_at": lead.created_at,
                   "listing": {"id": lead.listing_id, "kind": listings[lead.listing_id].kind,
                               "title": listings[lead.listing_id].title,
                               "partner_name": partners[lead.partner_id].name}} for lead in page.items]
    return page


def lead_for(actor, lead_id: int) -> PartnerLead:
    """A lead as `actor` may see it: its partner's staff, admins and agents; else 404."""
    lead = db.session.get(PartnerLead, lead_id) if _valid_id(lead_id) else None
    if lead is not None and (_is_staff_reader(actor) or own_partner_id(actor) == lead.partner_id):
        return lead
    raise NotFound("该报名不存在", code="lead_not_found")


def partner_leads(partner_id: int, *, status: str | None = None, listing_id: int | None = None,
                  limit: int = 20, cursor: str | None = None) -> Page:
    stmt = sa.select(PartnerLead).where(PartnerLead.partner_id == partner_id)
    if status:
        stmt = stmt.where(PartnerLead.status == status)
    if listing_id is not None:
        stmt = stmt.where(PartnerLead.listing_id == listing_id)
    return paginate(stmt, [PartnerLead.id], limit=limit, cursor=cursor)


def own_leads(actor, **filters) -> Page:
    return partner_leads(acting_partner(actor).id, **filters)


def set_lead_status(actor, lead_id: int, status: str) -> PartnerLead:
    """The partner's staff mark a lead contacted or closed (or reopen a closed one as contacted)."""
    partner = acting_partner(actor)
    lead = lead_for(actor, lead_id)
    if lead.partner_id != partner.id:
        raise NotFound("该报名不存在", code="lead_not_found")
    if status not in LEAD_STATUSES or status == "new":
        raise invalid("status", "状态应为 contacted（已联系）或 closed（已完结）")
    lead.status = status
    db.session.flush()
    return lead


def lead_counts(partner_id: int) -> dict[str, int]:
    rows = db.session.execute(sa.select(PartnerLead.status, sa.func.count()).where(
        PartnerLead.partner_id == partner_id).group_by(PartnerLead.status))
    return {status: 0 for status in LEAD_STATUSES} | dict(rows.all())


def listing_counts(partner_id: int) -> dict[str, int]:
    rows = db.session.execute(sa.select(PartnerListing.status, sa.func.count()).where(
        PartnerListing.partner_id == partner_id).group_by(PartnerListing.status))
    return {status: 0 for status in REVIEW_STATUSES} | dict(rows.all())
