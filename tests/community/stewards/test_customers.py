"""An engineer's customers: who may see them, reassignment and departure."""

import pytest

from tests.community.estates.test_engineers import create_engineer
from tests.community.stewards.test_handover import complete_handovers
from tests.conftest import bearer


def stewards(client, token) -> list[int]:
    return [s["engineer"]["id"] for s in client.get("/api/v1/me/stewards", headers=bearer(token)).json["items"]]


def customers(client, engineer, **query) -> list[int]:
    response = client.get("/api/v1/engineer/customers", headers=engineer.headers, query_string=query)
    assert response.status_code == 200, response.json
    return [c["user_id"] for c in response.json["items"]]


def history(client, admin, user_id) -> list[dict]:
    return client.get(f"/api/v1/admin/residents/{user_id}/stewards", headers=admin.headers).json["items"]


# -- who may see an engineer's customers --------------------------------------------------------


def test_engineers_see_only_their_own_customers(client, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    first, second = make_engineer([estate]), make_engineer([estate])
    mine = bind(mint_code(first, estate)["scene"]).json["user"]["id"]
    theirs = bind(mint_code(second, estate)["scene"]).json["user"]["id"]
    assert customers(client, first) == [mine]
    assert customers(client, second) == [theirs]
    response = client.get(f"/api/v1/engineer/customers/{mine}", headers=second.headers)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "customer_not_found"
    # Same answer as for a user who does not exist at all: nothing leaks.
    unknown = client.get("/api/v1/engineer/customers/987654", headers=second.headers)
    assert unknown.status_code == 404 and unknown.json == response.json
    detail = client.get(f"/api/v1/engineer/customers/{mine}", headers=first.headers)
    assert detail.status_code == 200 and detail.json["user_id"] == mine


def test_customers_filter_by_estate(client, make_estate, make_engineer, mint_code, bind):
    a, b = make_estate(), make_estate()
    engineer = make_engineer([a, b])
    in_a = bind(mint_code(engineer, a)["scene"]).json["user"]["id"]
    in_b = bind(mint_code(engineer, b)["scene"]).json["user"]["id"]
    assert customers(client, engineer, estate_id=a) == [in_a]
    assert customers(client, engineer, estate_id=b) == [in_b]
    assert customers(client, engineer) == [in_b, in_a]


# -- reassignment and departure -----------------------------------------------------------------


@pytest.fixture
def book(make_estate, make_engineer, mint_code, bind):
    """Engineer A with two customers in estate X and one in Y; engineer B covers both."""
    x, y = make_estate(), make_estate()
    a, b = make_engineer([x, y]), make_engineer([x, y])
    in_x = [bind(mint_code(a, x)["scene"]).json for _ in range(2)]
    in_y = [bind(mint_code(a, y)["scene"]).json]
    return {"x": x, "y": y, "a": a, "b": b, "in_x": in_x, "in_y": in_y}


def test_reassign_one_estate_then_all(app, client, admin, book):
    a, b = book["a"], book["b"]
    x_ids = [r["user"]["id"] for r in book["in_x"]]
    y_id = book["in_y"][0]["user"]["id"]
    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/reassign", headers=admin.headers,
                           json={"to_engineer_id": b.engineer_id, "estate_id": book["x"]})
    assert response.status_code == 200 and response.json == {
        "moved": 2, "skipped": 0, "skipped_reasons": {"limit": 0, "pending": 0}, "ended": 0}
    # a pending handover: nothing moves before the customers had 24 hours to refuse
    assert sorted(customers(client, a)) == sorted(x_ids + [y_id])
    assert complete_handovers(app)["completed"] == 2
    assert customers(client, a) == [y_id]
    assert sorted(customers(client, b)) == sorted(x_ids)
    for resident in book["in_x"]:
        assert stewards(client, resident["token"]) == [b.engineer_id]
        new, old = history(client, admin, resident["user"]["id"])
        assert (old["engineer"]["id"], old["end_reason"], old["ended_by_id"]) == (a.engineer_id, "reassigned", admin.user_id)
        assert (new["engineer"]["id"], new["start_reason"], new["ended_at"]) == (b.engineer_id, "reassigned", None)
        assert new["estate"]["id"] == old["estate"]["id"] == book["x"]
    assert stewards(client, book["in_y"][0]["token"]) == [a.engineer_id]

    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/reassign", headers=admin.headers,
                           json={"to_engineer_id": b.engineer_id})
    assert response.json["moved"] == 1
    complete_handovers(app)
    assert customers(client, a) == []
    assert len(customers(client, b)) == 3


def test_reassign_refusals(client, admin, book, make_estate):
    a = book["a"]
    same = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/reassign", headers=admin.headers,
                       json={"to_engineer_id": a.engineer_id})
    assert same.status_code == 400 and same.json["error"]["code"] == "same_engineer"
    invited = create_engineer(client, admin, "NEW-1")
    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/reassign", headers=admin.headers,
                           json={"to_engineer_id": invited["id"]})
    assert response.status_code == 409 and response.json["error"]["code"] == "target_engineer_inactive"
    missing = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/reassign", headers=admin.headers,
                          json={"to_engineer_id": 987654})
    assert missing.status_code == 404
    assert len(customers(client, a)) == 3  # nothing moved


