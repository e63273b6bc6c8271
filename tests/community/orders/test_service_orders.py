"""Service requests and orders through the API: who may do what at each step, reviews once, points
independent of the rating, complaints resolved by agents, likes only for engineers who served you,
and the estate's engineer ranking."""
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import bearer


def err(response):
    return response.json["error"]["code"]


@pytest.fixture
def estate(make_estate):
    return make_estate()


@pytest.fixture
def resident(client, login, estate):
    account = login()
    assert client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate}).status_code == 201
    return account


def _request(client, who, estate, **extra):
    return client.post("/api/v1/service-requests", headers=who.headers,
                       json={"estate_id": estate, "service_type": "repair", "description": "空调不制冷", **extra})


def _complete(client, engineer, order_id):
    soon = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    r = client.post(f"/api/v1/engineer/service-orders/{order_id}/schedule", headers=engineer.headers,
                    json={"scheduled_for": soon})
    assert r.status_code == 200 and r.json["status"] == "scheduled", r.json
    r = client.post(f"/api/v1/engineer/service-orders/{order_id}/complete", headers=engineer.headers)
    assert r.status_code == 200 and r.json["status"] == "completed", r.json
    return r.json


def test_lifecycle_requested_to_completed_with_times_and_the_right_actors(client, estate, resident, make_engineer,
                                                                       login):
    engineer = make_engineer([estate])
    other = make_engineer([estate])
    order = _request(client, resident, estate, preferred_engineer_id=engineer.engineer_id, preferred_slot="周六上午")
    assert order.status_code == 201, order.json
    order = order.json
    assert (order["status"], order["engineer_id"], order["preferred_slot"]) == ("assigned", engineer.engineer_id,
                                                                                "周六上午")
    assert order["requested_at"] and order["assigned_at"] and order["status_label"] == "已派单"
    # another engineer cannot see, schedule or complete it; a stranger cannot see it either
    assert client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete",
                       headers=other.headers).status_code == 404
    assert client.get(f"/api/v1/service-orders/{order['id']}", headers=login().headers).status_code == 404
    assert client.get(f"/api/v1/service-orders/{order['id']}", headers=engineer.headers).status_code == 200
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    r = client.post(f"/api/v1/engineer/service-orders/{order['id']}/schedule", headers=engineer.headers,
                    json={"scheduled_for": past})
    assert r.status_code == 422
    done = _complete(client, engineer, order["id"])
    assert done["completed_at"] and done["scheduled_for"]
    # completed is final: no cancel, no second completion
    r = client.post(f"/api/v1/service-orders/{order['id']}/cancel", headers=resident.headers, json={"reason": "x"})
    assert r.status_code == 409 and err(r) == "order_state_changed"
    assert err(client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete",
                           headers=engineer.headers)) == "order_state_changed"
    listed = client.get("/api/v1/engineer/service-orders?status=completed", headers=engineer.headers).json["items"]
    assert [o["id"] for o in listed] == [order["id"]]
    mine = client.get("/api/v1/me/service-orders", headers=resident.headers).json["items"]
    assert [o["id"] for o in mine] == [order["id"]]


def test_only_residents_of_the_estate_may_request_and_only_its_engineers_or_their_steward(
        client, estate, make_estate, resident, login, make_engineer):
    elsewhere = make_estate()
    stranger = login()
    r = _request(client, stranger, estate)
    assert r.status_code == 403 and err(r) == "not_a_resident"
    far_engineer = make_engineer([elsewhere])
    r = _request(client, resident, estate, preferred_engineer_id=far_engineer.engineer_id)
    assert r.status_code == 422 and "preferred_engineer_id" in r.json["error"]["details"]["fields"]
    r = client.post("/api/v1/service-requests", headers=resident.headers,
                    json={"estate_id": estate, "service_type": "teleport"})
    assert r.status_code == 422
    r = _request(client, resident, 999999)
    assert r.status_code == 404


def test_steward_may_be_named_even_without_covering_the_estate(client, estate, make_estate, make_engineer, mint_code,
                                                              bind, login):
    home = make_estate()
    steward = make_engineer([home])
    code = mint_code(steward, home)
    resident = login()
    assert bind(code["scene"], openid=resident.openid).status_code == 200
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    r = _request(client, resident, estate, preferred_engineer_id=steward.engineer_id)
    assert r.status_code == 201 and r.json["engineer_id"] == steward.engineer_id


