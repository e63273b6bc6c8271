"""Per-estate offers (千区千面): a coupon, an activity, a reward or a partner's listing put in front
of the estates a targeting rule matches (docs/activation.md, "Offers").

- An offer names one thing (`kind`, `ref_id`), checked against its own area: a claimable coupon
  template that is issuing, a published activity not yet over, a reward on offer, a published
  listing of an approved partner. A partner's thing (its listing, its coupon, its activity) is
  shown only within the partner's reach: the rule is intersected with `reach_rule`. An
  activity is shown only in the estates it is for (activity_estates).
- Matches are precomputed into offer_estates by `refresh_matches`: a set-based difference (one
  DELETE of the estates no longer matched, one INSERT … SELECT of the new ones, from
  community.profiles.matching_estates), so a daily refresh that changes little writes little.
  The estate's list is an index read on offer_estates. Matches are refreshed when an offer is
  published or its rule changes, for the edited estates when tags or figures change
  (core.signals.estate_profiles_changed), and wholly after the daily profile refresh (which marks
  live offers stale; the job `rematch-offers` refreshes them one by one, each committed).
- Publishing starts the notice fan-out (job `notify-offers`, 09:00–20:00 Asia/Shanghai only):
  estate by estate in id order, a batch of estates per transaction with `notify_cursor` moved
  in the same commit, so a crash resumes where it stopped and a repeat tells nobody twice. Each
  current resident is told once (at the lowest of the offer's estates they live in), unless they
  muted the offer's category: a subscribe message ("offer") where they hold quota, the inbox
  otherwise (one channel). Estates matched after the fan-out passed them are not told.
- Residents mute categories (`offer_mutes`); the estate's list still shows every live offer.

Plain functions taking the acting user; they flush, the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from activation.activities import services as activities
from activation.activities.models import Activity, ActivityEstate
from activation.coupons import services as coupons
from activation.offers.models import CATEGORIES, OFFER_KINDS, Offer, OfferEstate, OfferMute
from activation.partners import services as partners
from community.estates import services as estates
from community.profiles import services as profiles
from core import audit
from core.accounts.models import User
from core.db import MAX_ID, dialect_insert, utcnow
from core.errors import Conflict, NotFound, ValidationFailed, invalid
from core.extensions import db
from core.formatting import BUSINESS_TZ, localtime
from core.notifications import services as notifications
from core.pagination import Page, paginate
from points import services as points

KIND_LABELS = {"coupon": "优惠券", "activity": "社区活动", "reward": "积分好礼", "partner_service": "伙伴服务",
               "announcement": "伙伴公告"}
# What a resident may mute: the category's name and what it covers (the notice settings page).
CATEGORY_LABELS = {
    "coupon": ("优惠券", "小区可领的优惠券"),
    "activity": ("社区活动", "小区的社区活动"),
    "reward": ("积分好礼", "可用积分兑换的好礼"),
    "partner": ("伙伴服务", "生态伙伴的服务与公告"),
}
STATUS_LABELS = {"draft": "草稿", "published": "已发布", "withdrawn": "已撤回"}
STATE_LABELS = {"draft": "草稿", "scheduled": "待开始", "live": "投放中", "ended": "已结束", "withdrawn": "已撤回"}
NOTIFY_LABELS = {"none": "未通知", "pending": "通知中", "done": "已通知"}
LISTING_KINDS = {"partner_service": "service", "announcement": "announcement"}  # offer kind → listing kind
TITLE_MAX, SUMMARY_MAX = 64, 200
MAX_DAYS = 366  # the longest an offer runs
PREVIEW_ESTATES = 50
NOTICE_WINDOW = (time(9, 0), time(20, 0))  # Asia/Shanghai: notices go out from 09:00 until before 20:00
NOTIFY_ESTATES = 50  # estates per fan-out batch (one transaction)
NOTICE_PAGE = "pages/estate/index?id={estate_id}&tab=offers"


def _live(now: datetime):
    return sa.and_(Offer.status == "published", Offer.starts_at <= now, Offer.ends_at > now)


def state_of(offer: Offer, now: datetime | None = None) -> str:
    """draft, scheduled (published, not started), live, ended, withdrawn."""
    now = now or utcnow()
    if offer.status != "published":
        return offer.status
    if now < offer.starts_at:
        return "scheduled"
    return "live" if now < offer.ends_at else "ended"


def get_offer(offer_id: int, *, lock: bool = False) -> Offer:
    stmt = sa.select(Offer).where(Offer.id == offer_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    offer = db.session.scalars(stmt).first() if isinstance(offer_id, int) and 0 < offer_id <= MAX_ID else None
    if offer is None:
        raise NotFound("投放不存在", code="offer_not_found")
    return offer


# -- what an offer names ------------------------------------------------------------------------

@dataclass
class Ref:
    """What an offer shows, as its own area knows it: a default title and summary, and the
    partner whose reach applies (None: the platform's own)."""
    title: str
    summary: str
    partner_id: int | None


def _refused(message: str) -> ValidationFailed:
    return invalid("ref_id", message, "投放内容不可用")


def _referenced(kind: str, ref_id: int, now: datetime) -> Ref:
    """Check the thing an offer names with its own area's services; a 422 on ref_id otherwise."""
    if kind not in OFFER_KINDS:
        raise invalid("kind", "类型应为 " + "、".join(OFFER_KINDS) + " 之一")
    if not isinstance(ref_id, int) or isinstance(ref_id, bool) or not 0 < ref_id <= MAX_ID:
        raise invalid("ref_id", "请填写要投放内容的编号")
    try:
        if kind == "coupon":
            t = coupons.get_template(ref_id)
            if t.status != "active":
                raise _refused("该优惠券未在发放中")
            if not t.claimable:
                raise _refused("该优惠券未开放领取，不能投放（请在优惠券设置中开启“可领取”）")
            if t.valid_until is not None and t.valid_until < coupons.business_today():
                raise _refused("该优惠券已过有效期")
            return Ref(t.name, f"{coupons.face(t)}，{coupons.validity_text(t)}", t.partner_id)
        if kind == "activity":
            a = activities.get_activity(ref_id)
            if a.status != "published":
                raise _refused("该活动未发布（待审核、已驳回或已取消）")
            if a.ends_at <= now:
                raise _refused("该活动已结束")
            return Ref(a.title, f"{localtime(a.starts_at, '%m月%d日 %H:%M')} · {a.place}", a.partner_id)
        if kind == "reward":
            r = points.get_reward(ref_id)
            if not r.active or (r.ends_at is not None and r.ends_at <= now):
                raise _refused("该奖品未在兑换中")
            return Ref(r.name, f"{r.cost} 积分兑换", None)
        listing = partners.get_listing(ref_id)
        if listing.kind != LISTING_KINDS[kind]:
            raise _refused("该内容是" + ("服务" if listing.kind == "service" else "公告") + "，类型应为 "
                           + ("partner_service" if listing.kind == "service" else "announcement"))
        if listing.status != "published":
            raise _refused("该内容尚未通过审核或已撤下")
        partner = partners.get_partner(listing.partner_id)
        if partner.status != "approved":
            raise _refused("该合作伙伴未在合作中")
        price = ""
        if listing.price_fen is not None:
            price = f" · ¥{coupons.yuan(listing.price_fen)}{listing.price_note}"
        return Ref(listing.title, f"{partner.name}{price}", partner.id)
    except NotFound as exc:
        raise _refused(exc.message) from None


def _aware(value, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise invalid(field, "请填写带时区的时间")
    return value


def _clean(data: dict, offer: Offer | None, now: datetime) -> tuple[dict, Ref]:
    """Every field of an offer checked (an edit sends only what changes; the rest is the offer's)."""
    merged = {k: getattr(offer, k) for k in ("kind", "ref_id", "rule", "starts_at", "ends_at", "title", "summary")} \
        if offer is not None else {}
    merged.update({k: v for k, v in data.items() if v is not None or k in ("title", "summary")})
    ref = _referenced(merged.get("kind"), merged.get("ref_id"), now)
    rule = merged.get("rule")
    clean = {"kind": merged["kind"], "ref_id": merged["ref_id"],
             "rule": profiles.validate_rule({} if rule is None else rule)}
    starts, ends = merged.get("starts_at"), merged.get("ends_at")
    if starts is None:
        raise invalid("starts_at", "请填写开始时间")
    if ends is None:
        raise invalid("ends_at", "请填写结束时间")
    starts, ends = _aware(starts, "starts_at"), _aware(ends, "ends_at")
    if ends <= starts:
        raise invalid("ends_at", "结束时间须晚于开始时间")
    if ends <= now:
        raise invalid("ends_at", "结束时间须晚于现在")
    if ends - starts > timedelta(days=MAX_DAYS):
        raise invalid("ends_at", f"投放期最长 {MAX_DAYS} 天")
    clean["starts_at"], clean["ends_at"] = starts, ends
    title = " ".join(str(merged.get("title") or "").split()) or ref.title
    if len(title) > TITLE_MAX:
        if merged.get("title"):
            raise invalid("title", f"标题最多 {TITLE_MAX} 个字")
        title = title[:TITLE_MAX]
    summary = " ".join(str(merged.get("summary") or "").split())
    if len(summary) > SUMMARY_MAX:
        raise invalid("summary", f"简介最多 {SUMMARY_MAX} 个字")
    clean["title"], clean["summary"] = title, (summary or ref.summary)[:SUMMARY_MAX]
    clean["partner_id"] = ref.partner_id
    return clean, ref


def _state(offer: Offer) -> dict:
    return {k: getattr(offer, k) for k in ("kind", "ref_id", "title", "summary", "rule", "starts_at", "ends_at",
                                            "status", "partner_id")}


def create_offer(data: dict, actor) -> Offer:
    """A draft offer (`kind`, `ref_id`, `rule`, `starts_at`, `ends_at`, optional `title`,
    `summary`): nothing is shown until it is published."""
    clean, _ref = _clean(data, None, utcnow())
    offer = Offer(**clean, status="draft", created_by_id=getattr(actor, "id", None))
    db.session.add(offer)
    db.session.flush()
    audit.record(actor, "offer.create", "offer", offer.id, after=_state(offer))
    return offer


def update_offer(offer_id: int, data: dict, actor) -> Offer:
    """Change a draft, or a published offer's rule, times, title and summary (what it shows stays:
    withdraw it and create another). A published offer whose rule changed is matched again now."""
    offer = get_offer(offer_id, lock=True)
    if offer.status == "withdrawn":
        raise Conflict("投放已撤回，不能再修改", code="offer_withdrawn")
    if offer.status == "published" and any(
            k in data and data[k] is not None and data[k] != getattr(offer, k) for k in ("kind", "ref_id")):
        raise Conflict("已发布的投放不能更换内容，请撤回后重新创建", code="offer_published")
    before = _state(offer)
    clean, _ref = _clean(data, offer, utcnow())
    if offer.status == "published":
        clean = {k: v for k, v in clean.items() if k not in ("kind", "ref_id")}
    rematch = offer.status == "published" and (clean["rule"] != offer.rule or clean["partner_id"] != offer.partner_id)
    for key, value in clean.items():
        setattr(offer, key, value)
    db.session.flush()
    if rematch:
        refresh_matches(offer.id)
    audit.record(actor, "offer.update", "offer", offer.id, before=before, after=_state(offer))
    return offer


def publish(offer_id: int, actor) -> Offer:
    """Put a draft in front of the estates it matches (from `starts_at`) and start the notices."""
    offer = get_offer(offer_id, lock=True)
    if offer.status != "draft":
        raise Conflict(f"投放当前为“{STATUS_LABELS[offer.status]}”，不能发布", code="offer_state",
                       details={"status": offer.status})
    now = utcnow()
    if offer.ends_at <= now:
        raise Conflict("投放已过结束时间，请修改后再发布", code="offer_ended")
    clean, _ref = _clean({}, offer, now)  # the thing may have changed since the draft was saved
    offer.partner_id = clean["partner_id"]
    offer.status, offer.published_at = "published", now
    offer.notify_state, offer.notify_cursor, offer.notified = "pending", 0, 0
    db.session.flush()
    matched = refresh_matches(offer.id)
    audit.record(actor, "offer.publish", "offer", offer.id, before={"status": "draft"},
                 after={"status": "published", "matched": matched})
    return offer


def publish_offer(*, kind: str, ref_id: int, rule: dict, starts_at: datetime, ends_at: datetime,
                  title: str | None = None, summary: str | None = None, partner_id: int | None = None,
                  actor=None) -> Offer:
    """Create and publish in one step (what other areas call: a partner's listing approved by
    moderation). `partner_id`, when given, must be the partner of the thing."""
    offer = create_offer({"kind": kind, "ref_id": ref_id, "rule": rule, "starts_at": starts_at,
                          "ends_at": ends_at, "title": title, "summary": summary}, actor)
    if partner_id is not None and offer.partner_id != partner_id:
        raise invalid("ref_id", "该内容不属于这个合作伙伴")
    return publish(offer.id, actor)


def withdraw_offer(offer_id: int, actor) -> Offer:
    """Take an offer down (a draft or a published one): it leaves every estate's list at once and
    the notices still to send are dropped. Withdrawing a withdrawn offer changes nothing."""
    offer = get_offer(offer_id, lock=True)
    if offer.status == "withdrawn":
        return offer
    before = offer.status
    offer.status = "withdrawn"
    if offer.notify_state == "pending":
        offer.notify_state = "done"
    db.session.execute(sa.delete(OfferEstate).where(OfferEstate.offer_id == offer.id)
                       .execution_options(synchronize_session=False))
    db.session.flush()
    audit.record(actor, "offer.withdraw", "offer", offer.id, before={"status": before},
                 after={"status": "withdrawn", "notified": offer.notified})
    return offer


# -- matches --------------------------------------------------------------------------------------

def _within(offer: Offer) -> dict | None:
    return partners.reach_rule(offer.partner_id) if offer.partner_id else None


def _matching(offer: Offer, rule: dict | None = None, within: dict | None = None):
    """The estates an offer is shown in, as a subquery with one column `estate_id`: its rule,
    within its partner's reach, and for an activity the estates the activity is for."""
    base = profiles.matching_estates(offer.rule if rule is None else rule,
                                     within=_within(offer) if within is None else within or None).subquery("matching")
    stmt = sa.select(base.c.estate_id)
    if offer.kind == "activity":
        stmt = stmt.where(base.c.estate_id.in_(
            sa.select(ActivityEstate.estate_id).where(ActivityEstate.activity_id == offer.ref_id)))
    return stmt.subquery("m")


def _sync(offer_id: int, m, estate_ids: list[int] | None = None) -> tuple[int, int]:
    """Make offer_estates of the offer equal the subquery `m` (for these estates only, when given):
    delete what it no longer has, insert what is new. Returns (deleted, inserted)."""
    oe = OfferEstate.__table__
    drop = sa.delete(oe).where(oe.c.offer_id == offer_id, ~sa.exists(
        sa.select(sa.literal(1)).select_from(m).where(m.c.estate_id == oe.c.estate_id)))
    have = oe.alias("have")
    new = sa.select(sa.literal(offer_id, sa.BigInteger()), m.c.estate_id).where(~sa.exists(
        sa.select(sa.literal(1)).select_from(have).where(have.c.offer_id == offer_id,
                                                        have.c.estate_id == m.c.estate_id)))
    if estate_ids is not None:
        drop = drop.where(oe.c.estate_id.in_(estate_ids))
        new = new.where(m.c.estate_id.in_(estate_ids))
    deleted = db.session.execute(drop.execution_options(synchronize_session=False)).rowcount
    inserted = db.session.execute(sa.insert(oe).from_select(["offer_id", "estate_id"], new)
                                  .execution_options(preserve_rowcount=True)).rowcount
    return deleted, inserted


def _matched_count(offer_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OfferEstate).where(OfferEstate.offer_id == offer_id))


def refresh_matches(offer_id: int) -> int:
    """Recompute the estates an offer is shown in (set-based, the offer row locked so two refreshes
    of one offer queue); returns how many it matches. A withdrawn offer matches none."""
    offer = get_offer(offer_id, lock=True)
    if offer.status == "withdrawn":
        db.session.execute(sa.delete(OfferEstate).where(OfferEstate.offer_id == offer.id)
                           .execution_options(synchronize_session=False))
        offer.matched = 0
    else:
        _sync(offer.id, _matching(offer))
        offer.matched = _matched_count(offer.id)
    offer.matched_at = utcnow()
    db.session.flush()
    return offer.matched


def _reads(offer: Offer, reaches: dict[int, dict], keys) -> bool:
    """The offer's rule or its partner's reach reads one of these rule keys."""
    used = set(offer.rule or {}) | set(reaches.get(offer.partner_id) or {})
    return bool(used & set(keys))


def profiles_changed(sender=None, *, estate_ids: list[int] | None, keys=None) -> None:
    """Receiver of core.signals.estate_profiles_changed. Every estate (the daily refresh): the
    published offers not yet ended are marked stale and the job `rematch-offers` refreshes them
    one by one. Some estates: the published offers whose rule reads what changed are matched
    again for those estates only, now."""
    now = utcnow()
    if estate_ids is None:
        db.session.execute(sa.update(Offer).where(Offer.status == "published", Offer.ends_at > now)
                           .values(matched_at=None).execution_options(synchronize_session=False))
        return
    if not estate_ids:
        return
    offers = list(db.session.scalars(sa.select(Offer).where(Offer.status == "published", Offer.ends_at > now)
                                     .order_by(Offer.id)))
    reaches = {pid: partners.reach_rule(pid) for pid in {o.partner_id for o in offers if o.partner_id}}
    for offer in offers:
        if keys is not None and not _reads(offer, reaches, keys):
            continue
        deleted, inserted = _sync(offer.id, _matching(offer, within=reaches.get(offer.partner_id) or {}), estate_ids)
        if deleted or inserted:
            db.session.execute(sa.update(Offer).where(Offer.id == offer.id).values(
                matched=Offer.matched + inserted - deleted).execution_options(synchronize_session=False))


def stale_offers(limit: int = 100) -> list[int]:
    """Published offers not yet ended whose matches wait for a refresh (after the daily refresh)."""
    return list(db.session.scalars(sa.select(Offer.id).where(
        Offer.status == "published", Offer.ends_at > utcnow(), Offer.matched_at.is_(None)).order_by(Offer.id).limit(limit)))


def purge_ended(limit: int = 20) -> int:
    """Ended offers leave the estates' index (their `matched` figure stays): the lists stay index
    reads however many offers ran before. Returns the offers purged."""
    now = utcnow()
    ids = list(db.session.scalars(sa.select(Offer.id).where(
        Offer.status == "published", Offer.ends_at <= now,
        sa.exists().where(OfferEstate.offer_id == Offer.id)).order_by(Offer.id).limit(limit)))
    if ids:
        db.session.execute(sa.delete(OfferEstate).where(OfferEstate.offer_id.in_(ids))
                           .execution_options(synchronize_session=False))
    # A fan-out the end overtook stops: nobody is told of an offer they can no longer see.
    db.session.execute(sa.update(Offer).where(Offer.notify_state == "pending", Offer.ends_at <= now)
                       .values(notify_state="done").execution_options(synchronize_session=False))
    return len(ids)


def preview(offer_id: int, *, limit: int = PREVIEW_ESTATES) -> dict:
    """How many estates the offer matches now, and the first `limit` of them (by id) with where
    they are: what the admin checks before publishing (nothing is written)."""
    offer = get_offer(offer_id)
    return preview_rule(offer, limit=limit)


def preview_draft(data: dict, *, limit: int = PREVIEW_ESTATES) -> dict:
    """The preview of an offer not saved yet (the console's form): every field checked as on save."""
    clean, _ref = _clean(data, None, utcnow())
    return preview_rule(Offer(**clean, matched=0), limit=limit)  # transient: never added to the session


def preview_rule(offer: Offer, *, rule: dict | None = None, limit: int = PREVIEW_ESTATES) -> dict:
    m = _matching(offer, rule)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(m))
    ids = list(db.session.scalars(sa.select(m.c.estate_id).order_by(m.c.estate_id).limit(limit)))
    found = estates.estates_by_id(ids)
    rows = [{"id": e.id, "code": e.code, "name": e.name, "province": e.province, "city": e.city,
             "district": e.district, "households": e.households} for e in (found[i] for i in ids if i in found)]
    return {"count": count, "estates": rows, "matched": offer.matched, "matched_at": offer.matched_at}


