"""Estates and residency for residents; claiming the engineer profile from the mini-program."""
from community.estates import services
from community.estates.schemas import (
    ClaimSchema,
    EngineerSchema,
    EstateQueryArgsSchema,
    EstateSchema,
    JoinEstateSchema,
    ResidencyListSchema,
    ResidencySchema,
)
from core.accounts.auth import auth_required, current_api_user, current_principal, rate_key_user
from core.blueprint import Blueprint
from core.extensions import limit_from, limiter
from core.pagination import page_schema

bp = Blueprint("community_estates", __name__, url_prefix="/api/v1", description="小区与住户、工程师激活")


@bp.route("/estates")
@auth_required()
@bp.arguments(EstateQueryArgsSchema, location="query")
@bp.response(200, page_schema(EstateSchema))
def list_estates(args):
    """Find an estate by name or region (active estates only)"""
    return services.search_estates(status="active", **args)


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
