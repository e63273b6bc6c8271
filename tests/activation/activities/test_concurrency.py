"""Races (PostgreSQL: SQLite serialises writers): more parallel sign-ups than seats give exactly
`capacity` confirmed; cancellations and sign-ups at once keep the counters true; scans at once
check a person in (and pay them) once; reminder runners at once remind each sign-up once."""
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from core.formatting import BUSINESS_TZ
from tests.activation.activities.conftest import later
from tests.concurrency import http_race, in_own_context, race
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


def truth(app, activity_id: int) -> dict:
    """The stored counters next to what the sign-up rows say."""
    from activation.activities.models import Activity, ActivitySignup
    from core.extensions import db
    with app.app_context():
        a = db.session.get(Activity, activity_id)
        rows = dict(db.session.execute(sa.select(ActivitySignup.status, sa.func.count()).where(
            ActivitySignup.activity_id == activity_id).group_by(ActivitySignup.status)).all())
        return {"stored": (a.confirmed, a.waitlisted), "rows": (rows.get("confirmed", 0), rows.get("waitlisted", 0))}


def test_more_parallel_sign_ups_than_seats_give_exactly_capacity(app, make_estate, make_activity, resident):
    estate = make_estate()
    activity = make_activity([estate], capacity=5)
    people = [resident(estate) for _ in range(16)]
    url = f"/api/v1/activities/{activity['id']}/signups"
    responses = http_race(app, [lambda c, p=p: c.post(url, headers=p.headers, json={}) for p in people])
    assert all(r.status_code == 200 for r in responses), [r.json for r in responses]
    statuses = [r.json["signup"]["status"] for r in responses]
    assert statuses.count("confirmed") == 5 and statuses.count("waitlisted") == 11
    assert truth(app, activity["id"]) == {"stored": (5, 11), "rows": (5, 11)}
    positions = sorted(r.json["signup"]["queue_position"] for r in responses if r.json["signup"]["queue_position"])
    assert positions == list(range(1, 12))


def test_the_same_person_tapping_at_once_signs_up_once(app, make_estate, make_activity, resident):
    estate = make_estate()
    activity = make_activity([estate], capacity=3)
    person = resident(estate)
    url = f"/api/v1/activities/{activity['id']}/signups"
    responses = http_race(app, [lambda c: c.post(url, headers=person.headers, json={}) for _ in range(6)])
    assert [r.status_code for r in responses] == [200] * 6
    assert sorted(r.json["created"] for r in responses) == [False] * 5 + [True]
    assert len({r.json["signup"]["id"] for r in responses}) == 1
    assert truth(app, activity["id"]) == {"stored": (1, 0), "rows": (1, 0)}


def test_cancellations_and_sign_ups_at_once_keep_every_seat_taken_once(app, client, make_estate, make_activity,
                                                                       resident):
    estate = make_estate()
    activity = make_activity([estate], capacity=4)
    aid = activity["id"]
    seated = [resident(estate) for _ in range(4)]
    queued = [resident(estate) for _ in range(3)]
    for person in seated + queued:
        assert client.post(f"/api/v1/activities/{aid}/signups", headers=person.headers, json={}).status_code == 200
    newcomers = [resident(estate) for _ in range(4)]
    calls = [lambda c, p=p: c.delete(f"/api/v1/activities/{aid}/signups/me", headers=p.headers) for p in seated[:3]]
    calls += [lambda c, p=p: c.post(f"/api/v1/activities/{aid}/signups", headers=p.headers, json={}) for p in newcomers]
    assert all(r.status_code == 200 for r in http_race(app, calls))
    assert truth(app, aid) == {"stored": (4, 4), "rows": (4, 4)}
    # The three who queued first got the freed seats (they were ahead of any newcomer).
    for person in queued:
        mine = client.get(f"/api/v1/activities/{aid}/signups/me", headers=person.headers).json
        assert mine["status"] == "confirmed" and mine["promoted_at"]


def test_scans_at_once_check_in_and_pay_once(app, client, admin, make_estate, make_activity, resident):
    from core.extensions import db
    from points.models import LedgerTransaction

    estate = make_estate()
    activity = make_activity([estate], points_reward=15, starts_at=later(minutes=20), ends_at=later(hours=2))
    person = resident(estate)
    url = f"/api/v1/activities/{activity['id']}/check-ins"
    code = client.post(f"/api/v1/activities/{activity['id']}/signups", headers=person.headers,
                       json={}).json["signup"]["code"]
    calls = [lambda c: c.post(url, headers=admin.headers, json={"code": code}) for _ in range(3)]
    calls += [lambda c: c.post(url, headers=person.headers, json={"token": activity["checkin_token"]})
              for _ in range(3)]
    responses = http_race(app, calls)
    assert [r.status_code for r in responses] == [200] * 6
    assert sorted(r.json["first"] for r in responses) == [False] * 5 + [True]
    assert {r.json["reward"]["points"] for r in responses} == {15}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.idempotency_key == f"activity:{activity['id']}:{person.user_id}")) == 1
    assert client.get("/api/v1/me/points", headers=person.headers).json["balance"] == 15


def test_reminder_runners_at_once_remind_each_sign_up_once(app, client, make_estate, make_activity, resident):
    from activation.activities import services
    from core.notifications.models import Notification
    from tests.concurrency import count

    estate = make_estate()
    tomorrow: date = datetime.now(BUSINESS_TZ).date() + timedelta(days=1)
    activity = make_activity([estate], capacity=30,
                             starts_at=datetime.combine(tomorrow, time(10), BUSINESS_TZ).isoformat(),
                             ends_at=datetime.combine(tomorrow, time(12), BUSINESS_TZ).isoformat())
    people = [resident(estate) for _ in range(24)]
    for person in people:
        assert client.post(f"/api/v1/activities/{activity['id']}/signups", headers=person.headers,
                           json={}).status_code == 200
    noon = datetime.combine(tomorrow - timedelta(days=1), time(12), BUSINESS_TZ)

    def runner():
        claimed = 0
        while True:
            kind, counts = in_own_context(app, lambda: services.remind_due(noon, limit=5))()
            assert kind == "ok"
            if not counts["claimed"]:
                return claimed
            claimed += counts["claimed"]

    assert sum(race([runner for _ in range(3)])) == 24
    assert count(app, Notification, kind="activity") == 24
