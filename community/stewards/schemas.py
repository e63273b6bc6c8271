"""Binding codes, bindings, stewards and an engineer's customers: request validation and response shapes."""
import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate

from community.estates.schemas import EstateBriefSchema, ResidencySchema
from core.accounts.schemas import UserSchema
from core.formatting import absolute_url, mask_phone
from core.pagination import PageArgsSchema, list_schema
from core.schemas import id_field, upload_url


class BindingCodeCreateSchema(ma.Schema):
    estate_id = id_field(required=True)
    visit_ref = fields.String(load_default=None, validate=validate.Length(max=64),
                              metadata={"description": "work-order number of this visit"})


class BindingCodeSchema(ma.Schema):
    scene = fields.String()
    expires_at = fields.DateTime()
    estate = fields.Nested(EstateBriefSchema)
    visit_ref = fields.String(allow_none=True)
    image_url = fields.Method("dump_image_url")
    uses_left = fields.Method("dump_uses_left", metadata={
        "type": "integer", "description": "how many more households may bind with this code (BINDING_CODE_MAX_USES)"})

    def dump_image_url(self, code):
        return absolute_url("community_stewards.binding_code_image", scene=code.scene)

    def dump_uses_left(self, code):
        return max(0, current_app.config["BINDING_CODE_MAX_USES"] - code.uses)


class BindingCreateSchema(ma.Schema):
    code = fields.String(required=True, validate=validate.Length(1, 128),
                         metadata={"description": "the code from wx.login()"})
    scene = fields.String(required=True, validate=validate.Length(1, 64),
                          metadata={"description": "decodeURIComponent(query.scene)"})
    rating = fields.Integer(load_default=None, validate=validate.Range(1, 5))
    comment = fields.String(load_default=None, validate=validate.Length(max=500))
    latitude = fields.Float(load_default=None, validate=validate.Range(-90, 90), metadata={
        "description": "where the phone is (wx.getLocation, GCJ-02), optional; far from the estate is flagged"})
    longitude = fields.Float(load_default=None, validate=validate.Range(-180, 180))

    @ma.validates_schema
    def _both_or_neither(self, data, **kwargs):
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ma.ValidationError("经纬度须同时提供", "longitude" if data.get("longitude") is None else "latitude")


def _get(obj, name):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


class EngineerPublicSchema(ma.Schema):
    """What a resident sees of their steward."""
    id = fields.Integer()
    name = fields.String()
    phone = fields.String()
    status = fields.String()
    photo_url = fields.Function(lambda e: upload_url(_get(e, "photo")), allow_none=True)


class HandoverEngineerSchema(ma.Schema):
    """An engineer on either side of a handover, as the resident sees them."""
    id = fields.Integer()
    name = fields.String()
    status = fields.String()
    photo_url = fields.Function(lambda e: upload_url(_get(e, "photo")), allow_none=True)


class OfferedHandoverSchema(ma.Schema):
    """The handover offered to the customer, as their steward card shows it."""
    id = fields.Integer()
    kind = fields.String(metadata={"description": "reassign (an admin moved the customer) | engineer_left"})
    status = fields.String()
    to_engineer = fields.Nested(HandoverEngineerSchema)
    due_at = fields.DateTime(metadata={"description": "without a refusal before this time the change takes effect"})
    created_at = fields.DateTime()


class StewardSchema(ma.Schema):
    binding_id = fields.Integer(attribute="id")
    engineer = fields.Nested(EngineerPublicSchema)
    estate = fields.Nested(EstateBriefSchema)
    since = fields.DateTime(attribute="started_at")
    handover = fields.Nested(OfferedHandoverSchema, allow_none=True, metadata={
        "description": "a pending change of steward the resident may accept or refuse (null: none)"})


class StewardCardSchema(StewardSchema):
    """The steward as the binding page shows them right after the scan."""
    rank = fields.Integer(allow_none=True, metadata={"description": "the engineer's place in the estate's ranking"})


class VisitSchema(ma.Schema):
    id = fields.Integer()
    estate_id = fields.Integer()
    visit_ref = fields.String(allow_none=True)
    rating = fields.Integer(allow_none=True)
    comment = fields.String(allow_none=True)
    created_at = fields.DateTime()


class PointsOutcomeSchema(ma.Schema):
    granted = fields.Integer(attribute="points", metadata={"description": "points granted by this call"})
    refused = fields.Method("dump_refused", metadata={"description": "why no points, when a rule refused"})
    pending = fields.Boolean(attribute="points_pending", metadata={
        "description": "true: the granted points wait until the resident shows a sign of life (docs/community.md)"})

    def dump_refused(self, outcome):
        refused = outcome.points_refused
        return {"code": refused.code, "message": refused.message} if refused else None


class BindingResultSchema(ma.Schema):
    token = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(UserSchema)
    result = fields.String(metadata={"description": "created | unchanged | kept | switched"})
    steward = fields.Nested(StewardCardSchema, allow_none=True)
    estate = fields.Nested(EstateBriefSchema)
    visit = fields.Nested(VisitSchema)
    points = fields.Nested(PointsOutcomeSchema)


