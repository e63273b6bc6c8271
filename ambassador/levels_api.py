"""Levels API: the levels editor and level overrides (admins), and the leaderboards (ambassadors)."""
import marshmallow as ma
from marshmallow import fields, validate

from ambassador import levels
from ambassador.models import PERMISSIONS
from core.accounts.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent

bp = Blueprint("ambassador_levels", __name__, url_prefix="/api/v1", description="服务代言人：等级、调整与排行榜")

ID_RANGE = validate.Range(1, 2**63 - 1)


# -- schemas ----------------------------------------------------------------------------------

class LevelSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    position = fields.Integer(metadata={"description": "order of the level: 1 is the entry level"})
    threshold = fields.Integer(metadata={"description": "contribution points in the rolling window to reach it"})
    permissions = fields.List(fields.String())
    multiplier_pct = fields.Integer(metadata={"description": "task points × multiplier_pct / 100"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class LevelCreateSchema(ma.Schema):
    code = fields.String(required=True, validate=validate.Regexp(levels.CODE_PATTERN))
    name = fields.String(required=True, validate=validate.Length(1, 32))
    position = fields.Integer(required=True, validate=validate.Range(1, 10**6))
    threshold = fields.Integer(required=True, validate=validate.Range(0, levels.MAX_THRESHOLD))
    permissions = fields.List(fields.String(validate=validate.OneOf(PERMISSIONS)), load_default=list)
    multiplier_pct = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class LevelPatchSchema(ma.Schema):
    code = fields.String(validate=validate.Regexp(levels.CODE_PATTERN))
    name = fields.String(validate=validate.Length(1, 32))
    position = fields.Integer(validate=validate.Range(1, 10**6))
    threshold = fields.Integer(validate=validate.Range(0, levels.MAX_THRESHOLD))
    permissions = fields.List(fields.String(validate=validate.OneOf(PERMISSIONS)))
    multiplier_pct = fields.Integer(validate=validate.Range(1, 1000))


class LevelListSchema(ma.Schema):
    items = fields.List(fields.Nested(LevelSchema))


class OverrideSchema(ma.Schema):
    level_id = fields.Integer(required=True, validate=ID_RANGE)
    reason = fields.String(required=True, validate=validate.Length(1, 255))
    pin_days = fields.Integer(validate=validate.Range(1, levels.MAX_PIN_DAYS),
                              metadata={"description": "days the job leaves the level alone (default "
                                                       "AMBASSADOR_OVERRIDE_DAYS)"})


class AmbassadorLevelSchema(ma.Schema):
    user_id = fields.Integer()
    status = fields.String()
    level = fields.Nested(LevelSchema)
    window_contribution = fields.Integer(metadata={"description": "at the last evaluation"})
    below_since = fields.DateTime(allow_none=True)
    level_pinned_until = fields.DateTime(allow_none=True)
    evaluated_at = fields.DateTime(allow_none=True)


class LeaderboardArgsSchema(ma.Schema):
    scope = fields.String(load_default="all", validate=validate.OneOf(levels.SCOPES))
    period = fields.String(load_default="month", validate=validate.OneOf(levels.PERIODS))
    estate_id = fields.Integer(load_default=None, validate=ID_RANGE,
                               metadata={"description": "scope=estate: one of the caller's estates (default the first)"})
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class LeaderboardEntrySchema(ma.Schema):
    rank = fields.Integer(metadata={"description": "equal points share a rank (1, 2, 2, 4)"})
    name = fields.String(metadata={"description": "masked real name"})
    level = fields.String(metadata={"description": "level name"})
    points = fields.Integer(metadata={"description": "contribution points in the period"})
    is_me = fields.Boolean()


class MyStandingSchema(ma.Schema):
    rank = fields.Integer()
    points = fields.Integer()


class LeaderboardSchema(ma.Schema):
    scope = fields.String()
    period = fields.String()
    scope_key = fields.String(metadata={"description": "e.g. all, estate:12, city:上海市, level:2"})
    period_key = fields.String(metadata={"description": "e.g. all, 2026-11, 2026Q4 (Asia/Shanghai)"})
    items = fields.List(fields.Nested(LeaderboardEntrySchema))
    me = fields.Nested(MyStandingSchema)


def _ambassador_level(ambassador):
    return {"user_id": ambassador.user_id, "status": ambassador.status,
            "level": levels.get_level(ambassador.level_id), "window_contribution": ambassador.window_contribution,
            "below_since": ambassador.below_since, "level_pinned_until": ambassador.level_pinned_until,
            "evaluated_at": ambassador.evaluated_at}


# -- levels (admins) --------------------------------------------------------------------------

@bp.route("/admin/ambassador/levels")
@auth_required("admin")
@bp.response(200, LevelListSchema)
def list_levels():
    """Every ambassador level, by position"""
    return {"items": levels.list_levels()}


@bp.route("/admin/ambassador/levels", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(LevelCreateSchema)
@bp.response(201, LevelSchema)
def create_level(body):
    """Add a level (thresholds must rise with position)"""
    return levels.create_level(body, current_api_user())


@bp.route("/admin/ambassador/levels/<int:level_id>", methods=["PATCH"])
@auth_required("admin")
@bp.arguments(LevelPatchSchema)
@bp.response(200, LevelSchema)
def update_level(body, level_id):
    """Change a level's fields"""
    return levels.update_level(level_id, body, current_api_user())


@bp.route("/admin/ambassador/levels/<int:level_id>", methods=["DELETE"])
@auth_required("admin")
@bp.response(204)
def delete_level(level_id):
    """Delete a level no ambassador holds or ever held (409 otherwise)"""
    levels.delete_level(level_id, current_api_user())


# -- overrides (admins) -----------------------------------------------------------------------

@bp.route("/admin/ambassadors/<int:user_id>/level", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(OverrideSchema)
@bp.response(200, AmbassadorLevelSchema)
def override_level(body, user_id):
    """Set an ambassador's level by hand, with a reason; the job leaves it for pin_days"""
    ambassador = levels.override_level(user_id, body["level_id"], body["reason"], current_api_user(),
                                       pin_days=body.get("pin_days"))
    return _ambassador_level(ambassador)


@bp.route("/admin/ambassadors/<int:user_id>/level-pin", methods=["DELETE"])
@auth_required("admin")
@bp.response(200, AmbassadorLevelSchema)
def unpin_level(user_id):
    """End an override's pin: the next evaluation may change the level again"""
    return _ambassador_level(levels.unpin_level(user_id, current_api_user()))


# -- leaderboards (ambassadors) ---------------------------------------------------------------

@bp.route("/ambassador/leaderboard")
@auth_required()
@bp.arguments(LeaderboardArgsSchema, location="query")
@bp.response(200, LeaderboardSchema)
def leaderboard(args):
    """Contribution leaderboard of the caller's scope (all, estate, city, level) and period"""
    return levels.leaderboard(current_principal().id, args["scope"], args["period"], estate_id=args["estate_id"],
                              limit=args["limit"])
