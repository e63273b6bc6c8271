"""What the mini-program's engineer mode reads from orders: how many orders wait for the engineer
(to schedule, to complete), and one customer's orders on the customer page."""
from datetime import datetime, timedelta, timezone

import pytest


@pytest.fixture
def estate(make_estate):
    return make_estate()


def _resident(client, login, estate):
    account = login()
    assert client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate}).status_code == 201
    return account


def _request(client, who, estate, engineer):
    r = client.post("/api/v1/service-requests", headers=who.headers, json={
        "estate_id": estate, "service_type": "repair", "description": "空调不制冷",
        "preferred_engineer_id": engineer.engineer_id})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _counts(client, engineer):
    r = client.get("/api/v1/engineer/service-orders/counts", headers=engineer.headers)
    assert r.status_code == 200, r.json
    return r.json


def test_counts_of_what_waits_for_the_engineer(client, login, estate, make_engineer):
    engineer, other = make_engineer([estate]), make_engineer([estate])
    assert _counts(client, engineer) == {"assigned": 0, "scheduled": 0}
    resident = _resident(client, login, estate)
    orders = [_request(client, resident, estate, engineer) for _ in range(4)]
    _request(client, resident, estate, other)  # someone else's
    soon = (datetime.now(timezone.utc) + timedelta(hours=3)).isoformat()
    for order_id in orders[:2]:
        assert client.post(f"/api/v1/engineer/service-orders/{order_id}/schedule", headers=engineer.headers,
                           json={"scheduled_for": soon}).status_code == 200
    assert client.post(f"/api/v1/engineer/service-orders/{orders[0]}/complete", headers=engineer.headers).status_code == 200
    assert client.post(f"/api/v1/service-orders/{orders[3]}/cancel", headers=resident.headers,
                       json={"reason": "不需要了"}).status_code == 200
    assert _counts(client, engineer) == {"assigned": 1, "scheduled": 1}
    assert _counts(client, other) == {"assigned": 1, "scheduled": 0}


def test_counts_are_for_engineers_only(client, login, make_engineer, admin, estate):
    resident = _resident(client, login, estate)
    r = client.get("/api/v1/engineer/service-orders/counts", headers=resident.headers)
    assert r.status_code == 403
    engineer = make_engineer([estate])
    assert client.post(f"/api/v1/admin/engineers/{engineer.engineer_id}/deactivate", headers=admin.headers,
                       json={}).status_code == 200
    r = client.get("/api/v1/engineer/service-orders/counts", headers=engineer.headers)
    assert r.status_code == 403


def test_one_customers_orders(client, login, estate, make_engineer):
    engineer, other = make_engineer([estate]), make_engineer([estate])
    first, second = _resident(client, login, estate), _resident(client, login, estate)
    mine = [_request(client, first, estate, engineer) for _ in range(2)]
    _request(client, second, estate, engineer)
    _request(client, first, estate, other)  # the customer's order with someone else: not shown
    r = client.get("/api/v1/engineer/service-orders", headers=engineer.headers,
                   query_string={"resident_id": first.user_id})
    assert r.status_code == 200, r.json
    assert [o["id"] for o in r.json["items"]] == mine[::-1]
    assert all(o["contact_phone"] is None or "*" not in o["contact_phone"] for o in r.json["items"])
    both = client.get("/api/v1/engineer/service-orders", headers=engineer.headers,
                      query_string={"resident_id": first.user_id, "status": "completed"}).json
    assert both["items"] == []
    bad = client.get("/api/v1/engineer/service-orders", headers=engineer.headers, query_string={"resident_id": 0})
    assert bad.status_code == 422
