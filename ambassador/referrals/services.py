"""Referrals (邀请): invite codes and their mini-program code, attribution of a new user to the
ambassador who invited them, and the inviter's reward when the invitee qualifies.

- An active ambassador whose level may recruit has an invite code (Ambassador.invite_code); the
  mini-program code for it carries the scene `i=<code>` and is fetched from WeChat once, then
  kept on the ambassador's row.
- `attribute` records who brought a user in: first touch, protected for REFERRAL_PROTECTION_DAYS;
  self-referral, invite loops (three hops) and users who cannot be new are refused.
- `qualify(invitee_id, trigger)` pays the inviter once per referral and trigger ("ambassador":
  the invitee became an ambassador; "service": bound to a steward and had a first real service),
  through the earning rules `referral_ambassador` / `referral_service` and their caps. When the
  pair shares a phone number or a WeChat unionid nothing is paid: the referral is flagged for an
  admin, who clears it (pays) or dismisses it (withholds for good), with a reason, audited.
Decisions where the issue is silent are in docs/ambassador-referrals.md.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ambassador.access import require_permission
from ambassador.levels import services as levels
from ambassador.models import Ambassador, Application, Level
from ambassador.referrals.models import Referral
from community.stewards import services as stewards
from core import audit
from core.accounts.models import User, WeChatIdentity
from core.db import insert_or_nothing, utcnow
from core.errors import BadRequest, Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import mask_name
from core.pagination import Page, paginate
from core.wechat import gateway
from points import rules, services as points

log = logging.getLogger(__name__)

SCENE_PREFIX = "i="
# The mini-program's home page reads the scene; it is a published page, so WeChat's check_path holds.
DEFAULT_INVITE_PAGE = "pages/index/index"
# trigger → the earning rule that pays the inviter for it
TRIGGERS = {"ambassador": rules.REFERRAL_AMBASSADOR, "service": rules.REFERRAL_SERVICE}
TRIGGER_REASONS = {"ambassador": "邀请的用户成为服务代言人", "service": "邀请的用户绑定管家并完成首次服务"}
STATUS_LABELS = {"pending": "待奖励", "rewarded": "已奖励", "flagged": "待核查", "lapsed": "已失效"}
FLAG_LABELS = {"same_phone": "邀请人与被邀请人手机号相同", "same_unionid": "邀请人与被邀请人为同一微信主体（unionid 相同）"}
# Staff accounts are never "new users" someone could have brought in.
STAFF_ROLES = ("engineer", "agent", "admin")
LOOP_HOPS = 3
CODE_RE = re.compile(r"[0-9A-Za-z_-]{1,16}")


# -- invite codes and their picture -------------------------------------------------------------

def scene_for(invite_code: str) -> str:
    return f"{SCENE_PREFIX}{invite_code}"


def invite_page() -> str:
    return current_app.config.get("WECHAT_INVITE_PAGE") or DEFAULT_INVITE_PAGE


def parse_code(value: str | None) -> str:
    """The invite code of a code or a scene as the mini-program got it (`i=<code>`)."""
    code = (value or "").strip()
    if code.startswith(SCENE_PREFIX):
        code = code[len(SCENE_PREFIX):]
    return code.upper()  # codes are issued in capitals; a typed code may not be


def _invalid_code() -> BadRequest:
    return BadRequest("邀请码无效或邀请人已不能邀请", code="invalid_invite_code")


def inviter_by_code(invite_code: str | None) -> Ambassador:
    """The active ambassador whose level may recruit behind an invite code (or a scene), else
    400 `invalid_invite_code`. The application service checks referral applications with it too."""
    code = parse_code(invite_code)
    if not CODE_RE.fullmatch(code):
        raise _invalid_code()
    row = db.session.execute(sa.select(Ambassador, Level).join(Level, Level.id == Ambassador.level_id).where(
        Ambassador.invite_code == code, Ambassador.status == "active")).first()
    if row is None or "recruit" not in (row[1].permissions or []):
        raise _invalid_code()
    return row[0]


def _image_type(image: bytes) -> str:
    return "image/png" if image[:4] == b"\x89PNG" else "image/jpeg"


def invite_image(ambassador: Ambassador) -> tuple[bytes, str]:
    """The mini-program code picture of the ambassador's invite code: from the row, or fetched
    from WeChat once and kept (the first stored picture wins when two requests fetch at once).
    A WeChat failure is a 502/503 and stores nothing, so the next request tries again."""
    stored = db.session.execute(sa.select(Ambassador.invite_image, Ambassador.invite_image_type).where(
        Ambassador.user_id == ambassador.user_id)).first()
    if stored is not None and stored[0]:
        return stored[0], stored[1] or _image_type(stored[0])
    # WeChat first, with no write pending: the token store may need the database meanwhile.
    image = gateway.unlimited_code_image(scene_for(ambassador.invite_code), invite_page())
    db.session.execute(sa.update(Ambassador).where(
        Ambassador.user_id == ambassador.user_id, Ambassador.invite_code == ambassador.invite_code,
        Ambassador.invite_image.is_(None)).values(invite_image=image, invite_image_type=_image_type(image))
        .execution_options(synchronize_session=False))
    stored = db.session.execute(sa.select(Ambassador.invite_image, Ambassador.invite_image_type).where(
        Ambassador.user_id == ambassador.user_id)).first()
    if stored is not None and stored[0]:
        return stored[0], stored[1]
    return image, _image_type(image)


@dataclass
class Invite:
    invite_code: str
    scene: str
    page: str
    image: bytes = field(repr=False)
    image_type: str


def invite_of(user_id: int) -> Invite:
    """The caller's invite: only an active ambassador whose level may recruit (else 403)."""
    ambassador, _ = require_permission(user_id, "recruit")
    image, image_type = invite_image(ambassador)
    return Invite(ambassador.invite_code, scene_for(ambassador.invite_code), invite_page(), image, image_type)


