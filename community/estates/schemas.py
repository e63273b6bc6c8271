"""Estates, engineers and residency: request validation and response shapes."""
import marshmallow as ma
from marshmallow import fields, validate

from core.pagination import PageArgsSchema, list_schema
from core.schemas import id_field


class EstateSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String(allow_none=True)
    name = fields.String()
    province = fields.String()
    city = fields.String()
    district = fields.String()
    address = fields.String()
    lat = fields.Float(allow_none=True)
    lng = fields.Float(allow_none=True)
    households = fields.Integer()
    status = fields.String()


class EstateBriefSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    city = fields.String()
    district = fields.String()


class EstateWriteSchema(ma.Schema):
    """Validated again in community.estates.services.clean_estate (shared with the pages and the CSV import)."""
    code = fields.String(allow_none=True, validate=validate.Length(max=64))
    name = fields.String(required=True, validate=validate.Length(1, 128))
    province = fields.String(required=True, validate=validate.Length(1, 32))
    city = fields.String(required=True, validate=validate.Length(1, 32))
    district = fields.String(required=True, validate=validate.Length(1, 32))
    address = fields.String(load_default="", validate=validate.Length(max=255))
    lat = fields.Decimal(allow_none=True, validate=validate.Range(-90, 90), as_string=True)
    lng = fields.Decimal(allow_none=True, validate=validate.Range(-180, 180), as_string=True)
    households = fields.Integer(load_default=0, validate=validate.Range(min=0))
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "inactive"]))


class EstatePatchSchema(EstateWriteSchema):
    """Every field optional: only the fields sent change (and no load_default fills the rest)."""

    # marshmallow has no Meta.partial; partial is a constructor (or load) argument.
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class EstateQueryArgsSchema(PageArgsSchema):
    q = fields.String(load_default=None, validate=validate.Length(max=64),
                      metadata={"description": "name contains, or exact estate code"})
    province = fields.String(load_default=None)
    city = fields.String(load_default=None)
    district = fields.String(load_default=None)


class AdminEstateQueryArgsSchema(EstateQueryArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(["active", "inactive"]))


# -- engineers --------------------------------------------------------------------------------

class EngineerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String()
    employee_no = fields.String()
    status = fields.String()
    user_id = fields.Integer(allow_none=True)
    claimed_at = fields.DateTime(allow_none=True)
    invite_expires_at = fields.DateTime(allow_none=True)
    left_at = fields.DateTime(allow_none=True)
    estates = fields.List(fields.Nested(EstateBriefSchema))


class EngineerNameSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class EngineerCreatedSchema(EngineerSchema):
    invite_code = fields.String(metadata={"description": "one-time code, shown only in this response"})


class InviteSchema(ma.Schema):
    invite_code = fields.String()
    invite_expires_at = fields.DateTime()


class EngineerCreateSchema(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(1, 64))
    phone = fields.String(required=True, validate=validate.Length(1, 20))
    employee_no = fields.String(required=True, validate=validate.Length(1, 32))
    estate_ids = fields.List(id_field(), load_default=list)


class EngineerPatchSchema(ma.Schema):
    name = fields.String(validate=validate.Length(1, 64))
    phone = fields.String(validate=validate.Length(1, 20))


class EngineerQueryArgsSchema(PageArgsSchema):
    q = fields.String(load_default=None, validate=validate.Length(max=64),
                      metadata={"description": "name contains, or exact employee number or phone"})
    status = fields.String(load_default=None, validate=validate.OneOf(["invited", "active", "left"]))
    estate_id = id_field(load_default=None)


class EstateIdsSchema(ma.Schema):
    estate_ids = fields.List(id_field(), required=True, validate=validate.Length(max=500))


class ClaimSchema(ma.Schema):
    invite_code = fields.String(required=True, validate=validate.Length(1, 32))


class ResidencySchema(ma.Schema):
    estate = fields.Nested(EstateBriefSchema)
    source = fields.String()
    joined_at = fields.DateTime()


class JoinEstateSchema(ma.Schema):
    estate_id = id_field(required=True)


ResidencyListSchema = list_schema(ResidencySchema)
