"""What the mini-program's order pages read from one order: the assigned engineer (name and
photo, never a phone) and the resident's review once written; a retried request (the same
Idempotency-Key) makes one order."""
from datetime import datetime, timedelta, timezone

import pytest

from tests.community.orders.test_order_contact import upload


@pytest.fixture
def estate(make_estate):
    return make_estate(name="翠竹苑")


@pytest.fixture
def resident(client, login, estate):
    account = login()
    assert client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate}).status_code == 201
    return account


def _request(client, who, estate, headers=None, **extra):
    return client.post("/api/v1/service-requests", headers={**who.headers, **(headers or {})},
                       json={"estate_id": estate, "service_type": "repair", "description": "空调不制冷", **extra})


def test_an_order_carries_its_engineer_and_after_the_review_the_review(client, estate, resident, make_engineer):
    engineer = make_engineer([estate], name="王建国")
    photo = upload(client, engineer)
    assert client.put("/api/v1/engineer/me", headers=engineer.headers, json={"photo": photo}).status_code == 200
    r = _request(client, resident, estate, preferred_engineer_id=engineer.engineer_id)
    assert r.status_code == 201, r.json
    order = r.json
    assert order["engineer"] == {"id": engineer.engineer_id, "name": "王建国", "photo_url": f"http://linli.test/api/v1/uploads/{photo}"}
    assert order["review"] is None
    soon = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    assert client.post(f"/api/v1/engineer/service-orders/{order['id']}/schedule", headers=engineer.headers,
                       json={"scheduled_for": soon}).status_code == 200
    done = client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete", headers=engineer.headers).json
    assert (done["status"], done["engineer"]["name"], done["review"]) == ("completed", "王建国", None)
    shot = upload(client, resident)
    reviewed = client.post(f"/api/v1/service-orders/{order['id']}/review", headers=resident.headers,
                           json={"rating": 4, "text": "准时，干净", "photos": [shot]})
    assert reviewed.status_code == 201, reviewed.json
    shown = client.get(f"/api/v1/service-orders/{order['id']}", headers=resident.headers).json
    assert shown["review"] == {**reviewed.json["review"], "photos": [f"http://linli.test/api/v1/uploads/{shot}"]}
    assert (shown["review"]["rating"], shown["review"]["text"], shown["rating"]) == (4, "准时，干净", 4)
    # the list carries the same, and the engineer sees it in theirs
    mine = client.get("/api/v1/me/service-orders", headers=resident.headers).json["items"]
    assert [(o["id"], o["engineer"]["name"], o["review"]["rating"]) for o in mine] == [(order["id"], "王建国", 4)]
    theirs = client.get("/api/v1/engineer/service-orders", headers=engineer.headers).json["items"]
    assert [(o["id"], o["review"]["text"]) for o in theirs] == [(order["id"], "准时，干净")]


def test_an_order_nobody_covers_has_no_engineer_yet(client, estate, resident):
    r = _request(client, resident, estate)
    assert r.status_code == 201, r.json
    assert (r.json["status"], r.json["engineer"], r.json["review"]) == ("requested", None, None)


def test_a_retried_request_with_the_same_key_makes_one_order(client, estate, resident, make_engineer):
    make_engineer([estate])
    first = _request(client, resident, estate, headers={"Idempotency-Key": "form-1"})
    again = _request(client, resident, estate, headers={"Idempotency-Key": "form-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json["id"] == first.json["id"] and again.headers["Idempotent-Replayed"] == "true"
    mine = client.get("/api/v1/me/service-orders", headers=resident.headers).json["items"]
    assert [o["id"] for o in mine] == [first.json["id"]]
    # the same key for another form is refused, nothing is created
    other = _request(client, resident, estate, headers={"Idempotency-Key": "form-1"}, description="热水器漏水")
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_key_reused"
    assert len(client.get("/api/v1/me/service-orders", headers=resident.headers).json["items"]) == 1
