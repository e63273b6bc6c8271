"""Request validation and response shapes of the points API (residents and admins)."""
from datetime import timezone

import marshmallow as ma
from marshmallow import fields, validate

from core.formatting import code_name
from core.pagination import PageArgsSchema, list_schema, page_schema
from core.schemas import id_field, local_datetime
from points.models import REDEMPTION_STATUSES

# Point amounts stay far below BIGINT, so sums and products of them cannot overflow.
MAX_POINTS = 10**9


def _image_url(value: str) -> None:
    if value and not value.startswith(("https://", "http://", "/")):
        raise ma.ValidationError("须为 http(s) 网址或以 / 开头的路径")


# -- balance and history ----------------------------------------------------------------------

class ExpiringSchema(ma.Schema):
    points = fields.Integer(metadata={"description": "points that expire within the notice period"})
    before = fields.DateTime(allow_none=True, metadata={"description": "the soonest of those expiries"})


class PointsSummarySchema(ma.Schema):
    balance = fields.Integer(attribute="available", metadata={"description": "points available to spend"})
    held = fields.Integer(metadata={"description": "points set aside for pending redemptions"})
    pending = fields.Integer(metadata={"description": "points promised (orders inside their refund window), "
                                                      "not yet spendable"})
    expiring = fields.Nested(ExpiringSchema)

    @ma.pre_dump
    def _nest_expiring(self, balance, **kwargs):
        """points.ledger.Balance (or an object with its fields) → the nested shape."""
        data = dict(vars(balance))
        data["expiring"] = {"points": data.pop("expiring"), "before": data.pop("expiring_before")}
        return data


class EntrySchema(ma.Schema):
    """One line of a user's points history: the user's leg of a ledger transaction."""
    id = fields.Integer()
    amount = fields.Integer(metadata={"description": "signed: > 0 credited, < 0 debited"})
    kind = fields.String(metadata={"description": "grant kind (e.g. binding_rating), hold, release, "
                                                  "adjustment, reverse, expiry"})
    kind_label = fields.Function(lambda e: code_name(e["kind"] if isinstance(e, dict) else e.kind, "points"),
                                 metadata={"description": "the kind as people read it: 完成管家绑定并评价服务, 兑换冻结, …"})
    reason = fields.String(metadata={"description": "human-readable reason"})
    created_at = fields.DateTime()
    transaction_id = fields.Integer()


# -- rewards ----------------------------------------------------------------------------------

class RewardSchema(ma.Schema):
    """A reward as residents see it."""
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    image_url = fields.String()
    cost = fields.Integer()
    stock = fields.Integer(allow_none=True, metadata={"description": "left in stock; null: unlimited"})
    per_user_limit = fields.Integer(allow_none=True)
    ends_at = fields.DateTime(allow_none=True)


class AdminRewardSchema(RewardSchema):
    min_level = fields.Integer(allow_none=True, metadata={"description": "null: everyone"})
    offer_only = fields.Boolean(metadata={"description": "listed and redeemable only in the estates a live offer "
                                                         "of it matches (activation.offers)"})
    auto_approve = fields.Boolean()
    auto_approve_min_level = fields.Integer(allow_none=True)
    starts_at = fields.DateTime(allow_none=True)
    active = fields.Boolean()
    created_at = fields.DateTime()


class RewardWriteSchema(ma.Schema):
    """Validated again in points.services (shared with the pages)."""
    name = fields.String(required=True, validate=validate.Length(1, 64))
    description = fields.String(load_default="", validate=validate.Length(max=1000))
    image_url = fields.String(load_default="", validate=[validate.Length(max=500), _image_url])
    cost = fields.Integer(required=True, validate=validate.Range(1, MAX_POINTS))
    stock = fields.Integer(load_default=None, validate=validate.Range(0, MAX_POINTS),
                           metadata={"description": "null: unlimited"})
    per_user_limit = fields.Integer(load_default=None, validate=validate.Range(1, MAX_POINTS))
    min_level = fields.Integer(load_default=None, validate=validate.Range(0, 1000),
                               metadata={"description": "ambassadors of this level and above; null: everyone"})
    offer_only = fields.Boolean(load_default=False, metadata={
        "description": "only residents of the estates a live offer of it matches see and redeem it"})
    auto_approve = fields.Boolean(load_default=False)
    auto_approve_min_level = fields.Integer(load_default=None, validate=validate.Range(0, 1000))
    starts_at = local_datetime(load_default=None)
    ends_at = local_datetime(load_default=None, metadata={"description": "exclusive"})
    active = fields.Boolean(load_default=True)

    @ma.post_load
    def _in_utc(self, data, **kwargs):
        # Stored and answered in UTC, like every other time (core.db.UTCDateTime).
        for name in ("starts_at", "ends_at"):
            if data.get(name) is not None:
                data[name] = data[name].astimezone(timezone.utc)
        return data


