"""The daily level evaluation: the window's edges, promotion, demotion after the grace period,
recovery, overrides against the job, batches, re-runs, and permissions following the level."""
import threading
from datetime import date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.formatting import BUSINESS_TZ
from tests.conftest import ON_POSTGRES

TODAY = date(2026, 6, 15)


def at(day: date, hour: int = 10) -> datetime:
    """`hour` o'clock of that Shanghai day, as aware UTC."""
    return datetime.combine(day, time(hour), BUSINESS_TZ).astimezone(timezone.utc)


def level_ids(app) -> dict[str, int]:
    from ambassador.models import Level
    from core.extensions import db
    with app.app_context():
        return dict(db.session.execute(sa.select(Level.code, Level.id)).all())


def credit(app, user_id: int, points: int, day: date, hour: int = 10) -> None:
    from ambassador.levels import services as contributions
    from core.extensions import db
    if not points:
        return
    with app.app_context():
        assert contributions.credit(user_id, points, at=at(day, hour))
        db.session.commit()


def evaluate(app, day: date, hour: int = 2, batch_size: int = 1000):
    """Run the evaluation as the job does (commit per batch) at `hour` of a Shanghai day."""
    from ambassador.levels import services as levels
    from core.extensions import db
    with app.app_context():
        result = levels.evaluate_all(now=at(day, hour), batch_size=batch_size, after_batch=db.session.commit)
        db.session.commit()
        return result


def state(app, user_id: int) -> dict:
    from ambassador.models import Ambassador, Level
    from core.extensions import db
    with app.app_context():
        amb = db.session.get(Ambassador, user_id)
        return {"level": db.session.get(Level, amb.level_id).code, "window": amb.window_contribution,
                "below_since": amb.below_since, "evaluated_at": amb.evaluated_at}


def changes(app, user_id: int) -> list[tuple]:
    from ambassador.models import Level, LevelChange
    from core.extensions import db
    with app.app_context():
        codes = dict(db.session.execute(sa.select(Level.id, Level.code)).all())
        return [(c.kind, codes.get(c.from_level_id), codes.get(c.to_level_id), c.contribution, c.reason, c.actor_id)
                for c in db.session.scalars(sa.select(LevelChange).where(
                    LevelChange.user_id == user_id, LevelChange.kind != "join").order_by(LevelChange.id))]


def level_scopes(app, user_id: int) -> set[str]:
    from ambassador.levels.models import Standing
    from core.extensions import db
    with app.app_context():
        return set(db.session.scalars(sa.select(Standing.scope).where(
            Standing.user_id == user_id, Standing.scope.like("level:%"))))


# -- the window ---------------------------------------------------------------------------------

def test_window_is_today_and_the_days_before_it(app):
    from ambassador.levels import services as levels
    with app.app_context():
        assert app.config["AMBASSADOR_WINDOW_DAYS"] == 90
        first, last = levels.window_bounds(TODAY)
        assert (first, last) == (TODAY - timedelta(days=89), TODAY)
        assert (last - first).days + 1 == 90


def test_a_contribution_on_the_first_day_of_the_window_counts_and_the_day_before_does_not(app, make_ambassador):
    inside, outside, today_only = make_ambassador(level=1), make_ambassador(level=1), make_ambassador(level=1)
    first = TODAY - timedelta(days=89)
    # 00:00 of the first day in Shanghai is still the previous day in UTC: the Shanghai day decides
    credit(app, inside.user_id, 500, first, hour=0)
    credit(app, outside.user_id, 500, first - timedelta(days=1), hour=23)
    credit(app, today_only.user_id, 499, TODAY, hour=1)
    result = evaluate(app, TODAY)
    assert state(app, inside.user_id)["level"] == "silver" and state(app, inside.user_id)["window"] == 500
    assert state(app, outside.user_id)["level"] == "trainee" and state(app, outside.user_id)["window"] == 0
    assert state(app, today_only.user_id) | {"evaluated_at": None} == {
        "level": "trainee", "window": 499, "below_since": None, "evaluated_at": None}
    assert state(app, today_only.user_id)["evaluated_at"] == at(TODAY, 2)
    assert (result.promoted, result.demoted, result.evaluated) == (1, 0, 3)
    # the next day the first day has left the window: the promoted one is now below silver
    evaluate(app, TODAY + timedelta(days=1))
    assert state(app, inside.user_id)["window"] == 0
    assert state(app, inside.user_id)["below_since"] == at(TODAY + timedelta(days=1), 2)
    assert state(app, inside.user_id)["level"] == "silver"


