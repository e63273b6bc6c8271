"""Admin JSON API: customer health by engineer and estate, and health alerts."""
from community.book import services
from community.book.schemas import AdminHealthAlertQueryArgsSchema, HealthAlertSchema, HealthSummaryPageSchema, HealthSummaryQueryArgsSchema
from core.auth import auth_required, current_principal
from core.blueprint import Blueprint
from core.pagination import page_schema

bp = Blueprint("community_book_admin", __name__, url_prefix="/api/v1/admin", description="管理：客户健康与预警")


@bp.route("/health/summary")
@auth_required("admin", "agent")
@bp.arguments(HealthSummaryQueryArgsSchema, location="query")
@bp.response(200, HealthSummaryPageSchema)
def health_summary(args):
    """Customers per band by steward or by estate (as of the last recompute), the most red first"""
    page = services.health_summary(**args)
    return {"items": page.items, "next_cursor": page.next_cursor, "totals": services.health_totals()}


@bp.route("/health-alerts")
@auth_required("admin", "agent")
@bp.arguments(AdminHealthAlertQueryArgsSchema, location="query")
@bp.response(200, page_schema(HealthAlertSchema))
def health_alerts(args):
    """Health alerts, newest first: all for admins, those of the estates an agent is on duty for"""
    return services.staff_alerts(current_principal(), **args)
