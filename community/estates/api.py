"""Estates, residency and the address book for residents; claiming and editing the engineer
profile from the mini-program."""
from community.estates import services
from community.estates.schemas import (
    AddressListSchema,
    AddressPatchSchema,
    AddressSchema,
    AddressWriteSchema,
    ClaimSchema,
    EngineerProfileWriteSchema,
    EngineerSchema,
    EstateFinderArgsSchema,
    EstateFoundSchema,
    EstateSchema,
    JoinEstateSchema,
    ResidencyListSchema,
    ResidencySchema,
)
from core.auth import auth_required, current_api_user, current_principal, rate_key_user
from core.blueprint import Blueprint
from core.extensions import limit_from, limiter
from core.idempotency import idempotent
from core.pagination import page_schema

bp = Blueprint("community_estates", __name__, url_prefix="/api/v1", description="小区与住户、地址簿、工程师激活与资料")


@bp.route("/estates")
@auth_required()
@bp.arguments(EstateFinderArgsSchema, location="query")
@bp.response(200, page_schema(EstateFoundSchema))
def list_estates(args):
    """Find an estate by name or region, or near me (active estates only)

    Without `lat` and `lng`: name contains `q` (or exact code), region filters, newest first.
    With them (GCJ-02, as wx.getLocation type gcj02 gives them): the estates within `radius_m`
    (default 5000, at most 20000) of the point, nearest first, each with `distance_m`; `q` and the
    region filters narrow them too. One coordinate without the other, or one out of range, is a
    422 (位置坐标无效，请重新定位).
    """
    return services.find_estates(**args)


@bp.route("/estates/<int:estate_id>")
@auth_required()
@bp.response(200, EstateSchema)
def get_estate(estate_id):
    """One estate"""
    return services.get_estate(estate_id)


@bp.route("/me/estates")
@auth_required()
@bp.response(200, ResidencyListSchema)
def my_estates():
    """The estates I live in"""
    return {"items": services.estates_of(current_api_user())}


@bp.route("/me/estates", methods=["POST"])
@auth_required()
@bp.arguments(JoinEstateSchema)
@bp.response(201, ResidencySchema)
@bp.alt_response(200, schema=ResidencySchema, description="already a resident")
def join_estate(body):
    """Join an estate (201 when new, 200 when already a resident)"""
    residency, created = services.join_estate(current_api_user(), body["estate_id"])
    return residency, 201 if created else 200


@bp.route("/me/estates/<int:estate_id>", methods=["DELETE"])
@auth_required()
@bp.response(204)
def leave_estate(estate_id):
    """Leave an estate"""
    services.leave_estate(current_api_user(), estate_id)


# -- the address book -------------------------------------------------------------------------

@bp.route("/me/addresses")
@auth_required()
@bp.response(200, AddressListSchema)
def my_addresses():
    """My service addresses, the default first, then the newest first"""
    return {"items": services.addresses_of(current_principal().id)}


@bp.route("/me/addresses", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(AddressWriteSchema)
@bp.response(201, AddressSchema)
def add_address(body):
    """Add a service address in an active estate (I become its resident)

    My first address is my default; `is_default: true` makes this one the default instead of
    the old one. At most 20 addresses (409 address_limit).
    """
    return services.create_address(current_api_user(), body)


@bp.route("/me/addresses/<int:address_id>", methods=["PUT"])
@auth_required()
@bp.arguments(AddressPatchSchema)
@bp.response(200, AddressSchema)
def change_address(body, address_id):
    """Change one of my addresses (only the fields sent change)

    `is_default: true` makes it my default; the default cannot be unset, only replaced
    (409 default_address_required). Someone else's address is a 404.
    """
    return services.update_address(current_api_user(), address_id, body)


@bp.route("/me/addresses/<int:address_id>", methods=["DELETE"])
@auth_required()
@bp.response(204)
def delete_address(address_id):
    """Delete one of my addresses (when it was the default, my newest remaining one becomes it)"""
    services.delete_address(current_api_user(), address_id)


# -- engineers --------------------------------------------------------------------------------

@bp.route("/engineer/claim", methods=["POST"])
@limiter.limit(limit_from("RATELIMIT_LOGIN_PER_IP"))
@limiter.limit(limit_from("RATELIMIT_LOGIN_PER_ACCOUNT"), key_func=rate_key_user)
@auth_required()
@bp.arguments(ClaimSchema)
@bp.response(200, EngineerSchema)
def claim(body):
    """An engineer claims their account with the invite code from their admin"""
    return services.claim_engineer(current_api_user(), body["invite_code"])


@bp.route("/engineer/me")
@auth_required("engineer")
@bp.response(200, EngineerSchema)
def engineer_me():
    """My engineer profile and the estates I cover"""
    return services.engineer_of(current_principal().id)


@bp.route("/engineer/me", methods=["PUT"])
@auth_required("engineer")
@bp.arguments(EngineerProfileWriteSchema)
@bp.response(200, EngineerSchema)
def update_engineer_me(body):
    """Set my introduction and photo as an engineer (only the fields sent change)

    `intro`: up to 500 characters, checked by WeChat's text security as a profile: refused when
    risky (409 content_risky), kept otherwise. `photo`: the name of an image I uploaded; null
    removes it.
    """
    return services.update_engineer_profile(current_api_user(), body)
