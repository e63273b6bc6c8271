"""Fixtures of the offer tests: estates and their residents, the things offers show (a claimable
coupon template, an activity, a reward, a partner's published listing) and offers made through
the admin API."""
from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.formatting import BUSINESS_TZ

_n = itertools.count(1)


def iso(value: datetime) -> str:
    return value.isoformat()


def now() -> datetime:
    return datetime.now(timezone.utc)


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    """A moment inside every offer the fixtures make live (they started 2 days ago, end in 7)."""
    day = datetime.now(BUSINESS_TZ).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=BUSINESS_TZ)


def err(response) -> str:
    return response.json["error"]["code"]


def fields(response) -> dict:
    return response.json["error"]["details"]["fields"]


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
def coupon(client, admin):
    """coupon(**changes) -> the id of a claimable template issuing 10 yuan off (30 days from issue)."""
    def make(**changes) -> int:
        body = {"name": "维修立减券", "kind": "amount", "amount_fen": 1000, "valid_days": 30, "per_user_limit": 1,
                "claimable": True, **changes}
        r = client.post("/api/v1/admin/coupon-templates", headers=admin.headers, json=body)
        assert r.status_code == 201, r.json
        return r.json["id"]
    return make


@pytest.fixture
def activity(client, admin):
    """activity(estate_ids, **changes) -> the id of a published activity for those estates, next week."""
    def make(estate_ids, **changes) -> int:
        starts = now() + timedelta(days=5)
        body = {"title": "社区义诊", "place": "小区会所", "starts_at": iso(starts), "ends_at": iso(starts + timedelta(hours=2)),
                "capacity": 30, "estate_ids": list(estate_ids), **changes}
        r = client.post("/api/v1/admin/activities", headers=admin.headers, json=body)
        assert r.status_code == 201, r.json
        return r.json["id"]
    return make


@pytest.fixture
def reward(client, admin, app):
    """reward(offer_only=False, **changes) -> the id of a reward on offer (100 points)."""
    def make(offer_only: bool = False, **changes) -> int:
        r = client.post("/api/v1/admin/rewards", headers=admin.headers,
                        json={"name": "保温杯", "cost": 100, **changes})
        assert r.status_code == 201, r.json
        if offer_only:
            from core.extensions import db
            from points.models import Reward
            with app.app_context():
                db.session.execute(sa.update(Reward).where(Reward.id == r.json["id"]).values(offer_only=True))
                db.session.commit()
        return r.json["id"]
    return make


@pytest.fixture
def partner(app, admin):
    """partner(reach={}) -> the id of an approved partner that may reach the estates `reach` matches."""
    def make(reach: dict | None = None, status: str = "approved") -> int:
        from activation.partners.models import Partner
        from core.extensions import db
        n = next(_n)
        with app.app_context():
            p = Partner(code=f"PT{n:05d}", name=f"洁净家政{n}", category="家政", contact_name="王经理",
                        contact_phone="13800138000", reach_rule=reach or {}, status=status)
            db.session.add(p)
            db.session.commit()
            return p.id
    return make


@pytest.fixture
def listing(app, admin):
    """listing(partner_id, kind="service", status="published", **fields) -> a listing's id."""
    def make(partner_id: int, kind: str = "service", status: str = "published", **values) -> int:
        from activation.partners.models import PartnerListing
        from core.extensions import db
        with app.app_context():
            x = PartnerListing(partner_id=partner_id, kind=kind, title="上门深度保洁", body="三小时全屋保洁",
                               price_fen=19900 if kind == "service" else None, price_note="起" if kind == "service" else "",
                               signup_mode="platform" if kind == "service" else "none", status=status,
                               created_by_id=admin.user_id, **values)
            db.session.add(x)
            db.session.commit()
            return x.id
    return make


@pytest.fixture
def create_offer(client, admin):
    """create_offer(kind, ref_id, rule={}, **fields) -> the response of POST /api/v1/admin/offers
    (live from 2 days ago until 7 days ahead unless told otherwise)."""
    def create(kind: str, ref_id: int, rule: dict | None = None, **values):
        body = {"kind": kind, "ref_id": ref_id, "rule": rule or {}, "starts_at": iso(now() - timedelta(days=2)),
                "ends_at": iso(now() + timedelta(days=7)), **values}
        return client.post("/api/v1/admin/offers", headers=admin.headers, json=body)
    return create


@pytest.fixture
def live_offer(client, admin, create_offer):
    """live_offer(kind, ref_id, rule={}, **fields) -> a published offer's body."""
    def make(kind: str, ref_id: int, rule: dict | None = None, **values) -> dict:
        r = create_offer(kind, ref_id, rule, **values)
        assert r.status_code == 201, r.json
        r = client.post(f"/api/v1/admin/offers/{r.json['id']}/publish", headers=admin.headers)
        assert r.status_code == 200, r.json
        return r.json
    return make


def matched_estates(app, offer_id: int) -> set[int]:
    from activation.offers.models import OfferEstate
    from core.extensions import db
    with app.app_context():
        return set(db.session.scalars(sa.select(OfferEstate.estate_id).where(OfferEstate.offer_id == offer_id)))


def estate_offer_ids(client, account, estate_id: int, **params) -> list[int]:
    r = client.get(f"/api/v1/estates/{estate_id}/offers", headers=account.headers, query_string=params)
    assert r.status_code == 200, r.json
    return [item["id"] for item in r.json["items"]]
