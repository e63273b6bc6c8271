"""The demo's catalogue and appliances (`flask demo`): twelve models over five categories with
their plans, appliances in the demo households with care due, one conflict for the agents."""
import sqlalchemy as sa

from community.products import services
from community.products.models import MaintenancePlan, ProductModel, SerialConflict
from core.accounts import services as accounts
from core.extensions import db
from demo import data


def test_the_demo_has_a_catalogue_plans_and_due_care(ctx):
    assert data.seed() is True
    models = db.session.scalars(sa.select(ProductModel)).all()
    assert len(models) == 12
    assert {m.category for m in models} >= {"water_purifier", "air_conditioner", "water_heater", "range_hood",
                                             "wall_boiler"}
    plans = db.session.scalars(sa.select(MaintenancePlan)).all()
    assert any(p.season_start_month == 4 and p.season_end_month == 6 and p.service_type == "cleaning" for p in plans)
    assert any(p.product_model_id is not None for p in plans)  # a model's own plan
    resident = accounts.wechat_identity(data.DEVTOOLS_RESIDENT).user
    cards = services.product_cards(services.products_of_owner(resident.id, limit=10).items)
    assert len(cards) == 2
    purifier = next(c for c in cards if c["model"]["category"] == "water_purifier")
    assert purifier["next_care"]["overdue"] is True and purifier["in_warranty"] is True
    assert db.session.scalar(sa.select(sa.func.count()).where(SerialConflict.status == "open")) == 1
