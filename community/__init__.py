"""The estate community: estates and their engineers and residents, steward binding, service
orders, the estate feed, and the statistics that rank engineers and measure estates.

Areas, lowest first: a lower area never imports a higher one (docs/architecture.md).
"""
from flask import Flask

from community.feed import services as feed
from core import signals

AREAS = ("estates", "stats", "stewards", "products", "orders", "care", "book", "feed")


def init_app(app: Flask) -> None:
    """Connect the community's receivers of cross-feature signals (called once by create_app)."""
    signals.wechat_event.connect(_media_checked, sender="wxa_media_check")


def _media_checked(event_type: str, event: dict) -> None:
    feed.on_media_verdict(event)  # WeChat's verdict on a feed photo
