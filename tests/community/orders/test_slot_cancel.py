"""A resident who booked a slot of an announced visit sees their booking's order on the slot and,
cancelling that order, frees the slot for the neighbours; anyone else's cancellation keeps it taken. The
visit notice opens the estate page on its visits."""
import pytest

from tests.community.orders.test_visits_and_notifications import announce


@pytest.fixture
def estate(make_estate):
    return make_estate(name="翠竹苑")


@pytest.fixture
def make_resident(client, login, estate):
    def make():
        account = login()
        client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate})
        return account
    return make


def slots(client, who, estate):
    return client.get(f"/api/v1/estates/{estate}/visits", headers=who.headers).json["items"][0]["slots"]


def test_cancelling_my_booking_frees_the_slot(client, estate, make_engineer, make_resident):
    engineer = make_engineer([estate])
    assert announce(client, engineer, estate).status_code == 201
    me, neighbour = make_resident(), make_resident()
    slot = slots(client, me, estate)[0]
    assert slot["order_id"] is None
    order = client.post(f"/api/v1/visit-slots/{slot['id']}/book", headers=me.headers,
                        json={"service_type": "repair"}).json
    assert [(s["mine"], s["order_id"]) for s in slots(client, me, estate)] == [(True, order["id"]), (False, None)]
    # a neighbour sees the slot taken, without anyone's order
    assert [(s["available"], s["order_id"]) for s in slots(client, neighbour, estate)] == [(False, None), (True, None)]
    r = client.post(f"/api/v1/service-orders/{order['id']}/cancel", headers=me.headers, json={"reason": "临时有事"})
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert [(s["available"], s["mine"], s["order_id"]) for s in slots(client, me, estate)] == [
        (True, False, None), (True, False, None)]
    again = client.post(f"/api/v1/visit-slots/{slot['id']}/book", headers=neighbour.headers,
                        json={"service_type": "maintenance"})
    assert again.status_code == 201


def test_the_engineer_cancelling_a_booking_keeps_the_slot_taken(client, estate, make_engineer, make_resident):
    engineer = make_engineer([estate])
    announce(client, engineer, estate)
    me = make_resident()
    slot = slots(client, me, estate)[0]
    order = client.post(f"/api/v1/visit-slots/{slot['id']}/book", headers=me.headers,
                        json={"service_type": "repair"}).json
    r = client.post(f"/api/v1/service-orders/{order['id']}/cancel", headers=engineer.headers,
                    json={"reason": "当天无法上门"})
    assert r.status_code == 200
    assert [(s["available"], s["mine"], s["order_id"]) for s in slots(client, me, estate)][0] == (False, False, None)


def test_the_visit_notice_opens_the_estates_visits(app, client, estate, make_engineer, make_resident):
    me = make_resident()
    announce(client, make_engineer([estate]), estate)
    notice = client.get("/api/v1/me/notifications", headers=me.headers).json["items"][0]
    assert notice["page"] == f"pages/estate/index?id={estate}&tab=visits"