def invite_image_by_code(invite_code: str) -> tuple[bytes, str]:
    """The stored picture of an invite code that still invites (public: the code is meant to be
    shared). Never calls WeChat, so anonymous requests cannot spend the WeChat quota."""
    try:
        ambassador = inviter_by_code(invite_code)
    except BadRequest:
        raise NotFound("邀请码不存在", code="invite_not_found") from None
    stored = db.session.execute(sa.select(Ambassador.invite_image, Ambassador.invite_image_type).where(
        Ambassador.user_id == ambassador.user_id)).first()
    if stored is None or not stored[0]:
        raise NotFound("邀请码图片尚未生成", code="invite_not_found")
    return stored[0], stored[1] or _image_type(stored[0])


# -- attribution ------------------------------------------------------------------------------

@dataclass
class Attribution:
    referral: Referral
    # created: new attribution; unchanged: already this inviter's; kept: another inviter's stays
    # (protected, or already qualified); switched: this inviter took over a lapsed window
    result: str


def referral_of(invitee_id: int, *, lock: bool = False) -> Referral | None:
    stmt = sa.select(Referral).where(Referral.invitee_id == invitee_id)
    if lock:
        stmt = stmt.with_for_update()
    return db.session.scalars(stmt).first()


def get_referral(referral_id: int, *, lock: bool = False) -> Referral:
    stmt = sa.select(Referral).where(Referral.id == referral_id)
    if lock:
        stmt = stmt.with_for_update()
    referral = db.session.scalars(stmt).first()
    if referral is None:
        raise NotFound("邀请记录不存在", code="referral_not_found")
    return referral


def inviters_of(user_id: int, hops: int = LOOP_HOPS) -> list[int]:
    """The user's chain of inviters, nearest first, up to `hops` hops (a referral, or the inviter
    recorded on an ambassador's row by a referral application)."""
    chain: list[int] = []
    current = {user_id}
    for _ in range(hops):
        parents = set(db.session.scalars(sa.select(Referral.inviter_id).where(Referral.invitee_id.in_(current))))
        parents |= set(db.session.scalars(sa.select(Ambassador.inviter_id).where(
            Ambassador.user_id.in_(current), Ambassador.inviter_id.is_not(None))))
        parents -= set(chain) | {user_id}
        if not parents:
            break
        chain.extend(sorted(parents))
        current = parents
    return chain


def _check_can_be_new(invitee: User) -> None:
    if invitee.has_role(*STAFF_ROLES):
        raise Conflict("工作人员账号不能被邀请", code="referral_not_eligible", details={"reason": "staff"})
    if db.session.get(Ambassador, invitee.id) is not None:
        raise Conflict("您已是服务代言人，不能再被邀请", code="referral_not_eligible", details={"reason": "ambassador"})


