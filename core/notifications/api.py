"""Subscribe-message acceptances and the in-app inbox for the mini-program."""
import marshmallow as ma
from marshmallow import fields, validate

from core.auth import auth_required, current_principal
from core.blueprint import Blueprint
from core.notifications import services
from core.pagination import PageArgsSchema
from core.schemas import ID_RANGE

bp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="订阅消息与站内通知")


class SubscriptionsSchema(ma.Schema):
    template_ids = fields.List(fields.String(validate=validate.Length(1, 64)), required=True,
                               validate=validate.Length(1, 20),
                               metadata={"description": "templates the user accepted in wx.requestSubscribeMessage"})


class TemplatesSchema(ma.Schema):
    templates = fields.Dict(keys=fields.String(), values=fields.String(),
                            metadata={"description": "purpose (visit, activity, order, ...) -> template id"})


class QuotasSchema(ma.Schema):
    quotas = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "messages we may still send, per template"})


class PurposeSchema(ma.Schema):
    purpose = fields.String(metadata={"description": "visit, order, redemption, ... (what subscribe.ask takes)"})
    name = fields.String(metadata={"description": "the purpose's Chinese name"})
    description = fields.String(metadata={"description": "when these notices are sent, in Chinese"})
    template_id = fields.String()
    remaining = fields.Integer(metadata={"description": "messages of this purpose we may still send me"})


class MySubscriptionsSchema(QuotasSchema):
    purposes = fields.List(fields.Nested(PurposeSchema), metadata={
        "description": "the purposes offered to residents, in display order, with my remaining quota"})


class NotificationSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    page = fields.String(allow_none=True)
    wechat = fields.Boolean(metadata={"description": "also sent as a WeChat subscribe message"})
    read = fields.Function(lambda n: n.read_at is not None)
    created_at = fields.DateTime()


class InboxArgsSchema(PageArgsSchema):
    unread = fields.Boolean(load_default=False)


class InboxSchema(ma.Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    next_cursor = fields.String(allow_none=True)
    unread_count = fields.Integer()


class MarkReadSchema(ma.Schema):
    ids = fields.List(fields.Integer(validate=ID_RANGE), load_default=None,
                      validate=validate.Length(max=200), metadata={"description": "omit to mark everything read"})


class MarkedSchema(ma.Schema):
    updated = fields.Integer()
    unread_count = fields.Integer()


@bp.route("/subscriptions/templates")
@bp.response(200, TemplatesSchema)
def subscription_templates():
    """The subscribe-message template of each purpose, for wx.requestSubscribeMessage (public: ids, not secrets)"""
    return {"templates": services.templates()}


@bp.route("/me/subscriptions", methods=["POST"])
@auth_required()
@bp.arguments(SubscriptionsSchema)
@bp.response(200, QuotasSchema)
def accept(body):
    """Record the templates I accepted in the subscribe dialog (each acceptance allows one message)"""
    return {"quotas": services.add_subscriptions(current_principal().id, body["template_ids"])}


@bp.route("/me/subscriptions")
@auth_required()
@bp.response(200, MySubscriptionsSchema)
def my_quotas():
    """How many messages of each template may still be sent to me, and per purpose with its name"""
    user_id = current_principal().id
    return {"quotas": services.quotas(user_id), "purposes": services.subscription_purposes(user_id)}


@bp.route("/me/notifications")
@auth_required()
@bp.arguments(InboxArgsSchema, location="query")
@bp.response(200, InboxSchema)
def my_notifications(args):
    """My in-app notices, newest first, with the unread count"""
    user_id = current_principal().id
    page = services.inbox(user_id, **args)
    return {"items": page.items, "next_cursor": page.next_cursor, "unread_count": services.unread_count(user_id)}


@bp.route("/me/notifications/read", methods=["POST"])
@auth_required()
@bp.arguments(MarkReadSchema)
@bp.response(200, MarkedSchema)
def mark_read(body):
    """Mark notices read (all of them without ids)"""
    user_id = current_principal().id
    updated = services.mark_read(user_id, body["ids"])
    return {"updated": updated, "unread_count": services.unread_count(user_id)}