def offerable_things(limit: int = 100) -> dict[str, list[tuple[int, str]]]:
    """What an admin may put in an offer now, newest first per kind (the console's choice): claimable
    coupons that are issuing, published activities not yet over, rewards on offer, published listings."""
    now = utcnow()
    things: dict[str, list[tuple[int, str]]] = {}
    page = coupons.list_templates(status="active", claimable=True, limit=limit)
    things["coupon"] = [(t.id, f"{t.name}（{coupons.face(t)}）") for t in page.items]
    page = activities.list_activities(status="published", limit=limit)
    things["activity"] = [(a.id, f"{a.title}（{localtime(a.starts_at, '%m-%d %H:%M')}）") for a in page.items
                          if a.ends_at > now]
    page = points.all_rewards(limit=limit)
    things["reward"] = [(r.id, f"{r.name}（{r.cost} 积分）") for r in page.items
                        if r.active and (r.ends_at is None or r.ends_at > now)]
    for kind, listing_kind in LISTING_KINDS.items():
        page = partners.list_listings(status="published", kind=listing_kind, limit=limit)
        firms = partners.partners_by_id(x.partner_id for x in page.items)
        things[kind] = [(x.id, f"{x.title}（{firms[x.partner_id].name if x.partner_id in firms else ''}）")
                        for x in page.items]
    return things


