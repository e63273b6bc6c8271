"""The binding call after a scan, the resident's stewards, and the engineer's binding codes. (The
engineer's customer list and detail live in community.book, with their health.)"""
from flask import Response, request

from community.estates import services as estates
from community.stewards import services
from community.stewards.schemas import (
    BindingCodeCreateSchema,
    BindingCodeSchema,
    BindingCreateSchema,
    BindingResultSchema,
    ChangeRequestCreateSchema,
    DropStewardArgsSchema,
    HandoverListSchema,
    HandoverRefuseSchema,
    HandoverSchema,
    StewardListSchema,
)
from core.accounts.api import token_response
from core.auth import auth_required, codes_per_ip, codes_per_user, current_principal
from core.blueprint import Blueprint
from core.extensions import limit_from, limiter
from core.idempotency import idempotent

bp = Blueprint("community_stewards", __name__, url_prefix="/api/v1", description="管家绑定与客户")


@bp.route("/bindings", methods=["POST"])
@limiter.limit(limit_from("RATELIMIT_BINDING_PER_IP"))
@bp.arguments(BindingCreateSchema)
@bp.response(200, BindingResultSchema)
def create_binding(body):
    """The one call after scanning an engineer's code: log in, bind steward and estate, record the visit

    Repeating it (with a fresh wx.login code) is harmless: nothing is duplicated.
    """
    location = (body["latitude"], body["longitude"]) if body["latitude"] is not None else None
    user, outcome = services.bind_by_scene(body["code"], body["scene"], rating=body["rating"],
                                           comment=body["comment"], location=location)
    steward = {"id": outcome.binding.id, "started_at": outcome.binding.started_at, "engineer": outcome.binding.engineer,
               "estate": outcome.binding.estate, "rank": outcome.rank} if outcome.binding else None
    return {**token_response(user, "wechat"), "result": outcome.result, "steward": steward,
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


@bp.route("/me/stewards/<int:binding_id>", methods=["DELETE"])
@auth_required()
@bp.arguments(DropStewardArgsSchema, location="query")
@bp.response(204)
def drop_steward(args, binding_id):
    """Drop my steward, saying why (`reason` in the query or the JSON body); no steward until my next scan"""
    body = request.get_json(silent=True)
    reason = args["reason"] or (body.get("reason") if isinstance(body, dict) and isinstance(body.get("reason"), str) else None)
    services.drop_steward(current_principal(), binding_id, reason)


@bp.route("/me/stewards/change-requests", methods=["POST"])
@auth_required()
@bp.arguments(ChangeRequestCreateSchema)
@bp.response(201, HandoverSchema)
def request_steward_change(body):
    """Ask for another engineer of my estate as my steward; staff decide (repeating it answers the open request)"""
    handover, _created = services.request_change(current_principal(), body["engineer_id"], body["reason"],
                                                 body["estate_id"])
    return handover


@bp.route("/me/handovers")
@auth_required()
@bp.response(200, HandoverListSchema)
def my_handovers():
    """My changes of steward (offered to me, or asked for by me), newest first"""
    return {"items": services.my_handovers(current_principal().id)}


@bp.route("/me/handovers/<int:handover_id>/refuse", methods=["POST"])
@auth_required()
@bp.arguments(HandoverRefuseSchema)
@bp.response(200, HandoverSchema)
def refuse_handover(body, handover_id):
    """Refuse a change of steward within 24 hours (my own change request: withdraw it); repeating it is harmless"""
    return services.refuse_handover(current_principal(), handover_id, body["reason"])


@bp.route("/me/handovers/<int:handover_id>/accept", methods=["POST"])
@auth_required()
@bp.response(200, HandoverSchema)
def accept_handover(handover_id):
    """Accept a change of steward now instead of waiting 24 hours; repeating it is harmless"""
    return services.accept_handover(current_principal(), handover_id)


@bp.route("/engineer/binding-codes", methods=["POST"])
@codes_per_user
@codes_per_ip
@auth_required("engineer")
@idempotent
@bp.arguments(BindingCodeCreateSchema)
@bp.response(201, BindingCodeSchema)
def create_binding_code(body):
    """A binding code (mini-program code) for a visit in one of my estates"""
    engineer = estates.engineer_of(current_principal().id)
    return services.mint_binding_code(engineer, body["estate_id"], body["visit_ref"])

