"""Schedules follow the services done: an order naming one of the resident's products advances the
product's schedules of that service type when it completes (on the platform, in the history
import, or arriving completed from the service system); an older service changes nothing; a
declined due date moves to the next one."""
import json
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from community.orders.models import ServiceOrder
from community.products import services
from core.extensions import db
from tests.community.products.conftest import err

TODAY = services.today()


def own_product(client, resident, catalogue, serial="P-1", days=400):
    return client.post("/api/v1/me/products", headers=resident.headers, json={
        "model_id": catalogue.purifier, "serial": serial,
        "install_date": (TODAY - timedelta(days=days)).isoformat()}).json


def test_completing_an_order_for_a_product_advances_its_schedules_of_that_type(client, estate, resident, catalogue,
                                                                                make_engineer, login, schedules):
    engineer = make_engineer([estate])
    product = own_product(client, resident, catalogue, days=10)
    before = schedules(product["id"])
    r = client.post("/api/v1/service-requests", headers=resident.headers, json={
        "estate_id": estate, "service_type": "maintenance", "description": "换滤芯", "product_id": product["id"]})
    assert r.status_code == 201, r.json
    order = r.json
    assert order["product_id"] == product["id"]
    soon = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    client.post(f"/api/v1/engineer/service-orders/{order['id']}/schedule", headers=engineer.headers,
                json={"scheduled_for": soon})
    assert client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete",
                       headers=engineer.headers).status_code == 200
    after = schedules(product["id"])
    assert after[catalogue.filters] == (services.add_months(TODAY, 6), TODAY)  # 6 months from the service
    assert after[catalogue.inspection] == before[catalogue.inspection]  # another service type: untouched
    card = client.get("/api/v1/me/products", headers=resident.headers).json["items"][0]
    assert card["next_care"]["plan_id"] == catalogue.inspection


def test_an_order_may_name_only_my_own_product_in_use(client, estate, resident, catalogue, login):
    stranger = login()
    client.post("/api/v1/me/estates", headers=stranger.headers, json={"estate_id": estate})
    theirs = own_product(client, stranger, catalogue, serial="S-1")
    r = client.post("/api/v1/service-requests", headers=resident.headers, json={
        "estate_id": estate, "service_type": "repair", "product_id": theirs["id"]})
    assert r.status_code == 404 and err(r) == "product_not_found"
    mine = own_product(client, resident, catalogue, serial="S-2")
    client.post(f"/api/v1/me/products/{mine['id']}/retire", headers=resident.headers)
    r = client.post("/api/v1/service-requests", headers=resident.headers, json={
        "estate_id": estate, "service_type": "repair", "product_id": mine["id"]})
    assert r.status_code == 409 and err(r) == "product_not_active"


def test_record_service_keeps_the_latest_date(app, client, resident, catalogue, schedules):

    product = own_product(client, resident, catalogue)
    done = TODAY - timedelta(days=30)
    with app.app_context():
        assert services.record_service(product["id"], "maintenance", done) == 1
        db.session.commit()
    assert schedules(product["id"])[catalogue.filters] == (services.add_months(done, 6), done)
    with app.app_context():
        assert services.record_service(product["id"], "maintenance", done - timedelta(days=60)) == 0  # older
        assert services.record_service(product["id"], "maintenance", done) == 0  # the same day
        assert services.record_service(product["id"], "cleaning", TODAY) == 0  # no plan of that type
        # a once-only plan is done for good
        assert services.record_service(product["id"], "inspection", done) == 1
        db.session.commit()
    assert schedules(product["id"])[catalogue.filters] == (services.add_months(done, 6), done)
    assert schedules(product["id"])[catalogue.inspection] == (None, done)


def test_imported_history_naming_a_product_advances_it(app, client, estate, resident, catalogue, make_engineer,
                                                      schedules, tmp_path):
    engineer = make_engineer([estate])
    product = own_product(client, resident, catalogue)
    done = datetime.now(timezone.utc) - timedelta(days=20)
    path = tmp_path / "orders.csv"
    header = "external_id,estate_id,engineer_employee_no,resident_phone,service_type,requested_at,completed_at," \
             "rating,complained,model_code,serial"
    rows = [
        f"H-1,{estate},{engineer.employee_no},,maintenance,{(done - timedelta(hours=5)).isoformat()},"
        f"{done.isoformat()},5,0,ro-600g,p-1",
        f"H-2,{estate},{engineer.employee_no},,maintenance,{done.isoformat()},{done.isoformat()},,0,NOPE,P-1",
        f"H-3,{estate},{engineer.employee_no},,repair,{done.isoformat()},,,0,,",
    ]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["community", "import-orders", str(path)])
    assert result.exit_code == 0, result.output
    day = services.business_date(done)
    assert schedules(product["id"])[catalogue.filters] == (services.add_months(day, 6), day)
    with app.app_context():
        linked = dict(db.session.execute(sa.select(ServiceOrder.external_id, ServiceOrder.product_id)).all())
    assert linked == {"H-1": product["id"], "H-2": None, "H-3": None}  # an unknown pair is ignored


def test_a_completed_order_from_the_service_system_advances_its_product(app, client, estate, resident, catalogue,
                                                                        make_engineer, schedules):
    from core import integrations

    engineer = make_engineer([estate])
    product = own_product(client, resident, catalogue)
    done = datetime.now(timezone.utc) - timedelta(days=2)
    raw = json.dumps({"external_id": "SVC-1", "estate_id": estate, "engineer_employee_no": engineer.employee_no,
                      "service_type": "maintenance", "requested_at": (done - timedelta(hours=3)).isoformat(),
                      "completed_at": done.isoformat(), "model_code": "RO-600G", "serial": "P-1"}).encode()
    ts = str(int(time.time()))
    r = client.post("/api/v1/integrations/service-orders", data=raw, headers={
        "Content-Type": "application/json", "X-Linli-Timestamp": ts,
        "X-Linli-Signature": integrations.sign(app.config["INTEGRATION_SECRET"], ts, raw)})
    assert r.status_code == 200, r.json
    assert r.json["order"]["product_id"] == product["id"]
    day = services.business_date(done)
    assert schedules(product["id"])[catalogue.filters] == (services.add_months(day, 6), day)


def test_skip_due_moves_a_declined_due_date_to_the_next(app, client, resident, catalogue, schedules):

    product = own_product(client, resident, catalogue, days=10)
    due = schedules(product["id"])[catalogue.filters][0]
    with app.app_context():
        assert services.skip_due(product["id"], catalogue.filters, due) == services.add_months(due, 6)
        db.session.commit()
        # the same decline again (a retry) does not move it twice
        assert services.skip_due(product["id"], catalogue.filters, due) == services.add_months(due, 6)
        inspection_due = TODAY + timedelta(days=20)
        assert services.skip_due(product["id"], catalogue.inspection, inspection_due) is None  # once only
        assert services.skip_due(product["id"], 999999, due) is None
        db.session.commit()
    assert schedules(product["id"])[catalogue.filters] == (services.add_months(due, 6), None)
    assert schedules(product["id"])[catalogue.inspection] == (None, None)