def test_promotion_is_immediate_skips_levels_and_is_recorded_with_its_reason(app, make_ambassador):
    ids = level_ids(app)
    amb = make_ambassador(level=1)
    credit(app, amb.user_id, 620, TODAY - timedelta(days=3))
    evaluate(app, TODAY)
    assert changes(app, amb.user_id) == [
        ("promote", "trainee", "silver", 620, "近90天贡献 620 分，达到「银牌代言人」门槛 500 分", None)]
    assert level_scopes(app, amb.user_id) == {f"level:{ids['silver']}"}
    credit(app, amb.user_id, 1500, TODAY)
    evaluate(app, TODAY + timedelta(days=1))
    assert changes(app, amb.user_id)[-1][:4] == ("promote", "silver", "gold", 2120)
    assert state(app, amb.user_id)["level"] == "gold"
    # straight from the entry level to the top in one evaluation
    other = make_ambassador(level=1)
    credit(app, other.user_id, 2000, TODAY)
    evaluate(app, TODAY + timedelta(days=1))
    assert changes(app, other.user_id) == [
        ("promote", "trainee", "gold", 2000, "近90天贡献 2000 分，达到「金牌代言人」门槛 2000 分", None)]


# -- demotion and its grace period --------------------------------------------------------------

def test_demotion_happens_exactly_when_the_grace_period_ends(app, make_ambassador):
    from ambassador.levels.models import Standing
    from core.extensions import db

    ids = level_ids(app)
    assert app.config["AMBASSADOR_DEMOTION_GRACE_DAYS"] == 14
    amb = make_ambassador(level=3)
    credit(app, amb.user_id, 600, TODAY)
    evaluate(app, TODAY)  # first evaluation below gold: the grace period starts
    assert state(app, amb.user_id)["below_since"] == at(TODAY, 2)
    for days in range(1, 14):  # a later hour on the 13th day is still a day early
        evaluate(app, TODAY + timedelta(days=days), hour=23 if days == 13 else 2)
        assert state(app, amb.user_id)["level"] == "gold", days
    assert changes(app, amb.user_id) == []
    assert state(app, amb.user_id)["below_since"] == at(TODAY, 2)  # not moved by later evaluations
    # an earlier hour on day 14 is on time: days are Shanghai days, not 24-hour periods
    result = evaluate(app, TODAY + timedelta(days=14), hour=0)
    assert result.demoted == 1
    assert state(app, amb.user_id) | {"evaluated_at": None} == {
        "level": "silver", "window": 600, "below_since": None, "evaluated_at": None}
    assert changes(app, amb.user_id) == [("demote", "gold", "silver", 600,
                                          "近90天贡献 600 分，低于「金牌代言人」门槛 2000 分已满 14 天，调整为「银牌代言人」", None)]
    assert level_scopes(app, amb.user_id) == {f"level:{ids['silver']}"}
    with app.app_context():  # the standings moved with all their periods and points
        rows = {(s.period, s.points) for s in db.session.scalars(sa.select(Standing).where(
            Standing.user_id == amb.user_id, Standing.scope == f"level:{ids['silver']}"))}
        assert rows == {("all", 600), ("2026-06", 600), ("2026Q2", 600)}


