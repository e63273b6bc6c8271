"""The engineer's customers with their health, and each customer's book: notes, tags, follow-ups,
the timeline; health alerts. The steward, admins and the agents on duty (services.book_of)."""
from community.book import services
from community.book.schemas import (
    CustomerBookDetailSchema,
    CustomerFollowUpCreateSchema,
    CustomerFollowUpQueryArgsSchema,
    CustomerFollowUpSchema,
    CustomerHealthQueryArgsSchema,
    CustomerHealthRowSchema,
    CustomerNoteCreateSchema,
    CustomerNoteSchema,
    CustomerTagCreateSchema,
    CustomerTagsSchema,
    CustomerTimelineEntrySchema,
    HealthAlertHandleSchema,
    HealthAlertQueryArgsSchema,
    HealthAlertSchema,
)
from core.auth import auth_required, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import PageArgsSchema, list_schema, page_schema

bp = Blueprint("community_book", __name__, url_prefix="/api/v1", description="客户簿：客户健康、备注、标签、跟进与动态")

BOOK_READERS = ("engineer", "admin", "agent")


@bp.route("/engineer/customers")
@auth_required("engineer")
@bp.arguments(CustomerHealthQueryArgsSchema, location="query")
@bp.response(200, page_schema(CustomerHealthRowSchema))
def my_customers(args):
    """My customers with their health, newest first (`sort=health`: lowest score first), only mine"""
    return services.customers_with_health(current_principal(), **args)


@bp.route("/engineer/customers/<int:user_id>")
@auth_required(*BOOK_READERS)
@bp.response(200, CustomerBookDetailSchema)
def my_customer(user_id):
    """One current customer: the steward's visits, estates, health and tags (the steward, admins,
    agents on duty; anyone else's customer is a 404)"""
    return services.customer_detail(current_principal(), user_id)


@bp.route("/engineer/customers/<int:user_id>/notes")
@auth_required(*BOOK_READERS)
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(CustomerNoteSchema))
def customer_notes(args, user_id):
    """A customer's private notes, newest first (every author's: the book follows the customer)"""
    return services.notes_of(current_principal(), user_id, **args)


@bp.route("/engineer/customers/<int:user_id>/notes", methods=["POST"])
@auth_required(*BOOK_READERS)
@idempotent
@bp.arguments(CustomerNoteCreateSchema)
@bp.response(201, CustomerNoteSchema)
def add_note(body, user_id):
    """Write a private note on a customer (staff only ever see it)"""
    return services.add_note(current_principal(), user_id, body["text"])


@bp.route("/engineer/customers/<int:user_id>/tags")
@auth_required(*BOOK_READERS)
@bp.response(200, CustomerTagsSchema)
def customer_tags(user_id):
    """A customer's tags"""
    return {"items": services.customer_tags(current_principal(), user_id)}


@bp.route("/engineer/customers/<int:user_id>/tags", methods=["POST"])
@auth_required(*BOOK_READERS)
@idempotent
@bp.arguments(CustomerTagCreateSchema)
@bp.response(200, CustomerTagsSchema)
def add_tag(body, user_id):
    """Tag a customer (a tag already there changes nothing); returns the customer's tags"""
    return {"items": services.add_tag(current_principal(), user_id, body["tag"])}


@bp.route("/engineer/customers/<int:user_id>/tags/<tag>", methods=["DELETE"])
@auth_required(*BOOK_READERS)
@bp.response(200, CustomerTagsSchema)
def remove_tag(user_id, tag):
    """Take a tag off a customer (one not there: nothing to do); returns the customer's tags"""
    return {"items": services.remove_tag(current_principal(), user_id, tag)}


@bp.route("/engineer/customers/<int:user_id>/follow-ups")
@auth_required(*BOOK_READERS)
@bp.response(200, list_schema(CustomerFollowUpSchema))
def customer_follow_ups(user_id):
    """A customer's follow-ups: open ones by due date, then the latest done"""
    return {"items": services.follow_ups_of_customer(current_principal(), user_id)}


@bp.route("/engineer/customers/<int:user_id>/follow-ups", methods=["POST"])
@auth_required(*BOOK_READERS)
@idempotent
@bp.arguments(CustomerFollowUpCreateSchema)
@bp.response(201, CustomerFollowUpSchema)
def add_follow_up(body, user_id):
    """Plan a follow-up with a customer by a date; it lands on the steward's list"""
    return services.add_follow_up(current_principal(), user_id, body["due_on"], body["text"])


@bp.route("/engineer/follow-ups/<int:follow_up_id>/done", methods=["POST"])
@auth_required(*BOOK_READERS)
@idempotent
@bp.response(200, CustomerFollowUpSchema)
def complete_follow_up(follow_up_id):
    """Mark a follow-up done (repeating it changes nothing)"""
    return services.complete_follow_up(current_principal(), follow_up_id)


@bp.route("/engineer/follow-ups")
@auth_required("engineer")
@bp.arguments(CustomerFollowUpQueryArgsSchema, location="query")
@bp.response(200, page_schema(CustomerFollowUpSchema))
def my_follow_ups(args):
    """The follow-ups of my current customers: open or overdue soonest first, done latest first"""
    return services.my_follow_ups(current_principal(), **args)


@bp.route("/engineer/customers/<int:user_id>/timeline")
@auth_required(*BOOK_READERS)
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(CustomerTimelineEntrySchema))
def customer_timeline(args, user_id):
    """Everything with a customer, newest first: visits, stewards, orders, reviews, complaints,
    products, care items, notes, follow-ups, health alerts"""
    return services.timeline(current_principal(), user_id, **args)


@bp.route("/engineer/health-alerts")
@auth_required("engineer")
@bp.arguments(HealthAlertQueryArgsSchema, location="query")
@bp.response(200, page_schema(HealthAlertSchema))
def my_alerts(args):
    """Health alerts of my current customers, newest first"""
    return services.my_alerts(current_principal(), **args)


@bp.route("/engineer/health-alerts/<int:alert_id>/handle", methods=["POST"])
@auth_required(*BOOK_READERS)
@idempotent
@bp.arguments(HealthAlertHandleSchema)
@bp.response(200, HealthAlertSchema)
def handle_alert(body, alert_id):
    """Record what was done about an alert (the steward, admins, agents on duty); once"""
    return services.handle_alert(current_principal(), alert_id, body["note"])
