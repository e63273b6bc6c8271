"""Admin JSON API for estates, engineers and customers (the same services as the admin pages)."""
from community import services
from community.schemas import (AdminEstateQueryArgsSchema, BindingHistoryListSchema, CustomerQueryArgsSchema,
                               CustomerSchema, DeactivateSchema, EngineerCreatedSchema, EngineerCreateSchema,
                               EngineerPatchSchema, EngineerQueryArgsSchema, EngineerSchema, EstateIdsSchema,
                               EstatePatchSchema, EstateSchema, EstateWriteSchema, InviteSchema, MovedSchema,
                               ReassignSchema)
from core.accounts import services as accounts
from core.accounts.auth import auth_required, current_api_user
from core.accounts.schemas import PasswordSchema
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import page_schema

bp = Blueprint("admin_community", __name__, url_prefix="/api/v1/admin", description="管理：小区、工程师与客户")


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


@bp.route("/engineers/<int:engineer_id>/deactivate", methods=["POST"])
@auth_required("admin")
@bp.arguments(DeactivateSchema)
@bp.response(200, MovedSchema)
def deactivate_engineer(body, engineer_id):
    """An engineer leaves; their customers go to `reassign_to` (or lose their steward)"""
    target = services.get_engineer(body["reassign_to"]) if body["reassign_to"] else None
    moved = services.deactivate_engineer(services.get_engineer(engineer_id), current_api_user(), target)
    return {"moved": moved}


@bp.route("/engineers/<int:engineer_id>/reassign", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReassignSchema)
@bp.response(200, MovedSchema)
def reassign(body, engineer_id):
    """Move an engineer's customers (all, or one estate's) to another engineer"""
    moved = services.reassign_customers(services.get_engineer(engineer_id),
                                        services.get_engineer(body["to_engineer_id"]), current_api_user(),
                                        body["estate_id"])
    return {"moved": moved}


@bp.route("/engineers/<int:engineer_id>/customers")
@auth_required("admin")
@bp.arguments(CustomerQueryArgsSchema, location="query")
@bp.response(200, page_schema(CustomerSchema))
def engineer_customers(args, engineer_id):
    """An engineer's current customers, newest first"""
    return services.customers_of(services.get_engineer(engineer_id), **args)


@bp.route("/residents/<int:user_id>/stewards")
@auth_required("admin")
@bp.response(200, BindingHistoryListSchema)
def resident_steward_history(user_id):
    """A resident's whole steward history, newest first (for disputes)"""
    accounts.get_user(user_id)
    return {"items": services.binding_history(user_id)}
