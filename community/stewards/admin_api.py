"""Admin JSON API: an engineer's customers, handing them over, the handover queue, and a resident's steward history."""
from community.estates import services as estates
from community.stewards import services
from community.stewards.schemas import (
    BindingHistoryListSchema,
    CustomerQueryArgsSchema,
    CustomerSchema,
    DeactivateSchema,
    HandoverAdminSchema,
    HandoverQueryArgsSchema,
    HandoverRejectSchema,
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
    """An engineer leaves; each customer is offered to `reassign_to` (24 h to refuse), or loses their steward

    Customers already handed over twice in 90 days, or with a change open, are not offered
    (`skipped_reasons`); like those without a successor, they lose their steward at once (`ended`).
    """
    target = estates.get_engineer(body["reassign_to"]) if body["reassign_to"] else None
    return services.deactivate_engineer(estates.get_engineer(engineer_id), current_api_user(), target)


@bp.route("/engineers/<int:engineer_id>/reassign", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReassignSchema)
@bp.response(200, MovedSchema)
def reassign(body, engineer_id):
    """Offer an engineer's customers (all, or one estate's) to another engineer

    Each customer gets a pending handover, effective after 24 hours unless they refuse; at most
    two handovers per customer in 90 days (the others are `skipped`).
    """
    return services.reassign_customers(estates.get_engineer(engineer_id),
                                       estates.get_engineer(body["to_engineer_id"]), current_api_user(),
                                       body["estate_id"])


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


@bp.route("/handovers")
@auth_required("admin", "agent")
@bp.arguments(HandoverQueryArgsSchema, location="query")
@bp.response(200, page_schema(HandoverAdminSchema))
def handovers(args):
    """Changes of steward (handovers and residents' change requests), newest first"""
    return services.list_handovers(**args)


@bp.route("/handovers/<int:handover_id>/approve", methods=["POST"])
@auth_required("admin", "agent")
@bp.response(200, HandoverAdminSchema)
def approve_handover(handover_id):
    """Approve a resident's change request: the new steward at once; repeating it is harmless"""
    return services.approve_request(current_api_user(), handover_id)


@bp.route("/handovers/<int:handover_id>/reject", methods=["POST"])
@auth_required("admin", "agent")
@bp.arguments(HandoverRejectSchema)
@bp.response(200, HandoverAdminSchema)
def reject_handover(body, handover_id):
    """Reject a resident's change request, saying why; repeating it is harmless"""
    return services.reject_request(current_api_user(), handover_id, body["reason"])
