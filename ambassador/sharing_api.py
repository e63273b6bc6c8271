"""The referral API: an ambassador's invite (code and mini-program code picture), attribution of
a new user to their inviter, the inviter's invitees, and the admins' review of flagged pairs."""
import marshmallow as ma
from flask import Response, url_for
from marshmallow import fields, validate

from ambassador import referrals
from ambassador.access import require_ambassador
from ambassador.models import REFERRAL_STATUSES
from core.accounts.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import PageArgsSchema, page_schema

bp = Blueprint("ambassador_referrals", __name__, url_prefix="/api/v1", description="服务代言人：邀请与推荐奖励")


# -- schemas ----------------------------------------------------------------------------------

class AmbassadorInviteSchema(ma.Schema):
    invite_code = fields.String()
    scene = fields.String(metadata={"description": "the scene of the mini-program code (`i=<invite_code>`)"})
    page = fields.String(metadata={"description": "the mini-program page the code opens"})
    image_url = fields.String(metadata={"description": "the code picture (public URL by invite code)"})


class AttributionCreateSchema(ma.Schema):
    invite_code = fields.String(required=True, validate=validate.Length(1, 64),
                                metadata={"description": "the invite code, or the scene `i=<code>` as scanned"})


class AttributedReferralSchema(ma.Schema):
    id = fields.Integer()
    inviter_name = fields.String(metadata={"description": "the inviter's masked name"})
    attributed_at = fields.DateTime()
    protected_until = fields.DateTime()
    status = fields.String()
    status_label = fields.String()


class AttributionSchema(ma.Schema):
    result = fields.String(metadata={"description": "created | unchanged | kept | switched"})
    referral = fields.Nested(AttributedReferralSchema)


class InviteeSchema(ma.Schema):
    id = fields.Integer()
    invitee_name = fields.String(metadata={"description": "masked display name"})
    attributed_at = fields.DateTime()
    protected_until = fields.DateTime()
    status = fields.String(metadata={"description": "pending | rewarded | flagged | lapsed"})
    status_label = fields.String()
    qualified_by = fields.String(allow_none=True, metadata={"description": "ambassador | service"})
    points = fields.Integer(metadata={"description": "referral points this invitee brought the inviter"})


class ReferralTotalsSchema(ma.Schema):
    invitees = fields.Integer()
    pending = fields.Integer()
    rewarded = fields.Integer()
    flagged = fields.Integer()
    lapsed = fields.Integer()
    points = fields.Integer()


class InviteePageSchema(page_schema(InviteeSchema)):
    totals = fields.Nested(ReferralTotalsSchema)


class AdminReferralSchema(ma.Schema):
    id = fields.Integer()
    inviter_id = fields.Integer()
    invitee_id = fields.Integer()
    invite_code = fields.String()
    status = fields.String()
    status_label = fields.Function(lambda r: referrals.STATUS_LABELS[r.status])
    flag_reason = fields.String(allow_none=True)
    qualified_by = fields.String(allow_none=True)
    attributed_at = fields.DateTime()
    protected_until = fields.DateTime()
    rewarded_at = fields.DateTime(allow_none=True)


class AdminReferralQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(REFERRAL_STATUSES))
    inviter_id = fields.Integer(load_default=None, validate=validate.Range(1, 2**63 - 1))


class FlagDecisionSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 255))


class FlagOutcomeSchema(ma.Schema):
    referral = fields.Nested(AdminReferralSchema)
    paid = fields.Dict(keys=fields.String(), values=fields.Integer(),
                       metadata={"description": "trigger → points granted now"})
    refused = fields.String(allow_none=True, metadata={"description": "why a reward was refused (a cap)"})


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
    invite = referrals.invite_of(current_principal().id)
    return {"invite_code": invite.invite_code, "scene": invite.scene, "page": invite.page,
            "image_url": url_for("ambassador_referrals.invite_image_by_code", code=invite.invite_code)}


@bp.route("/ambassador/invite/image")
@auth_required()
def my_invite_image():
    """The picture of my invite's mini-program code"""
    invite = referrals.invite_of(current_principal().id)
    return _image_response(invite.image, invite.image_type)


@bp.route("/invites/<code>/image")
def invite_image_by_code(code):
    """The picture of an invite code (public: the code is meant to be shared)"""
    return _image_response(*referrals.invite_image_by_code(code))


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
    outcome = referrals.attribute(current_api_user(), body["invite_code"])
    return {"result": outcome.result, "referral": referrals.attribution_view(outcome.referral)}


@bp.route("/ambassador/referrals")
@auth_required()
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, InviteePageSchema)
def my_referrals(args):
    """The users I invited, newest first, with their status and the points they brought; and totals"""
    user_id = current_principal().id
    require_ambassador(user_id)
    page = referrals.invitees_of(user_id, **args)
    return {"items": page.items, "next_cursor": page.next_cursor, "totals": referrals.totals_of(user_id)}


# -- admins -----------------------------------------------------------------------------------

@bp.route("/admin/ambassador/referrals")
@auth_required("admin")
@bp.arguments(AdminReferralQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminReferralSchema))
def admin_list(args):
    """Referrals, newest first; `status=flagged` is the anti-fraud review queue"""
    return referrals.list_referrals(**args)


@bp.route("/admin/ambassador/referrals/<int:referral_id>")
@auth_required("admin")
@bp.response(200, AdminReferralSchema)
def admin_get(referral_id):
    """One referral"""
    return referrals.get_referral(referral_id)


def _flag_outcome(outcome):
    return {"referral": outcome.referral, "paid": outcome.paid,
            "refused": outcome.refused.code if outcome.refused else None}


@bp.route("/admin/ambassador/referrals/<int:referral_id>/clear", methods=["POST"])
@auth_required("admin")
@bp.arguments(FlagDecisionSchema)
@bp.response(200, FlagOutcomeSchema)
def admin_clear(body, referral_id):
    """Clear a flagged pair (genuine, reason required): the inviter is paid what the referral met"""
    return _flag_outcome(referrals.clear_flag(referral_id, current_api_user(), body["reason"]))


@bp.route("/admin/ambassador/referrals/<int:referral_id>/dismiss", methods=["POST"])
@auth_required("admin")
@bp.arguments(FlagDecisionSchema)
@bp.response(200, FlagOutcomeSchema)
def admin_dismiss(body, referral_id):
    """Confirm a flag (reason required): the reward stays withheld for good (status lapsed)"""
    return {"referral": referrals.dismiss_flag(referral_id, current_api_user(), body["reason"]),
            "paid": {}, "refused": None}
