"""Scheduled points jobs: thin calls of the services, committing batch by batch (resumable)."""
from core.scheduler import Job, in_batches
from points import services


def expire_points() -> int:
    """Expire due lots, 500 at a time; a crash loses nothing (each lot's expiry has its own key)."""
    return in_batches(lambda: services.expire_due(limit=500))


def release_pending_points() -> int:
    """Make due pending grants spendable, 500 at a time (each is granted under its own key)."""
    return in_batches(lambda: services.release_pending(limit=500))


def void_stale_redemptions() -> int:
    return in_batches(lambda: services.void_stale(limit=200))


def checkpoint_ledger() -> int:
    """Move the ledger's signed checkpoint forward; fails (logged) when the ledger lost its newest rows."""
    mark = services.checkpoint_ledger()
    return mark["head"]["id"] if mark else 0


JOBS = [
    Job("expire-points", expire_points, "cron", {"minute": 7}),
    Job("void-stale-redemptions", void_stale_redemptions, "cron", {"minute": 17}),
    Job("release-pending-points", release_pending_points, "interval", {"minutes": 5}),
    Job("checkpoint-ledger", checkpoint_ledger, "interval", {"minutes": 5}),
]
