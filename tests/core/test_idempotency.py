"""Idempotency-Key: a repeated write returns the first result; the same key for another body is a 409."""
import sqlalchemy as sa

ENGINEER = {"name": "王师傅", "phone": "13800001111", "employee_no": "IDEM-1"}


def count(ctx_app, model) -> int:
    from core.extensions import db
    with ctx_app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_repeated_create_engineer_returns_the_first_response(app, client, admin, login):
    from community.estates.models import Engineer
    headers = {**admin.headers, "Idempotency-Key": "create-wang-1"}
    first = client.post("/api/v1/admin/engineers", headers=headers, json=ENGINEER)
    assert first.status_code == 201, first.json
    again = client.post("/api/v1/admin/engineers", headers=headers, json=ENGINEER)
    assert again.status_code == 201
    assert again.json == first.json  # same id, same invite code
    assert again.json["invite_code"] == first.json["invite_code"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.headers.get("Idempotent-Replayed") is None
    assert count(app, Engineer) == 1
    # The replayed invite code is the live one: it claims the account.
    resident = login()
    claim = client.post("/api/v1/engineer/claim", headers=resident.headers,
                        json={"invite_code": again.json["invite_code"]})
    assert claim.status_code == 200, claim.json
    assert claim.json["id"] == first.json["id"]


def test_same_key_with_another_body_is_409(app, client, admin):
    from community.estates.models import Engineer
    headers = {**admin.headers, "Idempotency-Key": "create-wang-2"}
    assert client.post("/api/v1/admin/engineers", headers=headers, json=ENGINEER).status_code == 201
    response = client.post("/api/v1/admin/engineers", headers=headers, json={**ENGINEER, "employee_no": "IDEM-2"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert count(app, Engineer) == 1


def test_same_key_on_another_path_is_409(client, admin, make_estate):
    headers = {**admin.headers, "Idempotency-Key": "shared-key"}
    assert client.post("/api/v1/admin/engineers", headers=headers, json=ENGINEER).status_code == 201
    response = client.post("/api/v1/admin/estates", headers=headers, json={
        "name": "翠竹苑", "province": "广东省", "city": "深圳市", "district": "罗湖区"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "idempotency_key_reused"


def test_keys_belong_to_their_user(app, client, make_admin):
    """Another admin's identical key is not a replay of someone else's write."""
    from community.estates.models import Engineer
    first, second = make_admin(), make_admin()
    a = client.post("/api/v1/admin/engineers", headers={**first.headers, "Idempotency-Key": "k"}, json=ENGINEER)
    assert a.status_code == 201
    b = client.post("/api/v1/admin/engineers", headers={**second.headers, "Idempotency-Key": "k"},
                    json={**ENGINEER, "employee_no": "IDEM-3"})
    assert b.status_code == 201 and b.json["id"] != a.json["id"]
    assert count(app, Engineer) == 2


def test_without_a_key_a_duplicate_employee_no_is_409(app, client, admin):
    from community.estates.models import Engineer
    assert client.post("/api/v1/admin/engineers", headers=admin.headers, json=ENGINEER).status_code == 201
    response = client.post("/api/v1/admin/engineers", headers=admin.headers, json=ENGINEER)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "employee_no_taken"
    assert count(app, Engineer) == 1


def test_an_error_is_not_stored_so_a_retry_runs_again(app, client, wechat, make_estate, make_engineer):
    """A failed write did not happen: retrying with the same key and body runs it again."""
    from community.stewards.models import BindingCode
    estate = make_estate()
    engineer = make_engineer([estate])
    headers = {**engineer.headers, "Idempotency-Key": "retry-after-outage"}
    wechat.fault("wxa/getwxacodeunlimit", errcode=45009)
    failed = client.post("/api/v1/engineer/binding-codes", headers=headers, json={"estate_id": estate})
    assert failed.status_code == 503
    assert count(app, BindingCode) == 0
    retried = client.post("/api/v1/engineer/binding-codes", headers=headers, json={"estate_id": estate})
    assert retried.status_code == 201, retried.json
    assert retried.headers.get("Idempotent-Replayed") is None
    replayed = client.post("/api/v1/engineer/binding-codes", headers=headers, json={"estate_id": estate})
    assert replayed.json == retried.json and replayed.headers.get("Idempotent-Replayed") == "true"
    assert count(app, BindingCode) == 1


def test_invalid_key_is_400(app, client, admin):
    from community.estates.models import Engineer
    for key in ("", "x" * 129, "bad\tkey"):
        response = client.post("/api/v1/admin/engineers", headers={**admin.headers, "Idempotency-Key": key},
                               json=ENGINEER)
        assert response.status_code == 400, repr(key)
        assert response.json["error"]["code"] == "invalid_idempotency_key"
    assert count(app, Engineer) == 0


def test_repeated_binding_code_request_mints_once(app, client, wechat, make_estate, make_engineer):
    from community.stewards.models import BindingCode
    estate = make_estate()
    engineer = make_engineer([estate])
    headers = {**engineer.headers, "Idempotency-Key": "visit-WO-7"}
    body = {"estate_id": estate, "visit_ref": "WO-7"}
    first = client.post("/api/v1/engineer/binding-codes", headers=headers, json=body)
    assert first.status_code == 201, first.json
    again = client.post("/api/v1/engineer/binding-codes", headers=headers, json=body)
    assert again.status_code == 201
    assert again.json == first.json  # the same scene
    assert count(app, BindingCode) == 1
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 1  # WeChat asked once

    other = client.post("/api/v1/engineer/binding-codes", headers=headers, json={**body, "visit_ref": "WO-8"})
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_key_reused"

    # Without a key every request mints a new code.
    plain = [client.post("/api/v1/engineer/binding-codes", headers=engineer.headers, json=body) for _ in range(2)]
    assert all(r.status_code == 201 for r in plain)
    assert len({first.json["scene"], *(r.json["scene"] for r in plain)}) == 3
    assert count(app, BindingCode) == 3
