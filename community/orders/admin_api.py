"""Admin JSON API: service orders and complaints (agents and admins)."""
from community.orders import services
from community.orders.schemas import (
    AdminServiceOrderQueryArgsSchema,
    AssignSchema,
    ComplaintQueryArgsSchema,
    ComplaintSchema,
    ResolveComplaintSchema,
    ServiceOrderSchema,
)
from core.accounts.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.pagination import page_schema

bp = Blueprint("community_orders_admin", __name__, url_prefix="/api/v1/admin", description="管理：服务单与投诉")


@bp.route("/service-orders")
@auth_required("admin", "agent")
@bp.arguments(AdminServiceOrderQueryArgsSchema, location="query")
@bp.response(200, page_schema(ServiceOrderSchema))
def all_orders(args):
    """Service orders, newest first (filter by estate and status)"""
    return services.all_orders(**args)


@bp.route("/service-orders/<int:order_id>/assign", methods=["POST"])
@auth_required("admin", "agent")
@bp.arguments(AssignSchema)
@bp.response(200, ServiceOrderSchema)
def assign(body, order_id):
    """Assign (or reassign) an open, unscheduled order to an engineer covering its estate"""
    return services.assign(order_id, body["engineer_id"], current_api_user())


@bp.route("/complaints")
@auth_required("admin", "agent")
@bp.arguments(ComplaintQueryArgsSchema, location="query")
@bp.response(200, page_schema(ComplaintSchema))
def list_complaints(args):
    """Complaints (open ones oldest first)"""
    return services.complaints(**args)


@bp.route("/complaints/<int:complaint_id>/resolve", methods=["POST"])
@auth_required("admin", "agent")
@bp.arguments(ResolveComplaintSchema)
@bp.response(200, ComplaintSchema)
def resolve(body, complaint_id):
    """Resolve a complaint with what was done"""
    return services.resolve_complaint(complaint_id, current_api_user(), body["resolution"])
