"""Community activities (社区活动): who organises them and for which estates, sign-up with a
waitlist, check-in, rewards for taking part, the day-before reminder, attendee lists and CSV
(docs/activation.md, "Activities").

- Organisers: admins (any estate); ambassadors whose level has `lead_activities`, for the estates
  they serve (ambassador.members.services.lead_activity_estates); staff of an approved partner,
  within the partner's reach. An admin's or an ambassador's activity is published at once; a
  partner's starts `pending` and an admin approves or rejects it (a partner's edit sends it back
  to moderation). Points and coupons cost the platform or a partner: only admins set
  `points_reward` (on any activity); a partner may attach a coupon template of its own.
- Audience: listed estates, or a targeting rule whose matches (community.profiles) are
  precomputed into activity_estates by one INSERT … SELECT, intersected with what the organiser
  may reach. The estate's list is an index read on activity_estates. Matches are fixed when the
  audience is saved (an edit recomputes them); sign-ups already made stay.
- Sign-up: a resident of an audience estate, before the deadline. The activity row is locked
  first (every write that touches an activity and its sign-ups takes the activity row before any
  sign-up row, so they never deadlock) and a seat is taken by a conditional UPDATE (`confirmed <
  capacity`): concurrent sign-ups give exactly `capacity` confirmed, the rest are waitlisted in
  arrival order. A confirmed cancellation frees the seat and promotes the earliest waitlisted
  in the same transaction; so does raising the capacity. The promoted are told (subscribe
  message "activity" where they hold quota, and the inbox).
- Check-in from 1 h before the start until the end: the organiser enters or scans the attendee's
  code, or the attendee scans the activity's code (`checkin_token`). Only confirmed sign-ups
  check in (no walk-ins: a walk-in signs up while the deadline allows; rewards stay tied to a
  seat). Once per person: the conditional UPDATE on `checked_in_at` decides, and a second scan
  answers the first check-in. Taking part pays `points_reward` (ledger key
  activity:<id>:<user>) and the activity's coupon (issue key activity:<id>:<user>) once.
- The day-before reminder (job `remind-activities`, hourly 09:00–20:00 Asia/Shanghai) claims due
  confirmed sign-ups set-based (`reminded_at`), then sends one notice each: the subscribe message
  where the resident holds quota, the inbox otherwise (never both).

Who sees what: `visible_activity` (residents: published, cancelled or past ones; the rest only
the organiser side) and `activity_for` (the organiser side: admins and agents any, a partner's
staff their partner's, an ambassador their own; anyone else 404).

Plain functions with the acting user; they flush, the caller commits.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa

from activation.activities.models import Activity, ActivityEstate, ActivitySignup
from activation.coupons import services as coupons
from activation.coupons.models import Coupon  # one statement: the coupon an activity's issue key names
from activation.partners import services as partners
from ambassador.members import services as members
from community.estates import services as estates
from community.profiles import services as profiles
from core import audit
from core.accounts import services as accounts
from core.csvimport import csv_text
from core.db import MAX_ID, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed, invalid
from core.extensions import db
from core.formatting import BUSINESS_TZ, iso_time
from core.notifications import services as notifications
from core.pagination import Page, paginate
from core.schemas import upload_urls
from core.uploads import services as uploads
from points import rules, services as points

STATUS_LABELS = {"pending": "待审核", "published": "已发布", "rejected": "已驳回", "withdrawn": "已撤回",
                 "cancelled": "已取消"}
STATE_LABELS = {"pending": "待审核", "rejected": "已驳回", "withdrawn": "已撤回", "cancelled": "已取消",
                "upcoming": "未开始", "ongoing": "进行中", "ended": "已结束"}
SIGNUP_LABELS = {"confirmed": "已报名", "waitlisted": "候补中", "cancelled": "已取消"}
ORGANIZER_LABELS = {"admin": "平台", "ambassador": "服务代言人", "partner": "合作伙伴"}
PLATFORM_NAME = "邻里社区"
ATTENDEE_FILTERS = {"confirmed": "已报名", "waitlisted": "候补", "checked_in": "已签到", "cancelled": "已取消"}

TEXT = {"title": (2, 64, "标题"), "description": (0, 4000, "活动介绍"), "place": (2, 128, "活动地点")}
PHOTOS_MAX = 9
CAPACITY_MAX = 100_000
POINTS_MAX = 10_000
AHEAD_MAX = timedelta(days=366)  # the furthest start
LENGTH_MAX = timedelta(days=30)  # the longest activity
AUDIENCE_IDS_MAX = 1000  # as many estates as a rule's estate_ids
CHECKIN_OPENS = timedelta(hours=1)  # check-in opens this long before the start, and closes at the end
REMIND_WINDOW = (time(9), time(20))  # Asia/Shanghai: reminders are sent inside these hours only
REMIND_BATCH = 200
NOTE_MAX = 500
REASON_MAX = 255
CONTACT_NAME_MAX = 32
MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
# Attendee codes: typed by an organiser on a phone when a scan fails, so short and without the
# look-alikes 0/O, 1/I/L; unique across all sign-ups (31^8 ≈ 8.5 × 10^11).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
TOKEN_BYTES = 12  # the activity's own code: 16 URL-safe characters, a capability (never typed)
DETAIL_PAGE = "pages/activity/index"  # where the mini-program opens an activity (notices)
FIELDS = ("title", "description", "photos", "place", "starts_at", "ends_at", "signup_deadline", "capacity",
          "points_reward", "coupon_template_id")


# -- small helpers ------------------------------------------------------------------------------

def _valid_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _text(data: dict, field: str) -> str:
    low, high, label = TEXT[field]
    value = data.get(field)
    value = "" if value is None else str(value).replace("\r\n", "\n").strip()
    if any(ord(c) < 32 and c not in ("\n\t" if field == "description" else "") for c in value):
        raise invalid(field, f"{label}不能包含控制字符")
    if not low <= len(value) <= high:
        raise invalid(field, f"请填写{label}" if not value else f"{label}应为 {low}–{high} 个字")
    return value


def _note(note: str | None, *, required: bool, what: str, most: int = NOTE_MAX, field: str = "note") -> str | None:
    note = (note or "").strip()
    if required and not note:
        raise invalid(field, f"请填写{what}")
    if len(note) > most:
        raise invalid(field, f"{what}最多 {most} 个字")
    return note or None


def _when(value, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise invalid(field, "请填写带时区的时间")
    return value.astimezone(timezone.utc)


def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(BUSINESS_TZ).strftime(fmt) if value else ""


def business_day(now: datetime) -> date:
    return now.astimezone(BUSINESS_TZ).date()


def day_start(day: date) -> datetime:
    """00:00 of that day in Asia/Shanghai, as aware UTC."""
    return datetime.combine(day, time(), BUSINESS_TZ).astimezone(timezone.utc)


def _new_code() -> str:
    for _ in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(sa.select(ActivitySignup.id).where(ActivitySignup.code == code)) is None:
            return code
    raise Conflict("暂时无法生成签到码，请重试", code="code_exhausted")


def normalise_code(code: str | None) -> str:
    """An attendee code as typed: case, spaces and dashes do not matter."""
    return re.sub(r"[\s-]", "", str(code or "")).upper()


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _by_time(stmt: sa.Select, column, *, limit: int, cursor: str | None, descending: bool = False) -> Page:
    """Keyset pages by a time column, then the activity or sign-up id."""
    return paginate(stmt, [column, column.class_.id], limit=limit, cursor=cursor, descending=descending)


# -- organisers ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Organizer:
    """Who organises, as what: an admin (anywhere), an ambassador (`estate_ids`: the estates they
    serve) or a partner's staff (`within`: the partner's reach rule)."""

    kind: str
    user_id: int
    partner_id: int | None = None
    estate_ids: tuple[int, ...] | None = None
    within: dict | None = None


def organizer_of(actor) -> Organizer:
    """The actor as an organiser of activities, or 403 saying why not."""
    if actor is None:
        raise Forbidden("请先登录", code="forbidden")
    if actor.has_role("admin"):
        return Organizer("admin", actor.id)
    partner = partners.partner_of(actor)
    if partner is not None:
        if partner.status != "approved":
            raise Forbidden("合作伙伴尚未通过审核或已暂停合作，暂不能发布活动", code="partner_not_approved")
        return Organizer("partner", actor.id, partner_id=partner.id, within=dict(partner.reach_rule or {}))
    served = members.lead_activity_estates(actor.id)  # 403 not_an_ambassador / permission_denied
    if not served:
        raise Forbidden("您还没有服务的小区，暂不能组织活动", code="no_estate")
    return Organizer("ambassador", actor.id, estate_ids=tuple(served), within={"estate_ids": list(served)})


def may_organize(actor) -> bool:
    """The actor may organise activities now (menus and links)."""
    try:
        organizer_of(actor)
    except Forbidden:
        return False
    return True


def manages(actor, activity: Activity) -> bool:
    if actor is None:
        return False
    if actor.has_role("admin"):
        return True
    if activity.organizer_kind == "partner":
        return activity.partner_id is not None and partners.own_partner_id(actor) == activity.partner_id
    return activity.organizer_user_id == actor.id


def get_activity(activity_id: int) -> Activity:
    activity = db.session.get(Activity, activity_id) if _valid_id(activity_id) else None
    if activity is None:
        raise NotFound("活动不存在", code="activity_not_found")
    return activity


def activity_for(actor, activity_id: int, *, manage: bool = False) -> Activity:
    """An activity as its organiser side sees it: admins any (agents read any), a partner's staff
    their partner's, an ambassador their own. Anyone else: 404, as if it did not exist."""
    activity = get_activity(activity_id)
    if manages(actor, activity) or (not manage and actor is not None and actor.has_role("agent")):
        return activity
    raise NotFound("活动不存在", code="activity_not_found")


