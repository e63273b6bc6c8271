"""Signing up and cancelling: residents of an audience estate, before the deadline; seats while
they last, then a waitlist that moves up by itself when a seat frees; an estate's list and mine."""
from datetime import datetime, timedelta, timezone

from tests.activation.activities.conftest import error, later


def test_a_resident_signs_up_once_and_sees_their_code(client, make_estate, make_activity, resident, sign_up):
    estate = make_estate()
    activity = make_activity([estate], capacity=3)
    person = resident(estate)
    r = sign_up(activity["id"], person, contact_name="王女士", contact_phone="138 0013 8000")
    assert r.status_code == 200, r.json
    signup = r.json["signup"]
    assert r.json["created"] is True and signup["status"] == "confirmed" and len(signup["code"]) == 8
    assert signup["contact_phone"] == "13800138000" and signup["estate_id"] == estate
    assert r.json["activity"]["seats_left"] == 2 and r.json["activity"]["my"]["code"] == signup["code"]
    again = sign_up(activity["id"], person)
    assert again.status_code == 200 and again.json["created"] is False and again.json["signup"]["id"] == signup["id"]
    mine = client.get(f"/api/v1/activities/{activity['id']}/signups/me", headers=person.headers).json
    assert mine["code"] == signup["code"] and mine["status_label"] == "已报名"
    detail = client.get(f"/api/v1/activities/{activity['id']}", headers=person.headers).json
    assert detail["confirmed"] == 1 and detail["my"]["status"] == "confirmed" and "checkin_token" not in detail


def test_a_retried_sign_up_with_its_key_replays(client, make_estate, make_activity, resident, counters):
    estate = make_estate()
    activity = make_activity([estate])
    person = resident(estate)
    headers = {**person.headers, "Idempotency-Key": "signup-1"}
    url = f"/api/v1/activities/{activity['id']}/signups"
    first = client.post(url, headers=headers, json={})
    second = client.post(url, headers=headers, json={})
    assert second.headers.get("Idempotent-Replayed") == "true" and second.json == first.json
    assert client.post(url, headers=headers, json={"contact_name": "别的"}).status_code == 409
    assert counters(activity["id"]) == (1, 0, 0)


def test_only_residents_of_the_audience_before_the_deadline(client, make_estate, make_activity, resident, sign_up,
                                                            move, login):
    here, there = make_estate(), make_estate()
    activity = make_activity([here])
    r = sign_up(activity["id"], resident(there))
    assert r.status_code == 403 and error(r) == "not_in_audience"
    r = sign_up(activity["id"], login())
    assert r.status_code == 403 and error(r) == "not_in_audience"
    r = sign_up(activity["id"], resident(there, here), estate_id=there)
    assert r.status_code == 403  # that estate is not in the audience
    r = sign_up(activity["id"], resident(here), contact_phone="12345")
    assert r.status_code == 422 and "contact_phone" in r.json["error"]["details"]["fields"]
    move(activity["id"], signup_deadline=datetime.now(timezone.utc) - timedelta(minutes=1))
    r = sign_up(activity["id"], resident(here))
    assert r.status_code == 409 and error(r) == "signup_closed"
    assert client.post("/api/v1/activities/999999/signups", headers=resident(here).headers, json={}).status_code == 404


