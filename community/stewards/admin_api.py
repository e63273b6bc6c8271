"""Admin JSON API: an engineer's customers, handing them over, and a resident's steward history."""
from community.estates import services as estates
from community.stewards import services
from community.stewards.schemas import (
    BindingHistoryListSchema,
    CustomerQueryArgsSchema,
    CustomerSchema,
    DeactivateSchema,
    MovedSchema,
    ReassignSchema,
)
from core.accounts import services as accounts
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.pagination import page_schema

bp = Blueprint("community_stewards_admin", __name__, url_prefix="/api/v1/admin", description="管理：工程师的客户与交接")


@bp.route("/engineers/<int:engineer_id>/deactivate", methods=["POST"])
@auth_required("admin")
@bp.arguments(DeactivateSchema)
@bp.response(200, MovedSchema)
def deactivate_engineer(body, engineer_id):
    """An engineer leaves; their customers go to `reassign_to` (or lose their steward)"""
    target = estates.get_engineer(body["reassign_to"]) if body["reassign_to"] else None
    moved = services.deactivate_engineer(estates.get_engineer(engineer_id), current_api_user(), target)
    return {"moved": moved}


@bp.route("/engineers/<int:engineer_id>/reassign", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReassignSchema)
@bp.response(200, MovedSchema)
def reassign(body, engineer_id):
    """Move an engineer's customers (all, or one estate's) to another engineer"""
    moved = services.reassign_customers(estates.get_engineer(engineer_id),
                                        estates.get_engineer(body["to_engineer_id"]), current_api_user(),
                                        body["estate_id"])
    return {"moved": moved}


@bp.route("/engineers/<int:engineer_id>/customers")
@auth_required("admin", "agent")
@bp.arguments(CustomerQueryArgsSchema, location="query")
@bp.response(200, page_schema(CustomerSchema))
def engineer_customers(args, engineer_id):
    """An engineer's current customers, newest first"""
    return services.customers_of(current_principal(), engineer_id, **args)


@bp.route("/residents/<int:user_id>/stewards")
@auth_required("admin", "agent")
@bp.response(200, BindingHistoryListSchema)
def resident_steward_history(user_id):
    """A resident's whole steward history, newest first (for disputes)"""
    accounts.get_user(user_id)
    return {"items": services.binding_history(user_id)}
