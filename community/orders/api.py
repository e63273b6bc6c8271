"""Service requests and orders, reviews, complaints and likes; visit announcements and slot
booking; the service system's order integration."""
from community.estates import services as estates
from community.orders import services
from community.orders.schemas import (
    CancelOrderSchema,
    ComplaintCreateSchema,
    ComplaintSchema,
    EngineerOrderCountsSchema,
    EngineerOrderQueryArgsSchema,
    EngineerReviewSchema,
    LikeResultSchema,
    PublicEngineerSchema,
    ReviewCreateSchema,
    ReviewResultSchema,
    ScheduleSchema,
    ServiceOrderMessageSchema,
    ServiceOrderReceivedSchema,
    ServiceOrderSchema,
    ServiceRequestCreateSchema,
    SlotBookSchema,
    VisitAnnouncedSchema,
    VisitAnnounceSchema,
    VisitListSchema,
)
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.integrations import signed
from core.pagination import PageArgsSchema, page_schema

bp = Blueprint("community_orders", __name__, url_prefix="/api/v1", description="服务单、评价、投诉与上门安排")


@bp.route("/service-requests", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(ServiceRequestCreateSchema)
@bp.response(201, ServiceOrderSchema)
def request_service(body):
    """Request service at one of my estates, optionally naming an engineer who covers it (or my steward)

    Without a named engineer, dispatch assigns the estate's best-ranked active engineer (and I am
    notified). Where: `address_id` from my address book (its estate must be this one, else 422 on
    address_id; not mine: 404) or `address` written out; whom: `contact_name`, `contact_phone`
    (default: the address book entry's, else my own phone); `photos`: my uploads; `product_id`:
    one of my appliances in use (else 404), whose care schedule advances when the order
    completes; `coupon_id`: one of my coupons for this service type, held for the order (used when it
    completes, available again if it is cancelled; 404 not mine, 409 not usable now, 422 another
    service type). The order keeps copies of them. Every one of these is optional.
    """
    user = current_api_user()
    order = services.request_service(
        user, body["estate_id"], body["service_type"], body["description"],
        preferred_engineer_id=body["preferred_engineer_id"], preferred_slot=body["preferred_slot"],
        address_id=body["address_id"], address=body["address"], contact_name=body["contact_name"],
        contact_phone=body["contact_phone"], photos=body["photos"], product_id=body["product_id"],
        coupon_id=body["coupon_id"])
    return services.order_view(order, user)


@bp.route("/me/service-orders")
@auth_required()
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(ServiceOrderSchema))
def my_orders(args):
    """My service orders, newest first"""
    who = current_principal()
    return services.view_page(services.orders_of_resident(who.id, **args), who)


@bp.route("/service-orders/<int:order_id>")
@auth_required()
@bp.response(200, ServiceOrderSchema)
def get_order(order_id):
    """One service order (its resident, its engineer, agents and admins; the contact phone is in
    full for the resident and the engineer only)"""
    who = current_principal()
    return services.order_view(services.visible_order(order_id, who), who)


@bp.route("/service-orders/<int:order_id>/cancel", methods=["POST"])
@auth_required()
@bp.arguments(CancelOrderSchema)
@bp.response(200, ServiceOrderSchema)
def cancel(body, order_id):
    """Cancel an open order (its resident, its engineer, an agent or an admin); the resident is
    notified unless they cancelled it themselves"""
    who = current_principal()
    return services.order_view(services.cancel(order_id, who, body["reason"]), who)


@bp.route("/service-orders/<int:order_id>/review", methods=["POST"])
@auth_required()
@bp.arguments(ReviewCreateSchema)
@bp.response(201, ReviewResultSchema)
def review(body, order_id):
    """Review my completed order, once (the points for a review are the same whatever the rating)"""
    return services.review(order_id, current_api_user(), body["rating"], body["text"], body["photos"])


@bp.route("/service-orders/<int:order_id>/complaints", methods=["POST"])
@auth_required()
@bp.arguments(ComplaintCreateSchema)
@bp.response(201, ComplaintSchema)
def complain(body, order_id):
    """Complain about my order (once per order); an agent resolves it"""
    return services.complain(order_id, current_api_user(), body["text"])


