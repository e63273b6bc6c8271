"""Admin JSON API: the levels, and an ambassador's level override."""
from ambassador.levels import services
from ambassador.levels.schemas import (
    AmbassadorLevelSchema,
    LevelCreateSchema,
    LevelListSchema,
    LevelPatchSchema,
    LevelSchema,
    OverrideSchema,
)
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.idempotency import idempotent

bp = Blueprint("ambassador_levels_admin", __name__, url_prefix="/api/v1/admin", description="管理：代言人等级与调整")


def _ambassador_level(ambassador):
    return {"user_id": ambassador.user_id, "status": ambassador.status,
            "level": services.get_level(ambassador.level_id), "window_contribution": ambassador.window_contribution,
            "below_since": ambassador.below_since, "level_pinned_until": ambassador.level_pinned_until,
            "evaluated_at": ambassador.evaluated_at}


# -- levels (admins) --------------------------------------------------------------------------

@bp.route("/ambassador/levels")
@auth_required("admin")
@bp.response(200, LevelListSchema)
def list_levels():
    """Every ambassador level, by position"""
    return {"items": services.list_levels()}


@bp.route("/ambassador/levels", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(LevelCreateSchema)
@bp.response(201, LevelSchema)
def create_level(body):
    """Add a level (thresholds must rise with position)"""
    return services.create_level(body, current_api_user())


@bp.route("/ambassador/levels/<int:level_id>", methods=["PATCH"])
@auth_required("admin")
@bp.arguments(LevelPatchSchema)
@bp.response(200, LevelSchema)
def update_level(body, level_id):
    """Change a level's fields"""
    return services.update_level(level_id, body, current_api_user())


@bp.route("/ambassador/levels/<int:level_id>", methods=["DELETE"])
@auth_required("admin")
@bp.response(204)
def delete_level(level_id):
    """Delete a level no ambassador holds or ever held (409 otherwise)"""
    services.delete_level(level_id, current_api_user())


# -- overrides (admins) -----------------------------------------------------------------------

@bp.route("/ambassadors/<int:user_id>/level", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(OverrideSchema)
@bp.response(200, AmbassadorLevelSchema)
def override_level(body, user_id):
    """Set an ambassador's level by hand, with a reason; the job leaves it for pin_days"""
    ambassador = services.override_level(user_id, body["level_id"], body["reason"], current_api_user(),
                                       pin_days=body.get("pin_days"))
    return _ambassador_level(ambassador)


@bp.route("/ambassadors/<int:user_id>/level-pin", methods=["DELETE"])
@auth_required("admin")
@bp.response(200, AmbassadorLevelSchema)
def unpin_level(user_id):
    """End an override's pin: the next evaluation may change the level again"""
    return _ambassador_level(services.unpin_level(user_id, current_api_user()))
