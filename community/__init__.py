"""The estate community: estates and their engineers and residents, steward binding, service
orders, the estate feed, and the statistics that rank engineers and measure estates.

Areas, lowest first: a lower area never imports a higher one (docs/architecture.md).
"""
from flask import Flask

from community.care import services as care
from community.feed import services as feed
from community.products import services as products
from community.stats import services as stats
from community.stewards import services as stewards
from community.trust import services as trust
from core import signals

AREAS = ("estates", "stats", "stewards", "products", "orders", "care", "book", "profiles", "feed", "trust")


def init_app(app: Flask) -> None:
    """Connect the community's receivers of cross-feature signals (called once by create_app)."""
    signals.wechat_event.connect(_media_checked, sender="wxa_media_check")
    signals.phone_confirmed.connect(_phone_confirmed)
    signals.service_completed.connect(_service_completed)
    signals.service_cancelled.connect(_service_cancelled)
    signals.work_waiting.connect(_handovers_waiting)
    # fake households (community.trust): new bindings, signs of life, the work-order check, the review queue
    signals.binding_recorded.connect(_binding_recorded)
    signals.user_active.connect(_user_active)
    signals.product_registered.connect(_product_registered)
    signals.visit_ref_refusal.connect(_visit_ref_refusal)
    signals.work_waiting.connect(_flags_waiting)
    signals.work_waiting.connect(_complaints_and_posts_waiting)
    signals.coverage_added.connect(_coverage_added)


def _media_checked(event_type: str, event: dict) -> None:
    feed.on_media_verdict(event)  # WeChat's verdict on a feed photo


def _phone_confirmed(sender, *, user_id: int, phone: str) -> None:
    products.link_phone(user_id, phone)  # appliances recorded under the phone become the user's
    trust.phone_confirmed(user_id, phone)  # a sign of life, unless another bound resident shares it


def _service_completed(sender, *, resident_id: int, order_id: int) -> None:
    care.on_order_completed(order_id)  # the care item it booked is done
    trust.life_sign(resident_id, "order")  # binding points wait for a sign of life


def _coverage_added(sender, *, engineer_ids: list[int]) -> None:
    stats.on_covered(engineer_ids)  # the new coverage rows' ranking key (community.stats)


def _service_cancelled(sender, *, order_id: int) -> None:
    care.on_order_cancelled(order_id)  # the care item it booked waits again


def _handovers_waiting(sender, *, who) -> list:
    """Residents' steward change requests waiting for staff (the dashboard's 待办)."""
    from flask import url_for

    from core.pages import WorkQueue

    return [WorkQueue(label, count, url_for("community_stewards_pages.handovers", tab="request"))
            for label, count, _filters in stewards.work_waiting(who)]


def _binding_recorded(sender, **binding) -> None:
    trust.binding_recorded(**binding)  # watched for a sign of life, checked for flags


def _user_active(sender, *, user_id: int) -> None:
    trust.user_active(user_id)  # a session on another day than the binding is a sign of life


def _product_registered(sender, *, product_id: int, owner_id: int | None, source: str) -> None:
    trust.product_registered(owner_id, source)


def _visit_ref_refusal(sender, *, engineer_id: int, visit_ref: str):
    return trust.visit_ref_refusal(engineer_id=engineer_id, visit_ref=visit_ref)


def _flags_waiting(sender, *, who) -> list:
    """Flagged bindings waiting for an agent (the dashboard's 待办)."""
    from flask import url_for

    return trust.work_waiting(who, url_for("community_trust_pages.flags"))


def _complaints_and_posts_waiting(sender, *, who) -> list:
    """Open complaints (agents and admins handle them) and held feed content (admins moderate)."""
    from flask import url_for

    from community.orders import services as orders
    from core.pages import WorkQueue

    queues = []
    if who.has_role("admin", "agent"):
        queues.append(WorkQueue("待处理投诉", orders.open_complaints_count(),
                                url_for("community_orders_pages.admin_complaints", status="open")))
    if who.has_role("admin"):
        held = feed.held_counts()
        queues += [WorkQueue(f"待审核{label}", held[kind], url_for("community_feed_pages.moderation", kind=kind))
                   for kind, label in (("post", "帖子"), ("answer", "回答"), ("comment", "评论"))]
    return queues