class RewardPatchSchema(RewardWriteSchema):
    """Every field optional: only the fields sent change (and no load_default fills the rest)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


RewardListSchema = list_schema(RewardSchema)


# -- redemptions ------------------------------------------------------------------------------

class RewardBriefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    image_url = fields.String()
    cost = fields.Integer()


class RedemptionSchema(ma.Schema):
    id = fields.Integer()
    reward = fields.Nested(RewardBriefSchema)
    quantity = fields.Integer()
    points = fields.Integer()
    status = fields.String(metadata={"description": " | ".join(REDEMPTION_STATUSES)})
    reason = fields.String(allow_none=True, metadata={"description": "why rejected, cancelled or voided"})
    note = fields.String(allow_none=True, metadata={"description": "delivery note or voucher code"})
    created_at = fields.DateTime()
    decide_by = fields.DateTime(metadata={"description": "voided automatically when still pending then"})
    decided_at = fields.DateTime(allow_none=True)
    fulfilled_at = fields.DateTime(allow_none=True)


class RedemptionEventSchema(ma.Schema):
    status = fields.String()
    actor_id = fields.Integer(allow_none=True, metadata={"description": "null: the system"})
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()


class AdminRedemptionSchema(RedemptionSchema):
    user_id = fields.Integer()
    decided_by_id = fields.Integer(allow_none=True)


class AdminRedemptionDetailSchema(AdminRedemptionSchema):
    events = fields.List(fields.Nested(RedemptionEventSchema), metadata={"description": "every step, oldest first"})


class RedemptionCreateSchema(ma.Schema):
    reward_id = id_field(required=True)
    quantity = fields.Integer(load_default=1, validate=validate.Range(1, 100))


class RedemptionQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(REDEMPTION_STATUSES))


class RejectSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 255))


class FulfilSchema(ma.Schema):
    note = fields.String(required=True, validate=validate.Length(1, 500),
                         metadata={"description": "delivery note or voucher code"})


# -- earning rules ----------------------------------------------------------------------------

class EarningRuleSchema(ma.Schema):
    kind = fields.String()
    name = fields.String()
    points = fields.Integer()
    daily_cap = fields.Integer(allow_none=True, metadata={"description": "points per user per day; null: none"})
    lifetime_cap = fields.Integer(allow_none=True, metadata={"description": "points per user ever; null: none"})
    enabled = fields.Boolean()
    updated_at = fields.DateTime()


class EarningRulePatchSchema(ma.Schema):
    name = fields.String(validate=validate.Length(1, 64))
    points = fields.Integer(validate=validate.Range(0, MAX_POINTS))
    daily_cap = fields.Integer(allow_none=True, validate=validate.Range(0, MAX_POINTS))
    lifetime_cap = fields.Integer(allow_none=True, validate=validate.Range(0, MAX_POINTS))
    enabled = fields.Boolean()


EarningRuleListSchema = list_schema(EarningRuleSchema)


# -- adjustments and reversals ----------------------------------------------------------------

class AdjustmentCreateSchema(ma.Schema):
    user_id = id_field(required=True)
    amount = fields.Integer(required=True, validate=validate.Range(-MAX_POINTS, MAX_POINTS),
                            metadata={"description": "> 0 grants, < 0 deducts"})
    reason = fields.String(required=True, validate=validate.Length(1, 255))


class ReverseSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 255))


class PostedSchema(ma.Schema):
    transaction_id = fields.Integer()
    created = fields.Boolean(metadata={"description": "false: this key was posted before; nothing moved now"})


class AdjustmentSchema(PostedSchema):
    user_id = fields.Integer()
    amount = fields.Integer()
    reason = fields.String()
    balance = fields.Nested(PointsSummarySchema, metadata={"description": "the user's points afterwards"})


class ReversalSchema(PostedSchema):
    reverses_id = fields.Integer()


# -- a user's points (admins) -----------------------------------------------------------------

class UserBriefSchema(ma.Schema):
    id = fields.Integer()
    display_name = fields.String()
    username = fields.String(allow_none=True)


class UserPointsSchema(PointsSummarySchema):
    user = fields.Nested(UserBriefSchema)
    entries = fields.Nested(page_schema(EntrySchema), metadata={"description": "the first page of the history"})
