"""Activities, sign-ups and check-ins: request validation and response shapes. The services check
every field again (the pages send the same data)."""
import marshmallow as ma
from marshmallow import fields, validate

from activation.activities import services
from activation.activities.models import ACTIVITY_STATUSES, ORGANIZER_KINDS, SIGNUP_STATUSES
from core.pagination import PageArgsSchema
from core.schemas import ID_RANGE, id_field, local_datetime

# -- writing ----------------------------------------------------------------------------------

AUDIENCE = ("the audience: `estate_ids` (listed estates) or `audience_rule` (a targeting rule, "
            "docs/activation.md), not both; intersected with what the organiser may reach")


class ActivityUpdateSchema(ma.Schema):
    """Only the fields sent change."""
    title = fields.String(validate=validate.Length(max=64), metadata={"description": "2–64 characters"})
    description = fields.String(validate=validate.Length(max=4000))
    photos = fields.List(fields.String(validate=validate.Length(max=48)), validate=validate.Length(max=9),
                         metadata={"description": "names of images the caller uploaded (POST /api/v1/uploads)"})
    place = fields.String(validate=validate.Length(max=128))
    starts_at = local_datetime()
    ends_at = local_datetime()
    signup_deadline = local_datetime(metadata={"description": "default: the start; at most the end"})
    capacity = fields.Integer(validate=validate.Range(1, services.CAPACITY_MAX),
                              metadata={"description": "never below the confirmed sign-ups; raising it promotes the waitlist"})
    points_reward = fields.Integer(validate=validate.Range(0, services.POINTS_MAX),
                                   metadata={"description": "paid once on check-in; admins only"})
    coupon_template_id = fields.Integer(allow_none=True, validate=ID_RANGE,
                                        metadata={"description": "issued once on check-in; admins any, a partner its own"})
    estate_ids = fields.List(id_field(), validate=validate.Length(1, services.AUDIENCE_IDS_MAX),
                             metadata={"description": AUDIENCE})
    audience_rule = fields.Dict(metadata={"description": AUDIENCE})


class ActivityCreateSchema(ActivityUpdateSchema):
    title = fields.String(required=True, validate=validate.Length(max=64), metadata={"description": "2–64 characters"})
    place = fields.String(required=True, validate=validate.Length(max=128))
    starts_at = local_datetime(required=True)
    ends_at = local_datetime(required=True)
    capacity = fields.Integer(required=True, validate=validate.Range(1, services.CAPACITY_MAX))


class ActivityCancelSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(max=services.REASON_MAX),
                           metadata={"description": "what the sign-ups read"})


class ActivityReviewSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.OneOf(list(services.REVIEWS)))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=services.NOTE_MAX),
                         metadata={"description": "required to reject (the partner reads it)"})


class ActivitySignupCreateSchema(ma.Schema):
    estate_id = fields.Integer(load_default=None, allow_none=True, validate=ID_RANGE,
                               metadata={"description": "which of my estates (default: the first of the audience's)"})
    contact_name = fields.String(load_default="", validate=validate.Length(max=services.CONTACT_NAME_MAX))
    contact_phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20),
                                  metadata={"description": "default: my confirmed phone"})


class ActivityCheckInSchema(ma.Schema):
    code = fields.String(load_default=None, validate=validate.Length(1, 32),
                         metadata={"description": "the attendee's code (the organiser scans or types it)"})
    token = fields.String(load_default=None, validate=validate.Length(1, 64),
                          metadata={"description": "the activity's check-in code (the attendee scans it)"})

    @ma.validates_schema
    def _one_of_them(self, data, **kwargs):
        if (data.get("code") is None) == (data.get("token") is None):
            raise ma.ValidationError({"code": ["请提供签到码或二维码中的一个"]})


class ActivityAudiencePreviewSchema(ma.Schema):
    audience_rule = fields.Dict(required=True)


# -- queries ----------------------------------------------------------------------------------

class MyActivitiesArgsSchema(PageArgsSchema):
    tab = fields.String(load_default="upcoming", validate=validate.OneOf(["upcoming", "all"]),
                        metadata={"description": "upcoming: signed up, not yet ended (soonest first); all: newest first"})


class OwnActivitiesArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(ACTIVITY_STATUSES))


class AdminActivitiesArgsSchema(OwnActivitiesArgsSchema):
    organizer_kind = fields.String(load_default=None, validate=validate.OneOf(ORGANIZER_KINDS))
    partner_id = fields.Integer(load_default=None, validate=ID_RANGE)
    q = fields.String(load_default=None, validate=validate.Length(max=64), metadata={"description": "in the title"})


class ActivityAttendeesArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(list(services.ATTENDEE_FILTERS)),
                           metadata={"description": "confirmed | waitlisted | checked_in | cancelled; default all"})


# -- responses --------------------------------------------------------------------------------

