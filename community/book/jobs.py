"""Scheduled customer-health job: a thin call of the service."""
from community.book import services
from core.scheduler import Job


def recompute_customer_health() -> dict:
    """Every bound customer's health, set-based; alerts for those who turned red."""
    return services.recompute_health()


JOBS = [
    # Early morning in Shanghai: yesterday's visits, orders and ratings are in, nobody is at work yet.
    Job("recompute-customer-health", recompute_customer_health, "cron",
        {"hour": 2, "minute": 30, "timezone": "Asia/Shanghai"}),
]
