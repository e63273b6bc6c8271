"""Admin JSON API: estates, engineers, and agents on duty."""
from community.estates import services
from community.estates.schemas import (
    AdminEstateQueryArgsSchema,
    AgentDutyCreateSchema,
    AgentDutyListSchema,
    AgentDutyQueryArgsSchema,
    AgentDutySchema,
    AgentsOnDutySchema,
    EngineerCreatedSchema,
    EngineerCreateSchema,
    EngineerPatchSchema,
    EngineerQueryArgsSchema,
    EngineerSchema,
    EstateIdsSchema,
    EstatePatchSchema,
    EstateSchema,
    EstateWriteSchema,
    InviteSchema,
)
from core.accounts.schemas import PasswordSchema
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import page_schema

bp = Blueprint("community_estates_admin", __name__, url_prefix="/api/v1/admin", description="管理：小区、工程师与客服值班")


@bp.route("/estates", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(EstateWriteSchema)
@bp.response(201, EstateSchema)
def create_estate(body):
    """Create an estate"""
    return services.create_estate(body, actor=current_api_user())


@bp.route("/estates")
@auth_required("admin")
@bp.arguments(AdminEstateQueryArgsSchema, location="query")
@bp.response(200, page_schema(EstateSchema))
def list_estates(args):
    """Search estates (name contains or exact code; region filters), newest first"""
    return services.search_estates(**args)


@bp.route("/estates/<int:estate_id>")
@auth_required("admin")
@bp.response(200, EstateSchema)
def get_estate(estate_id):
    """One estate"""
    return services.get_estate(estate_id)


@bp.route("/estates/<int:estate_id>", methods=["PATCH"])
@auth_required("admin")
@bp.arguments(EstatePatchSchema)
@bp.response(200, EstateSchema)
def update_estate(body, estate_id):
    """Change an estate's fields"""
    return services.update_estate(services.get_estate(estate_id), body, actor=current_api_user())


@bp.route("/engineers", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(EngineerCreateSchema)
@bp.response(201, EngineerCreatedSchema)
def create_engineer(body):
    """Create an engineer; the response carries their one-time invite code"""
    estate_ids = body.pop("estate_ids")
    engineer, invite = services.create_engineer(body, estate_ids, actor=current_api_user())
    engineer.invite_code = invite
    return engineer


@bp.route("/engineers")
@auth_required("admin")
@bp.arguments(EngineerQueryArgsSchema, location="query")
@bp.response(200, page_schema(EngineerSchema))
def list_engineers(args):
    """Engineers, newest first"""
    return services.list_engineers(**args)


@bp.route("/engineers/<int:engineer_id>")
@auth_required("admin")
@bp.response(200, EngineerSchema)
def get_engineer(engineer_id):
    """One engineer with the estates they cover"""
    return services.get_engineer(engineer_id)


@bp.route("/engineers/<int:engineer_id>", methods=["PATCH"])
@auth_required("admin")
@bp.arguments(EngineerPatchSchema)
@bp.response(200, EngineerSchema)
def update_engineer(body, engineer_id):
    """Change an engineer's name or phone"""
    return services.update_engineer(services.get_engineer(engineer_id), body, actor=current_api_user())


@bp.route("/engineers/<int:engineer_id>/estates", methods=["PUT"])
@auth_required("admin")
@bp.arguments(EstateIdsSchema)
@bp.response(200, EngineerSchema)
def set_engineer_estates(body, engineer_id):
    """Replace the estates an engineer covers"""
    return services.set_engineer_estates(services.get_engineer(engineer_id), body["estate_ids"],
                                         actor=current_api_user())


@bp.route("/engineers/<int:engineer_id>/invite", methods=["POST"])
@auth_required("admin")
@bp.response(200, InviteSchema)
def renew_invite(engineer_id):
    """A new invite code for an engineer who has not claimed yet (the old one stops working)"""
    engineer = services.get_engineer(engineer_id)
    code = services.renew_invite(engineer, actor=current_api_user())
    return {"invite_code": code, "invite_expires_at": engineer.invite_expires_at}


@bp.route("/engineers/<int:engineer_id>/password", methods=["PUT"])
@auth_required("admin")
@bp.arguments(PasswordSchema)
@bp.response(204)
def set_engineer_password(body, engineer_id):
    """Set the web-workbench password of a claimed engineer"""
    services.set_engineer_password(services.get_engineer(engineer_id), body["password"], actor=current_api_user())


@bp.route("/agent-duties")
@auth_required("admin")
@bp.arguments(AgentDutyQueryArgsSchema, location="query")
@bp.response(200, AgentDutyListSchema)
def agent_duties(args):
    """Which agents are on duty for which cities and districts"""
    return {"items": services.agent_duties(city=args["city"])}


@bp.route("/agent-duties", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(AgentDutyCreateSchema)
@bp.response(201, AgentDutySchema)
def add_agent_duty(body):
    """Put an agent on duty for a city, or one district of it (the same duty again changes nothing)"""
    return services.add_agent_duty(body["user_id"], body["city"], body["district"], actor=current_api_user())


@bp.route("/agent-duties/<int:duty_id>", methods=["DELETE"])
@auth_required("admin")
@bp.response(204)
def remove_agent_duty(duty_id):
    """Take an agent off a duty"""
    services.remove_agent_duty(duty_id, actor=current_api_user())


@bp.route("/estates/<int:estate_id>/agents-on-duty")
@auth_required("admin", "agent")
@bp.response(200, AgentsOnDutySchema)
def agents_on_duty(estate_id):
    """The agents on duty for an estate (who hears of its customers turning red)"""
    services.get_estate(estate_id)
    return {"estate_id": estate_id, "user_ids": services.agents_on_duty(estate_id)}
