"""Check-in: the organiser enters or scans the attendee's code, or the attendee scans the
activity's code; confirmed sign-ups only, inside the window, once per person; the first check-in
pays the points and the coupon, once."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from tests.activation.activities.conftest import error, later


def soon(**changes) -> dict:
    """Starts in 30 minutes: the check-in window (from 1 h before) is open."""
    return {"starts_at": later(minutes=30), "ends_at": later(hours=2), **changes}


def coupon_template(app, admin, **changes) -> int:
    from activation.coupons import services as coupons
    from core.accounts import services as accounts
    from core.extensions import db
    with app.app_context():
        template = coupons.create_template({"name": "活动参与券", "kind": "amount", "amount_fen": 1000, "valid_days": 30,
                                            **changes}, accounts.get_user(admin.user_id))
        db.session.commit()
        return template.id


def ledger_rows(app, key: str) -> int:
    from core.extensions import db
    from points.models import LedgerTransaction
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.idempotency_key == key))


def coupons_of(app, user_id: int) -> list:
    from activation.coupons.models import Coupon
    from core.extensions import db
    with app.app_context():
        return [(c.source, c.issue_key) for c in db.session.scalars(sa.select(Coupon).where(Coupon.user_id == user_id))]


def test_the_organiser_scans_the_attendee_code_once_and_the_reward_is_paid_once(
        app, client, admin, make_estate, make_activity, resident, sign_up, counters):
    estate = make_estate()
    template = coupon_template(app, admin)
    activity = make_activity([estate], points_reward=30, coupon_template_id=template, **soon())
    person = resident(estate)
    code = sign_up(activity["id"], person).json["signup"]["code"]
    url = f"/api/v1/activities/{activity['id']}/check-ins"
    r = client.post(url, headers=admin.headers, json={"code": code.lower()[:4] + "-" + code[4:]})  # as typed
    assert r.status_code == 200, r.json
    assert r.json["first"] is True and r.json["attendee"]["user_id"] == person.user_id
    assert r.json["attendee"]["checked_in_at"] and r.json["attendee"]["code"] is None
    assert r.json["reward"]["points"] == 30 and r.json["reward"]["coupon"]["name"] == "活动参与券"
    again = client.post(url, headers=admin.headers, json={"code": code})
    assert again.status_code == 200 and again.json["first"] is False
    assert again.json["attendee"]["checked_in_at"] == r.json["attendee"]["checked_in_at"]
    assert again.json["reward"] == r.json["reward"]
    key = f"activity:{activity['id']}:{person.user_id}"
    assert ledger_rows(app, key) == 1 and coupons_of(app, person.user_id) == [("activity", key)]
    assert client.get("/api/v1/me/points", headers=person.headers).json["balance"] == 30
    assert counters(activity["id"]) == (1, 0, 1)
    # Rewards are fixed once someone took part.
    r = client.patch(f"/api/v1/activities/{activity['id']}", headers=admin.headers, json={"points_reward": 99})
    assert r.status_code == 409 and error(r) == "rewards_locked"


def test_paying_again_pays_nothing_more(app, admin, make_estate, make_activity, resident, sign_up):
    from activation.activities import services
    from activation.activities.models import Activity, ActivitySignup
    from core.extensions import db

    estate = make_estate()
    activity = make_activity([estate], points_reward=20, coupon_template_id=coupon_template(app, admin), **soon())
    person = resident(estate)
    sign_up(activity["id"], person)
    with app.app_context():
        a = db.session.get(Activity, activity["id"])
        s = db.session.scalars(sa.select(ActivitySignup)).one()
        first = services.pay_reward(a, s)
        second = services.pay_reward(a, s)
        db.session.commit()
    assert first == second and first["points"] == 20
    assert ledger_rows(app, f"activity:{activity['id']}:{person.user_id}") == 1
    assert len(coupons_of(app, person.user_id)) == 1


def test_the_attendee_scans_the_activity_code(client, admin, make_estate, make_activity, resident, sign_up):
    estate = make_estate()
    activity = make_activity([estate], points_reward=5, **soon())
    person = resident(estate)
    sign_up(activity["id"], person)
    url = f"/api/v1/activities/{activity['id']}/check-ins"
    r = client.post(url, headers=person.headers, json={"token": "not-the-token"})
    assert r.status_code == 422 and "token" in r.json["error"]["details"]["fields"]
    r = client.post(url, headers=person.headers, json={"token": activity["checkin_token"]})
    assert r.status_code == 200 and r.json["first"] is True and r.json["reward"]["points"] == 5
    assert client.post(url, headers=person.headers, json={"token": activity["checkin_token"]}).json["first"] is False
    stranger = resident(estate)
    r = client.post(url, headers=stranger.headers, json={"token": activity["checkin_token"]})
    assert r.status_code == 409 and error(r) == "not_signed_up"
    r = client.post(url, headers=person.headers, json={"token": activity["checkin_token"], "code": "X"})
    assert r.status_code == 422
    r = client.post(url, headers=person.headers, json={})
    assert r.status_code == 422
    mine = client.get(f"/api/v1/activities/{activity['id']}/signups/me", headers=person.headers).json
    assert mine["checked_in_at"] and mine["rewarded_at"]
    r = client.delete(f"/api/v1/activities/{activity['id']}/signups/me", headers=person.headers)
    assert r.status_code == 409 and error(r) == "already_checked_in"


def test_only_confirmed_sign_ups_inside_the_window(client, admin, make_estate, make_activity, resident, sign_up, move):
    estate = make_estate()
    activity = make_activity([estate], capacity=1, **soon())
    seated, waiting = resident(estate), resident(estate)
    code = sign_up(activity["id"], seated).json["signup"]["code"]
    sign_up(activity["id"], waiting)
    url = f"/api/v1/activities/{activity['id']}/check-ins"
    r = client.post(url, headers=waiting.headers, json={"token": activity["checkin_token"]})
    assert r.status_code == 409 and error(r) == "not_confirmed"
    r = client.post(url, headers=admin.headers, json={"code": "ZZZZZZZZ"})
    assert r.status_code == 404 and error(r) == "attendee_not_found"
    later_one = make_activity([estate])  # starts in two days: not yet
    other_code = sign_up(later_one["id"], seated).json["signup"]["code"]
    r = client.post(f"/api/v1/activities/{later_one['id']}/check-ins", headers=admin.headers, json={"code": other_code})
    assert r.status_code == 409 and error(r) == "checkin_closed" and "opens_at" in r.json["error"]["details"]
    r = client.post(url, headers=admin.headers, json={"code": other_code})  # another activity's code
    assert r.status_code == 404 and error(r) == "attendee_not_found"
    now = datetime.now(timezone.utc)
    move(activity["id"], starts_at=now - timedelta(hours=3), signup_deadline=now - timedelta(hours=3),
         ends_at=now - timedelta(minutes=1))
    r = client.post(url, headers=admin.headers, json={"code": code})
    assert r.status_code == 409 and error(r) == "checkin_closed"


def test_an_ambassador_organiser_checks_in_their_attendees(client, make_estate, make_ambassador, make_activity,
                                                           resident, sign_up):
    estate = make_estate()
    amb = make_ambassador(level=3, estate_ids=[estate])
    activity = make_activity([estate], by=amb, **soon())
    person = resident(estate)
    code = sign_up(activity["id"], person).json["signup"]["code"]
    r = client.post(f"/api/v1/activities/{activity['id']}/check-ins", headers=amb.headers, json={"code": code})
    assert r.status_code == 200 and r.json["first"] is True and r.json["reward"] == {"points": 0, "coupon": None}
    listed = client.get(f"/api/v1/activities/{activity['id']}/attendees?status=checked_in", headers=amb.headers).json
    assert [a["user_id"] for a in listed["items"]] == [person.user_id]


def test_an_out_of_stock_coupon_still_checks_in(app, client, admin, make_estate, make_activity, resident, sign_up):
    estate = make_estate()
    activity = make_activity([estate], coupon_template_id=coupon_template(app, admin, total_stock=1), **soon())
    first, second = resident(estate), resident(estate)
    for person in (first, second):
        sign_up(activity["id"], person)
    url = f"/api/v1/activities/{activity['id']}/check-ins"
    got = [client.post(url, headers=p.headers, json={"token": activity["checkin_token"]}).json for p in (first, second)]
    assert [g["first"] for g in got] == [True, True]
    assert got[0]["reward"]["coupon"] is not None and got[1]["reward"]["coupon"] is None
