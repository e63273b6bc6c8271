"""Admin JSON API: estate KPIs and the league table."""
from flask import Response

from community.stats import services
from community.stats.schemas import EstateKpisSchema, KpiArgsSchema, LeagueArgsSchema, LeagueSchema
from core.auth import auth_required
from core.blueprint import Blueprint

bp = Blueprint("community_stats_admin", __name__, url_prefix="/api/v1/admin", description="管理：小区指标")


@bp.route("/estates/<int:estate_id>/kpis")
@auth_required("admin", "agent")
@bp.arguments(KpiArgsSchema, location="query")
@bp.response(200, EstateKpisSchema)
def estate_kpis(args, estate_id):
    """An estate's monthly KPIs (orders requested in the month, complaints, per 1,000 households, mom, yoy)"""
    return services.estate_kpis(estate_id, args["from_"], args["to"])


@bp.route("/estates/<int:estate_id>/kpis.csv")
@auth_required("admin", "agent")
@bp.arguments(KpiArgsSchema, location="query")
@bp.response(200, content_type="text/csv")
def estate_kpis_csv(args, estate_id):
    """The same KPIs as CSV (UTF-8 with BOM, opens in Excel)"""
    data = services.estate_kpis(estate_id, args["from_"], args["to"])
    filename = f"estate-{estate_id}-kpis-{args['from_']}-{args['to']}.csv"
    return Response(services.kpis_csv(data), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/estate-league")
@auth_required("admin", "agent")
@bp.arguments(LeagueArgsSchema, location="query")
@bp.response(200, LeagueSchema)
def league(args):
    """Estates of a city or district ranked by one KPI of one month"""
    items = services.league(args["kpi"], args["month"], city=args["city"], district=args["district"],
                            limit=args["limit"], ascending=args["order"] == "asc")
    return {"kpi": args["kpi"], "month": args["month"], "items": items}
