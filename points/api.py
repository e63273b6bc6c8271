"""The mini-program API for points: balance and history, rewards, redemptions."""
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import PageArgsSchema, page_schema
from points import services
from points.schemas import EntrySchema, PointsSummarySchema, RedemptionCreateSchema, RedemptionSchema, RewardListSchema

bp = Blueprint("points", __name__, url_prefix="/api/v1", description="积分、奖品与兑换")


@bp.route("/me/points")
@auth_required()
@bp.response(200, PointsSummarySchema)
def my_points():
    """My points: available, held for pending redemptions, pending (not yet spendable), and soon to expire"""
    return services.balance(current_principal().id)


@bp.route("/me/points/entries")
@auth_required()
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(EntrySchema))
def my_entries(args):
    """My points history, newest first"""
    return services.entries(current_principal().id, **args)


@bp.route("/rewards")
@auth_required()
@bp.response(200, RewardListSchema)
def rewards():
    """The rewards I can redeem now, cheapest first"""
    return {"items": services.rewards_for(current_principal().id)}


@bp.route("/redemptions", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(RedemptionCreateSchema)
@bp.response(201, RedemptionSchema)
def redeem(body):
    """Redeem a reward: the points are held and the stock reserved until an admin decides

    The status is `approved` at once when the reward approves trusted users automatically.
    """
    return services.redeem(current_api_user(), body["reward_id"], body["quantity"])


@bp.route("/me/redemptions")
@auth_required()
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(RedemptionSchema))
def my_redemptions(args):
    """My redemptions, newest first"""
    return services.redemptions_of(current_principal().id, **args)


@bp.route("/redemptions/<int:redemption_id>/cancel", methods=["POST"])
@auth_required()
@bp.response(200, RedemptionSchema)
def cancel(redemption_id):
    """Cancel my pending redemption: its points and stock return"""
    return services.cancel(redemption_id, current_api_user())
