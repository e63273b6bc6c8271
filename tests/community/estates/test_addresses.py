"""A resident's address book: /api/v1/me/addresses, and address_of for the orders."""
import pytest
import sqlalchemy as sa

from community.estates import services
from community.estates.models import Address
from core.errors import NotFound
from core.extensions import db
from tests.concurrency import http_race
from tests.conftest import ON_POSTGRES, bearer

URL = "/api/v1/me/addresses"


def body(estate_id, **fields) -> dict:
    return {"estate_id": estate_id, "building": "3", "unit": "2", "room": "1201", "contact_name": "王阿姨",
            "contact_phone": "13800138000", **fields}


def add(client, who, estate_id, expect=201, **fields):
    response = client.post(URL, headers=who.headers, json=body(estate_id, **fields))
    assert response.status_code == expect, response.json
    return response.json


def book(client, who) -> list[dict]:
    response = client.get(URL, headers=who.headers)
    assert response.status_code == 200
    return response.json["items"]


def defaults(client, who) -> list[int]:
    return [a["id"] for a in book(client, who) if a["is_default"]]


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    return response.json["error"]


def my_estates(client, who) -> list[int]:
    return [r["estate"]["id"] for r in client.get("/api/v1/me/estates", headers=who.headers).json["items"]]


@pytest.fixture
def estate(make_estate):
    return make_estate(name="翠竹苑")


# -- adding -----------------------------------------------------------------------------------

def test_the_first_address_is_the_default_and_makes_me_a_resident(client, login, estate):
    resident = login()
    assert my_estates(client, resident) == []
    address = add(client, resident, estate, contact_phone="138 0013-8000", is_default=False)
    assert address["is_default"] is True
    assert address["estate"] == {"id": estate, "name": "翠竹苑", "city": "深圳市", "district": "南山区"}
    assert address["text"] == "翠竹苑 3栋 2单元 1201"
    assert address["contact_phone"] == "13800138000"
    assert {k: address[k] for k in ("building", "unit", "room", "contact_name")} == {
        "building": "3", "unit": "2", "room": "1201", "contact_name": "王阿姨"}
    assert book(client, resident) == [address]
    assert my_estates(client, resident) == [estate]
    joined = client.get("/api/v1/me/estates", headers=resident.headers).json["items"][0]
    assert joined["source"] == "self"


def test_default_first_then_newest_first(client, login, estate):
    resident = login()
    first = add(client, resident, estate, room="101")
    second = add(client, resident, estate, room="102")
    third = add(client, resident, estate, room="103")
    assert [a["id"] for a in book(client, resident)] == [first["id"], third["id"], second["id"]]
    assert second["is_default"] is False and third["is_default"] is False


def test_adding_a_new_default_clears_the_old_one(client, login, estate):
    resident = login()
    first = add(client, resident, estate)
    second = add(client, resident, estate, room="902", is_default=True)
    assert second["is_default"] is True
    assert defaults(client, resident) == [second["id"]]
    assert [a["id"] for a in book(client, resident)] == [second["id"], first["id"]]


@pytest.mark.parametrize("fields, text", [
    ({"building": "3栋", "unit": "2单元", "room": "1201"}, "翠竹苑 3栋 2单元 1201"),
    ({"building": "A", "unit": "", "room": "502"}, "翠竹苑 A栋 502"),
    ({"building": "别墅区12号", "unit": "", "room": ""}, "翠竹苑 别墅区12号"),
    ({"building": " 7 ", "unit": " 1 ", "room": " B03 "}, "翠竹苑 7栋 1单元 B03"),
])
def test_the_one_line_text(client, login, estate, fields, text):
    assert add(client, login(), estate, **fields)["text"] == text


def test_unit_and_room_may_be_left_out(client, login, estate):
    response = client.post(URL, headers=login().headers, json={
        "estate_id": estate, "building": "5", "contact_name": "李", "contact_phone": "13900139000"})
    assert response.status_code == 201, response.json
    assert response.json["unit"] == "" and response.json["room"] == "" and response.json["text"] == "翠竹苑 5栋"


def test_missing_and_bad_fields_are_listed(client, login, estate):
    resident = login()
    err = error(client.post(URL, headers=resident.headers, json={}), 422, "validation_error")
    assert set(err["details"]["fields"]) == {"estate_id", "building", "contact_name", "contact_phone"}
    err = error(client.post(URL, headers=resident.headers, json=body(
        estate, building="  ", contact_name=" ", contact_phone="1380013800", room="1" * 17)), 422, "validation_error")
    assert set(err["details"]["fields"]) == {"building", "contact_name", "contact_phone", "room"}
    assert err["details"]["fields"]["contact_phone"] == ["请填写 11 位手机号码"]
    assert book(client, resident) == [] and my_estates(client, resident) == []


