"""The kernel's scheduled jobs."""
from core import idempotency
from core.scheduler import Job

JOBS = [
    Job("purge-idempotency-records", idempotency.purge_expired, "interval", {"hours": 1}),
]
