"""Scheduled referral jobs: thin calls of the services, committing batch by batch (resumable)."""
from ambassador.referrals import services
from core.extensions import db
from core.scheduler import Job


def retry_referral_rewards() -> int:
    """Pay referral rewards a cap or a disabled rule held back, 200 referrals per committed batch."""
    total, after = 0, 0
    while True:
        batch = services.retry_withheld(limit=200, after=after)
        db.session.commit()
        total += batch.rewarded
        if not batch.seen:
            return total
        after = batch.last_id


# Just after midnight (Asia/Shanghai): yesterday's daily caps no longer hold the rewards back.
JOBS = [Job("retry-referral-rewards", retry_referral_rewards, "cron", {"hour": 0, "minute": 20})]