def _takeable(referral: Referral, now: datetime) -> bool:
    # Only an attribution that never qualified and whose protection ran out changes hands.
    return referral.status == "pending" and referral.qualified_by is None and referral.protected_until <= now


def attribute(invitee: User, invite_code: str | None, *, now: datetime | None = None) -> Attribution:
    """Attribute the caller to the inviter behind the code (first touch; repeating is harmless)."""
    now = now or utcnow()
    inviter = inviter_by_code(invite_code)
    if inviter.user_id == invitee.id:
        raise Conflict("不能使用自己的邀请码", code="self_referral")
    # Before anything else: a loop is refused even where an earlier attribution would stand.
    if invitee.id in inviters_of(inviter.user_id):
        raise Conflict("邀请关系不能形成循环", code="referral_loop")
    existing = referral_of(invitee.id)
    if existing is not None and existing.inviter_id == inviter.user_id:
        return Attribution(existing, "unchanged")
    if existing is not None and not _takeable(existing, now):
        return Attribution(existing, "kept")
    _check_can_be_new(invitee)
    protected_until = now + timedelta(days=current_app.config["REFERRAL_PROTECTION_DAYS"])
    if existing is None:
        referral = insert_or_nothing(Referral, {
            "inviter_id": inviter.user_id, "invitee_id": invitee.id, "invite_code": inviter.invite_code,
            "status": "pending", "attributed_at": now, "protected_until": protected_until}, conflict=["invitee_id"])
        if referral is not None:
            return Attribution(referral, "created")
        # A concurrent attribution of this invitee committed first: theirs stands.
        existing = referral_of(invitee.id)
        return Attribution(existing, "unchanged" if existing.inviter_id == inviter.user_id else "kept")
    before = {"inviter_id": existing.inviter_id, "invite_code": existing.invite_code,
              "attributed_at": existing.attributed_at, "protected_until": existing.protected_until}
    taken = db.session.execute(sa.update(Referral).where(
        Referral.id == existing.id, Referral.inviter_id == existing.inviter_id, Referral.status == "pending",
        Referral.qualified_by.is_(None), Referral.protected_until <= now).values(
        inviter_id=inviter.user_id, invite_code=inviter.invite_code, attributed_at=now,
        protected_until=protected_until).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(existing)
    if not taken:
        return Attribution(existing, "unchanged" if existing.inviter_id == inviter.user_id else "kept")
    audit.record(invitee, "ambassador.referral.switch", "referral", existing.id, before=before,
                 after={"inviter_id": inviter.user_id, "invite_code": inviter.invite_code,
                        "attributed_at": now, "protected_until": protected_until})
    return Attribution(existing, "switched")


# -- anti-fraud -------------------------------------------------------------------------------

def normalise_phone(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits or None


def phones_of(user_id: int) -> set[str]:
    """Every phone number we know for a user: account, ambassador row, applications."""
    found = set(db.session.scalars(sa.select(User.phone).where(User.id == user_id)))
    found |= set(db.session.scalars(sa.select(Ambassador.phone).where(Ambassador.user_id == user_id)))
    found |= set(db.session.scalars(sa.select(Application.phone).where(Application.user_id == user_id)))
    return {p for p in map(normalise_phone, found) if p}


def unionids_of(user_id: int) -> set[str]:
    return set(db.session.scalars(sa.select(WeChatIdentity.unionid).where(
        WeChatIdentity.user_id == user_id, WeChatIdentity.unionid.is_not(None))))


def fraud_reason(inviter_id: int, invitee_id: int) -> str | None:
    """`same_phone` / `same_unionid` when the pair looks like one person, else None."""
    if phones_of(inviter_id) & phones_of(invitee_id):
        return "same_phone"
    if unionids_of(inviter_id) & unionids_of(invitee_id):
        return "same_unionid"
    return None


# -- rewards ----------------------------------------------------------------------------------

@dataclass
class Qualification:
    referral: Referral | None
    # no_referral | not_qualified | flagged | withheld (lapsed) | rewarded | refused (a cap or a
    # disabled rule) | inviter_inactive (suspended or removed); the last two wait, see retry_withheld
    result: str
    paid: dict[str, int] = field(default_factory=dict)  # trigger → points granted by this call
    refused: points.EarningRefused | None = None


def grant_key(referral_id: int, trigger: str) -> str:
    return f"referral:{referral_id}:{trigger}"


def _invitee_is_ambassador(invitee_id: int) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Ambassador).where(
        Ambassador.user_id == invitee_id)) > 0


