"""Staff JSON API: the review queue of flagged bindings (agents and admins)."""
from community.trust import services
from community.trust.schemas import (
    BindingFlagBulkSchema,
    BindingFlagDecisionSchema,
    BindingFlagPageSchema,
    BindingFlagQueryArgsSchema,
    BindingFlagSchema,
)
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.pagination import Page
from core.schemas import BulkResultSchema, bulk_result

bp = Blueprint("community_trust_admin", __name__, url_prefix="/api/v1/admin", description="管理：可疑绑定审核")


@bp.route("/binding-flags")
@auth_required("admin", "agent")
@bp.arguments(BindingFlagQueryArgsSchema, location="query")
@bp.response(200, BindingFlagPageSchema)
def list_flags(args):
    """Flagged bindings, newest first, with the resident, engineer, estate and the binding's points"""
    status = args.pop("status")
    page = services.list_flags(status=None if status == "all" else status, **args)
    return Page(services.flag_views(page.items), page.next_cursor)


@bp.route("/binding-flags/<int:flag_id>")
@auth_required("admin", "agent")
@bp.response(200, BindingFlagSchema)
def get_flag(flag_id):
    """One flagged binding"""
    return services.flag_views([services.get_flag(flag_id)])[0]


@bp.route("/binding-flags/<int:flag_id>/confirm", methods=["POST"])
@auth_required("admin", "agent")
@bp.arguments(BindingFlagDecisionSchema)
@bp.response(200, BindingFlagSchema)
def confirm(body, flag_id):
    """Confirm a fake: its points are taken back, the binding ends (reason fake); repeating is harmless"""
    decision = services.confirm_flag(flag_id, current_api_user(), body["note"])
    return services.flag_views([decision.flag])[0]


@bp.route("/binding-flags/<int:flag_id>/dismiss", methods=["POST"])
@auth_required("admin", "agent")
@bp.arguments(BindingFlagDecisionSchema)
@bp.response(200, BindingFlagSchema)
def dismiss(body, flag_id):
    """Dismiss a flag: the binding and its points stay; repeating is harmless"""
    decision = services.dismiss_flag(flag_id, current_api_user(), body["note"])
    return services.flag_views([decision.flag])[0]


@bp.route("/binding-flags/bulk", methods=["POST"])
@auth_required("admin", "agent")
@bp.arguments(BindingFlagBulkSchema)
@bp.response(200, BulkResultSchema)
def bulk(body):
    """Confirm or dismiss several flags; each is decided on its own, with its outcome"""
    ids = list(dict.fromkeys(body["ids"]))
    return bulk_result(services.decide_many(ids, body["action"], current_api_user(), body["note"]))
