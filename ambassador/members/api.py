"""The mini-program API for becoming an ambassador: apply, withdraw, and see where I stand."""

from ambassador.members import services
from ambassador.members.schemas import AmbassadorApplicationCreateSchema, AmbassadorApplicationSchema, AmbassadorMeSchema
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent

bp = Blueprint("ambassador_members", __name__, url_prefix="/api/v1/ambassador", description="服务代言人：申请与我的代言人信息")


@bp.route("/applications", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(AmbassadorApplicationCreateSchema)
@bp.response(201, AmbassadorApplicationSchema)
def apply(body):
    """Apply to become an ambassador

    Engineers and members of a qualifying tier are pre-qualified; a referral needs the invite
    code of an active ambassador whose level may recruit. One open application per person;
    after a rejection a new one waits for the cool-down (409 `reapply_cooldown`).
    """
    return services.submit_application(current_api_user(), body)


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@auth_required()
@bp.response(200, AmbassadorApplicationSchema)
def withdraw(application_id):
    """Withdraw my pending application"""
    return services.withdraw_application(application_id, current_api_user())


@bp.route("/me")
@auth_required()
@bp.response(200, AmbassadorMeSchema)
def me():
    """My latest application and, once approved, my ambassador status, level and invite code"""
    return services.my_status(current_principal().id)
