"""Service orders and visit days in the engineer workbench; orders and complaints in the
admin console. The same services as the JSON API."""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from community.estates import services as estates
from community.orders import services
from core import pages
from core.formatting import BUSINESS_TZ

bp = Blueprint("community_orders_pages", __name__)


STATUS_CHOICES = [("", "全部状态"), *services.STATUS_LABELS.items()]


class ScheduleForm(FlaskForm):
    scheduled_for = DateTimeLocalField("预约时间", format="%Y-%m-%dT%H:%M", validators=[DataRequired("请选择预约时间")])


class ReasonForm(FlaskForm):
    reason = StringField("原因", validators=[DataRequired("请填写原因"), Length(max=255)])


class ResolveForm(FlaskForm):
    resolution = TextAreaField("处理结果", validators=[DataRequired("请填写处理结果"), Length(max=1000)])


@bp.route("/engineer/orders")
@pages.engineer_only
def engineer_orders():
    status = request.args.get("status") or None
    if status and status not in services.STATUS_LABELS:
        abort(404)
    page = services.view_page(services.orders_of_engineer(current_user.id, status=status, **pages.cursor_args()),
                              pages.principal())
    return render_template("engineer/orders/orders.html", nav="orders", page=page, status=status,
                           estates=estates.estates_by_id(o.estate_id for o in page.items),
                           choices=STATUS_CHOICES, schedule_form=ScheduleForm(), cancel_form=ReasonForm(),
                           types=services.SERVICE_TYPES, labels=services.STATUS_LABELS)


@bp.route("/engineer/orders/<int:order_id>/schedule", methods=["POST"])
@pages.engineer_only
def engineer_schedule(order_id):
    form = ScheduleForm()
    if form.validate_on_submit():
        when = form.scheduled_for.data.replace(tzinfo=BUSINESS_TZ)  # the form's time is Beijing time
        pages.apply(lambda: services.schedule(order_id, current_user, when), "已预约上门时间")
    else:
        pages.flash_form_errors(form)
    return redirect(request.referrer or url_for(".engineer_orders"))


@bp.route("/engineer/orders/<int:order_id>/complete", methods=["POST"])
@pages.engineer_only
def engineer_complete(order_id):
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.complete(order_id, current_user), "已标记为完成")
    return redirect(request.referrer or url_for(".engineer_orders"))


@bp.route("/engineer/orders/<int:order_id>/cancel", methods=["POST"])
@pages.engineer_only
def engineer_cancel(order_id):
    form = ReasonForm()
    if form.validate_on_submit():
        pages.apply(lambda: services.cancel(order_id, pages.principal(), form.reason.data), "服务单已取消")
    else:
        pages.flash_form_errors(form)
    return redirect(request.referrer or url_for(".engineer_orders"))


@bp.route("/engineer/visits", methods=["GET", "POST"])
@pages.engineer_only
def engineer_visits():
    engineer = estates.engineer_of(current_user.id)
    if request.method == "POST" and FlaskForm().validate_on_submit():
        slots = [part.strip() for part in (request.form.get("slots") or "").replace("，", ",").split(",") if part.strip()]
        try:
            day = date.fromisoformat(request.form.get("date") or "")
        except ValueError:
            flash("请选择日期", "error")
        else:
            done, result = pages.apply(lambda: services.announce(current_user, request.form.get("estate_id", type=int) or 0,
                                                          day, slots, request.form.get("note") or ""),
                                  "上门安排已发布，已通知小区住户")
            if done:
                return redirect(url_for(".engineer_visits"))
    today = datetime.now(BUSINESS_TZ).date()
    return render_template("engineer/orders/visits.html", nav="visits", engineer=engineer,
                           announcements=services.announcements_of(engineer.id, today),
                           estates={e.id: e for e in engineer.estates}, today=today)


@bp.route("/admin/service-orders")
@pages.staff_only
def admin_orders():
    status = request.args.get("status") or None
    estate = pages.picked_arg("estate", estates.get_estate, estates.resolve_estate)  # the console's picker
    estate_id = estate.id if estate else None
    if status and status not in services.STATUS_LABELS:
        abort(404)
    page = services.view_page(services.all_orders(estate_id=estate_id, status=status, **pages.cursor_args(),
                                                  before=request.args.get("before") or None), pages.principal())
    estate_ids = {o.estate_id for o in page.items}
    return render_template("admin/community/orders/service_orders.html", nav="service_orders", page=page, status=status,
                           estate_id=estate_id, estate=estate,
                           total=services.count_orders(estate_id=estate_id, status=status), estates=estates.estates_by_id(estate_ids),
                           engineers=estates.engineers_by_id(o.engineer_id for o in page.items),
                           coverers=estates.covering_engineers(estate_ids),
                           choices=STATUS_CHOICES, types=services.SERVICE_TYPES, labels=services.STATUS_LABELS)


@bp.route("/admin/service-orders/<int:order_id>")
@pages.staff_only
def admin_order(order_id):
    """One order: customer, contact, address, and its timeline."""
    order, events = services.order_timeline(order_id, pages.principal())
    return render_template("admin/community/orders/service_order.html", nav="service_orders", order=order,
                           events=events, estate=estates.get_estate(order.estate_id), types=services.SERVICE_TYPES,
                           labels=services.STATUS_LABELS, sources=services.SOURCE_LABELS,
                           coverers=estates.covering_engineers([order.estate_id]).get(order.estate_id, []))


@bp.route("/admin/service-orders/<int:order_id>/assign", methods=["POST"])
@pages.staff_only
def admin_assign(order_id):
    engineer_id = request.form.get("engineer_id", type=int)
    if FlaskForm().validate_on_submit() and engineer_id:
        pages.apply(lambda: services.assign(order_id, engineer_id, current_user), "已派单")
    return redirect(request.referrer or url_for(".admin_orders"))


@bp.route("/admin/complaints")
@pages.staff_only
def admin_complaints():
    status = request.args.get("status") or "open"
    if status not in ("open", "resolved"):
        abort(404)
    page = services.complaints(status=status, **pages.cursor_args())
    return render_template("admin/community/orders/complaints.html", nav="complaints", page=page, status=status,
                           estates=estates.estates_by_id(c.estate_id for c in page.items),
                           form=ResolveForm())


@bp.route("/admin/complaints/<int:complaint_id>/resolve", methods=["POST"])
@pages.staff_only
def admin_resolve(complaint_id):
    form = ResolveForm()
    if form.validate_on_submit():
        pages.apply(lambda: services.resolve_complaint(complaint_id, current_user, form.resolution.data), "投诉已处理")
    else:
        pages.flash_form_errors(form)
    return redirect(request.referrer or url_for(".admin_complaints"))
