"""Points: the double-entry ledger, earning rules, rewards and redemptions."""
from flask import Flask, url_for

from core import signals
from core.pages import WorkQueue
from points import services


def init_app(app: Flask) -> None:
    """Connect the points feature's receivers of cross-feature signals (called once by create_app)."""
    signals.work_waiting.connect(_work_waiting)


def _work_waiting(sender, *, who) -> list:
    """Redemptions waiting for a decision: admins decide them (the queue page is admins' only)."""
    if not who.has_role("admin"):
        return []
    return [WorkQueue("待审核兑换", services.pending_redemptions_count(), url_for("points_pages.redemptions"))]
