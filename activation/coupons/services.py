"""Coupons (优惠券): templates and their terms, issuing within stock and the per-user limit (claims,
rules, grants), holding a coupon for a service request, use, refund, expiry, and the per-estate
report (docs/activation.md, "Coupons").

- Stock: `coupon_templates.issued` grows only by a conditional UPDATE (`issued < total_stock`), so
  concurrent issues never pass the stock; the row lock it takes orders the issues of a template.
- The per-user limit: a holder's coupons of a template take slots 1..per_user_limit, unique per
  (template, user, slot); an issue inserts the next slot with ON CONFLICT DO NOTHING and, when a
  concurrent issue took that slot, tries the next one once. The limit counts every coupon ever
  issued to the holder (used and expired ones too).
- Idempotency: a rule's or a grant's issue carries an `issue_key` (review:<id>, binding:<user>,
  activity:<id>:<user>, grant:<template>:<grant>:<user>); a repeat returns the coupon issued
  first. The manufacturer's redeem call is idempotent by (source, order id), its refund too.
- Terms are frozen once a coupon is issued: a holder keeps what they were given.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from flask import current_app

from activation.coupons.models import AUTO_ISSUE, COUPON_SOURCES, DISCOUNT_KINDS, Coupon, CouponTemplate, CouponUse
from activation.partners.models import Partner
from community.estates import services as estates
from community.orders import services as orders
from community.orders.services import SERVICE_TYPES  # the community's catalogue (community/service_types.py)
from community.profiles import services as profiles
from core import audit, signals
from core.accounts.models import User
from core.accounts.services import Principal
from core.csvimport import csv_text
from core.db import MAX_ID, dialect_insert, insert_or_nothing, utcnow
from core.errors import APIError, Conflict, Forbidden, NotFound, ValidationFailed, invalid
from core.extensions import db
from core.formatting import BUSINESS_TZ, iso_time
from core.notifications import services as notifications
from core.pagination import Page, paginate

STATUS_LABELS = {"available": "可使用", "locked": "使用中", "used": "已使用", "expired": "已过期", "void": "已作废"}
TEMPLATE_STATUS_LABELS = {"active": "发放中", "paused": "已暂停", "ended": "已结束"}
SOURCE_LABELS = {"claim": "领取", "activity": "参加活动", "review": "评价服务", "binding": "绑定管家", "grant": "平台发放"}
AUTO_ISSUE_LABELS = {"review": "评价服务后发放", "binding": "首次绑定管家后发放"}
KIND_LABELS = {"amount": "满减券", "percent": "折扣券"}
# What a resident's tabs show: available holds the coupons held for an open service request too.
TABS = {"available": ("available", "locked"), "used": ("used",), "expired": ("expired", "void")}
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: quoted aloud and typed at a till
CODE_LENGTH = 12
MAX_FEN = 10_000_000  # 100,000 yuan: the largest face value, cap or threshold
MAX_STOCK = 10_000_000
MAX_GRANT_USERS = 10_000  # user ids named in one grant (a segment of estates has no such bound)
MAX_GRANT_ESTATES = 1000
GRANT_BATCH = 1000
EXPIRY_NOTICE_DAYS = 3
NOTICE_PAGE = "pages/coupons/index"
GRANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# Terms a holder was given: they cannot change once a coupon of the template is out.
FROZEN = ("kind", "amount_fen", "percent_off", "cap_fen", "min_spend_fen", "service_types", "valid_from",
          "valid_until", "valid_days", "partner_id")
TEMPLATE_FIELDS = ("name", "description", *FROZEN, "total_stock", "per_user_limit", "claimable", "auto_issue")


def business_today() -> date:
    return datetime.now(BUSINESS_TZ).date()


def day_start(day: date) -> datetime:
    """00:00 of that day in Asia/Shanghai, as aware UTC."""
    return datetime.combine(day, time(), BUSINESS_TZ).astimezone(timezone.utc)


def yuan(fen: int | None) -> str:
    """20 / 20.5 / 0.05: yuan as people write them on a coupon."""
    if fen is None:
        return ""
    whole, cents = divmod(int(fen), 100)
    return str(whole) if not cents else f"{whole}.{cents:02d}".rstrip("0")


def _discount_words(percent_off: int) -> str:
    """15 → 8.5折, 20 → 8折."""
    rate = 100 - percent_off
    return f"{rate // 10}折" if rate % 10 == 0 else f"{rate / 10:g}折"


# -- templates --------------------------------------------------------------------------------

def get_template(template_id: int, *, lock: bool = False) -> CouponTemplate:
    stmt = sa.select(CouponTemplate).where(CouponTemplate.id == template_id)
    if lock:
        stmt = stmt.with_for_update()
    template = db.session.scalars(stmt).first() if 0 < template_id <= MAX_ID else None
    if template is None:
        raise NotFound("优惠券不存在", code="coupon_template_not_found")
    return template


def templates_by_id(ids) -> dict[int, CouponTemplate]:
    wanted = {i for i in ids if isinstance(i, int)}
    if not wanted:
        return {}
    return {t.id: t for t in db.session.scalars(sa.select(CouponTemplate).where(CouponTemplate.id.in_(wanted)))}


def face(t: CouponTemplate) -> str:
    """The coupon's value in a few characters: 满100减20, 立减20, 8.5折 最高减50."""
    if t.kind == "amount":
        return f"满{yuan(t.min_spend_fen)}减{yuan(t.amount_fen)}" if t.min_spend_fen else f"立减{yuan(t.amount_fen)}"
    words = _discount_words(t.percent_off)
    return f"满{yuan(t.min_spend_fen)}享{words}" if t.min_spend_fen else words


def validity_text(t: CouponTemplate) -> str:
    if t.valid_days:
        return f"领取后 {t.valid_days} 天内有效"
    return f"{t.valid_from.isoformat()} 至 {t.valid_until.isoformat()} 有效"


def terms(t: CouponTemplate, partner_name: str | None = None) -> list[str]:
    """The conditions a holder reads (and an engineer applies on a service bill, which the platform
    does not price)."""
    lines = []
    if t.kind == "percent":
        lines.append(f"打{_discount_words(t.percent_off)}，最高减 {yuan(t.cap_fen)} 元")
    else:
        lines.append(f"减 {yuan(t.amount_fen)} 元")
    lines.append(f"订单满 {yuan(t.min_spend_fen)} 元可用" if t.min_spend_fen else "无门槛")
    kinds = "、".join(SERVICE_TYPES.get(s, s) for s in t.service_types or [])
    lines.append(f"限{kinds}服务使用" if kinds else "全部服务类型可用")
    if partner_name:
        lines.append(f"仅限{partner_name}的服务使用")
    lines.append(validity_text(t))
    lines.append(f"每人限领 {t.per_user_limit} 张")
    return lines


