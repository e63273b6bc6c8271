"""The estate community: estates and their engineers and residents, steward binding, service
orders, the estate feed, and the statistics that rank engineers and measure estates.

Areas, lowest first: a lower area never imports a higher one (docs/architecture.md).
"""
from flask import Flask

from community.care import services as care
from community.feed import services as feed
from community.products import services as products
from core import signals

AREAS = ("estates", "stats", "stewards", "products", "orders", "care", "book", "profiles", "feed")


def init_app(app: Flask) -> None:
    """Connect the community's receivers of cross-feature signals (called once by create_app)."""
    signals.wechat_event.connect(_media_checked, sender="wxa_media_check")
    signals.phone_confirmed.connect(_phone_confirmed)
    signals.service_completed.connect(_service_completed)
    signals.service_cancelled.connect(_service_cancelled)


def _media_checked(event_type: str, event: dict) -> None:
    feed.on_media_verdict(event)  # WeChat's verdict on a feed photo


def _phone_confirmed(sender, *, user_id: int, phone: str) -> None:
    products.link_phone(user_id, phone)  # appliances recorded under the phone become the user's


def _service_completed(sender, *, resident_id: int, order_id: int) -> None:
    care.on_order_completed(order_id)  # the care item it booked is done


def _service_cancelled(sender, *, order_id: int) -> None:
    care.on_order_cancelled(order_id)  # the care item it booked waits again