# -- reading offers -------------------------------------------------------------------------------

def list_offers(*, status: str | None = None, kind: str | None = None, q: str | None = None,
                partner_id: int | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    """Offers for the console, newest first."""
    stmt = sa.select(Offer)
    if status:
        stmt = stmt.where(Offer.status == status)
    if kind:
        stmt = stmt.where(Offer.kind == kind)
    if partner_id:
        stmt = stmt.where(Offer.partner_id == partner_id)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Offer.title.like(pattern, escape="\\"))
    return paginate(stmt, [Offer.id], limit=limit, cursor=cursor)


def offer_views(offers, now: datetime | None = None) -> list[dict]:
    """Offers as the console and the admin API show them."""
    now = now or utcnow()
    return [{**{c: getattr(o, c) for c in ("id", "kind", "ref_id", "title", "summary", "rule", "starts_at", "ends_at",
                                            "status", "partner_id", "matched", "matched_at", "notify_state",
                                            "notify_cursor", "notified", "created_by_id", "published_at",
                                            "created_at", "updated_at")},
             "kind_label": KIND_LABELS[o.kind], "category": CATEGORIES[o.kind], "state": state_of(o, now),
             "state_label": STATE_LABELS[state_of(o, now)], "status_label": STATUS_LABELS[o.status],
             "notify_label": NOTIFY_LABELS[o.notify_state]} for o in offers]


