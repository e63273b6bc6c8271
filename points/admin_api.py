"""Admin JSON API for points: rewards, earning rules, adjustments, redemptions (the same services as the pages)."""
from dataclasses import asdict
from types import SimpleNamespace

from flask import request

from core.accounts import services as accounts
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.idempotency import HEADER, idempotent
from core.pagination import PageArgsSchema, page_schema
from core.schemas import BulkDecisionSchema, BulkResultSchema, bulk_result
from points import services
from points.schemas import (
    AdjustmentCreateSchema,
    AdjustmentSchema,
    AdminRedemptionDetailSchema,
    AdminRedemptionSchema,
    AdminRewardSchema,
    EarningRuleListSchema,
    EarningRulePatchSchema,
    EarningRuleSchema,
    EntrySchema,
    FulfilSchema,
    RedemptionQueryArgsSchema,
    RejectSchema,
    ReversalSchema,
    ReverseSchema,
    RewardPatchSchema,
    RewardWriteSchema,
    UserPointsSchema,
)

bp = Blueprint("admin_points", __name__, url_prefix="/api/v1/admin", description="管理：积分、奖品与兑换审核")


# -- rewards ----------------------------------------------------------------------------------

@bp.route("/rewards", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(RewardWriteSchema)
@bp.response(201, AdminRewardSchema)
def create_reward(body):
    """Create a reward"""
    return services.create_reward(body, current_api_user())


@bp.route("/rewards")
@auth_required("admin")
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(AdminRewardSchema))
def list_rewards(args):
    """Every reward (on offer or not), newest first"""
    return services.all_rewards(**args)


@bp.route("/rewards/<int:reward_id>")
@auth_required("admin")
@bp.response(200, AdminRewardSchema)
def get_reward(reward_id):
    """One reward"""
    return services.get_reward(reward_id)


@bp.route("/rewards/<int:reward_id>", methods=["PATCH"])
@auth_required("admin")
@bp.arguments(RewardPatchSchema)
@bp.response(200, AdminRewardSchema)
def update_reward(body, reward_id):
    """Change a reward's fields (stock is what is left)"""
    return services.update_reward(services.get_reward(reward_id), body, current_api_user())


# -- earning rules ----------------------------------------------------------------------------

@bp.route("/earning-rules")
@auth_required("admin")
@bp.response(200, EarningRuleListSchema)
def list_rules():
    """The earning rules: points per event, caps per user"""
    return {"items": services.rules()}


@bp.route("/earning-rules/<kind>", methods=["PATCH"])
@auth_required("admin")
@bp.arguments(EarningRulePatchSchema)
@bp.response(200, EarningRuleSchema)
def update_rule(body, kind):
    """Change an earning rule (points, daily cap, lifetime cap, enabled)"""
    return services.update_rule(kind, body, current_api_user())


# -- adjustments and reversals ----------------------------------------------------------------

@bp.route("/points/adjustments", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(AdjustmentCreateSchema)
@bp.response(201, AdjustmentSchema)
def adjust(body):
    """Grant (amount > 0) or deduct (amount < 0) a user's points, with a reason

    With an Idempotency-Key the ledger posts it once, even when the same key comes back after
    the stored response was forgotten.
    """
    posted = services.adjust(body["user_id"], body["amount"], body["reason"], current_api_user(),
                             key=request.headers.get(HEADER))
    return {**body, "transaction_id": posted.transaction_id, "created": posted.created,
            "balance": services.balance(body["user_id"])}


@bp.route("/points/transactions/<int:transaction_id>/reverse", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReverseSchema)
@bp.response(200, ReversalSchema)
def reverse(body, transaction_id):
    """Reverse a grant, spend, adjustment or expiry (at most once; redemption holds are decided instead)"""
    posted = services.reverse_transaction(transaction_id, body["reason"], current_api_user())
    return {"transaction_id": posted.transaction_id, "created": posted.created, "reverses_id": transaction_id}


# -- redemptions ------------------------------------------------------------------------------

@bp.route("/redemptions")
@auth_required("admin")
@bp.arguments(RedemptionQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminRedemptionSchema))
def list_redemptions(args):
    """Redemptions, newest first, optionally of one status (the approval queue is status=pending)"""
    return services.list_redemptions(**args)


@bp.route("/redemptions/<int:redemption_id>")
@auth_required("admin")
@bp.response(200, AdminRedemptionDetailSchema)
def get_redemption(redemption_id):
    """One redemption with every step (actor and time)"""
    return services.get_redemption(redemption_id)


@bp.route("/redemptions/<int:redemption_id>/approve", methods=["POST"])
@auth_required("admin")
@bp.response(200, AdminRedemptionDetailSchema)
def approve(redemption_id):
    """Approve a pending redemption: its held points are spent"""
    return services.approve(redemption_id, current_api_user())


@bp.route("/redemptions/<int:redemption_id>/reject", methods=["POST"])
@auth_required("admin")
@bp.arguments(RejectSchema)
@bp.response(200, AdminRedemptionDetailSchema)
def reject(body, redemption_id):
    """Reject a pending redemption with a reason: its points and stock return"""
    return services.reject(redemption_id, current_api_user(), body["reason"])


@bp.route("/redemptions/<int:redemption_id>/fulfil", methods=["POST"])
@auth_required("admin")
@bp.arguments(FulfilSchema)
@bp.response(200, AdminRedemptionDetailSchema)
def fulfil(body, redemption_id):
    """Mark an approved redemption delivered, with a delivery note or voucher code"""
    return services.fulfil(redemption_id, current_api_user(), body["note"])


@bp.route("/redemptions/bulk", methods=["POST"])
@auth_required("admin")
@bp.arguments(BulkDecisionSchema)
@bp.response(200, BulkResultSchema)
def bulk_decide(body):
    """Approve or reject several redemptions; each is decided on its own, with its outcome"""
    return bulk_result(services.decide_many(body["ids"], body["action"], current_api_user(), body["reason"]))


# -- a user's points --------------------------------------------------------------------------

@bp.route("/users/<int:user_id>/points")
@auth_required("admin")
@bp.response(200, UserPointsSchema)
def user_points(user_id):
    """A user's points and the first page of their history"""
    user = accounts.get_user(user_id)
    return SimpleNamespace(**asdict(services.balance(user_id)), user=user, entries=services.entries(user_id))


@bp.route("/users/<int:user_id>/points/entries")
@auth_required("admin")
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(EntrySchema))
def user_entries(args, user_id):
    """A user's points history, newest first"""
    accounts.get_user(user_id)
    return services.entries(user_id, **args)