def test_deactivate_with_reassign(app, client, admin, book):
    a, b = book["a"], book["b"]
    residents = book["in_x"] + book["in_y"]
    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/deactivate", headers=admin.headers,
                           json={"reassign_to": b.engineer_id})
    assert response.status_code == 200 and (response.json["moved"], response.json["ended"]) == (3, 0)
    # until the handover decides, the customers stay with the engineer who left
    assert stewards(client, residents[0]["token"]) == [a.engineer_id]
    complete_handovers(app)
    for resident in residents:
        assert stewards(client, resident["token"]) == [b.engineer_id]
        new, old = history(client, admin, resident["user"]["id"])
        assert (new["start_reason"], new["end_reason"], old["end_reason"]) == ("handover", None, "engineer_left")
    # The engineer who left cannot work any more, though their WeChat account lives on.
    minted = client.post("/api/v1/engineer/binding-codes", headers=a.headers, json={"estate_id": book["x"]})
    assert minted.status_code == 403
    assert client.get("/api/v1/engineer/customers", headers=a.headers).status_code == 403
    assert client.get("/api/v1/me", headers=a.headers).json["roles"] == ["resident"]
    profile = client.get(f"/api/v1/admin/engineers/{a.engineer_id}", headers=admin.headers).json
    assert profile["status"] == "left" and profile["left_at"]
    again = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/deactivate", headers=admin.headers, json={})
    assert again.status_code == 409 and again.json["error"]["code"] == "engineer_already_left"


def test_deactivate_without_reassign_ends_the_bindings(client, admin, book, mint_code, bind):
    a = book["a"]
    residents = book["in_x"] + book["in_y"]
    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/deactivate", headers=admin.headers, json={})
    assert response.status_code == 200 and (response.json["moved"], response.json["ended"]) == (0, 3)
    for resident in residents:
        assert stewards(client, resident["token"]) == []
        [ended] = history(client, admin, resident["user"]["id"])
        assert (ended["end_reason"], ended["ended_by_id"]) == ("engineer_left", admin.user_id)
    # A resident without a steward gets one at the next scan.
    rebound = bind(mint_code(book["b"], book["x"])["scene"], openid=None)
    assert rebound.json["result"] == "created"


def test_deactivating_to_an_engineer_who_left_is_refused_and_changes_nothing(client, admin, book):
    a, b = book["a"], book["b"]
    client.post(f"/api/v1/admin/engineers/{b.engineer_id}/deactivate", headers=admin.headers, json={})
    response = client.post(f"/api/v1/admin/engineers/{a.engineer_id}/deactivate", headers=admin.headers,
                           json={"reassign_to": b.engineer_id})
    assert response.status_code == 409
    assert client.get(f"/api/v1/admin/engineers/{a.engineer_id}", headers=admin.headers).json["status"] == "active"
    assert len(customers(client, a)) == 3


def test_agents_read_an_engineers_customers_and_a_residents_history_others_do_not(
        client, admin, agent, make_estate, make_engineer, mint_code, bind, login):
    estate = make_estate()
    engineer, other = make_engineer([estate]), make_engineer([estate])
    resident = bind(mint_code(engineer, estate)["scene"]).json["user"]["id"]
    url = f"/api/v1/admin/engineers/{engineer.engineer_id}/customers"
    for staff in (admin, agent):
        assert [c["user_id"] for c in client.get(url, headers=staff.headers).json["items"]] == [resident]
        assert [h["engineer"]["id"] for h in history(client, staff, resident)] == [engineer.engineer_id]
    # another engineer (even one covering the estate) and a resident are refused
    for outsider in (other, login()):
        assert client.get(url, headers=outsider.headers).status_code == 403
    # an agent only reads: handing customers over stays with admins
    moved = client.post(f"/api/v1/admin/engineers/{engineer.engineer_id}/reassign", headers=agent.headers,
                        json={"to_engineer_id": other.engineer_id})
    assert moved.status_code == 403


def test_who_may_see_an_engineers_customers_is_one_rule(app, make_estate, make_engineer, login):
    """customers_engineer: the engineer their own, staff anyone's; another engineer's is a 404."""
    from community.stewards import services
    from core.accounts.services import Principal
    from core.errors import Forbidden, NotFound

    estate = make_estate()
    engineer, other = make_engineer([estate]), make_engineer([estate])
    resident = login()
    with app.app_context():
        mine = Principal(id=engineer.user_id, roles=frozenset({"resident", "engineer"}))
        assert services.customers_engineer(mine).id == engineer.engineer_id
        assert services.customers_engineer(mine, engineer.engineer_id).id == engineer.engineer_id
        with pytest.raises(NotFound):
            services.customers_engineer(mine, other.engineer_id)
        for role in ("admin", "agent"):
            staff = Principal(id=10**9, roles=frozenset({role}))
            assert services.customers_engineer(staff, other.engineer_id).id == other.engineer_id
        with pytest.raises(Forbidden):  # not an engineer: no customers of their own
            services.customers_engineer(Principal(id=resident.user_id, roles=frozenset({"resident"})))