def visible_activity(actor, activity_id: int) -> Activity:
    """An activity as a resident may see it: published ones (also cancelled and past ones, so a
    sign-up can see what became of it); pending, rejected or withdrawn only its organiser side."""
    activity = get_activity(activity_id)
    if activity.status in ("published", "cancelled"):
        return activity
    return activity_for(actor, activity_id)


def _locked(activity_id: int) -> Activity:
    """The activity row, locked until commit (PostgreSQL; SQLite serialises writers anyway)."""
    activity = db.session.scalars(sa.select(Activity).where(Activity.id == activity_id).with_for_update()
                                  .execution_options(populate_existing=True)).first()
    if activity is None:
        raise NotFound("活动不存在", code="activity_not_found")
    return activity


# -- the audience -------------------------------------------------------------------------------

def _clean_estate_ids(value, organizer: Organizer) -> list[int]:
    if not isinstance(value, (list, tuple)) or not all(_valid_id(i) for i in value):
        raise invalid("estate_ids", "请选择小区（小区编号列表）")
    ids = list(dict.fromkeys(value))
    if not 1 <= len(ids) <= AUDIENCE_IDS_MAX:
        raise invalid("estate_ids", f"请选择 1–{AUDIENCE_IDS_MAX} 个小区")
    found = {i for i, e in estates.estates_by_id(ids).items() if e.status == "active"}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed("所选小区不存在或已停用", details={
            "fields": {"estate_ids": [f"小区不存在或已停用：{'、'.join(map(str, missing[:20]))}"]}, "estate_ids": missing})
    if organizer.kind == "ambassador":
        outside = [i for i in ids if i not in set(organizer.estate_ids or ())]
    elif organizer.within is not None:
        reach = set(db.session.scalars(profiles.matching_estates({"estate_ids": ids}, within=organizer.within)))
        outside = [i for i in ids if i not in reach]
    else:
        outside = []
    if outside:
        message = "只能选择您服务的小区" if organizer.kind == "ambassador" else "只能选择合作范围内的小区"
        raise ValidationFailed(message, code="estate_out_of_reach", details={
            "fields": {"estate_ids": [f"{message}：{'、'.join(map(str, outside[:20]))}"]}, "estate_ids": outside})
    return ids


def _clean_audience(data: dict, organizer: Organizer) -> list[int] | dict | None:
    """The audience in `data`: `estate_ids` (a list) or `audience_rule` (a targeting rule), not
    both; None when neither is given."""
    ids, rule = data.get("estate_ids"), data.get("audience_rule")
    if ids is not None and rule is not None:
        raise invalid("audience_rule", "面向范围请选择小区或填写规则，二选一")
    if ids is not None:
        return _clean_estate_ids(ids, organizer)
    if rule is not None:
        if not isinstance(rule, dict):
            raise invalid("audience_rule", "规则应为 JSON 对象")
        return profiles.validate_rule(rule)
    return None


def set_audience_estates(activity: Activity, audience: list[int] | dict, within: dict | None = None) -> int:
    """Replace the estates an activity is for: these estate ids, or every estate the targeting
    rule matches (one INSERT … SELECT from community.profiles.matching_estates), intersected with
    `within` (a partner's reach, an ambassador's estates). Returns how many; none is a 422."""
    db.session.execute(sa.delete(ActivityEstate).where(ActivityEstate.activity_id == activity.id))
    if isinstance(audience, dict):
        activity.audience_rule = audience
        matching = profiles.matching_estates(audience, within=within).subquery()
        rows = sa.select(sa.literal(activity.id, sa.BigInteger()), matching.c[0]).distinct()
        db.session.execute(sa.insert(ActivityEstate).from_select(["activity_id", "estate_id"], rows))
    else:
        activity.audience_rule = None
        db.session.execute(sa.insert(ActivityEstate), [{"activity_id": activity.id, "estate_id": i} for i in audience])
    db.session.flush()
    count = estate_count(activity.id)
    if not count:
        field = "audience_rule" if isinstance(audience, dict) else "estate_ids"
        raise ValidationFailed("面向范围内没有小区，请放宽规则", code="audience_empty",
                               details={"fields": {field: ["没有匹配的小区"]}})
    return count


