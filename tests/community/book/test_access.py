"""Who may read and write a customer's book (community.book.services.book_of), for every endpoint:
the customer's current steward, admins and the agents on duty for the customer's estate; another
engineer gets the same 404 as for a customer who does not exist, a resident 403, an agent off duty
404, an engineer who left 403."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from community.book.models import FollowUp, HealthAlert
from core.extensions import db
from core.formatting import business_today
from tests.community.stewards.test_handover import complete_handovers

TOMORROW = (business_today() + timedelta(days=1)).isoformat()

# (method, path, body, success status); {user} is the customer, {follow_up} and {alert} theirs
ENDPOINTS = [
    ("GET", "/api/v1/engineer/customers/{user}", None, 200),
    ("GET", "/api/v1/engineer/customers/{user}/notes", None, 200),
    ("POST", "/api/v1/engineer/customers/{user}/notes", {"text": "上门前先打电话"}, 201),
    ("GET", "/api/v1/engineer/customers/{user}/tags", None, 200),
    ("POST", "/api/v1/engineer/customers/{user}/tags", {"tag": "VIP"}, 200),
    ("DELETE", "/api/v1/engineer/customers/{user}/tags/VIP", None, 200),
    ("GET", "/api/v1/engineer/customers/{user}/follow-ups", None, 200),
    ("POST", "/api/v1/engineer/customers/{user}/follow-ups", {"due_on": TOMORROW, "text": "回访"}, 201),
    ("POST", "/api/v1/engineer/follow-ups/{follow_up}/done", None, 200),
    ("GET", "/api/v1/engineer/customers/{user}/timeline", None, 200),
    ("POST", "/api/v1/engineer/health-alerts/{alert}/handle", {"note": "已电话联系"}, 200),
]
NOT_FOUND = {"follow_up": "follow_up_not_found", "alert": "alert_not_found"}


@pytest.fixture
def book(app, customer, steward, estate):
    """The customer's follow-up and open alert (written straight to the tables)."""
    with app.app_context():
        follow_up = FollowUp(resident_id=customer.user_id, engineer_id=steward.engineer_id,
                             author_id=steward.user_id, due_on=business_today(), text="问问热水器")
        alert = HealthAlert(resident_id=customer.user_id, engineer_id=steward.engineer_id, estate_id=estate,
                            score=30, reasons=[], status="open")
        db.session.add_all([follow_up, alert])
        db.session.commit()
        return {"user": customer.user_id, "follow_up": follow_up.id, "alert": alert.id}


def call(client, who, method, path, body, ids):
    return client.open(path.format(**ids), method=method, headers=who.headers, json=body)


def expected_code(path):
    for key, code in NOT_FOUND.items():
        if "{" + key + "}" in path:
            return code
    return "customer_not_found"


@pytest.mark.parametrize("method,path,body,ok", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
@pytest.mark.parametrize("caller", ["steward", "admin", "agent", "other_engineer", "resident", "customer",
                                    "agent_off_duty", "engineer_left"])
def test_every_endpoint_follows_the_book_rule(client, app, make_engineer, make_admin, login, estate, steward, customer,
                                              book, caller, method, path, body, ok, admin):
    if caller == "steward":
        who = steward
    elif caller == "admin":
        who = admin
    elif caller == "agent":
        who = make_admin(roles={"agent"})  # nobody is on duty in the city: every agent is
    elif caller == "agent_off_duty":
        who = make_admin(roles={"agent"})
        colleague = make_admin(roles={"agent"})
        assert client.post("/api/v1/admin/agent-duties", headers=admin.headers,
                           json={"user_id": colleague.user_id, "city": "深圳市"}).status_code == 201
    elif caller == "other_engineer":
        who = make_engineer([estate])
    elif caller == "engineer_left":
        who = make_engineer([estate])
        other = make_engineer([estate])
        # the steward's customers go to `who`, who then leaves: their customers go to `other`
        assert client.post(f"/api/v1/admin/engineers/{steward.engineer_id}/reassign", headers=admin.headers,
                           json={"to_engineer_id": who.engineer_id}).status_code == 200
        assert client.post(f"/api/v1/admin/engineers/{who.engineer_id}/deactivate", headers=admin.headers,
                           json={"reassign_to": other.engineer_id}).status_code == 200
        # the bearer token of an engineer who left is still a resident's token
    elif caller == "customer":
        who = customer
    else:
        who = login()
    response = call(client, who, method, path, body, book)
    if caller in ("steward", "admin", "agent"):
        assert response.status_code == ok, response.json
    elif caller in ("resident", "customer"):
        assert response.status_code == 403, response.json
    elif caller == "engineer_left":
        assert response.status_code == 403 and response.json["error"]["code"] in ("forbidden", "not_engineer")
    else:
        assert response.status_code == 404, response.json
        assert response.json["error"]["code"] == expected_code(path)
        with app.app_context():  # nothing was written
            assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowUp)) == 1
            assert db.session.scalar(sa.select(HealthAlert.status)) == "open"


