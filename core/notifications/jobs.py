"""The notification sender: a thin loop over services.send_due."""
from core.notifications import services
from core.scheduler import Job

MAX_BATCHES = 50  # per run; the next run (a minute later) goes on


def send_notifications() -> int:
    sent = 0
    for _ in range(MAX_BATCHES):
        counts = services.send_due()
        sent += counts["sent"]
        if counts["claimed"] == 0:
            break
    return sent


JOBS = [Job("send-notifications", send_notifications, "interval", {"seconds": 30})]
