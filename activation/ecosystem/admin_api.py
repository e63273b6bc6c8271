"""Admin decisions that change what estates are shown of a partner: its approval or suspension,
its reach, and approving or withdrawing its listings (each audited)."""

from activation.ecosystem import services
from activation.partners.schemas import (
    AdminPartnerSchema,
    ListingNoteSchema,
    ListingReasonSchema,
    ListingSchema,
    PartnerDecisionSchema,
    PartnerReachSchema,
)
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint

bp = Blueprint("activation_ecosystem_admin", __name__, url_prefix="/api/v1/admin", description="管理：生态伙伴的审核与展示")


@bp.route("/partners/<int:partner_id>/decisions", methods=["POST"])
@auth_required("admin")
@bp.arguments(PartnerDecisionSchema)
@bp.response(200, AdminPartnerSchema)
def decide(body, partner_id):
    """Approve or reject a pending partner, suspend an approved one, reinstate a suspended one

    A note is required to reject and to suspend. Suspending withdraws its published listings and
    every offer naming it. 409 `already_decided` when the status no longer allows the action.
    """
    return services.decide_partner(partner_id, body["action"], body["note"], current_api_user())


@bp.route("/partners/<int:partner_id>/reach", methods=["PUT"])
@auth_required("admin")
@bp.arguments(PartnerReachSchema)
@bp.response(200, AdminPartnerSchema)
def set_reach(body, partner_id):
    """Set the estates a partner may reach (a targeting rule); its live offers are matched again"""
    return services.set_reach(partner_id, body["reach_rule"], current_api_user())


@bp.route("/partner-listings/<int:listing_id>/approve", methods=["POST"])
@auth_required("admin")
@bp.arguments(ListingNoteSchema)
@bp.response(200, ListingSchema)
def approve(body, listing_id):
    """Approve a pending listing: it is published in an offer to the estates its rule matches
    within the partner's reach"""
    return services.publish_listing(listing_id, current_api_user(), body["note"])


@bp.route("/partner-listings/<int:listing_id>/withdraw", methods=["POST"])
@auth_required("admin")
@bp.arguments(ListingReasonSchema)
@bp.response(200, ListingSchema)
def withdraw(body, listing_id):
    """Take a pending or published listing down, with a reason the partner reads"""
    return services.withdraw_listing(listing_id, current_api_user(), body["reason"])
