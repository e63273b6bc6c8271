"""Estate activation (千区千面): ecosystem partners, coupons, community activities and per-estate
offers that put them in front of the estates they fit.

Areas, lowest first: a lower area never imports a higher one (docs/architecture.md). The feature
stands on all the others (it targets estates by the community's profiles, checks an ambassador's
`lead_activities`, pays points), so it sits above the ambassador feature.
"""
from flask import Flask

from activation.coupons import services as coupons
from activation.offers import services as offers
from activation.partners import services as partners
from core import signals

AREAS = ("partners", "coupons", "activities", "offers", "ecosystem")


def init_app(app: Flask) -> None:
    """Connect the activation feature's receivers of cross-feature signals (called once by create_app)."""
    signals.partner_known.connect(partners.partner_known)
    signals.review_written.connect(coupons.review_written)  # the review coupon
    signals.steward_bound.connect(coupons.steward_bound)  # the first-binding coupon
    signals.coupon_for_order.connect(coupons.hold_for_order)  # a service request holds a coupon
    signals.service_completed.connect(coupons.service_completed)  # ... which its completion uses
    signals.service_cancelled.connect(coupons.service_cancelled)  # ... and its cancellation releases
    signals.coupon_offered.connect(_coupon_offered)
    signals.reward_offered.connect(offers.reward_offered)  # an offer-only reward, where an offer shows it
    signals.estate_profiles_changed.connect(offers.profiles_changed)  # live offers matched again


def _coupon_offered(sender, *, template_id: int, estate_ids: list[int]) -> int | None:
    """Coupons (below offers) ask where a template may be claimed: one of these estates a live offer
    of it matches (the lowest id), or None."""
    return offers.offered_in("coupon", template_id, estate_ids)
