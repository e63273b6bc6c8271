"""Fake-household jobs: thin calls of the services, committing batch by batch (resumable)."""
from community.trust import services
from core.scheduler import Job, in_batches


def lapse_binding_points() -> int:
    """Binding points past BINDING_POINTS_LAPSE_DAYS without a sign of life lapse, and the binding is flagged."""
    return in_batches(lambda: services.lapse_due(limit=500))


JOBS = [
    Job("lapse-binding-points", lapse_binding_points, "cron", {"minute": 37}),
]
