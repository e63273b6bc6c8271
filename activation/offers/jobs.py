"""Offer jobs: the notice fan-out, and matches kept fresh; thin calls of the services, each batch
committed."""
import time as clock

from activation.offers import services
from core.extensions import db
from core.scheduler import Job

NOTICE_SECONDS = 540  # per run (runs are ten minutes apart): what is left waits for the next run
REMATCH_SECONDS = 240  # per run: stale offers left over wait for the next run


def notify_offers() -> dict:
    """Tell the residents of published offers' estates, batch by batch (each batch committed with
    its cursor), inside the notice window only."""
    totals = {"batches": 0, "estates": 0, "residents": 0, "subscribe": 0, "inbox": 0}
    started = clock.monotonic()
    while clock.monotonic() - started < NOTICE_SECONDS:
        counts = services.notify_batch()
        db.session.commit()
        if counts["offer_id"] is None:
            break
        totals["batches"] += 1
        for key in ("estates", "residents", "subscribe", "inbox"):
            totals[key] += counts[key]
    return totals


def rematch_offers() -> dict:
    """Refresh the matches of stale offers (the daily profile refresh marks them), one offer per
    commit, and take ended offers out of the estates' index."""
    started, refreshed = clock.monotonic(), 0
    while clock.monotonic() - started < REMATCH_SECONDS and (stale := services.stale_offers(limit=20)):
        for offer_id in stale:
            services.refresh_matches(offer_id)
            db.session.commit()
            refreshed += 1
    purged = services.purge_ended()
    db.session.commit()
    return {"refreshed": refreshed, "purged": purged}


JOBS = [
    # Every ten minutes inside the notice window (09:00–20:00 Shanghai); the service checks the window too.
    Job("notify-offers", notify_offers, "cron", {"hour": "9-19", "minute": "*/10", "timezone": "Asia/Shanghai"}),
    Job("rematch-offers", rematch_offers, "interval", {"minutes": 10}),
]
