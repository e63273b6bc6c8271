"""Admin JSON API for accounts: find users, staff accounts, roles and status (all audited)."""
import marshmallow as ma
from marshmallow import fields, validate

from core.accounts import services
from core.accounts.models import ROLES
from core.accounts.schemas import UserSchema
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import PageArgsSchema, page_schema

bp = Blueprint("admin_accounts", __name__, url_prefix="/api/v1/admin", description="管理：用户与后台账号")


class AdminUserSchema(UserSchema):
    status = fields.String()


class UserQueryArgsSchema(PageArgsSchema):
    q = fields.String(load_default=None, validate=validate.Length(max=64),
                      metadata={"description": "exact user id, phone or username"})
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))


class StaffCreateSchema(ma.Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 256), load_only=True)
    display_name = fields.String(load_default="", validate=validate.Length(max=64))
    roles = fields.List(fields.String(validate=validate.OneOf(["admin", "agent"])), required=True,
                        validate=validate.Length(min=1))


class RolesSchema(ma.Schema):
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True)


class StatusSchema(ma.Schema):
    status = fields.String(required=True, validate=validate.OneOf(["active", "disabled"]))


@bp.route("/users")
@auth_required("admin")
@bp.arguments(UserQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminUserSchema))
def list_users(args):
    """Find users by exact id, phone or username, or by role; newest first"""
    return services.search_users(**args)


@bp.route("/users/<int:user_id>")
@auth_required("admin")
@bp.response(200, AdminUserSchema)
def get_user(user_id):
    """One user"""
    return services.get_user(user_id)


@bp.route("/staff", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(StaffCreateSchema)
@bp.response(201, AdminUserSchema)
def create_staff(body):
    """Create an admin or agent account (password login)"""
    return services.create_staff(body["username"], body["password"], set(body["roles"]), body["display_name"],
                                 actor=current_api_user())


@bp.route("/users/<int:user_id>/roles", methods=["PUT"])
@auth_required("admin")
@bp.arguments(RolesSchema)
@bp.response(200, AdminUserSchema)
def set_roles(body, user_id):
    """Replace a user's roles (the engineer role follows the engineer profile and cannot be set here)"""
    return services.set_roles(services.get_user(user_id), set(body["roles"]), current_api_user())


@bp.route("/users/<int:user_id>/status", methods=["PUT"])
@auth_required("admin")
@bp.arguments(StatusSchema)
@bp.response(200, AdminUserSchema)
def set_status(body, user_id):
    """Disable (all tokens revoked) or enable an account"""
    return services.set_status(services.get_user(user_id), body["status"], current_api_user())
