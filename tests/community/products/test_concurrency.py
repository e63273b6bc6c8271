"""Races on the archive (PostgreSQL: SQLite serialises writers): the same serial registered at
once by its owner or by several households, twin claims of one claimant, and services of one
product completing together."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from community.products import services
from tests.concurrency import count, http_race, in_own_context, race
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


def body(catalogue, serial="RACE-1"):
    return {"model_id": catalogue.purifier, "serial": serial}


def test_the_same_owner_registering_at_once_makes_one_product(app, client, resident, catalogue):
    from community.products.models import Product, ProductSchedule

    results = http_race(app, [lambda c: c.post("/api/v1/me/products", headers=resident.headers,
                                               json=body(catalogue)) for _ in range(6)])
    assert sorted(r.status_code for r in results) == [200] * 5 + [201]
    assert len({r.json["id"] for r in results}) == 1
    assert count(app, Product) == 1
    assert count(app, ProductSchedule) == 2


def test_households_racing_for_one_serial_one_owns_it_the_others_are_flagged(app, client, login, catalogue):
    from community.products.models import Product, SerialConflict
    from core.extensions import db

    households = [login() for _ in range(6)]
    results = http_race(app, [lambda c, h=h: c.post("/api/v1/me/products", headers=h.headers, json=body(catalogue))
                              for h in households])
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 5, codes
    assert {r.json["error"]["code"] for r in results if r.status_code == 409} == {"serial_conflict"}
    winner = next(h for h, r in zip(households, results) if r.status_code == 201)
    with app.app_context():
        product = db.session.scalars(sa.select(Product)).one()
        assert product.owner_id == winner.user_id
        claimants = db.session.scalars(sa.select(SerialConflict.claimant_id)).all()
        assert sorted(claimants) == sorted(h.user_id for h in households if h is not winner)


def test_twin_claims_of_one_claimant_make_one_conflict(app, client, resident, login, catalogue):
    from community.products.models import SerialConflict

    assert client.post("/api/v1/me/products", headers=resident.headers, json=body(catalogue)).status_code == 201
    claimant = login()
    results = http_race(app, [lambda c: c.post("/api/v1/me/products", headers=claimant.headers, json=body(catalogue))
                              for _ in range(5)])
    assert [r.status_code for r in results] == [409] * 5
    assert len({r.json["error"]["details"]["conflict_id"] for r in results}) == 1
    assert count(app, SerialConflict) == 1


def test_services_completing_together_keep_the_latest_date(app, client, resident, catalogue):
    from community.products.models import ProductSchedule
    from core.extensions import db

    product = client.post("/api/v1/me/products", headers=resident.headers, json={
        **body(catalogue), "install_date": (services.today() - timedelta(days=300)).isoformat()}).json
    days = [services.today() - timedelta(days=n) for n in (40, 1, 20, 10, 30, 5)]
    outcomes = race([in_own_context(app, lambda d=d: services.record_service(product["id"], "maintenance", d))
                     for d in days])
    assert all(kind == "ok" for kind, _ in outcomes)
    with app.app_context():
        row = db.session.get(ProductSchedule, (product["id"], catalogue.filters))
        assert row.last_done_on == max(days)
        assert row.next_due_on == services.add_months(max(days), 6)
