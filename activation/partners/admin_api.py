"""Admin JSON API for partners: the organisations (entered by an admin or applied for), their
staff accounts, and the listings' moderation queue and rejection.

Decisions that change what estates are shown (approving or suspending a partner, its reach,
approving or withdrawing a listing) are activation.ecosystem's admin API. Admins write; agents
(客服) may read.
"""

from activation.partners import services
from activation.partners.schemas import (
    AdminListingQueryArgsSchema,
    AdminPartnerSchema,
    ListingReasonSchema,
    ListingSchema,
    PartnerQueryArgsSchema,
    PartnerStaffCreateSchema,
    PartnerStaffSchema,
    PartnerUpdateSchema,
    PartnerWriteSchema,
    StaffPasswordSchema,
)
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import list_schema, page_schema

bp = Blueprint("activation_partners_admin", __name__, url_prefix="/api/v1/admin", description="管理：生态伙伴与发布审核")

READERS = ("admin", "agent")


@bp.route("/partners")
@auth_required(*READERS)
@bp.arguments(PartnerQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminPartnerSchema))
def list_partners(args):
    """Partners, newest first"""
    return services.list_partners(**args)


@bp.route("/partners", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(PartnerWriteSchema)
@bp.response(201, AdminPartnerSchema)
def create_partner(body):
    """Enter a partner: pending until an admin approves it (POST /admin/partners/{id}/decisions)"""
    return services.create_partner(body, current_api_user())


@bp.route("/partners/<int:partner_id>")
@auth_required(*READERS)
@bp.response(200, AdminPartnerSchema)
def get_partner(partner_id):
    """One partner"""
    return services.get_partner(partner_id)


@bp.route("/partners/<int:partner_id>", methods=["PATCH"])
@auth_required("admin")
@bp.arguments(PartnerUpdateSchema)
@bp.response(200, AdminPartnerSchema)
def update_partner(body, partner_id):
    """Edit a partner's profile (only the fields sent); the code only while pending"""
    return services.update_partner(partner_id, body, current_api_user())


@bp.route("/partners/<int:partner_id>/staff")
@auth_required(*READERS)
@bp.response(200, list_schema(PartnerStaffSchema))
def staff(partner_id):
    """A partner's staff accounts"""
    return {"items": services.list_staff(services.get_partner(partner_id).id)}


@bp.route("/partners/<int:partner_id>/staff", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(PartnerStaffCreateSchema)
@bp.response(201, list_schema(PartnerStaffSchema))
def add_staff(body, partner_id):
    """Add a staff account (role partner) that logs in at /login; `owner` may manage the staff"""
    services.add_staff(partner_id, body, current_api_user())
    return {"items": services.list_staff(partner_id)}


@bp.route("/partners/<int:partner_id>/staff/<int:user_id>", methods=["DELETE"])
@auth_required("admin")
@bp.response(204)
def remove_staff(partner_id, user_id):
    """Remove a staff account: disabled at once, its tokens revoked"""
    services.remove_staff(partner_id, user_id, current_api_user())


@bp.route("/partners/<int:partner_id>/staff/<int:user_id>/password", methods=["POST"])
@auth_required("admin")
@bp.arguments(StaffPasswordSchema)
@bp.response(204)
def staff_password(body, partner_id, user_id):
    """Set a staff member's password"""
    services.reset_staff_password(partner_id, user_id, body["password"], current_api_user())


@bp.route("/partner-listings")
@auth_required(*READERS)
@bp.arguments(AdminListingQueryArgsSchema, location="query")
@bp.response(200, page_schema(ListingSchema))
def listings(args):
    """Partners' listings; the moderation queue is status=pending (oldest first)"""
    return services.list_listings(**args, oldest_first=args.get("status") == "pending")


@bp.route("/partner-listings/<int:listing_id>")
@auth_required(*READERS)
@bp.response(200, ListingSchema)
def get_listing(listing_id):
    """One listing"""
    return services.get_listing(listing_id)


@bp.route("/partner-listings/<int:listing_id>/reject", methods=["POST"])
@auth_required("admin")
@bp.arguments(ListingReasonSchema)
@bp.response(200, ListingSchema)
def reject_listing(body, listing_id):
    """Reject a pending listing, with a reason the partner reads"""
    return services.reject_listing(listing_id, current_api_user(), body["reason"])
