"""The customer book and customer health: request validation and response shapes."""
import marshmallow as ma
from marshmallow import fields, validate

from community.book import services
from community.book.models import BANDS
from community.estates.schemas import EstateBriefSchema
from community.stewards.schemas import CustomerDetailSchema, CustomerQueryArgsSchema, CustomerSchema
from core.pagination import PageArgsSchema
from core.schemas import PersonField, id_field


class HealthReasonSchema(ma.Schema):
    signal = fields.String(metadata={"description": "contact | overdue_care | open_complaints | low_ratings | "
                                                    "inactive | unsubscribed"})
    points = fields.Integer(metadata={"description": "how much it took off the score"})
    text = fields.String()


class HealthSchema(ma.Schema):
    """A customer's health (docs/community.md, "Customer health")."""
    score = fields.Integer(metadata={"description": "0-100"})
    band = fields.String(metadata={"description": "red (< 40) | yellow (40-69) | green (>= 70)"})
    band_label = fields.String()
    previous_score = fields.Integer(allow_none=True, metadata={"description": "the score before its last change"})
    previous_band = fields.String(allow_none=True)
    trend = fields.Integer(allow_none=True, metadata={"description": "score - previous_score; null: first score"})
    band_since = fields.DateTime()
    computed_at = fields.DateTime()
    reasons = fields.List(fields.Nested(HealthReasonSchema), metadata={"description": "what lowered it, heaviest first"})


class CustomerHealthRowSchema(CustomerSchema):
    health = fields.Nested(HealthSchema, allow_none=True, metadata={"description": "null: not scored yet"})


class CustomerHealthQueryArgsSchema(CustomerQueryArgsSchema):
    health = fields.String(load_default=None, validate=validate.OneOf(BANDS),
                           metadata={"description": "only customers of this band"})
    sort = fields.String(load_default=None, validate=validate.OneOf(["health"]),
                         metadata={"description": "health: lowest score first (unscored last); default newest first"})


class CustomerBookDetailSchema(CustomerDetailSchema):
    health = fields.Nested(HealthSchema, allow_none=True)
    tags = fields.List(fields.String())


class CustomerNoteCreateSchema(ma.Schema):
    text = fields.String(required=True, validate=validate.Length(1, services.NOTE_MAX))


class CustomerNoteSchema(ma.Schema):
    id = fields.Integer()
    resident_id = fields.Integer()
    text = fields.String()
    author = PersonField(metadata={"description": "who wrote it: {id, name}"})
    created_at = fields.DateTime()


class CustomerTagCreateSchema(ma.Schema):
    tag = fields.String(required=True, validate=validate.Length(1, services.TAG_MAX))


class CustomerTagsSchema(ma.Schema):
    items = fields.List(fields.String())
    suggested = fields.Function(lambda _: list(services.SUGGESTED_TAGS),
                                metadata={"description": "common tags the page offers"})


class CustomerFollowUpCreateSchema(ma.Schema):
    due_on = fields.Date(required=True, metadata={"description": "a business date, today or later (within a year)"})
    text = fields.String(required=True, validate=validate.Length(1, services.FOLLOW_UP_MAX))


class CustomerFollowUpSchema(ma.Schema):
    id = fields.Integer()
    resident_id = fields.Integer()
    resident_name = fields.String()
    engineer_id = fields.Integer(allow_none=True, metadata={"description": "the steward when it was written"})
    due_on = fields.Date()
    text = fields.String()
    author = PersonField(metadata={"description": "who wrote it: {id, name}"})
    overdue = fields.Boolean()
    done = fields.Function(lambda f: f.done_at is not None)
    done_at = fields.DateTime(allow_none=True)
    done_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class CustomerFollowUpQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default="open", validate=validate.OneOf(list(services.FOLLOW_UP_STATUSES)),
                           metadata={"description": "open | overdue (open, due before today) | done"})


class CustomerTimelineEntrySchema(ma.Schema):
    kind = fields.String(metadata={"description": ", ".join(services.TIMELINE_KINDS)})
    at = fields.DateTime()
    title = fields.String()
    detail = fields.String()
    links = fields.Dict(keys=fields.String(), values=fields.Integer(),
                        metadata={"description": "ids of what the entry is about (order_id, product_id, ...)"})


class HealthAlertEngineerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class HealthAlertSchema(ma.Schema):
    id = fields.Integer()
    resident_id = fields.Integer()
    resident_name = fields.String()
    engineer = fields.Nested(HealthAlertEngineerSchema, allow_none=True, metadata={"description": "the steward when raised"})
    estate = fields.Nested(EstateBriefSchema, allow_none=True)
    score = fields.Integer()
    reasons = fields.List(fields.Nested(HealthReasonSchema))
    status = fields.String(metadata={"description": "open | handled"})
    handled_by_id = fields.Integer(allow_none=True)
    handled_by_name = fields.String(allow_none=True)
    handled_at = fields.DateTime(allow_none=True)
    handled_note = fields.String(allow_none=True)
    created_at = fields.DateTime()


class HealthAlertQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default="open", validate=validate.OneOf(list(services.ALERT_STATUSES)))


class AdminHealthAlertQueryArgsSchema(HealthAlertQueryArgsSchema):
    engineer_id = id_field(load_default=None)
    estate_id = id_field(load_default=None)


class HealthAlertHandleSchema(ma.Schema):
    note = fields.String(required=True, validate=validate.Length(1, services.HANDLE_NOTE_MAX),
                         metadata={"description": "what was done (called, visited, ...)"})


class HealthSummaryQueryArgsSchema(PageArgsSchema):
    by = fields.String(load_default="engineer", validate=validate.OneOf(list(services.SUMMARY_BY)))


class HealthSummaryRowSchema(ma.Schema):
    id = fields.Integer(metadata={"description": "the engineer's or the estate's id"})
    name = fields.String()
    red = fields.Integer()
    yellow = fields.Integer()
    green = fields.Integer()
    total = fields.Integer()
    open_alerts = fields.Integer()


class HealthTotalsSchema(ma.Schema):
    red = fields.Integer()
    yellow = fields.Integer()
    green = fields.Integer()
    open_alerts = fields.Integer()


class HealthSummaryPageSchema(ma.Schema):
    items = fields.List(fields.Nested(HealthSummaryRowSchema))
    next_cursor = fields.String(allow_none=True)
    totals = fields.Nested(HealthTotalsSchema)
