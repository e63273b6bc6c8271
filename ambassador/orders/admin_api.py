"""Admin JSON API: the orders received and what each paid to whom."""
from __future__ import annotations

from types import SimpleNamespace

from ambassador.orders import services
from ambassador.orders.schemas import AdminOrderDetailSchema, AdminOrderSchema, OrderQueryArgsSchema
from core.auth import auth_required
from core.blueprint import Blueprint
from core.pagination import page_schema

bp = Blueprint("ambassador_orders_admin", __name__, url_prefix="/api/v1/admin", description="管理：订单分润")


@bp.route("/ambassador/orders")
@auth_required("admin")
@bp.arguments(OrderQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminOrderSchema))
def list_orders(args):
    """Orders received, newest first (search by external id, resident, status)"""
    return services.list_orders(**args)


@bp.route("/ambassador/orders/<int:order_id>")
@auth_required("admin")
@bp.response(200, AdminOrderDetailSchema)
def get_order(order_id):
    """One order: what it paid to whom and where each payout stands"""
    order = services.get_order(order_id)
    return SimpleNamespace(**{f: getattr(order, f) for f in (
        "id", "external_id", "status", "amount_fen", "paid_at", "refunded_at", "resident_id", "steward_user_id",
        "inviter_id", "created_at", "items")}, payouts=services.payouts(order))
