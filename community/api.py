"""The mini-program API for residents and engineers: estates, binding, stewards, customers."""
from flask import Response

from community import services
from community.schemas import (BindingCodeCreateSchema, BindingCodeSchema, BindingCreateSchema,
                               BindingResultSchema, ClaimSchema, CustomerDetailSchema, CustomerQueryArgsSchema,
                               CustomerSchema, EngineerSchema, EstateQueryArgsSchema, EstateSchema,
                               JoinEstateSchema, ResidencyListSchema, ResidencySchema, StewardListSchema)
from core.accounts.api import token_response
from core.accounts.auth import auth_required, current_api_user, current_principal, rate_key_user
from core.blueprint import Blueprint
from core.extensions import limit_from, limiter
from core.idempotency import idempotent
from core.pagination import page_schema

bp = Blueprint("community", __name__, url_prefix="/api/v1", description="小区、管家绑定与客户")


# -- estates ----------------------------------------------------------------------------------

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


# -- binding ----------------------------------------------------------------------------------

@bp.route("/bindings", methods=["POST"])
@limiter.limit(limit_from("RATELIMIT_BINDING_PER_IP"))
@bp.arguments(BindingCreateSchema)
@bp.response(200, BindingResultSchema)
def create_binding(body):
    """The one call after scanning an engineer's code: log in, bind steward and estate, record the visit

    Repeating it (with a fresh wx.login code) is harmless: nothing is duplicated.
    """
    user, outcome = services.bind_by_scene(body["code"], body["scene"], rating=body["rating"],
                                           comment=body["comment"])
    return {**token_response(user, "wechat"), "result": outcome.result, "steward": outcome.binding,
            "estate": outcome.estate, "visit": outcome.visit, "points": outcome}


@bp.route("/binding-codes/<scene>/image")
def binding_code_image(scene):
    """The mini-program code picture of a binding code (public: the scene is the capability)"""
    image, content_type = services.binding_code_image(scene)
    response = Response(image, mimetype=content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/me/stewards")
@auth_required()
@bp.response(200, StewardListSchema)
def my_stewards():
    """My steward (管家): the engineer who looks after me"""
    return {"items": services.stewards_of(current_principal().id)}


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


@bp.route("/engineer/binding-codes", methods=["POST"])
@limiter.limit(limit_from("RATELIMIT_CODES_PER_USER"), key_func=rate_key_user)
@limiter.limit(limit_from("RATELIMIT_CODES_PER_IP"))
@auth_required("engineer")
@idempotent
@bp.arguments(BindingCodeCreateSchema)
@bp.response(201, BindingCodeSchema)
def create_binding_code(body):
    """A binding code (mini-program code) for a visit in one of my estates"""
    engineer = services.engineer_of(current_principal().id)
    return services.mint_binding_code(engineer, body["estate_id"], body["visit_ref"])


@bp.route("/engineer/customers")
@auth_required("engineer")
@bp.arguments(CustomerQueryArgsSchema, location="query")
@bp.response(200, page_schema(CustomerSchema))
def my_customers(args):
    """My customers, newest first (only mine)"""
    return services.customers_of(services.engineer_of(current_principal().id), **args)


@bp.route("/engineer/customers/<int:user_id>")
@auth_required("engineer")
@bp.response(200, CustomerDetailSchema)
def my_customer(user_id):
    """One of my customers, with my visits to them (anyone else's customer is a 404)"""
    return services.customer_of(services.engineer_of(current_principal().id), user_id)
