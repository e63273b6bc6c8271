"""Admin console: the notifications outbox by status, WeChat's failures, quota per template, resend."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm

from core import pages
from core.notifications import services
from core.notifications.models import OUTBOX_STATUSES

bp = Blueprint("core_notifications_pages", __name__)


@bp.route("/admin/notifications")
@pages.admin_only
def outbox():
    """Counts per status, the messages of one status (failures first), and quota per template."""
    counts = services.status_counts()
    status = request.args.get("status")
    if status not in OUTBOX_STATUSES:
        status = "failed"
    page = services.outbox_messages(status, **pages.cursor_args())
    return render_template("admin/notifications/outbox.html", nav="notifications", counts=counts, status=status,
                           page=page, labels=services.STATUS_LABELS, meaning=services.error_meaning,
                           errcode=services.error_code, resent=services.resends_of(m.id for m in page.items),
                           users=pages.users(m.user_id for m in page.items), quotas=services.quota_by_template(),
                           purposes=services.PURPOSE_LABELS, errors=services.ERROR_MEANINGS, form=FlaskForm())


@bp.route("/admin/notifications/<int:message_id>/resend", methods=["POST"])
@pages.admin_only
def resend(message_id):
    if FlaskForm().validate_on_submit():
        confirmed = request.form.get("confirm") == "1"
        pages.apply(lambda: services.resend(message_id, current_user, confirmed=confirmed),
                    lambda result: f"已重新排队（新消息 #{result[0].id}）" if result[1]
                    else f"该消息已重发过（消息 #{result[0].id}），没有再次排队")
    return redirect(pages.back(".outbox"))
