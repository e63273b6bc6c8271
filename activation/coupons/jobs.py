"""Coupon jobs: the daily expiry (with the reminders before it), a thin call of the services."""
from activation.coupons import services
from core.scheduler import Job

JOBS = [
    # Just after midnight in Shanghai: yesterday's last day has passed. The reminders go to the inbox only.
    Job("expire-coupons", services.expire_coupons, "cron", {"hour": 0, "minute": 15, "timezone": "Asia/Shanghai"}),
]
