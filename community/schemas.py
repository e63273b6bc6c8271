import marshmallow as ma
from flask import url_for
from marshmallow import fields, validate

from community.orders import SERVICE_TYPES, STATUS_LABELS as ORDER_STATUS_LABELS
from core.accounts.schemas import UserSchema
from core.formatting import mask_phone
from core.pagination import PageArgsSchema, list_schema

# Ids are positive BIGINTs: a larger number is a validation error here, not a database error later.
ID_RANGE = validate.Range(1, 2**63 - 1)


def id_field(**kwargs) -> fields.Integer:
    return fields.Integer(validate=ID_RANGE, **kwargs)


# -- estates ----------------------------------------------------------------------------------

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
    """Validated again in community.services.clean_estate (shared with the pages and the CSV import)."""
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


class DeactivateSchema(ma.Schema):
    reassign_to = id_field(load_default=None, metadata={"description": "engineer who takes the customers"})


class ReassignSchema(ma.Schema):
    to_engineer_id = id_field(required=True)
    estate_id = id_field(load_default=None, metadata={"description": "only this estate's customers"})


class MovedSchema(ma.Schema):
    moved = fields.Integer()


class ClaimSchema(ma.Schema):
    invite_code = fields.String(required=True, validate=validate.Length(1, 32))


# -- binding ----------------------------------------------------------------------------------

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

    def dump_image_url(self, code):
        return url_for("community.binding_code_image", scene=code.scene, _external=True)


class BindingCreateSchema(ma.Schema):
    code = fields.String(required=True, validate=validate.Length(1, 128),
                         metadata={"description": "the code from wx.login()"})
    scene = fields.String(required=True, validate=validate.Length(1, 64),
                          metadata={"description": "decodeURIComponent(query.scene)"})
    rating = fields.Integer(load_default=None, validate=validate.Range(1, 5))
    comment = fields.String(load_default=None, validate=validate.Length(max=500))


class EngineerPublicSchema(ma.Schema):
    """What a resident sees of their steward."""
    id = fields.Integer()
    name = fields.String()
    phone = fields.String()
    status = fields.String()


class StewardSchema(ma.Schema):
    binding_id = fields.Integer(attribute="id")
    engineer = fields.Nested(EngineerPublicSchema)
    estate = fields.Nested(EstateBriefSchema)
    since = fields.DateTime(attribute="started_at")


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
    steward = fields.Nested(StewardSchema, allow_none=True)
    estate = fields.Nested(EstateBriefSchema)
    visit = fields.Nested(VisitSchema)
    points = fields.Nested(PointsOutcomeSchema)


class ResidencySchema(ma.Schema):
    estate = fields.Nested(EstateBriefSchema)
    source = fields.String()
    joined_at = fields.DateTime()


class JoinEstateSchema(ma.Schema):
    estate_id = id_field(required=True)


StewardListSchema = list_schema(StewardSchema)
ResidencyListSchema = list_schema(ResidencySchema)


# -- customers --------------------------------------------------------------------------------

class CustomerSchema(ma.Schema):
    user_id = fields.Integer(attribute="resident_id")
    display_name = fields.String(attribute="resident.display_name")
    phone = fields.Function(lambda b: mask_phone(b.resident.phone))
    estate = fields.Nested(EstateBriefSchema)
    since = fields.DateTime(attribute="started_at")
    start_reason = fields.String()


class CustomerQueryArgsSchema(PageArgsSchema):
    estate_id = id_field(load_default=None)


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


# -- service orders, reviews, complaints, likes, ranking ------------------------------------------

class ServiceRequestCreateSchema(ma.Schema):
    estate_id = id_field(required=True)
    service_type = fields.String(required=True, validate=validate.Length(1, 32))
    description = fields.String(load_default="", validate=validate.Length(max=1000))
    preferred_engineer_id = id_field(load_default=None, allow_none=True)
    preferred_slot = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class ServiceOrderSchema(ma.Schema):
    id = fields.Integer()
    source = fields.String()
    estate_id = fields.Integer()
    resident_id = fields.Integer(allow_none=True)
    engineer_id = fields.Integer(allow_none=True)
    preferred_engineer_id = fields.Integer(allow_none=True)
    service_type = fields.String()
    service_type_label = fields.Function(lambda o: SERVICE_TYPES.get(o.service_type, o.service_type))
    description = fields.String()
    preferred_slot = fields.String(allow_none=True)
    status = fields.String()
    status_label = fields.Function(lambda o: ORDER_STATUS_LABELS[o.status])
    requested_at = fields.DateTime()
    assigned_at = fields.DateTime(allow_none=True)
    scheduled_for = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    rating = fields.Integer(allow_none=True)
    complained = fields.Boolean()


class ServiceOrderQueryArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(("requested", "assigned", "scheduled", "completed", "cancelled")))


class AdminServiceOrderQueryArgsSchema(ServiceOrderQueryArgsSchema):
    estate_id = id_field()


class ScheduleSchema(ma.Schema):
    scheduled_for = fields.AwareDateTime(required=True, default_timezone=None)


class CancelOrderSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 255))


class AssignSchema(ma.Schema):
    engineer_id = id_field(required=True)


class ReviewCreateSchema(ma.Schema):
    rating = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    text = fields.String(load_default="", validate=validate.Length(max=1000))
    photos = fields.List(fields.String(validate=validate.Length(1, 48)), load_default=list,
                         validate=validate.Length(max=9))


class ServiceReviewSchema(ma.Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    engineer_id = fields.Integer()
    rating = fields.Integer()
    text = fields.String()
    photos = fields.List(fields.String())
    created_at = fields.DateTime()


class ReviewResultSchema(ma.Schema):
    review = fields.Nested(ServiceReviewSchema)
    points = fields.Integer(metadata={"description": "points paid for the review (the same for any rating)"})
    points_refused = fields.String(allow_none=True)


class ComplaintCreateSchema(ma.Schema):
    text = fields.String(required=True, validate=validate.Length(1, 1000))


class ComplaintSchema(ma.Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    estate_id = fields.Integer()
    engineer_id = fields.Integer(allow_none=True)
    text = fields.String()
    status = fields.String()
    resolution = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class ComplaintQueryArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(("open", "resolved")))


class ResolveComplaintSchema(ma.Schema):
    resolution = fields.String(required=True, validate=validate.Length(1, 1000))


class LikeResultSchema(ma.Schema):
    engineer_id = fields.Integer()
    liked = fields.Boolean()
    created = fields.Boolean(metadata={"description": "false when you had liked this engineer before"})


class RankingComponentsSchema(ma.Schema):
    bayes_rating = fields.Float()
    avg_rating = fields.Float(allow_none=True)
    ratings_count = fields.Integer()
    likes = fields.Integer()
    complaints = fields.Integer()
    completed = fields.Integer()
    recent_completed = fields.Integer()
    quality = fields.Float()
    volume = fields.Float()


class EngineerNameSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class RankedEngineerSchema(ma.Schema):
    rank = fields.Integer()
    engineer = fields.Nested(EngineerNameSchema)
    score = fields.Float()
    first_service_at = fields.DateTime(allow_none=True)
    components = fields.Nested(RankingComponentsSchema)


class RankingSchema(ma.Schema):
    estate_id = fields.Integer()
    window_days = fields.Integer()
    items = fields.List(fields.Nested(RankedEngineerSchema))


class ServiceOrderMessageSchema(ma.Schema):
    """One order from the service system (the columns of `flask community import-orders`)."""
    external_id = fields.String(required=True, validate=validate.Length(1, 64))
    estate_id = id_field(required=True)
    engineer_employee_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    resident_phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    service_type = fields.String(required=True, validate=validate.Length(1, 32))
    requested_at = fields.String(required=True, metadata={"description": "ISO 8601; without offset: Asia/Shanghai"})
    completed_at = fields.String(load_default=None, allow_none=True)
    rating = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 5))
    complained = fields.Boolean(load_default=False)


class ServiceOrderReceivedSchema(ma.Schema):
    order = fields.Nested(ServiceOrderSchema)
    created = fields.Boolean(metadata={"description": "false: this external_id was received before; nothing changed"})


class KpiArgsSchema(ma.Schema):
    from_ = fields.String(required=True, data_key="from", metadata={"description": "first month, YYYY-MM"})
    to = fields.String(required=True, metadata={"description": "last month, YYYY-MM"})


class KpiMonthSchema(ma.Schema):
    month = fields.String()
    orders = fields.Integer()
    complaints = fields.Integer()
    orders_per_1000 = fields.Float(allow_none=True)
    complaints_per_1000 = fields.Float(allow_none=True)
    avg_rating = fields.Float(allow_none=True)
    orders_mom = fields.Float(allow_none=True)
    orders_yoy = fields.Float(allow_none=True)
    complaints_mom = fields.Float(allow_none=True)
    complaints_yoy = fields.Float(allow_none=True)


class EstateKpisSchema(ma.Schema):
    estate_id = fields.Integer()
    households = fields.Integer()
    months = fields.List(fields.Nested(KpiMonthSchema))