@bp.route("/engineers/<int:engineer_id>/like", methods=["POST"])
@auth_required()
@bp.response(200, LikeResultSchema)
def like(engineer_id):
    """Like an engineer who completed an order for me (once; repeating is harmless)"""
    created = services.like_engineer(current_api_user(), engineer_id)
    return {"engineer_id": engineer_id, "liked": True, "created": created}


@bp.route("/engineers/<int:engineer_id>")
@auth_required()
@bp.response(200, PublicEngineerSchema)
def engineer_profile(engineer_id):
    """An engineer's public page: the estates they serve with their rank in each, their totals,
    and whether I like them or may (an engineer who left: 404)"""
    return services.engineer_profile(engineer_id, current_principal())


@bp.route("/engineers/<int:engineer_id>/reviews")
@auth_required()
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(EngineerReviewSchema))
def engineer_reviews(args, engineer_id):
    """An engineer's reviews, newest first (the reviewer's name masked)"""
    return services.engineer_reviews(engineer_id, **args)


@bp.route("/engineer/service-orders")
@auth_required("engineer")
@bp.arguments(EngineerOrderQueryArgsSchema, location="query")
@bp.response(200, page_schema(ServiceOrderSchema))
def engineer_orders(args):
    """My assigned orders as an engineer, newest first (filter by status, or by customer:
    `resident_id`), with the customer's name, full phone and address"""
    who = current_principal()
    return services.view_page(services.orders_of_engineer(who.id, **args), who)


@bp.route("/engineer/service-orders/counts")
@auth_required("engineer")
@bp.response(200, EngineerOrderCountsSchema)
def engineer_order_counts():
    """How many of my orders wait for me: to schedule (`assigned`) and to complete (`scheduled`)"""
    return services.open_order_counts(current_principal().id)


@bp.route("/engineer/service-orders/<int:order_id>/schedule", methods=["POST"])
@auth_required("engineer")
@bp.arguments(ScheduleSchema)
@bp.response(200, ServiceOrderSchema)
def schedule(body, order_id):
    """Fix or move the appointment of my assigned order (the resident is notified of the time)"""
    user = current_api_user()
    return services.order_view(services.schedule(order_id, user, body["scheduled_for"]), user)


@bp.route("/engineer/service-orders/<int:order_id>/complete", methods=["POST"])
@auth_required("engineer")
@bp.response(200, ServiceOrderSchema)
def complete(order_id):
    """Mark my assigned order as completed (the resident is notified)"""
    user = current_api_user()
    return services.order_view(services.complete(order_id, user), user)


@bp.route("/engineer/visits", methods=["POST"])
@auth_required("engineer")
@idempotent
@bp.arguments(VisitAnnounceSchema)
@bp.response(201, VisitAnnouncedSchema)
def announce_visit(body):
    """Announce a visit day with bookable slots in an estate I cover; every resident is notified"""
    announcement, counts = services.announce(current_api_user(), body["estate_id"], body["date"], body["slots"],
                                           body["note"])
    return {"id": announcement.id, "estate_id": announcement.estate_id, "day": announcement.day,
            "notified": counts["notified"], "wechat": counts["wechat"]}


@bp.route("/estates/<int:estate_id>/visits")
@auth_required()
@bp.response(200, VisitListSchema)
def estate_visits(estate_id):
    """Announced engineer visits of the estate from today on, with their slots"""
    estates.get_estate(estate_id)
    return {"items": services.upcoming(estate_id, current_principal().id)}


@bp.route("/visit-slots/<int:slot_id>/book", methods=["POST"])
@auth_required()
@bp.arguments(SlotBookSchema)
@bp.response(201, ServiceOrderSchema)
def book_slot(body, slot_id):
    """Book a remaining slot of an announced visit (接续排期): a scheduled order for that engineer"""
    user = current_api_user()
    return services.order_view(services.book(user, slot_id, body["service_type"], body["description"]), user)


@bp.route("/integrations/service-orders", methods=["POST"])
@signed
@bp.arguments(ServiceOrderMessageSchema)
@bp.response(200, ServiceOrderReceivedSchema)
def receive_service_order(body):
    """Receive one order from the service system (HMAC-signed like the order integration)

    The same rows as `flask community import-orders`, one at a time; an external_id received
    before returns the stored order and changes nothing.
    """
    row = {**body, "complained": "1" if body["complained"] else "0"}
    order, created = services.import_one(row)
    return {"order": services.order_view(order, None), "created": created}
