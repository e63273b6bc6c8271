"""Request validation and response shapes of coupons: residents, admins and the signed integration."""
from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import fields, validate

from activation.coupons.models import AUTO_ISSUE, DISCOUNT_KINDS, TEMPLATE_STATUSES
from activation.coupons.services import MAX_GRANT_ESTATES, MAX_GRANT_USERS, SERVICE_TYPES, TABS
from core.pagination import PageArgsSchema
from core.schemas import id_field

# Yuan as a decimal string (as the order integration writes amounts): at most 2 decimals, below 100 million.
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,7})(\.[0-9]{1,2})?")
_PRINTABLE = validate.Regexp(r"^[\x21-\x7e]+$", error="只能是不含空格的英文字母、数字和符号")


def _int(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


# -- templates --------------------------------------------------------------------------------

class CouponTemplateWriteSchema(ma.Schema):
    """A template's fields; on PATCH only those given change. Amounts in fen (分). The rules (which
    fields go together, what may change once coupons are out) are checked by the service, which
    names every field at fault."""
    name = fields.String(validate=validate.Length(max=64))
    description = fields.String(validate=validate.Length(max=500))
    kind = fields.String(validate=validate.OneOf(DISCOUNT_KINDS), metadata={
        "description": "amount: `amount_fen` off; percent: `percent_off`% off, at most `cap_fen`"})
    amount_fen = _int(allow_none=True)
    percent_off = _int(allow_none=True, metadata={"description": "1–90: 15 is 15% off (八五折)"})
    cap_fen = _int(allow_none=True, metadata={"description": "the largest discount of a percent coupon (required there)"})
    min_spend_fen = _int(allow_none=True, metadata={"description": "the order must reach this (0: no threshold)"})
    service_types = fields.List(fields.String(validate=validate.OneOf(SERVICE_TYPES)), metadata={
        "description": f"the service types it applies to ({', '.join(SERVICE_TYPES)}); [] every type"})
    valid_from = fields.Date(allow_none=True, metadata={"description": "fixed dates: the first day (with valid_until)"})
    valid_until = fields.Date(allow_none=True, metadata={"description": "fixed dates: the last day"})
    valid_days = _int(allow_none=True, metadata={"description": "or: usable N days from the day of issue (1–3650)"})
    total_stock = _int(allow_none=True, metadata={"description": "coupons that may ever be issued; null: unlimited"})
    per_user_limit = _int(metadata={"description": "coupons one resident may hold of it over time (1–100)"})
    claimable = fields.Boolean(metadata={"description": "residents may claim it (领券) where an offer shows it"})
    auto_issue = fields.String(allow_none=True, validate=validate.OneOf(AUTO_ISSUE), metadata={
        "description": "issued by itself on: review (a review written, whatever the rating) | binding (a first "
                       "steward binding); one template per event, choosing it here takes it from another"})
    partner_id = id_field(allow_none=True, metadata={"description": "an approved partner: usable only on its orders"})


class CouponTemplateArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(TEMPLATE_STATUSES))
    q = fields.String(load_default=None, validate=validate.Length(max=64), metadata={"description": "name contains"})
    claimable = fields.Boolean(load_default=None)


class CouponServiceTypeSchema(ma.Schema):
    code = fields.String()
    label = fields.String()


class CouponPartnerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class CouponTemplateSchema(ma.Schema):
    """A template's terms, as residents read them before claiming."""
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    amount_fen = fields.Integer(allow_none=True)
    percent_off = fields.Integer(allow_none=True)
    cap_fen = fields.Integer(allow_none=True)
    min_spend_fen = fields.Integer()
    face = fields.String(metadata={"description": "the value in a few characters: 满100减20, 立减20, 8.5折"})
    terms = fields.List(fields.String(), metadata={"description": "the conditions, one per line"})
    service_types = fields.List(fields.Nested(CouponServiceTypeSchema), metadata={"description": "[]: every type"})
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    valid_days = fields.Integer(allow_none=True)
    validity = fields.String()
    remaining = fields.Integer(allow_none=True, metadata={"description": "coupons left; null: unlimited"})
    per_user_limit = fields.Integer()
    claimable = fields.Boolean()
    partner = fields.Nested(CouponPartnerSchema, allow_none=True)
    status = fields.String()
    status_label = fields.String()
    held = fields.Integer(metadata={"description": "coupons of it I have been issued (any state)"})
    can_claim = fields.Boolean(metadata={
        "description": "claimable, issuing, in stock, within its dates and under my limit (my estate must "
                       "also be offered it: the claim says so)"})


