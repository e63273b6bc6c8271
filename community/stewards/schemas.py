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


def _get(obj, name):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


class EngineerPublicSchema(ma.Schema):
    """What a resident sees of their steward."""
    id = fields.Integer()
    name = fields.String()
    phone = fields.String()
    status = fields.String()
    photo_url = fields.Function(lambda e: upload_url(_get(e, "photo")), allow_none=True)


class StewardSchema(ma.Schema):
    binding_id = fields.Integer(attribute="id")
    engineer = fields.Nested(EngineerPublicSchema)
    estate = fields.Nested(EstateBriefSchema)
    since = fields.DateTime(attribute="started_at")


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


class MovedSchema(ma.Schema):
    moved = fields.Integer()