def _partner_names(ids) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(db.session.execute(sa.select(Partner.id, Partner.name).where(Partner.id.in_(wanted))).all())


def partner_choices() -> list[tuple[int, str]]:
    """Approved partners, for the template form."""
    return list(db.session.execute(sa.select(Partner.id, Partner.name).where(Partner.status == "approved")
                                   .order_by(Partner.name)).all())


def template_views(templates, user_id: int | None = None) -> list[dict]:
    templates = list(templates)
    partners = _partner_names(t.partner_id for t in templates)
    held: dict[int, int] = {}
    if user_id is not None and templates:
        held = dict(db.session.execute(sa.select(Coupon.template_id, sa.func.count()).where(
            Coupon.user_id == user_id, Coupon.template_id.in_([t.id for t in templates]))
            .group_by(Coupon.template_id)).all())
    today = business_today()
    views = []
    for t in templates:
        partner = {"id": t.partner_id, "name": partners.get(t.partner_id, "")} if t.partner_id else None
        remaining = None if t.total_stock is None else max(0, t.total_stock - t.issued)
        view = {
            "id": t.id, "name": t.name, "description": t.description, "kind": t.kind, "kind_label": KIND_LABELS[t.kind],
            "amount_fen": t.amount_fen, "percent_off": t.percent_off, "cap_fen": t.cap_fen,
            "min_spend_fen": t.min_spend_fen, "face": face(t), "terms": terms(t, partner and partner["name"]),
            "service_types": [{"code": s, "label": SERVICE_TYPES.get(s, s)} for s in t.service_types or []],
            "valid_from": t.valid_from, "valid_until": t.valid_until, "valid_days": t.valid_days,
            "validity": validity_text(t), "total_stock": t.total_stock, "issued": t.issued, "remaining": remaining,
            "per_user_limit": t.per_user_limit, "claimable": t.claimable, "auto_issue": t.auto_issue,
            "auto_issue_label": AUTO_ISSUE_LABELS.get(t.auto_issue, ""), "partner": partner, "status": t.status,
            "status_label": TEMPLATE_STATUS_LABELS[t.status], "created_at": t.created_at, "updated_at": t.updated_at,
        }
        if user_id is not None:
            mine = held.get(t.id, 0)
            view["held"] = mine
            view["can_claim"] = (t.claimable and t.status == "active" and mine < t.per_user_limit
                                 and remaining != 0 and (t.valid_until is None or t.valid_until >= today))
        views.append(view)
    return views


def template_view(t: CouponTemplate, user_id: int | None = None) -> dict:
    """A template as the API shows it: its terms in words, its stock, and (for a resident) how many
    they hold and whether they may claim another."""
    return template_views([t], user_id)[0]


def _int_or_none(value):
    return value if value is None or (isinstance(value, int) and not isinstance(value, bool)) else "bad"


def _check_terms(values: dict, template: CouponTemplate | None) -> dict:
    """Normalise and check a template's fields (all of them, merged over the stored ones); returns
    the values or raises ValidationFailed naming every field at fault, in Chinese."""
    errors: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    v = dict(values)
    v["name"] = " ".join(str(v.get("name") or "").split())
    if not v["name"]:
        bad("name", "请填写优惠券名称")
    elif len(v["name"]) > 64:
        bad("name", "名称不能超过 64 个字")
    v["description"] = str(v.get("description") or "").strip()
    if len(v["description"]) > 500:
        bad("description", "说明不能超过 500 个字")
    for name in ("amount_fen", "percent_off", "cap_fen", "min_spend_fen", "valid_days", "total_stock", "per_user_limit"):
        if _int_or_none(v.get(name)) == "bad":
            bad(name, "应为整数")
            v[name] = None
    if v.get("kind") not in DISCOUNT_KINDS:
        bad("kind", "优惠方式须为满减（amount）或折扣（percent）")
    elif v["kind"] == "amount":
        v["percent_off"] = v["cap_fen"] = None
        if v.get("amount_fen") is None:
            bad("amount_fen", "请填写减免金额")
        elif not 0 < v["amount_fen"] <= MAX_FEN:
            bad("amount_fen", "减免金额须大于 0 元、不超过 10 万元")
        elif v.get("min_spend_fen") and v["amount_fen"] > v["min_spend_fen"]:
            bad("amount_fen", "减免金额不能超过使用门槛")
    else:
        v["amount_fen"] = None
        if v.get("percent_off") is None:
            bad("percent_off", "请填写折扣（如 15 表示打八五折）")
        elif not 1 <= v["percent_off"] <= 90:
            bad("percent_off", "折扣须在 1 到 90 之间（15 表示打八五折）")
        if v.get("cap_fen") is None:
            bad("cap_fen", "折扣券须填写最高减免金额")
        elif not 0 < v["cap_fen"] <= MAX_FEN:
            bad("cap_fen", "最高减免金额须大于 0 元、不超过 10 万元")
    v["min_spend_fen"] = v.get("min_spend_fen") or 0
    if not 0 <= v["min_spend_fen"] <= MAX_FEN:
        bad("min_spend_fen", "使用门槛须在 0 到 10 万元之间")
    types = v.get("service_types") or []
    if not isinstance(types, list) or any(t not in SERVICE_TYPES for t in types):
        bad("service_types", f"服务类型须为：{'、'.join(SERVICE_TYPES)}")
        types = []
    v["service_types"] = [t for t in SERVICE_TYPES if t in types]  # catalogue order, once each
    fixed = v.get("valid_from") is not None or v.get("valid_until") is not None
    if v.get("valid_days") is not None and fixed:
        bad("valid_days", "有效期请二选一：固定日期，或领取后有效天数")
    elif v.get("valid_days") is not None:
        if not 1 <= v["valid_days"] <= 3650:
            bad("valid_days", "有效天数须在 1 到 3650 之间")
    elif fixed:
        if v.get("valid_from") is None:
            bad("valid_from", "请填写开始日期")
        if v.get("valid_until") is None:
            bad("valid_until", "请填写结束日期")
        if v.get("valid_from") and v.get("valid_until"):
            if v["valid_until"] < v["valid_from"]:
                bad("valid_until", "结束日期不能早于开始日期")
            elif template is None and v["valid_until"] < business_today():
                bad("valid_until", "结束日期不能早于今天")
    else:
        bad("valid_days", "请填写有效期：固定日期，或领取后有效天数")
    if v.get("total_stock") is not None:
        issued = template.issued if template is not None else 0
        if not 0 <= v["total_stock"] <= MAX_STOCK:
            bad("total_stock", "总库存须在 0 到 1000 万之间（留空为不限）")
        elif v["total_stock"] < issued:
            bad("total_stock", f"总库存不能少于已发放的 {issued} 张")
    v["per_user_limit"] = 1 if v.get("per_user_limit") is None else v["per_user_limit"]
    if not 1 <= v["per_user_limit"] <= 100:
        bad("per_user_limit", "每人限领须在 1 到 100 张之间")
    v["claimable"] = bool(v.get("claimable"))
    v["auto_issue"] = v.get("auto_issue") or None
    if v["auto_issue"] is not None and v["auto_issue"] not in AUTO_ISSUE:
        bad("auto_issue", "自动发放须为：评价服务后（review）或首次绑定管家后（binding）")
    if v.get("partner_id") is not None:
        partner = db.session.get(Partner, v["partner_id"]) if isinstance(v["partner_id"], int) \
            and 0 < v["partner_id"] <= MAX_ID else None
        if partner is None or partner.status != "approved":
            bad("partner_id", "合作伙伴不存在或未通过审核")
    if template is not None and template.issued > 0:
        for name in FROZEN:
            if v.get(name) != getattr(template, name):
                bad(name, "已有优惠券发出，不能再修改此项（持券人按领取时的条件使用）")
    if errors:
        raise ValidationFailed("优惠券设置有误", details={"fields": errors})
    return {k: v.get(k) for k in TEMPLATE_FIELDS}


