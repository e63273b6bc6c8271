"""Due care items: request validation and response shapes (items are dumped from
community.care.services.item_views, which decides who sees the customer's phone)."""
import marshmallow as ma
from marshmallow import fields, validate

from community.care.services import LISTS, OUTCOMES
from community.orders.schemas import ServiceOrderSchema
from core.pagination import PageArgsSchema
from core.schemas import id_field, upload_url


class CareProductSchema(ma.Schema):
    id = fields.Integer()
    serial = fields.String()
    model_code = fields.String()
    model_name = fields.String()
    category = fields.String()
    category_label = fields.String(metadata={"description": "净水器, 空调, …"})
    address = fields.String(metadata={"description": "the address written on the archive (may be empty)"})


class CarePlanSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String(metadata={"description": "滤芯更换, 年度清洗, …"})
    service_type = fields.String()
    service_type_label = fields.String()
    description = fields.String(metadata={"description": "what the household is told"})


class CareCustomerSchema(ma.Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null: the product's owner has no account yet"})
    name = fields.String(metadata={"description": 'masked: "陈**"'})
    phone = fields.String(allow_none=True, metadata={
        "description": "in full for the item's engineer; masked (138****0000) for agents and admins"})
    phone_full = fields.Boolean()


class CareEstateSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class CareEngineerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    photo_url = fields.Function(lambda e: upload_url(e["photo"]), metadata={"type": "string", "nullable": True})


class CareItemSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "open, snoozed, booked, done, done_elsewhere, declined, cancelled"})
    status_label = fields.String()
    route = fields.String(metadata={"description": "steward (the household's), estate (best-ranked), agent (queue)"})
    route_label = fields.String()
    due_on = fields.Date()
    notify_on = fields.Date(metadata={"description": "when the household hears of it"})
    days_left = fields.Integer(metadata={"description": "days until the due date (negative: overdue)"})
    overdue = fields.Boolean()
    snoozed_until = fields.Date(allow_none=True)
    notified_at = fields.DateTime(allow_none=True)
    channel = fields.String(allow_none=True, metadata={"description": "subscribe | inbox: how the household was told"})
    order_id = fields.Integer(allow_none=True)
    outcome_note = fields.String(allow_none=True)
    outcome_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    product = fields.Nested(CareProductSchema)
    plan = fields.Nested(CarePlanSchema)
    customer = fields.Nested(CareCustomerSchema, allow_none=True)
    estate = fields.Nested(CareEstateSchema, allow_none=True)
    engineer = fields.Nested(CareEngineerSchema, allow_none=True)


class MyCareItemSchema(ma.Schema):
    """An item as the household sees it: no customer block (it is theirs)."""
    id = fields.Integer()
    status = fields.String()
    status_label = fields.String()
    due_on = fields.Date()
    days_left = fields.Integer()
    overdue = fields.Boolean()
    order_id = fields.Integer(allow_none=True, metadata={"description": "the booked service order"})
    can_book = fields.Function(lambda v: v["status"] in ("open", "snoozed"), metadata={"type": "boolean"})
    product = fields.Nested(CareProductSchema)
    plan = fields.Nested(CarePlanSchema)
    estate = fields.Nested(CareEstateSchema, allow_none=True)
    steward = fields.Function(lambda v: CareEngineerSchema().dump(v["engineer"]) if v["engineer"] else None, metadata={
        "type": "object", "nullable": True, "description": "who will come: my steward (or the estate's engineer)"})
    is_my_steward = fields.Function(lambda v: v["route"] == "steward", metadata={"type": "boolean"})


class CareEngineerQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default="due", validate=validate.OneOf(LISTS), metadata={
        "description": "due (open, due today or later), overdue, snoozed, booked, done (last 90 days)"})
    estate_id = id_field(load_default=None)


class CareCountsSchema(ma.Schema):
    due = fields.Integer()
    overdue = fields.Integer()
    snoozed = fields.Integer()
    booked = fields.Integer()
    done = fields.Integer(metadata={"description": "closed in the last 90 days"})


class CareOutcomeSchema(ma.Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    snoozed_until = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "required for snoozed: tomorrow to 90 days ahead"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    preferred_time = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64), metadata={
        "description": "booked: when the customer would like the visit (free text)"})


class CareOutcomeResultSchema(ma.Schema):
    item = fields.Nested(CareItemSchema)
    order = fields.Nested(ServiceOrderSchema, allow_none=True, metadata={"description": "booked: the service order"})


class CareBookSchema(ma.Schema):
    address_id = id_field(load_default=None, allow_none=True, metadata={
        "description": "an address of my address book in the product's estate; default: the product's address, "
                       "else my default address there"})
    preferred_time = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64),
                                   metadata={"description": "e.g. 周六上午"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class CareBookResultSchema(ma.Schema):
    item = fields.Nested(MyCareItemSchema)
    order = fields.Nested(ServiceOrderSchema)
    created = fields.Boolean(metadata={"description": "false: the item was booked already; this is its order"})


class CareQueueArgsSchema(PageArgsSchema):
    estate_id = id_field(load_default=None)


class CareAssignSchema(ma.Schema):
    engineer_id = id_field(required=True)


class CareReportArgsSchema(PageArgsSchema):
    by = fields.String(load_default="estate", validate=validate.OneOf(("estate", "engineer")))
    from_ = fields.Date(load_default=None, data_key="from", metadata={"description": "first due date; default 30 days ago"})
    to = fields.Date(load_default=None, metadata={"description": "last due date; default the end of the horizon"})


class CareReportFiguresSchema(ma.Schema):
    due = fields.Integer(metadata={"description": "waiting (open or snoozed), due today or later"})
    overdue = fields.Integer(metadata={"description": "waiting, due before today"})
    booked = fields.Integer()
    done = fields.Integer(metadata={"description": "served by a platform order"})
    done_elsewhere = fields.Integer()
    declined = fields.Integer()
    cancelled = fields.Integer(metadata={"description": "the product left (not counted in the conversion)"})
    total = fields.Integer()
    conversion = fields.Float(allow_none=True, metadata={
        "description": "(booked + done) / (booked + done + done_elsewhere + declined); null without any"})


class CareReportRowSchema(CareReportFiguresSchema):
    id = fields.Integer(allow_none=True, metadata={"description": "the estate or engineer; null: not assigned"})
    name = fields.String()


class CareReportSchema(ma.Schema):
    by = fields.String()
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()
    items = fields.List(fields.Nested(CareReportRowSchema))
    next_cursor = fields.String(allow_none=True)
    totals = fields.Nested(CareReportFiguresSchema)
