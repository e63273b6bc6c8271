"""Estate tags, profiles and rule previews: request validation and response shapes. The services
check every value again (the pages send the same data)."""
import marshmallow as ma
from marshmallow import fields, validate

from community.profiles import services


class TagsSchema(ma.Schema):
    tags = fields.List(fields.String(), required=True, validate=validate.Length(max=services.MAX_TAGS_PER_ESTATE),
                       metadata={"description": f"each 1–{services.TAG_MAX} characters, no `|`; "
                                                "e.g. " + "、".join(services.SUGGESTED_TAGS[:4])})


class EstateTagsSchema(ma.Schema):
    estate_id = fields.Integer()
    tags = fields.List(fields.String())


class ProfileFiguresSchema(ma.Schema):
    households = fields.Integer()
    orders_12m = fields.Integer(metadata={"description": "service orders in the last 12 full months"})
    complaints_12m = fields.Integer()
    orders_per_1000 = fields.Float(allow_none=True, metadata={"description": "null when households is 0"})
    complaints_per_1000 = fields.Float(allow_none=True)
    avg_rating = fields.Float(allow_none=True, metadata={"description": "1–5; null without ratings"})
    bound_residents = fields.Integer(metadata={"description": "residents with an active steward"})
    coverage = fields.Float(allow_none=True, metadata={"description": "0–1; null when households is 0"})
    refreshed_at = fields.DateTime()


class EstateProfileSchema(ma.Schema):
    estate_id = fields.Integer()
    profile = fields.Nested(ProfileFiguresSchema, allow_none=True,
                            metadata={"description": "null until the daily refresh (or POST …/profile/refresh) ran"})
    tags = fields.List(fields.String())


class TagCountSchema(ma.Schema):
    tag = fields.String()
    estates = fields.Integer()


class EstateRulePreviewArgsSchema(ma.Schema):
    rule = fields.Dict(required=True, metadata={"description": "a targeting rule (docs/activation.md); {} = every active estate"})
    limit = fields.Integer(load_default=50, validate=validate.Range(0, 200))


class PreviewEstateSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String(allow_none=True)
    name = fields.String()
    province = fields.String()
    city = fields.String()
    district = fields.String()
    households = fields.Integer()


class EstateRulePreviewSchema(ma.Schema):
    count = fields.Integer(metadata={"description": "active estates the rule matches"})
    estates = fields.List(fields.Nested(PreviewEstateSchema), metadata={"description": "the first ones, by id"})
    rule = fields.Dict(metadata={"description": "the rule as stored (normalised)"})
