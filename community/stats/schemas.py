"""The estate's engineer ranking, estate KPIs and the league table: response shapes."""
import marshmallow as ma
from marshmallow import fields, validate

from community.estates.schemas import EngineerNameSchema, EstateBriefSchema
from core.schemas import local_iso, upload_url


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


class RankedEngineerNameSchema(EngineerNameSchema):
    photo_url = fields.Function(lambda e: upload_url(e.get("photo")), allow_none=True, metadata={
        "description": "null, or the path of the engineer's photo (/api/v1/uploads/<name>)"})


class RankedEngineerSchema(ma.Schema):
    rank = fields.Integer()
    engineer = fields.Nested(RankedEngineerNameSchema)
    activated = fields.Boolean(metadata={"description": "false: covers the estate but has not activated their "
                                                        "account yet (ranked by imported history; cannot be requested)"})
    score = fields.Float()
    first_service_at = fields.DateTime(allow_none=True)
    components = fields.Nested(RankingComponentsSchema)


def dump_ranked_engineer(item: dict) -> dict:
    """`RankedEngineerSchema().dump(item)` for an item of community.stats.services.ranking, field by
    field without marshmallow: the ranking is a hot read (core.schemas.fast_response).
    tests/community/stats/test_ranking_fast_dump.py holds the two to the same output."""
    engineer, parts = item["engineer"], item["components"]
    avg = parts["avg_rating"]
    return {
        "rank": item["rank"], "activated": item["activated"], "score": float(item["score"]),
        "engineer": {"id": engineer["id"], "name": engineer["name"], "photo_url": upload_url(engineer.get("photo"))},
        "first_service_at": local_iso(item["first_service_at"]),
        "components": {
            "bayes_rating": float(parts["bayes_rating"]), "avg_rating": None if avg is None else float(avg),
            "ratings_count": parts["ratings_count"], "likes": parts["likes"], "complaints": parts["complaints"],
            "completed": parts["completed"], "recent_completed": parts["recent_completed"],
            "quality": float(parts["quality"]), "volume": float(parts["volume"]),
        },
    }


class RankingSchema(ma.Schema):
    estate_id = fields.Integer()
    window_days = fields.Integer()
    items = fields.List(fields.Nested(RankedEngineerSchema))


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
