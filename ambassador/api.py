"""The mini-program API for becoming an ambassador: apply, withdraw, and see where I stand."""
import marshmallow as ma
from marshmallow import fields, validate

from ambassador import services
from ambassador.models import APPLICATION_STATUSES, CHANNELS, PERMISSIONS
from core.accounts.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from community.schemas import EstateBriefSchema
from core.idempotency import idempotent

bp = Blueprint("ambassador", __name__, url_prefix="/api/v1/ambassador", description="服务代言人：申请与我的代言人信息")

ID_RANGE = validate.Range(1, 2**63 - 1)


# -- schemas (shared with admin_api) ----------------------------------------------------------

class AmbassadorApplicationCreateSchema(ma.Schema):
    """Checked again in ambassador.services (phone, name length, estates, channel rules)."""
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    invite_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16),
                                metadata={"description": "required for channel referral"})
    real_name = fields.String(required=True, validate=validate.Length(max=64),
                              metadata={"description": "2–32 characters"})
    phone = fields.String(required=True, validate=validate.Length(max=20),
                          metadata={"description": "mainland China mobile number"})
    estate_ids = fields.List(fields.Integer(strict=True, validate=ID_RANGE), required=True,
                             metadata={"description": "1–5 active estates; the first sets the city"})
    statement = fields.String(required=True, validate=validate.Length(max=services.STATEMENT_MAX),
                              metadata={"description": "why I want to be an ambassador (may be empty)"})


class AmbassadorApplicationSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": " | ".join(APPLICATION_STATUSES)})
    reason = fields.String(allow_none=True, metadata={"description": "why it was rejected"})
    channel = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    reapply_after = fields.Method("_reapply_after", allow_none=True,
                                  metadata={"description": "rejected: when a new application is possible"})

    def _reapply_after(self, application):
        value = application["reapply_after"] if isinstance(application, dict) else services.reapply_after(application)
        return value.isoformat() if value else None


class LevelViewSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    position = fields.Integer()
    permissions = fields.List(fields.String(), metadata={"description": " | ".join(PERMISSIONS)})
    multiplier_pct = fields.Integer()


class HistoryLevelSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class NextLevelSchema(ma.Schema):
    name = fields.String()
    threshold = fields.Integer(metadata={"description": "contribution in the rolling window to reach it"})


class MyAmbassadorSchema(ma.Schema):
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    level = fields.Nested(LevelViewSchema)
    next_level = fields.Nested(NextLevelSchema, allow_none=True)
    contribution_total = fields.Integer()
    window_contribution = fields.Integer()
    invite_code = fields.String(allow_none=True, metadata={"description": "null unless active"})
    estates = fields.List(fields.Nested(EstateBriefSchema))
    joined_at = fields.DateTime()


class AmbassadorMeSchema(ma.Schema):
    application = fields.Nested(AmbassadorApplicationSchema, allow_none=True)
    ambassador = fields.Nested(MyAmbassadorSchema, allow_none=True)


# -- views ------------------------------------------------------------------------------------

@bp.route("/applications", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(AmbassadorApplicationCreateSchema)
@bp.response(201, AmbassadorApplicationSchema)
def apply(body):
    """Apply to become an ambassador

    Engineers and members of a qualifying tier are pre-qualified; a referral needs the invite
    code of an active ambassador whose level may recruit. One open application per person;
    after a rejection a new one waits for the cool-down (409 `reapply_cooldown`).
    """
    return services.submit_application(current_api_user(), body)


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@auth_required()
@bp.response(200, AmbassadorApplicationSchema)
def withdraw(application_id):
    """Withdraw my pending application"""
    return services.withdraw_application(application_id, current_api_user())


@bp.route("/me")
@auth_required()
@bp.response(200, AmbassadorMeSchema)
def me():
    """My latest application and, once approved, my ambassador status, level and invite code"""
    return services.my_status(current_principal().id)