def test_demotion_goes_straight_to_the_level_the_window_reaches(app, make_ambassador):
    amb = make_ambassador(level=3)
    evaluate(app, TODAY)
    evaluate(app, TODAY + timedelta(days=14))
    assert changes(app, amb.user_id)[0][:4] == ("demote", "gold", "trainee", 0)


def test_recovery_during_the_grace_period_clears_below_since_and_restarts_the_clock(app, make_ambassador):
    amb = make_ambassador(level=2)
    credit(app, amb.user_id, 300, TODAY)
    evaluate(app, TODAY)
    assert state(app, amb.user_id)["below_since"] == at(TODAY, 2)
    credit(app, amb.user_id, 200, TODAY + timedelta(days=3))
    result = evaluate(app, TODAY + timedelta(days=3))
    assert state(app, amb.user_id)["below_since"] is None and result.recovered == 1
    # below again on day 10 (a reversal): a new grace period from day 10, not from day 0
    credit(app, amb.user_id, -50, TODAY + timedelta(days=10))
    evaluate(app, TODAY + timedelta(days=10))
    assert state(app, amb.user_id)["below_since"] == at(TODAY + timedelta(days=10), 2)
    evaluate(app, TODAY + timedelta(days=14))
    evaluate(app, TODAY + timedelta(days=23))
    assert state(app, amb.user_id)["level"] == "silver" and changes(app, amb.user_id) == []
    evaluate(app, TODAY + timedelta(days=24))
    assert state(app, amb.user_id)["level"] == "trainee"
    assert changes(app, amb.user_id)[0][:4] == ("demote", "silver", "trainee", 450)


def test_the_entry_level_is_never_below_anything(app, make_ambassador):
    amb = make_ambassador(level=1)
    evaluate(app, TODAY)
    assert state(app, amb.user_id)["below_since"] is None and changes(app, amb.user_id) == []


# -- who is evaluated ---------------------------------------------------------------------------

def test_ambassadors_who_are_not_active_are_skipped(app, make_ambassador):
    from ambassador.models import Ambassador
    from core.extensions import db

    suspended, removed = make_ambassador(level=1), make_ambassador(level=3)
    credit(app, suspended.user_id, 900, TODAY)
    with app.app_context():
        db.session.get(Ambassador, suspended.user_id).status = "suspended"
        db.session.get(Ambassador, removed.user_id).status = "removed"
        db.session.commit()
    result = evaluate(app, TODAY)
    evaluate(app, TODAY + timedelta(days=30))
    assert result.evaluated == 0
    for amb, code in ((suspended, "trainee"), (removed, "gold")):
        assert state(app, amb.user_id)["level"] == code and state(app, amb.user_id)["evaluated_at"] is None


def test_an_override_pins_the_level_against_the_job_until_the_pin_ends(app, client, admin, make_ambassador):
    ids = level_ids(app)
    amb = make_ambassador(level=1)
    credit(app, amb.user_id, 2500, datetime.now(BUSINESS_TZ).date(), hour=0)
    response = client.post(f"/api/v1/admin/ambassadors/{amb.user_id}/level", headers=admin.headers,
                           json={"level_id": ids["silver"], "reason": "先观察", "pin_days": 3})
    assert response.status_code == 200, response.json
    pinned_until = datetime.fromisoformat(response.json["level_pinned_until"])
    result = evaluate(app, TODAY)  # the real now is long after TODAY: the pin holds there
    assert result.evaluated == 0 and state(app, amb.user_id)["level"] == "silver"
    with app.app_context():
        from ambassador.levels import services as levels
        from core.extensions import db
        held = levels.evaluate_all(now=pinned_until - timedelta(seconds=1), after_batch=db.session.commit)
        assert held.evaluated == 0
        ended = levels.evaluate_all(now=pinned_until, after_batch=db.session.commit)
        db.session.commit()
        assert (ended.evaluated, ended.promoted) == (1, 1)
    assert state(app, amb.user_id)["level"] == "gold"
    assert [c[0] for c in changes(app, amb.user_id)] == ["override", "promote"]


