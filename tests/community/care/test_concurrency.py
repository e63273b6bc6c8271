"""Races (PostgreSQL: SQLite serialises writers): generation runs at once create each item once,
notifiers at once tell each household once, taps at once book one order."""
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from core.formatting import BUSINESS_TZ
from tests.community.care.conftest import headers, today
from tests.concurrency import count, http_race, in_own_context, outcomes, race
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


def test_generation_runs_at_once_create_each_item_once(app, make_estate, make_engineer, household, make_product,
                                                       make_plan, items):
    from community.care import services
    from community.care.models import CareItem

    estate, lonely = make_estate(), make_estate()
    steward = make_engineer([estate])
    home = household(estate, steward)
    plan = make_plan()
    for n in range(60):
        make_product(owner_id=home.user_id, estate_id=estate if n % 3 else lonely, plan_id=plan,
                     due_on=today() + timedelta(days=n % 30))
    results = race([in_own_context(app, lambda: services.generate_due_items()) for _ in range(4)])
    assert outcomes(results) == {"ok": 4}
    assert sum(result["created"] for _, result in results) == 60
    assert count(app, CareItem) == 60
    assert len({(i["product_id"], i["plan_id"]) for i in items()}) == 60
    with app.app_context():
        assert services.generate_due_items()["created"] == 0


def test_notifiers_at_once_tell_each_household_once(app, client, make_estate, make_engineer, household, make_product,
                                                    generate, items):
    from community.care import services
    from core.extensions import db
    from core.notifications.models import Notification

    estate = make_estate()
    steward = make_engineer([estate])
    homes = [household(estate, steward) for _ in range(6)]
    for n in range(30):
        make_product(owner_id=homes[n % 6].user_id, estate_id=estate, due_on=today() + timedelta(days=n % 10))
    generate()
    ten = datetime.combine(today(), time(10, 0), tzinfo=BUSINESS_TZ)

    def notifier():
        claimed = 0
        with app.app_context():
            try:
                while True:
                    counts = services.notify_due(ten, limit=4)
                    db.session.commit()
                    claimed += counts["claimed"]
                    if not counts["claimed"]:
                        return claimed
            finally:
                db.session.remove()

    results = race([notifier for _ in range(3)])
    assert sum(results) == 30
    assert count(app, Notification, kind="care") == 30
    assert all(i["notified_at"] is not None and i["channel"] == "inbox" for i in items())
    for home in homes:
        notices = client.get("/api/v1/me/notifications?limit=50", headers=headers(home)).json["items"]
        assert len(notices) == 5
        assert len({n["page"] for n in notices}) == 5  # one notice per item


def test_taps_at_once_book_one_order(app, client, make_estate, make_engineer, household, make_product, generate,
                                     items):
    from community.orders.models import ServiceOrder

    estate = make_estate()
    steward = make_engineer([estate])
    home = household(estate, steward)
    make_product(owner_id=home.user_id, estate_id=estate, address="3栋 1201")
    generate()
    item_id = items()[0]["id"]
    results = http_race(app, [lambda c: c.post(f"/api/v1/me/reminders/{item_id}/book", headers=headers(home), json={})
                              for _ in range(4)]
                        + [lambda c: c.post(f"/api/v1/engineer/reminders/{item_id}/outcome", headers=headers(steward),
                                            json={"outcome": "booked"})])
    assert [r.status_code for r in results] == [200] * 5, [r.json for r in results]
    created = [r for r in results[:4] if r.json["created"]]
    orders = {r.json["order"]["id"] for r in results}
    assert len(orders) == 1 and len(created) <= 1
    assert count(app, ServiceOrder) == 1
    assert items()[0]["order_id"] in orders and items()[0]["status"] == "booked"
    with app.app_context():
        from core.extensions import db
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)
                                 .where(ServiceOrder.product_id.is_not(None))) == 1