class ActivitySignupSchema(ma.Schema):
    """A sign-up as its resident sees it."""
    id = fields.Integer()
    activity_id = fields.Integer()
    status = fields.String(metadata={"description": " | ".join(SIGNUP_STATUSES)})
    status_label = fields.String()
    code = fields.String(allow_none=True, metadata={
        "description": "my attendee code while confirmed: the client shows it as a QR code (and as text) "
                       "for the organiser to scan or type"})
    estate_id = fields.Integer(allow_none=True)
    queue_position = fields.Integer(allow_none=True, metadata={"description": "while waitlisted: 1 is next"})
    contact_name = fields.String()
    contact_phone = fields.String(allow_none=True)
    queued_at = fields.DateTime()
    promoted_at = fields.DateTime(allow_none=True, metadata={"description": "moved up from the waitlist"})
    cancelled_at = fields.DateTime(allow_none=True)
    checked_in_at = fields.DateTime(allow_none=True)
    rewarded_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class ActivityAttendeeSchema(ActivitySignupSchema):
    """A sign-up as the organiser side sees it (never the attendee's code)."""
    user_id = fields.Integer()
    name = fields.String()
    estate_name = fields.String()


class ActivityCouponSchema(ma.Schema):
    template_id = fields.Integer()
    name = fields.String()
    face = fields.String(metadata={"description": "e.g. 满100减20"})


class ActivityOrganizerSchema(ma.Schema):
    kind = fields.String(metadata={"description": " | ".join(ORGANIZER_KINDS)})
    kind_label = fields.String()
    name = fields.String()


class ActivitySchema(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    photos = fields.List(fields.String(), metadata={"description": "image paths (prefix the API's origin)"})
    place = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    signup_deadline = fields.DateTime()
    capacity = fields.Integer()
    confirmed = fields.Integer()
    waitlisted = fields.Integer()
    seats_left = fields.Integer()
    checked_in = fields.Integer()
    status = fields.String(metadata={"description": " | ".join(ACTIVITY_STATUSES)})
    state = fields.String(metadata={"description": "the status, and for a published one upcoming | ongoing | ended"})
    state_label = fields.String()
    signup_open = fields.Boolean(metadata={"description": "published and before the sign-up deadline"})
    checkin_opens_at = fields.DateTime(metadata={"description": "1 h before the start"})
    checkin_closes_at = fields.DateTime(metadata={"description": "the end"})
    points_reward = fields.Integer(metadata={"description": "points for taking part (paid on check-in)"})
    coupon = fields.Nested(ActivityCouponSchema, allow_none=True, metadata={"description": "the coupon for taking part"})
    organizer = fields.Nested(ActivityOrganizerSchema)
    cancelled_reason = fields.String(allow_none=True)
    my = fields.Nested(ActivitySignupSchema, allow_none=True, metadata={"description": "my sign-up, if any"})


class OrganizerActivitySchema(ActivitySchema):
    """An activity as its organiser side sees it."""
    checkin_token = fields.String(metadata={"description": "the activity's check-in code: show it as a QR code "
                                                           "for attendees to scan"})
    audience_rule = fields.Dict(allow_none=True)
    estate_count = fields.Integer()
    estate_ids = fields.List(fields.Integer(), metadata={"description": "the first 50, by id"})
    photo_names = fields.List(fields.String(), metadata={"description": "upload names (to send back on edit)"})
    review_note = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    partner_id = fields.Integer(allow_none=True)
    organizer_user_id = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ActivitySignupResultSchema(ma.Schema):
    signup = fields.Nested(ActivitySignupSchema)
    activity = fields.Nested(ActivitySchema)
    created = fields.Boolean(metadata={"description": "false: I was signed up already (the same sign-up)"})


class ActivityRewardCouponSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    face = fields.String()
    expires_on = fields.Date()


class ActivityRewardSchema(ma.Schema):
    points = fields.Integer()
    coupon = fields.Nested(ActivityRewardCouponSchema, allow_none=True, metadata={"description": "null: none (or out of stock)"})


class ActivityCheckInResultSchema(ma.Schema):
    attendee = fields.Nested(ActivityAttendeeSchema)
    first = fields.Boolean(metadata={"description": "false: checked in before; this is the first check-in"})
    reward = fields.Nested(ActivityRewardSchema)


class ActivityOrganizerMeSchema(ma.Schema):
    may_organize = fields.Boolean()
    kind = fields.String(allow_none=True, metadata={"description": " | ".join(ORGANIZER_KINDS)})
    estate_ids = fields.List(fields.Integer(), allow_none=True, metadata={"description": "an ambassador's estates"})
    reason = fields.String(allow_none=True, metadata={"description": "why not (Chinese)"})


class ActivityEstateChoiceSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    city = fields.String()
    district = fields.String()


class ActivityEstateSearchArgsSchema(ma.Schema):
    q = fields.String(required=True, validate=validate.Length(1, 64))


class ActivityAudiencePreviewResultSchema(ma.Schema):
    count = fields.Integer()
    estates = fields.List(fields.Dict())
