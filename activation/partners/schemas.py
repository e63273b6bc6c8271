"""Partners, their staff, listings and leads: request validation and response shapes. The
services check every field again (the pages send the same data)."""
import marshmallow as ma
from marshmallow import fields, validate

from activation.partners import services
from activation.partners.models import LEAD_STATUSES, LISTING_KINDS, PARTNER_STATUSES, REVIEW_STATUSES, SIGNUP_MODES
from core.formatting import iso_time
from core.pagination import PageArgsSchema
from core.schemas import ID_RANGE, local_datetime, upload_url, upload_urls

# -- partners ---------------------------------------------------------------------------------

class PartnerApplicationCreateSchema(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(max=64), metadata={"description": "2–64 characters"})
    category = fields.String(required=True, validate=validate.Length(max=32),
                             metadata={"description": "e.g. " + "、".join(services.CATEGORIES)})
    description = fields.String(load_default="", validate=validate.Length(max=1000))
    contact_name = fields.String(required=True, validate=validate.Length(max=32))
    contact_phone = fields.String(required=True, validate=validate.Length(max=20),
                                  metadata={"description": "a mobile or a landline"})


class PartnerWriteSchema(PartnerApplicationCreateSchema):
    code = fields.String(load_default=None, validate=validate.Length(max=32),
                         metadata={"description": "names the partner in the order integration (partner_code); "
                                                  "generated when absent; fixed once approved"})
    logo = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=48),
                         metadata={"description": "an image the caller uploaded (POST /api/v1/uploads)"})


class PartnerUpdateSchema(ma.Schema):
    """Only the fields sent change."""
    name = fields.String(validate=validate.Length(max=64))
    category = fields.String(validate=validate.Length(max=32))
    description = fields.String(validate=validate.Length(max=1000))
    contact_name = fields.String(validate=validate.Length(max=32))
    contact_phone = fields.String(validate=validate.Length(max=20))
    code = fields.String(validate=validate.Length(max=32), metadata={"description": "only while pending"})
    logo = fields.String(allow_none=True, validate=validate.Length(max=48))


class PartnerApplicationSchema(ma.Schema):
    """An application as its applicant sees it."""
    id = fields.Integer()
    name = fields.String()
    category = fields.String()
    status = fields.String(metadata={"description": " | ".join(PARTNER_STATUSES)})
    decision_note = fields.String(allow_none=True, metadata={"description": "why it was rejected or suspended"})
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class PartnerSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    category = fields.String()
    description = fields.String()
    logo = fields.Function(lambda p: upload_url(p.logo), allow_none=True)
    contact_name = fields.String()
    contact_phone = fields.String()
    status = fields.String(metadata={"description": " | ".join(PARTNER_STATUSES)})
    decision_note = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class AdminPartnerSchema(PartnerSchema):
    reach_rule = fields.Dict()
    applicant_id = fields.Integer(allow_none=True, metadata={"description": "null: entered by an admin"})
    decided_by_id = fields.Integer(allow_none=True)
    updated_at = fields.DateTime()


class PartnerQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(PARTNER_STATUSES))
    q = fields.String(load_default=None, validate=validate.Length(max=64),
                      metadata={"description": "the name's beginning, or the exact code"})


class PartnerDecisionSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.OneOf(list(services.DECISIONS)))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=services.NOTE_MAX),
                         metadata={"description": "required to reject and to suspend"})


class PartnerReachSchema(ma.Schema):
    reach_rule = fields.Dict(required=True, metadata={"description": "a targeting rule (docs/activation.md); {} = every active estate"})


# -- staff ------------------------------------------------------------------------------------

class PartnerStaffCreateSchema(ma.Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 256),
                             metadata={"description": "at least 8 characters, not digits only"})
    display_name = fields.String(load_default="", validate=validate.Length(max=32))
    owner = fields.Boolean(load_default=False, metadata={"description": "may manage the partner's staff"})


class StaffPasswordSchema(ma.Schema):
    password = fields.String(required=True, validate=validate.Length(1, 256))


