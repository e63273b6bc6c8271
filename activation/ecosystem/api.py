"""A partner's listing as residents see it and sign up for it; the partner's withdrawal, audience,
orders and dashboard (`/partner/...`: staff with the role `partner`, their own partner only)."""

from activation.ecosystem import services
from activation.ecosystem.schemas import (
    ActivitySignupBriefSchema,
    CouponHolderSchema,
    DashboardSchema,
    LeadCreateSchema,
    PartnerOrderSchema,
    ResidentListingSchema,
    SignupSchema,
)
from activation.partners import services as partners
from activation.partners.schemas import ListingSchema
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import PageArgsSchema, page_schema

bp = Blueprint("activation_ecosystem", __name__, url_prefix="/api/v1", description="生态伙伴：小区里的服务与伙伴数据")


@bp.route("/partner-listings/<int:listing_id>")
@auth_required()
@bp.response(200, ResidentListingSchema)
def get_listing(listing_id):
    """A partner's announcement or service offered in one of my estates (404 otherwise)"""
    return services.listing_for_resident(current_api_user(), listing_id)


@bp.route("/partner-listings/<int:listing_id>/leads", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(LeadCreateSchema)
@bp.response(201, SignupSchema)
def sign_up(body, listing_id):
    """Sign up for a service in the platform (signup_mode platform)

    Once per listing and person (409 `already_signed_up`); the contact phone defaults to my
    WeChat-confirmed phone (422 on `contact_phone` when I have none and give none).
    """
    return services.sign_up(current_api_user(), listing_id, body)


@bp.route("/partner/listings/<int:listing_id>/withdraw", methods=["POST"])
@auth_required("partner")
@bp.response(200, ListingSchema)
def withdraw(listing_id):
    """Withdraw one of my partner's pending or published listings (it leaves the estates at once)"""
    return services.withdraw_listing(listing_id, current_api_user())


@bp.route("/partner/dashboard")
@auth_required("partner")
@bp.response(200, DashboardSchema)
def dashboard():
    """My partner's reach, listings, sign-ups, activities, coupons and attributed orders"""
    return services.dashboard(partners.acting_partner(current_principal()))


@bp.route("/partner/coupon-holders")
@auth_required("partner")
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(CouponHolderSchema))
def coupon_holders(args):
    """Residents holding coupons of my partner's templates, newest first (names masked)"""
    return services.coupon_holders(partners.acting_partner(current_principal()).id, **args)


@bp.route("/partner/activity-signups")
@auth_required("partner")
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(ActivitySignupBriefSchema))
def activity_signups(args):
    """Residents who signed up for my partner's activities, newest first"""
    return services.activity_signups(partners.acting_partner(current_principal()).id, **args)


@bp.route("/partner/orders")
@auth_required("partner")
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(PartnerOrderSchema))
def orders(args):
    """Orders the order system attributed to my partner (partner_code), newest first"""
    return services.partner_orders(partners.acting_partner(current_principal()), **args)