def test_a_full_activity_waitlists_and_a_cancelled_seat_goes_to_the_earliest(app, client, admin, make_estate,
                                                                            make_activity, resident, sign_up,
                                                                            counters):
    from core.notifications.models import Notification
    from tests.concurrency import count

    estate = make_estate()
    activity = make_activity([estate], capacity=2)
    aid = activity["id"]
    people = [resident(estate) for _ in range(4)]
    statuses = [sign_up(aid, p).json["signup"] for p in people]
    assert [s["status"] for s in statuses] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [s["queue_position"] for s in statuses] == [None, None, 1, 2]
    listed = client.get(f"/api/v1/activities/{aid}/attendees", headers=admin.headers).json["items"]
    assert [(a["status"], a["queue_position"]) for a in listed] == [
        ("confirmed", None), ("confirmed", None), ("waitlisted", 1), ("waitlisted", 2)]
    page = client.get(f"/api/v1/activities/{aid}/attendees?status=waitlisted&limit=1", headers=admin.headers).json
    rest = client.get(f"/api/v1/activities/{aid}/attendees?status=waitlisted&cursor={page['next_cursor']}",
                      headers=admin.headers).json
    assert [a["queue_position"] for a in page["items"] + rest["items"]] == [1, 2]
    assert statuses[2]["code"] is None  # no seat, no attendee code
    assert counters(aid) == (2, 2, 0)
    r = client.delete(f"/api/v1/activities/{aid}/signups/me", headers=people[0].headers)
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert counters(aid) == (2, 1, 0)
    promoted = client.get(f"/api/v1/activities/{aid}/signups/me", headers=people[2].headers).json
    assert promoted["status"] == "confirmed" and promoted["promoted_at"] and promoted["code"]
    notices = client.get("/api/v1/me/notifications", headers=people[2].headers).json["items"]
    assert [n["title"] for n in notices] == ["候补成功：亲子手工课"] and notices[0]["page"] == f"pages/activity/index?id={aid}"
    assert count(app, Notification, kind="activity") == 1
    last = client.get(f"/api/v1/activities/{aid}/signups/me", headers=people[3].headers).json
    assert last["status"] == "waitlisted" and last["queue_position"] == 1
    # Cancelling a waitlisted place frees nobody's seat; cancelling again changes nothing.
    assert client.delete(f"/api/v1/activities/{aid}/signups/me", headers=people[3].headers).json["status"] == "cancelled"
    assert client.delete(f"/api/v1/activities/{aid}/signups/me", headers=people[3].headers).status_code == 200
    assert counters(aid) == (2, 0, 0)
    # Signing up again after cancelling: to the end of the queue (full now, so waitlisted).
    again = sign_up(aid, people[0]).json
    assert again["created"] is True and again["signup"]["status"] == "waitlisted"
    assert again["signup"]["id"] == statuses[0]["id"] and again["signup"]["code"] is None
    r = client.delete(f"/api/v1/activities/{aid}/signups/me", headers=resident(estate).headers)
    assert r.status_code == 404 and error(r) == "signup_not_found"


def test_raising_the_capacity_promotes_and_lowering_below_confirmed_is_refused(client, admin, make_estate,
                                                                                make_activity, resident, sign_up,
                                                                                counters):
    estate = make_estate()
    activity = make_activity([estate], capacity=1)
    aid = activity["id"]
    people = [resident(estate) for _ in range(4)]
    for p in people:
        sign_up(aid, p)
    r = client.patch(f"/api/v1/activities/{aid}", headers=admin.headers, json={"capacity": 3})
    assert r.status_code == 200 and (r.json["confirmed"], r.json["waitlisted"]) == (3, 1)
    assert client.get(f"/api/v1/activities/{aid}/signups/me", headers=people[2].headers).json["status"] == "confirmed"
    r = client.patch(f"/api/v1/activities/{aid}", headers=admin.headers, json={"capacity": 2})
    assert r.status_code == 422 and "capacity" in r.json["error"]["details"]["fields"]
    assert counters(aid) == (3, 1, 0)


def test_no_cancelling_after_the_start(client, make_estate, make_activity, resident, sign_up, move):
    estate = make_estate()
    activity = make_activity([estate])
    person = resident(estate)
    sign_up(activity["id"], person)
    now = datetime.now(timezone.utc)
    move(activity["id"], starts_at=now - timedelta(minutes=5))
    r = client.delete(f"/api/v1/activities/{activity['id']}/signups/me", headers=person.headers)
    assert r.status_code == 409 and error(r) == "activity_started"


