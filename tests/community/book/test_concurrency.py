"""Races on PostgreSQL: recomputes of one customer at once raise one alert and one notice; two
people handling one alert at once: one wins; one tag added twice at once: one row."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from community.book import services
from community.book.models import CustomerHealth, CustomerTag, HealthAlert
from core.extensions import db
from core.notifications.models import Notification
from tests.community.book.conftest import complain, served
from tests.concurrency import count, http_race, in_own_context, race
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


@pytest.fixture
def red_customer(client, steward, estate, customer):
    first, second = served(client, customer, steward, estate), served(client, customer, steward, estate)
    complain(client, customer, first["id"])
    complain(client, customer, second["id"])
    return customer


def test_recomputes_at_once_raise_one_alert(app, steward, red_customer):
    work = in_own_context(app, lambda: services.recompute_customer_health(red_customer.user_id) and None)
    results = race([work] * 4 + [in_own_context(app, lambda: services.recompute_health() and None)] * 2)
    assert all(kind == "ok" for kind, _ in results), results
    assert count(app, HealthAlert) == 1 and count(app, CustomerHealth) == 1
    assert count(app, Notification, user_id=steward.user_id, kind="health_alert") == 1


def test_one_alert_handled_once(app, client, steward, admin, red_customer):
    in_own_context(app, services.recompute_health)()
    with app.app_context():
        alert_id = db.session.scalar(sa.select(HealthAlert.id))
    responses = http_race(app, [
        lambda c, who=who: c.post(f"/api/v1/engineer/health-alerts/{alert_id}/handle", headers=who.headers,
                                  json={"note": "已联系"}) for who in (steward, admin, steward, admin)])
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]


def test_one_tag_added_at_once(app, steward, customer):
    responses = http_race(app, [
        lambda c: c.post(f"/api/v1/engineer/customers/{customer.user_id}/tags", headers=steward.headers,
                         json={"tag": "VIP"}) for _ in range(4)])
    assert all(r.status_code == 200 and r.json["items"] == ["VIP"] for r in responses)
    assert count(app, CustomerTag) == 1