class CouponTemplateFiguresSchema(ma.Schema):
    issued = fields.Integer()
    claimed = fields.Integer()
    used = fields.Integer(metadata={"description": "standing uses (refunded ones not counted)"})
    cost_fen = fields.Integer(metadata={"description": "the discount given by those uses"})
    refunded = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())


class AdminCouponTemplateSchema(CouponTemplateSchema):
    total_stock = fields.Integer(allow_none=True)
    issued = fields.Integer()
    auto_issue = fields.String(allow_none=True)
    auto_issue_label = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    figures = fields.Nested(CouponTemplateFiguresSchema, metadata={"description": "in the detail only"})

    class Meta:
        exclude = ("held", "can_claim")


# -- grants -----------------------------------------------------------------------------------

class CouponGrantSchema(ma.Schema):
    """Whom to give the coupon: exactly one of user_ids, estate_ids, rule."""
    grant_id = fields.String(load_default=None, validate=validate.Regexp(
        r"^[A-Za-z0-9_-]{1,40}$", error="1–40 个英文字母、数字、- 或 _"), metadata={
        "description": "repeat a grant safely: the same id issues only to those it missed (default: a new id)"})
    user_ids = fields.List(id_field(), load_default=None, validate=validate.Length(1, MAX_GRANT_USERS))
    estate_ids = fields.List(id_field(), load_default=None, validate=validate.Length(1, MAX_GRANT_ESTATES),
                             metadata={"description": "the current residents of these estates"})
    rule = fields.Dict(load_default=None, metadata={
        "description": "a targeting rule (docs/activation.md): the residents of the estates it matches"})


class CouponGrantResultSchema(ma.Schema):
    grant_id = fields.String()
    targeted = fields.Integer(metadata={"description": "active residents the grant named"})
    issued = fields.Integer(metadata={"description": "coupons issued by this call"})
    repeated = fields.Integer(metadata={"description": "issued by an earlier call of the same grant id"})
    at_limit = fields.Integer(metadata={"description": "already at the per-user limit"})
    out_of_stock = fields.Integer(metadata={"description": "left out: the stock ran out"})


# -- the per-estate report ----------------------------------------------------------------------

class CouponReportArgsSchema(PageArgsSchema):
    template_id = id_field(load_default=None, metadata={"description": "one template; default all"})
    q = fields.String(load_default=None, validate=validate.Length(max=64),
                      metadata={"description": "estate name contains, or its exact code"})
    city = fields.String(load_default=None, validate=validate.Length(max=32))
    from_ = fields.Date(load_default=None, data_key="from", metadata={"description": "first business day (issues, uses)"})
    to = fields.Date(load_default=None, metadata={"description": "last business day"})