def test_dispatch_assigns_the_best_ranked_engineer_or_waits(client, estate, make_estate, resident, make_engineer, admin):
    lonely = make_estate()
    r = client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": lonely})
    order = _request(client, resident, lonely).json
    assert (order["status"], order["engineer_id"]) == ("requested", None)
    first, second = make_engineer([estate]), make_engineer([estate])
    # the second engineer completes an order and earns a rank above the first
    served = _request(client, resident, estate, preferred_engineer_id=second.engineer_id).json
    _complete(client, second, served["id"])
    client.post(f"/api/v1/service-orders/{served['id']}/review", headers=resident.headers, json={"rating": 5})
    dispatched = _request(client, resident, estate).json
    assert dispatched["engineer_id"] == second.engineer_id and dispatched["status"] == "assigned"
    # an admin assigns the waiting order to an engineer covering its estate only
    r = client.post(f"/api/v1/admin/service-orders/{order['id']}/assign", headers=admin.headers,
                    json={"engineer_id": first.engineer_id})
    assert r.status_code == 422
    coverer = make_engineer([lonely])
    r = client.post(f"/api/v1/admin/service-orders/{order['id']}/assign", headers=admin.headers,
                    json={"engineer_id": coverer.engineer_id})
    assert r.status_code == 200 and r.json["engineer_id"] == coverer.engineer_id
    assert client.post(f"/api/v1/admin/service-orders/{order['id']}/assign", headers=resident.headers,
                       json={"engineer_id": coverer.engineer_id}).status_code == 403


def test_cancel_by_owner_with_a_reason_and_not_by_strangers(client, estate, resident, make_engineer, login):
    make_engineer([estate])
    order = _request(client, resident, estate).json
    assert client.post(f"/api/v1/service-orders/{order['id']}/cancel", headers=login().headers,
                       json={"reason": "不需要了"}).status_code == 404
    assert client.post(f"/api/v1/service-orders/{order['id']}/cancel", headers=resident.headers,
                       json={}).status_code == 422
    r = client.post(f"/api/v1/service-orders/{order['id']}/cancel", headers=resident.headers,
                    json={"reason": "不需要了"})
    assert r.status_code == 200 and r.json["status"] == "cancelled" and r.json["cancel_reason"] == "不需要了"


def test_review_once_by_the_owner_only_with_the_same_points_for_any_rating(app, client, estate, make_engineer, login):
    engineer = make_engineer([estate])
    paid = []
    for rating in (1, 5):
        resident = login()
        client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
        order = _request(client, resident, estate).json
        early = client.post(f"/api/v1/service-orders/{order['id']}/review", headers=resident.headers,
                            json={"rating": rating})
        assert early.status_code == 409 and err(early) == "order_not_completed"
        _complete(client, engineer, order["id"])
        # the engineer cannot review their own work
        r = client.post(f"/api/v1/service-orders/{order['id']}/review", headers=engineer.headers, json={"rating": 5})
        assert r.status_code == 403 and err(r) == "own_work"
        r = client.post(f"/api/v1/service-orders/{order['id']}/review", headers=resident.headers,
                        json={"rating": rating, "text": "师傅很准时"})
        assert r.status_code == 201, r.json
        paid.append(r.json["points"])
        assert client.get("/api/v1/me/points", headers=resident.headers).json["balance"] == r.json["points"]
        again = client.post(f"/api/v1/service-orders/{order['id']}/review", headers=resident.headers,
                            json={"rating": 3})
        assert again.status_code == 409 and err(again) == "already_reviewed"
        assert client.get(f"/api/v1/service-orders/{order['id']}", headers=resident.headers).json["rating"] == rating
    assert paid[0] == paid[1] > 0
    for bad in ({"rating": 0}, {"rating": 6}, {"rating": "5"}, {}):
        assert client.post(f"/api/v1/service-orders/{order['id']}/review", headers=resident.headers,
                           json=bad).status_code == 422


