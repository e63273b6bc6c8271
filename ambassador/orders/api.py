"""The order system's integration: paid and refunded orders (HMAC-signed)."""
from __future__ import annotations

from ambassador.orders import services
from ambassador.orders.schemas import OrderMessageSchema, OrderResultSchema
from core.blueprint import Blueprint
from core.integrations import signed

bp = Blueprint("ambassador_orders", __name__, url_prefix="/api/v1", description="价值共享：订单接入")


@bp.route("/integrations/orders", methods=["POST"])
@signed
@bp.arguments(OrderMessageSchema)
@bp.response(200, OrderResultSchema)
def receive_order(body):
    """Receive a paid or refunded order from the order system (HMAC-signed)

    Each `external_id` pays at most once; a repeated message returns the stored order and moves
    nothing. Points for the resident's steward and inviter stay pending for the refund window.
    """
    return services.receive_order(body)