def _pay(referral: Referral, triggers: list[str], now: datetime) -> Qualification:
    """Grant the inviter what each trigger pays (once per referral and trigger, by the ledger key).
    An inviter who is a suspended ambassador waits (retry_withheld pays after a reinstatement), a
    removed one is never paid; an inviter without an ambassador row is paid (points only)."""
    inviter_status = db.session.scalar(sa.select(Ambassador.status).where(Ambassador.user_id == referral.inviter_id))
    if inviter_status not in (None, "active"):
        db.session.flush()
        return Qualification(referral, "inviter_inactive")
    paid: dict[str, int] = {}
    refused = None
    granted = False
    for trigger in dict.fromkeys(triggers):
        kind = TRIGGERS[trigger]
        try:
            key = grant_key(referral.id, trigger)
            posted = points.earn(referral.inviter_id, kind, key, f"{TRIGGER_REASONS[trigger]}（邀请#{referral.id}）")
        except points.EarningRefused as exc:
            log.info("referral %s: %s reward refused (%s)", referral.id, trigger, exc.code)
            refused = exc
            continue
        granted = True
        if posted.created:
            amount = points.granted([key])[key]
            levels.credit(referral.inviter_id, amount, at=now)
            paid[trigger] = amount
    if granted and referral.status != "rewarded":
        referral.status = "rewarded"
        referral.rewarded_at = now
    db.session.flush()
    if granted:
        return Qualification(referral, "rewarded", paid, refused)
    return Qualification(referral, "refused", paid, refused)


def _qualifies(invitee_id: int, trigger: str) -> bool:
    if trigger == "ambassador":
        return _invitee_is_ambassador(invitee_id)
    return stewards.steward_engineer_id(invitee_id) is not None


def qualify(invitee_id: int, trigger: str, *, now: datetime | None = None) -> Qualification:
    """The invitee did something that rewards their inviter: "ambassador" (became one) or
    "service" (has an active steward binding and completed a first real service: a paid order or
    a completed service order). Call it in the event's transaction; repeating it pays nothing
    more. Never raises for a refused reward: the outcome says what happened."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown referral trigger {trigger!r}")
    now = now or utcnow()
    referral = referral_of(invitee_id, lock=True)
    if referral is None and trigger == "ambassador":
        referral = _attribute_from_application(invitee_id, now)
    if referral is None:
        return Qualification(None, "no_referral")
    if not _qualifies(invitee_id, trigger):
        return Qualification(referral, "not_qualified")
    if referral.qualified_by is None:
        referral.qualified_by = trigger
    if referral.status == "lapsed":
        db.session.flush()
        return Qualification(referral, "withheld")
    if referral.status == "pending":
        # The pair is checked until its first reward; a rewarded (or admin-cleared) pair is trusted.
        reason = fraud_reason(referral.inviter_id, invitee_id)
        if reason is not None:
            referral.status, referral.flag_reason = "flagged", reason
            log.info("referral %s flagged: %s", referral.id, reason)
    if referral.status == "flagged":
        db.session.flush()
        return Qualification(referral, "flagged")
    return _pay(referral, [trigger], now)


def service_completed(sender, *, resident_id: int, order_id: int) -> None:
    """signals.service_completed: a completed service order may be the invitee's first real service."""
    qualify(resident_id, "service")


def _attribute_from_application(invitee_id: int, now: datetime) -> Referral | None:
    """An ambassador who applied through an invite code (channel referral) without the mini-program
    ever attributing them: the inviter on their ambassador row becomes their referral now (the
    application already refused unknown and own codes; loops are checked here)."""
    inviter_id = db.session.scalar(sa.select(Ambassador.inviter_id).where(Ambassador.user_id == invitee_id))
    if inviter_id is None or inviter_id == invitee_id or invitee_id in inviters_of(inviter_id):
        return None
    code = db.session.scalar(sa.select(Ambassador.invite_code).where(Ambassador.user_id == inviter_id))
    if code is None:
        return None
    insert_or_nothing(Referral, {
        "inviter_id": inviter_id, "invitee_id": invitee_id, "invite_code": code, "status": "pending",
        "attributed_at": now, "protected_until": now + timedelta(days=current_app.config["REFERRAL_PROTECTION_DAYS"])},
        conflict=["invitee_id"])
    return referral_of(invitee_id, lock=True)


