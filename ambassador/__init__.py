"""Service ambassadors (服务代言人): levels and contribution, referrals, tasks, memberships and
applications, value sharing from orders.

Areas, lowest first: a lower area never imports a higher one (docs/architecture.md). Levels,
ambassadors, the estates they serve, their level history and their applications are shared by
every area (ambassador/models.py); what a level allows is checked in ambassador/access.py.
"""
from flask import Flask, url_for

from ambassador import access
from ambassador.members import services as members
from ambassador.orders import services as orders
from ambassador.referrals import services as referrals
from ambassador.tasks import services as tasks
from core import signals
from core.pages import WorkQueue

AREAS = ("levels", "referrals", "tasks", "members", "orders")


def init_app(app: Flask) -> None:
    """Connect the ambassador feature's receivers of cross-feature signals (called once by create_app)."""
    signals.announce_refusal.connect(access.announce_refusal)
    signals.ambassador_level.connect(access.ambassador_level)
    signals.service_completed.connect(referrals.service_completed)
    signals.points_released.connect(orders.points_released)
    signals.work_waiting.connect(_work_waiting)


def _work_waiting(sender, *, who) -> list:
    """Applications (agents read them, admins decide) and task submissions (admins' queue)."""
    queues = []
    if who.has_role("admin", "agent"):
        queues.append(WorkQueue("待审核代言人申请", members.pending_applications_count(),
                                url_for("ambassador_members_pages.applications")))
    if who.has_role("admin"):
        queues.append(WorkQueue("待审核任务提交", tasks.pending_submissions_count(),
                                url_for("ambassador_tasks_pages.submissions")))
    return queues