class LeagueArgsSchema(ma.Schema):
    kpi = fields.String(required=True)
    month = fields.String(required=True)
    city = fields.String(load_default=None)
    district = fields.String(load_default=None)
    order = fields.String(load_default="desc", validate=validate.OneOf(("asc", "desc")))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class LeagueRowSchema(ma.Schema):
    rank = fields.Integer()
    estate = fields.Nested(EstateBriefSchema)
    households = fields.Integer()
    value = fields.Float()
    orders = fields.Integer()
    complaints = fields.Integer()


class LeagueSchema(ma.Schema):
    kpi = fields.String()
    month = fields.String()
    items = fields.List(fields.Nested(LeagueRowSchema))


# -- the estate feed --------------------------------------------------------------------------

def _photo_urls(names) -> list[str]:
    return [f"/api/v1/uploads/{name}" for name in names or []]


class PostCreateSchema(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("question", "review", "photo", "announcement")),
                         metadata={"description": "announcement: staff, or ambassadors whose level may announce"})
    text = fields.String(load_default="", validate=validate.Length(max=2000))
    photo_ids = fields.List(fields.String(validate=validate.Length(1, 48)), load_default=list,
                            validate=validate.Length(max=9))


class FeedQueryArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(("question", "review", "photo", "announcement")))
    unanswered = fields.Boolean(load_default=False, metadata={"description": "only unanswered questions"})


class PostSchema(ma.Schema):
    id = fields.Integer()
    estate_id = fields.Integer()
    kind = fields.String()
    text = fields.String()
    photos = fields.Function(lambda p: _photo_urls(p["photos"] if isinstance(p, dict) else p.photos))
    status = fields.String(metadata={"description": "published, or held for moderation (only the author sees it)"})
    author = fields.Function(lambda p: {"id": _get(p, "author_id"), "name": _get(p, "author_name") or "邻居"})
    answers_count = fields.Integer()
    comments_count = fields.Integer()
    likes_count = fields.Integer()
    liked = fields.Boolean()
    accepted_answer_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


def _get(obj, name):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


class AnswerCreateSchema(ma.Schema):
    text = fields.String(required=True, validate=validate.Length(1, 2000))


class CommentCreateSchema(ma.Schema):
    text = fields.String(required=True, validate=validate.Length(1, 500))


class AnswerSchema(ma.Schema):
    id = fields.Integer()
    post_id = fields.Integer()
    author_id = fields.Integer()
    text = fields.String()
    status = fields.String()
    accepted = fields.Boolean()
    created_at = fields.DateTime()


class CommentSchema(ma.Schema):
    id = fields.Integer()
    post_id = fields.Integer()
    author_id = fields.Integer()
    text = fields.String()
    status = fields.String()
    created_at = fields.DateTime()


class PostDetailSchema(ma.Schema):
    post = fields.Nested(PostSchema)
    answers = fields.List(fields.Nested(AnswerSchema))
    comments = fields.List(fields.Nested(CommentSchema))
    liked = fields.Boolean()
    can_answer = fields.Boolean()


class PostLikeResultSchema(ma.Schema):
    post_id = fields.Integer()
    likes_count = fields.Integer()
    created = fields.Boolean()


class ModerateSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.OneOf(("hide", "restore")))
    reason = fields.String(required=True, validate=validate.Length(1, 255))


class ModerationQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default="held", validate=validate.OneOf(("held", "hidden", "published")))


# -- visit announcements ----------------------------------------------------------------------

class VisitAnnounceSchema(ma.Schema):
    estate_id = id_field(required=True)
    date = fields.Date(required=True)
    slots = fields.List(fields.String(validate=validate.Length(11, 11)), required=True,
                        validate=validate.Length(1, 16), metadata={"description": 'e.g. ["09:00-10:00", "10:00-11:00"]'})
    note = fields.String(load_default="", validate=validate.Length(max=200))


class VisitSlotSchema(ma.Schema):
    id = fields.Integer()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    available = fields.Boolean()
    mine = fields.Boolean()


class VisitAnnouncementSchema(ma.Schema):
    id = fields.Integer()
    day = fields.Date()
    note = fields.String()
    engineer = fields.Nested(EngineerNameSchema)
    slots = fields.List(fields.Nested(VisitSlotSchema))


class VisitAnnouncedSchema(ma.Schema):
    id = fields.Integer()
    estate_id = fields.Integer()
    day = fields.Date()
    notified = fields.Integer(metadata={"description": "residents notified (all get an inbox notice)"})
    wechat = fields.Integer(metadata={"description": "of them, queued as WeChat subscribe messages"})


class VisitListSchema(ma.Schema):
    items = fields.List(fields.Nested(VisitAnnouncementSchema))


class SlotBookSchema(ma.Schema):
    service_type = fields.String(required=True, validate=validate.Length(1, 32))
    description = fields.String(load_default="", validate=validate.Length(max=1000))
