"""Admin JSON API: the agent queue of care items nobody could be routed to, and the care report."""
from community.care import services
from community.care.schemas import CareAssignSchema, CareItemSchema, CareQueueArgsSchema, CareReportArgsSchema, CareReportSchema
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.pagination import page_schema

bp = Blueprint("community_care_admin", __name__, url_prefix="/api/v1/admin", description="管理：保养提醒")


@bp.route("/care/queue")
@auth_required("admin", "agent")
@bp.arguments(CareQueueArgsSchema, location="query")
@bp.response(200, page_schema(CareItemSchema))
def queue(args):
    """Care items waiting for an agent (no steward, no engineer covering the estate), the soonest
    due first; an agent sees the estates they are on duty for"""
    who = current_principal()
    return services.view_page(services.agent_queue(who, **args), who)


@bp.route("/care/items/<int:item_id>/assign", methods=["POST"])
@auth_required("admin", "agent")
@bp.arguments(CareAssignSchema)
@bp.response(200, CareItemSchema)
def assign(body, item_id):
    """Give a waiting care item to an engineer at work who covers its estate (or the household's steward)"""
    actor = current_api_user()
    return services.item_views([services.assign_item(item_id, body["engineer_id"], actor)], current_principal())[0]


@bp.route("/care/report")
@auth_required("admin", "agent")
@bp.arguments(CareReportArgsSchema, location="query")
@bp.response(200, CareReportSchema)
def report(args):
    """Due, overdue, booked and done counts and the conversion per estate or per engineer, over
    the items due in a period (default: 30 days ago to the end of the horizon)"""
    return services.report(args["by"], args["from_"], args["to"], limit=args["limit"], cursor=args["cursor"])