def offer_view(offer: Offer) -> dict:
    return offer_views([offer])[0]


def _thing_views(offers, user_id: int | None) -> dict[tuple[str, int], dict]:
    """What each offer shows, as its own area views it for this resident (a few queries a page)."""
    by_kind: dict[str, set[int]] = {}
    for o in offers:
        by_kind.setdefault(o.kind, set()).add(o.ref_id)
    views: dict[tuple[str, int], dict] = {}
    if by_kind.get("coupon"):
        templates = coupons.templates_by_id(by_kind["coupon"]).values()
        views.update({("coupon", v["id"]): v for v in coupons.template_views(templates, user_id)})
    if by_kind.get("activity"):
        found = db.session.scalars(sa.select(Activity).where(Activity.id.in_(by_kind["activity"])).order_by(Activity.id))
        views.update({("activity", v["id"]): v for v in activities.activity_views(found, user_id)})
    for i in sorted(by_kind.get("reward", ())):
        r = points.get_reward(i)
        views[("reward", i)] = {"id": r.id, "name": r.name, "description": r.description, "image_url": r.image_url,
                                "cost": r.cost, "stock": r.stock, "per_user_limit": r.per_user_limit,
                                "ends_at": r.ends_at}
    listing_ids = by_kind.get("partner_service", set()) | by_kind.get("announcement", set())
    if listing_ids:
        listings = partners.listings_by_id(listing_ids)
        firms = partners.partners_by_id(x.partner_id for x in listings.values())
        for x in listings.values():
            view = partners.listing_view(x, firms.get(x.partner_id))
            views[(("partner_service" if x.kind == "service" else "announcement"), x.id)] = view
    return views


