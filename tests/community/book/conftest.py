"""Fixtures of the customer-book tests: an estate, its steward, a customer bound by a scan, and
helpers that make the things a customer's health and timeline read (orders, reviews, complaints,
care items)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.conftest import Account


@pytest.fixture
def estate(make_estate):
    return make_estate(city="深圳市", district="南山区")


@pytest.fixture
def steward(make_engineer, estate):
    return make_engineer([estate], name="王建国")


@pytest.fixture
def make_customer(mint_code, bind):
    """make(engineer, estate, **binding extras) -> the Account of a resident bound to that engineer by a scan."""
    def make(engineer, estate_id, **extra) -> Account:
        response = bind(mint_code(engineer, estate_id)["scene"], **extra)
        assert response.status_code == 200, response.json
        return Account(user_id=response.json["user"]["id"], token=response.json["token"])
    return make


@pytest.fixture
def customer(make_customer, steward, estate):
    return make_customer(steward, estate)


def request_order(client, who, estate_id, **extra) -> dict:
    response = client.post("/api/v1/service-requests", headers=who.headers,
                           json={"estate_id": estate_id, "service_type": "repair", "description": "热水器打不着火",
                                 **extra})
    assert response.status_code == 201, response.json
    return response.json


def complete_order(client, engineer, order_id) -> dict:
    soon = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    assert client.post(f"/api/v1/engineer/service-orders/{order_id}/schedule", headers=engineer.headers,
                       json={"scheduled_for": soon}).status_code == 200
    response = client.post(f"/api/v1/engineer/service-orders/{order_id}/complete", headers=engineer.headers)
    assert response.status_code == 200, response.json
    return response.json


def served(client, resident, engineer, estate_id) -> dict:
    """An order requested by the resident, naming the engineer, and completed by them."""
    order = request_order(client, resident, estate_id, preferred_engineer_id=engineer.engineer_id)
    return complete_order(client, engineer, order["id"])


def review(client, resident, order_id, rating, text="") -> None:
    response = client.post(f"/api/v1/service-orders/{order_id}/review", headers=resident.headers,
                           json={"rating": rating, "text": text})
    assert response.status_code in (200, 201), response.json


def complain(client, resident, order_id, text="师傅迟到两小时") -> dict:
    response = client.post(f"/api/v1/service-orders/{order_id}/complaints", headers=resident.headers, json={"text": text})
    assert response.status_code == 201, response.json
    return response.json


_serial = iter(range(1, 10**6))


def care_item(app, resident_id, estate_id, *, due_on: date, status="open", engineer_id=None, order_id=None,
              outcome_note=None) -> int:
    """A product of the resident and one care item of it (straight into the tables: the care area's
    generation is not what these tests are about)."""
    from community.care.models import CareItem
    from community.products.models import MaintenancePlan, Product, ProductModel
    from core.extensions import db

    n = next(_serial)
    with app.app_context():
        model = ProductModel(code=f"JSQ-{n}", category="water_purifier", name="净水器 R5", warranty_months=24)
        plan = MaintenancePlan(name="滤芯更换", category="water_purifier", service_type="maintenance",
                               first_due_days=180, interval_months=6, lead_days=14)
        db.session.add_all([model, plan])
        db.session.flush()
        product = Product(model_id=model.id, serial=f"SN{n:08d}", owner_id=resident_id, estate_id=estate_id,
                          source="admin", install_date=due_on - timedelta(days=180))
        db.session.add(product)
        db.session.flush()
        item = CareItem(product_id=product.id, plan_id=plan.id, due_on=due_on, notify_on=due_on - timedelta(days=14),
                        resident_id=resident_id, estate_id=estate_id, engineer_id=engineer_id, route="steward",
                        status=status, order_id=order_id, outcome_note=outcome_note,
                        outcome_at=datetime.now(timezone.utc) if outcome_note else None)
        db.session.add(item)
        db.session.commit()
        return item.id


def set_user(app, user_id, **values) -> None:
    from core.accounts.models import User
    from core.extensions import db

    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user_id).values(**values))
        db.session.commit()


def recompute(app, today: date | None = None, resident_id: int | None = None):
    from community.book import services
    from core.extensions import db

    with app.app_context():
        result = services.recompute_health(today) if resident_id is None else \
            services.recompute_customer_health(resident_id, today)
        db.session.commit()
        return result


def health(app, resident_id) -> dict | None:
    from community.book import services

    with app.app_context():
        row = services.health_of(resident_id)
        return None if row is None else {
            "score": row.score, "band": row.band, "previous_score": row.previous_score,
            "previous_band": row.previous_band, "signals": dict(row.signals), "engineer_id": row.engineer_id,
            "estate_id": row.estate_id}