def _state(t: CouponTemplate) -> dict:
    return {k: getattr(t, k) for k in (*TEMPLATE_FIELDS, "status", "issued")}


def _take_auto_issue(event: str | None, template_id: int | None, actor) -> None:
    """An event issues one template's coupon: choosing this one takes the event from another."""
    if event is None:
        return
    others = db.session.execute(sa.update(CouponTemplate).where(
        CouponTemplate.auto_issue == event, CouponTemplate.id != (template_id or 0))
        .values(auto_issue=None).returning(CouponTemplate.id)).scalars().all()
    for other in others:
        audit.record(actor, "coupon_template.auto_issue_moved", "coupon_template", other,
                     before={"auto_issue": event}, after={"auto_issue": None, "moved_to": template_id})


def create_template(data: dict, actor: User) -> CouponTemplate:
    values = _check_terms(data, None)
    _take_auto_issue(values["auto_issue"], None, actor)
    template = CouponTemplate(**values, status="active", created_by_id=getattr(actor, "id", None))
    db.session.add(template)
    db.session.flush()
    audit.record(actor, "coupon_template.create", "coupon_template", template.id, after=_state(template))
    return template


def update_template(template_id: int, data: dict, actor: User) -> CouponTemplate:
    """Change what may change: wording, stock (not below what is issued), the limit, claimable,
    automatic issue; the terms only while no coupon is out. An ended template stays as it was."""
    template = get_template(template_id, lock=True)
    if template.status == "ended":
        raise Conflict("优惠券已结束发放，不能再修改", code="coupon_template_ended")
    before = _state(template)
    values = _check_terms({**{k: getattr(template, k) for k in TEMPLATE_FIELDS}, **data}, template)
    _take_auto_issue(values["auto_issue"], template.id, actor)
    for key, value in values.items():
        setattr(template, key, value)
    db.session.flush()
    audit.record(actor, "coupon_template.update", "coupon_template", template.id, before=before, after=_state(template))
    return template


STATUS_ACTIONS = {"pause": (("active",), "paused"), "resume": (("paused",), "active"),
                  "end": (("active", "paused"), "ended")}
ACTION_REFUSALS = {"pause": "只有发放中的优惠券可以暂停", "resume": "只有已暂停的优惠券可以恢复发放",
                   "end": "优惠券已结束"}


def set_template_status(template_id: int, action: str, actor: User) -> CouponTemplate:
    """pause (no new coupons; those out stay usable), resume, end (for good; automatic issue stops)."""
    expected, target = STATUS_ACTIONS[action]
    template = get_template(template_id, lock=True)
    if template.status not in expected:
        raise Conflict(ACTION_REFUSALS[action], code="coupon_template_state", details={"status": template.status})
    before = {"status": template.status, "auto_issue": template.auto_issue}
    template.status = target
    if target == "ended":
        template.auto_issue = None
    db.session.flush()
    audit.record(actor, f"coupon_template.{action}", "coupon_template", template.id, before=before,
                 after={"status": template.status, "auto_issue": template.auto_issue})
    return template


def list_templates(*, status: str | None = None, q: str | None = None, claimable: bool | None = None,
                   limit: int = 20, cursor: str | None = None) -> Page:
    stmt = sa.select(CouponTemplate)
    if status:
        stmt = stmt.where(CouponTemplate.status == status)
    if claimable is not None:
        stmt = stmt.where(CouponTemplate.claimable.is_(claimable))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(CouponTemplate.name.like(pattern, escape="\\"))
    return paginate(stmt, [CouponTemplate.id], limit=limit, cursor=cursor)


def visible_template(template_id: int, who: Principal) -> CouponTemplate:
    """A template an admin may see, or a resident: a claimable one, or one they hold a coupon of."""
    template = get_template(template_id)
    if who.has_role("admin") or template.claimable:
        return template
    holds = db.session.scalar(sa.select(sa.literal(1)).where(
        Coupon.template_id == template.id, Coupon.user_id == who.id).limit(1))
    if holds is None:
        raise NotFound("优惠券不存在", code="coupon_template_not_found")
    return template


# -- issuing ----------------------------------------------------------------------------------

def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _window(t: CouponTemplate, today: date) -> tuple[date, date]:
    """The days a coupon issued today may be used on (both included)."""
    if t.valid_days:
        return today, today + timedelta(days=t.valid_days - 1)
    return t.valid_from, t.valid_until


def _by_issue_key(issue_key: str) -> Coupon | None:
    return db.session.scalars(sa.select(Coupon).where(Coupon.issue_key == issue_key)
                              .execution_options(populate_existing=True)).first()


def _next_slot(template_id: int, user_id: int) -> int:
    return (db.session.scalar(sa.select(sa.func.max(Coupon.slot)).where(
        Coupon.template_id == template_id, Coupon.user_id == user_id)) or 0) + 1


def _give_back_stock(template_id: int) -> None:
    db.session.execute(sa.update(CouponTemplate).where(CouponTemplate.id == template_id)
                       .values(issued=CouponTemplate.issued - 1).execution_options(synchronize_session=False))


class IssueRefused(Conflict):
    """Why a coupon was not issued (stock, the per-user limit, the template's state or dates)."""


