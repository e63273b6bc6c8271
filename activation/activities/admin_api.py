"""Admin JSON API for activities: creating one (published at once), the list across organisers,
and the moderation of partners' activities. Editing, cancelling, attendees, CSV and check-in are
the organiser calls of api.py, which admins may use on any activity. Admins write; agents read."""

from activation.activities import services
from activation.activities.schemas import ActivityCreateSchema, ActivityReviewSchema, AdminActivitiesArgsSchema, OrganizerActivitySchema
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import page_schema

bp = Blueprint("activation_activities_admin", __name__, url_prefix="/api/v1/admin", description="管理：社区活动")


@bp.route("/activities", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(ActivityCreateSchema)
@bp.response(201, OrganizerActivitySchema)
def create_activity(body):
    """Create an activity for any estates (listed, or a targeting rule): published at once"""
    return services.activity_view(services.create_activity(current_api_user(), body), organizer=True)


@bp.route("/activities")
@auth_required("admin", "agent")
@bp.arguments(AdminActivitiesArgsSchema, location="query")
@bp.response(200, page_schema(OrganizerActivitySchema))
def list_activities(args):
    """Activities of every organiser, newest first (status=pending: partners' activities awaiting review)"""
    return services.view_page(services.list_activities(**args), organizer=True)


@bp.route("/activities/<int:activity_id>")
@auth_required("admin", "agent")
@bp.response(200, OrganizerActivitySchema)
def get_activity(activity_id):
    """One activity with its audience and review"""
    return services.activity_view(services.activity_for(current_principal(), activity_id), organizer=True)


@bp.route("/activities/<int:activity_id>/review", methods=["POST"])
@auth_required("admin")
@bp.arguments(ActivityReviewSchema)
@bp.response(200, OrganizerActivitySchema)
def review_activity(body, activity_id):
    """Approve a partner's pending activity (it is published) or reject it with a note (409
    `already_decided` when another admin was first)"""
    activity = services.review_activity(activity_id, body["action"], body["note"], current_api_user())
    return services.activity_view(activity, organizer=True)
