"""Offers in the mini-program: an estate's live offers (千区千面), one offer (a notice's link), and
the categories I muted."""
from activation.offers import services
from activation.offers.schemas import EstateOfferArgsSchema, EstateOfferSchema, MutesSchema, MutesUpdateSchema, OfferOpenArgsSchema
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.pagination import page_schema

bp = Blueprint("activation_offers", __name__, url_prefix="/api/v1", description="小区优惠（千区千面）")


@bp.route("/estates/<int:estate_id>/offers")
@auth_required()
@bp.arguments(EstateOfferArgsSchema, location="query")
@bp.response(200, page_schema(EstateOfferSchema))
def estate_offers(args, estate_id):
    """The estate's live offers, newest first, each with what I need to act on it (the coupon's face
    and my claim state, the activity's time, place and seats, the reward's cost, the listing's price)"""
    return services.estate_offers(estate_id, user_id=current_principal().id, **args)


@bp.route("/offers/<int:offer_id>")
@auth_required()
@bp.arguments(OfferOpenArgsSchema, location="query")
@bp.response(200, EstateOfferSchema)
def get_offer(args, offer_id):
    """One live offer shown in one of my estates (a notice opens it); anything else is a 404"""
    user = current_api_user()
    offer, estate_id = services.visible_offer(user, offer_id, args["estate_id"])
    return services.resident_views([offer], user.id, estate_id)[0]


@bp.route("/me/offer-mutes")
@auth_required()
@bp.response(200, MutesSchema)
def my_mutes():
    """The offer categories and whether I muted their notices"""
    return {"items": services.mutes(current_principal().id)}


@bp.route("/me/offer-mutes", methods=["PUT"])
@auth_required()
@bp.arguments(MutesUpdateSchema)
@bp.response(200, MutesSchema)
def set_mutes(body):
    """Mute exactly these categories: I am not told of their new offers (the estate's list still shows
    them). A repeat changes nothing"""
    return {"items": services.set_mutes(current_principal().id, body["muted"])}
