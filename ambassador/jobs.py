"""Scheduled ambassador jobs: thin calls of the services, committing batch by batch (resumable)."""
from ambassador import levels, referrals
from core.extensions import db
from core.scheduler import Job

BATCH_SIZE = 1000


def evaluate_levels() -> dict:
    """Re-evaluate every active ambassador's level; each batch of 1,000 commits on its own."""
    return levels.evaluate_all(batch_size=BATCH_SIZE, after_batch=db.session.commit).as_dict()


def retry_referral_rewards() -> int:
    """Pay referral rewards a cap or a disabled rule held back, 200 referrals per committed batch."""
    total, after = 0, 0
    while True:
        batch = referrals.retry_withheld(limit=200, after=after)
        db.session.commit()
        total += batch.rewarded
        if not batch.seen:
            return total
        after = batch.last_id


# The scheduler runs in Asia/Shanghai (core.scheduler): 02:30 Beijing time, after the day closed.
JOBS = [
    Job("evaluate-ambassador-levels", evaluate_levels, "cron", {"hour": 2, "minute": 30}),
    # Just after midnight: yesterday's daily caps no longer hold the rewards back.
    Job("retry-referral-rewards", retry_referral_rewards, "cron", {"hour": 0, "minute": 20}),
]
