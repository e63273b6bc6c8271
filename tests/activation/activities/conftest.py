"""The activities tests' world: estates, residents living in them, organisers (an admin, a gold
ambassador serving estates, an approved partner's staff) and activities made through the API."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.conftest import Account

STAFF_PASSWORD = "partner-pass-1"
_n = itertools.count(1)


def later(**delta) -> str:
    """An ISO time that far from now (aware UTC)."""
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat()


def error(response) -> str:
    return response.json["error"]["code"]


@dataclass
class Partner:
    partner_id: int
    staff: Account
    username: str


@pytest.fixture
def resident(client, login):
    """resident(estate_id, *more) -> the Account of a resident living in those estates."""
    def make(*estate_ids: int) -> Account:
        account = login()
        for estate_id in estate_ids:
            r = client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate_id})
            assert r.status_code in (200, 201), r.json
        return account
    return make


@pytest.fixture
def make_partner(app, client, admin):
    """make(status="approved" | "pending", reach=None) -> a partner with one staff account (logged in)."""
    from activation.partners import services
    from core.accounts import services as accounts
    from core.extensions import db

    def make(status: str = "approved", reach: dict | None = None) -> Partner:
        n = next(_n)
        with app.app_context():
            actor = accounts.get_user(admin.user_id)
            partner = services.create_partner({"name": f"活动伙伴{n}", "category": "教育培训", "contact_name": "李老师",
                                               "contact_phone": "0755-88886666"}, actor)
            if status == "approved":
                services.decide_partner(partner.id, "approve", None, actor)
            if reach is not None:
                services.set_reach_rule(partner.id, reach, actor)
            username = f"actpartner{n}"
            services.add_staff(partner.id, {"username": username, "password": STAFF_PASSWORD, "owner": True}, actor)
            db.session.commit()
            partner_id = partner.id
        r = client.post("/api/v1/auth/password-login", json={"username": username, "password": STAFF_PASSWORD})
        assert r.status_code == 200, r.json
        return Partner(partner_id, Account(user_id=r.json["user"]["id"], token=r.json["token"]), username)
    return make


@pytest.fixture
def activity_body():
    """body(estate_ids=None, **changes) -> a new activity's body: starts in two days, 2 hours long."""
    def body(estate_ids=None, **changes) -> dict:
        data = {"title": "亲子手工课", "description": "带孩子一起做手工", "place": "小区活动室",
                "starts_at": later(days=2), "ends_at": later(days=2, hours=2), "capacity": 10, **changes}
        if estate_ids is not None:
            data["estate_ids"] = list(estate_ids)
        return data
    return body


@pytest.fixture
def make_activity(client, admin, activity_body):
    """make(estate_ids, by=admin, **changes) -> the created activity's body (admins: the admin API;
    anyone else: the organiser API)."""
    def make(estate_ids=None, by: Account | None = None, **changes) -> dict:
        path = "/api/v1/admin/activities" if by is None else "/api/v1/activities"
        r = client.post(path, headers=(by or admin).headers, json=activity_body(estate_ids, **changes))
        assert r.status_code == 201, r.json
        return r.json
    return make


@pytest.fixture
def sign_up(client):
    def do(activity_id: int, account: Account, **body):
        return client.post(f"/api/v1/activities/{activity_id}/signups", headers=account.headers, json=body)
    return do


@pytest.fixture
def move(app):
    """move(activity_id, **columns): set an activity's columns directly (times into the past)."""
    def do(activity_id: int, **values):
        from activation.activities.models import Activity
        from core.extensions import db
        with app.app_context():
            db.session.execute(sa.update(Activity).where(Activity.id == activity_id).values(**values))
            db.session.commit()
    return do


@pytest.fixture
def signups(app):
    """The activity's sign-ups as plain dicts, in id order."""
    def read(activity_id: int) -> list[dict]:
        from activation.activities.models import ActivitySignup
        from core.extensions import db
        with app.app_context():
            rows = db.session.scalars(sa.select(ActivitySignup).where(ActivitySignup.activity_id == activity_id)
                                      .order_by(ActivitySignup.id))
            return [{c.key: getattr(r, c.key) for c in ActivitySignup.__table__.c} for r in rows]
    return read


@pytest.fixture
def counters(app):
    """(confirmed, waitlisted, checked_in) of an activity, as stored."""
    def read(activity_id: int) -> tuple[int, int, int]:
        from activation.activities.models import Activity
        from core.extensions import db
        with app.app_context():
            a = db.session.get(Activity, activity_id)
            return a.confirmed, a.waitlisted, a.checked_in
    return read
