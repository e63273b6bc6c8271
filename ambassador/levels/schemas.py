"""Levels, level overrides and leaderboards: request validation and response shapes."""
import marshmallow as ma
from marshmallow import fields, validate

from ambassador.levels import services
from ambassador.models import PERMISSIONS
from core.schemas import ID_RANGE


class LevelViewSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    position = fields.Integer()
    permissions = fields.List(fields.String(), metadata={"description": " | ".join(PERMISSIONS)})
    multiplier_pct = fields.Integer()


class HistoryLevelSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class NextLevelSchema(ma.Schema):
    name = fields.String()
    threshold = fields.Integer(metadata={"description": "contribution in the rolling window to reach it"})


class LevelSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    position = fields.Integer(metadata={"description": "order of the level: 1 is the entry level"})
    threshold = fields.Integer(metadata={"description": "contribution points in the rolling window to reach it"})
    permissions = fields.List(fields.String())
    multiplier_pct = fields.Integer(metadata={"description": "task points × multiplier_pct / 100"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class LevelCreateSchema(ma.Schema):
    code = fields.String(required=True, validate=validate.Regexp(services.CODE_PATTERN))
    name = fields.String(required=True, validate=validate.Length(1, 32))
    position = fields.Integer(required=True, validate=validate.Range(1, 10**6))
    threshold = fields.Integer(required=True, validate=validate.Range(0, services.MAX_THRESHOLD))
    permissions = fields.List(fields.String(validate=validate.OneOf(PERMISSIONS)), load_default=list)
    multiplier_pct = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class LevelPatchSchema(ma.Schema):
    code = fields.String(validate=validate.Regexp(services.CODE_PATTERN))
    name = fields.String(validate=validate.Length(1, 32))
    position = fields.Integer(validate=validate.Range(1, 10**6))
    threshold = fields.Integer(validate=validate.Range(0, services.MAX_THRESHOLD))
    permissions = fields.List(fields.String(validate=validate.OneOf(PERMISSIONS)))
    multiplier_pct = fields.Integer(validate=validate.Range(1, 1000))


class LevelListSchema(ma.Schema):
    items = fields.List(fields.Nested(LevelSchema))


class OverrideSchema(ma.Schema):
    level_id = fields.Integer(required=True, validate=ID_RANGE)
    reason = fields.String(required=True, validate=validate.Length(1, 255))
    pin_days = fields.Integer(validate=validate.Range(1, services.MAX_PIN_DAYS),
                              metadata={"description": "days the job leaves the level alone (default "
                                                       "AMBASSADOR_OVERRIDE_DAYS)"})


class AmbassadorLevelSchema(ma.Schema):
    user_id = fields.Integer()
    status = fields.String()
    level = fields.Nested(LevelSchema)
    window_contribution = fields.Integer(metadata={"description": "at the last evaluation"})
    below_since = fields.DateTime(allow_none=True)
    level_pinned_until = fields.DateTime(allow_none=True)
    evaluated_at = fields.DateTime(allow_none=True)


class LeaderboardArgsSchema(ma.Schema):
    scope = fields.String(load_default="all", validate=validate.OneOf(services.SCOPES))
    period = fields.String(load_default="month", validate=validate.OneOf(services.PERIODS))
    estate_id = fields.Integer(load_default=None, validate=ID_RANGE,
                               metadata={"description": "scope=estate: one of the caller's estates (default the first)"})
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class LeaderboardEntrySchema(ma.Schema):
    rank = fields.Integer(metadata={"description": "equal points share a rank (1, 2, 2, 4)"})
    name = fields.String(metadata={"description": "masked real name"})
    level = fields.String(metadata={"description": "level name"})
    points = fields.Integer(metadata={"description": "contribution points in the period"})
    is_me = fields.Boolean()


class MyStandingSchema(ma.Schema):
    rank = fields.Integer()
    points = fields.Integer()


class LeaderboardSchema(ma.Schema):
    scope = fields.String()
    period = fields.String()
    scope_key = fields.String(metadata={"description": "e.g. all, estate:12, city:上海市, level:2"})
    period_key = fields.String(metadata={"description": "e.g. all, 2026-11, 2026Q4 (Asia/Shanghai)"})
    items = fields.List(fields.Nested(LeaderboardEntrySchema))
    me = fields.Nested(MyStandingSchema)