class PartnerStaffSchema(ma.Schema):
    user_id = fields.Function(lambda row: row[1].id)
    username = fields.Function(lambda row: row[1].username)
    display_name = fields.Function(lambda row: row[1].display_name)
    status = fields.Function(lambda row: row[1].status)
    owner = fields.Function(lambda row: row[0].owner)
    created_at = fields.Function(lambda row: iso_time(row[0].created_at))


class PartnerMeSchema(ma.Schema):
    partner = fields.Nested(PartnerSchema)
    owner = fields.Boolean(metadata={"description": "I may manage the staff"})


# -- listings ---------------------------------------------------------------------------------

class ListingWriteSchema(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(LISTING_KINDS))
    title = fields.String(required=True, validate=validate.Length(max=64))
    body = fields.String(load_default="", validate=validate.Length(max=2000))
    photos = fields.List(fields.String(validate=validate.Length(max=48)), load_default=list,
                         validate=validate.Length(max=services.PHOTOS_MAX),
                         metadata={"description": "images the caller uploaded (POST /api/v1/uploads)"})
    price_fen = fields.Integer(load_default=None, allow_none=True, strict=True,
                               metadata={"description": "a service's price in fen; null: priced on request"})
    price_note = fields.String(load_default="", validate=validate.Length(max=64), metadata={"description": "起, /次, /小时"})
    signup_mode = fields.String(load_default="none", validate=validate.OneOf(SIGNUP_MODES),
                                metadata={"description": "platform: residents sign up here (services only); "
                                                         "link: link_url (https); none"})
    link_url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    audience_rule = fields.Dict(load_default=dict, metadata={
        "description": "where to show it: a targeting rule, intersected with the partner's reach"})
    show_from = local_datetime(load_default=None, allow_none=True, metadata={"description": "null: from approval"})
    show_until = local_datetime(load_default=None, allow_none=True,
                                metadata={"description": f"null: {services.LISTING_DAYS} days after it starts"})


class ListingSchema(ma.Schema):
    """A listing as its partner and the moderators see it."""
    id = fields.Integer()
    partner_id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    photos = fields.Function(lambda x: upload_urls(x.photos))
    photo_ids = fields.List(fields.String(), attribute="photos", metadata={"description": "to send back when editing"})
    price_fen = fields.Integer(allow_none=True)
    price_note = fields.String()
    signup_mode = fields.String()
    link_url = fields.String(allow_none=True)
    audience_rule = fields.Dict()
    show_from = fields.DateTime(allow_none=True)
    show_until = fields.DateTime(allow_none=True)
    status = fields.String(metadata={"description": " | ".join(REVIEW_STATUSES)})
    review_note = fields.String(allow_none=True, metadata={"description": "why it was rejected or withdrawn by an admin"})
    reviewed_at = fields.DateTime(allow_none=True)
    created_by_id = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ListingQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(REVIEW_STATUSES))


class AdminListingQueryArgsSchema(ListingQueryArgsSchema):
    kind = fields.String(load_default=None, validate=validate.OneOf(LISTING_KINDS))
    partner_id = fields.Integer(load_default=None, validate=ID_RANGE)


class ListingReasonSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, services.NOTE_MAX))


class ListingNoteSchema(ma.Schema):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=services.NOTE_MAX))


# -- leads ------------------------------------------------------------------------------------

class LeadSchema(ma.Schema):
    """A sign-up as the partner sees it: the contact the resident gave for this service."""
    id = fields.Integer()
    listing_id = fields.Integer()
    estate_id = fields.Integer(allow_none=True)
    contact_name = fields.String()
    contact_phone = fields.String()
    note = fields.String()
    status = fields.String(metadata={"description": " | ".join(LEAD_STATUSES)})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class LeadQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(LEAD_STATUSES))
    listing_id = fields.Integer(load_default=None, validate=ID_RANGE)


class LeadStatusSchema(ma.Schema):
    status = fields.String(required=True, validate=validate.OneOf(["contacted", "closed"]))


class ListingBriefSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    partner_name = fields.String()


class MyLeadSchema(ma.Schema):
    """A sign-up as the resident who made it sees it."""
    id = fields.Integer()
    status = fields.String(metadata={"description": " | ".join(LEAD_STATUSES)})
    contact_phone = fields.String()
    note = fields.String()
    created_at = fields.DateTime()
    listing = fields.Nested(ListingBriefSchema)
