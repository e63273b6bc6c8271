"""Due care in the engineer workbench (the steward's lists and their outcomes) and in the admin
console (the report and the agent queue). The same services as the JSON API."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm

from community.care import services
from community.estates import services as estates
from core import pages
from core.errors import APIError

bp = Blueprint("community_care_pages", __name__)

TABS = {"due": "待处理", "overdue": "已逾期", "snoozed": "稍后提醒", "booked": "已预约", "done": "已完成"}


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


@bp.route("/engineer/reminders")
@pages.engineer_only
def engineer_reminders():
    tab = request.args.get("tab") or "due"
    if tab not in TABS:
        abort(404)
    who = pages.principal()
    engineer = estates.engineer_of(who.id)
    estate_id = pages.id_arg("estate_id")
    today = services.business_today()
    page = services.view_page(services.engineer_items(who, tab, estate_id=estate_id, **pages.cursor_args()), who)
    return render_template("engineer/care/reminders.html", nav="reminders", page=page, tab=tab, tabs=TABS,
                           counts=services.engineer_counts(who), estates=engineer.estates, estate_id=estate_id,
                           snooze_from=today + timedelta(days=1),
                           snooze_to=today + timedelta(days=services.MAX_SNOOZE_DAYS))


@bp.route("/engineer/reminders/<int:item_id>/outcome", methods=["POST"])
@pages.engineer_only
def engineer_outcome(item_id):
    outcome = request.form.get("outcome")
    if FlaskForm().validate_on_submit():
        until = None
        if outcome == "snoozed":
            try:
                until = date.fromisoformat(request.form.get("snoozed_until") or "")
            except ValueError:
                flash("请选择下次提醒的日期", "error")
                return redirect(pages.back(".engineer_reminders"))
        pages.apply(lambda: services.record_outcome(
            item_id, pages.principal(), outcome or "", snoozed_until=until, note=request.form.get("note"),
            preferred_time=request.form.get("preferred_time")),
            lambda result: _said(outcome, result))
    return redirect(pages.back(".engineer_reminders"))


def _said(outcome: str, result) -> str:
    item, order = result
    if outcome == "booked" and order is not None:
        return f"已为客户预约，服务单 #{order.id}"
    if outcome == "snoozed":
        return f"将于 {item.snoozed_until.month}月{item.snoozed_until.day}日 再次提醒"
    return f"已记录：{services.OUTCOME_LABELS.get(outcome, outcome)}"


@bp.route("/admin/care")
@pages.staff_only
def admin_report():
    by = request.args.get("by") or "estate"
    if by not in ("estate", "engineer"):
        abort(404)
    try:
        report = services.report(by, _date_arg("from"), _date_arg("to"), limit=50, cursor=pages.cursor())
    except APIError as exc:  # a period the report refuses: say why, show the default one
        flash(exc.message, "error")
        report = services.report(by, limit=50)
    return render_template("admin/community/care/report.html", nav="care", report=report, by=by)


@bp.route("/admin/care/queue")
@pages.staff_only
def admin_queue():
    estate = pages.picked_arg("estate", estates.get_estate, estates.resolve_estate)
    estate_id = estate.id if estate else None
    who = pages.principal()
    page = services.view_page(services.agent_queue(who, estate_id=estate_id, **pages.cursor_args()), who)
    estate_ids = {i["estate"]["id"] for i in page.items if i["estate"]}
    return render_template("admin/community/care/queue.html", nav="care_queue", page=page, estate_id=estate_id,
                           estate=estate, coverers=estates.covering_engineers(estate_ids))


@bp.route("/admin/care/items/<int:item_id>/assign", methods=["POST"])
@pages.staff_only
def admin_assign(item_id):
    engineer_id = request.form.get("engineer_id", type=int)
    if FlaskForm().validate_on_submit() and engineer_id:
        pages.apply(lambda: services.assign_item(item_id, engineer_id, current_user), "已指派工程师")
    return redirect(pages.back(".admin_queue"))


@bp.app_template_filter("care_day")
def care_day(value: date | None) -> str:
    return f"{value.month}月{value.day}日" if value else ""