def estate_count(activity_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEstate).where(
        ActivityEstate.activity_id == activity_id))


def audience_estate_ids(activity_id: int, limit: int = 50) -> list[int]:
    return list(db.session.scalars(sa.select(ActivityEstate.estate_id).where(ActivityEstate.activity_id == activity_id)
                                   .order_by(ActivityEstate.estate_id).limit(limit)))


def preview_audience(actor, rule) -> dict:
    """How many estates a rule would reach for this organiser, and the first 50 (before saving)."""
    organizer = organizer_of(actor)
    if not isinstance(rule, dict):
        raise invalid("audience_rule", "规则应为 JSON 对象")
    return profiles.preview(profiles.validate_rule(rule), within=organizer.within)


def searchable_estates(actor, q: str, limit: int = 10) -> list[dict]:
    """Estates the form may add by name or code: what the organiser may reach."""
    organizer = organizer_of(actor)
    q = (q or "").strip()[:64]
    if not q:
        return []
    if organizer.kind == "ambassador":
        found = [e for e in estates.estates_by_id(organizer.estate_ids).values()
                 if e.status == "active" and (q in e.name or q == e.code)]
    else:
        found = estates.search_estates(q=q, status="active", limit=limit if organizer.within is None else 50).items
        if organizer.within is not None and found:
            reach = set(db.session.scalars(profiles.matching_estates(
                {"estate_ids": [e.id for e in found]}, within=organizer.within)))
            found = [e for e in found if e.id in reach]
    return [{"id": e.id, "name": e.name, "city": e.city, "district": e.district} for e in found[:limit]]


# -- writing an activity ------------------------------------------------------------------------

def _clean_times(values: dict, activity: Activity | None, now: datetime) -> None:
    starts, ends, deadline = values["starts_at"], values["ends_at"], values["signup_deadline"]
    moved = activity is None or starts != activity.starts_at
    if moved and starts <= now:
        raise invalid("starts_at", "开始时间须晚于当前时间")
    if starts - now > AHEAD_MAX:
        raise invalid("starts_at", "开始时间最晚为一年后")
    if ends <= starts:
        raise invalid("ends_at", "结束时间须晚于开始时间")
    if ends - starts > LENGTH_MAX:
        raise invalid("ends_at", "活动最长 30 天")
    if deadline > ends:
        raise invalid("signup_deadline", "报名截止时间不能晚于活动结束时间")
    if (activity is None or deadline != activity.signup_deadline) and deadline <= now:
        raise invalid("signup_deadline", "报名截止时间须晚于当前时间")


def clean_activity(data: dict, actor, organizer: Organizer, activity: Activity | None = None) -> dict:
    """The fields of `data` checked and merged over the activity's (all of them when creating).
    Rewards: `points_reward` only from an admin; a coupon template from an admin (any active one)
    or a partner (its own)."""
    creating = activity is None
    clean: dict = {}
    for field in TEXT:
        if creating or field in data:
            clean[field] = _text(data, field)
    if creating or "photos" in data:
        photos = data.get("photos") or []
        if not isinstance(photos, list) or not all(isinstance(p, str) for p in photos):
            raise invalid("photos", "照片应为已上传图片的名称列表")
        photos = list(dict.fromkeys(photos))
        kept = set(activity.photos or []) if activity is not None else set()
        uploads.require_own_photos(actor.id, [p for p in photos if p not in kept], field="photos", most=PHOTOS_MAX)
        if len(photos) > PHOTOS_MAX:
            raise invalid("photos", f"最多 {PHOTOS_MAX} 张照片")
        clean["photos"] = photos
    for field in ("starts_at", "ends_at", "signup_deadline"):
        if data.get(field) is not None:
            clean[field] = _when(data[field], field)
        elif creating and field != "signup_deadline":
            raise invalid(field, "请填写时间")
    if creating and "signup_deadline" not in clean:
        clean["signup_deadline"] = clean["starts_at"]  # by default sign-ups close when it starts
    if creating or "capacity" in data:
        capacity = data.get("capacity")
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= CAPACITY_MAX:
            raise invalid("capacity", f"名额应为 1–{CAPACITY_MAX} 人")
        if activity is not None and capacity < activity.confirmed:
            raise invalid("capacity", f"名额不能少于已确认报名的 {activity.confirmed} 人")
        clean["capacity"] = capacity
    if "points_reward" in data and data.get("points_reward") is not None:
        reward = data["points_reward"]
        if isinstance(reward, bool) or not isinstance(reward, int) or not 0 <= reward <= POINTS_MAX:
            raise invalid("points_reward", f"奖励积分应为 0–{POINTS_MAX}")
        if reward != (activity.points_reward if activity else 0) and organizer.kind != "admin":
            raise invalid("points_reward", "积分奖励由平台设置，请联系管理员")
        clean["points_reward"] = reward
    elif creating:
        clean["points_reward"] = 0
    if "coupon_template_id" in data:
        template_id = data.get("coupon_template_id")
        if template_id != (activity.coupon_template_id if activity else None):
            if template_id is not None:
                if not _valid_id(template_id):
                    raise invalid("coupon_template_id", "优惠券编号无效")
                try:
                    template = coupons.get_template(template_id)
                except NotFound:
                    raise invalid("coupon_template_id", "优惠券不存在") from None
                if template.status != "active":
                    raise invalid("coupon_template_id", "该优惠券已停止发放")
                if organizer.kind == "ambassador" or (
                        organizer.kind == "partner" and template.partner_id != organizer.partner_id):
                    raise invalid("coupon_template_id", "只能选择本合作伙伴的优惠券" if organizer.kind == "partner"
                                  else "优惠券奖励由平台设置，请联系管理员")
        clean["coupon_template_id"] = template_id
    elif creating:
        clean["coupon_template_id"] = None
    merged = {f: clean.get(f, getattr(activity, f, None)) for f in ("starts_at", "ends_at", "signup_deadline")}
    if creating or any(f in clean for f in merged):
        _clean_times(merged, activity, utcnow())
    audience = _clean_audience(data, organizer)
    if creating and audience is None:
        raise invalid("estate_ids", "请选择面向的小区，或填写面向规则")
    if audience is not None:
        clean["audience"] = audience
    return clean


def _state(activity: Activity) -> dict:
    return {f: getattr(activity, f) for f in (*FIELDS, "status", "audience_rule")}


