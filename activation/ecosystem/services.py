"""A partner across the feature (docs/activation.md, "Partners"): the rules that need the areas
above activation.partners — offers, coupons, activities — which the partners area, the lowest,
cannot reach.

- Approving a listing publishes it and puts it in an offer (kind `partner_service` or
  `announcement`) with the listing's audience rule and window; activation.offers intersects the
  rule with the partner's reach (the offer names the partner). Withdrawing a listing withdraws its
  offers; suspending a partner withdraws its published listings and every live offer naming it;
  a new reach refreshes the matches of its live offers.
- A resident sees a listing (and may sign up for it) only while it is published, its partner is
  approved, and a live offer of it matches one of the estates the resident lives in; admins,
  agents and the partner's own staff see it too. Anything else is 404.
- A partner's audience is the residents who signed up for its services, hold coupons of its
  templates, or signed up for its activities: each list is filtered by the acting partner, so a
  partner never reaches another's people. Coupon holders are shown masked (they gave the partner
  nothing); sign-ups show the contact the resident gave for that service or activity.
- The dashboard: reach (live offers, the distinct estates they match and their households), its
  listings, sign-ups, activities, coupons issued and used, and the orders the order integration
  attributed to it (`partner_code`).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from activation.activities.models import Activity, ActivitySignup
from activation.coupons.models import Coupon, CouponTemplate
from activation.offers import services as offers
from activation.offers.models import Offer, OfferEstate
from activation.partners import services as partners
from activation.partners.models import Partner, PartnerLead, PartnerListing
from ambassador.orders import services as orders
from community.estates import services as estates
from core.accounts import services as accounts
from core.db import utcnow
from core.errors import NotFound
from core.extensions import db
from core.formatting import mask_name
from core.pagination import Page, paginate

# A listing's kind → the offer kind that shows it.
OFFER_KINDS = {"service": "partner_service", "announcement": "announcement"}
RECENT_ORDERS = 10


def _live(now: datetime):
    return sa.and_(Offer.status == "published", Offer.starts_at <= now, Offer.ends_at > now)


def _listing_offers(listing: PartnerListing) -> list[Offer]:
    return list(db.session.scalars(sa.select(Offer).where(
        Offer.kind == OFFER_KINDS[listing.kind], Offer.ref_id == listing.id, Offer.status != "withdrawn")))


def listing_offer(listing_id: int) -> Offer | None:
    """The latest offer that shows a listing (any status), for the moderation and partner pages."""
    listing = partners.get_listing(listing_id)
    return db.session.scalars(sa.select(Offer).where(Offer.kind == OFFER_KINDS[listing.kind],
                                                     Offer.ref_id == listing.id).order_by(Offer.id.desc())).first()


def offers_of_listings(listings) -> dict[int, Offer]:
    """The latest offer of each of these listings (one query), for the listing tables."""
    wanted = {(OFFER_KINDS[x.kind], x.id) for x in listings}
    if not wanted:
        return {}
    rows = db.session.scalars(sa.select(Offer).where(
        Offer.kind.in_({k for k, _ in wanted}), Offer.ref_id.in_({i for _, i in wanted})).order_by(Offer.id))
    return {o.ref_id: o for o in rows if (o.kind, o.ref_id) in wanted}


# -- what changes what estates are shown ------------------------------------------------------

def publish_listing(listing_id: int, actor, note: str | None = None) -> PartnerListing:
    """Moderation approves a pending listing and it goes in front of the estates its audience rule
    matches within its partner's reach, for its window."""
    listing = partners.approve_listing(listing_id, actor, note)
    starts_at, ends_at = partners.offer_window(listing)
    # The offer's title and summary default to the listing's (its title; the partner and the price).
    offers.publish_offer(kind=OFFER_KINDS[listing.kind], ref_id=listing.id, rule=listing.audience_rule,
                         starts_at=starts_at, ends_at=ends_at, partner_id=listing.partner_id, actor=actor)
    return listing


def withdraw_listing(listing_id: int, actor, reason: str | None = None) -> PartnerListing:
    """Its partner's staff or an admin take a listing down; its offers go with it."""
    listing = partners.withdraw_listing(listing_id, actor, reason)
    for offer in _listing_offers(listing):
        offers.withdraw_offer(offer.id, actor)
    return listing


def decide_partner(partner_id: int, action: str, note: str | None, actor) -> Partner:
    """Approve, reject, suspend or reinstate a partner. Suspending takes down its published
    listings and withdraws every offer naming it; after reinstatement it submits them again."""
    partner = partners.decide_partner(partner_id, action, note, actor)
    if action == "suspend":
        published = db.session.scalars(sa.select(PartnerListing.id).where(
            PartnerListing.partner_id == partner.id, PartnerListing.status == "published")).all()
        for listing_id in published:
            withdraw_listing(listing_id, actor, f"合作已暂停：{partner.decision_note}"[:partners.NOTE_MAX])
        for offer_id in db.session.scalars(sa.select(Offer.id).where(Offer.partner_id == partner.id,
                                                                     Offer.status != "withdrawn")).all():
            offers.withdraw_offer(offer_id, actor)
    return partner


def set_reach(partner_id: int, rule: dict, actor) -> Partner:
    """An admin sets where a partner may reach; its live offers are matched again at once."""
    partner = partners.set_reach_rule(partner_id, rule, actor)
    for offer_id in db.session.scalars(sa.select(Offer.id).where(Offer.partner_id == partner.id,
                                                                 Offer.status == "published")).all():
        offers.refresh_matches(offer_id)
    return partner


# -- what a resident sees ---------------------------------------------------------------------