class CouponEstateSchema(ma.Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null: holders living in no estate"})
    name = fields.String()
    city = fields.String()
    district = fields.String()


class CouponReportFiguresSchema(ma.Schema):
    issued = fields.Integer()
    claimed = fields.Integer()
    used = fields.Integer()
    cost_fen = fields.Integer(metadata={"description": "the discount given (fen)"})


class CouponReportRowSchema(CouponReportFiguresSchema):
    estate = fields.Nested(CouponEstateSchema)


class CouponReportSchema(ma.Schema):
    from_ = fields.Date(data_key="from", attribute="from", allow_none=True)
    to = fields.Date(allow_none=True)
    items = fields.List(fields.Nested(CouponReportRowSchema))
    next_cursor = fields.String(allow_none=True)
    totals = fields.Nested(CouponReportFiguresSchema)


# -- a holder's coupons -----------------------------------------------------------------------

class CouponClaimSchema(ma.Schema):
    estate_id = id_field(load_default=None, metadata={
        "description": "the estate of mine where it is offered; default one of my estates offering it"})


class MyCouponsArgsSchema(PageArgsSchema):
    status = fields.String(load_default="available", validate=validate.OneOf(TABS), metadata={
        "description": "available (incl. held for an open service request; the soonest to expire first) | "
                       "used | expired (incl. withdrawn); the others newest first"})
    service_type = fields.String(load_default=None, validate=validate.OneOf(SERVICE_TYPES),
                                 metadata={"description": "only coupons usable for this service type"})


class CouponTermsSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    kind = fields.String()
    face = fields.String()
    amount_fen = fields.Integer(allow_none=True)
    percent_off = fields.Integer(allow_none=True)
    cap_fen = fields.Integer(allow_none=True)
    min_spend_fen = fields.Integer()
    terms = fields.List(fields.String())
    service_types = fields.List(fields.String(), metadata={"description": "[]: every type"})
    partner = fields.Nested(CouponPartnerSchema, allow_none=True)


class CouponSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String(metadata={"description": "what a cashier or the service system is told"})
    status = fields.String(metadata={"description": "available | locked (held by a service request) | used | "
                                                    "expired | void"})
    status_label = fields.String()
    source = fields.String()
    source_label = fields.String()
    issued_at = fields.DateTime()
    valid_from = fields.Date()
    expires_on = fields.Date(metadata={"description": "the last day it may be used (Asia/Shanghai)"})
    usable_now = fields.Boolean()
    locked_order_id = fields.Integer(allow_none=True, metadata={"description": "the service order holding or using it"})
    used_at = fields.DateTime(allow_none=True)
    discount_fen = fields.Integer(allow_none=True, metadata={"description": "the discount given, once used"})
    template = fields.Nested(CouponTermsSchema)


# -- the manufacturer's systems (signed) ----------------------------------------------------------

def _check_amount(value: str) -> None:
    if not _AMOUNT.fullmatch(value):
        raise ma.ValidationError("金额须为不超过两位小数的数字，例如 \"199.00\"")


class CouponRedeemSchema(ma.Schema):
    code = fields.String(required=True, validate=validate.Length(4, 16))
    order_id = fields.String(required=True, validate=[validate.Length(1, 64), _PRINTABLE])
    amount = fields.String(required=True, validate=_check_amount,
                           metadata={"description": "the order's amount in yuan, a decimal string: \"199.00\""})
    service_type = fields.String(required=True, validate=validate.OneOf(SERVICE_TYPES))
    partner_code = fields.String(load_default=None, validate=[validate.Length(1, 32), _PRINTABLE],
                                 metadata={"description": "the partner whose service was ordered, if any"})

    @ma.post_load
    def _to_fen(self, data, **kwargs):
        whole, _, cents = data.pop("amount").partition(".")
        data["amount_fen"] = int(whole) * 100 + int((cents + "00")[:2])
        return data


class CouponRefundSchema(ma.Schema):
    order_id = fields.String(required=True, validate=[validate.Length(1, 64), _PRINTABLE])
    partner_code = fields.String(load_default=None, validate=[validate.Length(1, 32), _PRINTABLE],
                                 metadata={"description": "as given when redeeming"})
    code = fields.String(load_default=None, validate=validate.Length(4, 16),
                         metadata={"description": "optional check: the coupon the order used"})


class CouponUseSchema(ma.Schema):
    code = fields.String()
    order_id = fields.String()
    partner_code = fields.String(allow_none=True)
    amount = fields.String(metadata={"description": "the order's amount (yuan)"})
    discount = fields.String(metadata={"description": "the discount to take off the order (yuan)"})
    amount_fen = fields.Integer()
    discount_fen = fields.Integer()
    status = fields.String(metadata={"description": "used | refunded"})
    used_at = fields.DateTime()
    refunded_at = fields.DateTime(allow_none=True)
    refundable_until = fields.DateTime(metadata={"description": "a refund after this leaves the coupon used"})
    coupon_status = fields.String(metadata={"description": "the coupon now: used, available again, or expired"})