def create_activity(actor, data: dict) -> Activity:
    """An organiser creates an activity: published at once (admins, ambassadors) or pending
    moderation (partners)."""
    organizer = organizer_of(actor)
    clean = clean_activity(data, actor, organizer)
    audience = clean.pop("audience")
    now = utcnow()
    activity = Activity(**clean, organizer_kind=organizer.kind, organizer_user_id=actor.id,
                        partner_id=organizer.partner_id, checkin_token=_new_token(), confirmed=0, waitlisted=0,
                        checked_in=0, status="pending" if organizer.kind == "partner" else "published",
                        created_at=now, updated_at=now)
    db.session.add(activity)
    db.session.flush()
    set_audience_estates(activity, audience, within=organizer.within)
    audit.record(actor, "activation.activity.create", "activity", activity.id, after=_state(activity))
    return activity


def update_activity(actor, activity_id: int, data: dict) -> Activity:
    """Edit an activity (its organiser side; admins any). Only the fields sent change. The
    capacity never goes below the confirmed sign-ups, and raising it promotes the waitlist;
    rewards are fixed once someone checked in; a partner's edit goes back to moderation. Sign-ups
    are told when the time or the place changes."""
    activity = activity_for(actor, activity_id, manage=True)
    if activity.status in ("cancelled", "withdrawn"):
        raise Conflict(f"活动{STATUS_LABELS[activity.status]}，不能修改", code="activity_closed")
    activity = _locked(activity.id)
    now = utcnow()
    if activity.ends_at <= now:
        raise Conflict("活动已结束，不能修改", code="activity_ended")
    by_admin = actor.has_role("admin")
    organizer = Organizer("admin", actor.id) if by_admin else organizer_of(actor)
    clean = clean_activity(data, actor, organizer, activity)
    audience = clean.pop("audience", None)
    rewards = {f: clean[f] for f in ("points_reward", "coupon_template_id")
               if f in clean and clean[f] != getattr(activity, f)}
    if rewards and activity.checked_in:
        raise Conflict("已有人签到，奖励不能再修改", code="rewards_locked")
    before = _state(activity)
    old_day, old_place = business_day(activity.starts_at), activity.place
    old_times = (activity.starts_at, activity.ends_at)
    raised = clean.get("capacity", activity.capacity) > activity.capacity
    for field, value in clean.items():
        setattr(activity, field, value)
    if audience is not None:
        set_audience_estates(activity, audience, within=organizer.within)
    if activity.organizer_kind == "partner" and not by_admin and activity.status in ("published", "rejected"):
        activity.status = "pending"  # what residents see passes moderation again
        activity.reviewed_by_id = activity.reviewed_at = activity.review_note = None
    activity.updated_at = now
    db.session.flush()
    if raised and activity.status == "published":
        _fill_seats(activity, now)
    if business_day(activity.starts_at) != old_day:  # the day-before reminder is due again
        db.session.execute(sa.update(ActivitySignup).where(ActivitySignup.activity_id == activity.id)
                           .values(reminded_at=None).execution_options(synchronize_session=False))
    if (activity.starts_at, activity.ends_at) != old_times or activity.place != old_place:
        _tell_signups(activity, f"活动有变：{activity.title}",
                      f"您报名的活动「{activity.title}」时间或地点有变：{_when_text(activity)}，{activity.place}。"
                      "如不能参加请及时取消报名。", "活动时间或地点有调整")
    audit.record(actor, "activation.activity.update", "activity", activity.id, before=before, after=_state(activity))
    return activity


def cancel_activity(actor, activity_id: int, reason: str | None) -> Activity:
    """The organiser side calls an activity off, with a reason the sign-ups read: a pending one is
    withdrawn, a published one cancelled and everyone signed up (confirmed or waitlisted) told."""
    activity = activity_for(actor, activity_id, manage=True)
    reason = _note(reason, required=True, what="取消原因", most=REASON_MAX, field="reason")
    activity = _locked(activity.id)
    now = utcnow()
    if activity.status == "published" and activity.ends_at <= now:
        raise Conflict("活动已结束，不能取消", code="activity_ended")
    to = {"pending": "withdrawn", "rejected": "withdrawn", "published": "cancelled"}.get(activity.status)
    if to is None:
        raise Conflict(f"活动{STATUS_LABELS[activity.status]}，不能取消", code="activity_closed")
    before = activity.status
    activity.status, activity.cancelled_reason, activity.updated_at = to, reason, now
    db.session.flush()
    if to == "cancelled":
        _tell_signups(activity, f"活动取消：{activity.title}",
                      f"很抱歉，您报名的活动「{activity.title}」（{_when_text(activity)}）已取消。原因：{reason}",
                      f"活动已取消：{reason}")
    audit.record(actor, "activation.activity.cancel", "activity", activity.id,
                 before={"status": before}, after={"status": to, "reason": reason})
    return activity


REVIEWS = {"approve": "published", "reject": "rejected"}


def review_activity(activity_id: int, action: str, note: str | None, actor) -> Activity:
    """An admin approves a partner's pending activity (it is published) or rejects it with a note
    the partner reads. Two admins at once: the second gets 409."""
    if action not in REVIEWS:
        raise invalid("action", "应为 approve 或 reject")
    note = _note(note, required=action == "reject", what="驳回原因" if action == "reject" else "说明")
    activity = _locked(get_activity(activity_id).id)
    if activity.status != "pending":
        raise Conflict(f"该活动当前为“{STATUS_LABELS[activity.status]}”，已被处理", code="already_decided")
    now = utcnow()
    if action == "approve":
        if activity.partner_id is not None and partners.get_partner(activity.partner_id).status != "approved":
            raise Conflict("该合作伙伴未在合作中，不能发布其活动", code="partner_not_approved")
        if activity.signup_deadline <= now:
            raise Conflict("报名截止时间已过，请让组织者修改时间后重新提交", code="signup_deadline_passed")
    activity.status, activity.reviewed_by_id, activity.reviewed_at = REVIEWS[action], actor.id, now
    activity.review_note, activity.updated_at = note, now
    db.session.flush()
    audit.record(actor, f"activation.activity.{action}", "activity", activity.id,
                 before={"status": "pending"}, after={"status": activity.status, "note": note})
    return activity


# -- signing up -----------------------------------------------------------------------------------

def _when_text(activity: Activity) -> str:
    start, end = activity.starts_at.astimezone(BUSINESS_TZ), activity.ends_at.astimezone(BUSINESS_TZ)
    same_day = start.date() == end.date()
    return f"{start.month}月{start.day}日 {start:%H:%M}–" + (f"{end:%H:%M}" if same_day else f"{end.month}月{end.day}日 {end:%H:%M}")


def _notice_data(activity: Activity, note: str) -> dict:
    return {"thing1": activity.title, "time2": local(activity.starts_at), "thing3": activity.place, "thing4": note}


def _page(activity: Activity) -> str:
    return f"{DETAIL_PAGE}?id={activity.id}"