StewardListSchema = list_schema(StewardSchema)


class CustomerSchema(ma.Schema):
    user_id = fields.Integer(attribute="resident_id")
    display_name = fields.String(attribute="resident.display_name")
    phone = fields.Function(lambda b: mask_phone(b.resident.phone))
    estate = fields.Nested(EstateBriefSchema)
    since = fields.DateTime(attribute="started_at")
    start_reason = fields.String()
    last_visit_at = fields.DateTime(allow_none=True, metadata={
        "description": "the engineer's latest visit to the customer (a scan of their code); null without one"})


class CustomerQueryArgsSchema(PageArgsSchema):
    estate_id = id_field(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=64), metadata={
        "description": "name (contains), or 4–11 digits of the phone (e.g. its last four)"})


class CustomerDetailSchema(ma.Schema):
    """The steward sees their own customer's full phone number (to call them), unlike in lists."""
    user_id = fields.Integer(attribute="resident.id")
    display_name = fields.String(attribute="resident.display_name")
    phone = fields.String(attribute="resident.phone", allow_none=True)
    since = fields.DateTime(attribute="binding.started_at")
    bound_estate = fields.Nested(EstateBriefSchema, attribute="binding.estate")
    estates = fields.List(fields.Nested(ResidencySchema))
    visits = fields.List(fields.Nested(VisitSchema))


class BindingHistorySchema(ma.Schema):
    id = fields.Integer()
    engineer = fields.Nested(EngineerPublicSchema)
    estate = fields.Nested(EstateBriefSchema)
    started_at = fields.DateTime()
    start_reason = fields.String()
    ended_at = fields.DateTime(allow_none=True)
    end_reason = fields.String(allow_none=True)
    ended_by_id = fields.Integer(allow_none=True)


BindingHistoryListSchema = list_schema(BindingHistorySchema)


class DeactivateSchema(ma.Schema):
    reassign_to = id_field(load_default=None, metadata={"description": "engineer who takes the customers"})


class ReassignSchema(ma.Schema):
    to_engineer_id = id_field(required=True)
    estate_id = id_field(load_default=None, metadata={"description": "only this estate's customers"})


class SkippedSchema(ma.Schema):
    limit = fields.Integer(metadata={"description": "already handed over twice in 90 days"})
    pending = fields.Integer(metadata={"description": "a handover or change request of theirs is open"})


class MovedSchema(ma.Schema):
    moved = fields.Integer(metadata={
        "description": "customers offered to the new engineer: pending handovers, effective after 24 h unless refused"})
    skipped = fields.Function(lambda o: sum(o.skipped.values()), metadata={
        "type": "integer", "description": "customers who stay where they are"})
    skipped_reasons = fields.Nested(SkippedSchema, attribute="skipped")
    ended = fields.Integer(metadata={
        "description": "an engineer leaving: bindings ended at once (customers not handed over)"})


# -- handover -------------------------------------------------------------------------------------

HANDOVER_KINDS = ("reassign", "engineer_left", "request")
HANDOVER_STATUSES = ("pending", "completed", "refused", "rejected", "cancelled")


class EngineerBriefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    status = fields.String()


class HandoverSchema(ma.Schema):
    """A change of steward as the resident sees it."""
    id = fields.Integer()
    kind = fields.String(metadata={"description": "reassign | engineer_left | request (my own change request)"})
    status = fields.String(metadata={"description": "pending | completed | refused | rejected | cancelled"})
    from_engineer = fields.Nested(HandoverEngineerSchema, allow_none=True)
    to_engineer = fields.Nested(HandoverEngineerSchema)
    estate = fields.Nested(EstateBriefSchema)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True, metadata={"description": "effective then unless refused; null for a request"})
    decided_at = fields.DateTime(allow_none=True)
    refusal_reason = fields.String(allow_none=True)


HandoverListSchema = list_schema(HandoverSchema)


class HandoverAdminSchema(HandoverSchema):
    """A change of steward as staff see it in the queue."""
    from_engineer = fields.Nested(EngineerBriefSchema, allow_none=True)
    to_engineer = fields.Nested(EngineerBriefSchema)
    resident_id = fields.Integer()
    resident_name = fields.String(attribute="resident.display_name", allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    decided_by_id = fields.Integer(allow_none=True, metadata={"description": "null: completed by the job"})


class HandoverQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(HANDOVER_STATUSES))
    kind = fields.String(load_default=None, validate=validate.OneOf(HANDOVER_KINDS))
    engineer_id = id_field(load_default=None, metadata={"description": "the engineer on either side"})
    resident_id = id_field(load_default=None)


class HandoverRefuseSchema(ma.Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=200))


class HandoverRejectSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 200))


class DropStewardArgsSchema(ma.Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "why (required: here or in the JSON body)"})


class ChangeRequestCreateSchema(ma.Schema):
    engineer_id = id_field(required=True, metadata={"description": "an active engineer covering the estate"})
    estate_id = id_field(load_default=None, metadata={"description": "default: my steward's estate"})
    reason = fields.String(required=True, validate=validate.Length(1, 200))
