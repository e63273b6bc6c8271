"""Where and whom of a service request: an address from the caller's address book or written out,
the contact (defaulting to the caller's own phone), photos; the order keeps copies. Only the
order's resident and its assigned engineer see the full contact phone: every other view (admins,
agents, the integration) gets it masked, in the API and on the pages."""
import io
import json
import re
import time

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.conftest import html

PHONE, MASKED = "13812345678", "138****5678"


def err(response):
    return response.json["error"]["code"]


def fields_of(response):
    return response.json["error"]["details"]["fields"]


@pytest.fixture
def estate(make_estate):
    return make_estate(name="翠竹苑")


@pytest.fixture
def resident(client, login, estate):
    account = login()
    assert client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate}).status_code == 201
    return account


def set_user(app, user_id, **values):
    from core.accounts.models import User
    from core.extensions import db
    with app.app_context():
        user = db.session.get(User, user_id)
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()


def add_address(client, who, estate, **extra):
    r = client.post("/api/v1/me/addresses", headers=who.headers, json={
        "estate_id": estate, "building": "3", "unit": "2", "room": "1201", "contact_name": "陈小明",
        "contact_phone": PHONE, **extra})
    assert r.status_code == 201, r.json
    return r.json


def request(client, who, estate, **extra):
    return client.post("/api/v1/service-requests", headers=who.headers,
                       json={"estate_id": estate, "service_type": "repair", **extra})


