"""Activity jobs: the day-before reminder, a thin call of the service."""
from activation.activities import services
from core.extensions import db
from core.scheduler import Job

MAX_BATCHES = 50  # per run; the next run (an hour later) goes on


def remind_activities() -> dict:
    """Remind the confirmed sign-ups of tomorrow's activities, batch by batch, each batch committed."""
    totals = {"claimed": 0, "subscribe": 0, "inbox": 0}
    for _ in range(MAX_BATCHES):
        counts = services.remind_due()
        db.session.commit()
        for key in totals:
            totals[key] += counts.get(key, 0)
        if not counts["claimed"]:
            break
    return totals


JOBS = [
    # Hourly inside the reminder window (09:00–20:00 Shanghai); the service checks the window too,
    # and a sign-up made later in the day is reminded at the next run.
    Job("remind-activities", remind_activities, "cron", {"hour": "9-19", "minute": 0, "timezone": "Asia/Shanghai"}),
]
