"""Admin JSON API of offers: create a draft, see how many and which estates it matches, publish
(the notices go out), change, withdraw. Admins write; agents (客服) may read."""
from activation.offers import services
from activation.offers.schemas import (
    OfferCreateSchema,
    OfferPreviewSchema,
    OfferQueryArgsSchema,
    OfferSchema,
    OfferUpdateSchema,
    PreviewArgsSchema,
)
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import page_schema

bp = Blueprint("activation_offers_admin", __name__, url_prefix="/api/v1/admin", description="管理：千区千面投放")

READERS = ("admin", "agent")


@bp.route("/offers")
@auth_required(*READERS)
@bp.arguments(OfferQueryArgsSchema, location="query")
@bp.response(200, page_schema(OfferSchema))
def list_offers(args):
    """Offers, newest first"""
    page = services.list_offers(**args)
    page.items = services.offer_views(page.items)
    return page


@bp.route("/offers", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(OfferCreateSchema)
@bp.response(201, OfferSchema)
def create_offer(body):
    """Create a draft offer: a coupon, an activity, a reward or a partner's listing for the estates a rule matches

    422 names the field at fault: `kind`, `ref_id` (the thing does not exist or cannot be offered:
    a coupon not claimable or not issuing, an activity not published or over, a reward not on
    offer, a listing not published), a rule key (e.g. `households`), `starts_at`, `ends_at`.
    Nothing is shown until `POST /admin/offers/{id}/publish`.
    """
    return services.offer_view(services.create_offer(body, current_api_user()))


@bp.route("/offers/<int:offer_id>")
@auth_required(*READERS)
@bp.response(200, OfferSchema)
def get_offer(offer_id):
    """One offer"""
    return services.offer_view(services.get_offer(offer_id))


@bp.route("/offers/<int:offer_id>", methods=["PATCH"])
@auth_required("admin")
@idempotent
@bp.arguments(OfferUpdateSchema)
@bp.response(200, OfferSchema)
def update_offer(body, offer_id):
    """Change a draft, or a published offer's rule, times, title or summary (its matches are refreshed at once)

    409 `offer_published` to change what a published offer shows, `offer_withdrawn` after withdrawal.
    """
    return services.offer_view(services.update_offer(offer_id, body, current_api_user()))


@bp.route("/offers/<int:offer_id>/preview")
@auth_required(*READERS)
@bp.arguments(PreviewArgsSchema, location="query")
@bp.response(200, OfferPreviewSchema)
def preview(args, offer_id):
    """How many estates the offer matches now and the first of them (by id), before publishing"""
    return services.preview(offer_id, limit=args["limit"])


@bp.route("/offers/<int:offer_id>/publish", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.response(200, OfferSchema)
def publish(offer_id):
    """Publish a draft: its matches are stored and the notices to the matching estates' residents start

    Notices go out 09:00–20:00 Asia/Shanghai, estate by estate (job `notify-offers`). 409
    `offer_state` unless it is a draft, `offer_ended` past its end.
    """
    return services.offer_view(services.publish(offer_id, current_api_user()))


@bp.route("/offers/<int:offer_id>/withdraw", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.response(200, OfferSchema)
def withdraw(offer_id):
    """Withdraw an offer: it leaves every estate's list at once; notices not yet sent are dropped"""
    return services.offer_view(services.withdraw_offer(offer_id, current_api_user()))
