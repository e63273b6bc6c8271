"""Fixtures of the product tests: an estate with a resident, and a small catalogue with plans."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa


@dataclass
class Catalogue:
    purifier: int  # RO-600G, water purifier, 24 months' warranty
    purifier_code: str
    ac: int  # KFR-35GW, air conditioner
    ac_code: str
    filters: int  # purifiers: filter every 6 months from completion (maintenance)
    inspection: int  # purifiers: once, 30 days after installation (inspection)
    cleaning: int  # air conditioners: yearly, fixed cycle, April-June (cleaning)


@pytest.fixture
def estate(make_estate):
    return make_estate(code="SZ-0001")


@pytest.fixture
def resident(client, login, estate):
    account = login()
    assert client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate}).status_code == 201
    return account


@pytest.fixture
def catalogue(app) -> Catalogue:
    from community.products import services
    from core.extensions import db

    with app.app_context():
        purifier = services.create_product_model({"code": "ro-600g", "name": "反渗透净水器 RO-600G",
                                                  "category": "water_purifier", "warranty_months": 24}, None)
        ac = services.create_product_model({"code": "KFR-35GW", "name": "变频空调 KFR-35GW",
                                            "category": "空调", "warranty_months": 72}, None)
        filters = services.create_plan({"name": "PP棉滤芯更换", "category": "water_purifier",
                                        "service_type": "maintenance", "first_due_days": 180, "interval_months": 6,
                                        "description": "更换 PP 棉与活性炭滤芯"}, None)
        inspection = services.create_plan({"name": "安装后回访检测", "category": "water_purifier",
                                           "service_type": "inspection", "first_due_days": 30}, None)
        cleaning = services.create_plan({"name": "空调年度清洗", "category": "air_conditioner",
                                         "service_type": "cleaning", "first_due_days": 300, "interval_months": 12,
                                         "after_completion": False, "season_start_month": 4,
                                         "season_end_month": 6}, None)
        db.session.commit()
        return Catalogue(purifier.id, purifier.code, ac.id, ac.code, filters.id, inspection.id, cleaning.id)


@pytest.fixture
def schedules(app):
    """{plan_id: (next_due_on, last_done_on)} of one product, read afresh."""
    def read(product_id: int) -> dict:
        from community.products.models import ProductSchedule
        from core.extensions import db
        with app.app_context():
            return {row.plan_id: (row.next_due_on, row.last_done_on) for row in db.session.execute(
                sa.select(ProductSchedule).where(ProductSchedule.product_id == product_id)).scalars()}
    return read


def err(response) -> str:
    return response.json["error"]["code"]
