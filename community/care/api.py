"""Due care: the steward's lists and outcomes, the household's reminders and one-tap booking."""
from community.care import services
from community.care.schemas import (
    CareBookResultSchema,
    CareBookSchema,
    CareCountsSchema,
    CareEngineerQueryArgsSchema,
    CareItemSchema,
    CareOutcomeResultSchema,
    CareOutcomeSchema,
    MyCareItemSchema,
)
from community.orders import services as orders
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import PageArgsSchema, page_schema

bp = Blueprint("community_care", __name__, url_prefix="/api/v1", description="保养提醒")


@bp.route("/engineer/reminders")
@auth_required("engineer")
@bp.arguments(CareEngineerQueryArgsSchema, location="query")
@bp.response(200, page_schema(CareItemSchema))
def engineer_reminders(args):
    """My care items as an engineer: due (soonest first), overdue, snoozed, booked, or done in the
    last 90 days; with the product, the plan, the customer (name masked, phone in full) and the estate"""
    who = current_principal()
    return services.view_page(services.engineer_items(who, **args), who)


@bp.route("/engineer/reminders/counts")
@auth_required("engineer")
@bp.response(200, CareCountsSchema)
def engineer_reminder_counts():
    """How many of my care items are due, overdue, snoozed and booked"""
    return services.engineer_counts(current_principal())


@bp.route("/engineer/reminders/<int:item_id>/outcome", methods=["POST"])
@auth_required("engineer", "agent", "admin")
@idempotent
@bp.arguments(CareOutcomeSchema)
@bp.response(200, CareOutcomeResultSchema)
def record_outcome(body, item_id):
    """Record what became of a care item (its engineer, agents and admins)

    `booked`: a service request for the customer, assigned to the item's engineer (the same as the
    household's one tap); `done_elsewhere`: the care was done another way (the product's schedule
    moves on); `declined`: the customer does not want it this time (the next one is scheduled);
    `snoozed`: ask again on `snoozed_until`. The same outcome again changes nothing (200); changing
    a closed item is a 409 `care_item_closed`, a booked one a 409 `care_item_booked`.
    """
    who = current_principal()
    item, order = services.record_outcome(item_id, who, body["outcome"], snoozed_until=body["snoozed_until"],
                                          note=body["note"], preferred_time=body["preferred_time"])
    return {"item": services.item_views([item], who)[0], "order": orders.order_view(order, who) if order else None}


@bp.route("/me/reminders")
@auth_required()
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(MyCareItemSchema))
def my_reminders(args):
    """The care my products need now or soon (live items), the soonest due first, with who will come"""
    who = current_principal()
    return services.view_page(services.my_items(who.id, **args), who)


@bp.route("/me/reminders/<int:item_id>")
@auth_required()
@bp.response(200, MyCareItemSchema)
def my_reminder(item_id):
    """One care item of my products, whatever its status: what a notice opens (a booked one
    names its order, a closed one says how it closed); anyone else's is a 404"""
    who = current_principal()
    return services.item_views([services.my_item(who.id, item_id)], who)[0]


@bp.route("/me/reminders/<int:item_id>/book", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(CareBookSchema)
@bp.response(200, CareBookResultSchema)
def book(body, item_id):
    """Book the care in one tap: a service request pre-filled with the care, the product and its
    address, assigned to my steward (the item's engineer), who is notified as for any order

    Booking a booked item again returns its order (`created` false); a closed item is a 409.
    """
    user = current_api_user()
    booking = services.book_mine(user, item_id, address_id=body["address_id"], preferred_time=body["preferred_time"],
                                 note=body["note"])
    return {"item": services.item_views([booking.item], user)[0], "order": orders.order_view(booking.order, user),
            "created": booking.created}
