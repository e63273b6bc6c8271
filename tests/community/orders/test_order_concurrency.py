"""Races on service orders (PostgreSQL: SQLite serialises writers): concurrent reviews of one
order, an engineer completing while the resident cancels, concurrent likes, two agents assigning."""

import pytest

from tests.concurrency import count, http_race
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


def _completed_order(client, estate, resident, engineer):
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    order = client.post("/api/v1/service-requests", headers=resident.headers,
                        json={"estate_id": estate, "service_type": "repair",
                              "preferred_engineer_id": engineer.engineer_id}).json
    return order


def test_concurrent_reviews_of_one_order_make_one_review_and_one_payment(app, client, make_estate, make_engineer,
                                                                        login):
    from community.orders.models import ServiceReview
    from core.extensions import db
    from points import services as points

    estate = make_estate()
    engineer = make_engineer([estate])
    resident = login()
    order = _completed_order(client, estate, resident, engineer)
    assert client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete",
                       headers=engineer.headers).status_code == 200
    url = f"/api/v1/service-orders/{order['id']}/review"
    results = http_race(app, [lambda c, r=r: c.post(url, headers=resident.headers, json={"rating": r})
                         for r in (1, 2, 3, 4, 5, 5, 4, 3)])
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 7, codes
    assert {r.json["error"]["code"] for r in results if r.status_code == 409} == {"already_reviewed"}
    assert count(app, ServiceReview, order_id=order["id"]) == 1
    with app.app_context():
        assert points.balance(resident.user_id).available == points.get_rule("service_review").points
        assert points.verify() == []
        stat = db.session.execute(db.text("SELECT ratings_count FROM engineer_estate_stats")).scalar()
        assert stat == 1


def test_complete_racing_cancel_resolves_once(app, client, make_estate, make_engineer, login):
    estate = make_estate()
    engineer = make_engineer([estate])
    resident = login()
    for _ in range(5):
        order = _completed_order(client, estate, resident, engineer)
        results = http_race(app, [
            lambda c: c.post(f"/api/v1/engineer/service-orders/{order['id']}/complete", headers=engineer.headers),
            lambda c: c.post(f"/api/v1/service-orders/{order['id']}/cancel", headers=resident.headers,
                             json={"reason": "不用了"}),
        ])
        assert sorted(r.status_code for r in results) == [200, 409]
        final = client.get(f"/api/v1/service-orders/{order['id']}", headers=resident.headers).json["status"]
        winner = next(r for r in results if r.status_code == 200).json["status"]
        assert final == winner
    ranking = client.get(f"/api/v1/estates/{estate}/engineers", headers=resident.headers).json["items"][0]
    completed = sum(1 for o in client.get("/api/v1/me/service-orders", headers=resident.headers).json["items"]
                    if o["status"] == "completed")
    assert ranking["components"]["completed"] == completed


def test_concurrent_likes_count_once(app, client, make_estate, make_engineer, login):
    from community.stats.models import EngineerLike

    estate = make_estate()
    engineer = make_engineer([estate])
    resident = login()
    order = _completed_order(client, estate, resident, engineer)
    client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete", headers=engineer.headers)
    results = http_race(app, [lambda c: c.post(f"/api/v1/engineers/{engineer.engineer_id}/like", headers=resident.headers)
                         for _ in range(6)])
    assert all(r.status_code == 200 for r in results)
    assert sum(r.json["created"] for r in results) == 1
    assert count(app, EngineerLike, engineer_id=engineer.engineer_id) == 1
    item = client.get(f"/api/v1/estates/{estate}/engineers", headers=resident.headers).json["items"][0]
    assert item["components"]["likes"] == 1
