"""The scheduler: one lease holder at a time, one active Scheduler per database, and the
`flask jobs` and `flask points verify` commands."""
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core import scheduler
from core.accounts.models import User
from core.extensions import db
from core.models import SchedulerLease
from core.scheduler import Job, Scheduler, acquire_lease, release_lease
from points import ledger, services
from points.models import Posting
from tests.conftest import ON_POSTGRES

T0 = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)


class FrozenClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def lease() -> tuple[str, datetime] | None:
    row = db.session.execute(sa.select(SchedulerLease.holder, SchedulerLease.expires_at)).first()
    return tuple(row) if row else None


# -- the lease --------------------------------------------------------------------------------

def test_one_holder_at_a_time_renewal_and_takeover_after_expiry(ctx, monkeypatch):
    clock = FrozenClock(T0)
    monkeypatch.setattr(scheduler, "utcnow", clock)
    assert acquire_lease("a", 60)
    db.session.commit()
    assert not acquire_lease("b", 60)
    assert lease() == ("a", T0 + timedelta(seconds=60))

    clock.now = T0 + timedelta(seconds=30)
    assert acquire_lease("a", 60)  # renewal pushes the expiry on
    db.session.commit()
    assert lease() == ("a", T0 + timedelta(seconds=90))
    clock.now = T0 + timedelta(seconds=89)
    assert not acquire_lease("b", 60)

    clock.now = T0 + timedelta(seconds=91)  # a's lease ran out (it died, or cannot reach the database)
    assert acquire_lease("b", 60)
    db.session.commit()
    assert not acquire_lease("a", 60)
    assert lease() == ("b", T0 + timedelta(seconds=151))

    release_lease("a")  # not a's to release
    db.session.commit()
    assert lease()[0] == "b"
    release_lease("b")
    db.session.commit()
    assert lease() is None
    assert acquire_lease("a", 60)


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_two_schedulers_on_one_database_only_one_schedules_jobs(app):
    ran = []
    jobs = [Job("tick", lambda: ran.append(1), "interval", {"seconds": 0.1})]
    first, second = (Scheduler(app, jobs=jobs, lease_seconds=0.6) for _ in range(2))
    threads = [s.start_in_thread() for s in (first, second)]
    try:
        assert _wait_for(lambda: first.scheduler is not None or second.scheduler is not None)
        holder, standby = (first, second) if first.scheduler is not None else (second, first)
        # Through several renewals (every 0.2 s) the standby never schedules anything.
        for _ in range(40):
            assert standby.scheduler is None and holder.scheduler is not None
            time.sleep(0.025)
        assert [j.id for j in holder.scheduler.get_jobs()] == ["tick"]
        assert _wait_for(lambda: ran)  # the holder's jobs really run

        # Another process took the lease (this one could not renew in time): stop scheduling at once.
        with app.app_context():
            db.session.execute(sa.update(SchedulerLease).values(
                holder="intruder", expires_at=scheduler.utcnow() + timedelta(seconds=0.5)))
            db.session.commit()
        assert _wait_for(lambda: holder.scheduler is None and standby.scheduler is None)
        # The intruder's lease runs out: one of the two takes over.
        assert _wait_for(lambda: (first.scheduler is None) != (second.scheduler is None))
        holder, standby = (first, second) if first.scheduler is not None else (second, first)

        holder.stop()  # a clean stop releases the lease: the standby takes over
        assert _wait_for(lambda: standby.scheduler is not None)
        assert holder.scheduler is None
    finally:
        for s in (first, second):
            s.stop()
        for thread in threads:
            thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SchedulerLease)) == 0


# -- commands ---------------------------------------------------------------------------------

def test_flask_jobs_list_names_every_job(app):
    result = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    names = [line.split("\t")[0] for line in result.output.splitlines()]
    assert {"expire-points", "void-stale-redemptions", "purge-idempotency-records"} <= set(names)


def test_flask_jobs_run_once_expires_due_points(app):
    with app.app_context():
        user = User(display_name="住户")
        db.session.add(user)
        db.session.flush()
        past = scheduler.utcnow() - timedelta(days=1)
        ledger.grant(user.id, 10, "test", "due-1", "x", expires_at=past)
        ledger.grant(user.id, 20, "test", "due-2", "x", expires_at=past)
        ledger.grant(user.id, 30, "test", "later", "x", expires_at=None)
        db.session.commit()
        user_id = user.id
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run-once", "expire-points"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2"
    with app.app_context():
        assert services.balance(user_id).available == 30
    assert runner.invoke(args=["jobs", "run-once", "expire-points"]).output.strip() == "0"
    unknown = runner.invoke(args=["jobs", "run-once", "no-such-job"])
    assert unknown.exit_code != 0 and "no job named" in unknown.output


def _tamper(owner_db, statement: str) -> None:
    """Change ledger rows behind the triggers' back, as someone with the owner's access could."""
    with owner_db.begin() as conn:
        if ON_POSTGRES:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS points_postings_no_update")
        conn.exec_driver_sql(statement)


@pytest.mark.parametrize("tampering, problem", [
    ("UPDATE points_postings SET amount = amount + 5 WHERE id = {posting}", "postings sum to 5, not 0"),
    ("UPDATE points_lots SET remaining = remaining - 1", "its lots hold"),
    ("UPDATE points_accounts SET balance = balance + 1 WHERE user_id IS NOT NULL", "but postings sum to"),
])
def test_flask_points_verify_passes_on_a_sound_ledger_and_fails_on_tampering(app, tampering, problem, owner_db):
    with app.app_context():
        user = User(display_name="住户")
        db.session.add(user)
        db.session.flush()
        ledger.grant(user.id, 100, "test", "g", "x")
        ledger.spend(user.id, 30, "test", "s", "x")
        ledger.release(ledger.hold(user.id, 20, "h", "x"), "退回")
        db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["points", "verify"])
    assert result.exit_code == 0, result.output
    assert "points ledger: 0 problems" in result.output

    with app.app_context():
        posting = db.session.scalar(sa.select(sa.func.min(Posting.id)))
        _tamper(owner_db, tampering.format(posting=posting))
    result = runner.invoke(args=["points", "verify"])
    assert result.exit_code == 1, result.output
    assert problem in result.output
