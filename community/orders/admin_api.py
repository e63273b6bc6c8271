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
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.pagination import page_schema

bp = Blueprint("community_orders_admin", __name__, url_prefix="/api/v1/admin", description="管理：服务单与投诉")


@bp.route("/service-orders")
@auth_required("admin", "agent")
@bp.arguments(AdminServiceOrderQueryArgsSchema, location="query")
@bp.response(200, page_schema(ServiceOrderSchema))
def all_orders(args):
    """Service orders, newest first (filter by estate and status); contact phones masked"""
    who = current_principal()
    return services.view_page(services.all_orders(**args), who)


@bp.route("/service-orders/<int:order_id>/assign", methods=["POST"])
@auth_required("admin", "agent")
@bp.arguments(AssignSchema)
@bp.response(200, ServiceOrderSchema)
def assign(body, order_id):
    """Assign (or reassign) an open, unscheduled order to an engineer covering its estate; the
    resident is notified (not when the engineer stays the same)"""
    actor = current_api_user()
    return services.order_view(services.assign(order_id, body["engineer_id"], actor), actor)


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