def resident_views(offers, user_id: int | None, estate_id: int | None = None) -> list[dict]:
    """Offers as a resident sees them: what it is, until when, and what they need to act on it
    (the coupon's face and whether they may claim it; the activity's time, place and seats; the
    reward's cost; the listing's price and how to sign up)."""
    offers = list(offers)
    things = _thing_views(offers, user_id)
    views = []
    for o in offers:
        thing = things.get((o.kind, o.ref_id))
        views.append({"id": o.id, "kind": o.kind, "kind_label": KIND_LABELS[o.kind], "category": CATEGORIES[o.kind],
                      "title": o.title, "summary": o.summary, "starts_at": o.starts_at, "ends_at": o.ends_at,
                      "estate_id": estate_id, "ref_id": o.ref_id,
                      "coupon": thing if o.kind == "coupon" else None,
                      "activity": thing if o.kind == "activity" else None,
                      "reward": thing if o.kind == "reward" else None,
                      "listing": thing if o.kind in LISTING_KINDS else None})
    return views


def estate_offers(estate_id: int, *, user_id: int | None = None, kind: str | None = None, limit: int = 20,
                  cursor: str | None = None) -> Page:
    """The live offers of an estate, newest first: an index read on offer_estates (estate_id,
    offer_id), each with what the resident needs to act on it."""
    estate = estates.get_estate(estate_id)
    stmt = (sa.select(Offer).join(OfferEstate, OfferEstate.offer_id == Offer.id)
            .where(OfferEstate.estate_id == estate.id, _live(utcnow())))
    if kind:
        stmt = stmt.where(Offer.kind == kind)
    page = paginate(stmt, [OfferEstate.offer_id], limit=limit, cursor=cursor, key_of=lambda o: [o.id])
    return Page(resident_views(page.items, user_id, estate.id), page.next_cursor)


