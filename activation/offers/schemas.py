"""Offers: request validation and response shapes. The services check every value again (the
console pages send the same data)."""
import marshmallow as ma
from marshmallow import fields, validate

from activation.activities.schemas import ActivitySchema
from activation.coupons.schemas import CouponTemplateSchema
from activation.offers import services
from activation.offers.models import NOTIFY_STATES, OFFER_KINDS, OFFER_STATUSES
from community.profiles.schemas import PreviewEstateSchema
from core.pagination import PageArgsSchema
from core.schemas import id_field, local_datetime
from points.schemas import RewardSchema

KINDS = " | ".join(OFFER_KINDS)


class OfferCreateSchema(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(OFFER_KINDS), metadata={
        "description": "coupon (a claimable coupon template) | activity | reward (points) | partner_service | "
                       "announcement (a partner's published listing)"})
    ref_id = id_field(required=True, metadata={"description": "the id of the thing `kind` names"})
    rule = fields.Dict(load_default=dict, metadata={
        "description": "a targeting rule (docs/activation.md): which estates; {} = every active estate. A "
                       "partner's thing is shown only within the partner's reach, an activity only in the "
                       "estates it is for"})
    starts_at = local_datetime(required=True, metadata={"description": "ISO 8601; without an offset: Asia/Shanghai"})
    ends_at = local_datetime(required=True)
    title = fields.String(load_default=None, validate=validate.Length(max=services.TITLE_MAX),
                          metadata={"description": "default: the thing's name"})
    summary = fields.String(load_default=None, validate=validate.Length(max=services.SUMMARY_MAX),
                            metadata={"description": "default: the coupon's face, the activity's time and place, …"})


class OfferUpdateSchema(ma.Schema):
    """Only the fields sent change; a published offer keeps its kind and ref_id."""
    kind = fields.String(validate=validate.OneOf(OFFER_KINDS))
    ref_id = id_field()
    rule = fields.Dict(metadata={"description": "a published offer is matched again at once"})
    starts_at = local_datetime()
    ends_at = local_datetime()
    title = fields.String(allow_none=True, validate=validate.Length(max=services.TITLE_MAX))
    summary = fields.String(allow_none=True, validate=validate.Length(max=services.SUMMARY_MAX))


class OfferQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(OFFER_STATUSES))
    kind = fields.String(load_default=None, validate=validate.OneOf(OFFER_KINDS))
    q = fields.String(load_default=None, validate=validate.Length(max=64), metadata={"description": "title contains"})
    partner_id = id_field(load_default=None)


class OfferSchema(ma.Schema):
    """An offer as the console sees it."""
    id = fields.Integer()
    kind = fields.String(metadata={"description": KINDS})
    kind_label = fields.String()
    category = fields.String(metadata={"description": "what a resident mutes: " + " | ".join(services.CATEGORY_LABELS)})
    ref_id = fields.Integer()
    title = fields.String()
    summary = fields.String()
    rule = fields.Dict()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    status = fields.String(metadata={"description": " | ".join(OFFER_STATUSES)})
    status_label = fields.String()
    state = fields.String(metadata={"description": "draft | scheduled | live | ended | withdrawn"})
    state_label = fields.String()
    partner_id = fields.Integer(allow_none=True, metadata={"description": "a partner's thing: its reach applies"})
    matched = fields.Integer(metadata={"description": "estates matched at the last refresh"})
    matched_at = fields.DateTime(allow_none=True, metadata={"description": "null: a refresh is due"})
    notify_state = fields.String(metadata={"description": " | ".join(NOTIFY_STATES)})
    notify_label = fields.String()
    notify_cursor = fields.Integer(metadata={"description": "the last estate the notices reached (id order)"})
    notified = fields.Integer(metadata={"description": "residents told (subscribe message or inbox)"})
    created_by_id = fields.Integer(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PreviewArgsSchema(ma.Schema):
    limit = fields.Integer(load_default=services.PREVIEW_ESTATES, validate=validate.Range(0, 200))


class OfferPreviewSchema(ma.Schema):
    count = fields.Integer(metadata={"description": "estates the offer matches now"})
    estates = fields.List(fields.Nested(PreviewEstateSchema), metadata={"description": "the first ones, by id"})
    matched = fields.Integer(metadata={"description": "estates stored at the last refresh (0 for a draft)"})
    matched_at = fields.DateTime(allow_none=True)


class OfferListingPartnerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    category = fields.String()
    description = fields.String()
    logo = fields.String(allow_none=True)


class OfferListingSchema(ma.Schema):
    """A partner's service or announcement, as a resident acts on it (sign up in the platform:
    POST /api/v1/partner-listings/{id}/leads; or open `link_url`)."""
    id = fields.Integer()
    kind = fields.String(metadata={"description": "service | announcement"})
    title = fields.String()
    body = fields.String()
    photos = fields.List(fields.String())
    price_fen = fields.Integer(allow_none=True)
    price_note = fields.String()
    signup_mode = fields.String(metadata={"description": "platform | link | none"})
    link_url = fields.String(allow_none=True)
    partner = fields.Nested(OfferListingPartnerSchema)


class EstateOfferArgsSchema(PageArgsSchema):
    kind = fields.String(load_default=None, validate=validate.OneOf(OFFER_KINDS))


class EstateOfferSchema(ma.Schema):
    """A live offer in an estate, with what the resident needs to act on it: exactly one of
    coupon (claim: POST /api/v1/coupon-templates/{id}/claim), activity (sign up: POST
    /api/v1/activities/{id}/signups), reward (redeem: POST /api/v1/redemptions) and listing."""
    id = fields.Integer()
    kind = fields.String(metadata={"description": KINDS})
    kind_label = fields.String()
    category = fields.String()
    title = fields.String()
    summary = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    estate_id = fields.Integer(allow_none=True, metadata={"description": "the estate it is shown in"})
    ref_id = fields.Integer()
    coupon = fields.Nested(CouponTemplateSchema, allow_none=True,
                           metadata={"description": "face value, terms, and my claim state (held, can_claim)"})
    activity = fields.Nested(ActivitySchema, allow_none=True,
                             metadata={"description": "time, place, seats left, and my sign-up"})
    reward = fields.Nested(RewardSchema, allow_none=True, metadata={"description": "its cost in points"})
    listing = fields.Nested(OfferListingSchema, allow_none=True, metadata={"description": "its price and how to sign up"})


class OfferOpenArgsSchema(ma.Schema):
    estate_id = id_field(load_default=None, metadata={"description": "the estate the offer was seen in"})


class MuteSchema(ma.Schema):
    category = fields.String(metadata={"description": " | ".join(services.CATEGORY_LABELS)})
    name = fields.String()
    description = fields.String()
    muted = fields.Boolean()


class MutesSchema(ma.Schema):
    items = fields.List(fields.Nested(MuteSchema))


class MutesUpdateSchema(ma.Schema):
    muted = fields.List(fields.String(validate=validate.OneOf(list(services.CATEGORY_LABELS))), required=True,
                        validate=validate.Length(max=len(services.CATEGORY_LABELS)),
                        metadata={"description": "the categories whose new offers I do not want to be told of "
                                                 "(the estate's list still shows them); [] hears all"})
