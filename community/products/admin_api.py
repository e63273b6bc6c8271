"""Admin JSON API: the product catalogue and maintenance plans (staff read, admins write), and the
serial conflicts agents settle."""
from community.products import services
from community.products.schemas import (
    ConflictQueryArgsSchema,
    ConflictResolveSchema,
    MaintenancePlanPatchSchema,
    MaintenancePlanQueryArgsSchema,
    MaintenancePlanSchema,
    MaintenancePlanWriteSchema,
    ProductModelPatchSchema,
    ProductModelQueryArgsSchema,
    ProductModelSchema,
    ProductModelWriteSchema,
    SerialConflictSchema,
)
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import Page, page_schema

bp = Blueprint("community_products_admin", __name__, url_prefix="/api/v1/admin",
               description="管理：产品型号、保养计划与序列号冲突")


@bp.route("/product-models")
@auth_required("admin", "agent")
@bp.arguments(ProductModelQueryArgsSchema, location="query")
@bp.response(200, page_schema(ProductModelSchema))
def list_models(args):
    """The catalogue by code (filter by code or name, category, active)"""
    return services.list_product_models(**args)


@bp.route("/product-models", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(ProductModelWriteSchema)
@bp.response(201, ProductModelSchema)
def create_model(body):
    """Add a product model (the code is unique; stored upper-case)"""
    return services.create_product_model(body, current_api_user())


@bp.route("/product-models/<int:model_id>")
@auth_required("admin", "agent")
@bp.response(200, ProductModelSchema)
def get_model(model_id):
    """One product model"""
    return services.get_product_model(model_id)


@bp.route("/product-models/<int:model_id>", methods=["PATCH"])
@auth_required("admin")
@bp.arguments(ProductModelPatchSchema)
@bp.response(200, ProductModelSchema)
def update_model(body, model_id):
    """Change a product model (only the fields sent)"""
    return services.update_product_model(model_id, body, current_api_user())


@bp.route("/product-models/<int:model_id>/deactivate", methods=["POST"])
@auth_required("admin")
@bp.response(200, ProductModelSchema)
def deactivate_model(model_id):
    """Take a model out of the pickers (its products and plans stay)"""
    return services.deactivate_product_model(model_id, current_api_user())


@bp.route("/maintenance-plans")
@auth_required("admin", "agent")
@bp.arguments(MaintenancePlanQueryArgsSchema, location="query")
@bp.response(200, page_schema(MaintenancePlanSchema))
def list_plans(args):
    """Maintenance plans, newest first (filter by category, model, active)"""
    return services.list_plans(**args)


@bp.route("/maintenance-plans", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(MaintenancePlanWriteSchema)
@bp.response(201, MaintenancePlanSchema)
def create_plan(body):
    """Add a maintenance plan for a category or one model; the products it applies to are scheduled"""
    return services.create_plan(body, current_api_user())


@bp.route("/maintenance-plans/<int:plan_id>")
@auth_required("admin", "agent")
@bp.response(200, MaintenancePlanSchema)
def get_plan(plan_id):
    """One maintenance plan"""
    return services.get_plan(plan_id)


@bp.route("/maintenance-plans/<int:plan_id>", methods=["PATCH"])
@auth_required("admin")
@bp.arguments(MaintenancePlanPatchSchema)
@bp.response(200, MaintenancePlanSchema)
def update_plan(body, plan_id):
    """Change a maintenance plan (only the fields sent); a change of timing or target reschedules its products"""
    return services.update_plan(plan_id, body, current_api_user())


@bp.route("/maintenance-plans/<int:plan_id>/deactivate", methods=["POST"])
@auth_required("admin")
@bp.response(200, MaintenancePlanSchema)
def deactivate_plan(plan_id):
    """Stop a maintenance plan: its schedules go"""
    return services.deactivate_plan(plan_id, current_api_user())


@bp.route("/product-conflicts")
@auth_required("admin", "agent")
@bp.arguments(ConflictQueryArgsSchema, location="query")
@bp.response(200, page_schema(SerialConflictSchema))
def list_conflicts(args):
    """Serial conflicts (open ones oldest first), with the product, its owner and the claim"""
    page = services.list_conflicts(**args)
    return Page(services.conflict_details(page.items), page.next_cursor)


@bp.route("/product-conflicts/<int:conflict_id>/resolve", methods=["POST"])
@auth_required("admin", "agent")
@bp.arguments(ConflictResolveSchema)
@bp.response(200, SerialConflictSchema)
def resolve_conflict(body, conflict_id):
    """Settle a conflict once: keep (the owner on record keeps it), move (it becomes the
    claimant's; audited), reject (the claim is void). The claimant is told in their inbox."""
    conflict = services.resolve_conflict(conflict_id, body["decision"], current_api_user(), body["note"])
    return services.conflict_details([conflict])[0]
