"""Product archives through the API: the resident registers their own appliances, the steward
registers a customer's at a visit, the same serial twice is the same product, a serial on record
for someone else becomes a conflict (never a silent move), warranty and next care in the lists,
edits and retirement, and who may see whose products."""
from datetime import timedelta

import sqlalchemy as sa

from community.products import services
from tests.community.products.conftest import err

TODAY = services.today()


def days_ago(n: int) -> str:
    return (TODAY - timedelta(days=n)).isoformat()


def register(client, who, **body):
    return client.post("/api/v1/me/products", headers=who.headers, json=body)


def test_a_resident_registers_an_appliance_with_warranty_and_care(client, resident, catalogue, estate, schedules):
    r = register(client, resident, model_code="ro-600g", serial=" ab12-3456 ", install_date=days_ago(10),
                 purchase_date=days_ago(12), estate_id=estate, address="3栋 1201")
    assert r.status_code == 201, r.json
    product = r.json
    assert product["serial"] == "AB12-3456"  # trimmed, upper-case
    assert product["model"] == {"id": catalogue.purifier, "code": "RO-600G", "name": "反渗透净水器 RO-600G",
                                "category": "water_purifier", "category_label": "净水器", "image_url": None,
                                "warranty_months": 24}
    assert product["warranty_end"] == services.add_months(TODAY - timedelta(days=12), 24).isoformat()
    assert product["in_warranty"] is True
    assert product["warranty_days_left"] == (services.add_months(TODAY - timedelta(days=12), 24) - TODAY).days
    assert (product["status"], product["source"], product["owner_id"]) == ("active", "resident", resident.user_id)
    assert (product["estate_id"], product["address"], product["installer"]) == (estate, "3栋 1201", None)
    # the earliest care: the inspection 30 days after installation (20 days from now)
    assert product["next_care"] == {"due_on": days_ago(-20), "plan_id": catalogue.inspection,
                                    "plan_name": "安装后回访检测", "service_type": "inspection",
                                    "service_type_label": "检测", "overdue": False, "days_left": 20}
    assert schedules(product["id"]) == {catalogue.inspection: (TODAY + timedelta(days=20), None),
                                        catalogue.filters: (TODAY + timedelta(days=170), None)}
    listed = client.get("/api/v1/me/products", headers=resident.headers).json
    assert [p["id"] for p in listed["items"]] == [product["id"]] and listed["next_cursor"] is None
    detail = client.get(f"/api/v1/me/products/{product['id']}", headers=resident.headers).json
    assert [(s["plan_name"], s["next_due_on"]) for s in detail["schedules"]] == [
        ("安装后回访检测", days_ago(-20)), ("PP棉滤芯更换", days_ago(-170))]


def test_registering_the_same_serial_again_returns_the_same_product(client, resident, catalogue, app):
    from community.products.models import Product, ProductSchedule
    from core.extensions import db

    first = register(client, resident, model_id=catalogue.purifier, serial="SN-1")
    again = register(client, resident, model_code="RO-600G", serial="sn-1", install_date=days_ago(3))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"] and again.json["install_date"] is None  # unchanged
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductSchedule)) == 2
    # the same serial of another model is another product
    assert register(client, resident, model_id=catalogue.ac, serial="SN-1").status_code == 201


def test_a_serial_on_record_for_someone_else_becomes_one_conflict_not_a_move(client, resident, login, catalogue, app):
    from community.products.models import Product, SerialConflict
    from core.extensions import db

    owner_product = register(client, resident, model_id=catalogue.purifier, serial="SN-9").json
    other = login()
    for _ in range(2):
        r = register(client, other, model_code="RO-600G", serial="SN-9", install_date=days_ago(5), address="5栋")
        assert r.status_code == 409 and err(r) == "serial_conflict"
        assert r.json["error"]["message"] == "该序列号的产品已登记在其他用户名下，客服将核实后与您联系"
    with app.app_context():
        conflicts = db.session.scalars(sa.select(SerialConflict)).all()
        assert len(conflicts) == 1  # once per claimant, kept although the answer was a 409
        c = conflicts[0]
        assert (c.product_id, c.claimant_id, c.status, c.source) == (owner_product["id"], other.user_id, "open",
                                                                     "resident")
        assert c.claim["serial"] == "SN-9" and c.claim["install_date"] == days_ago(5) and c.claim["address"] == "5栋"
        assert db.session.get(Product, owner_product["id"]).owner_id == resident.user_id
    assert client.get("/api/v1/me/products", headers=other.headers).json["items"] == []


