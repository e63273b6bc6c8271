"""Handover job: complete the handovers nobody refused within 24 hours, thin calls of the service."""
from community.stewards import services
from core.scheduler import Job, in_counted_batches

MAX_BATCHES = 50  # per run; the next run goes on


def complete_due_handovers() -> dict:
    """Complete due handovers batch by batch, each batch committed (safe to run twice at once)."""
    return in_counted_batches(services.complete_due_handovers, ("claimed", "completed", "cancelled"), MAX_BATCHES)


JOBS = [
    # Every 10 minutes: a handover takes effect at most that long after its 24 hours.
    Job("complete-due-handovers", complete_due_handovers, "interval", {"minutes": 10}),
]