def issue_coupon(template_id: int, user_id: int, *, source: str, issue_key: str | None = None,
                 estate_id: int | None = None, actor=None, today: date | None = None) -> Coupon | None:
    """Issue one coupon of the template to the user, within stock and the per-user limit.

    Idempotent by `issue_key` (a repeat returns the coupon issued first). A claim (source "claim")
    that cannot be served raises Conflict with the reason in Chinese; the rule and grant sources
    get None instead (nothing to tell anyone). `actor`, who decided, is the caller's to audit (a
    grant audits once for all its coupons); the coupon itself records its source and key.
    """
    if source not in COUPON_SOURCES:
        raise ValueError(f"unknown coupon source {source!r}")
    if issue_key is not None and (found := _by_issue_key(issue_key)) is not None:
        return found
    try:
        return _issue(template_id, user_id, source=source, issue_key=issue_key, estate_id=estate_id,
                      today=today or business_today())
    except IssueRefused:
        if source == "claim":
            raise
        return None


def _issue(template_id: int, user_id: int, *, source: str, issue_key: str | None, estate_id: int | None,
           today: date) -> Coupon:
    template = get_template(template_id)
    if template.status != "active":
        raise IssueRefused("该优惠券已停止发放", code="coupon_template_inactive")
    starts, ends = _window(template, today)
    if ends < today:
        raise IssueRefused("该优惠券已过有效期", code="coupon_template_expired")
    slot = _next_slot(template.id, user_id)
    if slot > template.per_user_limit:
        raise IssueRefused(f"每人限领 {template.per_user_limit} 张，您已领过了", code="coupon_limit_reached")
    # Stock: one conditional UPDATE; its row lock orders the issues of this template until commit.
    taken = db.session.execute(sa.update(CouponTemplate).where(
        CouponTemplate.id == template.id, CouponTemplate.status == "active",
        sa.or_(CouponTemplate.total_stock.is_(None), CouponTemplate.issued < CouponTemplate.total_stock))
        .values(issued=CouponTemplate.issued + 1).execution_options(synchronize_session=False)).rowcount
    if not taken:
        db.session.refresh(template)
        if template.status != "active":
            raise IssueRefused("该优惠券已停止发放", code="coupon_template_inactive")
        raise IssueRefused("优惠券已被领完", code="coupon_out_of_stock")
    values = {"template_id": template.id, "user_id": user_id, "estate_id": estate_id, "source": source,
              "issue_key": issue_key, "status": "available", "valid_from": starts, "expires_on": ends}
    for _ in range(2):  # the next slot, then once more if a concurrent issue took it
        now = utcnow()
        stmt = dialect_insert()(Coupon).values(code=new_code(), slot=slot, issued_at=now, updated_at=now, **values)
        coupon = db.session.scalars(stmt.on_conflict_do_nothing().returning(Coupon)).first()
        if coupon is not None:
            return coupon
        # A concurrent issue took the slot (or the issue key): never count this one.
        if issue_key is not None and (found := _by_issue_key(issue_key)) is not None:
            _give_back_stock(template.id)
            return found
        slot = _next_slot(template.id, user_id)
        if slot > template.per_user_limit:
            break
    _give_back_stock(template.id)
    raise IssueRefused(f"每人限领 {template.per_user_limit} 张，您已领过了", code="coupon_limit_reached")


def claim_coupon(template_id: int, user: User, estate_id: int | None = None) -> Coupon:
    """A resident claims (领券) a claimable template offered in their estate: `estate_id`, else one
    of their estates where it is offered. Refusals are 404/403/409 with the reason."""
    template = get_template(template_id)
    if not template.claimable:
        raise NotFound("优惠券不存在", code="coupon_template_not_found")
    homes = [r.estate_id for r in estates.estates_of(user)]
    if estate_id is not None:
        if estate_id not in homes:
            raise Forbidden("只有该小区的住户可以领取", code="not_a_resident")
        homes = [estate_id]
    where = signals.ask(signals.coupon_offered, default=None, template_id=template.id, estate_ids=homes) \
        if homes else None
    if where is None:
        raise Forbidden("您所在的小区暂未发放该优惠券", code="coupon_not_offered")
    return issue_coupon(template.id, user.id, source="claim", estate_id=where)


# -- rules: events that issue a coupon by themselves ------------------------------------------------

def _auto_template(event: str) -> CouponTemplate | None:
    return db.session.scalars(sa.select(CouponTemplate).where(CouponTemplate.auto_issue == event,
                                                              CouponTemplate.status == "active")).first()


def _tell_holders(user_ids, template: CouponTemplate, why: str) -> None:
    """An inbox notice for residents given a coupon they did not ask for."""
    if user_ids:
        notifications.notify(user_ids, kind="coupon", title="您获得一张优惠券",
                             body=f"{why}，送您「{template.name}」（{face(template)}），{validity_text(template)}。",
                             page=NOTICE_PAGE)


def _issue_by_rule(event: str, user_id: int, *, source: str, issue_key: str, estate_id: int | None, why: str) -> None:
    """An event's coupon (the template the admin chose for it), once per key; the holder is told."""
    template = _auto_template(event)
    if template is None or _by_issue_key(issue_key) is not None:
        return
    if issue_coupon(template.id, user_id, source=source, issue_key=issue_key, estate_id=estate_id) is not None:
        _tell_holders([user_id], template, why)


def review_written(sender, *, review_id: int, resident_id: int, order_id: int, estate_id: int) -> None:
    """Receiver of core.signals.review_written: the review coupon, the same whatever the rating
    (the rating is not even read)."""
    _issue_by_rule("review", resident_id, source="review", issue_key=f"review:{review_id}", estate_id=estate_id,
                   why="感谢您评价服务")


def steward_bound(sender, *, resident_id: int, engineer_id: int, estate_id: int, first: bool) -> None:
    """Receiver of core.signals.steward_bound: the first-binding coupon, once per resident ever."""
    if first:
        _issue_by_rule("binding", resident_id, source="binding", issue_key=f"binding:{resident_id}",
                       estate_id=estate_id, why="欢迎绑定专属管家")


# -- grants to a segment --------------------------------------------------------------------------

@dataclass
class GrantResult:
    grant_id: str
    targeted: int = 0  # residents the grant named
    issued: int = 0  # coupons issued by this call
    repeated: int = 0  # already issued by an earlier call of the same grant
    at_limit: int = 0  # holders at the per-user limit
    out_of_stock: int = 0  # left without a coupon because the stock ran out


