"""Each flag reason fires on its case, and a normal binding earns none (docs/community.md
"Fake households"); the work-order number is checked at minting where the integration knows orders."""
import json
import time

from core import integrations
from tests.community.trust.conftest import balance, flags


def import_order(app, client, engineer, estate, external_id: str) -> None:
    """An order of this engineer arrives from the service system's integration."""
    raw = json.dumps({"external_id": external_id, "estate_id": estate, "engineer_employee_no": engineer.employee_no,
                      "resident_phone": "13600000000", "service_type": "repair",
                      "requested_at": "2024-03-01T10:00:00+08:00"}).encode()
    ts = str(int(time.time()))
    response = client.post("/api/v1/integrations/service-orders", data=raw, headers={
        "Content-Type": "application/json", "X-Linli-Timestamp": ts,
        "X-Linli-Signature": integrations.sign(app.config["INTEGRATION_SECRET"], ts, raw)})
    assert response.status_code == 200, response.json


def test_more_bindings_in_a_day_than_the_estate_size_allows_are_flagged(app, rated_binding, mint_code, engineer,
                                                                           estate):
    scene = mint_code(engineer, estate)["scene"]  # one code, 10 uses
    bound = [rated_binding(scene=scene) for _ in range(6)]
    # 100 households: max(5, 2 % × 100) = 5 a day; the sixth is beyond it
    assert flags(app) == [(bound[5].binding_id, "burst", "open")]
    from community.trust.models import BindingFlag
    from core.extensions import db
    with app.app_context():
        details = db.session.query(BindingFlag.details).scalar()
    assert details == {"count": 6, "limit": 5, "hours": 24, "households": 100}


def test_a_large_estate_allows_more(app, make_estate, make_engineer, mint_code, bind):
    big = make_estate(households=1000)  # 2 % of 1,000 = 20
    engineer = make_engineer([big])
    scene = mint_code(engineer, big)["scene"]
    for _ in range(6):
        assert bind(scene, rating=4).status_code == 200
    assert flags(app) == []


def test_residents_sharing_a_phone_are_flagged_and_the_phone_releases_nothing(app, client, wechat, rated_binding):
    first, second = rated_binding(), rated_binding()
    for account in (first, second):
        code = wechat.control("POST", "phone-codes", json={"phone": "13922223333"})["code"]
        assert client.post("/api/v1/me/phone", headers=account.headers, json={"code": code}).status_code == 200
    assert sorted(flags(app)) == [(first.binding_id, "shared_phone", "open"), (second.binding_id, "shared_phone", "open")]
    assert balance(app, first.user_id).available == 20  # the first confirmation was a sign of life
    assert balance(app, second.user_id).pending == 20  # a shared phone is not


def test_a_shared_phone_is_flagged_at_binding_too(app, client, wechat, login, bind, mint_code, engineer, estate,
                                                  rated_binding):
    first = rated_binding()
    code = wechat.control("POST", "phone-codes", json={"phone": "13922224444"})["code"]
    client.post("/api/v1/me/phone", headers=first.headers, json={"code": code})
    other = login()
    code = wechat.control("POST", "phone-codes", json={"phone": "13922224444"})["code"]
    client.post("/api/v1/me/phone", headers=other.headers, json={"code": code})  # not bound yet: no flag
    assert flags(app) == []
    second = bind(mint_code(engineer, estate)["scene"], openid=other.openid, rating=5).json
    assert sorted(reason for _, reason, _ in flags(app)) == ["shared_phone", "shared_phone"]
    assert second["points"]["pending"] is True


def test_a_visit_ref_the_integration_does_not_know_is_refused_at_minting(app, client, engineer, estate, mint_code):
    import_order(app, client, engineer, estate, "SVC-100")
    refused = client.post("/api/v1/engineer/binding-codes", headers=engineer.headers,
                          json={"estate_id": estate, "visit_ref": "SVC-999"})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "visit_ref_unknown"
    assert refused.json["error"]["message"].startswith("工单号与您的服务单不符")
    assert list(refused.json["error"]["details"]["fields"]) == ["visit_ref"]
    assert mint_code(engineer, estate, visit_ref="SVC-100")["visit_ref"] == "SVC-100"
    assert mint_code(engineer, estate)["visit_ref"] is None  # no number: nothing to check


def test_another_engineers_order_number_is_refused(app, client, make_engineer, engineer, estate):
    import_order(app, client, engineer, estate, "SVC-200")
    other = make_engineer([estate])
    import_order(app, client, other, estate, "SVC-201")
    refused = client.post("/api/v1/engineer/binding-codes", headers=other.headers,
                          json={"estate_id": estate, "visit_ref": "SVC-200"})
    assert refused.status_code == 422 and refused.json["error"]["code"] == "visit_ref_unknown"


def test_any_visit_ref_is_accepted_when_the_integration_knows_none_of_the_engineers_orders(
        app, client, engineer, estate, mint_code, rated_binding):
    code = mint_code(engineer, estate, visit_ref="PAPER-7")
    bound = rated_binding(scene=code["scene"])
    assert flags(app, bound.binding_id) == []


def test_a_visit_ref_unknown_by_binding_time_is_flagged(app, client, engineer, estate, mint_code, rated_binding):
    code = mint_code(engineer, estate, visit_ref="PAPER-8")  # the integration knew none of theirs then
    import_order(app, client, engineer, estate, "SVC-300")  # now it does, and PAPER-8 is not among them
    bound = rated_binding(scene=code["scene"])
    assert flags(app) == [(bound.binding_id, "visit_ref_unmatched", "open")]


def test_a_binding_far_from_the_estate_is_flagged_when_the_client_sent_a_location(app, client, rated_binding):
    near = rated_binding(latitude=22.545, longitude=113.952)  # ≈ 600 m
    far = rated_binding(latitude=22.58, longitude=113.95)  # ≈ 4.4 km
    unknown = rated_binding()  # no location: nothing to check
    assert flags(app) == [(far.binding_id, "far_from_estate", "open")]
    assert flags(app, near.binding_id) == flags(app, unknown.binding_id) == []


def test_a_location_needs_both_coordinates_and_sane_values(client, bind, mint_code, engineer, estate):
    scene = mint_code(engineer, estate)["scene"]
    one = bind(scene, latitude=22.5)
    assert one.status_code == 422 and "longitude" in one.json["error"]["details"]["fields"]
    wild = bind(scene, latitude=91, longitude=10)
    assert wild.status_code == 422 and "latitude" in wild.json["error"]["details"]["fields"]