def test_a_time_change_tells_the_signed_up_and_rearms_the_reminder(app, client, admin, make_estate, make_activity,
                                                                   resident, sign_up, signups, move):
    import sqlalchemy as sa

    from activation.activities.models import ActivitySignup
    from core.db import utcnow
    from core.extensions import db

    estate = make_estate()
    activity = make_activity([estate])
    person = resident(estate)
    sign_up(activity["id"], person)
    with app.app_context():
        db.session.execute(sa.update(ActivitySignup).values(reminded_at=utcnow()))
        db.session.commit()
    r = client.patch(f"/api/v1/activities/{activity['id']}", headers=admin.headers,
                     json={"starts_at": later(days=4), "ends_at": later(days=4, hours=2)})
    assert r.status_code == 200, r.json
    assert signups(activity["id"])[0]["reminded_at"] is None
    notice = client.get("/api/v1/me/notifications", headers=person.headers).json["items"][0]
    assert notice["title"] == "活动有变：亲子手工课"
    r = client.patch(f"/api/v1/activities/{activity['id']}", headers=admin.headers, json={"description": "新介绍"})
    assert len(client.get("/api/v1/me/notifications", headers=person.headers).json["items"]) == 1


def test_an_estates_list_shows_upcoming_published_ones_soonest_first(client, make_estate, make_activity, resident,
                                                                     sign_up, move):
    estate = make_estate()
    person = resident(estate)
    late = make_activity([estate], starts_at=later(days=5), ends_at=later(days=5, hours=1))
    soon = make_activity([estate], starts_at=later(days=1), ends_at=later(days=1, hours=1))
    ended = make_activity([estate])
    now = datetime.now(timezone.utc)
    move(ended["id"], starts_at=now - timedelta(days=1), signup_deadline=now - timedelta(days=1),
         ends_at=now - timedelta(hours=1))
    sign_up(late["id"], person)
    r = client.get(f"/api/v1/estates/{estate}/activities?limit=1", headers=person.headers)
    assert [a["id"] for a in r.json["items"]] == [soon["id"]] and r.json["items"][0]["my"] is None
    r = client.get(f"/api/v1/estates/{estate}/activities?limit=1&cursor={r.json['next_cursor']}", headers=person.headers)
    assert [a["id"] for a in r.json["items"]] == [late["id"]] and r.json["next_cursor"] is None
    assert r.json["items"][0]["my"]["status"] == "confirmed" and r.json["items"][0]["seats_left"] == 9
    r = client.get(f"/api/v1/estates/{estate}/activities?cursor=bad", headers=person.headers)
    assert r.status_code == 400 and error(r) == "invalid_cursor"
    assert client.get("/api/v1/estates/999999/activities", headers=person.headers).status_code == 404
    # The ended one is still readable by id, as ended.
    assert client.get(f"/api/v1/activities/{ended['id']}", headers=person.headers).json["state"] == "ended"


def test_my_activities(client, make_estate, make_activity, resident, sign_up):
    estate = make_estate()
    person = resident(estate)
    first = make_activity([estate], starts_at=later(days=3), ends_at=later(days=3, hours=1))
    second = make_activity([estate], starts_at=later(days=1), ends_at=later(days=1, hours=1))
    dropped = make_activity([estate])
    for a in (first, second, dropped):
        sign_up(a["id"], person)
    client.delete(f"/api/v1/activities/{dropped['id']}/signups/me", headers=person.headers)
    upcoming = client.get("/api/v1/me/activities", headers=person.headers).json["items"]
    assert [a["id"] for a in upcoming] == [second["id"], first["id"]]
    assert all(a["my"]["status"] == "confirmed" for a in upcoming)
    everything = client.get("/api/v1/me/activities?tab=all&limit=2", headers=person.headers).json
    assert [a["id"] for a in everything["items"]] == [dropped["id"], second["id"]]
    assert everything["items"][0]["my"]["status"] == "cancelled"
    rest = client.get(f"/api/v1/me/activities?tab=all&cursor={everything['next_cursor']}", headers=person.headers).json
    assert [a["id"] for a in rest["items"]] == [first["id"]]
