"""Fixtures of the due-care tests: products, plans and schedules inserted as rows (the products
area's registration is tested there), households with and without a steward, and the runs."""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import Account, bearer

TEMPLATE = "tmpl_maintenance_due"


@dataclass
class Household(Account):
    estate_id: int = 0


def today() -> date:
    from core.formatting import BUSINESS_TZ
    return datetime.now(BUSINESS_TZ).date()


@pytest.fixture
def make_plan(app):
    counter = itertools.count(1)

    def make(name: str = "滤芯更换", category: str | None = "water_purifier", service_type: str = "maintenance",
             lead_days: int = 14, active: bool = True, product_model_id: int | None = None, **extra) -> int:
        from community.products.models import MaintenancePlan
        from core.extensions import db
        next(counter)
        with app.app_context():
            plan = MaintenancePlan(name=name, category=None if product_model_id else category,
                                   product_model_id=product_model_id, service_type=service_type,
                                   first_due_days=extra.pop("first_due_days", 180),
                                   interval_months=extra.pop("interval_months", 6), lead_days=lead_days,
                                   description=extra.pop("description", "定期更换滤芯，保证出水水质"), active=active,
                                   **extra)
            db.session.add(plan)
            db.session.commit()
            return plan.id
    return make


@pytest.fixture
def make_product(app, make_plan):
    """make(owner_id=None, estate_id=None, due_on=None, plan_id=None, ...) -> (product_id, plan_id):
    a product of a new model with its schedule for the plan (a new filter plan when not given),
    next due on `due_on` (default: in ten days)."""
    counter = itertools.count(1)

    def make(owner_id: int | None = None, estate_id: int | None = None, due_on: date | None = None,
             plan_id: int | None = None, category: str = "water_purifier", model_name: str = "RO-600G",
             status: str = "active", address: str = "", address_id: int | None = None,
             owner_phone: str | None = None) -> tuple[int, int]:
        from community.products.models import Product, ProductModel, ProductSchedule
        from core.extensions import db
        n = next(counter)
        plan_id = plan_id or make_plan(category=category)
        with app.app_context():
            model = ProductModel(code=f"M{n}-{model_name}", category=category, name=model_name, warranty_months=12)
            db.session.add(model)
            db.session.flush()
            product = Product(model_id=model.id, serial=f"SN{n:06d}", install_date=today() - timedelta(days=170),
                              owner_id=owner_id, owner_phone=owner_phone, estate_id=estate_id, address=address,
                              address_id=address_id, status=status, source="admin")
            db.session.add(product)
            db.session.flush()
            db.session.add(ProductSchedule(product_id=product.id, plan_id=plan_id,
                                           next_due_on=due_on or today() + timedelta(days=10)))
            db.session.commit()
            return product.id, plan_id
    return make


@pytest.fixture
def household(client, login, mint_code, bind):
    """household(estate_id, steward=None) -> a resident of the estate (bound to the steward by a
    scan when given, else joined by themselves)."""
    def make(estate_id: int, steward=None) -> Household:
        if steward is not None:
            openid = f"o{uuid.uuid4().hex[:27]}"
            response = bind(mint_code(steward, estate_id)["scene"], openid=openid)
            assert response.status_code == 200, response.json
            return Household(user_id=response.json["user"]["id"], token=response.json["token"], openid=openid,
                             estate_id=estate_id)
        account = login()
        r = client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate_id})
        assert r.status_code in (200, 201), r.json
        return Household(user_id=account.user_id, token=account.token, openid=account.openid, estate_id=estate_id)
    return make


@pytest.fixture
def generate(app):
    """Run the daily generation (as the job does) and return its counts."""
    def run(on: date | None = None, horizon_days: int | None = None) -> dict:
        from community.care import services
        from core.extensions import db
        with app.app_context():
            counts = services.generate_due_items(on, horizon_days)
            db.session.commit()
            return counts
    return run


@pytest.fixture
def items(app):
    """The care items as plain dicts, by id."""
    def read(**where) -> list[dict]:
        from community.care.models import CareItem
        from core.extensions import db
        with app.app_context():
            stmt = sa.select(CareItem).order_by(CareItem.id)
            for name, value in where.items():
                stmt = stmt.where(getattr(CareItem, name) == value)
            return [{c.name: getattr(item, c.name) for c in CareItem.__table__.columns}
                    for item in db.session.scalars(stmt)]
    return read


def headers(account) -> dict:
    return bearer(account.token)
