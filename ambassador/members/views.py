"""Admin console for ambassadors: the application queue (bulk decisions with a confirmation step),
the ambassadors list and an ambassador's detail with suspend / reinstate / remove and estates.

Pages call the same services as the admin JSON API; each POST commits once or shows the refusal.
Agents (客服) may read these pages; only admins decide or change anything.
"""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ambassador.levels import services as levels
from ambassador.members import services
from ambassador.models import AMBASSADOR_STATUSES, APPLICATION_STATUSES, CHANNELS
from community.estates import services as estates
from core import pages
from core.errors import invalid

bp = Blueprint("ambassador_members_pages", __name__)


REFUSALS = {"already_decided": "已被处理", "application_not_found": "不存在", "already_ambassador": "已是代言人",
            "validation_error": "信息不完整"}
APPLICATION_FILTERS = [("pending", "待审核"), ("approved", "已通过"), ("rejected", "已拒绝"), ("withdrawn", "已撤回"),
                       ("all", "全部")]
AMBASSADOR_FILTERS = [("", "全部状态"), ("active", "正常"), ("suspended", "已暂停"), ("removed", "已移除")]


def _can_decide() -> bool:
    return current_user.has_role("admin")


# -- applications -----------------------------------------------------------------------------

@bp.route("/admin/ambassador/applications")
@pages.staff_only
def applications():
    status = request.args.get("status") or "pending"
    if status != "all" and status not in APPLICATION_STATUSES:
        status = "pending"
    channel = request.args.get("channel") or ""
    if channel not in CHANNELS:
        channel = ""
    q = (request.args.get("q") or "").strip()[:64]
    page = services.list_applications(status=None if status == "all" else status, channel=channel or None,
                                      q=q or None, limit=20, cursor=pages.cursor())
    return render_template("admin/ambassador/members/applications.html", nav="ambassador_applications", page=page,
                           status=status, channel=channel, q=q, filters=APPLICATION_FILTERS,
                           channels=services.CHANNEL_LABELS, can_decide=_can_decide(),
                           users=pages.users([a.user_id for a in page.items] + [a.inviter_id for a in page.items]
                                        + [a.decided_by_id for a in page.items]),
                           estates=estates.estates_by_id(i for a in page.items for i in (a.estate_ids or [])))


APPLICATIONS_BULK = pages.BulkPage(
    noun="申请", unit="份", reject_verb="拒绝", approve_note="申请人随即成为入门等级的服务代言人，并获得邀请码。",
    reject_note="冷静期结束后申请人可再次申请。", reason_reader="申请人", time_label="申请时间",
    rows="admin/ambassador/members/_application_rows.html", get=services.get_application,
    decide_many=services.decide_many, refusals=REFUSALS, nav="ambassador_applications",
    queue="ambassador_members_pages.applications",
    context=lambda items: {"users": pages.users(a.user_id for a in items), "channels": services.CHANNEL_LABELS})


@bp.route("/admin/ambassador/applications/bulk", methods=["POST"])
@pages.admin_only
def applications_bulk():
    """Bulk approve or reject: the first POST shows what will happen, the confirmed one does it."""
    return pages.bulk_decide(APPLICATIONS_BULK)


@bp.route("/admin/ambassador/applications/<int:application_id>/approve", methods=["POST"])
@pages.admin_only
def application_approve(application_id):
    pages.apply(lambda: services.approve_application(application_id, current_user),
           f"申请 #{application_id} 已通过，申请人已成为服务代言人")
    return redirect(pages.back(".applications"))


@bp.route("/admin/ambassador/applications/<int:application_id>/reject", methods=["POST"])
@pages.admin_only
def application_reject(application_id):
    pages.apply(lambda: services.reject_application(application_id, current_user, request.form.get("reason", "")),
           f"申请 #{application_id} 已拒绝")
    return redirect(pages.back(".applications"))


# -- ambassadors ------------------------------------------------------------------------------

@bp.route("/admin/ambassador/ambassadors")
@pages.staff_only
def ambassadors():
    estate = pages.picked_arg("estate", estates.get_estate, estates.resolve_estate)
    filters = {"level_id": pages.id_arg("level_id"), "estate_id": estate.id if estate else None,
               "city": (request.args.get("city") or "").strip()[:32] or None,
               "status": request.args.get("status") if request.args.get("status") in AMBASSADOR_STATUSES else None,
               "q": (request.args.get("q") or "").strip()[:64] or None}
    page = services.list_ambassadors(**filters, limit=20, cursor=pages.cursor())
    all_levels = levels.list_levels()
    return render_template("admin/ambassador/members/ambassadors.html", nav="ambassadors", page=page, filters=filters,
                           pager_args={k: v for k, v in filters.items() if v},
                           levels=all_levels, level_names={lv.id: lv.name for lv in all_levels}, estate=estate,
                           statuses=AMBASSADOR_FILTERS, status_labels=services.AMBASSADOR_STATUS_LABELS,
                           channels=services.CHANNEL_LABELS)


@bp.route("/admin/ambassador/ambassadors/<int:user_id>")
@pages.staff_only
def ambassador_detail(user_id):
    detail = services.ambassador_detail(user_id)
    users = pages.users([h["actor_id"] for h in detail.history])
    return render_template("admin/ambassador/members/ambassador.html", nav="ambassadors", d=detail, a=detail.ambassador,
                           users=users, can_decide=_can_decide(), channels=services.CHANNEL_LABELS,
                           status_labels=services.AMBASSADOR_STATUS_LABELS,
                           estate_ids=", ".join(str(e.id) for e in detail.estates))


@bp.route("/admin/ambassador/ambassadors/<int:user_id>/status", methods=["POST"])
@pages.admin_only
def ambassador_status(user_id):
    action = request.form.get("action")
    if action not in services.STATUS_ACTIONS:
        flash("请选择暂停、恢复或移除", "error")
    else:
        pages.apply(lambda: services.change_status(user_id, action, request.form.get("reason", ""), current_user),
               f"代言人已{services.ACTION_LABELS[action]}")
    return redirect(url_for(".ambassador_detail", user_id=user_id))


@bp.route("/admin/ambassador/ambassadors/<int:user_id>/estates", methods=["POST"])
@pages.admin_only
def ambassador_estates(user_id):
    # The estates kept (checkboxes of the current ones) and one added with the picker.
    parts = [p for raw in request.form.getlist("estate_ids") for p in re.split(r"[\s,，、;；]+", raw) if p]
    if not all(p.isdigit() and len(p) < 19 for p in parts):
        flash("服务小区无效，请重新选择", "error")
        return redirect(url_for(".ambassador_detail", user_id=user_id))

    def save():
        ids = [int(p) for p in parts]
        added = pages.picked("estate", estates.get_estate, estates.resolve_estate)
        if added is not None and added.id not in ids:
            ids.append(added.id)
        if not ids:
            raise invalid("estate", "请至少保留或添加一个服务小区")
        return services.set_estates(user_id, ids, current_user)

    pages.apply(save, "服务小区已更新")
    return redirect(url_for(".ambassador_detail", user_id=user_id))
