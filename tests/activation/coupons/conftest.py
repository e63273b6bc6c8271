"""Fixtures of the coupon tests: templates made through the admin API, residents of an estate, an
offer showing a template in estates (rows as activation.offers publishes them), service orders
taken to completion, and the manufacturer's signed calls."""
from __future__ import annotations

import itertools
import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from core import integrations

SECRET = "linli-dev-integration-secret"  # the default of core.config (tests do not override it)
_AHEAD = itertools.count()


def err(response) -> str:
    return response.json["error"]["code"]


def fields(response) -> dict:
    return response.json["error"]["details"]["fields"]


@pytest.fixture
def estate(make_estate):
    return make_estate()


@pytest.fixture
def resident_of(client, login):
    """resident_of(*estate_ids) -> a logged-in resident living in those estates."""
    def make(*estate_ids):
        account = login()
        for estate_id in estate_ids:
            r = client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate_id})
            assert r.status_code == 201, r.json
        return account
    return make


@pytest.fixture
def resident(resident_of, estate):
    return resident_of(estate)


@pytest.fixture
def make_template(client, admin):
    """make_template(**fields) -> the admin API's body of a new template (10 yuan off repairs and
    maintenance, usable 30 days from issue, claimable, unless told otherwise)."""
    def make(**changes):
        body = {"name": "维修立减券", "kind": "amount", "amount_fen": 1000, "service_types": ["repair", "maintenance"],
                "valid_days": 30, "per_user_limit": 1, "claimable": True, **changes}
        r = client.post("/api/v1/admin/coupon-templates", headers=admin.headers, json=body)
        assert r.status_code == 201, r.json
        return r.json
    return make


@pytest.fixture
def offer(app):
    """offer(template_id, *estate_ids, hours=24) -> a published coupon offer matching those estates."""
    def make(template_id, *estate_ids, hours=24, status="published"):
        from activation.offers.models import Offer, OfferEstate
        from core.extensions import db
        now = datetime.now(timezone.utc)
        with app.app_context():
            row = Offer(kind="coupon", ref_id=template_id, title="领券", rule={}, status=status,
                        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=hours),
                        published_at=now - timedelta(hours=1), matched=len(estate_ids))
            db.session.add(row)
            db.session.flush()
            db.session.add_all(OfferEstate(offer_id=row.id, estate_id=e) for e in estate_ids)
            db.session.commit()
            return row.id
    return make


@pytest.fixture
def query(app):
    """query(work) -> work(db) in a fresh app context (a test holding one context across requests
    would share `g`, and so the caller, between them)."""
    def run(work):
        from core.extensions import db
        with app.app_context():
            try:
                return work(db)
            finally:
                db.session.remove()
    return run


@pytest.fixture
def claim(client):
    def do(who, template_id, **body):
        return client.post(f"/api/v1/coupon-templates/{template_id}/claim", headers=who.headers, json=body)
    return do


@pytest.fixture
def issue(app):
    """issue(template_id, user_id, source="grant", issue_key=None, estate_id=None) -> coupon id (or None),
    through the service, committed."""
    def do(template_id, user_id, source="grant", issue_key=None, estate_id=None, today=None):
        from activation.coupons import services
        from core.extensions import db
        with app.app_context():
            coupon = services.issue_coupon(template_id, user_id, source=source, issue_key=issue_key,
                                           estate_id=estate_id, today=today)
            db.session.commit()
            return coupon.id if coupon is not None else None
    return do


@pytest.fixture
def request_service(client):
    def do(who, estate_id, service_type="repair", **extra):
        return client.post("/api/v1/service-requests", headers=who.headers,
                           json={"estate_id": estate_id, "service_type": service_type, "description": "空调不制冷",
                                 **extra})
    return do


@pytest.fixture
def complete(client):
    def do(engineer, order_id):
        soon = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
        r = client.post(f"/api/v1/engineer/service-orders/{order_id}/schedule", headers=engineer.headers,
                        json={"scheduled_for": soon})
        assert r.status_code == 200, r.json
        r = client.post(f"/api/v1/engineer/service-orders/{order_id}/complete", headers=engineer.headers)
        assert r.status_code == 200, r.json
        return r.json
    return do


@pytest.fixture
def my_coupon(client):
    def get(who, coupon_id):
        r = client.get(f"/api/v1/me/coupons/{coupon_id}", headers=who.headers)
        assert r.status_code == 200, r.json
        return r.json
    return get


def signed_post(client, path, body, *, timestamp=None, secret=SECRET, raw=None):
    """POST `body` to an integration path, signed as the manufacturer's systems do."""
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    timestamp = str(int(time.time()) + next(_AHEAD) % 240 if timestamp is None else timestamp)
    return client.post(path, data=data, headers={
        "X-Linli-Timestamp": timestamp, "X-Linli-Signature": integrations.sign(secret, timestamp, data),
        "Content-Type": "application/json"})


@pytest.fixture
def redeem(client):
    def do(code, order_id, amount="100.00", service_type="repair", **extra):
        return signed_post(client, "/api/v1/integrations/coupons/redeem",
                           {"code": code, "order_id": order_id, "amount": amount, "service_type": service_type, **extra})
    return do


@pytest.fixture
def refund(client):
    def do(order_id, **extra):
        return signed_post(client, "/api/v1/integrations/coupons/refund", {"order_id": order_id, **extra})
    return do