def _tell(user_ids, activity: Activity, title: str, body: str, note: str, *, inbox_when_sent: bool = True) -> dict:
    return notifications.notify(user_ids, kind="activity", title=title, body=body, purpose="activity",
                                data=_notice_data(activity, note), page=_page(activity),
                                inbox_when_sent=inbox_when_sent)


def _tell_signups(activity: Activity, title: str, body: str, note: str) -> None:
    user_ids = list(db.session.scalars(sa.select(ActivitySignup.user_id).where(
        ActivitySignup.activity_id == activity.id, ActivitySignup.status.in_(("confirmed", "waitlisted")))))
    if user_ids:
        _tell(user_ids, activity, title, body, note)


def audience_estate_of(activity: Activity, user, estate_id: int | None = None) -> int | None:
    """The estate through which the user may sign up: one they live in among the activity's
    (`estate_id` when given and eligible), else None."""
    homes = [r.estate_id for r in estates.estates_of(user)]
    if estate_id is not None:
        homes = [e for e in homes if e == estate_id]
    if not homes:
        return None
    return db.session.scalar(sa.select(ActivityEstate.estate_id).where(
        ActivityEstate.activity_id == activity.id, ActivityEstate.estate_id.in_(homes))
        .order_by(ActivityEstate.estate_id).limit(1))


def _signup_of(activity_id: int, user_id: int, *, lock: bool = False) -> ActivitySignup | None:
    stmt = sa.select(ActivitySignup).where(ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.scalars(stmt).first()


def my_signup(activity_id: int, user_id: int) -> ActivitySignup:
    """The user's own sign-up for an activity they may see (404 `signup_not_found` without one)."""
    signup = _signup_of(get_activity(activity_id).id, user_id)
    if signup is None:
        raise NotFound("您没有报名该活动", code="signup_not_found")
    return signup


def _check_signup_open(activity: Activity, now: datetime) -> None:
    if activity.status == "cancelled":
        raise Conflict("活动已取消", code="activity_cancelled")
    if activity.status != "published":
        raise NotFound("活动不存在", code="activity_not_found")
    if now >= activity.signup_deadline or now >= activity.ends_at:
        raise Conflict("报名已截止", code="signup_closed")


def _contact(user, data: dict) -> tuple[str, str | None]:
    name = str(data.get("contact_name") or "").strip()
    if any(ord(c) < 32 for c in name) or len(name) > CONTACT_NAME_MAX:
        raise invalid("contact_name", f"联系人最多 {CONTACT_NAME_MAX} 个字")
    phone = data.get("contact_phone")
    if phone:
        phone = re.sub(r"[\s-]", "", str(phone))
        if phone.startswith("+86"):
            phone = phone[3:]
        if not MOBILE_RE.fullmatch(phone):
            raise invalid("contact_phone", "请填写 11 位手机号")
    elif user.phone and user.phone_confirmed_at:
        phone = user.phone
    return name or (user.display_name or "")[:CONTACT_NAME_MAX], phone or None


@dataclass
class SignupResult:
    signup: ActivitySignup
    created: bool  # False: already signed up (the same sign-up comes back)


def sign_up(activity_id: int, user, data: dict | None = None) -> SignupResult:
    """A resident of an audience estate signs up before the deadline: confirmed while seats are
    left (a conditional UPDATE under the activity's row lock), else waitlisted. Signing up again
    while signed up returns the sign-up; a cancelled one goes to the end of the queue."""
    data = data or {}
    activity = get_activity(activity_id)
    now = utcnow()
    _check_signup_open(activity, now)
    estate_id = data.get("estate_id")
    if estate_id is not None and not _valid_id(estate_id):
        raise invalid("estate_id", "小区编号无效")
    estate_id = audience_estate_of(activity, user, estate_id)
    if estate_id is None:
        raise Forbidden("该活动只面向指定小区的住户，请先加入活动面向的小区", code="not_in_audience")
    name, phone = _contact(user, data)
    activity = _locked(activity.id)
    now = utcnow()  # under the lock: the queue's order is the order the seats were decided in
    _check_signup_open(activity, now)  # a cancellation may have committed meanwhile
    signup = _signup_of(activity.id, user.id, lock=True)
    if signup is not None and signup.status != "cancelled":
        return SignupResult(signup, False)
    seated = db.session.execute(sa.update(Activity).where(
        Activity.id == activity.id, Activity.status == "published", Activity.confirmed < Activity.capacity)
        .values(confirmed=Activity.confirmed + 1).execution_options(synchronize_session=False)).rowcount
    if not seated:
        db.session.execute(sa.update(Activity).where(Activity.id == activity.id).values(
            waitlisted=Activity.waitlisted + 1).execution_options(synchronize_session=False))
    status = "confirmed" if seated else "waitlisted"
    values = {"status": status, "estate_id": estate_id, "queued_at": now, "contact_name": name, "contact_phone": phone,
              "promoted_at": None, "cancelled_at": None, "reminded_at": None, "updated_at": now}
    if signup is None:
        signup = ActivitySignup(activity_id=activity.id, user_id=user.id, code=_new_code(), created_at=now, **values)
        db.session.add(signup)
    else:
        for field, value in values.items():
            setattr(signup, field, value)
    db.session.flush()
    db.session.refresh(activity)
    return SignupResult(signup, True)


def cancel_signup(activity_id: int, user_id: int) -> ActivitySignup:
    """A resident cancels their sign-up before the start. A confirmed one frees its seat, which
    goes to the earliest waitlisted in the same transaction (they are told). Cancelling again
    changes nothing."""
    activity = _locked(get_activity(activity_id).id)
    signup = _signup_of(activity.id, user_id, lock=True)
    if signup is None:
        raise NotFound("您没有报名该活动", code="signup_not_found")
    if signup.status == "cancelled":
        return signup
    if signup.checked_in_at is not None:
        raise Conflict("您已签到，不能取消报名", code="already_checked_in")
    now = utcnow()
    if activity.status == "published" and now >= activity.starts_at:
        raise Conflict("活动已开始，不能取消报名", code="activity_started")
    was = signup.status
    signup.status, signup.cancelled_at, signup.updated_at = "cancelled", now, now
    column = Activity.confirmed if was == "confirmed" else Activity.waitlisted
    db.session.execute(sa.update(Activity).where(Activity.id == activity.id).values({column: column - 1})
                       .execution_options(synchronize_session=False))
    db.session.flush()
    db.session.refresh(activity)
    if was == "confirmed" and activity.status == "published":
        _fill_seats(activity, now)
    return signup


def _fill_seats(activity: Activity, now: datetime) -> list[ActivitySignup]:
    """Give free seats to the waitlist, earliest first (the caller holds the activity's lock) and
    tell each one promoted."""
    promoted = []
    while True:
        nxt = db.session.scalars(sa.select(ActivitySignup).where(
            ActivitySignup.activity_id == activity.id, ActivitySignup.status == "waitlisted")
            .order_by(ActivitySignup.queued_at, ActivitySignup.id).limit(1)).first()
        if nxt is None:
            break
        if not db.session.execute(sa.update(Activity).where(
                Activity.id == activity.id, Activity.confirmed < Activity.capacity, Activity.waitlisted > 0)
                .values(confirmed=Activity.confirmed + 1, waitlisted=Activity.waitlisted - 1)
                .execution_options(synchronize_session=False)).rowcount:
            break
        nxt.status, nxt.promoted_at, nxt.updated_at = "confirmed", now, now
        db.session.flush()
        promoted.append(nxt)
    db.session.refresh(activity)
    if promoted:
        _tell([s.user_id for s in promoted], activity, f"候补成功：{activity.title}",
              f"您候补的活动「{activity.title}」有名额空出，已为您确认报名。时间：{_when_text(activity)}，"
              f"地点：{activity.place}。如不能参加请及时取消报名。", "候补成功，已为您确认报名")
    return promoted


def _ahead(activity_id: int, signup: ActivitySignup) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ActivitySignup).where(
        ActivitySignup.activity_id == activity_id, ActivitySignup.status == "waitlisted",
        sa.or_(ActivitySignup.queued_at < signup.queued_at,
               sa.and_(ActivitySignup.queued_at == signup.queued_at, ActivitySignup.id < signup.id))))