def test_registration_refusals_are_clear_4xx(client, resident, login, catalogue, estate, make_estate):
    cases = [
        ({"model_code": "NOPE-1", "serial": "X"}, 422, "model_code"),
        ({"model_id": 999999, "serial": "X"}, 422, "model_id"),
        ({"serial": "X"}, 422, "model_code"),
        ({"model_id": catalogue.purifier, "serial": "  "}, 422, "serial"),
        ({"model_id": catalogue.purifier, "serial": "含中文"}, 422, "serial"),
        ({"model_id": catalogue.purifier, "serial": "A B"}, 422, "serial"),
        ({"model_id": catalogue.purifier, "serial": "X", "install_date": days_ago(-1)}, 422, "install_date"),
        ({"model_id": catalogue.purifier, "serial": "X", "purchase_date": "1970-01-01"}, 422, "purchase_date"),
        ({"model_id": catalogue.purifier, "serial": "X", "install_date": "2024-13-01"}, 422, "install_date"),
        ({"model_id": catalogue.purifier, "serial": "X", "estate_id": make_estate()}, 422, "estate_id"),
        ({"model_id": catalogue.purifier, "serial": "X", "estate_id": 987654}, 422, "estate_id"),
    ]
    for body, status, field in cases:
        r = register(client, resident, **body)
        assert r.status_code == status, (body, r.json)
        assert field in r.json["error"]["details"]["fields"], (body, r.json)
    # someone else's address book entry: 404, nothing leaks
    stranger = login()
    book = client.post("/api/v1/me/addresses", headers=stranger.headers, json={
        "estate_id": estate, "building": "1", "contact_name": "王", "contact_phone": "13800000001"}).json
    r = register(client, resident, model_id=catalogue.purifier, serial="X", address_id=book["id"])
    assert r.status_code == 404 and err(r) == "address_not_found"
    assert client.post("/api/v1/me/products", json={"model_id": catalogue.purifier, "serial": "X"}).status_code == 401


def test_an_address_from_the_book_gives_the_estate_and_the_address_text(client, resident, catalogue, estate):
    book = client.post("/api/v1/me/addresses", headers=resident.headers, json={
        "estate_id": estate, "building": "3", "unit": "2", "room": "1201", "contact_name": "陈",
        "contact_phone": "13800000002"}).json
    r = register(client, resident, model_id=catalogue.ac, serial="AC-1", address_id=book["id"])
    assert r.status_code == 201
    assert (r.json["estate_id"], r.json["address_id"]) == (estate, book["id"])
    assert r.json["address"].endswith("3栋 2单元 1201") and r.json["estate_name"]


def test_the_steward_registers_a_customers_appliance_at_a_visit(client, estate, make_engineer, mint_code, bind,
                                                                catalogue, login):
    engineer = make_engineer([estate], name="王建国")
    other = make_engineer([estate])
    scene = mint_code(engineer, estate)["scene"]
    customer = bind(scene).json["user"]["id"]
    url = f"/api/v1/engineer/customers/{customer}/products"
    r = client.post(url, headers=engineer.headers, json={"model_code": "KFR-35GW", "serial": "AC-777",
                                                         "install_date": days_ago(0)})
    assert r.status_code == 201, r.json
    product = r.json
    assert product["installer"] == {"id": engineer.engineer_id, "name": "王建国"}
    assert (product["owner_id"], product["estate_id"], product["source"]) == (customer, estate, "engineer")
    # the AC's cleaning: 300 days after installation, moved into the April-June window
    due = services.into_season(TODAY + timedelta(days=300), 4, 6)
    assert product["next_care"]["due_on"] == due.isoformat() and product["next_care"]["plan_name"] == "空调年度清洗"
    # again: the same product (200); another engineer cannot register for or see this customer
    assert client.post(url, headers=engineer.headers, json={"model_code": "KFR-35GW", "serial": "AC-777"}).status_code == 200
    r = client.post(url, headers=other.headers, json={"model_code": "KFR-35GW", "serial": "AC-778"})
    assert r.status_code == 404 and err(r) == "customer_not_found"
    assert client.get(url, headers=other.headers).status_code == 404
    # a resident cannot use the engineer's endpoint; the steward, admins and agents see the list
    assert client.post(url, headers=login().headers, json={"model_code": "KFR-35GW", "serial": "A"}).status_code == 403
    assert [p["serial"] for p in client.get(url, headers=engineer.headers).json["items"]] == ["AC-777"]


