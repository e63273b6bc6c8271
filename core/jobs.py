"""The kernel's scheduled jobs."""
from core import idempotency, integrations
from core.scheduler import Job

JOBS = [
    Job("purge-idempotency-records", idempotency.purge_expired, "interval", {"hours": 1}),
    Job("purge-integration-signatures", integrations.purge_signatures, "interval", {"minutes": 10}),
]
