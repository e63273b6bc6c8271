"""Service orders in the engineer workbench; orders, complaints, estate KPIs and the league table
in the admin console. The same services as the JSON API."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from community import kpis, orders, services, visits
from community.models import Engineer, EngineerEstate, Estate
from community.views import _apply, _cursor_args
from core.accounts.auth import page_roles_required
from core.errors import APIError
from core.extensions import db
from core.formatting import BUSINESS_TZ

bp = Blueprint("community_order_pages", __name__)
engineer_only = page_roles_required("engineer")
staff_only = page_roles_required("admin", "agent")

STATUS_CHOICES = [("", "全部状态"), *orders.STATUS_LABELS.items()]


class ScheduleForm(FlaskForm):
    scheduled_for = DateTimeLocalField("预约时间", format="%Y-%m-%dT%H:%M", validators=[DataRequired("请选择预约时间")])


class ReasonForm(FlaskForm):
    reason = StringField("原因", validators=[DataRequired("请填写原因"), Length(max=255)])


class ResolveForm(FlaskForm):
    resolution = TextAreaField("处理结果", validators=[DataRequired("请填写处理结果"), Length(max=1000)])


# -- engineer workbench -----------------------------------------------------------------------

@bp.route("/engineer/orders")
@engineer_only
def engineer_orders():
    status = request.args.get("status") or None
    if status and status not in orders.STATUS_LABELS:
        abort(404)
    page = orders.orders_of_engineer(current_user.id, status=status, **_cursor_args())
    estates = {e.id: e for e in db.session.scalars(sa.select(Estate).where(
        Estate.id.in_({o.estate_id for o in page.items})))} if page.items else {}
    return render_template("engineer/orders.html", nav="orders", page=page, status=status, estates=estates,
                           choices=STATUS_CHOICES, schedule_form=ScheduleForm(), cancel_form=ReasonForm(),
                           types=orders.SERVICE_TYPES, labels=orders.STATUS_LABELS)


@bp.route("/engineer/orders/<int:order_id>/schedule", methods=["POST"])
@engineer_only
def engineer_schedule(order_id):
    form = ScheduleForm()
    if form.validate_on_submit():
        when = form.scheduled_for.data.replace(tzinfo=BUSINESS_TZ)  # the form's time is Beijing time
        _apply(lambda: orders.schedule(order_id, current_user, when), "已预约上门时间")
    else:
        _flash_errors(form)
    return redirect(request.referrer or url_for(".engineer_orders"))


@bp.route("/engineer/orders/<int:order_id>/complete", methods=["POST"])
@engineer_only
def engineer_complete(order_id):
    if FlaskForm().validate_on_submit():
        _apply(lambda: orders.complete(order_id, current_user), "已标记为完成")
    return redirect(request.referrer or url_for(".engineer_orders"))


@bp.route("/engineer/orders/<int:order_id>/cancel", methods=["POST"])
@engineer_only
def engineer_cancel(order_id):
    form = ReasonForm()
    if form.validate_on_submit():
        from core.accounts.services import Principal
        who = Principal(id=current_user.id, roles=current_user.roles)
        _apply(lambda: orders.cancel(order_id, who, form.reason.data), "服务单已取消")
    else:
        _flash_errors(form)
    return redirect(request.referrer or url_for(".engineer_orders"))


def _flash_errors(form: FlaskForm) -> None:
    from flask import flash
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")


@bp.route("/engineer/visits", methods=["GET", "POST"])
@engineer_only
def engineer_visits():
    from datetime import date

    from community.models import VisitAnnouncement, VisitSlot

    engineer = services.engineer_of(current_user.id)
    if request.method == "POST" and FlaskForm().validate_on_submit():
        slots = [part.strip() for part in (request.form.get("slots") or "").replace("，", ",").split(",") if part.strip()]
        try:
            day = date.fromisoformat(request.form.get("date") or "")
        except ValueError:
            from flask import flash
            flash("请选择日期", "error")
        else:
            done, result = _apply(lambda: visits.announce(current_user, request.form.get("estate_id", type=int) or 0,
                                                          day, slots, request.form.get("note") or ""),
                                  "上门安排已发布，已通知小区住户")
            if done:
                return redirect(url_for(".engineer_visits"))
    today = datetime.now(BUSINESS_TZ).date()
    announcements = db.session.scalars(sa.select(VisitAnnouncement).where(
        VisitAnnouncement.engineer_id == engineer.id, VisitAnnouncement.day >= today)
        .order_by(VisitAnnouncement.day)).all()
    slots = {}
    for slot in db.session.scalars(sa.select(VisitSlot).where(VisitSlot.announcement_id.in_(
            [a.id for a in announcements])).order_by(VisitSlot.starts_at)) if announcements else []:
        slots.setdefault(slot.announcement_id, []).append(slot)
    estates = {e.id: e for e in engineer.estates}
    return render_template("engineer/visits.html", nav="visits", engineer=engineer, announcements=announcements,
                           slots=slots, estates=estates, today=today)


# -- admin: orders and complaints --------------------------------------------------------------

@bp.route("/admin/service-orders")
@staff_only
def admin_orders():
    status = request.args.get("status") or None
    estate_id = request.args.get("estate_id", type=int)
    if status and status not in orders.STATUS_LABELS:
        abort(404)
    page = orders.all_orders(estate_id=estate_id, status=status, **_cursor_args())
    estate_ids = {o.estate_id for o in page.items}
    estates = {e.id: e for e in db.session.scalars(sa.select(Estate).where(Estate.id.in_(estate_ids)))}
    coverers: dict[int, list[Engineer]] = {}
    for estate_id_, engineer in db.session.execute(
            sa.select(EngineerEstate.estate_id, Engineer).join(Engineer, Engineer.id == EngineerEstate.engineer_id)
            .where(EngineerEstate.estate_id.in_(estate_ids), Engineer.status == "active").order_by(Engineer.name)):
        coverers.setdefault(estate_id_, []).append(engineer)
    engineers = {e.id: e for e in db.session.scalars(sa.select(Engineer).where(
        Engineer.id.in_({o.engineer_id for o in page.items if o.engineer_id})))}
    return render_template("admin/service_orders.html", nav="service_orders", page=page, status=status,
                           estate_id=estate_id, estates=estates, engineers=engineers, coverers=coverers,
                           choices=STATUS_CHOICES, types=orders.SERVICE_TYPES, labels=orders.STATUS_LABELS)


@bp.route("/admin/service-orders/<int:order_id>/assign", methods=["POST"])
@staff_only
def admin_assign(order_id):
    engineer_id = request.form.get("engineer_id", type=int)
    if FlaskForm().validate_on_submit() and engineer_id:
        _apply(lambda: orders.assign(order_id, engineer_id, current_user), "已派单")
    return redirect(request.referrer or url_for(".admin_orders"))


@bp.route("/admin/complaints")
@staff_only
def admin_complaints():
    status = request.args.get("status") or "open"
    if status not in ("open", "resolved"):
        abort(404)
    page = orders.complaints(status=status, **_cursor_args())
    estates = {e.id: e for e in db.session.scalars(sa.select(Estate).where(
        Estate.id.in_({c.estate_id for c in page.items})))} if page.items else {}
    return render_template("admin/complaints.html", nav="complaints", page=page, status=status, estates=estates,
                           form=ResolveForm())


@bp.route("/admin/complaints/<int:complaint_id>/resolve", methods=["POST"])
@staff_only
def admin_resolve(complaint_id):
    form = ResolveForm()
    if form.validate_on_submit():
        _apply(lambda: orders.resolve_complaint(complaint_id, current_user, form.resolution.data), "投诉已处理")
    else:
        _flash_errors(form)
    return redirect(request.referrer or url_for(".admin_complaints"))


# -- admin: KPIs and the league table -----------------------------------------------------------

def _this_month() -> str:
    now = datetime.now(BUSINESS_TZ)
    return kpis.label(now.year, now.month)


@bp.route("/admin/estates/<int:estate_id>/kpis")
@staff_only
def estate_kpis(estate_id):
    estate = services.get_estate(estate_id)
    end = request.args.get("to") or _this_month()
    start = request.args.get("from")
    try:
        if not start:
            start = kpis.label(*kpis.shift(*kpis.parse_month(end, "to"), -11))
        data = kpis.estate_kpis(estate_id, start, end)
    except APIError as exc:
        from flask import flash
        flash(exc.message, "error")
        end = _this_month()
        start = kpis.label(*kpis.shift(*kpis.parse_month(end, "to"), -11))
        data = kpis.estate_kpis(estate_id, start, end)
    return render_template("admin/estate_kpis.html", nav="estates", estate=estate, data=data, start=start, end=end)


@bp.route("/admin/estates/<int:estate_id>/kpis.csv")
@staff_only
def estate_kpis_csv(estate_id):
    start, end = request.args.get("from", ""), request.args.get("to", "")
    try:
        data = kpis.estate_kpis(estate_id, start, end)
    except APIError as exc:
        from flask import flash
        flash(exc.message, "error")
        return redirect(url_for(".estate_kpis", estate_id=estate_id))
    from flask import Response
    return Response(kpis.kpis_csv(data), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="estate-{estate_id}-kpis-{start}-{end}.csv"'})


@bp.route("/admin/estate-league")
@staff_only
def estate_league():
    kpi = request.args.get("kpi") or "orders_per_1000"
    month = request.args.get("month") or _this_month()
    city = request.args.get("city") or None
    district = request.args.get("district") or None
    order = request.args.get("order") or "desc"
    items, error = [], None
    if city or district:
        try:
            items = kpis.league(kpi, month, city=city, district=district, ascending=order == "asc")
        except APIError as exc:
            error = exc.message
    return render_template("admin/estate_league.html", nav="league", items=items, error=error, kpi=kpi,
                           month=month, city=city or "", district=district or "", order=order,
                           kpi_labels=KPI_LABELS)


KPI_LABELS = {"orders_per_1000": "每千户订单", "complaints_per_1000": "每千户投诉", "orders": "订单数",
              "complaints": "投诉数", "avg_rating": "平均评分"}
