"""Applications, memberships and ambassadors: request validation and response shapes."""
import marshmallow as ma
from marshmallow import fields, validate

from ambassador.levels.schemas import HistoryLevelSchema, LevelViewSchema, NextLevelSchema
from ambassador.members import services
from ambassador.models import AMBASSADOR_STATUSES, APPLICATION_STATUSES, CHANNELS
from community.estates.schemas import EstateBriefSchema
from core.formatting import iso_time
from core.pagination import PageArgsSchema
from core.schemas import ID_RANGE


class AmbassadorApplicationCreateSchema(ma.Schema):
    """Checked again in ambassador.members.services (phone, name length, estates, channel rules)."""
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    invite_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16),
                                metadata={"description": "required for channel referral"})
    real_name = fields.String(required=True, validate=validate.Length(max=64),
                              metadata={"description": "2–32 characters"})
    phone = fields.String(required=True, validate=validate.Length(max=20),
                          metadata={"description": "mainland China mobile number"})
    estate_ids = fields.List(fields.Integer(strict=True, validate=ID_RANGE), required=True,
                             metadata={"description": "1–5 active estates; the first sets the city"})
    statement = fields.String(required=True, validate=validate.Length(max=services.STATEMENT_MAX),
                              metadata={"description": "why I want to be an ambassador (may be empty)"})


class AmbassadorApplicationSchema(ma.Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": " | ".join(APPLICATION_STATUSES)})
    reason = fields.String(allow_none=True, metadata={"description": "why it was rejected"})
    channel = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    reapply_after = fields.Method("_reapply_after", allow_none=True,
                                  metadata={"description": "rejected: when a new application is possible"})

    def _reapply_after(self, application):
        value = application["reapply_after"] if isinstance(application, dict) else services.reapply_after(application)
        return iso_time(value)


class MyAmbassadorSchema(ma.Schema):
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    level = fields.Nested(LevelViewSchema)
    next_level = fields.Nested(NextLevelSchema, allow_none=True)
    contribution_total = fields.Integer()
    window_contribution = fields.Integer()
    window_days = fields.Integer(metadata={"description": "the rolling window the level is judged on, in days"})
    invite_code = fields.String(allow_none=True, metadata={"description": "null unless active"})
    estates = fields.List(fields.Nested(EstateBriefSchema))
    joined_at = fields.DateTime()


class AmbassadorMeSchema(ma.Schema):
    application = fields.Nested(AmbassadorApplicationSchema, allow_none=True)
    ambassador = fields.Nested(MyAmbassadorSchema, allow_none=True)


class MembershipWriteSchema(ma.Schema):
    tier = fields.String(required=True, allow_none=True, validate=validate.Length(max=16),
                         metadata={"description": "gold | silver (or another configured tier); null clears"})


class MembershipSchema(ma.Schema):
    user_id = fields.Integer()
    tier = fields.String(allow_none=True)
    source = fields.String(allow_none=True, metadata={"description": "admin | import"})
    qualifying = fields.Boolean(metadata={"description": "the tier pre-qualifies an ambassador application"})
    updated_at = fields.DateTime(allow_none=True)


class AdminApplicationSchema(AmbassadorApplicationSchema):
    user_id = fields.Integer()
    invite_code = fields.String(allow_none=True)
    inviter_id = fields.Integer(allow_none=True)
    real_name = fields.String()
    phone = fields.String()
    estate_ids = fields.List(fields.Integer())
    statement = fields.String()
    qualified = fields.Boolean(metadata={"description": "pre-qualified (engineer, member of a qualifying tier)"})
    decided_by_id = fields.Integer(allow_none=True)


class ApplicationQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(APPLICATION_STATUSES),
                           metadata={"description": "pending: oldest first; otherwise newest first"})
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    q = fields.String(load_default=None, validate=validate.Length(max=64),
                      metadata={"description": "name (part of), phone or user id"})


class ReasonSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, services.REASON_MAX))


class AdminAmbassadorSchema(ma.Schema):
    user_id = fields.Integer()
    real_name = fields.String()
    phone = fields.String()
    channel = fields.String()
    status = fields.String(metadata={"description": " | ".join(AMBASSADOR_STATUSES)})
    status_reason = fields.String(allow_none=True)
    level_id = fields.Integer()
    city = fields.String(allow_none=True)
    invite_code = fields.String()
    inviter_id = fields.Integer(allow_none=True)
    contribution_total = fields.Integer()
    window_contribution = fields.Integer()
    joined_at = fields.DateTime()


class AmbassadorQueryArgsSchema(PageArgsSchema):
    level_id = fields.Integer(load_default=None, validate=ID_RANGE)
    estate_id = fields.Integer(load_default=None, validate=ID_RANGE)
    city = fields.String(load_default=None, validate=validate.Length(max=32))
    status = fields.String(load_default=None, validate=validate.OneOf(AMBASSADOR_STATUSES))
    q = fields.String(load_default=None, validate=validate.Length(max=64),
                      metadata={"description": "name (part of), phone, invite code or user id"})


class LevelChangeSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "join promote demote override suspend reinstate remove"})
    from_level = fields.Nested(HistoryLevelSchema, allow_none=True)
    to_level = fields.Nested(HistoryLevelSchema, allow_none=True)
    contribution = fields.Integer(allow_none=True)
    reason = fields.String()
    actor_id = fields.Integer(allow_none=True, metadata={"description": "null: the scheduled job"})
    created_at = fields.DateTime()


class AmbassadorPointsSchema(ma.Schema):
    balance = fields.Integer(attribute="available")
    held = fields.Integer()


class SubmissionBriefSchema(ma.Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    task_title = fields.String()
    status = fields.String()
    points = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    reviewed_at = fields.DateTime(allow_none=True)


class ReferralBriefSchema(ma.Schema):
    id = fields.Integer()
    invitee_id = fields.Integer()
    invitee_name = fields.String()
    status = fields.String()
    flag_reason = fields.String(allow_none=True)
    qualified_by = fields.String(allow_none=True)
    attributed_at = fields.DateTime()
    rewarded_at = fields.DateTime(allow_none=True)


class AmbassadorDetailSchema(ma.Schema):
    ambassador = fields.Nested(AdminAmbassadorSchema)
    level = fields.Nested(LevelViewSchema)
    next_level = fields.Nested(NextLevelSchema, allow_none=True)
    estates = fields.List(fields.Nested(EstateBriefSchema))
    history = fields.List(fields.Nested(LevelChangeSchema), metadata={"description": "newest first (latest 50)"})
    points = fields.Nested(AmbassadorPointsSchema, attribute="balance")
    submissions = fields.List(fields.Nested(SubmissionBriefSchema), metadata={"description": "latest 50"})
    referrals = fields.List(fields.Nested(ReferralBriefSchema), metadata={"description": "latest 50"})


class EstatesWriteSchema(ma.Schema):
    estate_ids = fields.List(fields.Integer(strict=True, validate=ID_RANGE), required=True,
                             metadata={"description": "1–5 active estates; the first sets the city"})
