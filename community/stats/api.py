"""The estate's engineers ranked by service quality and quantity."""
from flask import current_app

from community.estates import services as estates
from community.stats import services
from community.stats.schemas import RankingSchema, dump_ranked_engineer
from core.auth import auth_required
from core.blueprint import Blueprint
from core.schemas import fast_response

bp = Blueprint("community_stats", __name__, url_prefix="/api/v1", description="小区工程师排名")


@bp.route("/estates/<int:estate_id>/engineers")
@auth_required()
@bp.response(200, RankingSchema)
def estate_ranking(estate_id):
    """The estate's engineers ranked by service quality and quantity, with the score's components"""
    items = services.ranking(estate_id)
    if not items:
        estates.get_estate(estate_id)  # an unknown estate is a 404; one nobody covers has an empty ranking
    return fast_response({"estate_id": estate_id, "window_days": current_app.config["RANKING_WINDOW_DAYS"],
                          "items": [dump_ranked_engineer(item) for item in items]})