def queue_positions(activity_id: int, signups, *, contiguous: bool = False) -> dict[int, int]:
    """Each waitlisted sign-up's place in the queue (1 is next), by sign-up id. `contiguous`: the
    sign-ups are a run of the queue order (a page of the attendee list), so one count places them all."""
    waiting = sorted((s for s in signups if s.status == "waitlisted"), key=lambda s: (s.queued_at, s.id))
    if contiguous and waiting:
        first = 1 + _ahead(activity_id, waiting[0])
        return {s.id: first + n for n, s in enumerate(waiting)}
    return {s.id: 1 + _ahead(activity_id, s) for s in waiting}


# -- check-in and rewards -------------------------------------------------------------------------

def checkin_window(activity: Activity) -> tuple[datetime, datetime]:
    return activity.starts_at - CHECKIN_OPENS, activity.ends_at


@dataclass
class CheckIn:
    signup: ActivitySignup
    first: bool  # False: checked in before (the first check-in comes back)
    reward: dict


def check_in(activity_id: int, actor, *, code: str | None = None, token: str | None = None) -> CheckIn:
    """Check one person in: the organiser side posts the attendee's `code`, or the attendee posts
    the activity's `token` (its own code, which they scanned). Only a confirmed sign-up, only
    inside the check-in window; a second check-in answers the first. The first pays the reward."""
    if (code is None) == (token is None):
        raise invalid("code", "请提供参加者的签到码，或扫描活动签到码")
    if code is not None:
        activity = activity_for(actor, activity_id, manage=True)
        signup = db.session.scalars(sa.select(ActivitySignup).where(
            ActivitySignup.activity_id == activity.id, ActivitySignup.code == normalise_code(code))).first()
        if signup is None:
            raise NotFound("签到码不属于该活动的报名", code="attendee_not_found")
    else:
        activity = visible_activity(actor, activity_id)
        if not secrets.compare_digest(str(token).strip().encode(), activity.checkin_token.encode()):
            raise invalid("token", "这不是该活动的签到码", "签到码不正确")
        signup = _signup_of(activity.id, actor.id)
        if signup is None:
            raise Conflict("您没有报名该活动，不能签到", code="not_signed_up")
    if signup.checked_in_at is not None:
        return CheckIn(signup, False, reward_of(activity, signup))
    if activity.status != "published":
        raise Conflict("活动已取消" if activity.status == "cancelled" else "活动未发布", code="activity_not_open")
    now = utcnow()
    opens, closes = checkin_window(activity)
    if not opens <= now <= closes:
        raise Conflict(f"签到时间为 {local(opens)} 至 {local(closes)}", code="checkin_closed",
                       details={"opens_at": iso_time(opens), "closes_at": iso_time(closes)})
    if signup.status != "confirmed":
        raise Conflict("您在候补中，未获得名额，不能签到" if signup.status == "waitlisted" else "报名已取消，不能签到",
                       code="not_confirmed")
    activity = _locked(activity.id)
    done = db.session.execute(sa.update(ActivitySignup).where(
        ActivitySignup.id == signup.id, ActivitySignup.checked_in_at.is_(None), ActivitySignup.status == "confirmed")
        .values(checked_in_at=now, checked_in_by_id=actor.id, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(signup)
    if not done:
        if signup.checked_in_at is not None:  # a concurrent scan checked them in first
            return CheckIn(signup, False, reward_of(activity, signup))
        raise Conflict("报名已取消，不能签到", code="not_confirmed")
    db.session.execute(sa.update(Activity).where(Activity.id == activity.id).values(
        checked_in=Activity.checked_in + 1).execution_options(synchronize_session=False))
    reward = pay_reward(activity, signup)
    db.session.refresh(activity)
    return CheckIn(signup, True, reward)


def reward_key(activity_id: int, user_id: int) -> str:
    return f"activity:{activity_id}:{user_id}"


def pay_reward(activity: Activity, signup: ActivitySignup) -> dict:
    """Pay a checked-in attendee the activity's points and coupon, once: both are idempotent by
    the key activity:<id>:<user>, so a retry pays nothing more."""
    key = reward_key(activity.id, signup.user_id)
    if activity.points_reward > 0 and not points.granted([key]):
        points.grant(signup.user_id, activity.points_reward, rules.ACTIVITY, key, f"参加活动「{activity.title}」")
    if activity.coupon_template_id is not None:
        coupons.issue_coupon(activity.coupon_template_id, signup.user_id, source="activity", issue_key=key,
                             estate_id=signup.estate_id)
    now = utcnow()
    db.session.execute(sa.update(ActivitySignup).where(ActivitySignup.id == signup.id,
                                                       ActivitySignup.rewarded_at.is_(None))
                       .values(rewarded_at=now).execution_options(synchronize_session=False))
    db.session.refresh(signup)
    return reward_of(activity, signup)


def reward_of(activity: Activity, signup: ActivitySignup) -> dict:
    """What taking part paid this attendee: points and the coupon (None when none was issued, e.g.
    out of stock)."""
    key = reward_key(activity.id, signup.user_id)
    paid = points.granted([key]).get(key, 0)
    coupon = db.session.scalars(sa.select(Coupon).where(Coupon.issue_key == key)).first() \
        if activity.coupon_template_id else None
    if coupon is None:
        return {"points": paid, "coupon": None}
    view = coupons.coupon_view(coupon)
    return {"points": paid, "coupon": {"id": view["id"], "code": view["code"], "name": view["template"]["name"],
                                       "face": view["template"]["face"], "expires_on": view["expires_on"]}}


# -- the day-before reminder -----------------------------------------------------------------------

def in_reminder_window(now: datetime) -> bool:
    start, end = REMIND_WINDOW
    return start <= now.astimezone(BUSINESS_TZ).time() < end


def remind_due(now: datetime | None = None, limit: int = REMIND_BATCH) -> dict:
    """One batch of day-before reminders (the job repeats it, committing each): confirmed sign-ups
    of published activities starting tomorrow (Asia/Shanghai), inside the reminder window only.
    The claim is one conditional UPDATE of `reminded_at` (SKIP LOCKED on PostgreSQL), so two
    runners never remind the same sign-up; each reminder goes by one channel."""
    now = now or utcnow()
    counts = {"claimed": 0, "subscribe": 0, "inbox": 0}
    if not in_reminder_window(now):
        return {**counts, "outside_window": 1}
    start = day_start(business_day(now) + timedelta(days=1))
    s, a = ActivitySignup.__table__.c, Activity.__table__.c
    due = (sa.select(s.id).select_from(ActivitySignup.__table__.join(Activity.__table__, a.id == s.activity_id))
           .where(s.status == "confirmed", s.reminded_at.is_(None), a.status == "published", a.starts_at >= start,
                  a.starts_at < start + timedelta(days=1)).order_by(s.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=ActivitySignup.__table__)
    claimed = db.session.execute(sa.update(ActivitySignup.__table__).where(s.id.in_(due), s.reminded_at.is_(None))
                                 .values(reminded_at=now, updated_at=now)
                                 .returning(s.activity_id, s.user_id)).all()
    counts["claimed"] = len(claimed)
    by_activity: dict[int, list[int]] = {}
    for activity_id, user_id in claimed:
        by_activity.setdefault(activity_id, []).append(user_id)
    for activity_id, user_ids in sorted(by_activity.items()):
        activity = db.session.get(Activity, activity_id)
        sent = _tell(user_ids, activity, f"明天的活动：{activity.title}",
                     f"您报名的活动「{activity.title}」明天开始：{_when_text(activity)}，地点：{activity.place}。"
                     "到场后出示签到码或扫描活动签到码签到；如不能参加请提前取消报名。",
                     "明天开始，请准时到场签到", inbox_when_sent=False)
        counts["subscribe"] += sent["wechat"]
        counts["inbox"] += sent["notified"] - sent["wechat"]
    return counts


# -- lists and views --------------------------------------------------------------------------------

def estate_activities(estate_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """`GET /estates/{id}/activities`: the estate's published activities not yet ended, the soonest
    first (an index read on activity_estates)."""
    estates.get_estate(estate_id)
    stmt = (sa.select(Activity).join(ActivityEstate, sa.and_(ActivityEstate.activity_id == Activity.id,
                                                             ActivityEstate.estate_id == estate_id))
            .where(Activity.status == "published", Activity.ends_at > utcnow()))
    return _by_time(stmt, Activity.starts_at, limit=limit, cursor=cursor)


def my_signups(user_id: int, *, tab: str = "upcoming", limit: int = 20, cursor: str | None = None) -> Page:
    """`GET /me/activities`: my sign-ups with their activity. `upcoming`: signed up (confirmed or
    waitlisted) for activities not yet ended, the soonest first; `all`: every sign-up, newest first."""
    if tab == "upcoming":
        stmt = (sa.select(Activity).join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
                .where(ActivitySignup.user_id == user_id, ActivitySignup.status.in_(("confirmed", "waitlisted")),
                       Activity.status == "published", Activity.ends_at > utcnow()))
        return _by_time(stmt, Activity.starts_at, limit=limit, cursor=cursor)
    stmt = sa.select(ActivitySignup).where(ActivitySignup.user_id == user_id)
    page = _by_time(stmt, ActivitySignup.created_at, limit=limit, cursor=cursor, descending=True)
    found = {a.id: a for a in db.session.scalars(sa.select(Activity).where(
        Activity.id.in_([s.activity_id for s in page.items])))} if page.items else {}
    return Page([found[s.activity_id] for s in page.items], page.next_cursor)


def list_activities(*, status: str | None = None, organizer_kind: str | None = None, partner_id: int | None = None,
                    organizer_user_id: int | None = None, q: str | None = None, limit: int = 20,
                    cursor: str | None = None) -> Page:
    """Activities, newest first (the moderation queue: status=pending)."""
    stmt = sa.select(Activity)
    if status:
        stmt = stmt.where(Activity.status == status)
    if organizer_kind:
        stmt = stmt.where(Activity.organizer_kind == organizer_kind)
    if partner_id is not None:
        stmt = stmt.where(Activity.partner_id == partner_id)
    if organizer_user_id is not None:
        stmt = stmt.where(Activity.organizer_user_id == organizer_user_id)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Activity.title.like(pattern, escape="\\"))
    return _by_time(stmt, Activity.created_at, limit=limit, cursor=cursor, descending=True)


def pending_count() -> int:
    """Partners' activities awaiting review (the console's badge)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Activity).where(Activity.status == "pending"))


def own_activities(actor, *, status: str | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    """The activities the actor organises: a partner's staff their partner's, anyone else their own."""
    partner_id = partners.own_partner_id(actor)
    if partner_id is not None:
        return list_activities(partner_id=partner_id, status=status, limit=limit, cursor=cursor)
    return list_activities(organizer_user_id=actor.id, status=status, limit=limit, cursor=cursor)


def state_of(activity: Activity, now: datetime | None = None) -> str:
    """Where an activity stands: its status, and for a published one upcoming, ongoing or ended."""
    if activity.status != "published":
        return activity.status
    now = now or utcnow()
    if now < activity.starts_at:
        return "upcoming"
    return "ongoing" if now < activity.ends_at else "ended"


def _organizer_names(activities) -> dict[int, str]:
    activities = list(activities)
    users = accounts.users_by_id(a.organizer_user_id for a in activities if a.organizer_kind == "ambassador")
    firms = partners.partners_by_id(a.partner_id for a in activities if a.organizer_kind == "partner")
    names = {}
    for a in activities:
        if a.organizer_kind == "partner" and a.partner_id in firms:
            names[a.id] = firms[a.partner_id].name
        elif a.organizer_kind == "ambassador" and a.organizer_user_id in users:
            names[a.id] = users[a.organizer_user_id].display_name or ORGANIZER_LABELS["ambassador"]
        else:
            names[a.id] = PLATFORM_NAME
    return names


def signup_views(signups, *, contiguous: bool = False) -> list[dict]:
    """Sign-ups as their resident sees them (`contiguous`: a page of one activity's queue order)."""
    signups = list(signups)
    positions: dict[int, int] = {}
    for activity_id in {s.activity_id for s in signups}:
        positions.update(queue_positions(activity_id, [s for s in signups if s.activity_id == activity_id],
                                         contiguous=contiguous))
    return [{"id": s.id, "activity_id": s.activity_id, "status": s.status, "status_label": SIGNUP_LABELS[s.status],
             "code": s.code if s.status == "confirmed" else None, "estate_id": s.estate_id,
             "queue_position": positions.get(s.id), "contact_name": s.contact_name, "contact_phone": s.contact_phone,
             "queued_at": s.queued_at, "promoted_at": s.promoted_at, "cancelled_at": s.cancelled_at,
             "checked_in_at": s.checked_in_at, "rewarded_at": s.rewarded_at, "created_at": s.created_at}
            for s in signups]


def activity_views(activities, user_id: int | None = None, *, organizer: bool = False) -> list[dict]:
    """Activities as the API shows them, with seats left, the organiser's name, the rewards and
    (for a resident) my sign-up; the organiser side also gets the check-in token, the audience and
    the review. A few queries whatever the number of activities."""
    activities = list(activities)
    if not activities:
        return []
    now = utcnow()
    names = _organizer_names(activities)
    templates = coupons.templates_by_id(a.coupon_template_id for a in activities)
    mine: dict[int, ActivitySignup] = {}
    if user_id is not None:
        mine = {s.activity_id: s for s in db.session.scalars(sa.select(ActivitySignup).where(
            ActivitySignup.user_id == user_id, ActivitySignup.activity_id.in_([a.id for a in activities])))}
    my_views = {v["activity_id"]: v for v in signup_views(mine.values())}
    views = []
    for a in activities:
        template = templates.get(a.coupon_template_id)
        opens, closes = checkin_window(a)
        state = state_of(a, now)
        view = {
            "id": a.id, "title": a.title, "description": a.description,
            "photos": upload_urls(a.photos), "place": a.place,
            "starts_at": a.starts_at, "ends_at": a.ends_at, "signup_deadline": a.signup_deadline,
            "capacity": a.capacity, "confirmed": a.confirmed, "waitlisted": a.waitlisted, "checked_in": a.checked_in,
            "seats_left": max(0, a.capacity - a.confirmed), "status": a.status, "state": state,
            "state_label": STATE_LABELS[state],
            "signup_open": a.status == "published" and now < a.signup_deadline and now < a.ends_at,
            "checkin_opens_at": opens, "checkin_closes_at": closes, "points_reward": a.points_reward,
            "coupon": {"template_id": template.id, "name": template.name, "face": coupons.face(template)}
            if template else None,
            "organizer": {"kind": a.organizer_kind, "kind_label": ORGANIZER_LABELS[a.organizer_kind],
                          "name": names[a.id]},
            "cancelled_reason": a.cancelled_reason if a.status == "cancelled" else None,
        }
        if user_id is not None:
            view["my"] = my_views.get(a.id)
        if organizer:
            view.update({"checkin_token": a.checkin_token, "audience_rule": a.audience_rule,
                         "estate_count": estate_count(a.id), "estate_ids": audience_estate_ids(a.id),
                         "review_note": a.review_note, "reviewed_at": a.reviewed_at, "partner_id": a.partner_id,
                         "organizer_user_id": a.organizer_user_id, "photo_names": list(a.photos or []),
                         "created_at": a.created_at, "updated_at": a.updated_at})
        views.append(view)
    return views


def activity_view(activity: Activity, user=None, *, organizer: bool = False) -> dict:
    """One activity as the API shows it (`user`: the resident whose sign-up is included)."""
    user_id = getattr(user, "id", user)
    return activity_views([activity], user_id, organizer=organizer)[0]


def view_page(page: Page, user_id: int | None = None, *, organizer: bool = False) -> Page:
    return Page(activity_views(page.items, user_id, organizer=organizer), page.next_cursor)


# -- attendees ------------------------------------------------------------------------------------

def _attendee_stmt(activity_id: int, status: str | None) -> sa.Select:
    stmt = sa.select(ActivitySignup).where(ActivitySignup.activity_id == activity_id)
    if status == "checked_in":
        stmt = stmt.where(ActivitySignup.checked_in_at.is_not(None))
    elif status:
        stmt = stmt.where(ActivitySignup.status == status)
    return stmt


def attendees(activity: Activity, *, status: str | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    """An activity's sign-ups in queue order (who signed up first), with their estate: confirmed,
    waitlisted, checked in or cancelled (the caller checked who may see them: `activity_for`)."""
    if status is not None and status not in ATTENDEE_FILTERS:
        raise invalid("status", "应为 confirmed、waitlisted、checked_in 或 cancelled")
    page = _by_time(_attendee_stmt(activity.id, status), ActivitySignup.queued_at, limit=limit, cursor=cursor)
    return Page(attendee_views(page.items, contiguous=status in (None, "waitlisted")), page.next_cursor)


def attendee_views(signups, *, contiguous: bool = False) -> list[dict]:
    """Sign-ups as the organiser side sees them: the contact given, the estate, never the code."""
    signups = list(signups)
    places = estates.estates_by_id(s.estate_id for s in signups)
    users = accounts.users_by_id(s.user_id for s in signups)
    views = signup_views(signups, contiguous=contiguous)
    for view, s in zip(views, signups):
        user = users.get(s.user_id)
        view["user_id"] = s.user_id
        view["name"] = s.contact_name or (user.display_name if user else "") or "住户"
        view["estate_name"] = places[s.estate_id].name if s.estate_id in places else ""
        view["code"] = None  # the attendee's own: the organiser scans it, never reads it here
    return views


def attendee_counts(activity: Activity) -> dict:
    cancelled = db.session.scalar(sa.select(sa.func.count()).select_from(ActivitySignup).where(
        ActivitySignup.activity_id == activity.id, ActivitySignup.status == "cancelled"))
    return {"confirmed": activity.confirmed, "waitlisted": activity.waitlisted, "checked_in": activity.checked_in,
            "cancelled": cancelled}


CSV_HEADER = ("序号", "状态", "姓名", "手机号", "小区", "报名时间", "候补顺位", "签到时间")


def attendees_csv(activity: Activity) -> str:
    """Every sign-up of the activity as CSV with a BOM (Excel reads UTF-8 then), in queue order;
    a cell that starts like a formula (=, +, -, @) is kept as text."""
    def rows():
        cursor, n = None, 0
        while True:
            page = attendees(activity, limit=500, cursor=cursor)
            for view in page.items:
                n += 1
                status = "已签到" if view["checked_in_at"] else view["status_label"]
                yield [n, status, view["name"], view["contact_phone"] or "", view["estate_name"],
                       local(view["created_at"]), view["queue_position"] or "", local(view["checked_in_at"])]
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    return csv_text(CSV_HEADER, rows())
