"""Scheduled level jobs: thin calls of the services, committing batch by batch (resumable)."""
from ambassador.levels import services
from core.extensions import db
from core.scheduler import Job

BATCH_SIZE = 1000


def evaluate_levels() -> dict:
    """Re-evaluate every active ambassador's level; each batch of 1,000 commits on its own."""
    return services.evaluate_all(batch_size=BATCH_SIZE, after_batch=db.session.commit).as_dict()


# The scheduler runs in Asia/Shanghai (core.scheduler): 02:30 Beijing time, after the day closed.
JOBS = [Job("evaluate-ambassador-levels", evaluate_levels, "cron", {"hour": 2, "minute": 30})]