def test_admins_and_agents_see_any_customers_products(client, resident, catalogue, admin, agent, make_engineer,
                                                      estate):
    register(client, resident, model_id=catalogue.purifier, serial="P-1")
    url = f"/api/v1/engineer/customers/{resident.user_id}/products"
    for who in (admin, agent):
        assert [p["serial"] for p in client.get(url, headers=who.headers).json["items"]] == ["P-1"]
    # an engineer who is not the resident's steward: 404
    assert client.get(url, headers=make_engineer([estate]).headers).status_code == 404


def test_edit_dates_moves_warranty_and_schedules_and_retire_stops_care(client, resident, catalogue, schedules):
    product = register(client, resident, model_id=catalogue.purifier, serial="P-2", install_date=days_ago(1)).json
    url = f"/api/v1/me/products/{product['id']}"
    r = client.post(url, headers=resident.headers, json={"install_date": days_ago(20)})
    assert r.status_code == 200
    assert r.json["warranty_end"] == services.add_months(TODAY - timedelta(days=20), 24).isoformat()
    assert schedules(product["id"])[catalogue.inspection] == (TODAY + timedelta(days=10), None)
    r = client.post(url + "/retire", headers=resident.headers)
    assert r.status_code == 200 and r.json["status"] == "retired" and r.json["next_care"] is None
    assert schedules(product["id"]) == {}
    assert client.post(url + "/retire", headers=resident.headers).status_code == 200  # harmless again
    r = client.post(url, headers=resident.headers, json={"install_date": days_ago(3)})
    assert r.status_code == 409 and err(r) == "product_not_active"
    assert client.get("/api/v1/me/products", headers=resident.headers).json["items"] == []
    retired = client.get("/api/v1/me/products?status=retired", headers=resident.headers).json["items"]
    assert [p["id"] for p in retired] == [product["id"]]
    assert len(client.get("/api/v1/me/products?status=all", headers=resident.headers).json["items"]) == 1


def test_someone_elses_product_is_a_404(client, resident, login, catalogue):
    product = register(client, resident, model_id=catalogue.purifier, serial="P-3").json
    stranger = login()
    for method, suffix in (("get", ""), ("post", ""), ("post", "/retire")):
        r = getattr(client, method)(f"/api/v1/me/products/{product['id']}{suffix}", headers=stranger.headers,
                                    json={} if method == "post" else None)
        assert r.status_code == 404 and err(r) == "product_not_found"


def test_the_catalogue_picker_lists_models_on_offer(client, resident, catalogue, admin):
    assert client.post(f"/api/v1/admin/product-models/{catalogue.ac}/deactivate", headers=admin.headers).status_code == 200
    items = client.get("/api/v1/product-models?category=water_purifier", headers=resident.headers).json["items"]
    assert [m["code"] for m in items] == ["RO-600G"]
    assert client.get("/api/v1/product-models", headers=resident.headers).json["items"][0]["code"] == "RO-600G"
    # a discontinued model still registers (an old appliance's nameplate)
    assert register(client, resident, model_code="KFR-35GW", serial="OLD-1").status_code == 201


def test_editing_the_address_keeps_the_estate_and_an_address_book_entry_brings_its_own(client, resident, catalogue,
                                                                                       estate):
    product = register(client, resident, model_id=catalogue.purifier, serial="P-4", estate_id=estate,
                       address="1栋").json
    url = f"/api/v1/me/products/{product['id']}"
    r = client.post(url, headers=resident.headers, json={"address": "2栋 302"})
    assert (r.json["estate_id"], r.json["address"]) == (estate, "2栋 302")
    book = client.post("/api/v1/me/addresses", headers=resident.headers, json={
        "estate_id": estate, "building": "5", "room": "501", "contact_name": "陈", "contact_phone": "13800000003"}).json
    r = client.post(url, headers=resident.headers, json={"address_id": book["id"]})
    assert (r.json["address_id"], r.json["estate_id"]) == (book["id"], estate) and r.json["address"].endswith("5栋 501")
    r = client.post(url, headers=resident.headers, json={"address_id": book["id"], "address": "又写了"})
    assert r.status_code == 422 and "address" in r.json["error"]["details"]["fields"]