def offered_in(kind: str, ref_id: int, estate_ids) -> int | None:
    """The first (lowest) of these estates where a live offer of the thing is shown, or None."""
    wanted = sorted({i for i in estate_ids if isinstance(i, int)})
    if not wanted:
        return None
    return db.session.scalar(sa.select(OfferEstate.estate_id).join(Offer, Offer.id == OfferEstate.offer_id).where(
        Offer.kind == kind, Offer.ref_id == ref_id, _live(utcnow()), OfferEstate.estate_id.in_(wanted))
        .order_by(OfferEstate.estate_id).limit(1))


def is_offered(kind: str, ref_id: int, estate_id: int) -> bool:
    """A live offer of the thing is shown in the estate now."""
    return offered_in(kind, ref_id, [estate_id]) is not None


def offered_ids(kind: str, ref_ids, estate_ids) -> set[int]:
    """Which of these things a live offer shows in one of these estates: one query, however many."""
    wanted = sorted({i for i in estate_ids if isinstance(i, int)})
    refs = sorted({i for i in ref_ids if isinstance(i, int) and not isinstance(i, bool)})
    if not wanted or not refs:
        return set()
    return set(db.session.scalars(sa.select(Offer.ref_id).distinct().join(
        OfferEstate, OfferEstate.offer_id == Offer.id).where(
        Offer.kind == kind, Offer.ref_id.in_(refs), _live(utcnow()), OfferEstate.estate_id.in_(wanted))))