def test_a_stranger_and_an_unknown_customer_get_the_same_answer(client, make_engineer, estate, customer):
    other = make_engineer([estate])
    theirs = client.get(f"/api/v1/engineer/customers/{customer.user_id}/timeline", headers=other.headers)
    unknown = client.get("/api/v1/engineer/customers/987654/timeline", headers=other.headers)
    assert theirs.status_code == unknown.status_code == 404 and theirs.json == unknown.json


def test_the_book_follows_the_customer_to_the_new_steward(app, client, admin, make_engineer, estate, steward, customer):
    """Handover: the notes, tags and open follow-ups stay with the resident; the old steward loses
    the book, the new one has it whole, follow-ups included in their own list."""
    h = steward.headers
    assert client.post(f"/api/v1/engineer/customers/{customer.user_id}/notes", headers=h,
                       json={"text": "家里有老人"}).status_code == 201
    assert client.post(f"/api/v1/engineer/customers/{customer.user_id}/tags", headers=h,
                       json={"tag": "老人独居"}).status_code == 200
    assert client.post(f"/api/v1/engineer/customers/{customer.user_id}/follow-ups", headers=h,
                       json={"due_on": TOMORROW, "text": "回访滤芯"}).status_code == 201
    assert [f["text"] for f in client.get("/api/v1/engineer/follow-ups", headers=h).json["items"]] == ["回访滤芯"]
    successor = make_engineer([estate])
    assert client.post(f"/api/v1/admin/engineers/{steward.engineer_id}/reassign", headers=admin.headers,
                       json={"to_engineer_id": successor.engineer_id}).status_code == 200
    complete_handovers(app)  # the customer did not refuse within 24 hours

    assert client.get(f"/api/v1/engineer/customers/{customer.user_id}/notes", headers=h).status_code == 404
    assert client.get("/api/v1/engineer/follow-ups", headers=h).json["items"] == []
    s = successor.headers
    assert [n["text"] for n in client.get(f"/api/v1/engineer/customers/{customer.user_id}/notes",
                                          headers=s).json["items"]] == ["家里有老人"]
    assert client.get(f"/api/v1/engineer/customers/{customer.user_id}", headers=s).json["tags"] == ["老人独居"]
    assert [f["text"] for f in client.get("/api/v1/engineer/follow-ups", headers=s).json["items"]] == ["回访滤芯"]


def test_admins_and_agents_keep_the_book_of_a_customer_without_a_steward(client, admin, agent, steward, customer):
    assert client.post(f"/api/v1/admin/engineers/{steward.engineer_id}/deactivate", headers=admin.headers,
                       json={}).status_code == 200
    for who in (admin, agent):
        assert client.get(f"/api/v1/engineer/customers/{customer.user_id}/timeline", headers=who.headers).status_code == 200
        assert client.post(f"/api/v1/engineer/customers/{customer.user_id}/notes", headers=who.headers,
                           json={"text": "已离职工程师的客户，待重新分配"}).status_code == 201
        # the current-customer detail needs a steward
        assert client.get(f"/api/v1/engineer/customers/{customer.user_id}", headers=who.headers).status_code == 404
    # a resident who never had a steward has no book
    assert client.get(f"/api/v1/engineer/customers/{admin.user_id}/notes", headers=admin.headers).status_code == 404


def test_lists_of_the_engineer_are_their_own(client, admin, agent, make_engineer, estate, steward, customer, login):
    other = make_engineer([estate])
    for path in ("/api/v1/engineer/customers", "/api/v1/engineer/follow-ups", "/api/v1/engineer/health-alerts"):
        assert client.get(path, headers=steward.headers).status_code == 200
        assert client.get(path, headers=other.headers).json["items"] == []
        for who in (admin, agent, login()):
            assert client.get(path, headers=who.headers).status_code == 403
    assert [c["user_id"] for c in client.get("/api/v1/engineer/customers",
                                             headers=steward.headers).json["items"]] == [customer.user_id]