def test_an_override_downwards_holds_and_unpinning_hands_the_level_back_to_the_job(app, client, admin,
                                                                                  make_ambassador):
    from ambassador.levels import services as levels
    from core.extensions import db

    ids = level_ids(app)
    amb = make_ambassador(level=3)
    credit(app, amb.user_id, 100, TODAY)
    with app.app_context():
        evaluated = levels.evaluate_all(after_batch=db.session.commit)
        assert evaluated.newly_below == 1
    client.post(f"/api/v1/admin/ambassadors/{amb.user_id}/level", headers=admin.headers,
                json={"level_id": ids["gold"], "reason": "保留金牌", "pin_days": 1})
    assert state(app, amb.user_id)["below_since"] is None  # the override starts the clock afresh
    client.delete(f"/api/v1/admin/ambassadors/{amb.user_id}/level-pin", headers=admin.headers)
    with app.app_context():
        assert levels.evaluate_all(after_batch=db.session.commit).evaluated == 1
    assert state(app, amb.user_id)["level"] == "gold" and state(app, amb.user_id)["below_since"] is not None


# -- batches, re-runs and the job ---------------------------------------------------------------

def test_batches_cover_everyone_once_and_a_re_run_the_same_day_changes_nothing(app, make_ambassador):
    from ambassador.levels.models import Standing
    from ambassador.models import Ambassador, LevelChange
    from core.extensions import db

    ambassadors = [make_ambassador(level=1 + i % 3) for i in range(7)]
    for i, amb in enumerate(ambassadors):
        credit(app, amb.user_id, [0, 700, 2500][i % 3] + [0, 2500, 0][i % 3] * (i > 3), TODAY)
    first = evaluate(app, TODAY, batch_size=2)
    assert (first.batches, first.evaluated, first.ambassadors_read) == (4, 7, 7)
    assert first.last_user_id == max(a.user_id for a in ambassadors)

    def snapshot():
        with app.app_context():
            return (db.session.scalar(sa.select(sa.func.count()).select_from(LevelChange)),
                    sorted(db.session.execute(sa.select(Ambassador.user_id, Ambassador.level_id,
                                                        Ambassador.below_since, Ambassador.window_contribution)).all()),
                    sorted(db.session.execute(sa.select(Standing.scope, Standing.period, Standing.user_id,
                                                        Standing.points)).all()))
    before = snapshot()
    again = evaluate(app, TODAY, hour=9, batch_size=3)
    assert (again.promoted, again.demoted, again.newly_below, again.evaluated) == (0, 0, 0, 7)
    assert snapshot() == before


def test_the_job_is_registered_and_runs_with_flask_jobs_run_once(app, make_ambassador):
    from ambassador.levels import services as contributions
    from core import scheduler
    from core.extensions import db

    job = next(j for j in scheduler.all_jobs() if j.name == "evaluate-ambassador-levels")
    assert (job.trigger, job.trigger_args) == ("cron", {"hour": 2, "minute": 30})  # Asia/Shanghai scheduler
    amb = make_ambassador(level=1)
    with app.app_context():
        contributions.credit(amb.user_id, 800)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", "evaluate-ambassador-levels"])
    assert result.exit_code == 0, result.output
    assert "'promoted': 1" in result.output
    assert state(app, amb.user_id)["level"] == "silver"


# -- permissions follow the level ---------------------------------------------------------------

def test_a_demotion_takes_the_levels_permissions_away(app, make_ambassador):
    from ambassador import access
    from core.errors import Forbidden

    amb = make_ambassador(level=3)
    credit(app, amb.user_id, 600, TODAY)
    with app.app_context():
        assert access.has_permission(amb.user_id, "lead_activities")
        access.require_permission(amb.user_id, "lead_activities")
    evaluate(app, TODAY)
    evaluate(app, TODAY + timedelta(days=14))
    with app.app_context():
        assert not access.has_permission(amb.user_id, "lead_activities")
        assert access.has_permission(amb.user_id, "announce")
        with pytest.raises(Forbidden) as refused:
            access.require_permission(amb.user_id, "lead_activities")
        assert refused.value.code == "permission_denied" and refused.value.details["level"] == "silver"


