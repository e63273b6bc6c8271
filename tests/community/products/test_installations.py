"""The manufacturer's installation records (signed like the order integration): idempotent by
external_id, the owner found by phone or kept as a phone until someone confirms it, the estate by
code, the installer by employee number, and a serial on record for another household as a
conflict."""
import json
import time
from datetime import timedelta

import sqlalchemy as sa

from community.products import services
from tests.community.products.conftest import err

PHONE = "13912345678"


def signed_post(app, client, body: dict, path="/api/v1/integrations/installations"):
    from core import integrations

    raw = json.dumps(body).encode()
    ts = str(int(time.time()))
    return client.post(path, data=raw, headers={
        "Content-Type": "application/json", "X-Linli-Timestamp": ts,
        "X-Linli-Signature": integrations.sign(app.config["INTEGRATION_SECRET"], ts, raw)})


def record(**extra) -> dict:
    return {"external_id": "INST-1", "model_code": "RO-600G", "serial": "sn-100", "owner_phone": PHONE,
            "install_date": (services.today() - timedelta(days=3)).isoformat(), "estate_code": "SZ-0001",
            "address": "7栋 302", **extra}


def test_unsigned_or_forged_requests_are_refused(app, client, catalogue):
    r = client.post("/api/v1/integrations/installations", json=record())
    assert r.status_code == 401 and err(r) == "signature_missing"


def test_an_installation_without_an_account_keeps_the_phone_until_it_is_confirmed(app, client, catalogue, estate,
                                                                                  make_engineer, login, wechat,
                                                                                  schedules):
    engineer = make_engineer([estate])
    r = signed_post(app, client, record(engineer_employee_no=engineer.employee_no))
    assert r.status_code == 200, r.json
    assert r.json["created"] is True
    product = r.json["product"]
    assert (product["owner_id"], product["estate_id"], product["serial"]) == (None, estate, "SN-100")
    assert product["installer"]["id"] == engineer.engineer_id and product["source"] == "integration"
    assert len(schedules(product["id"])) == 2
    # the same record again: the same product, nothing new
    again = signed_post(app, client, record())
    assert again.status_code == 200 and again.json == {"product": product, "created": False}
    # the household joins and confirms the phone: the appliance is theirs
    resident = login()
    assert client.get("/api/v1/me/products", headers=resident.headers).json["items"] == []
    code = wechat.control("POST", "phone-codes", json={"phone": PHONE})["code"]
    assert client.post("/api/v1/me/phone", headers=resident.headers, json={"code": code}).status_code == 200
    mine = client.get("/api/v1/me/products", headers=resident.headers).json["items"]
    assert [p["id"] for p in mine] == [product["id"]]
    # registering it themselves now is the same product
    r = client.post("/api/v1/me/products", headers=resident.headers, json={"model_code": "RO-600G", "serial": "SN-100"})
    assert r.status_code == 200 and r.json["id"] == product["id"]


def test_an_installation_for_a_known_phone_belongs_to_that_account(app, client, catalogue, login, wechat):
    resident = login()
    code = wechat.control("POST", "phone-codes", json={"phone": PHONE})["code"]
    client.post("/api/v1/me/phone", headers=resident.headers, json={"code": code})
    r = signed_post(app, client, record(estate_code=None))
    assert r.status_code == 200 and r.json["product"]["owner_id"] == resident.user_id
    # the resident registered it first, the record comes later: the same product gains the record's id
    client.post("/api/v1/me/products", headers=resident.headers, json={"model_code": "RO-600G", "serial": "SN-200"})
    r = signed_post(app, client, record(external_id="INST-2", serial="SN-200", estate_code=None))
    assert r.status_code == 200 and r.json["created"] is False
    # (a body differing in a detail: the same body signed in the same second would be a replay)
    again = signed_post(app, client, record(external_id="INST-2", serial="SN-200", estate_code=None, address="改"))
    assert again.json["product"]["id"] == r.json["product"]["id"] and again.json["created"] is False


def test_bad_records_are_422_and_a_foreign_serial_is_a_conflict(app, client, catalogue, estate, login):
    from community.products.models import SerialConflict
    from core.extensions import db

    for extra, field in (({"model_code": "X-1"}, "model_code"), ({"estate_code": "NOPE"}, "estate_code"),
                         ({"engineer_employee_no": "E-NOPE"}, "engineer_employee_no"),
                         ({"owner_phone": "12ab"}, "owner_phone"),
                         ({"install_date": (services.today() + timedelta(days=1)).isoformat()}, "install_date")):
        r = signed_post(app, client, record(**extra))
        assert r.status_code == 422 and field in r.json["error"]["details"]["fields"], (extra, r.json)
    owner = login()
    client.post("/api/v1/me/products", headers=owner.headers, json={"model_code": "RO-600G", "serial": "SN-300"})
    for external_id in ("INST-3", "INST-3b"):
        r = signed_post(app, client, record(external_id=external_id, serial="SN-300"))
        assert r.status_code == 409 and err(r) == "serial_conflict"
    with app.app_context():
        rows = db.session.scalars(sa.select(SerialConflict)).all()
        assert [(c.claimant_id, c.claimant_phone, c.source) for c in rows] == [(None, PHONE, "integration")]
