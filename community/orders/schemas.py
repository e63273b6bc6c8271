"""Service orders, reviews, complaints, likes, visit announcements and the service-system
integration: request validation and response shapes."""
import marshmallow as ma
from marshmallow import fields, validate

from community.estates.schemas import EngineerNameSchema
from community.orders.services import SERVICE_TYPES, STATUS_LABELS as ORDER_STATUS_LABELS, OrderView
from core.pagination import PageArgsSchema
from core.schemas import id_field, upload_url, upload_urls


class ServiceRequestCreateSchema(ma.Schema):
    estate_id = id_field(required=True)
    service_type = fields.String(required=True, validate=validate.Length(1, 32))
    description = fields.String(load_default="", validate=validate.Length(max=1000))
    preferred_engineer_id = id_field(load_default=None, allow_none=True)
    preferred_slot = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    address_id = id_field(load_default=None, allow_none=True, metadata={
        "description": "an address of my address book in this estate (or write `address` out instead)"})
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255),
                            metadata={"description": "the address written out (one line)"})
    contact_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                                 metadata={"description": "default: the address book entry's contact"})
    contact_phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20), metadata={
        "description": "an 11-digit mainland mobile; default: the address book entry's, else my own phone"})
    photos = fields.List(fields.String(validate=validate.Length(1, 48)), load_default=list,
                         validate=validate.Length(max=9), metadata={"description": "names of my uploads (≤ 9)"})
    product_id = id_field(load_default=None, allow_none=True, metadata={
        "description": "the appliance to service: one of my products in use (GET /api/v1/me/products)"})
    coupon_id = id_field(load_default=None, allow_none=True, metadata={
        "description": "one of my available coupons for this service type (GET /api/v1/me/coupons): held for the order"})


class _Shown(fields.String):
    """A value only an OrderView has: orders are dumped only as their actor may see them
    (community.orders.services.order_views decides who sees the full phone)."""

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        if not isinstance(obj, OrderView):
            raise TypeError("dump a service order through community.orders.services.order_view(s)")
        return getattr(obj, attr)


class OrderEngineerSchema(ma.Schema):
    """The engineer of an order as its resident sees them on the order (no phone, no employee number)."""
    id = fields.Integer()
    name = fields.String()
    photo_url = fields.Function(lambda e: upload_url(e["photo"]), metadata={
        "type": "string", "nullable": True, "description": "null without a photo"})


class ServiceOrderSchema(ma.Schema):
    id = fields.Integer()
    source = fields.String()
    estate_id = fields.Integer()
    resident_id = fields.Integer(allow_none=True)
    engineer_id = fields.Integer(allow_none=True)
    preferred_engineer_id = fields.Integer(allow_none=True)
    service_type = fields.String()
    service_type_label = fields.Function(lambda o: SERVICE_TYPES.get(o.service_type, o.service_type))
    product_id = fields.Integer(allow_none=True, metadata={"description": "the appliance serviced, when known"})
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
    address = fields.String(metadata={"description": "the address copied at the request (may be empty)"})
    contact_name = fields.String(allow_none=True)
    contact_phone = _Shown(allow_none=True, metadata={
        "description": "in full for the order's resident and its engineer; masked (138****0000) for everyone else"})
    customer_name = _Shown(allow_none=True, metadata={"description": "the resident's display name, else the contact name"})
    photos = fields.Function(lambda o: upload_urls(o.photos), metadata={
        "type": "array", "items": {"type": "string"}, "description": "image URLs"})
    engineer = fields.Nested(OrderEngineerSchema, allow_none=True, metadata={
        "description": "the assigned engineer (null until one is assigned)"})
    review = fields.Nested(lambda: ServiceReviewSchema(), allow_none=True, metadata={
        "description": "the resident's review of the completed order (null until reviewed)"})


class ServiceOrderQueryArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(("requested", "assigned", "scheduled", "completed", "cancelled")))


class EngineerOrderQueryArgsSchema(ServiceOrderQueryArgsSchema):
    resident_id = id_field(load_default=None, metadata={"description": "only this customer's orders"})


class EngineerOrderCountsSchema(ma.Schema):
    assigned = fields.Integer(metadata={"description": "orders to schedule"})
    scheduled = fields.Integer(metadata={"description": "orders to complete"})


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
    photos = fields.Function(lambda r: upload_urls(r.photos), metadata={"description": "/api/v1/uploads/<name> paths"})
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


class EngineerEstateRankSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    city = fields.String()
    district = fields.String()
    rank = fields.Integer(allow_none=True, metadata={
        "description": "the engineer's place in GET /estates/{id}/engineers (null: not ranked, e.g. not yet active)"})
    score = fields.Float(allow_none=True)


class EngineerTotalsSchema(ma.Schema):
    completed = fields.Integer(metadata={"description": "orders completed, every estate and source"})
    reviews = fields.Integer()
    avg_rating = fields.Float(allow_none=True, metadata={"description": "over all reviews; null without any"})
    likes = fields.Integer()


class PublicEngineerSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    photo_url = fields.Function(lambda p: upload_url(p["photo"]), metadata={
        "type": "string", "nullable": True, "description": "null without a photo"})
    intro = fields.String()
    status = fields.String(metadata={"description": "active, or invited (not yet claimed)"})
    estates = fields.List(fields.Nested(EngineerEstateRankSchema))
    totals = fields.Nested(EngineerTotalsSchema)
    liked = fields.Boolean(metadata={"description": "I like this engineer"})
    can_like = fields.Boolean(metadata={"description": "they completed an order for me and I have not liked them yet"})
    is_my_steward = fields.Boolean()


class EngineerReviewSchema(ma.Schema):
    """A review on the engineer's public page: never the reviewer's id or phone."""
    id = fields.Integer()
    rating = fields.Integer()
    text = fields.String()
    photos = fields.Function(lambda r: upload_urls(r["photos"]), metadata={
        "type": "array", "items": {"type": "string"}, "description": "image URLs"})
    created_at = fields.DateTime()
    estate_name = fields.String()
    reviewer_name = fields.String(metadata={"description": 'masked: "陈**", or "用户" without a name'})


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
    model_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80), metadata={
        "description": "with serial: the appliance serviced (a pair naming no product on record is ignored)"})
    serial = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=80))


class ServiceOrderReceivedSchema(ma.Schema):
    order = fields.Nested(ServiceOrderSchema)
    created = fields.Boolean(metadata={"description": "false: this external_id was received before; nothing changed"})


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
    order_id = fields.Integer(allow_none=True, metadata={
        "description": "my booking's service order (cancel it to free the slot); null unless mine"})


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
