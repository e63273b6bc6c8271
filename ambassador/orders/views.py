"""Admin console for value sharing: the orders received and what each paid to whom."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from ambassador.orders import services
from ambassador.orders.models import ORDER_STATUSES
from core import pages
from points import services as points

bp = Blueprint("ambassador_orders_pages", __name__)


STATUS_FILTERS = [("all", "全部"), ("paid", "已支付"), ("refunded", "已退款")]


@bp.route("/admin/ambassador/orders")
@pages.admin_only
def orders_list():
    q = (request.args.get("q") or "").strip()[:64]
    resident = (request.args.get("resident") or "").strip()[:20]
    status = request.args.get("status") or "all"
    if status not in ORDER_STATUSES:
        status = "all"
    page = services.list_orders(q=q or None, resident=resident or None, status=None if status == "all" else status,
                              limit=20, cursor=request.args.get("cursor") or None)
    users = pages.users(uid for o in page.items for uid in (o.resident_id, o.steward_user_id, o.inviter_id))
    return render_template("admin/ambassador/orders/orders.html", nav="ambassador_orders", page=page, q=q,
                           resident=resident, status=status, filters=STATUS_FILTERS, users=users, yuan=services.yuan,
                           status_labels=services.STATUS_LABELS)


@bp.route("/admin/ambassador/orders/<int:order_id>")
@pages.admin_only
def order_detail(order_id):
    order = services.get_order(order_id)
    payouts = services.payouts(order)
    users = pages.users([order.resident_id, *(p.user_id for p in payouts)])
    rule_names = {rule.kind: rule.name for rule in points.rules()}
    return render_template("admin/ambassador/orders/order.html", nav="ambassador_orders", order=order, payouts=payouts,
                           users=users, yuan=services.yuan, status_labels=services.STATUS_LABELS,
                           payout_labels=services.PAYOUT_LABELS, rule_names=rule_names,
                           role_kinds=dict(services.ROLES))
