"""Service ambassadors (服务代言人): levels and contribution, referrals, tasks, memberships and
applications, value sharing from orders.

Areas, lowest first: a lower area never imports a higher one (docs/architecture.md). Levels,
ambassadors, the estates they serve, their level history and their applications are shared by
every area (ambassador/models.py); what a level allows is checked in ambassador/access.py.
"""
from flask import Flask

from ambassador import access
from ambassador.orders import services as orders
from ambassador.referrals import services as referrals
from core import signals

AREAS = ("levels", "referrals", "tasks", "members", "orders")


def init_app(app: Flask) -> None:
    """Connect the ambassador feature's receivers of cross-feature signals (called once by create_app)."""
    signals.announce_refusal.connect(access.announce_refusal)
    signals.ambassador_level.connect(access.ambassador_level)
    signals.service_completed.connect(referrals.service_completed)
    signals.points_released.connect(orders.points_released)