def test_review_photos_must_be_the_reviewers_own_uploads(client, estate, resident, make_engineer, login):
    import io

    from PIL import Image

    engineer = make_engineer([estate])
    order = _request(client, resident, estate).json
    _complete(client, engineer, order["id"])

    def upload(who):
        out = io.BytesIO()
        Image.new("RGB", (20, 20), (0, 120, 200)).save(out, "PNG")
        r = client.post("/api/v1/uploads", headers=bearer(who.token),
                        data={"file": (io.BytesIO(out.getvalue()), "p.png")}, content_type="multipart/form-data")
        return r.json["id"]

    theirs = upload(login())
    r = client.post(f"/api/v1/service-orders/{order['id']}/review", headers=resident.headers,
                    json={"rating": 4, "photos": [theirs]})
    assert r.status_code == 422
    r = client.post(f"/api/v1/service-orders/{order['id']}/review", headers=resident.headers,
                    json={"rating": 4, "photos": ["AAAAAAAAAAAAAAAAAAAAAAAA.png"]})
    assert r.status_code == 422
    mine = upload(resident)
    r = client.post(f"/api/v1/service-orders/{order['id']}/review", headers=resident.headers,
                    json={"rating": 4, "photos": [mine]})
    assert r.status_code == 201 and r.json["review"]["photos"] == [f"http://linli.test/api/v1/uploads/{mine}"]


def test_complaints_once_per_order_resolved_by_agents(client, estate, resident, make_engineer, agent, admin, login):
    engineer = make_engineer([estate])
    order = _request(client, resident, estate).json
    r = client.post(f"/api/v1/service-orders/{order['id']}/complaints", headers=login().headers, json={"text": "x"})
    assert r.status_code == 404
    r = client.post(f"/api/v1/service-orders/{order['id']}/complaints", headers=resident.headers,
                    json={"text": "迟到两小时"})
    assert r.status_code == 201 and r.json["status"] == "open" and r.json["engineer_id"] == engineer.engineer_id
    again = client.post(f"/api/v1/service-orders/{order['id']}/complaints", headers=resident.headers,
                        json={"text": "再投诉"})
    assert again.status_code == 409 and err(again) == "already_complained"
    open_ = client.get("/api/v1/admin/complaints?status=open", headers=agent.headers).json["items"]
    assert [c["id"] for c in open_] == [r.json["id"]]
    assert client.post(f"/api/v1/admin/complaints/{r.json['id']}/resolve", headers=resident.headers,
                       json={"resolution": "x"}).status_code == 403
    done = client.post(f"/api/v1/admin/complaints/{r.json['id']}/resolve", headers=agent.headers,
                       json={"resolution": "已致电道歉并补偿"})
    assert done.status_code == 200 and done.json["status"] == "resolved"
    twice = client.post(f"/api/v1/admin/complaints/{r.json['id']}/resolve", headers=admin.headers,
                        json={"resolution": "again"})
    assert twice.status_code == 409 and err(twice) == "already_resolved"
    assert client.get(f"/api/v1/service-orders/{order['id']}", headers=resident.headers).json["complained"] is True


def test_likes_only_for_engineers_who_served_you_once_each(client, estate, resident, make_engineer):
    engineer, stranger = make_engineer([estate]), make_engineer([estate])
    r = client.post(f"/api/v1/engineers/{engineer.engineer_id}/like", headers=resident.headers)
    assert r.status_code == 403 and err(r) == "not_served" and "完成过服务" in r.json["error"]["message"]
    order = _request(client, resident, estate, preferred_engineer_id=engineer.engineer_id).json
    _complete(client, engineer, order["id"])
    first = client.post(f"/api/v1/engineers/{engineer.engineer_id}/like", headers=resident.headers)
    assert first.status_code == 200 and first.json == {"engineer_id": engineer.engineer_id, "liked": True,
                                                       "created": True}
    second = client.post(f"/api/v1/engineers/{engineer.engineer_id}/like", headers=resident.headers)
    assert second.json["created"] is False
    assert client.post(f"/api/v1/engineers/{stranger.engineer_id}/like", headers=resident.headers).status_code == 403
    assert client.post("/api/v1/engineers/999999/like", headers=resident.headers).status_code == 404
    ranking = client.get(f"/api/v1/estates/{estate}/engineers", headers=resident.headers).json
    liked = next(i for i in ranking["items"] if i["engineer"]["id"] == engineer.engineer_id)
    assert liked["components"]["likes"] == 1 and liked["components"]["completed"] == 1