def _grant_batches(user_ids, estate_ids, rule):
    """Batches of (user_id, estate_id) of the active residents a grant names, in user id order:
    named users (their current estate, if any), the residents of estates, or of the estates a
    targeting rule matches (community.profiles), read in keyset pages."""
    if sum(x is not None for x in (user_ids, estate_ids, rule)) != 1:
        raise invalid("user_ids", "请指定发放对象：用户、小区或筛选规则（三选一）")
    if user_ids is not None:
        ids = sorted({i for i in user_ids if isinstance(i, int) and 0 < i <= MAX_ID})
        if not ids or len(ids) > MAX_GRANT_USERS:
            raise invalid("user_ids", f"请填写 1 到 {MAX_GRANT_USERS} 个用户")
        for start in range(0, len(ids), GRANT_BATCH):
            active = sorted(db.session.scalars(sa.select(User.id).where(
                User.id.in_(ids[start:start + GRANT_BATCH]), User.status == "active")))
            homes = estates.home_estates(active)
            if active:
                yield [(i, homes.get(i)) for i in active]
        return
    if estate_ids is not None:
        ids = sorted({i for i in estate_ids if isinstance(i, int) and 0 < i <= MAX_ID})
        if not ids or len(ids) > MAX_GRANT_ESTATES:
            raise invalid("estate_ids", f"请填写 1 到 {MAX_GRANT_ESTATES} 个小区")
        targets = estates.residents_of(ids).subquery()
    else:
        targets = estates.residents_of(profiles.matching_estates(profiles.validate_rule(rule))).subquery()
    stmt = sa.select(targets.c.user_id, targets.c.estate_id).join(User, User.id == targets.c.user_id).where(
        User.status == "active").order_by(targets.c.user_id).limit(GRANT_BATCH)
    last = 0
    while batch := [tuple(r) for r in db.session.execute(stmt.where(targets.c.user_id > last))]:
        last = batch[-1][0]
        yield batch


def grant(template_id: int, actor: User, *, grant_id: str | None = None, user_ids: list[int] | None = None,
          estate_ids: list[int] | None = None, rule: dict | None = None, today: date | None = None) -> GrantResult:
    """An admin gives the template's coupon to a segment: named users, the residents of estates, or
    of the estates a targeting rule matches; one coupon each, within stock and the per-user limit,
    batch by batch (set-based). Idempotent per (grant id, user): repeating a grant id issues only
    to whom it missed. Those given one are told in their inbox."""
    if grant_id is not None and not GRANT_ID.match(grant_id):
        raise invalid("grant_id", "发放编号须为 1–40 个英文字母、数字、- 或 _")
    grant_id = grant_id or uuid.uuid4().hex[:16]
    template = get_template(template_id)
    if template.status != "active":
        raise Conflict("该优惠券未在发放中，不能发放", code="coupon_template_inactive")
    today = today or business_today()
    starts, ends = _window(template, today)
    if ends < today:
        raise Conflict("该优惠券已过有效期，不能发放", code="coupon_template_expired")
    result = GrantResult(grant_id=grant_id)
    for batch in _grant_batches(user_ids, estate_ids, rule):
        result.targeted += len(batch)
        _grant_batch(template.id, grant_id, batch, starts, ends, result)
    audit.record(actor, "coupon_template.grant", "coupon_template", template.id, after={
        "grant_id": grant_id, "user_ids": len(user_ids) if user_ids is not None else None,
        "estate_ids": estate_ids, "rule": rule, "targeted": result.targeted, "issued": result.issued,
        "repeated": result.repeated, "at_limit": result.at_limit, "out_of_stock": result.out_of_stock})
    return result


def grant_key(template_id: int, grant_id: str, user_id: int) -> str:
    return f"grant:{template_id}:{grant_id}:{user_id}"


def _grant_batch(template_id: int, grant_id: str, batch, starts: date, ends: date, result: GrantResult) -> None:
    # The template's row lock: no other issue of it runs meanwhile, so the slots and stock read here hold.
    template = get_template(template_id, lock=True)
    db.session.refresh(template)
    keys = {user_id: grant_key(template_id, grant_id, user_id) for user_id, _ in batch}
    done = set(db.session.scalars(sa.select(Coupon.user_id).where(Coupon.issue_key.in_(keys.values()))))
    result.repeated += len(done)
    slots = dict(db.session.execute(sa.select(Coupon.user_id, sa.func.max(Coupon.slot)).where(
        Coupon.template_id == template_id, Coupon.user_id.in_(list(keys))).group_by(Coupon.user_id)).all())
    eligible = []
    for user_id, estate_id in batch:
        if user_id in done:
            continue
        if slots.get(user_id, 0) >= template.per_user_limit:
            result.at_limit += 1
            continue
        eligible.append((user_id, estate_id))
    if template.total_stock is not None:
        room = max(0, template.total_stock - template.issued)
        result.out_of_stock += max(0, len(eligible) - room)
        eligible = eligible[:room]
    if not eligible:
        return
    now = utcnow()
    rows = [{"code": new_code(), "template_id": template_id, "user_id": user_id, "estate_id": estate_id,
             "slot": slots.get(user_id, 0) + 1, "source": "grant", "issue_key": keys[user_id],
             "status": "available", "issued_at": now, "valid_from": starts, "expires_on": ends, "updated_at": now}
            for user_id, estate_id in eligible]
    inserted = db.session.execute(dialect_insert()(Coupon).values(rows).on_conflict_do_nothing()
                                  .returning(Coupon.user_id)).scalars().all()
    if inserted:
        db.session.execute(sa.update(CouponTemplate).where(CouponTemplate.id == template_id)
                           .values(issued=CouponTemplate.issued + len(inserted))
                           .execution_options(synchronize_session=False))
        result.issued += len(inserted)
        _tell_holders(inserted, template, "平台送您一张优惠券")


# -- the holder's coupons ---------------------------------------------------------------------------

def own_coupon(coupon_id: int, user_id: int) -> Coupon:
    """One of the user's own coupons; anyone else's is 404."""
    coupon = db.session.get(Coupon, coupon_id) if 0 < coupon_id <= MAX_ID else None
    if coupon is None or coupon.user_id != user_id:
        raise NotFound("优惠券不存在", code="coupon_not_found")
    return coupon


def usable_now(coupon: Coupon, today: date | None = None) -> bool:
    today = today or business_today()
    return coupon.status == "available" and coupon.valid_from <= today <= coupon.expires_on


