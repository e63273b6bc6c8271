"""Admin console: the review queue of flagged bindings (agents and admins). The same services as
the JSON API; each POST commits once or shows the refusal."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask_login import current_user

from community.trust import services
from community.trust.models import FLAG_REASONS
from core import pages

bp = Blueprint("community_trust_pages", __name__)

STATUS_FILTERS = [("open", "待审核"), ("confirmed", "已认定虚假"), ("dismissed", "已判定正常"), ("all", "全部")]
REFUSALS = {"binding_flag_decided": "已被处理", "binding_flag_not_found": "不存在"}


def _view(flag_id: int):
    return services.flag_views([services.get_flag(flag_id)])[0]


FLAGS_BULK = pages.BulkPage(
    noun="可疑绑定", unit="条", reject_verb="认定虚假",
    approve_note="判定为正常绑定，绑定保留，积分照常等待住户的真实使用信号。",
    reject_note="收回该绑定的积分（未发放的作废，已发放的冲正），结束绑定（原因：虚假），不再计入绑定统计。",
    reason_reader="客服与管理员", time_label="标记时间", rows="admin/community/trust/_flag_rows.html",
    get=_view, decide_many=services.decide_many, refusals=REFUSALS, nav="binding_flags",
    queue="community_trust_pages.flags", pending="open")


@bp.route("/admin/binding-flags")
@pages.staff_only
def flags():
    status = request.args.get("status") or "open"
    if status not in dict(STATUS_FILTERS):
        status = "open"
    page = services.list_flags(status=None if status == "all" else status, **pages.cursor_args())
    return render_template("admin/community/trust/flags.html", nav="binding_flags", page=page,
                           items=services.flag_views(page.items), status=status, filters=STATUS_FILTERS,
                           reasons=FLAG_REASONS)


@bp.route("/admin/binding-flags/bulk", methods=["POST"])
@pages.staff_only
def flags_bulk():
    """Bulk pass (dismiss) or confirm as fake: the first POST shows what will happen, the confirmed one does it."""
    return pages.bulk_decide(FLAGS_BULK)


@bp.route("/admin/binding-flags/<int:flag_id>/confirm", methods=["POST"])
@pages.staff_only
def flag_confirm(flag_id):
    pages.apply(lambda: services.confirm_flag(flag_id, current_user, request.form.get("note")),
                f"可疑绑定 #{flag_id} 已认定为虚假：积分已收回，绑定已结束")
    return redirect(pages.back(".flags"))


@bp.route("/admin/binding-flags/<int:flag_id>/dismiss", methods=["POST"])
@pages.staff_only
def flag_dismiss(flag_id):
    pages.apply(lambda: services.dismiss_flag(flag_id, current_user, request.form.get("note")),
                f"可疑绑定 #{flag_id} 已判定为正常")
    return redirect(pages.back(".flags"))
