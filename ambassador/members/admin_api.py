"""Admin JSON API for ambassadors: memberships, the application queue and its decisions, the
ambassadors list and detail, status changes and estates (the same services as the pages).

Admins decide and change; agents (客服) may read the queue, the list and the details.
"""

from ambassador.members import services
from ambassador.members.schemas import (
    AdminAmbassadorSchema,
    AdminApplicationSchema,
    AmbassadorDetailSchema,
    AmbassadorQueryArgsSchema,
    ApplicationQueryArgsSchema,
    EstatesWriteSchema,
    MembershipSchema,
    MembershipWriteSchema,
    ReasonSchema,
)
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.pagination import page_schema
from core.schemas import BulkDecisionSchema, BulkResultSchema, bulk_result

bp = Blueprint("ambassador_members_admin", __name__, url_prefix="/api/v1/admin", description="管理：服务代言人申请、代言人与会员等级")


READERS = ("admin", "agent")


def _membership_view(user_id: int) -> dict:
    membership = services.membership_of(user_id)
    return {"user_id": user_id, "tier": membership.tier if membership else None,
            "source": membership.source if membership else None,
            "qualifying": bool(membership and membership.tier in services.qualifying_tiers()),
            "updated_at": membership.updated_at if membership else None}


@bp.route("/users/<int:user_id>/membership", methods=["PUT"])
@auth_required("admin")
@bp.arguments(MembershipWriteSchema)
@bp.response(200, MembershipSchema)
def set_membership(body, user_id):
    """Set or clear a user's membership tier (a qualifying tier pre-qualifies an application)"""
    services.set_membership(user_id, body["tier"], current_api_user(), source="admin")
    return _membership_view(user_id)


@bp.route("/users/<int:user_id>/membership")
@auth_required(*READERS)
@bp.response(200, MembershipSchema)
def get_membership(user_id):
    """A user's membership tier"""
    services.require_user(user_id)
    return _membership_view(user_id)


# -- applications -----------------------------------------------------------------------------

@bp.route("/ambassador/applications")
@auth_required(*READERS)
@bp.arguments(ApplicationQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminApplicationSchema))
def list_applications(args):
    """Ambassador applications: the queue is status=pending, oldest first"""
    return services.list_applications(**args)


@bp.route("/ambassador/applications/<int:application_id>")
@auth_required(*READERS)
@bp.response(200, AdminApplicationSchema)
def get_application(application_id):
    """One application"""
    return services.get_application(application_id)


@bp.route("/ambassador/applications/<int:application_id>/approve", methods=["POST"])
@auth_required("admin")
@bp.response(200, AdminApplicationSchema)
def approve(application_id):
    """Approve a pending application: the applicant becomes an ambassador at the entry level"""
    return services.approve_application(application_id, current_api_user())


@bp.route("/ambassador/applications/<int:application_id>/reject", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReasonSchema)
@bp.response(200, AdminApplicationSchema)
def reject(body, application_id):
    """Reject a pending application with a reason the applicant sees"""
    return services.reject_application(application_id, current_api_user(), body["reason"])


@bp.route("/ambassador/applications/decisions", methods=["POST"])
@auth_required("admin")
@bp.arguments(BulkDecisionSchema)
@bp.response(200, BulkResultSchema)
def decide_many(body):
    """Approve or reject several applications; each is decided on its own, with its outcome"""
    return bulk_result(services.decide_many(body["ids"], body["action"], current_api_user(), body["reason"]))


# -- ambassadors ------------------------------------------------------------------------------

@bp.route("/ambassadors")
@auth_required(*READERS)
@bp.arguments(AmbassadorQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminAmbassadorSchema))
def list_ambassadors(args):
    """Ambassadors, filtered by level, estate, city, status; q is a name, phone or invite code"""
    return services.list_ambassadors(**args)


@bp.route("/ambassadors/<int:user_id>")
@auth_required(*READERS)
@bp.response(200, AmbassadorDetailSchema)
def get_ambassador(user_id):
    """One ambassador: level history, estates, contribution, points, task submissions, referrals"""
    return services.ambassador_detail(user_id)


def _status_view(action: str):
    def view(body, user_id):
        services.change_status(user_id, action, body["reason"], current_api_user())
        return services.ambassador_detail(user_id)
    return view


@bp.route("/ambassadors/<int:user_id>/suspend", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReasonSchema)
@bp.response(200, AmbassadorDetailSchema)
def suspend(body, user_id):
    """Suspend an active ambassador, with a reason (history kept)"""
    return _status_view("suspend")(body, user_id)


@bp.route("/ambassadors/<int:user_id>/reinstate", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReasonSchema)
@bp.response(200, AmbassadorDetailSchema)
def reinstate(body, user_id):
    """Reinstate a suspended ambassador, with a reason (a removed one must apply again)"""
    return _status_view("reinstate")(body, user_id)


@bp.route("/ambassadors/<int:user_id>/remove", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReasonSchema)
@bp.response(200, AmbassadorDetailSchema)
def remove(body, user_id):
    """Remove an ambassador, with a reason: they leave the leaderboards; history is kept"""
    return _status_view("remove")(body, user_id)


@bp.route("/ambassadors/<int:user_id>/estates", methods=["PUT"])
@auth_required("admin")
@bp.arguments(EstatesWriteSchema)
@bp.response(200, AmbassadorDetailSchema)
def set_estates(body, user_id):
    """Replace the estates an ambassador serves (1–5; the first sets the city)"""
    services.set_estates(user_id, body["estate_ids"], current_api_user())
    return services.ambassador_detail(user_id)
