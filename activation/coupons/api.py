"""Coupons in the mini-program (a template's terms, 领券, my coupons) and the manufacturer's signed
redeem and refund calls."""
from __future__ import annotations

from activation.coupons import services
from activation.coupons.schemas import (
    CouponClaimSchema,
    CouponRedeemSchema,
    CouponRefundSchema,
    CouponSchema,
    CouponTemplateSchema,
    CouponUseSchema,
    MyCouponsArgsSchema,
)
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.integrations import signed
from core.pagination import page_schema

bp = Blueprint("activation_coupons", __name__, url_prefix="/api/v1", description="优惠券")


@bp.route("/coupon-templates/<int:template_id>")
@auth_required()
@bp.response(200, CouponTemplateSchema)
def get_template(template_id):
    """A coupon's terms before claiming: a claimable template, or one I hold a coupon of (else 404)"""
    who = current_principal()
    return services.template_view(services.visible_template(template_id, who), who.id)


@bp.route("/coupon-templates/<int:template_id>/claim", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(CouponClaimSchema)
@bp.response(201, CouponSchema)
def claim(body, template_id):
    """Claim a coupon (领券) offered in my estate

    403 `coupon_not_offered` when none of my estates (or the `estate_id` given) is offered it now;
    409 `coupon_out_of_stock`, `coupon_limit_reached` (每人限领), `coupon_template_inactive`,
    `coupon_template_expired`. Repeat safely with an Idempotency-Key.
    """
    return services.coupon_view(services.claim_coupon(template_id, current_api_user(), body["estate_id"]))


@bp.route("/me/coupons")
@auth_required()
@bp.arguments(MyCouponsArgsSchema, location="query")
@bp.response(200, page_schema(CouponSchema))
def my_coupons(args):
    """My coupons of a tab, with each one's terms and whether it is usable now"""
    page = services.my_coupons(current_principal().id, args["status"], service_type=args["service_type"],
                               limit=args["limit"], cursor=args["cursor"])
    return {"items": services.coupon_views(page.items), "next_cursor": page.next_cursor}


@bp.route("/me/coupons/<int:coupon_id>")
@auth_required()
@bp.response(200, CouponSchema)
def my_coupon(coupon_id):
    """One of my coupons (another's is 404)"""
    return services.coupon_view(services.own_coupon(coupon_id, current_principal().id))


@bp.route("/integrations/coupons/redeem", methods=["POST"])
@signed
@bp.arguments(CouponRedeemSchema)
@bp.response(200, CouponUseSchema)
def redeem(body):
    """Use a coupon on an order of the manufacturer's systems (HMAC-signed like /integrations/orders)

    Idempotent by (partner_code or the order system, order_id): a repeat returns the first answer;
    the same order with another coupon or amount is 409 `order_coupon_conflict`. The discount is
    computed on `amount` (the minimum spend is checked: 422 on amount). 404 `coupon_not_found`,
    409 when the coupon is used, held, expired or not yet valid, 422 on service_type or
    partner_code when it does not apply.
    """
    return services.redeem(body)


@bp.route("/integrations/coupons/refund", methods=["POST"])
@signed
@bp.arguments(CouponRefundSchema)
@bp.response(200, CouponUseSchema)
def refund(body):
    """The order a coupon was used on was refunded (HMAC-signed): the coupon is the holder's again

    Within COUPON_REFUND_DAYS of the use (else 409 `refund_window_passed`, nothing changes); a
    coupon past its last day comes back expired. Idempotent; 404 `coupon_use_not_found` for an
    order that used no coupon.
    """
    return services.refund(body)
