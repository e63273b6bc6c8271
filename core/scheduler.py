"""Scheduled jobs: APScheduler 3 in one process, one active scheduler at a time.

Each area (the kernel too) lists its jobs in its `jobs.py` as `JOBS = [Job(...)]`; a job is a thin call of
that feature's services. `flask jobs run` runs them; several such processes may be started (for
failover), but only the holder of the database lease `scheduled-jobs` schedules anything, so adding
web servers or standby schedulers never runs a job twice. The lease is renewed every third of
its lifetime; a holder that cannot renew stops scheduling at once.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from core import area_modules
from core.db import insert_or_nothing, utcnow
from core.extensions import db
from core.models import SchedulerLease

log = logging.getLogger(__name__)
LEASE = "scheduled-jobs"
LEASE_SECONDS = 60


@dataclass
class Job:
    name: str
    func: Callable[[], object]  # runs in an app context; commits its own batches, or the runner commits
    trigger: str = "interval"
    trigger_args: dict = field(default_factory=lambda: {"minutes": 10})


def in_batches(step: Callable[[], int]) -> int:
    """Run `step` (one batch; returns how many rows it did) and commit, until a batch does nothing:
    a crash loses at most the batch in flight, and the next run goes on (resumable jobs)."""
    total = 0
    while True:
        done = step()
        db.session.commit()
        total += done
        if not done:
            return total


def in_counted_batches(step: Callable[[], dict], keys: tuple[str, ...], max_batches: int) -> dict:
    """Like `in_batches` for a step that returns counts per kind (`claimed` ends the run when 0),
    at most `max_batches` per run; the totals of `keys` are returned."""
    totals = dict.fromkeys(keys, 0)
    for _ in range(max_batches):
        counts = step()
        db.session.commit()
        for key in totals:
            totals[key] += counts.get(key, 0)
        if not counts["claimed"]:
            break
    return totals


def all_jobs() -> list[Job]:
    """Every area's `jobs.JOBS`, feature by feature."""
    return [job for module in area_modules("jobs") for job in module.JOBS]


def run_job(app: Flask, job: Job):
    """Run one job in an app context: commit what it leaves pending, roll back and log on failure."""
    with app.app_context():
        try:
            result = job.func()
            db.session.commit()
            log.info("job %s: %s", job.name, result)
            return result
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job.name)
            raise
        finally:
            db.session.remove()


def acquire_lease(holder: str, seconds: int = LEASE_SECONDS) -> bool:
    """Take or renew the scheduler lease (in the caller's transaction); True when `holder` has it."""
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    renewed = db.session.execute(sa.update(SchedulerLease).where(
        SchedulerLease.name == LEASE, sa.or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now)
    ).values(holder=holder, expires_at=expires)).rowcount
    if renewed:
        return True
    return insert_or_nothing(SchedulerLease, {"name": LEASE, "holder": holder, "expires_at": expires},
                             conflict=["name"]) is not None


def release_lease(holder: str) -> None:
    db.session.execute(sa.delete(SchedulerLease).where(SchedulerLease.name == LEASE,
                                                       SchedulerLease.holder == holder))


class Scheduler:
    """APScheduler running the registered jobs while this process holds the lease."""

    def __init__(self, app: Flask, jobs: list[Job] | None = None, lease_seconds: int = LEASE_SECONDS):
        self.app = app
        self.jobs = all_jobs() if jobs is None else jobs
        self.lease_seconds = lease_seconds
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.scheduler: BackgroundScheduler | None = None
        self.stopped = threading.Event()

    def _hold(self) -> bool:
        with self.app.app_context():
            try:
                held = acquire_lease(self.holder, self.lease_seconds)
                db.session.commit()
                return held
            except sa.exc.SQLAlchemyError:
                db.session.rollback()
                log.exception("scheduler: lease check failed")
                return False
            finally:
                db.session.remove()

    def _start_jobs(self) -> None:
        self.scheduler = BackgroundScheduler(timezone="Asia/Shanghai", job_defaults={
            "max_instances": 1, "coalesce": True, "misfire_grace_time": 300})
        for job in self.jobs:
            self.scheduler.add_job(run_job, job.trigger, args=(self.app, job), id=job.name, name=job.name,
                                   **job.trigger_args)
        self.scheduler.start()
        log.info("scheduler %s holds the lease: %d jobs scheduled", self.holder, len(self.jobs))

    def _stop_jobs(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    def run(self) -> None:
        """Loop until stop(): wait for the lease, schedule while it is held, stop when it is lost."""
        interval = self.lease_seconds / 3
        while not self.stopped.is_set():
            if self._hold():
                if self.scheduler is None:
                    self._start_jobs()
            elif self.scheduler is not None:
                log.warning("scheduler %s lost the lease: stopping its jobs", self.holder)
                self._stop_jobs()
            self.stopped.wait(interval)
        self._stop_jobs()
        with self.app.app_context():
            release_lease(self.holder)
            db.session.commit()
            db.session.remove()

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="scheduler", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopped.set()
