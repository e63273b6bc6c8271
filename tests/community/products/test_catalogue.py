"""The catalogue through the admin API: product models (code unique and upper-case, category,
warranty), maintenance plans (a category XOR a model, service types, ranges, season pairs), who
may read and write, the audit log, and plan changes rescheduling the products they apply to."""
from datetime import timedelta

import sqlalchemy as sa

from community.products import services
from tests.community.products.conftest import err

TODAY = services.today()


def test_product_models_are_created_listed_changed_and_deactivated(client, admin, agent, login, app):
    from core.extensions import db
    from core.models import AuditEntry

    r = client.post("/api/v1/admin/product-models", headers=admin.headers, json={
        "code": " jsq-16 ", "name": "燃气热水器 JSQ-16", "category": "water_heater", "warranty_months": 36})
    assert r.status_code == 201, r.json
    model = r.json
    assert (model["code"], model["category_label"], model["warranty_months"], model["active"]) == (
        "JSQ-16", "热水器", 36, True)
    dup = client.post("/api/v1/admin/product-models", headers=admin.headers, json={
        "code": "Jsq-16", "name": "重复", "category": "water_heater"})
    assert dup.status_code == 422 and err(dup) == "model_code_taken"
    for body, field in (({"code": "A B", "name": "x", "category": "water_heater"}, "code"),
                        ({"code": "X1", "name": "x", "category": "toaster"}, "category"),
                        ({"code": "X1", "name": "x", "category": "water_heater", "warranty_months": 241},
                         "warranty_months"),
                        ({"code": "X1", "name": "", "category": "water_heater"}, "name")):
        r = client.post("/api/v1/admin/product-models", headers=admin.headers, json=body)
        assert r.status_code == 422 and field in r.json["error"]["details"]["fields"], (body, r.json)
    r = client.patch(f"/api/v1/admin/product-models/{model['id']}", headers=admin.headers,
                     json={"name": "燃气热水器 JSQ-16 升级款", "warranty_months": 48})
    assert r.status_code == 200 and (r.json["name"], r.json["warranty_months"], r.json["code"]) == (
        "燃气热水器 JSQ-16 升级款", 48, "JSQ-16")
    r = client.post(f"/api/v1/admin/product-models/{model['id']}/deactivate", headers=admin.headers)
    assert r.status_code == 200 and r.json["active"] is False
    # agents read, never write; residents neither
    assert [m["code"] for m in client.get("/api/v1/admin/product-models", headers=agent.headers).json["items"]] == [
        "JSQ-16"]
    assert client.get("/api/v1/admin/product-models?active=true", headers=agent.headers).json["items"] == []
    assert client.post("/api/v1/admin/product-models", headers=agent.headers,
                       json={"code": "Y", "name": "y", "category": "other"}).status_code == 403
    assert client.get("/api/v1/admin/product-models", headers=login().headers).status_code == 403
    assert client.get("/api/v1/admin/product-models/99999", headers=agent.headers).status_code == 404
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.object_type == "product_model").order_by(AuditEntry.id)).all()
        assert actions == ["product_model.create", "product_model.update", "product_model.update"]


