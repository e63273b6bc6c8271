"""The kernel's scheduled jobs."""
from core import audit, idempotency, integrations
from core.scheduler import Job


def checkpoint_audit() -> int:
    """Catch the audit log's signed checkpoint up (commits move it too); fails (logged) when the
    log no longer holds what it recorded."""
    mark = audit.checkpoint_log()
    return mark["count"] if mark else 0


JOBS = [
    Job("purge-idempotency-records", idempotency.purge_expired, "interval", {"hours": 1}),
    Job("purge-integration-signatures", integrations.purge_signatures, "interval", {"minutes": 10}),
    Job("checkpoint-audit", checkpoint_audit, "interval", {"minutes": 5}),
]
