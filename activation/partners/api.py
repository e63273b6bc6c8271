"""Partners' API: applying to become one (mini-program), a partner's own console (its profile,
staff, listings and the residents who signed up), and a resident's own sign-ups.

`/partner/...` is for staff accounts with the role `partner` (password login); each call acts on
the caller's own partner only, and another partner's ids are 404.
"""

from activation.partners import services
from activation.partners.schemas import (
    LeadQueryArgsSchema,
    LeadSchema,
    LeadStatusSchema,
    ListingQueryArgsSchema,
    ListingSchema,
    ListingWriteSchema,
    MyLeadSchema,
    PartnerApplicationCreateSchema,
    PartnerApplicationSchema,
    PartnerMeSchema,
    PartnerStaffCreateSchema,
    PartnerStaffSchema,
    StaffPasswordSchema,
)
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import PageArgsSchema, list_schema, page_schema

bp = Blueprint("activation_partners", __name__, url_prefix="/api/v1", description="生态伙伴：申请、伙伴工作台与报名")


# -- applying ---------------------------------------------------------------------------------

@bp.route("/partners/applications", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(PartnerApplicationCreateSchema)
@bp.response(201, PartnerApplicationSchema)
def apply(body):
    """Apply to become an ecosystem partner (成为合作伙伴)

    One pending application per applicant (409 `application_pending`); names are unique (409
    `partner_name_taken`). An admin approves or rejects it; staff accounts are then added by the
    platform.
    """
    return services.submit_application(current_api_user(), body)


@bp.route("/partners/applications/mine")
@auth_required()
@bp.response(200, list_schema(PartnerApplicationSchema))
def my_applications():
    """My partner applications, newest first (at most 20)"""
    return {"items": services.my_applications(current_principal().id)}


# -- a resident's own sign-ups ----------------------------------------------------------------

@bp.route("/me/partner-leads")
@auth_required()
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(MyLeadSchema))
def my_leads(args):
    """The services I signed up for in the platform, newest first"""
    return services.my_leads(current_principal().id, **args)


# -- the partner's console --------------------------------------------------------------------

@bp.route("/partner/me")
@auth_required("partner")
@bp.response(200, PartnerMeSchema)
def partner_me():
    """The partner I work for, and whether I am one of its owners"""
    partner = services.acting_partner(current_principal())
    return {"partner": partner, "owner": services.is_owner(current_principal(), partner.id)}


@bp.route("/partner/staff")
@auth_required("partner")
@bp.response(200, list_schema(PartnerStaffSchema))
def staff():
    """My partner's staff accounts"""
    return {"items": services.list_staff(services.acting_partner(current_principal()).id)}


@bp.route("/partner/staff", methods=["POST"])
@auth_required("partner")
@idempotent
@bp.arguments(PartnerStaffCreateSchema)
@bp.response(201, list_schema(PartnerStaffSchema))
def add_staff(body):
    """Add a staff account (owners only): it logs in at /login with this username and password"""
    partner = services.acting_partner(current_principal())
    services.add_staff(partner.id, body, current_api_user())
    return {"items": services.list_staff(partner.id)}


@bp.route("/partner/staff/<int:user_id>", methods=["DELETE"])
@auth_required("partner")
@bp.response(204)
def remove_staff(user_id):
    """Remove a staff account (owners only): the account is disabled at once"""
    services.remove_staff(services.acting_partner(current_principal()).id, user_id, current_api_user())


@bp.route("/partner/staff/<int:user_id>/password", methods=["POST"])
@auth_required("partner")
@bp.arguments(StaffPasswordSchema)
@bp.response(204)
def staff_password(body, user_id):
    """Set a staff member's password (owners only); their sessions and tokens end"""
    services.reset_staff_password(services.acting_partner(current_principal()).id, user_id, body["password"],
                                  current_api_user())


@bp.route("/partner/listings")
@auth_required("partner")
@bp.arguments(ListingQueryArgsSchema, location="query")
@bp.response(200, page_schema(ListingSchema))
def listings(args):
    """My partner's announcements and services, newest first"""
    return services.own_listings(current_principal(), **args)


@bp.route("/partner/listings", methods=["POST"])
@auth_required("partner")
@idempotent
@bp.arguments(ListingWriteSchema)
@bp.response(201, ListingSchema)
def create_listing(body):
    """Submit an announcement or a service for moderation (approved partners only)

    It is shown in the estates `audience_rule` matches within the partner's reach, from
    `show_from` to `show_until`, once an admin approves it.
    """
    return services.create_listing(current_api_user(), body)


@bp.route("/partner/listings/<int:listing_id>")
@auth_required("partner")
@bp.response(200, ListingSchema)
def get_listing(listing_id):
    """One of my partner's listings"""
    return services.listing_for(current_principal(), listing_id)


@bp.route("/partner/listings/<int:listing_id>", methods=["PUT"])
@auth_required("partner")
@bp.arguments(ListingWriteSchema)
@bp.response(200, ListingSchema)
def update_listing(body, listing_id):
    """Edit a pending, rejected or withdrawn listing (it goes back to moderation); a published one is
    withdrawn first (409 `listing_published`)"""
    return services.update_listing(current_api_user(), listing_id, body)


@bp.route("/partner/leads")
@auth_required("partner")
@bp.arguments(LeadQueryArgsSchema, location="query")
@bp.response(200, page_schema(LeadSchema))
def leads(args):
    """Residents who signed up for my partner's services, newest first"""
    return services.own_leads(current_principal(), **args)


@bp.route("/partner/leads/<int:lead_id>")
@auth_required("partner")
@bp.response(200, LeadSchema)
def get_lead(lead_id):
    """One sign-up"""
    services.acting_partner(current_principal())
    return services.lead_for(current_principal(), lead_id)


@bp.route("/partner/leads/<int:lead_id>", methods=["PATCH"])
@auth_required("partner")
@bp.arguments(LeadStatusSchema)
@bp.response(200, LeadSchema)
def set_lead_status(body, lead_id):
    """Mark a sign-up contacted or closed"""
    return services.set_lead_status(current_principal(), lead_id, body["status"])
