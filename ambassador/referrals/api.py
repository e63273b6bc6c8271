"""Invite codes and their mini-program code, attribution of a new user, my referrals."""
from flask import Response, url_for

from ambassador.access import require_ambassador
from ambassador.referrals import services
from ambassador.referrals.schemas import AmbassadorInviteSchema, AttributionCreateSchema, AttributionSchema, InviteePageSchema
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import PageArgsSchema

bp = Blueprint("ambassador_referrals", __name__, url_prefix="/api/v1", description="服务代言人：邀请与推荐奖励")


def _image_response(image: bytes, content_type: str) -> Response:
    response = Response(image, mimetype=content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# -- the ambassador's invite ------------------------------------------------------------------

@bp.route("/ambassador/invite")
@auth_required()
@bp.response(200, AmbassadorInviteSchema)
def my_invite():
    """My invite code and its mini-program code (ambassadors whose level may recruit)

    The picture is fetched from WeChat once and kept; a WeChat failure is a 502 and the next call
    tries again.
    """
    invite = services.invite_of(current_principal().id)
    return {"invite_code": invite.invite_code, "scene": invite.scene, "page": invite.page,
            "image_url": url_for("ambassador_referrals.invite_image_by_code", code=invite.invite_code)}


@bp.route("/ambassador/invite/image")
@auth_required()
def my_invite_image():
    """The picture of my invite's mini-program code"""
    invite = services.invite_of(current_principal().id)
    return _image_response(invite.image, invite.image_type)


@bp.route("/invites/<code>/image")
def invite_image_by_code(code):
    """The picture of an invite code (public: the code is meant to be shared)"""
    return _image_response(*services.invite_image_by_code(code))


# -- attribution ------------------------------------------------------------------------------

@bp.route("/referrals", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(AttributionCreateSchema)
@bp.response(200, AttributionSchema)
def attribute(body):
    """Attribute me to the inviter whose code I arrived through (first touch; repeating is harmless)

    `result`: created, unchanged (already theirs), kept (another inviter's attribution stands),
    switched (the earlier inviter's protection had lapsed without a reward).
    """
    outcome = services.attribute(current_api_user(), body["invite_code"])
    return {"result": outcome.result, "referral": services.attribution_view(outcome.referral)}


@bp.route("/ambassador/referrals")
@auth_required()
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, InviteePageSchema)
def my_referrals(args):
    """The users I invited, newest first, with their status and the points they brought; and totals"""
    user_id = current_principal().id
    require_ambassador(user_id)
    page = services.invitees_of(user_id, **args)
    return {"items": page.items, "next_cursor": page.next_cursor, "totals": services.totals_of(user_id)}