def _due_triggers(referral: Referral) -> list[str]:
    """The triggers a referral has met: the one that qualified it, and "ambassador" whenever the
    invitee is one (a fact the database still shows)."""
    due = [referral.qualified_by] if referral.qualified_by else []
    if _invitee_is_ambassador(referral.invitee_id):
        due.append("ambassador")
    return due


@dataclass
class RetryBatch:
    seen: int  # referrals looked at (0: nothing left after `after`)
    rewarded: int  # of which paid something now
    last_id: int  # where the next batch starts


def _waiting():
    """Referrals owed a reward that was refused (a cap, a disabled rule, an inactive inviter):
    qualified but still pending, or rewarded for one trigger while the invitee is an ambassador
    and the ambassador reward was never granted."""
    ambassador_key = sa.literal("referral:") + sa.cast(Referral.id, sa.String) + sa.literal(":ambassador")
    return sa.or_(
        sa.and_(Referral.status == "pending", Referral.qualified_by.is_not(None)),
        sa.and_(Referral.status == "rewarded",
                sa.exists().where(Ambassador.user_id == Referral.invitee_id),
                ~points.posted_clause(ambassador_key)))


def retry_withheld(limit: int = 200, after: int = 0, now: datetime | None = None) -> RetryBatch:
    """Pay one batch of referrals whose reward was refused before (daily caps reset each day, an
    inviter may be reinstated). A scheduled job calls it batch after batch, committing each."""
    now = now or utcnow()
    ids = list(db.session.scalars(sa.select(Referral.id).where(_waiting(), Referral.id > after)
                                  .order_by(Referral.id).limit(limit)))
    rewarded = 0
    for referral_id in ids:
        referral = get_referral(referral_id, lock=True)
        if referral.status in ("pending", "rewarded"):
            outcome = _pay(referral, _due_triggers(referral), now)
            rewarded += bool(outcome.paid)
    return RetryBatch(len(ids), rewarded, ids[-1] if ids else after)


# -- admins: flagged pairs --------------------------------------------------------------------

