"""Invites and referrals: request validation and response shapes."""
import marshmallow as ma
from marshmallow import fields, validate

from ambassador.referrals import services
from ambassador.referrals.models import REFERRAL_STATUSES
from core.pagination import PageArgsSchema, page_schema
from core.schemas import id_field


class AmbassadorInviteSchema(ma.Schema):
    invite_code = fields.String()
    scene = fields.String(metadata={"description": "the scene of the mini-program code (`i=<invite_code>`)"})
    page = fields.String(metadata={"description": "the mini-program page the code opens"})
    image_url = fields.String(metadata={"description": "the code picture (public URL by invite code)"})


class AttributionCreateSchema(ma.Schema):
    invite_code = fields.String(required=True, validate=validate.Length(1, 64),
                                metadata={"description": "the invite code, or the scene `i=<code>` as scanned"})


class AttributedReferralSchema(ma.Schema):
    id = fields.Integer()
    inviter_name = fields.String(metadata={"description": "the inviter's masked name"})
    attributed_at = fields.DateTime()
    protected_until = fields.DateTime()
    status = fields.String()
    status_label = fields.String()


class AttributionSchema(ma.Schema):
    result = fields.String(metadata={"description": "created | unchanged | kept | switched"})
    referral = fields.Nested(AttributedReferralSchema)


class InviteeSchema(ma.Schema):
    id = fields.Integer()
    invitee_name = fields.String(metadata={"description": "masked display name"})
    attributed_at = fields.DateTime()
    protected_until = fields.DateTime()
    status = fields.String(metadata={"description": "pending | rewarded | flagged | lapsed"})
    status_label = fields.String()
    qualified_by = fields.String(allow_none=True, metadata={"description": "ambassador | service"})
    points = fields.Integer(metadata={"description": "referral points this invitee brought the inviter"})


class ReferralTotalsSchema(ma.Schema):
    invitees = fields.Integer()
    pending = fields.Integer()
    rewarded = fields.Integer()
    flagged = fields.Integer()
    lapsed = fields.Integer()
    points = fields.Integer()


class InviteePageSchema(page_schema(InviteeSchema)):
    totals = fields.Nested(ReferralTotalsSchema)


class AdminReferralSchema(ma.Schema):
    id = fields.Integer()
    inviter_id = fields.Integer()
    invitee_id = fields.Integer()
    invite_code = fields.String()
    status = fields.String()
    status_label = fields.Function(lambda r: services.STATUS_LABELS[r.status])
    flag_reason = fields.String(allow_none=True)
    qualified_by = fields.String(allow_none=True)
    attributed_at = fields.DateTime()
    protected_until = fields.DateTime()
    rewarded_at = fields.DateTime(allow_none=True)


class AdminReferralQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(REFERRAL_STATUSES))
    inviter_id = id_field(load_default=None)


class FlagDecisionSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 255))


class FlagOutcomeSchema(ma.Schema):
    referral = fields.Nested(AdminReferralSchema)
    paid = fields.Dict(keys=fields.String(), values=fields.Integer(),
                       metadata={"description": "trigger → points granted now"})
    refused = fields.String(allow_none=True, metadata={"description": "why a reward was refused (a cap)"})
