"""Leaderboards of ambassadors by contribution."""
from ambassador.levels import services
from ambassador.levels.schemas import LeaderboardArgsSchema, LeaderboardSchema
from core.auth import auth_required, current_principal
from core.blueprint import Blueprint

bp = Blueprint("ambassador_levels", __name__, url_prefix="/api/v1", description="服务代言人：排行榜")


@bp.route("/ambassador/leaderboard")
@auth_required()
@bp.arguments(LeaderboardArgsSchema, location="query")
@bp.response(200, LeaderboardSchema)
def leaderboard(args):
    """Contribution leaderboard of the caller's scope (all, estate, city, level) and period"""
    return services.leaderboard(current_principal().id, args["scope"], args["period"], estate_id=args["estate_id"],
                              limit=args["limit"])
