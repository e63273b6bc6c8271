"""Admin console: estate KPIs and the league table."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for

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
    """Every estate of a city (or district) ranked by one KPI of a month, those without orders
    included. The scope is required (a city's estates, never the network's 500k): it opens on the
    reader's last choice (kept in their session), else the city with the most estates; an agent
    on duty stays within their duties (services.scope_for)."""
    kpi = request.args.get("kpi") if request.args.get("kpi") in KPI_LABELS else "orders_per_1000"
    month = request.args.get("month") or _this_month()
    order = "asc" if request.args.get("order") == "asc" else "desc"
    asked = request.args.get("city")
    last = session.get("league_scope") or {}
    city = asked if asked is not None else last.get("city")
    district = request.args.get("district") if asked is not None else last.get("district")
    scope = services.scope_for(pages.principal(), city or services.default_city(), district)
    page, total, error = None, None, None
    if scope["city"]:
        session["league_scope"] = {"city": scope["city"], "district": scope["district"]}
        try:
            page = services.league_page(kpi, month, city=scope["city"], district=scope["district"],
                                        ascending=order == "asc", limit=50, cursor=pages.cursor(),
                                        before=request.args.get("before") or None)
            total = services.league_size(city=scope["city"], district=scope["district"])
        except APIError as exc:
            error = exc.message
    return render_template("admin/community/stats/estate_league.html", nav="league", page=page, total=total,
                           error=error, kpi=kpi, month=month, scope=scope, order=order, kpi_labels=KPI_LABELS,
                           cities=services.cities())


KPI_LABELS = {"orders_per_1000": "每千户订单", "complaints_per_1000": "每千户投诉", "orders": "订单数",
              "complaints": "投诉数", "avg_rating": "平均评分"}
