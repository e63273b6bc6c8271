"""Flagged bindings as staff read them, and their decisions."""
import marshmallow as ma
from marshmallow import fields, validate

from community.trust.models import FLAG_STATUSES
from core.pagination import PageArgsSchema, page_schema
from core.schemas import BULK_MAX, id_field


class BindingFlagQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default="open", validate=validate.OneOf([*FLAG_STATUSES, "all"]), metadata={
        "description": "open (default) | confirmed | dismissed | all"})


class BindingFlagDecisionSchema(ma.Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=255),
                         metadata={"description": "why (kept in the flag and the audit log)"})


class BindingFlagBulkSchema(ma.Schema):
    ids = fields.List(id_field(), required=True, validate=validate.Length(1, BULK_MAX),
                      metadata={"description": "a repeated id counts once"})
    action = fields.String(required=True, validate=validate.OneOf(["confirm", "dismiss"]))
    note = fields.String(load_default=None, validate=validate.Length(max=255))


class _Named(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class _Resident(ma.Schema):
    id = fields.Integer()
    display_name = fields.String()
    phone = fields.String(allow_none=True, metadata={"description": "masked"})


class _Binding(ma.Schema):
    id = fields.Integer()
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    end_reason = fields.String(allow_none=True, metadata={"description": "fake: confirmed as made up"})


class _Watch(ma.Schema):
    status = fields.String(metadata={"description": "pending | alive | lapsed | fake"})
    life_sign = fields.String(allow_none=True, metadata={"description": "order | product | session | phone | known"})
    life_sign_label = fields.String(allow_none=True)
    lapse_at = fields.DateTime()


class BindingFlagSchema(ma.Schema):
    id = fields.Integer()
    reason = fields.String(metadata={
        "description": "burst | never_returned | shared_phone | visit_ref_unmatched | far_from_estate"})
    reason_label = fields.String()
    details = fields.Dict()
    status = fields.String(metadata={"description": "open | confirmed | dismissed"})
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decided_by_id = fields.Integer(allow_none=True)
    binding = fields.Nested(_Binding)
    resident = fields.Nested(_Resident)
    engineer = fields.Nested(_Named)
    estate = fields.Nested(_Named)
    watch = fields.Nested(_Watch, allow_none=True, metadata={"description": "the binding's points and sign of life"})


BindingFlagPageSchema = page_schema(BindingFlagSchema)
