"""Admin JSON API: coupon templates, grants to a segment, and the per-estate report."""
from __future__ import annotations

from dataclasses import asdict

from activation.coupons import services
from activation.coupons.schemas import (
    AdminCouponTemplateSchema,
    CouponGrantResultSchema,
    CouponGrantSchema,
    CouponReportArgsSchema,
    CouponReportSchema,
    CouponTemplateArgsSchema,
    CouponTemplateWriteSchema,
)
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import page_schema

bp = Blueprint("activation_coupons_admin", __name__, url_prefix="/api/v1/admin", description="管理：优惠券")


def _detail(template) -> dict:
    return {**services.template_view(template), "figures": services.template_figures(template.id)}


@bp.route("/coupon-templates", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(CouponTemplateWriteSchema)
@bp.response(201, AdminCouponTemplateSchema)
def create_template(body):
    """Create a coupon template (issuing at once)

    Amount off (`amount_fen`) or a percentage (`percent_off`, with `cap_fen`); `min_spend_fen`;
    `service_types` ([] every type); fixed dates (`valid_from`, `valid_until`) or `valid_days`
    from issue; `total_stock` (null unlimited); `per_user_limit`; `claimable`; `auto_issue`;
    `partner_id`. 422 names every field at fault.
    """
    return _detail(services.create_template(body, current_api_user()))


@bp.route("/coupon-templates")
@auth_required("admin")
@bp.arguments(CouponTemplateArgsSchema, location="query")
@bp.response(200, page_schema(AdminCouponTemplateSchema))
def list_templates(args):
    """Coupon templates, newest first"""
    page = services.list_templates(**args)
    return {"items": services.template_views(page.items), "next_cursor": page.next_cursor}


@bp.route("/coupon-templates/<int:template_id>")
@auth_required("admin")
@bp.response(200, AdminCouponTemplateSchema)
def get_template(template_id):
    """One template with its figures: issued, claimed, used, cost, coupons by status"""
    return _detail(services.get_template(template_id))


@bp.route("/coupon-templates/<int:template_id>", methods=["PATCH"])
@auth_required("admin")
@idempotent
@bp.arguments(CouponTemplateWriteSchema)
@bp.response(200, AdminCouponTemplateSchema)
def update_template(body, template_id):
    """Change a template: wording, stock (not below issued), the limit, claimable, automatic issue;
    its terms only while no coupon is out (409 once it has ended)"""
    return _detail(services.update_template(template_id, body, current_api_user()))


@bp.route("/coupon-templates/<int:template_id>/pause", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.response(200, AdminCouponTemplateSchema)
def pause_template(template_id):
    """Pause issuing (claims, rules, grants); coupons out stay usable"""
    return _detail(services.set_template_status(template_id, "pause", current_api_user()))


@bp.route("/coupon-templates/<int:template_id>/resume", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.response(200, AdminCouponTemplateSchema)
def resume_template(template_id):
    """Resume issuing a paused template"""
    return _detail(services.set_template_status(template_id, "resume", current_api_user()))


@bp.route("/coupon-templates/<int:template_id>/end", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.response(200, AdminCouponTemplateSchema)
def end_template(template_id):
    """End a template for good (its automatic issue stops); coupons out stay usable"""
    return _detail(services.set_template_status(template_id, "end", current_api_user()))


@bp.route("/coupon-templates/<int:template_id>/grants", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(CouponGrantSchema)
@bp.response(200, CouponGrantResultSchema)
def grant(body, template_id):
    """Give the coupon to a segment: `user_ids`, the residents of `estate_ids`, or of the estates a
    targeting `rule` matches

    One coupon each, within stock and the per-user limit, set-based in batches; idempotent per
    (grant_id, resident): repeating a grant id issues only to those it missed. Recipients are told
    in their inbox.
    """
    return asdict(services.grant(template_id, current_api_user(), **body))


@bp.route("/coupon-report")
@auth_required("admin")
@bp.arguments(CouponReportArgsSchema, location="query")
@bp.response(200, CouponReportSchema)
def report(args):
    """Per estate: coupons issued, claimed, used and their cost (the discount given), over a period,
    by estate name and city; one template or all"""
    return services.report(template_id=args["template_id"], q=args["q"], city=args["city"], start=args["from_"],
                           end=args["to"], limit=args["limit"], cursor=args["cursor"])
