"""The order integration and the admin's order views: request validation and response shapes."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import marshmallow as ma
from marshmallow import fields, validate

from ambassador.orders import services
from ambassador.orders.models import ORDER_STATUSES
from core.pagination import PageArgsSchema

# Yuan as a decimal string: no float rounding, at most 2 decimals, below 100 million yuan.
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,7})(\.[0-9]{1,2})?")
ITEMS_MAX_CHARS = 20_000
# Bounds that keep every conversion to UTC (and the window added to it) inside datetime's range.
PAID_AT_RANGE = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))


# -- schemas -----------------------------------------------------------------------------------

class ResidentRefSchema(ma.Schema):
    phone = fields.String(validate=validate.Length(1, 20))
    openid = fields.String(validate=validate.Length(1, 64))
    unionid = fields.String(validate=validate.Length(1, 64))

    @ma.validates_schema
    def _one_at_least(self, data, **kwargs):
        if not any(data.get(k) for k in ("phone", "openid", "unionid")):
            raise ma.ValidationError("请至少提供手机号、openid、unionid 之一", "_schema")


class OrderMessageSchema(ma.Schema):
    external_id = fields.String(required=True, validate=[
        validate.Length(1, 64), validate.Regexp(r"^[\x21-\x7e]+$", error="只能是不含空格的英文字母、数字和符号")])
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    amount = fields.String(required=True, metadata={"description": "yuan as a decimal string, e.g. \"199.00\""})
    paid_at = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset"})
    resident = fields.Nested(ResidentRefSchema, required=True)
    items = fields.List(fields.Dict(), load_default=list, validate=validate.Length(max=200))
    partner_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 32), metadata={
        "description": "the ecosystem partner whose service was ordered: the code of an approved partner "
                       "(a paid order naming another is refused); the steward earns as for any order"})

    @ma.validates("items")
    def _items_size(self, value, **kwargs):
        if len(json.dumps(value, ensure_ascii=False)) > ITEMS_MAX_CHARS:
            raise ma.ValidationError(f"商品明细过长：JSON 最多 {ITEMS_MAX_CHARS} 个字符")

    @ma.validates("paid_at")
    def _paid_at_range(self, value, **kwargs):
        if not PAID_AT_RANGE[0] <= value < PAID_AT_RANGE[1]:
            raise ma.ValidationError("须在 2000-01-01 到 2100-01-01 之间")

    @ma.validates("amount")
    def _amount(self, value, **kwargs):
        if not _AMOUNT.fullmatch(value):
            raise ma.ValidationError("须为不小于 0、最多两位小数的金额文字，例如 \"199.00\"")

    @ma.post_load
    def _to_fen(self, data, **kwargs):
        whole, _, cents = data.pop("amount").partition(".")
        data["amount_fen"] = int(whole) * 100 + int((cents + "00")[:2])
        return data


class PayoutSchema(ma.Schema):
    role = fields.String(metadata={"description": "steward | inviter"})
    points = fields.Integer(metadata={"description": "points promised"})
    state = fields.String(metadata={"description": "pending | released | cancelled | reversed | unpaid"})
    release_at = fields.DateTime(allow_none=True, metadata={"description": "when pending points become spendable"})


class AdminPayoutSchema(PayoutSchema):
    user_id = fields.Integer()
    grant_transaction_id = fields.Integer(allow_none=True)
    reversal_transaction_id = fields.Integer(allow_none=True)
    taken_back = fields.Integer(metadata={"description": "points reversed from the balance"})
    shortfall = fields.Integer(metadata={"description": "released points the balance could not cover"})


class OrderResultSchema(ma.Schema):
    """What the order system gets back: the order as stored, the same for a repeated message."""
    id = fields.Integer()
    external_id = fields.String()
    status = fields.String()
    amount = fields.Function(lambda o: services.yuan(o.amount_fen))
    paid_at = fields.DateTime()
    refunded_at = fields.DateTime(allow_none=True)
    partner_code = fields.String(allow_none=True)
    matched = fields.Function(lambda o: o.resident_id is not None,
                              metadata={"description": "false: no user matched the resident; nothing is paid"})
    payouts = fields.Function(lambda o: PayoutSchema(many=True).dump(services.payouts(o)))


class AdminOrderSchema(ma.Schema):
    id = fields.Integer()
    external_id = fields.String()
    status = fields.String()
    amount = fields.Function(lambda o: services.yuan(o.amount_fen))
    paid_at = fields.DateTime()
    refunded_at = fields.DateTime(allow_none=True)
    resident_id = fields.Integer(allow_none=True)
    steward_user_id = fields.Integer(allow_none=True)
    inviter_id = fields.Integer(allow_none=True)
    partner_code = fields.String(allow_none=True)
    created_at = fields.DateTime()


class AdminOrderDetailSchema(AdminOrderSchema):
    items = fields.List(fields.Dict())
    payouts = fields.List(fields.Nested(AdminPayoutSchema))


class OrderQueryArgsSchema(PageArgsSchema):
    q = fields.String(load_default=None, validate=validate.Length(max=64),
                      metadata={"description": "external id, or its beginning"})
    resident = fields.String(load_default=None, validate=validate.Length(max=20),
                             metadata={"description": "resident user id or phone"})
    status = fields.String(load_default=None, validate=validate.OneOf(ORDER_STATUSES))
