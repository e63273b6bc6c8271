"""Estates, engineers and residency: request validation and response shapes."""
import marshmallow as ma
from marshmallow import fields, validate

from community.estates import services
from core.pagination import PageArgsSchema, list_schema
from core.schemas import id_field, upload_url


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


class EstateFoundSchema(EstateSchema):
    """An estate in the resident's finder: a nearby search adds its distance."""
    distance_m = fields.Integer(metadata={
        "description": "only when searching near a point (lat, lng): metres from it, rounded"})


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


class EstateFinderArgsSchema(EstateQueryArgsSchema):
    """The resident's finder: by name and region, or near a point (checked in services.nearby_estates)."""
    lat = fields.Float(load_default=None, metadata={
        "description": "latitude of the point (GCJ-02, as wx.getLocation type gcj02 gives it), with lng"})
    lng = fields.Float(load_default=None, metadata={"description": "longitude of the point (GCJ-02), with lat"})
    radius_m = fields.Integer(load_default=None, validate=validate.Range(1, services.NEARBY_RADIUS_MAX_M), metadata={
        "description": f"with lat and lng: how far to look, in metres (default {services.NEARBY_RADIUS_M})"})


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
    photo_url = fields.Function(lambda engineer: upload_url(engineer.photo), metadata={
        "description": "null, or the path of the engineer's photo (/api/v1/uploads/<name>)"})
    intro = fields.String(metadata={"description": "the engineer's own words to residents (up to 500 characters)"})
    estates = fields.List(fields.Nested(EstateBriefSchema))


class EngineerProfileWriteSchema(ma.Schema):
    """PUT /engineer/me: only the fields sent change."""
    intro = fields.String(validate=validate.Length(max=2000), metadata={
        "description": "up to 500 characters after trimming; empty removes it"})
    photo = fields.String(allow_none=True, validate=validate.Length(1, 48), metadata={
        "description": "the name of an image I uploaded (POST /api/v1/uploads); null removes it"})


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


# -- the address book -------------------------------------------------------------------------

class AddressSchema(ma.Schema):
    id = fields.Integer()
    estate = fields.Nested(EstateBriefSchema)
    building = fields.String()
    unit = fields.String()
    room = fields.String()
    contact_name = fields.String()
    contact_phone = fields.String()
    is_default = fields.Boolean()
    text = fields.Function(lambda address: services.address_text(address), metadata={
        "description": "the address on one line, e.g. 翠竹苑 3栋 2单元 1201 (what an order copies)"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class AddressWriteSchema(ma.Schema):
    """Validated again in community.estates.services (trimmed lengths, the mobile number)."""
    estate_id = id_field(required=True)
    building = fields.String(required=True, validate=validate.Length(max=100),
                             metadata={"description": "building or house, e.g. 3栋 or 3 (1–32 characters)"})
    unit = fields.String(load_default="", validate=validate.Length(max=100),
                         metadata={"description": "unit, e.g. 2单元 or 2 (up to 16 characters; may be empty)"})
    room = fields.String(load_default="", validate=validate.Length(max=100),
                         metadata={"description": "room, e.g. 1201 (up to 16 characters; may be empty)"})
    contact_name = fields.String(required=True, validate=validate.Length(max=100),
                                 metadata={"description": "who to ask for there (1–32 characters)"})
    contact_phone = fields.String(required=True, validate=validate.Length(max=32),
                                  metadata={"description": "a mainland mobile number, 11 digits"})
    is_default = fields.Boolean(load_default=False,
                                metadata={"description": "make it my default (my first address always is)"})


class AddressPatchSchema(AddressWriteSchema):
    """Every field optional: only the fields sent change."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


ResidencyListSchema = list_schema(ResidencySchema)
AddressListSchema = list_schema(AddressSchema)


class AgentDutySchema(ma.Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    city = fields.String()
    district = fields.String(allow_none=True, metadata={"description": "null: the whole city"})
    created_at = fields.DateTime()


class AgentDutyCreateSchema(ma.Schema):
    user_id = id_field(required=True, metadata={"description": "an active agent's user id"})
    city = fields.String(required=True, validate=validate.Length(1, services.DUTY_FIELD_MAX))
    district = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=services.DUTY_FIELD_MAX),
                             metadata={"description": "omit (or null) for the whole city"})


class AgentDutyQueryArgsSchema(ma.Schema):
    city = fields.String(load_default=None, validate=validate.Length(max=services.DUTY_FIELD_MAX))


AgentDutyListSchema = list_schema(AgentDutySchema)


class AgentsOnDutySchema(ma.Schema):
    estate_id = fields.Integer()
    user_ids = fields.List(fields.Integer(), metadata={
        "description": "the active agents on duty for the estate; nobody on duty: every active agent"})
