"""Due-care jobs: the daily generation (with its reconciliation) and the notices, thin calls of the services."""
from community.care import services
from core.scheduler import Job, in_counted_batches

MAX_NOTICE_BATCHES = 50  # per run; the next run (half an hour later) goes on


def generate_service_reminders() -> dict:
    """Create the care items due within the horizon (the runner commits once)."""
    return services.generate_due_items()


def notify_service_reminders() -> dict:
    """Notify households of the items whose day has come, batch by batch, each batch committed."""
    return in_counted_batches(services.notify_due, ("claimed", "subscribe", "inbox"), MAX_NOTICE_BATCHES)


JOBS = [
    # At night in Shanghai, after the ranking's window moved (00:05): routes use today's ranking.
    Job("generate-service-reminders", generate_service_reminders, "cron",
        {"hour": 2, "minute": 30, "timezone": "Asia/Shanghai"}),
    # Every half hour inside the notice window (09:00–20:00 Shanghai); the service checks the window too.
    Job("notify-service-reminders", notify_service_reminders, "cron",
        {"hour": "9-19", "minute": "0,30", "timezone": "Asia/Shanghai"}),
]
