"""Admin console for ambassadors: the application queue (bulk decisions with a confirmation step),
the ambassadors list and an ambassador's detail with suspend / reinstate / remove and estates.

Pages call the same services as the admin JSON API; each POST commits once or shows the refusal.
Agents (客服) may read these pages; only admins decide or change anything.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ambassador import services
from ambassador.models import AMBASSADOR_STATUSES, APPLICATION_STATUSES, CHANNELS
from community.models import Estate
from core.accounts.auth import page_roles_required
from core.accounts.models import User
from core.errors import APIError, NotFound
from core.extensions import db

bp = Blueprint("ambassador_pages", __name__)
readers = page_roles_required("admin", "agent")
admin_only = page_roles_required("admin")

MAX_ID = 2**63 - 1
BULK_MAX = 100
REFUSALS = {"already_decided": "已被处理", "application_not_found": "不存在", "already_ambassador": "已是代言人",
            "validation_error": "信息不完整"}
APPLICATION_FILTERS = [("pending", "待审核"), ("approved", "已通过"), ("rejected", "已拒绝"), ("withdrawn", "已撤回"),
                       ("all", "全部")]
AMBASSADOR_FILTERS = [("", "全部状态"), ("active", "正常"), ("suspended", "已暂停"), ("removed", "已移除")]


# -- helpers ----------------------------------------------------------------------------------

def _safe_next(target: str | None) -> str | None:
    # Only local paths: a form's `next` never sends the admin to another site.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _apply(action, success: str):
    """Run a service call and commit; on refusal roll back and flash why. Returns (done, result)."""
    try:
        result = action()
        db.session.commit()
    except APIError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return False, None
    if success:
        flash(success, "success")
    return True, result


def _users(ids) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}


def _estates(ids) -> dict[int, Estate]:
    wanted = {i for i in ids if isinstance(i, int)}
    if not wanted:
        return {}
    return {e.id: e for e in db.session.scalars(sa.select(Estate).where(Estate.id.in_(wanted)))}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def _cursor() -> str | None:
    return request.args.get("cursor") or None


def _can_decide() -> bool:
    return current_user.has_role("admin")


# -- applications -----------------------------------------------------------------------------

@bp.route("/admin/ambassador/applications")
@readers
def applications():
    status = request.args.get("status") or "pending"
    if status != "all" and status not in APPLICATION_STATUSES:
        status = "pending"
    channel = request.args.get("channel") or ""
    if channel not in CHANNELS:
        channel = ""
    q = (request.args.get("q") or "").strip()[:64]
    page = services.list_applications(status=None if status == "all" else status, channel=channel or None,
                                      q=q or None, limit=20, cursor=_cursor())
    return render_template("admin/ambassador/applications.html", nav="ambassador_applications", page=page,
                           status=status, channel=channel, q=q, filters=APPLICATION_FILTERS,
                           channels=services.CHANNEL_LABELS, can_decide=_can_decide(),
                           users=_users([a.user_id for a in page.items] + [a.inviter_id for a in page.items]
                                        + [a.decided_by_id for a in page.items]),
                           estates=_estates(i for a in page.items for i in (a.estate_ids or [])))


@bp.route("/admin/ambassador/applications/bulk", methods=["POST"])
@admin_only
def applications_bulk():
    """Bulk approve or reject: the first POST shows what will happen, the confirmed one does it."""
    back = _safe_next(request.form.get("next")) or url_for(".applications")
    action = request.form.get("action")
    reason = (request.form.get("reason") or "").strip()
    ids = list(dict.fromkeys(i for i in request.form.getlist("ids", type=int) if 0 < i <= MAX_ID))
    if action not in ("approve", "reject"):
        flash("请选择批量通过或批量拒绝", "error")
        return redirect(back)
    if not ids:
        flash("请先勾选要处理的申请", "error")
        return redirect(back)
    if len(ids) > BULK_MAX:
        flash(f"一次最多处理 {BULK_MAX} 条", "error")
        return redirect(back)
    if action == "reject" and not reason:
        flash("批量拒绝必须填写拒绝原因", "error")
        return redirect(back)
    if request.form.get("confirmed") != "1":
        items = []
        for application_id in ids:
            try:
                items.append(services.get_application(application_id))
            except NotFound:
                pass
        return render_template("admin/ambassador/_app_bulk_confirm.html", nav="ambassador_applications",
                               items=items, action=action, reason=reason, back=back,
                               channels=services.CHANNEL_LABELS, users=_users(a.user_id for a in items),
                               decidable=sum(a.status == "pending" for a in items))
    done, outcome = _apply(lambda: services.decide_many(ids, action, current_user, reason), "")
    if done:
        verb = "通过" if action == "approve" else "拒绝"
        decided = [i for i, code in outcome.items() if code == "ok"]
        refused = [f"#{i}（{REFUSALS.get(code, code)}）" for i, code in outcome.items() if code != "ok"]
        if decided:
            flash(f"已{verb} {len(decided)} 份申请", "success")
        if refused:
            flash(f"{len(refused)} 份未{verb}：" + "、".join(refused), "error")
    return redirect(back)


def _back_to_queue() -> str:
    return _safe_next(request.form.get("next")) or url_for(".applications")


@bp.route("/admin/ambassador/applications/<int:application_id>/approve", methods=["POST"])
@admin_only
def application_approve(application_id):
    _apply(lambda: services.approve_application(application_id, current_user),
           f"申请 #{application_id} 已通过，申请人已成为服务代言人")
    return redirect(_back_to_queue())


@bp.route("/admin/ambassador/applications/<int:application_id>/reject", methods=["POST"])
@admin_only
def application_reject(application_id):
    _apply(lambda: services.reject_application(application_id, current_user, request.form.get("reason", "")),
           f"申请 #{application_id} 已拒绝")
    return redirect(_back_to_queue())


# -- ambassadors ------------------------------------------------------------------------------

@bp.route("/admin/ambassador/ambassadors")
@readers
def ambassadors():
    filters = {"level_id": _int_arg("level_id"), "estate_id": _int_arg("estate_id"),
               "city": (request.args.get("city") or "").strip()[:32] or None,
               "status": request.args.get("status") if request.args.get("status") in AMBASSADOR_STATUSES else None,
               "q": (request.args.get("q") or "").strip()[:64] or None}
    page = services.list_ambassadors(**filters, limit=20, cursor=_cursor())
    levels = services.levels()
    estate = db.session.get(Estate, filters["estate_id"]) if filters["estate_id"] else None
    return render_template("admin/ambassador/ambassadors.html", nav="ambassadors", page=page, filters=filters,
                           pager_args={k: v for k, v in filters.items() if v},
                           levels=levels, level_names={lv.id: lv.name for lv in levels}, estate=estate,
                           statuses=AMBASSADOR_FILTERS, status_labels=services.AMBASSADOR_STATUS_LABELS,
                           channels=services.CHANNEL_LABELS)


@bp.route("/admin/ambassador/ambassadors/<int:user_id>")
@readers
def ambassador_detail(user_id):
    detail = services.ambassador_detail(user_id)
    users = _users([h["actor_id"] for h in detail.history])
    return render_template("admin/ambassador/ambassador.html", nav="ambassadors", d=detail, a=detail.ambassador,
                           users=users, can_decide=_can_decide(), channels=services.CHANNEL_LABELS,
                           status_labels=services.AMBASSADOR_STATUS_LABELS,
                           estate_ids=", ".join(str(e.id) for e in detail.estates))


@bp.route("/admin/ambassador/ambassadors/<int:user_id>/status", methods=["POST"])
@admin_only
def ambassador_status(user_id):
    action = request.form.get("action")
    if action not in services.STATUS_ACTIONS:
        flash("请选择暂停、恢复或移除", "error")
    else:
        _apply(lambda: services.change_status(user_id, action, request.form.get("reason", ""), current_user),
               f"代言人已{services.ACTION_LABELS[action]}")
    return redirect(url_for(".ambassador_detail", user_id=user_id))


@bp.route("/admin/ambassador/ambassadors/<int:user_id>/estates", methods=["POST"])
@admin_only
def ambassador_estates(user_id):
    raw = request.form.get("estate_ids", "")
    parts = [p for p in re.split(r"[\s,，、;；]+", raw) if p]
    if not parts or not all(p.isdigit() and len(p) < 19 for p in parts):
        flash("请填写小区 ID，多个用逗号分隔，例如 12, 34", "error")
    else:
        _apply(lambda: services.set_estates(user_id, [int(p) for p in parts], current_user), "服务小区已更新")
    return redirect(url_for(".ambassador_detail", user_id=user_id))