def reward_offered(sender=None, *, user_id: int, reward_id: int | None = None,
                   reward_ids: list[int] | None = None) -> bool | set[int]:
    """Answer to core.signals.reward_offered: an offer-only reward is redeemable by residents of
    an estate a live offer of it matches. With `reward_id`: True or False; with `reward_ids`: the
    set of those offered to the resident (the catalogue asks once for all its offer-only rewards)."""
    user = db.session.get(User, user_id)
    homes = [r.estate_id for r in estates.estates_of(user)] if user is not None else []
    if reward_ids is not None:
        return offered_ids("reward", reward_ids, homes)
    return offered_in("reward", reward_id, homes) is not None


def visible_offer(user, offer_id: int, estate_id: int | None = None) -> tuple[Offer, int | None]:
    """An offer as a resident may open it (a notice's link): live and shown in one of their estates
    (`estate_id`, if given, must be one); staff see any live offer. Anything else is 404."""
    offer = get_offer(offer_id)
    if state_of(offer) == "live":
        if user.has_role("admin", "agent"):
            return offer, estate_id
        homes = [r.estate_id for r in estates.estates_of(user)]
        candidates = homes if estate_id is None else [e for e in homes if e == estate_id]
        where = db.session.scalar(sa.select(OfferEstate.estate_id).where(
            OfferEstate.offer_id == offer.id, OfferEstate.estate_id.in_(candidates))
            .order_by(OfferEstate.estate_id).limit(1)) if candidates else None
        if where is not None:
            return offer, where
    raise NotFound("该优惠不存在或已结束", code="offer_not_found")


# -- mutes ----------------------------------------------------------------------------------------

def mutes(user_id: int) -> list[dict]:
    """Every category with whether the resident muted its notices."""
    muted = set(db.session.scalars(sa.select(OfferMute.category).where(OfferMute.user_id == user_id)))
    return [{"category": c, "name": name, "description": description, "muted": c in muted}
            for c, (name, description) in CATEGORY_LABELS.items()]


def set_mutes(user_id: int, categories) -> list[dict]:
    """Mute exactly these categories (the others are heard again). A repeat changes nothing."""
    if not isinstance(categories, (list, tuple)) or any(c not in CATEGORY_LABELS for c in categories):
        raise invalid("muted", "分类应为 " + "、".join(CATEGORY_LABELS) + " 之一")
    wanted = set(categories)
    db.session.execute(sa.delete(OfferMute).where(OfferMute.user_id == user_id, OfferMute.category.not_in(wanted))
                       .execution_options(synchronize_session=False))
    if wanted:
        now = utcnow()
        db.session.execute(dialect_insert()(OfferMute.__table__).on_conflict_do_nothing(),
                           [{"user_id": user_id, "category": c, "created_at": now} for c in sorted(wanted)])
    return mutes(user_id)


# -- the notice fan-out ---------------------------------------------------------------------------

def in_notice_window(now: datetime) -> bool:
    start, end = NOTICE_WINDOW
    return start <= now.astimezone(BUSINESS_TZ).time() < end


