"""The day-before reminder: confirmed sign-ups of activities starting tomorrow (Asia/Shanghai),
inside 09:00–20:00 only; the subscribe message where the resident holds quota, the inbox
otherwise (never both), once per sign-up."""
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from core.formatting import BUSINESS_TZ

TEMPLATE = "tmpl_activity_notice"


def today() -> date:
    return datetime.now(BUSINESS_TZ).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), BUSINESS_TZ)


def remind(app, now: datetime) -> dict:
    from activation.activities import services
    from core.extensions import db
    with app.app_context():
        counts = services.remind_due(now)
        db.session.commit()
        return counts


def outbox(app) -> list:
    from core.extensions import db
    from core.notifications.models import OutboxMessage
    with app.app_context():
        return [(m.user_id, m.template_id, m.data, m.page) for m in db.session.scalars(
            sa.select(OutboxMessage).order_by(OutboxMessage.id))]


def inbox(app, user_id: int) -> list:
    from core.extensions import db
    from core.notifications.models import Notification
    with app.app_context():
        return [n.title for n in db.session.scalars(sa.select(Notification).where(
            Notification.user_id == user_id, Notification.kind == "activity"))]


def test_each_confirmed_sign_up_is_reminded_once_by_one_channel(app, client, make_estate, make_activity, resident,
                                                                sign_up, signups):
    estate = make_estate()
    tomorrow = today() + timedelta(days=1)
    activity = make_activity([estate], capacity=2, title="社区义诊", place="南门广场",
                             starts_at=at(tomorrow, 15).isoformat(), ends_at=at(tomorrow, 17).isoformat())
    later_one = make_activity([estate], starts_at=at(tomorrow + timedelta(days=1), 15).isoformat(),
                              ends_at=at(tomorrow + timedelta(days=1), 17).isoformat())
    subscribed, plain, waiting = resident(estate), resident(estate), resident(estate)
    r = client.post("/api/v1/me/subscriptions", headers=subscribed.headers, json={"template_ids": [TEMPLATE]})
    assert r.status_code == 200, r.json
    for person in (subscribed, plain, waiting):
        sign_up(activity["id"], person)
        sign_up(later_one["id"], person)
    assert remind(app, at(today(), 8, 59)) == {"claimed": 0, "subscribe": 0, "inbox": 0, "outside_window": 1}
    assert remind(app, at(today(), 20, 0))["outside_window"] == 1
    counts = remind(app, at(today(), 10))
    assert counts == {"claimed": 2, "subscribe": 1, "inbox": 1}
    assert outbox(app) == [(subscribed.user_id, TEMPLATE,
                            {"thing1": "社区义诊", "time2": f"{tomorrow.isoformat()} 15:00", "thing3": "南门广场",
                             "thing4": "明天开始，请准时到场签到"}, f"pages/activity/index?id={activity['id']}")]
    assert inbox(app, subscribed.user_id) == []  # never both
    assert inbox(app, plain.user_id) == ["明天的活动：社区义诊"]
    assert inbox(app, waiting.user_id) == []  # waitlisted: no seat to remind of
    assert remind(app, at(today(), 11))["claimed"] == 0  # never twice
    reminded = {s["user_id"]: s["reminded_at"] is not None for s in signups(activity["id"])}
    assert reminded == {subscribed.user_id: True, plain.user_id: True, waiting.user_id: False}
    assert not any(s["reminded_at"] for s in signups(later_one["id"]))


def test_a_cancelled_activity_or_sign_up_is_not_reminded(app, client, admin, make_estate, make_activity, resident,
                                                         sign_up):
    estate = make_estate()
    tomorrow = today() + timedelta(days=1)
    times = {"starts_at": at(tomorrow, 9).isoformat(), "ends_at": at(tomorrow, 11).isoformat()}
    called_off, kept = make_activity([estate], **times), make_activity([estate], **times)
    person, quitter = resident(estate), resident(estate)
    sign_up(called_off["id"], person)
    sign_up(kept["id"], quitter)
    client.post(f"/api/v1/activities/{called_off['id']}/cancel", headers=admin.headers, json={"reason": "场地维修"})
    client.delete(f"/api/v1/activities/{kept['id']}/signups/me", headers=quitter.headers)
    assert remind(app, at(today(), 19, 30))["claimed"] == 0


def test_the_job_is_registered_and_runs_once_from_the_command_line(app):
    listed = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert "remind-activities\tcron" in listed.output
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", "remind-activities"])
    assert result.exit_code == 0 and "'claimed': 0" in result.output  # inside the window or not: nobody due
