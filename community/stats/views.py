"""Admin console: estate KPIs and the league table."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from community.estates import services as estates
from community.stats import services
from core import pages
from core.errors import APIError
from core.formatting import BUSINESS_TZ

bp = Blueprint("community_stats_pages", __name__)


def _this_month() -> str:
    now = datetime.now(BUSINESS_TZ)
    return services.label(now.year, now.month)


@bp.route("/admin/estates/<int:estate_id>/kpis")
@pages.staff_only
def estate_kpis(estate_id):
    estate = estates.get_estate(estate_id)
    end = request.args.get("to") or _this_month()
    start = request.args.get("from")
    try:
        if not start:
            start = services.label(*services.shift(*services.parse_month(end, "to"), -11))
        data = services.estate_kpis(estate_id, start, end)
    except APIError as exc:
        flash(exc.message, "error")
        end = _this_month()
        start = services.label(*services.shift(*services.parse_month(end, "to"), -11))
        data = services.estate_kpis(estate_id, start, end)
    return render_template("admin/community/stats/estate_kpis.html", nav="estates", estate=estate, data=data, start=start, end=end)


@bp.route("/admin/estates/<int:estate_id>/kpis.csv")
@pages.staff_only
def estate_kpis_csv(estate_id):
    start, end = request.args.get("from", ""), request.args.get("to", "")
    try:
        data = services.estate_kpis(estate_id, start, end)
    except APIError as exc:
        flash(exc.message, "error")
        return redirect(url_for(".estate_kpis", estate_id=estate_id))
    return Response(services.kpis_csv(data), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="estate-{estate_id}-kpis-{start}-{end}.csv"'})


@bp.route("/admin/estate-league")
@pages.staff_only
def estate_league():
    kpi = request.args.get("kpi") or "orders_per_1000"
    month = request.args.get("month") or _this_month()
    city = request.args.get("city") or None
    district = request.args.get("district") or None
    order = request.args.get("order") or "desc"
    items, error = [], None
    if city or district:
        try:
            items = services.league(kpi, month, city=city, district=district, ascending=order == "asc")
        except APIError as exc:
            error = exc.message
    return render_template("admin/community/stats/estate_league.html", nav="league", items=items, error=error, kpi=kpi,
                           month=month, city=city or "", district=district or "", order=order,
                           kpi_labels=KPI_LABELS)


KPI_LABELS = {"orders_per_1000": "每千户订单", "complaints_per_1000": "每千户投诉", "orders": "订单数",
              "complaints": "投诉数", "avg_rating": "平均评分"}