def upload(client, who) -> str:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (20, 120, 200)).save(out, "JPEG")
    r = client.post("/api/v1/uploads", headers=who.headers, data={"file": (io.BytesIO(out.getvalue()), "a.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_an_address_from_the_book_is_copied_with_its_contact(client, estate, resident, make_engineer):
    make_engineer([estate])
    address = add_address(client, resident, estate)
    r = request(client, resident, estate, address_id=address["id"])
    assert r.status_code == 201, r.json
    order = r.json
    assert order["address"] == address["text"] == "翠竹苑 3栋 2单元 1201"
    assert (order["contact_name"], order["contact_phone"]) == ("陈小明", PHONE)
    # an explicit contact wins over the book's
    r = request(client, resident, estate, address_id=address["id"], contact_name="陈妈妈", contact_phone="139-0000-1111")
    assert (r.json["contact_name"], r.json["contact_phone"]) == ("陈妈妈", "13900001111")
    # the order keeps its copy when the book changes
    assert client.put(f"/api/v1/me/addresses/{address['id']}", headers=resident.headers,
                      json={"room": "909", "contact_phone": "13700000000"}).status_code == 200
    again = client.get(f"/api/v1/service-orders/{order['id']}", headers=resident.headers).json
    assert (again["address"], again["contact_phone"]) == ("翠竹苑 3栋 2单元 1201", PHONE)


def test_the_address_must_be_mine_and_in_the_requests_estate(client, make_estate, estate, resident, login):
    elsewhere = make_estate(name="枫林苑")
    far = add_address(client, resident, elsewhere)  # the resident joins that estate too
    r = request(client, resident, estate, address_id=far["id"])
    assert r.status_code == 422 and list(fields_of(r)) == ["address_id"]
    neighbour = login()
    theirs = add_address(client, neighbour, estate)
    r = request(client, resident, estate, address_id=theirs["id"])
    assert r.status_code == 404 and err(r) == "address_not_found"
    mine = add_address(client, resident, estate)
    r = request(client, resident, estate, address_id=mine["id"], address="别处 1栋")
    assert r.status_code == 422 and list(fields_of(r)) == ["address"]
    assert client.get("/api/v1/me/service-orders", headers=resident.headers).json["items"] == []


def test_a_written_address_and_the_contact_default_to_my_own_phone(app, client, estate, resident):
    r = request(client, resident, estate, address="翠竹苑\n5栋  101", contact_name=" 老陈 ")
    assert r.status_code == 201, r.json
    assert (r.json["address"], r.json["contact_name"], r.json["contact_phone"]) == ("翠竹苑 5栋 101", "老陈", None)
    set_user(app, resident.user_id, phone=PHONE)
    r = request(client, resident, estate, address="翠竹苑 5栋 101")
    assert r.json["contact_phone"] == PHONE
    for bad in ("12345678901", "1381234567", "１３８１２３４５６７８", "phone"):
        r = request(client, resident, estate, contact_phone=bad)
        assert r.status_code == 422 and list(fields_of(r)) == ["contact_phone"], bad
    r = request(client, resident, estate, address="x" * 256)
    assert r.status_code == 422 and "address" in fields_of(r)
    r = request(client, resident, estate, contact_name="名" * 33)
    assert r.status_code == 422 and "contact_name" in fields_of(r)


def test_an_old_client_without_the_new_fields_still_works(client, estate, resident):
    r = client.post("/api/v1/service-requests", headers=resident.headers,
                    json={"estate_id": estate, "service_type": "cleaning", "description": "油烟机清洗"})
    assert r.status_code == 201, r.json
    assert (r.json["address"], r.json["contact_name"], r.json["contact_phone"], r.json["photos"]) == ("", None, None, [])


def test_photos_are_my_own_uploads_and_come_back_as_urls(client, estate, resident, login):
    mine = [upload(client, resident), upload(client, resident)]
    r = request(client, resident, estate, photos=mine)
    assert r.status_code == 201, r.json
    assert r.json["photos"] == [f"http://linli.test/api/v1/uploads/{name}" for name in mine]
    assert client.get(r.json["photos"][0]).status_code == 200
    theirs = upload(client, login())
    r = request(client, resident, estate, photos=[mine[0], theirs])
    assert r.status_code == 422 and list(fields_of(r)) == ["photos"]
    r = request(client, resident, estate, photos=[mine[0]] * 10)
    assert r.status_code == 422 and "photos" in fields_of(r)


def test_only_the_resident_and_the_assigned_engineer_see_the_full_phone(app, client, estate, resident, make_engineer,
                                                                        login, admin, agent):
    engineer = make_engineer([estate])
    bystander = make_engineer([estate])  # covers the estate, not assigned
    order = request(client, resident, estate, preferred_engineer_id=engineer.engineer_id, address="翠竹苑 3栋 1201",
                    contact_name="陈小明", contact_phone=PHONE).json
    assert order["contact_phone"] == PHONE
    url = f"/api/v1/service-orders/{order['id']}"
    shown = {name: client.get(url, headers=who.headers).json
             for name, who in (("resident", resident), ("engineer", engineer), ("admin", admin), ("agent", agent))}
    assert {name: o["contact_phone"] for name, o in shown.items()} == {
        "resident": PHONE, "engineer": PHONE, "admin": MASKED, "agent": MASKED}
    assert all((o["contact_name"], o["address"]) == ("陈小明", "翠竹苑 3栋 1201") for o in shown.values())
    assert client.get(url, headers=bystander.headers).status_code == 404
    assert client.get(url, headers=login().headers).status_code == 404
    # lists
    mine = client.get("/api/v1/me/service-orders", headers=resident.headers).json["items"][0]
    assigned = client.get("/api/v1/engineer/service-orders", headers=engineer.headers).json["items"][0]
    staff = client.get("/api/v1/admin/service-orders", headers=agent.headers).json["items"][0]
    assert (mine["contact_phone"], assigned["contact_phone"], staff["contact_phone"]) == (PHONE, PHONE, MASKED)
    assert client.get("/api/v1/engineer/service-orders", headers=bystander.headers).json["items"] == []
    # what staff actions answer is masked too; the engineer's own step answers in full
    r = client.post(f"/api/v1/admin/service-orders/{order['id']}/assign", headers=admin.headers,
                    json={"engineer_id": bystander.engineer_id})
    assert r.status_code == 200 and r.json["contact_phone"] == MASKED
    assert client.get(url, headers=engineer.headers).status_code == 404  # no longer theirs
    assert client.get(url, headers=bystander.headers).json["contact_phone"] == PHONE  # now theirs
    r = client.post(f"/api/v1/service-orders/{order['id']}/cancel", headers=agent.headers, json={"reason": "重复下单"})
    assert r.status_code == 200 and r.json["contact_phone"] == MASKED


def test_the_integrations_answer_masks_the_phone(app, client, estate, make_engineer):
    from core import integrations

    engineer = make_engineer([estate])
    raw = json.dumps({"external_id": "SVC-7", "estate_id": estate, "engineer_employee_no": engineer.employee_no,
                      "resident_phone": PHONE, "service_type": "repair",
                      "requested_at": "2024-03-01T10:00:00+08:00"}).encode()
    ts = str(int(time.time()))
    r = client.post("/api/v1/integrations/service-orders", data=raw, headers={
        "Content-Type": "application/json", "X-Linli-Timestamp": ts,
        "X-Linli-Signature": integrations.sign(app.config["INTEGRATION_SECRET"], ts, raw)})
    assert r.status_code == 200 and r.json["order"]["contact_phone"] == MASKED
    # its engineer sees the service system's phone in full, to call the customer
    listed = client.get("/api/v1/engineer/service-orders", headers=engineer.headers).json["items"]
    assert [o["contact_phone"] for o in listed] == [PHONE]


def test_customer_name_is_the_residents_display_name_else_the_contact_name(app, client, estate, resident,
                                                                           make_engineer):
    engineer = make_engineer([estate])
    request(client, resident, estate, contact_name="陈妈妈")
    first = client.get("/api/v1/engineer/service-orders", headers=engineer.headers).json["items"][0]
    assert first["customer_name"] == "陈妈妈"
    set_user(app, resident.user_id, display_name="陈小明")
    first = client.get("/api/v1/engineer/service-orders", headers=engineer.headers).json["items"][0]
    assert (first["customer_name"], first["contact_name"]) == ("陈小明", "陈妈妈")


def test_a_bare_order_cannot_be_dumped(ctx, make_estate):
    """The phone rule cannot be skipped by dumping an order without its actor's view."""
    from community.orders.models import ServiceOrder
    from community.orders.schemas import ServiceOrderSchema

    order = ServiceOrder(id=1, estate_id=make_estate(), service_type="repair", status="requested",
                         contact_phone=PHONE, photos=[])
    with pytest.raises(TypeError):
        ServiceOrderSchema().dump(order)


# -- the pages --------------------------------------------------------------------------------

@pytest.fixture
def engineer_web(client, web_login):
    def login_as(engineer):
        r = client.put("/api/v1/me/password", headers=engineer.headers, json=engineer.first_password("eng-pass-123"))
        assert r.status_code in (200, 204), r.get_data(as_text=True)
        web_login(engineer.employee_no, "eng-pass-123")
    return login_as


def test_the_workbench_shows_the_customer_with_a_tel_link_and_the_console_masks_it(
        app, client, estate, resident, make_engineer, engineer_web, make_admin, web_login):
    engineer = make_engineer([estate])
    photo = upload(client, resident)
    order = request(client, resident, estate, address="翠竹苑 3栋 1201", contact_name="陈小明", contact_phone=PHONE,
                    photos=[photo]).json
    engineer_web(engineer)
    page = html(client.get("/engineer/orders"))
    row = re.search(rf'data-id="{order["id"]}".*?</tr>', page, re.S).group(0)
    assert f'href="tel:{PHONE}"' in row and "陈小明" in row and "翠竹苑 3栋 1201" in row
    assert f"/api/v1/uploads/{photo}" in row
    client.get("/logout")
    make_admin("console-agent", "agent-pass-123", roles={"agent"})
    web_login("console-agent", "agent-pass-123")
    page = html(client.get("/admin/service-orders"))
    row = re.search(rf'data-id="{order["id"]}".*?</tr>', page, re.S).group(0)
    assert MASKED in row and "陈小明" in row and PHONE not in page and "tel:" not in page


def test_nobody_else_gets_the_full_phone_from_any_order_read(app, client, estate, resident, make_engineer, login,
                                                             admin, agent):
    """Sweep: the full number appears in the answers of the owner and the assigned engineer only."""
    engineer = make_engineer([estate])
    others = {"admin": admin, "agent": agent, "other engineer": make_engineer([estate]), "stranger": login()}
    order = request(client, resident, estate, preferred_engineer_id=engineer.engineer_id, contact_phone=PHONE).json
    reads = [f"/api/v1/service-orders/{order['id']}", "/api/v1/me/service-orders", "/api/v1/engineer/service-orders",
             "/api/v1/admin/service-orders", f"/api/v1/admin/service-orders?estate_id={estate}"]
    for name, who in others.items():
        for url in reads:
            body = client.get(url, headers=who.headers).get_data(as_text=True)
            assert PHONE not in body, (name, url)
    for who in (resident, engineer):
        assert any(PHONE in client.get(url, headers=who.headers).get_data(as_text=True) for url in reads)
    from core.extensions import db
    with app.app_context():  # the order itself keeps the full number
        assert db.session.execute(sa.text("SELECT contact_phone FROM service_orders")).scalar() == PHONE