@pytest.mark.parametrize("phone", ["23800138000", "12800138000", "138001380001", "１３８００１３８０００", "abc"])
def test_contact_phone_is_a_mainland_mobile(client, login, estate, phone):
    err = error(client.post(URL, headers=login().headers, json=body(estate, contact_phone=phone)),
                422, "validation_error")
    assert list(err["details"]["fields"]) == ["contact_phone"]


@pytest.mark.parametrize("fields", [{"building": "3\n4"}, {"contact_name": "王\x00阿姨"}, {"unit": "u" * 17},
                                    {"contact_name": "名" * 33}])
def test_text_fields_are_bounded_and_single_line(client, login, estate, fields):
    err = error(client.post(URL, headers=login().headers, json=body(estate, **fields)), 422, "validation_error")
    assert list(err["details"]["fields"]) == list(fields)


def test_the_estate_must_exist_and_be_active(client, login, admin, make_estate):
    resident = login()
    error(client.post(URL, headers=resident.headers, json=body(10**9)), 404, "estate_not_found")
    closed = make_estate(status="inactive")
    error(client.post(URL, headers=resident.headers, json=body(closed)), 409, "estate_inactive")
    assert book(client, resident) == [] and my_estates(client, resident) == []


def test_at_most_twenty_addresses(client, login, estate):
    resident = login()
    made = [add(client, resident, estate, room=str(100 + i)) for i in range(20)]
    err = error(client.post(URL, headers=resident.headers, json=body(estate, room="999")), 409, "address_limit")
    assert "20" in err["message"]
    assert len(book(client, resident)) == 20
    assert client.delete(f"{URL}/{made[5]['id']}", headers=resident.headers).status_code == 204
    add(client, resident, estate, room="999")


def test_a_retried_post_with_the_same_key_adds_once(client, login, estate):
    resident = login()
    headers = {**resident.headers, "Idempotency-Key": "addr-1"}
    first = client.post(URL, headers=headers, json=body(estate))
    again = client.post(URL, headers=headers, json=body(estate))
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    assert len(book(client, resident)) == 1


def test_needs_a_login(client, estate):
    assert client.get(URL).status_code == 401
    assert client.post(URL, json=body(estate)).status_code == 401


# -- changing ---------------------------------------------------------------------------------

def test_changing_only_what_is_sent(client, login, estate):
    resident = login()
    address = add(client, resident, estate)
    response = client.put(f"{URL}/{address['id']}", headers=resident.headers, json={"room": "1302"})
    assert response.status_code == 200, response.json
    assert response.json["room"] == "1302" and response.json["building"] == "3"
    assert response.json["text"] == "翠竹苑 3栋 2单元 1302"
    assert response.json["is_default"] is True
    assert book(client, resident) == [response.json]


def test_setting_another_default_clears_the_old_one(client, login, estate):
    resident = login()
    first, second = add(client, resident, estate), add(client, resident, estate, room="2")
    response = client.put(f"{URL}/{second['id']}", headers=resident.headers, json={"is_default": True})
    assert response.status_code == 200 and response.json["is_default"] is True
    assert defaults(client, resident) == [second["id"]]
    # Setting it again changes nothing.
    assert client.put(f"{URL}/{second['id']}", headers=resident.headers, json={"is_default": True}).status_code == 200
    assert defaults(client, resident) == [second["id"]]
    # The default cannot be unset, only replaced; a non-default may say false.
    err = error(client.put(f"{URL}/{second['id']}", headers=resident.headers, json={"is_default": False}),
                409, "default_address_required")
    assert "默认" in err["message"]
    assert client.put(f"{URL}/{first['id']}", headers=resident.headers, json={"is_default": False}).status_code == 200
    assert defaults(client, resident) == [second["id"]]


def test_moving_an_address_to_another_estate_makes_me_its_resident(client, login, estate, make_estate):
    resident = login()
    address = add(client, resident, estate)
    parents = make_estate(name="金地花园")
    response = client.put(f"{URL}/{address['id']}", headers=resident.headers, json={"estate_id": parents})
    assert response.status_code == 200
    assert response.json["estate"]["id"] == parents and response.json["text"].startswith("金地花园 ")
    assert my_estates(client, resident) == [estate, parents]
    error(client.put(f"{URL}/{address['id']}", headers=resident.headers, json={"estate_id": make_estate(status="inactive")}),
          409, "estate_inactive")
    error(client.put(f"{URL}/{address['id']}", headers=resident.headers, json={"estate_id": 10**9}),
          404, "estate_not_found")
    assert book(client, resident)[0]["estate"]["id"] == parents


def test_saving_an_address_rejoins_an_estate_i_left(client, login, estate):
    resident = login()
    address = add(client, resident, estate)
    assert client.delete(f"/api/v1/me/estates/{estate}", headers=resident.headers).status_code == 204
    assert my_estates(client, resident) == []
    assert client.put(f"{URL}/{address['id']}", headers=resident.headers, json={"room": "8"}).status_code == 200
    assert my_estates(client, resident) == [estate]