def test_editing_a_levels_permissions_applies_to_its_holders_at_once(app, client, admin, make_ambassador):
    from ambassador import access

    amb = make_ambassador(level=1)
    with app.app_context():
        assert not access.has_permission(amb.user_id, "announce")
    trainee = level_ids(app)["trainee"]
    response = client.patch(f"/api/v1/admin/ambassador/levels/{trainee}", headers=admin.headers,
                            json={"permissions": ["recruit", "announce"]})
    assert response.status_code == 200
    with app.app_context():
        assert access.has_permission(amb.user_id, "announce")


# -- concurrency (PostgreSQL) -------------------------------------------------------------------

@pytest.mark.skipif(not ON_POSTGRES, reason="row locks: PostgreSQL only")
def test_an_override_committed_while_the_job_runs_is_never_undone_by_it(app, make_ambassador, make_admin):
    """The job locks its batch: an override waits for the batch, or the batch waits and sees the pin."""
    from ambassador.levels import services as levels
    from ambassador.models import Ambassador
    from core.accounts.models import User
    from core.extensions import db

    ids = level_ids(app)
    amb = make_ambassador(level=1)
    credit(app, amb.user_id, 2500, TODAY)
    admin = make_admin()
    override_locked, job_done = threading.Event(), threading.Event()
    outcome = {}

    def override():
        with app.app_context():
            levels.override_level(amb.user_id, ids["trainee"], "保持见习", db.session.get(User, admin.user_id))
            override_locked.set()  # the row is locked by the override's transaction, not yet committed
            job_done.wait(1.0)  # the job must not finish meanwhile
            outcome["job_finished_first"] = job_done.is_set()
            db.session.commit()
            db.session.remove()

    def job():
        override_locked.wait(5)
        with app.app_context():
            outcome["job"] = levels.evaluate_all(after_batch=db.session.commit)
            db.session.commit()
            db.session.remove()
        job_done.set()

    threads = [threading.Thread(target=override), threading.Thread(target=job)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert outcome["job_finished_first"] is False  # the job waited for the override's lock
    assert outcome["job"].evaluated == 0  # and then saw the pin
    with app.app_context():
        assert db.session.get(Ambassador, amb.user_id).level_id == ids["trainee"]
    assert [c[0] for c in changes(app, amb.user_id)] == ["override"]


def test_a_level_change_merges_into_rows_already_in_the_new_levels_board(app, make_ambassador):
    """Rows are re-labelled in place; a (stray) row already in the new scope is added to, not duplicated."""
    from ambassador.levels.models import Standing
    from core.extensions import db

    ids = level_ids(app)
    amb, other = make_ambassador(level=1), make_ambassador(level=1)
    credit(app, amb.user_id, 600, TODAY)
    credit(app, other.user_id, 700, TODAY)
    with app.app_context():
        db.session.add(Standing(scope=f"level:{ids['silver']}", period="all", user_id=amb.user_id, points=5))
        db.session.commit()
    evaluate(app, TODAY)
    with app.app_context():
        rows = {(s.user_id, s.scope, s.period): s.points for s in db.session.scalars(
            sa.select(Standing).where(Standing.scope.like("level:%")))}
    silver = f"level:{ids['silver']}"
    assert rows == {(amb.user_id, silver, "all"): 605, (amb.user_id, silver, "2026-06"): 600,
                    (amb.user_id, silver, "2026Q2"): 600, (other.user_id, silver, "all"): 700,
                    (other.user_id, silver, "2026-06"): 700, (other.user_id, silver, "2026Q2"): 700}
