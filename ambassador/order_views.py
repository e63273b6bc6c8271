"""Admin console for value sharing: the orders received and what each paid to whom."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from ambassador import orders
from ambassador.models import ORDER_STATUSES
from core.accounts.auth import page_roles_required
from core.accounts.models import User
from core.extensions import db
from points import services as points

bp = Blueprint("ambassador_order_pages", __name__)
admin_only = page_roles_required("admin")

STATUS_FILTERS = [("all", "全部"), ("paid", "已支付"), ("refunded", "已退款")]


def _users(ids) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}


@bp.route("/admin/ambassador/orders")
@admin_only
def orders_list():
    q = (request.args.get("q") or "").strip()[:64]
    resident = (request.args.get("resident") or "").strip()[:20]
    status = request.args.get("status") or "all"
    if status not in ORDER_STATUSES:
        status = "all"
    page = orders.list_orders(q=q or None, resident=resident or None, status=None if status == "all" else status,
                              limit=20, cursor=request.args.get("cursor") or None)
    users = _users(uid for o in page.items for uid in (o.resident_id, o.steward_user_id, o.inviter_id))
    return render_template("admin/ambassador/orders.html", nav="ambassador_orders", page=page, q=q,
                           resident=resident, status=status, filters=STATUS_FILTERS, users=users, yuan=orders.yuan,
                           status_labels=orders.STATUS_LABELS)


@bp.route("/admin/ambassador/orders/<int:order_id>")
@admin_only
def order_detail(order_id):
    order = orders.get_order(order_id)
    payouts = orders.payouts(order)
    users = _users([order.resident_id, *(p.user_id for p in payouts)])
    rule_names = {rule.kind: rule.name for rule in points.rules()}
    return render_template("admin/ambassador/order.html", nav="ambassador_orders", order=order, payouts=payouts,
                           users=users, yuan=orders.yuan, status_labels=orders.STATUS_LABELS,
                           payout_labels=orders.PAYOUT_LABELS, rule_names=rule_names,
                           role_kinds=dict(orders.ROLES))