def test_plan_validation(client, admin, catalogue):
    base = {"name": "滤芯", "category": "water_purifier", "service_type": "maintenance", "first_due_days": 180}
    cases = [
        ({**base, "product_model_id": catalogue.purifier}, "category"),  # both
        ({**base, "category": None}, "category"),  # neither
        ({**base, "service_type": "polishing"}, "service_type"),
        ({**base, "first_due_days": 4000}, "first_due_days"),
        ({**base, "interval_months": 0}, "interval_months"),
        ({**base, "season_start_month": 4}, "season_end_month"),  # half a window
        ({**base, "season_start_month": 4, "season_end_month": 13}, "season_end_month"),
        ({**base, "lead_days": 91}, "lead_days"),
        ({**base, "category": None, "product_model_id": 99999}, "product_model_id"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/admin/maintenance-plans", headers=admin.headers, json=body)
        assert r.status_code == 422 and field in r.json["error"]["details"]["fields"], (body, r.json)
    r = client.post("/api/v1/admin/maintenance-plans", headers=admin.headers,
                    json={**base, "interval_months": 6, "season_start_month": 11, "season_end_month": 2})
    assert r.status_code == 201 and (r.json["season_start_month"], r.json["season_end_month"]) == (11, 2)
    assert r.json["service_type_label"] == "保养" and r.json["category_label"] == "净水器"
    # a change that would leave both targets set is refused too
    r = client.patch(f"/api/v1/admin/maintenance-plans/{r.json['id']}", headers=admin.headers,
                     json={"product_model_id": catalogue.purifier})
    assert r.status_code == 422 and "category" in r.json["error"]["details"]["fields"]


def test_a_new_plan_schedules_the_products_it_applies_to(client, admin, resident, catalogue, schedules):
    product = client.post("/api/v1/me/products", headers=resident.headers, json={
        "model_id": catalogue.purifier, "serial": "P-1", "install_date": (TODAY - timedelta(days=10)).isoformat()}).json
    assert set(schedules(product["id"])) == {catalogue.filters, catalogue.inspection}
    r = client.post("/api/v1/admin/maintenance-plans", headers=admin.headers, json={
        "name": "RO膜更换", "category": "water_purifier", "service_type": "repair", "first_due_days": 730,
        "interval_months": 24})
    assert r.status_code == 201
    membrane = r.json["id"]
    assert schedules(product["id"])[membrane] == (TODAY - timedelta(days=10) + timedelta(days=730), None)
    # its timing changes: the products follow
    client.patch(f"/api/v1/admin/maintenance-plans/{membrane}", headers=admin.headers, json={"first_due_days": 365})
    assert schedules(product["id"])[membrane] == (TODAY + timedelta(days=355), None)
    # stopped: its schedules go
    assert client.post(f"/api/v1/admin/maintenance-plans/{membrane}/deactivate", headers=admin.headers).json[
        "active"] is False
    assert membrane not in schedules(product["id"])


def test_a_models_plan_replaces_its_categorys_plan_of_the_type_and_gives_it_back(client, admin, resident, catalogue,
                                                                                schedules, app):
    installed = TODAY - timedelta(days=10)
    purifier = client.post("/api/v1/me/products", headers=resident.headers, json={
        "model_id": catalogue.purifier, "serial": "P-1", "install_date": installed.isoformat()}).json
    other_model = client.post("/api/v1/admin/product-models", headers=admin.headers, json={
        "code": "RO-400", "name": "净水器 RO-400", "category": "water_purifier"}).json
    other = client.post("/api/v1/me/products", headers=resident.headers, json={
        "model_id": other_model["id"], "serial": "P-2", "install_date": installed.isoformat()}).json
    r = client.post("/api/v1/admin/maintenance-plans", headers=admin.headers, json={
        "name": "RO-600G 复合滤芯更换", "product_model_id": catalogue.purifier, "service_type": "maintenance",
        "first_due_days": 365, "interval_months": 12})
    own = r.json["id"]
    assert set(schedules(purifier["id"])) == {own, catalogue.inspection}  # the category's filter plan gave way
    assert schedules(purifier["id"])[own] == (installed + timedelta(days=365), None)
    assert set(schedules(other["id"])) == {catalogue.filters, catalogue.inspection}  # other models keep it
    # a model registered afterwards gets the model's plan too
    later = client.post("/api/v1/me/products", headers=resident.headers, json={
        "model_id": catalogue.purifier, "serial": "P-3"}).json
    assert set(schedules(later["id"])) == {own, catalogue.inspection}
    # the model plan stops: the category's plan applies again
    client.post(f"/api/v1/admin/maintenance-plans/{own}/deactivate", headers=admin.headers)
    assert set(schedules(purifier["id"])) == {catalogue.filters, catalogue.inspection}
    assert schedules(purifier["id"])[catalogue.filters] == (installed + timedelta(days=180), None)
    # and a model moved to another category follows that category's plans
    client.patch(f"/api/v1/admin/product-models/{other_model['id']}", headers=admin.headers,
                 json={"category": "air_conditioner"})
    assert set(schedules(other["id"])) == {catalogue.cleaning}


def test_reschedule_plan_runs_in_batches(app, resident, client, catalogue, schedules):
    from core.extensions import db

    ids = [client.post("/api/v1/me/products", headers=resident.headers, json={
        "model_id": catalogue.purifier, "serial": f"B-{n}"}).json["id"] for n in range(5)]
    with app.app_context():
        plan = services.get_plan(catalogue.filters)
        plan.first_due_days = 90
        db.session.flush()
        assert services.reschedule_plan(catalogue.filters, batch=2) == 5  # three batches
        db.session.commit()
        assert services.reschedule_plan(catalogue.filters, batch=2) == 0  # nothing left to change
    assert {schedules(i)[catalogue.filters][0] for i in ids} == {TODAY + timedelta(days=90)}
