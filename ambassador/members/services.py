"""Ambassadors: memberships, applications and their decisions, the ambassadors themselves
(status changes, estates) and what an admin reads about one.

Plain functions with the acting user as an argument; they flush, the caller commits
(API boundary, page, CLI). Every admin action writes an audit row in the same transaction.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ambassador import access
from ambassador.levels import services as levels
from ambassador.members.models import Membership
from ambassador.models import CHANNELS, Ambassador, AmbassadorEstate, Application, Level, LevelChange
from ambassador.referrals import services as referrals
from ambassador.tasks import services as tasks
from community.estates import services as estates
from core import audit
from core.accounts.models import User
from core.db import MAX_ID, utcnow
from core.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import BUSINESS_TZ, iso_time
from core.pagination import Page, paginate
from points import services as points

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


MAX_ESTATES = 5
REAL_NAME_LENGTH = (2, 32)
STATEMENT_MAX = 1000
REASON_MAX = 255
# Tiers an admin or an import may set; the qualifying ones come from AMBASSADOR_QUALIFYING_TIERS.
MEMBERSHIP_TIERS = ("gold", "silver")
# Invite codes: 8 characters without the look-alikes 0/O, 1/I/L (read aloud, typed from a poster).
INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
INVITE_LENGTH = 8
INVITE_ATTEMPTS = 10

CHANNEL_LABELS = {"engineer": "工程师", "member": "会员", "referral": "代言人推荐"}
APPLICATION_STATUS_LABELS = {"pending": "待审核", "approved": "已通过", "rejected": "已拒绝", "withdrawn": "已撤回"}
AMBASSADOR_STATUS_LABELS = {"active": "正常", "suspended": "已暂停", "removed": "已移除"}
STATUS_ACTIONS = {"suspend": ("suspended", ("active",)), "reinstate": ("active", ("suspended",)),
                  "remove": ("removed", ("active", "suspended"))}
ACTION_LABELS = {"suspend": "暂停", "reinstate": "恢复", "remove": "移除"}


def _invalid(fields: dict[str, str], message: str = "提交的数据有误") -> ValidationFailed:
    return ValidationFailed(message, details={"fields": {k: [v] for k, v in fields.items()}})


def _reason(reason: str | None, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise _invalid({"reason": "必填"}, f"{what}必须填写原因")
    if len(reason) > REASON_MAX:
        raise _invalid({"reason": f"最多 {REASON_MAX} 个字"}, f"原因最多 {REASON_MAX} 个字")
    return reason


def normalise_phone(phone) -> str:
    """Digits only, without a +86 / 86 country prefix."""
    digits = re.sub(r"[\s\-()]", "", str(phone or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def require_user(user_id: int) -> User:
    user = db.session.get(User, user_id) if isinstance(user_id, int) and 0 < user_id <= MAX_ID else None
    if user is None:
        raise NotFound("用户不存在", code="user_not_found")
    return user


# -- memberships ------------------------------------------------------------------------------

def qualifying_tiers() -> frozenset[str]:
    raw = current_app.config.get("AMBASSADOR_QUALIFYING_TIERS") or ""
    return frozenset(t.strip().lower() for t in raw.split(",") if t.strip())


def known_tiers() -> tuple[str, ...]:
    return tuple(dict.fromkeys([*MEMBERSHIP_TIERS, *sorted(qualifying_tiers())]))


def membership_of(user_id: int) -> Membership | None:
    return db.session.get(Membership, user_id)


def set_membership(user_id: int, tier: str | None, actor: User | None, source: str = "admin") -> Membership | None:
    """Set (or with None clear) a user's membership tier; audited. The same tier again changes
    nothing and writes no audit row, so re-running an import is harmless."""
    if source not in ("admin", "import"):
        raise ValueError(f"unknown membership source {source!r}")
    tier = (tier or "").strip().lower() or None
    if tier is not None and tier not in known_tiers():
        raise _invalid({"tier": f"须为 {'、'.join(known_tiers())} 之一，或留空"}, "会员等级无效")
    require_user(user_id)
    membership = db.session.get(Membership, user_id)
    before = membership.tier if membership else None
    if before == tier:
        return membership
    if tier is None:
        db.session.delete(membership)
        membership = None
    elif membership is None:
        membership = Membership(user_id=user_id, tier=tier, source=source)
        db.session.add(membership)
    else:
        membership.tier, membership.source = tier, source
    db.session.flush()
    audit.record(actor, "ambassador.membership.set", "user", user_id,
                 before={"tier": before}, after={"tier": tier, "source": source})
    return membership


def users_by_phone(phone: str) -> list[int]:
    return list(db.session.scalars(sa.select(User.id).where(User.phone == phone).order_by(User.id).limit(2)))


# -- estates ----------------------------------------------------------------------------------

def clean_estate_ids(estate_ids) -> list[int]:
    """1–5 distinct existing active estates, in the order given (the first one sets the city)."""
    if not isinstance(estate_ids, (list, tuple)) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in estate_ids):
        raise _invalid({"estate_ids": "须为小区编号的列表"}, "请选择服务的小区")
    ids = list(dict.fromkeys(estate_ids))
    if not 1 <= len(ids) <= MAX_ESTATES:
        raise _invalid({"estate_ids": f"请选择 1 到 {MAX_ESTATES} 个小区"}, f"请选择 1 到 {MAX_ESTATES} 个小区")
    found = {i for i, estate in estates.estates_by_id(ids).items() if estate.status == "active"}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed("所选小区不存在或已停用", code="estate_not_found",
                               details={"fields": {"estate_ids": [f"小区不存在或已停用：{'、'.join(map(str, missing))}"]},
                                        "estate_ids": missing})
    return ids


def _estates(ids) -> list:
    """The estates behind these ids, in id order."""
    return [estate for _, estate in sorted(estates.estates_by_id(ids).items())]


def lead_activity_estates(user_id: int) -> list[int]:
    """The estates an ambassador may organise community activities in (activation.activities):
    the estates they serve, while active at a level with `lead_activities`. Anyone else: 403
    `not_an_ambassador` or `permission_denied` (naming the level)."""
    access.require_permission(user_id, "lead_activities")
    return list(db.session.scalars(sa.select(AmbassadorEstate.estate_id).where(AmbassadorEstate.user_id == user_id)
                                   .order_by(AmbassadorEstate.estate_id)))


def may_lead_activities(user_id: int) -> bool:
    """The user is an active ambassador whose level has `lead_activities` (menus and links)."""
    return access.has_permission(user_id, "lead_activities")


# -- applications -----------------------------------------------------------------------------

def _clean_application(data: dict) -> dict:
    errors = {}
    channel = data.get("channel")
    if channel not in CHANNELS:
        errors["channel"] = f"应为 {'、'.join(CHANNELS)} 之一"
    real_name = (data.get("real_name") or "").strip() if isinstance(data.get("real_name"), str) else ""
    if not REAL_NAME_LENGTH[0] <= len(real_name) <= REAL_NAME_LENGTH[1]:
        errors["real_name"] = "2 到 32 个字"
    phone = normalise_phone(data.get("phone")) if isinstance(data.get("phone"), str) else ""
    if not PHONE_RE.match(phone):
        errors["phone"] = "应为 11 位手机号（13–19 开头）"
    statement = data.get("statement")
    statement = statement.strip() if isinstance(statement, str) else ""
    if len(statement) > STATEMENT_MAX:
        errors["statement"] = f"最多 {STATEMENT_MAX} 个字"
    invite_code = data.get("invite_code")
    invite_code = invite_code.strip().upper() if isinstance(invite_code, str) and invite_code.strip() else None
    if channel == "referral" and invite_code is None:
        errors["invite_code"] = "通过邀请申请时必填"
    if errors:
        raise _invalid(errors, "申请信息有误")
    return {"channel": channel, "real_name": real_name, "phone": phone, "statement": statement,
            "estate_ids": clean_estate_ids(data.get("estate_ids")),
            "invite_code": invite_code if channel == "referral" else None}


def _inviter_for(code: str, applicant_id: int) -> Ambassador:
    """The active ambassador whose level may recruit behind this invite code (referrals' rule),
    refused as a field of the application."""
    own = access.ambassador_of(applicant_id)
    if own is not None and own.invite_code == referrals.parse_code(code):
        raise ValidationFailed("不能使用自己的邀请码", code="self_referral",
                               details={"fields": {"invite_code": ["不能使用自己的邀请码"]}})
    try:
        return referrals.inviter_by_code(code)
    except BadRequest:
        raise ValidationFailed("邀请码无效或邀请人暂不能推荐新代言人", code="invalid_invite_code",
                               details={"fields": {"invite_code": ["邀请码无效，或邀请人暂不能推荐"]}}
                               ) from None


def reapply_after(application: Application) -> datetime | None:
    """When a rejected applicant may apply again."""
    if application.status != "rejected" or application.decided_at is None:
        return None
    return application.decided_at + timedelta(days=current_app.config["AMBASSADOR_REAPPLY_COOLDOWN_DAYS"])


def latest_application(user_id: int) -> Application | None:
    return db.session.scalars(sa.select(Application).where(Application.user_id == user_id)
                              .order_by(Application.id.desc()).limit(1)).first()


def _check_qualified(user_id: int, channel: str) -> None:
    if channel == "engineer":
        if estates.active_engineer(user_id) is None:
            raise Forbidden("仅已激活的在职工程师可以通过工程师渠道申请", code="not_qualified",
                            details={"channel": channel})
    elif channel == "member":
        membership = membership_of(user_id)
        if membership is None or membership.tier not in qualifying_tiers():
            raise Forbidden("您的会员等级暂不满足申请条件", code="not_qualified",
                            details={"channel": channel, "tier": membership.tier if membership else None,
                                     "qualifying_tiers": sorted(qualifying_tiers())})


def submit_application(user: User, data: dict) -> Application:
    """Apply to become an ambassador. Engineers and members of a qualifying tier are pre-qualified;
    a referral needs the invite code of an active ambassador whose level may recruit."""
    clean = _clean_application(data)
    inviter = _inviter_for(clean["invite_code"], user.id) if clean["channel"] == "referral" else None
    ambassador = db.session.get(Ambassador, user.id)
    if ambassador is not None and ambassador.status != "removed":
        raise Conflict("您已经是服务代言人", code="already_ambassador", details={"status": ambassador.status})
    latest = latest_application(user.id)
    if latest is not None and latest.status == "pending":
        raise Conflict("您已有一份待审核的申请", code="application_open", details={"application_id": latest.id})
    last_rejected = db.session.scalars(sa.select(Application).where(
        Application.user_id == user.id, Application.status == "rejected").order_by(
        Application.decided_at.desc(), Application.id.desc()).limit(1)).first()
    until = reapply_after(last_rejected) if last_rejected is not None else None
    if until is not None and until > utcnow():
        raise Conflict(f"申请未通过，{until.astimezone(BUSINESS_TZ).strftime('%Y-%m-%d')} 后可再次申请",
                       code="reapply_cooldown", details={"reapply_after": iso_time(until)})
    _check_qualified(user.id, clean["channel"])
    application = Application(user_id=user.id, channel=clean["channel"], invite_code=clean["invite_code"],
                              inviter_id=inviter.user_id if inviter else None, real_name=clean["real_name"],
                              phone=clean["phone"], estate_ids=clean["estate_ids"], statement=clean["statement"],
                              qualified=clean["channel"] in ("engineer", "member"), status="pending")
    try:
        with db.session.begin_nested():
            db.session.add(application)
    except sa.exc.IntegrityError:
        # A concurrent submit of the same person won the one-open-application index.
        raise Conflict("您已有一份待审核的申请", code="application_open") from None
    return application


def get_application(application_id: int) -> Application:
    application = db.session.get(Application, application_id) if 0 < application_id <= MAX_ID else None
    if application is None:
        raise NotFound("申请不存在", code="application_not_found")
    return application


def _already_decided(application: Application) -> Conflict:
    db.session.refresh(application)
    label = APPLICATION_STATUS_LABELS.get(application.status, application.status)
    return Conflict(f"该申请当前状态为「{label}」，不能再处理", code="already_decided",
                    details={"status": application.status})


def _move(application: Application, to: str, actor_id: int | None, reason: str | None = None) -> None:
    """pending → `to`, exactly once: a conditional UPDATE, so of two deciders one wins and the other
    gets 409 already_decided."""
    done = db.session.execute(sa.update(Application).where(
        Application.id == application.id, Application.status == "pending").values(
        status=to, reason=reason, decided_by_id=actor_id, decided_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not done:
        raise _already_decided(application)
    db.session.refresh(application)


def withdraw_application(application_id: int, user: User) -> Application:
    """The applicant takes back their own pending application (someone else's is a 404)."""
    application = get_application(application_id)
    if application.user_id != user.id:
        raise NotFound("申请不存在", code="application_not_found")
    _move(application, "withdrawn", user.id)
    return application


def list_applications(*, status: str | None = None, channel: str | None = None, q: str | None = None,
                      limit: int = 20, cursor: str | None = None) -> Page:
    """The queue: pending ones oldest first (first come, first decided); any other view newest first."""
    stmt = sa.select(Application)
    if status:
        stmt = stmt.where(Application.status == status)
    if channel:
        stmt = stmt.where(Application.channel == channel)
    q = (q or "").strip()
    if q:
        conditions = [Application.real_name.contains(q, autoescape=True), Application.phone == normalise_phone(q)]
        if q.isdigit() and len(q) < 19:
            conditions.append(Application.user_id == int(q))
        stmt = stmt.where(sa.or_(*conditions))
    return paginate(stmt, [Application.id], limit=limit, cursor=cursor, descending=status != "pending")


def _new_invite_code() -> str:
    for _ in range(INVITE_ATTEMPTS):
        code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
        if db.session.scalar(sa.select(Ambassador.user_id).where(Ambassador.invite_code == code)) is None:
            return code
    raise RuntimeError("could not find a free invite code")  # 31^8 ≈ 8.5e11 codes: not in practice


def entry_level() -> Level:
    return db.session.scalars(sa.select(Level).order_by(Level.position).limit(1)).one()


def _enlist(application: Application, actor: User) -> Ambassador:
    """The Ambassador of an approved application, at the entry level, with its estates. A removed
    ambassador who applied again comes back in their old row (history stays) with a new code."""
    level = entry_level()
    chosen = {e.id: e for e in _estates(application.estate_ids)}
    first = chosen.get(application.estate_ids[0]) if application.estate_ids else None
    ambassador = db.session.get(Ambassador, application.user_id)
    values = dict(level_id=level.id, status="active", status_reason=None, channel=application.channel,
                  real_name=application.real_name, phone=application.phone, city=first.city if first else None,
                  inviter_id=application.inviter_id, below_since=None, level_pinned_until=None,
                  window_contribution=0, joined_at=utcnow(), invite_image=None, invite_image_type=None)
    if ambassador is not None and ambassador.status != "removed":
        raise Conflict("该用户已经是服务代言人", code="already_ambassador", details={"status": ambassador.status})
    for _ in range(INVITE_ATTEMPTS):
        values["invite_code"] = _new_invite_code()
        try:
            with db.session.begin_nested():
                if ambassador is None:
                    ambassador = Ambassador(user_id=application.user_id, **values)
                    db.session.add(ambassador)
                else:
                    for key, value in values.items():
                        setattr(ambassador, key, value)
                db.session.flush()
            break
        except sa.exc.IntegrityError:  # a concurrent approval took the same code: draw again
            if db.session.get(Ambassador, application.user_id) is None:
                ambassador = None
    else:
        raise RuntimeError("could not store a unique invite code")
    db.session.execute(sa.delete(AmbassadorEstate).where(AmbassadorEstate.user_id == ambassador.user_id))
    db.session.add_all(AmbassadorEstate(user_id=ambassador.user_id, estate_id=i) for i in chosen)
    db.session.add(LevelChange(user_id=ambassador.user_id, kind="join", to_level_id=level.id, contribution=0,
                               reason=f"申请通过（{CHANNEL_LABELS[application.channel]}渠道，申请 #{application.id}）",
                               actor_id=actor.id))
    db.session.flush()
    # A returning ambassador's contribution days are theirs: the leaderboards get them back.
    levels.rebuild_standings(ambassador.user_id)
    return ambassador


def approve_application(application_id: int, actor: User) -> Application:
    application = get_application(application_id)
    _move(application, "approved", actor.id)
    ambassador = _enlist(application, actor)
    referrals.qualify(ambassador.user_id, "ambassador")  # the inviter's reward, when there is one
    audit.record(actor, "ambassador.application.approve", "ambassador_application", application.id,
                 before={"status": "pending"},
                 after={"status": "approved", "user_id": ambassador.user_id, "level_id": ambassador.level_id,
                        "invite_code": ambassador.invite_code, "estate_ids": application.estate_ids})
    return application


def reject_application(application_id: int, actor: User, reason: str | None) -> Application:
    reason = _reason(reason, "拒绝申请")
    application = get_application(application_id)
    _move(application, "rejected", actor.id, reason)
    audit.record(actor, "ambassador.application.reject", "ambassador_application", application.id,
                 before={"status": "pending"}, after={"status": "rejected", "reason": reason})
    return application


def decide_many(ids: list[int], action: str, actor: User, reason: str | None = None) -> dict[int, str]:
    """Approve or reject several applications, each on its own (one refusal does not undo the
    others). Returns id → "ok" or the refusal's code."""
    if action not in ("approve", "reject"):
        raise _invalid({"action": "须为通过（approve）或拒绝（reject）"})
    if action == "reject":
        reason = _reason(reason, "批量拒绝")
    outcome = {}
    for application_id in ids:
        try:
            with db.session.begin_nested():
                if action == "approve":
                    approve_application(application_id, actor)
                else:
                    reject_application(application_id, actor, reason)
            outcome[application_id] = "ok"
        except (Conflict, NotFound, ValidationFailed) as exc:
            outcome[application_id] = exc.code
    return outcome


# -- an ambassador, as the applicant sees it --------------------------------------------------

def next_level(level: Level) -> Level | None:
    return db.session.scalars(sa.select(Level).where(Level.position > level.position)
                              .order_by(Level.position).limit(1)).first()


def my_status(user_id: int) -> dict:
    """`GET /ambassador/me`: the latest application and the ambassador (any status), each or None."""
    application = latest_application(user_id)
    app_view = None
    if application is not None:
        app_view = {"id": application.id, "status": application.status, "reason": application.reason,
                    "channel": application.channel, "created_at": application.created_at,
                    "decided_at": application.decided_at, "reapply_after": reapply_after(application)}
    ambassador = db.session.get(Ambassador, user_id)
    amb_view = None
    if ambassador is not None:
        level = db.session.get(Level, ambassador.level_id)
        following = next_level(level)
        amb_view = {"status": ambassador.status, "status_reason": ambassador.status_reason, "level": level,
                    "next_level": following, "contribution_total": ambassador.contribution_total,
                    "window_contribution": ambassador.window_contribution, "window_days": levels.window_days(),
                    "invite_code": ambassador.invite_code if ambassador.status == "active" else None,
                    "estates": _estates(levels.estate_ids_of(user_id)), "joined_at": ambassador.joined_at}
    return {"application": app_view, "ambassador": amb_view}


# -- ambassadors (admins) ---------------------------------------------------------------------

def get_ambassador(user_id: int) -> Ambassador:
    ambassador = db.session.get(Ambassador, user_id) if 0 < user_id <= MAX_ID else None
    if ambassador is None:
        raise NotFound("服务代言人不存在", code="ambassador_not_found")
    return ambassador


def list_ambassadors(*, level_id: int | None = None, estate_id: int | None = None, city: str | None = None,
                     status: str | None = None, q: str | None = None, limit: int = 20,
                     cursor: str | None = None) -> Page:
    """Ambassadors, newest user first; each filter narrows along an index (level+status, city,
    estate) and q matches a name, a phone or an invite code."""
    stmt = sa.select(Ambassador)
    if level_id:
        stmt = stmt.where(Ambassador.level_id == level_id)
    if status:
        stmt = stmt.where(Ambassador.status == status)
    if city:
        stmt = stmt.where(Ambassador.city == city)
    if estate_id:
        stmt = stmt.where(Ambassador.user_id.in_(sa.select(AmbassadorEstate.user_id)
                                                 .where(AmbassadorEstate.estate_id == estate_id)))
    q = (q or "").strip()
    if q:
        conditions = [Ambassador.real_name.contains(q, autoescape=True), Ambassador.phone == normalise_phone(q),
                      Ambassador.invite_code == q.upper()]
        if q.isdigit() and len(q) < 19:
            conditions.append(Ambassador.user_id == int(q))
        stmt = stmt.where(sa.or_(*conditions))
    return paginate(stmt, [Ambassador.user_id], limit=limit, cursor=cursor)


@dataclass
class AmbassadorDetail:
    ambassador: Ambassador
    user: User
    level: Level
    next_level: Level | None
    estates: list  # community's estates, in id order
    history: list[dict]
    balance: object
    submissions: list[dict]
    referrals: list[dict]
    inviter: User | None


DETAIL_ROWS = 50


def ambassador_detail(user_id: int) -> AmbassadorDetail:
    """Everything an admin reads about one ambassador: level history, estates, contribution,
    points, their latest task submissions and referrals."""
    ambassador = get_ambassador(user_id)
    level = db.session.get(Level, ambassador.level_id)
    by_id = {lv.id: lv for lv in db.session.scalars(sa.select(Level))}
    history = []
    for change in db.session.scalars(sa.select(LevelChange).where(LevelChange.user_id == user_id)
                                     .order_by(LevelChange.id.desc()).limit(DETAIL_ROWS)):
        history.append({"id": change.id, "kind": change.kind, "reason": change.reason,
                        "from_level": by_id.get(change.from_level_id), "to_level": by_id.get(change.to_level_id),
                        "contribution": change.contribution, "actor_id": change.actor_id,
                        "created_at": change.created_at})
    return AmbassadorDetail(ambassador=ambassador, user=db.session.get(User, user_id), level=level,
                            next_level=next_level(level), estates=_estates(levels.estate_ids_of(user_id)),
                            history=history, balance=points.balance(user_id),
                            submissions=tasks.titled(tasks.submissions_of(user_id, limit=DETAIL_ROWS).items),
                            referrals=referrals.latest_of(user_id, limit=DETAIL_ROWS),
                            inviter=db.session.get(User, ambassador.inviter_id) if ambassador.inviter_id else None)


def change_status(user_id: int, action: str, reason: str | None, actor: User) -> Ambassador:
    """Suspend, reinstate or remove an ambassador with a reason: a LevelChange row and an audit row;
    nothing is deleted. A removed ambassador cannot be reinstated (they may apply again)."""
    if action not in STATUS_ACTIONS:
        raise _invalid({"action": "须为暂停（suspend）、恢复（reinstate）或移除（remove）"})
    reason = _reason(reason, f"{ACTION_LABELS[action]}服务代言人")
    ambassador = get_ambassador(user_id)
    to, allowed_from = STATUS_ACTIONS[action]
    before = ambassador.status
    done = db.session.execute(sa.update(Ambassador).where(
        Ambassador.user_id == user_id, Ambassador.status.in_(allowed_from)).values(
        status=to, status_reason=reason, updated_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(ambassador)
    if not done:
        label = AMBASSADOR_STATUS_LABELS.get(ambassador.status, ambassador.status)
        hint = "（已移除的代言人不能恢复，可重新申请）" if ambassador.status == "removed" else ""
        raise Conflict(f"该代言人当前状态为「{label}」，不能{ACTION_LABELS[action]}{hint}",
                       code="invalid_status_change", details={"status": ambassador.status, "action": action})
    db.session.add(LevelChange(user_id=user_id, kind=action, from_level_id=ambassador.level_id,
                               to_level_id=ambassador.level_id, contribution=ambassador.window_contribution,
                               reason=reason, actor_id=actor.id))
    db.session.flush()
    if to == "removed":
        levels.rebuild_standings(user_id)  # off the leaderboards
    audit.record(actor, f"ambassador.{action}", "ambassador", user_id,
                 before={"status": before}, after={"status": to, "reason": reason})
    return ambassador


def set_estates(user_id: int, estate_ids, actor: User) -> Ambassador:
    """Replace the estates an ambassador serves (the first one sets the city); the leaderboard rows
    follow (the new scopes get the whole contribution history)."""
    ambassador = get_ambassador(user_id)
    if ambassador.status == "removed":
        raise Conflict("已移除的代言人不能修改服务小区", code="invalid_status_change",
                       details={"status": ambassador.status})
    ids = clean_estate_ids(estate_ids)
    before = {"estate_ids": sorted(levels.estate_ids_of(user_id)), "city": ambassador.city}
    chosen = {e.id: e for e in _estates(ids)}
    db.session.execute(sa.delete(AmbassadorEstate).where(AmbassadorEstate.user_id == user_id))
    db.session.add_all(AmbassadorEstate(user_id=user_id, estate_id=i) for i in ids)
    ambassador.city = chosen[ids[0]].city
    db.session.flush()
    levels.rebuild_standings(user_id)
    audit.record(actor, "ambassador.estates.set", "ambassador", user_id, before=before,
                 after={"estate_ids": sorted(ids), "city": ambassador.city})
    return ambassador


def pending_applications_count() -> int:
    """Applications waiting for a decision (the dashboard): the (status, id) index."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Application).where(Application.status == "pending"))
