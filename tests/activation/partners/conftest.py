"""The partners tests' world: partners made through the services, their staff logged in through
the password API (bearer) or the web login (session), residents living in estates."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from core.extensions import db
from tests.conftest import Account, csrf_token, html

STAFF_PASSWORD = "partner-pass-1"
_n = itertools.count(1)


@dataclass
class PartnerWorld:
    partner_id: int
    code: str
    owner: Account  # the owner's bearer account
    owner_username: str


@pytest.fixture
def make_partner(app, client, admin):
    """make(status="approved" | "pending" | "suspended", reach=None, name=None) -> PartnerWorld with one
    owner staff account (made through the services; the flows themselves are tested through the API)."""
    from activation.partners import services
    from core.accounts import services as accounts

    def make(status: str = "approved", reach: dict | None = None, name: str | None = None) -> PartnerWorld:
        n = next(_n)
        with app.app_context():
            actor = accounts.get_user(admin.user_id)
            partner = services.create_partner({"name": name or f"伙伴{n}号家政", "category": "家政保洁",
                                               "contact_name": "王经理", "contact_phone": "0755-88886666"}, actor)
            if status != "pending":
                services.decide_partner(partner.id, "approve", None, actor)
            if reach is not None:
                services.set_reach_rule(partner.id, reach, actor)
            username = f"partner{n}"
            services.add_staff(partner.id, {"username": username, "password": STAFF_PASSWORD, "owner": True}, actor)
            if status == "suspended":
                services.decide_partner(partner.id, "suspend", "测试暂停", actor)
            db.session.commit()
            partner_id, code = partner.id, partner.code
        return PartnerWorld(partner_id, code, staff_login(client, username), username)
    return make


def staff_login(client, username: str, password: str = STAFF_PASSWORD) -> Account:
    response = client.post("/api/v1/auth/password-login", json={"username": username, "password": password})
    assert response.status_code == 200, response.json
    return Account(user_id=response.json["user"]["id"], token=response.json["token"])


@pytest.fixture
def add_staff(app, admin):
    """add(partner_id, owner=False) -> (username, Account) of another staff member."""
    from activation.partners import services
    from core.accounts import services as accounts

    def add(client, partner_id: int, owner: bool = False):
        username = f"staff{next(_n)}"
        with app.app_context():
            services.add_staff(partner_id, {"username": username, "password": STAFF_PASSWORD, "owner": owner},
                               accounts.get_user(admin.user_id))
            db.session.commit()
        return username, staff_login(client, username)
    return add


@pytest.fixture
def resident_in(client, login):
    """resident_in(estate_id, phone=None) -> the Account of a resident living in the estate."""
    from core.accounts.models import User
    from core.db import utcnow

    def make(estate_id: int, phone: str | None = None) -> Account:
        account = login()
        assert client.post("/api/v1/me/estates", headers=account.headers,
                           json={"estate_id": estate_id}).status_code == 201
        if phone:
            with client.application.app_context():
                user = db.session.get(User, account.user_id)
                user.phone, user.phone_confirmed_at = phone, utcnow()
                db.session.commit()
        return account
    return make


def web_client(app, username: str, password: str = STAFF_PASSWORD):
    """A fresh test client logged in through the real login form; returns (client, redirect target)."""
    client = app.test_client()
    token = csrf_token(html(client.get("/login")))
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": password})
    assert response.status_code == 302, html(response)[:500]
    return client, response.headers["Location"]


SERVICE = {"kind": "service", "title": "深度保洁 3 小时", "body": "专业保洁团队上门", "price_fen": 19900,
           "price_note": "起", "signup_mode": "platform"}


def submit_listing(client, account: Account, **fields) -> dict:
    response = client.post("/api/v1/partner/listings", headers=account.headers, json={**SERVICE, **fields})
    assert response.status_code == 201, response.json
    return response.json


def approve(client, admin: Account, listing_id: int, **body) -> dict:
    response = client.post(f"/api/v1/admin/partner-listings/{listing_id}/approve", headers=admin.headers, json=body)
    assert response.status_code == 200, response.json
    return response.json


def refused(response, status: int, code: str | None = None) -> dict:
    """The one JSON error shape, in Chinese."""
    assert response.status_code == status, (response.status_code, response.json)
    error = response.json["error"]
    assert set(error) == {"code", "message", "details"}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error["message"]
    if code:
        assert error["code"] == code, error
    return error