def coupon_views(coupons, today: date | None = None) -> list[dict]:
    coupons = list(coupons)
    today = today or business_today()
    templates = templates_by_id(c.template_id for c in coupons)
    partners = _partner_names(t.partner_id for t in templates.values())
    uses = {}
    if coupons:
        uses = {u.coupon_id: u for u in db.session.scalars(sa.select(CouponUse).where(
            CouponUse.coupon_id.in_([c.id for c in coupons]), CouponUse.refunded_at.is_(None)))}
    views = []
    for c in coupons:
        t = templates[c.template_id]
        use = uses.get(c.id)
        status = "expired" if c.status == "available" and c.expires_on < today else c.status
        views.append({
            "id": c.id, "code": c.code, "status": status, "status_label": STATUS_LABELS[status],
            "source": c.source, "source_label": SOURCE_LABELS[c.source], "issued_at": c.issued_at,
            "valid_from": c.valid_from, "expires_on": c.expires_on, "usable_now": usable_now(c, today),
            "locked_order_id": c.locked_order_id if c.status in ("locked", "used") else None, "used_at": c.used_at,
            "discount_fen": use.discount_fen if use else None,
            "template": {"id": t.id, "name": t.name, "description": t.description, "kind": t.kind, "face": face(t),
                         "amount_fen": t.amount_fen, "percent_off": t.percent_off, "cap_fen": t.cap_fen,
                         "min_spend_fen": t.min_spend_fen, "terms": terms(t, partners.get(t.partner_id)),
                         "service_types": list(t.service_types or []),
                         "partner": {"id": t.partner_id, "name": partners.get(t.partner_id, "")} if t.partner_id else None},
        })
    return views


def coupon_view(coupon: Coupon) -> dict:
    return coupon_views([coupon])[0]


def my_coupons(user_id: int, tab: str = "available", *, service_type: str | None = None, limit: int = 20,
               cursor: str | None = None, today: date | None = None) -> Page:
    """A holder's coupons of a tab: available (the soonest to expire first; held ones too), used
    (the latest first) or expired. `service_type`: only those usable for it."""
    today = today or business_today()
    statuses = TABS[tab]
    stmt = sa.select(Coupon).where(Coupon.user_id == user_id)
    if tab == "available":  # the expiry job may not have run yet today
        stmt = stmt.where(Coupon.status.in_(statuses), Coupon.expires_on >= today)
    elif tab == "expired":
        stmt = stmt.where(sa.or_(Coupon.status.in_(statuses),
                                 sa.and_(Coupon.status == "available", Coupon.expires_on < today)))
    else:
        stmt = stmt.where(Coupon.status.in_(statuses))
    if service_type is not None:
        held = db.session.scalars(sa.select(Coupon.template_id).where(Coupon.user_id == user_id).distinct())
        fits = [t.id for t in templates_by_id(held).values() if not t.service_types or service_type in t.service_types]
        stmt = stmt.where(Coupon.template_id.in_(fits))
    if tab != "available":
        return paginate(stmt, [Coupon.id], limit=limit, cursor=cursor)
    return paginate(stmt, [Coupon.expires_on, Coupon.id], limit=limit, cursor=cursor, descending=False)


# -- use -------------------------------------------------------------------------------------------

def _refusal(coupon: Coupon, t: CouponTemplate, today: date, *, service_type: str, partner_code: str | None,
             type_field: str, partner_field: str, platform: bool) -> APIError | None:
    """Why this coupon cannot be used now on this order, or None."""
    if coupon.status == "locked":
        return Conflict("该优惠券已用于另一张服务单", code="coupon_locked")
    if coupon.status == "used":
        return Conflict("该优惠券已使用", code="coupon_used")
    if coupon.status == "void":
        return Conflict("该优惠券已作废", code="coupon_void")
    if coupon.status == "expired" or coupon.expires_on < today:
        return Conflict("该优惠券已过期", code="coupon_expired")
    if coupon.valid_from > today:
        return Conflict(f"该优惠券 {coupon.valid_from.isoformat()} 起可用", code="coupon_not_yet_valid")
    if t.service_types and service_type not in t.service_types:
        kinds = "、".join(SERVICE_TYPES.get(s, s) for s in t.service_types)
        return invalid(type_field, f"该优惠券仅限{kinds}服务使用")
    if t.partner_id is not None:
        partner = db.session.get(Partner, t.partner_id)
        if platform or partner is None or partner.code != partner_code:
            return invalid(partner_field, f"该优惠券仅限{partner.name if partner else '指定合作伙伴'}的服务使用")
    return None


def hold_for_order(sender, *, user_id: int, coupon_id: int, order_id: int, service_type: str,
                   estate_id: int) -> APIError | None:
    """Answer of core.signals.coupon_for_order: lock the resident's coupon to the new order, or say
    why not. The minimum spend is the engineer's to apply on the bill (service orders carry no price)."""
    coupon = db.session.scalars(sa.select(Coupon).where(Coupon.id == coupon_id).with_for_update()
                                .execution_options(populate_existing=True)).first() \
        if 0 < coupon_id <= MAX_ID else None
    if coupon is None or coupon.user_id != user_id:
        return NotFound("优惠券不存在", code="coupon_not_found")
    refusal = _refusal(coupon, get_template(coupon.template_id), business_today(), service_type=service_type,
                       partner_code=None, type_field="coupon_id", partner_field="coupon_id", platform=True)
    if refusal is not None:
        return refusal
    coupon.status, coupon.locked_order_id = "locked", order_id
    db.session.flush()
    return None


def face_value(t: CouponTemplate) -> int:
    """The discount on a service order, which carries no price: the amount off, or a percentage's cap."""
    return t.amount_fen if t.kind == "amount" else t.cap_fen


def service_completed(sender, *, resident_id: int, order_id: int) -> None:
    """Receiver of core.signals.service_completed: the coupon held for the order is used."""
    coupon = db.session.scalars(sa.select(Coupon).where(Coupon.locked_order_id == order_id, Coupon.status == "locked")
                                .with_for_update().execution_options(populate_existing=True)).first()
    if coupon is None:
        return
    now = utcnow()
    use = insert_or_nothing(CouponUse, {
        "coupon_id": coupon.id, "kind": "service_order", "service_order_id": order_id,
        "request_key": f"service_order:{order_id}", "discount_fen": face_value(get_template(coupon.template_id)),
        "estate_id": orders.get_order(order_id).estate_id, "used_at": now}, conflict=["request_key"])
    if use is not None:
        coupon.status, coupon.used_at = "used", now
        db.session.flush()


def service_cancelled(sender, *, order_id: int) -> None:
    """Receiver of core.signals.service_cancelled: the coupon held for the order is the holder's
    again (expired, if its last day has passed meanwhile)."""
    db.session.execute(sa.update(Coupon).where(Coupon.locked_order_id == order_id, Coupon.status == "locked").values(
        status=sa.case((Coupon.expires_on < business_today(), "expired"), else_="available"),
        locked_order_id=None, updated_at=utcnow()).execution_options(synchronize_session=False))


# -- the manufacturer's systems: signed redeem and refund ------------------------------------------------

OMS = "oms"  # the source of a redeem call naming no partner: the manufacturer's order system