def _reason(reason: str | None, verb: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(f"{verb}必须填写原因", details={"fields": {"reason": ["必填"]}})
    if len(reason) > 255:
        raise ValidationFailed("原因不能超过 255 字", details={"fields": {"reason": ["最多 255 个字"]}})
    return reason


def _leave_flagged(referral_id: int, to: str) -> Referral:
    """Move a flagged referral on exactly once (two admins at once: the second gets a 409)."""
    referral = get_referral(referral_id)
    if not db.session.execute(sa.update(Referral).where(Referral.id == referral_id, Referral.status == "flagged")
                              .values(status=to).execution_options(synchronize_session=False)).rowcount:
        db.session.refresh(referral)
        raise Conflict(f"该邀请当前状态为「{STATUS_LABELS[referral.status]}」，不是待核查状态",
                       code="referral_not_flagged", details={"status": referral.status})
    db.session.refresh(referral)
    return referral


def clear_flag(referral_id: int, actor: User, reason: str | None, *, now: datetime | None = None) -> Qualification:
    """An admin found the pair genuine: pay what the referral has met (audited, reason required)."""
    reason = _reason(reason, "解除标记")
    now = now or utcnow()
    referral = _leave_flagged(referral_id, "pending")
    outcome = _pay(referral, _due_triggers(referral), now)
    audit.record(actor, "ambassador.referral.clear", "referral", referral_id,
                 before={"status": "flagged", "flag_reason": referral.flag_reason},
                 after={"status": referral.status, "reason": reason, "paid": outcome.paid,
                        "refused": outcome.refused.code if outcome.refused else None})
    return outcome


def dismiss_flag(referral_id: int, actor: User, reason: str | None) -> Referral:
    """An admin confirmed the flag: the reward stays withheld for good (status lapsed; audited)."""
    reason = _reason(reason, "确认标记")
    referral = _leave_flagged(referral_id, "lapsed")
    audit.record(actor, "ambassador.referral.dismiss", "referral", referral_id,
                 before={"status": "flagged", "flag_reason": referral.flag_reason},
                 after={"status": "lapsed", "reason": reason})
    return referral


def list_referrals(*, status: str | None = None, inviter_id: int | None = None, limit: int = 20,
                   cursor: str | None = None) -> Page:
    stmt = sa.select(Referral)
    if status:
        stmt = stmt.where(Referral.status == status)
    if inviter_id:
        stmt = stmt.where(Referral.inviter_id == inviter_id)
    return paginate(stmt, [Referral.id], limit=limit, cursor=cursor)


def payable_inviter(resident_id: int) -> int | None:
    """The resident's inviter, unless the pair was flagged (shared phone or unionid) or an admin
    dismissed it (lapsed: withheld for good)."""
    return db.session.scalar(sa.select(Referral.inviter_id).where(
        Referral.invitee_id == resident_id, Referral.status.in_(("pending", "rewarded"))))


def latest_of(inviter_id: int, *, limit: int = 50) -> list[dict]:
    """An inviter's latest referrals with the invitee's name, newest first (the admin's view)."""
    return [{"id": r.id, "invitee_id": r.invitee_id, "invitee_name": name or "", "status": r.status,
             "flag_reason": r.flag_reason, "qualified_by": r.qualified_by, "attributed_at": r.attributed_at,
             "rewarded_at": r.rewarded_at}
            for r, name in db.session.execute(
                sa.select(Referral, User.display_name).join(User, User.id == Referral.invitee_id)
                .where(Referral.inviter_id == inviter_id).order_by(Referral.id.desc()).limit(limit))]


# -- what an inviter sees ---------------------------------------------------------------------

def points_by_referral(referral_ids) -> dict[int, int]:
    """Points each referral has paid its inviter (its grants, looked up by their ledger keys)."""
    ids = list(referral_ids)
    keys = {grant_key(i, t): i for i in ids for t in TRIGGERS}
    earned = dict.fromkeys(ids, 0)
    for key, amount in points.granted(keys).items():
        earned[keys[key]] += amount
    return earned


@dataclass
class InviteeItem:
    id: int
    invitee_name: str
    attributed_at: datetime
    protected_until: datetime
    status: str
    status_label: str
    qualified_by: str | None
    points: int


def invitees_of(inviter_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """The inviter's invitees, newest first, with their status and the points they brought."""
    page = paginate(sa.select(Referral).where(Referral.inviter_id == inviter_id), [Referral.id],
                    limit=limit, cursor=cursor)
    names = dict(db.session.execute(sa.select(User.id, User.display_name).where(
        User.id.in_([r.invitee_id for r in page.items]))).all()) if page.items else {}
    earned = points_by_referral(r.id for r in page.items)
    page.items = [InviteeItem(r.id, mask_name(names.get(r.invitee_id), "微信用户"), r.attributed_at, r.protected_until,
                              r.status, STATUS_LABELS[r.status], r.qualified_by, earned[r.id]) for r in page.items]
    return page


def totals_of(inviter_id: int) -> dict:
    """Invitee counts by status and all referral points the inviter earned."""
    counts = dict.fromkeys(STATUS_LABELS, 0)
    counts.update(dict(db.session.execute(sa.select(Referral.status, sa.func.count()).where(
        Referral.inviter_id == inviter_id).group_by(Referral.status)).all()))
    earned = points.earned_total(inviter_id, TRIGGERS.values(), "referral:")
    return {"invitees": sum(counts.values()), **counts, "points": earned}


def attribution_view(referral: Referral) -> dict:
    """What the invitee sees of their attribution: the inviter as an ambassador (their real name,
    masked; an engineer inviter is an ambassador too), else their nickname, masked."""
    name = db.session.scalar(sa.select(Ambassador.real_name).where(Ambassador.user_id == referral.inviter_id)) \
        or db.session.scalar(sa.select(User.display_name).where(User.id == referral.inviter_id))
    return {"id": referral.id, "inviter_name": mask_name(name, "邻里服务代言人"), "attributed_at": referral.attributed_at,
            "protected_until": referral.protected_until, "status": referral.status,
            "status_label": STATUS_LABELS[referral.status]}
