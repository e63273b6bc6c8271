"""Activity jobs: the day-before reminder, a thin call of the service."""
from activation.activities import services
from core.scheduler import Job, in_counted_batches

MAX_BATCHES = 50  # per run; the next run (an hour later) goes on


def remind_activities() -> dict:
    """Remind the confirmed sign-ups of tomorrow's activities, batch by batch, each batch committed."""
    return in_counted_batches(services.remind_due, ("claimed", "subscribe", "inbox"), MAX_BATCHES)


JOBS = [
    # Hourly inside the reminder window (09:00–20:00 Shanghai); the service checks the window too,
    # and a sign-up made later in the day is reminded at the next run.
    Job("remind-activities", remind_activities, "cron", {"hour": "9-19", "minute": 0, "timezone": "Asia/Shanghai"}),
]
