"""Admin console for referrals: every referral with a status filter; flagged pairs (same phone or
unionid) are cleared (paid) or dismissed (withheld) with a reason, through the same services as
the admin API. CSRF is checked on every POST by CSRFProtect (core.extensions)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask_login import current_user

from ambassador.referrals import services
from ambassador.referrals.models import REFERRAL_STATUSES
from core import pages

bp = Blueprint("ambassador_referrals_pages", __name__)


STATUS_FILTERS = [("flagged", "待核查"), ("pending", "待奖励"), ("rewarded", "已奖励"), ("lapsed", "已失效"),
                  ("all", "全部")]


@bp.route("/admin/ambassador/referrals")
@pages.admin_only
def referral_list():
    status = request.args.get("status") or "flagged"
    if status != "all" and status not in REFERRAL_STATUSES:
        status = "flagged"
    inviter_id = pages.id_arg("inviter_id")
    page = services.list_referrals(status=None if status == "all" else status, inviter_id=inviter_id,
                                   **pages.cursor_args())
    earned = services.points_by_referral(r.id for r in page.items)
    users = pages.users([u for r in page.items for u in (r.inviter_id, r.invitee_id)])
    return render_template("admin/ambassador/referrals/referrals.html", nav="ambassador_referrals", page=page, status=status,
                           filters=STATUS_FILTERS, inviter_id=inviter_id, users=users, earned=earned,
                           labels=services.STATUS_LABELS, flag_labels=services.FLAG_LABELS)


@bp.route("/admin/ambassador/referrals/<int:referral_id>/clear", methods=["POST"])
@pages.admin_only
def referral_clear(referral_id):
    def clear():
        outcome = services.clear_flag(referral_id, current_user, request.form.get("reason"))
        if outcome.paid:
            return f"邀请 #{referral_id} 已解除标记，已向邀请人发放 {sum(outcome.paid.values())} 积分"
        if outcome.refused is not None:
            return f"邀请 #{referral_id} 已解除标记；奖励暂未发放（{outcome.refused.message}），将自动重试"
        return f"邀请 #{referral_id} 已解除标记"
    pages.apply(clear, lambda message: message)
    return redirect(pages.back(".referral_list"))


@bp.route("/admin/ambassador/referrals/<int:referral_id>/dismiss", methods=["POST"])
@pages.admin_only
def referral_dismiss(referral_id):
    def dismiss():
        services.dismiss_flag(referral_id, current_user, request.form.get("reason"))
        return f"邀请 #{referral_id} 已确认标记，奖励不予发放"
    pages.apply(dismiss, lambda message: message)
    return redirect(pages.back(".referral_list"))
