"""Admin console for referrals: every referral with a status filter; flagged pairs (same phone or
unionid) are cleared (paid) or dismissed (withheld) with a reason, through the same services as
the admin API. CSRF is checked on every POST by CSRFProtect (core.extensions)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ambassador import referrals
from ambassador.models import REFERRAL_STATUSES
from core.accounts.auth import page_roles_required
from core.accounts.models import User
from core.errors import APIError
from core.extensions import db

bp = Blueprint("ambassador_referral_pages", __name__)
admin_only = page_roles_required("admin")

MAX_ID = 2**63 - 1
STATUS_FILTERS = [("flagged", "待核查"), ("pending", "待奖励"), ("rewarded", "已奖励"), ("lapsed", "已失效"),
                  ("all", "全部")]


def _safe_next(target: str | None) -> str | None:
    # Only local paths: a form's `next` never sends the admin to another site.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _users(ids) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}


@bp.route("/admin/ambassador/referrals")
@admin_only
def referral_list():
    status = request.args.get("status") or "flagged"
    if status != "all" and status not in REFERRAL_STATUSES:
        status = "flagged"
    inviter_id = request.args.get("inviter_id", type=int)
    if inviter_id is not None and not 0 < inviter_id <= MAX_ID:
        inviter_id = None
    page = referrals.list_referrals(status=None if status == "all" else status, inviter_id=inviter_id, limit=20,
                                    cursor=request.args.get("cursor") or None)
    earned = referrals.points_by_referral(r.id for r in page.items)
    users = _users([u for r in page.items for u in (r.inviter_id, r.invitee_id)])
    return render_template("admin/ambassador/referrals.html", nav="ambassador_referrals", page=page, status=status,
                           filters=STATUS_FILTERS, inviter_id=inviter_id, users=users, earned=earned,
                           labels=referrals.STATUS_LABELS, flag_labels=referrals.FLAG_LABELS)


def _decide(referral_id: int, action) -> None:
    try:
        message = action()
        db.session.commit()
    except APIError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return
    flash(message, "success")


def _back() -> str:
    return _safe_next(request.form.get("next")) or url_for(".referral_list")


@bp.route("/admin/ambassador/referrals/<int:referral_id>/clear", methods=["POST"])
@admin_only
def referral_clear(referral_id):
    def clear():
        outcome = referrals.clear_flag(referral_id, current_user, request.form.get("reason"))
        if outcome.paid:
            return f"邀请 #{referral_id} 已解除标记，已向邀请人发放 {sum(outcome.paid.values())} 积分"
        if outcome.refused is not None:
            return f"邀请 #{referral_id} 已解除标记；奖励暂未发放（{outcome.refused.message}），将自动重试"
        return f"邀请 #{referral_id} 已解除标记"
    _decide(referral_id, clear)
    return redirect(_back())


@bp.route("/admin/ambassador/referrals/<int:referral_id>/dismiss", methods=["POST"])
@admin_only
def referral_dismiss(referral_id):
    def dismiss():
        referrals.dismiss_flag(referral_id, current_user, request.form.get("reason"))
        return f"邀请 #{referral_id} 已确认标记，奖励不予发放"
    _decide(referral_id, dismiss)
    return redirect(_back())