def request_key(partner_code: str | None, order_id: str) -> str:
    """The idempotency key of an external order's use: its source and its order id (digested: both
    are the caller's strings)."""
    return "ext:" + hashlib.sha256(f"{partner_code or OMS}\n{order_id}".encode()).hexdigest()


def _use_by_key(key: str) -> CouponUse | None:
    return db.session.scalars(sa.select(CouponUse).where(CouponUse.request_key == key)
                              .execution_options(populate_existing=True)).first()


def discount_for(t: CouponTemplate, amount_fen: int) -> int:
    """The discount on an order of this amount: the amount off (never more than the order), or the
    percentage rounded down to the fen and held to the cap."""
    if t.kind == "amount":
        return min(t.amount_fen, amount_fen)
    return min(amount_fen * t.percent_off // 100, t.cap_fen)


def use_view(use: CouponUse, coupon: Coupon) -> dict:
    refund_until = use.used_at + timedelta(days=current_app.config["COUPON_REFUND_DAYS"])
    return {"code": coupon.code, "order_id": use.external_order_id, "partner_code": use.partner_code,
            "amount_fen": use.order_amount_fen, "discount_fen": use.discount_fen,
            "amount": yuan_decimal(use.order_amount_fen), "discount": yuan_decimal(use.discount_fen),
            "status": "refunded" if use.refunded_at else "used", "used_at": use.used_at,
            "refunded_at": use.refunded_at, "refundable_until": refund_until, "coupon_status": coupon.status}


def yuan_decimal(fen: int | None) -> str | None:
    """199.00: yuan with two decimals, as the integration writes amounts."""
    return None if fen is None else f"{fen // 100}.{fen % 100:02d}"


def _replayed(use: CouponUse, code: str, amount_fen: int) -> dict:
    coupon = db.session.get(Coupon, use.coupon_id)
    if coupon.code != code or use.order_amount_fen != amount_fen:
        raise Conflict("该订单已使用过优惠券（券码或金额不同）", code="order_coupon_conflict",
                       details={"order_id": use.external_order_id, "code": coupon.code,
                                "amount": yuan_decimal(use.order_amount_fen)})
    return use_view(use, coupon)


def redeem(data: dict, *, today: date | None = None) -> dict:
    """Use a coupon on an order of the manufacturer's systems (signed call). `data`: code, order_id,
    amount_fen, service_type, partner_code (optional). Idempotent by (source, order id): a repeat
    returns the first answer; the same order with another coupon or amount is 409."""
    today = today or business_today()
    code, amount = data["code"].strip().upper(), data["amount_fen"]
    key = request_key(data.get("partner_code"), data["order_id"])
    if (use := _use_by_key(key)) is not None:
        return _replayed(use, code, amount)
    coupon = db.session.scalars(sa.select(Coupon).where(Coupon.code == code).with_for_update()
                                .execution_options(populate_existing=True)).first()
    if coupon is None:
        raise NotFound("优惠券不存在", code="coupon_not_found")
    if (use := _use_by_key(key)) is not None:  # a concurrent twin committed while we waited
        return _replayed(use, code, amount)
    template = get_template(coupon.template_id)
    refusal = _refusal(coupon, template, today, service_type=data["service_type"],
                       partner_code=data.get("partner_code"), type_field="service_type", partner_field="partner_code",
                       platform=False)
    if refusal is not None:
        raise refusal
    if amount < template.min_spend_fen:
        raise invalid("amount", f"订单金额未满 {yuan(template.min_spend_fen)} 元，不能使用该优惠券")
    now = utcnow()
    use = insert_or_nothing(CouponUse, {
        "coupon_id": coupon.id, "kind": "external_order", "external_order_id": data["order_id"], "request_key": key,
        "order_amount_fen": amount, "discount_fen": discount_for(template, amount), "estate_id": coupon.estate_id,
        "partner_code": data.get("partner_code"), "used_at": now}, conflict=["request_key"])
    if use is None:  # the same order redeemed concurrently with another coupon
        return _replayed(_use_by_key(key), code, amount)
    coupon.status, coupon.used_at = "used", now
    db.session.flush()
    return use_view(use, coupon)


def refund(data: dict, *, today: date | None = None, now: datetime | None = None) -> dict:
    """The order a coupon was used on was refunded (signed call): within COUPON_REFUND_DAYS of the
    use the coupon is the holder's again (expired, if its last day has passed); later, 409 and
    nothing changes. Idempotent: a repeat returns the refunded use."""
    today, now = today or business_today(), now or utcnow()
    key = request_key(data.get("partner_code"), data["order_id"])
    use = _use_by_key(key)
    if use is None:
        raise NotFound("该订单没有使用优惠券", code="coupon_use_not_found")
    coupon = db.session.scalars(sa.select(Coupon).where(Coupon.id == use.coupon_id).with_for_update()
                                .execution_options(populate_existing=True)).one()
    use = _use_by_key(key)
    if data.get("code") and data["code"].strip().upper() != coupon.code:
        raise Conflict("券码与该订单使用的优惠券不符", code="order_coupon_conflict")
    if use.refunded_at is not None:
        return use_view(use, coupon)
    days = current_app.config["COUPON_REFUND_DAYS"]
    if now > use.used_at + timedelta(days=days):
        raise Conflict(f"已超过 {days} 天的退款恢复期，优惠券不再恢复", code="refund_window_passed",
                       details={"used_at": iso_time(use.used_at)})
    use.refunded_at = now
    coupon.status = "available" if coupon.expires_on >= today else "expired"
    coupon.used_at = None
    db.session.flush()
    return use_view(use, coupon)


# -- expiry ------------------------------------------------------------------------------------------

def expire_coupons(today: date | None = None) -> dict:
    """The daily job: available coupons past their last day expire (one UPDATE on the partial index
    of available coupons); holders of coupons whose last day is within EXPIRY_NOTICE_DAYS are told
    once in their inbox. A coupon held for an open service request keeps its hold."""
    today = today or business_today()
    now = utcnow()
    expired = db.session.execute(sa.update(Coupon).where(Coupon.status == "available", Coupon.expires_on < today)
                                 .values(status="expired", updated_at=now)
                                 .execution_options(synchronize_session=False)).rowcount
    due = db.session.execute(sa.update(Coupon).where(
        Coupon.status == "available", Coupon.expires_on >= today,
        Coupon.expires_on <= today + timedelta(days=EXPIRY_NOTICE_DAYS), Coupon.reminded_at.is_(None))
        .values(reminded_at=now).returning(Coupon.user_id, Coupon.expires_on)
        .execution_options(synchronize_session=False)).all()
    per_user: dict[int, list[date]] = {}
    for user_id, day in due:
        per_user.setdefault(user_id, []).append(day)
    notices: dict[tuple[int, date], list[int]] = {}
    for user_id, days in per_user.items():
        notices.setdefault((len(days), min(days)), []).append(user_id)
    for (n, first), user_ids in notices.items():
        notifications.notify(user_ids, kind="coupon", title="优惠券即将到期",
                             body=f"您有 {n} 张优惠券最早将于 {first.month}月{first.day}日 到期，请尽快使用。",
                             page=NOTICE_PAGE)
    return {"expired": expired, "reminded": len(due), "holders_told": len(per_user)}


# -- figures and the per-estate report --------------------------------------------------------------

def template_figures(template_id: int) -> dict:
    """A template's issued, claimed, used and cost (the discount given by standing uses), and its
    coupons by status."""
    by_status = dict(db.session.execute(sa.select(Coupon.status, sa.func.count()).where(
        Coupon.template_id == template_id).group_by(Coupon.status)).all())
    claimed = db.session.scalar(sa.select(sa.func.count()).select_from(Coupon).where(
        Coupon.template_id == template_id, Coupon.source == "claim"))
    used, cost = db.session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(CouponUse.discount_fen), 0))
                                    .select_from(CouponUse).join(Coupon, Coupon.id == CouponUse.coupon_id).where(
        Coupon.template_id == template_id, CouponUse.refunded_at.is_(None))).one()
    refunded = db.session.scalar(sa.select(sa.func.count()).select_from(CouponUse).join(
        Coupon, Coupon.id == CouponUse.coupon_id).where(Coupon.template_id == template_id,
                                                        CouponUse.refunded_at.is_not(None)))
    return {"issued": sum(by_status.values()), "claimed": claimed, "used": used, "cost_fen": int(cost),
            "refunded": refunded, "by_status": {s: by_status.get(s, 0) for s in STATUS_LABELS}}