def visible_listing(user, listing_id: int) -> tuple[PartnerListing, int | None]:
    """A listing as `user` may see it, and the estate it is offered to them in: published, its
    partner approved, and offered in an estate they live in (admins, agents and the partner's own
    staff see it without an estate). Otherwise 404, as if it did not exist."""
    listing = partners.get_listing(listing_id)
    partner = partners.get_partner(listing.partner_id)
    if listing.status == "published" and partner.status == "approved":
        if user.has_role("admin", "agent") or partners.own_partner_id(user) == partner.id:
            return listing, None
        estate_id = offers.offered_in(OFFER_KINDS[listing.kind], listing.id,
                                      [r.estate_id for r in estates.estates_of(user)])
        if estate_id is not None:
            return listing, estate_id
    raise NotFound("该内容不存在或已下架", code="listing_not_found")


def listing_for_resident(user, listing_id: int) -> dict:
    """`GET /partner-listings/{id}`: the listing, and my sign-up for it (or null)."""
    listing, estate_id = visible_listing(user, listing_id)
    lead = db.session.scalar(sa.select(PartnerLead).where(PartnerLead.listing_id == listing.id,
                                                          PartnerLead.user_id == user.id))
    return {**partners.listing_view(listing), "estate_id": estate_id,
            "my_lead": {"id": lead.id, "status": lead.status, "created_at": lead.created_at} if lead else None}


def sign_up(user, listing_id: int, data: dict) -> PartnerLead:
    """A resident signs up for a service offered in their estate (once per listing)."""
    listing, estate_id = visible_listing(user, listing_id)
    return partners.create_lead(listing, user, data, estate_id=estate_id)


# -- the partner's audience and dashboard -----------------------------------------------------

def coupon_holders(partner_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """Residents holding coupons of the partner's templates, newest first (masked names)."""
    stmt = (sa.select(Coupon, CouponTemplate.name).join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
            .where(CouponTemplate.partner_id == partner_id))
    page = paginate(stmt, [Coupon.id], limit=limit, cursor=cursor, scalars=False, key_of=lambda row: [row[0].id])
    users = accounts.users_by_id(c.user_id for c, _ in page.items)
    names = {i: e.name for i, e in estates.estates_by_id(c.estate_id for c, _ in page.items).items()}
    page.items = [{"id": c.id, "template_id": c.template_id, "template_name": name, "status": c.status,
                   "holder": mask_name(getattr(users.get(c.user_id), "display_name", None)),
                   "estate_name": names.get(c.estate_id), "issued_at": c.issued_at, "used_at": c.used_at}
                  for c, name in page.items]
    return page


def activity_signups(partner_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """Residents who signed up for the partner's activities, newest first, with the contact they gave."""
    stmt = (sa.select(ActivitySignup, Activity.title).join(Activity, Activity.id == ActivitySignup.activity_id)
            .where(Activity.partner_id == partner_id))
    page = paginate(stmt, [ActivitySignup.id], limit=limit, cursor=cursor, scalars=False,
                    key_of=lambda row: [row[0].id])
    names = {i: e.name for i, e in estates.estates_by_id(s.estate_id for s, _ in page.items).items()}
    page.items = [{"id": s.id, "activity_id": s.activity_id, "activity_title": title, "status": s.status,
                   "contact_name": s.contact_name, "contact_phone": s.contact_phone,
                   "estate_name": names.get(s.estate_id), "checked_in_at": s.checked_in_at,
                   "created_at": s.created_at} for s, title in page.items]
    return page


def partner_orders(partner: Partner, *, limit: int = 20, cursor: str | None = None) -> Page:
    """Orders the order integration attributed to the partner, newest first (no resident data)."""
    return orders.list_orders(partner_code=partner.code, limit=limit, cursor=cursor)


def dashboard(partner: Partner) -> dict:
    """The partner's figures, each one statement."""
    now = utcnow()
    live = sa.select(Offer.id).where(Offer.partner_id == partner.id, _live(now))
    reach_estates, reach_households = estates.reach_of(
        sa.select(OfferEstate.estate_id).where(OfferEstate.offer_id.in_(live)))
    activity = db.session.execute(sa.select(
        sa.func.count(sa.distinct(Activity.id)),
        sa.func.count(ActivitySignup.id).filter(ActivitySignup.status == "confirmed"),
        sa.func.count(ActivitySignup.id).filter(ActivitySignup.status == "waitlisted"),
        sa.func.count(ActivitySignup.checked_in_at)).select_from(Activity).outerjoin(
        ActivitySignup, ActivitySignup.activity_id == Activity.id).where(Activity.partner_id == partner.id)).one()
    coupons = db.session.execute(sa.select(
        sa.func.count(Coupon.id),
        sa.func.count(Coupon.id).filter(Coupon.status == "used")).select_from(Coupon).join(
        CouponTemplate, CouponTemplate.id == Coupon.template_id).where(CouponTemplate.partner_id == partner.id)).one()
    templates = db.session.scalar(sa.select(sa.func.count()).where(CouponTemplate.partner_id == partner.id))
    return {
        "partner": partner,
        "reach": {"live_offers": db.session.scalar(sa.select(sa.func.count()).select_from(live.subquery())),
                  "estates": reach_estates, "households": reach_households},
        "listings": partners.listing_counts(partner.id),
        "leads": partners.lead_counts(partner.id),
        "activities": {"count": activity[0], "confirmed": activity[1], "waitlisted": activity[2],
                       "checked_in": activity[3]},
        "coupons": {"templates": templates, "issued": coupons[0], "used": coupons[1]},
        "orders": orders.partner_order_stats(partner.code),
    }