def test_bad_changes_are_422_and_change_nothing(client, login, estate):
    resident = login()
    address = add(client, resident, estate)
    err = error(client.put(f"{URL}/{address['id']}", headers=resident.headers,
                           json={"contact_phone": "123", "building": "", "room": "9"}), 422, "validation_error")
    assert set(err["details"]["fields"]) == {"contact_phone", "building"}
    assert book(client, resident) == [address]


# -- someone else's ---------------------------------------------------------------------------

def test_someone_elses_address_is_404_and_untouched(client, login, estate):
    alice, bob = login(), login()
    theirs = add(client, bob, estate)
    error(client.put(f"{URL}/{theirs['id']}", headers=alice.headers, json={"room": "1"}), 404, "address_not_found")
    error(client.put(f"{URL}/{theirs['id']}", headers=alice.headers, json={"is_default": True}), 404,
          "address_not_found")
    error(client.delete(f"{URL}/{theirs['id']}", headers=alice.headers), 404, "address_not_found")
    error(client.delete(f"{URL}/{10**12}", headers=alice.headers), 404, "address_not_found")
    assert book(client, alice) == []
    assert book(client, bob) == [theirs]


def test_address_of_is_the_owners_only(client, app, login, estate):
    alice, bob = login(), login()
    theirs = add(client, bob, estate)
    with app.app_context():
        address = services.address_of(bob.user_id, theirs["id"])
        assert (address.user_id, address.estate.name, services.address_text(address)) == (
            bob.user_id, "翠竹苑", "翠竹苑 3栋 2单元 1201")
        with pytest.raises(NotFound) as exc:
            services.address_of(alice.user_id, theirs["id"])
        assert exc.value.code == "address_not_found"


# -- deleting ---------------------------------------------------------------------------------

def test_deleting_the_default_makes_the_newest_remaining_one_default(client, login, estate):
    resident = login()
    first = add(client, resident, estate, room="1")
    second = add(client, resident, estate, room="2")
    third = add(client, resident, estate, room="3")
    client.put(f"{URL}/{second['id']}", headers=resident.headers, json={"is_default": True})
    assert client.delete(f"{URL}/{second['id']}", headers=resident.headers).status_code == 204
    assert defaults(client, resident) == [third["id"]]
    # Deleting one that is not the default leaves the default alone.
    fourth = add(client, resident, estate, room="4")
    assert client.delete(f"{URL}/{fourth['id']}", headers=resident.headers).status_code == 204
    assert defaults(client, resident) == [third["id"]]
    assert client.delete(f"{URL}/{third['id']}", headers=resident.headers).status_code == 204
    assert defaults(client, resident) == [first["id"]]
    assert client.delete(f"{URL}/{first['id']}", headers=resident.headers).status_code == 204
    assert book(client, resident) == []
    assert client.delete(f"{URL}/{first['id']}", headers=resident.headers).status_code == 404
    # An empty book starts over: the next address is the default.
    assert add(client, resident, estate)["is_default"] is True


def test_books_are_separate(client, login, estate):
    alice, bob = login(), login()
    mine = add(client, alice, estate)
    theirs = add(client, bob, estate)
    assert mine["is_default"] and theirs["is_default"]
    assert [a["id"] for a in book(client, alice)] == [mine["id"]]


# -- races ------------------------------------------------------------------------------------

@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")
def test_concurrent_set_default_leaves_exactly_one(app, client, login, estate):
    resident = login()
    ids = [add(client, resident, estate, room=str(i))["id"] for i in range(6)]

    def set_default(address_id):
        return lambda c: c.put(f"{URL}/{address_id}", headers=bearer(resident.token), json={"is_default": True})

    results = http_race(app, [set_default(i) for i in ids[1:]])
    assert [r.status_code for r in results] == [200] * 5
    assert len(defaults(client, resident)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Address).where(
            Address.user_id == resident.user_id, Address.is_default)) == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")
def test_concurrent_first_addresses_and_the_limit(app, client, login, estate):
    resident = login()

    def post(room, default=False):
        return lambda c: c.post(URL, headers=bearer(resident.token), json=body(estate, room=room, is_default=default))

    results = http_race(app, [post(str(i)) for i in range(4)])
    assert [r.status_code for r in results] == [201] * 4
    assert len(defaults(client, resident)) == 1  # exactly one of the racing "first" addresses
    for i in range(15):
        add(client, resident, estate, room=f"x{i}")
    results = http_race(app, [post(f"y{i}", default=True) for i in range(4)])
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409]
    assert len(book(client, resident)) == 20
    assert len(defaults(client, resident)) == 1