def _period(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    if start and end and end < start:
        raise invalid("to", "结束日期不能早于开始日期")
    return (day_start(start) if start else None, day_start(end + timedelta(days=1)) if end else None)


def _report_rows(*, template_id: int | None, q: str | None, city: str | None, start: date | None,
                 end: date | None) -> tuple[sa.Subquery, sa.Select]:
    """The per-estate figures as a subquery (estate_key, estate_id, name, city, district, issued,
    claimed, used, cost_fen), and the SELECT of the estates the filter names."""
    since, until = _period(start, end)
    c, u = Coupon.__table__.c, CouponUse.__table__.c
    issued = sa.select(c.estate_id.label("estate_id"), sa.literal(1).label("issued"),
                       sa.case((c.source == "claim", 1), else_=0).label("claimed"),
                       sa.literal(0).label("used"), sa.literal(0).label("cost"))
    used = sa.select(u.estate_id.label("estate_id"), sa.literal(0), sa.literal(0), sa.literal(1), u.discount_fen) \
        .where(u.refunded_at.is_(None))
    if template_id is not None:
        issued = issued.where(c.template_id == template_id)
        used = used.join_from(CouponUse.__table__, Coupon.__table__, c.id == u.coupon_id).where(c.template_id == template_id)
    if since is not None:
        issued, used = issued.where(c.issued_at >= since), used.where(u.used_at >= since)
    if until is not None:
        issued, used = issued.where(c.issued_at < until), used.where(u.used_at < until)
    named = estates.estates_where(q=q or None, city=city or None).subquery()
    if q or city:
        issued, used = issued.where(c.estate_id.in_(sa.select(named.c.id))), used.where(u.estate_id.in_(sa.select(named.c.id)))
    both = sa.union_all(issued, used).subquery()
    total = sa.select(both.c.estate_id, sa.cast(sa.func.sum(both.c.issued), sa.BigInteger).label("issued"),
                      sa.cast(sa.func.sum(both.c.claimed), sa.BigInteger).label("claimed"),
                      sa.cast(sa.func.sum(both.c.used), sa.BigInteger).label("used"),
                      sa.cast(sa.func.sum(both.c.cost), sa.BigInteger).label("cost_fen")).group_by(both.c.estate_id).subquery()
    rows = sa.select(sa.func.coalesce(total.c.estate_id, 0).label("estate_key"), total.c.estate_id,
                     named.c.name, named.c.city, named.c.district, total.c.issued, total.c.claimed, total.c.used,
                     total.c.cost_fen).select_from(total.outerjoin(named, named.c.id == total.c.estate_id)).subquery()
    return rows, named


def _row(r) -> dict:
    return {"estate": {"id": r.estate_id, "name": r.name or ("未关联小区" if r.estate_id is None else f"#{r.estate_id}"),
                       "city": r.city or "", "district": r.district or ""},
            "issued": int(r.issued), "claimed": int(r.claimed), "used": int(r.used), "cost_fen": int(r.cost_fen)}


def report(*, template_id: int | None = None, q: str | None = None, city: str | None = None,
           start: date | None = None, end: date | None = None, limit: int = 50, cursor: str | None = None) -> dict:
    """Per estate (the holder's estate at issue; for a use, where it was used): coupons issued,
    claimed, used (standing uses) and their cost (the discount given), over issues and uses in the
    period (business days, both included); estates by name or code (`q`) and city; the most
    issued first. Totals over all the rows."""
    rows, _ = _report_rows(template_id=template_id, q=q, city=city, start=start, end=end)
    page = paginate(sa.select(rows), [rows.c.issued, rows.c.estate_key], limit=limit, cursor=cursor, scalars=False,
                    key_of=lambda r: [int(r.issued), int(r.estate_key)])
    totals = db.session.execute(sa.select(*(sa.func.coalesce(sa.func.sum(rows.c[n]), 0).label(n)
                                            for n in ("issued", "claimed", "used", "cost_fen")))).one()
    return {"items": [_row(r) for r in page.items], "next_cursor": page.next_cursor,
            "totals": {n: int(getattr(totals, n)) for n in ("issued", "claimed", "used", "cost_fen")},
            "from": start, "to": end}


CSV_HEADER = ("小区", "城市", "区县", "发放", "领取", "使用", "优惠金额（元）")


def report_csv(**filters) -> str:
    """The whole report as CSV with a BOM (Excel opens UTF-8 then); cells that a spreadsheet would
    run as a formula are kept as text."""
    rows, _ = _report_rows(**filters)
    ordered = db.session.execute(sa.select(rows).order_by(rows.c.issued.desc(), rows.c.estate_key.desc()))
    return csv_text(CSV_HEADER, ([row["estate"]["name"], row["estate"]["city"], row["estate"]["district"],
                                  row["issued"], row["claimed"], row["used"], yuan_decimal(row["cost_fen"])]
                                 for row in map(_row, ordered)))