def _next_to_notify(now: datetime) -> Offer | None:
    stmt = (sa.select(Offer).where(Offer.notify_state == "pending", _live(now))
            .order_by(Offer.published_at, Offer.id).limit(1))
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=Offer)
    return db.session.scalars(stmt.execution_options(populate_existing=True)).first()


def _told_before(offer_id: int, cursor: int, user_ids: list[int]) -> set[int]:
    """Of these users, those living in an estate of the offer the fan-out already passed."""
    if not cursor or not user_ids:
        return set()
    passed = sa.select(OfferEstate.estate_id).where(OfferEstate.offer_id == offer_id, OfferEstate.estate_id <= cursor)
    earlier = estates.residents_of(passed).subquery()
    told: set[int] = set()
    for start in range(0, len(user_ids), 1000):
        told.update(db.session.scalars(sa.select(earlier.c.user_id).where(
            earlier.c.user_id.in_(user_ids[start:start + 1000]))))
    return told


def _notice(offer: Offer, estate_name: str) -> tuple[str, str, dict]:
    """The notice's title and text, and the subscribe message's keywords."""
    label = KIND_LABELS[offer.kind]
    until = localtime(offer.ends_at)
    title = f"{estate_name}有新的{label}：{offer.title}"
    body = f"{offer.summary or offer.title}。{until} 前有效，点击查看。"
    data = {"thing1": offer.title, "thing2": f"{label}·{offer.summary}" if offer.summary else label,
            "time3": until, "thing4": f"{estate_name}专享"}
    return title, body, data


def notify_batch(now: datetime | None = None, estates_per_batch: int | None = None) -> dict:
    """One batch of the fan-out (the job `notify-offers` repeats it and commits each): the next
    estates of the earliest published offer still notifying, their residents told (muted ones
    skipped) and the cursor moved, in the caller's transaction. Returns counts."""
    now = now or utcnow()
    counts = {"offer_id": None, "estates": 0, "residents": 0, "subscribe": 0, "inbox": 0, "muted": 0}
    if not in_notice_window(now):
        return {**counts, "outside_window": 1}
    offer = _next_to_notify(now)
    if offer is None:
        return counts
    counts["offer_id"] = offer.id
    batch = list(db.session.scalars(sa.select(OfferEstate.estate_id).where(
        OfferEstate.offer_id == offer.id, OfferEstate.estate_id > offer.notify_cursor)
        .order_by(OfferEstate.estate_id).limit(estates_per_batch or NOTIFY_ESTATES)))
    if not batch:
        offer.notify_state = "done"
        db.session.flush()
        return counts
    residents = db.session.execute(estates.residents_of(batch)).all()
    user_ids = sorted(u for u, _ in residents)
    told = _told_before(offer.id, offer.notify_cursor, user_ids)
    muted: set[int] = set()
    active: set[int] = set()
    for start in range(0, len(user_ids), 1000):
        chunk = user_ids[start:start + 1000]
        muted.update(db.session.scalars(sa.select(OfferMute.user_id).where(
            OfferMute.user_id.in_(chunk), OfferMute.category == CATEGORIES[offer.kind])))
        active.update(db.session.scalars(sa.select(User.id).where(User.id.in_(chunk), User.status == "active")))
    by_estate: dict[int, list[int]] = {}
    for user_id, estate_id in residents:
        if user_id in active and user_id not in told and user_id not in muted:
            by_estate.setdefault(estate_id, []).append(user_id)
    names = {i: e.name for i, e in estates.estates_by_id(batch).items()}
    for estate_id in batch:  # estate by estate, in id order
        users = by_estate.get(estate_id)
        if not users:
            continue
        title, body, data = _notice(offer, names.get(estate_id, ""))
        sent = notifications.notify(users, kind="offer", title=title, body=body, purpose="offer", data=data,
                                    page=NOTICE_PAGE.format(estate_id=estate_id), inbox_when_sent=False)
        counts["residents"] += sent["notified"]
        counts["subscribe"] += sent["wechat"]
        counts["inbox"] += sent["notified"] - sent["wechat"]
    counts["estates"] = len(batch)
    counts["muted"] = len(muted - told)
    offer.notify_cursor = batch[-1]
    offer.notified += counts["residents"]
    db.session.flush()
    return counts


def offer_notices_total(offer_id: int) -> dict:
    """Where an offer's fan-out stands, for the console."""
    offer = get_offer(offer_id)
    remaining = db.session.scalar(sa.select(sa.func.count()).select_from(OfferEstate).where(
        OfferEstate.offer_id == offer.id, OfferEstate.estate_id > offer.notify_cursor))
    return {"state": offer.notify_state, "notified": offer.notified, "estates_left": remaining}
