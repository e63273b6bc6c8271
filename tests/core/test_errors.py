"""The one JSON error shape for every 4xx/5xx, through the API, the health check and the Server-Timing header."""
import re

from core import create_app


def assert_error(response, status: int, code: str) -> dict:
    """The response is our error shape with this status and code; returns its details."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]["details"]


def test_unknown_route_under_the_api_is_a_json_404(client):
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    # Even a browser asking for HTML gets JSON under /api/.
    response = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert_error(response, 404, "not_found")


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.delete("/api/v1/me")
    details = assert_error(response, 405, "method_not_allowed")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "GET" in allowed and "DELETE" not in allowed
    assert set(details["allowed"]) == allowed

    response = client.get("/api/v1/auth/wechat-login")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_400_invalid_json(client, wechat):
    response = client.post("/api/v1/auth/wechat-login", data='{"code": "abc"', content_type="application/json")
    assert_error(response, 400, "invalid_json")
    assert wechat.calls("sns/jscode2session") == []


def test_json_array_instead_of_object_is_a_validation_error(client, admin, wechat):
    response = client.post("/api/v1/auth/wechat-login", json=["code", "abc"])
    details = assert_error(response, 422, "validation_error")
    assert details["fields"]
    response = client.post("/api/v1/admin/estates", headers=admin.headers, json=[{"name": "x"}])
    assert assert_error(response, 422, "validation_error")["fields"]
    assert wechat.calls("sns/jscode2session") == []


def test_validation_errors_list_every_bad_field(client, admin):
    response = client.post("/api/v1/admin/estates", headers=admin.headers,
                           json={"name": "", "province": "广东省", "households": -1, "status": "closed"})
    fields = assert_error(response, 422, "validation_error")["fields"]
    assert {"name", "city", "district", "households", "status"} <= set(fields)
    assert "province" not in fields
    assert all(isinstance(messages, list) and messages for messages in fields.values())

    # Query-string validation answers the same way.
    response = client.get("/api/v1/admin/estates?status=closed", headers=admin.headers)
    assert set(assert_error(response, 422, "validation_error")["fields"]) == {"status"}


def test_missing_or_bad_token_is_401(client):
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer lnl_not-a-real-token"}),
                 401, "invalid_token")
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "unauthorized")


def test_wrong_role_is_403(client, login):
    resident = login()
    assert_error(client.get("/api/v1/admin/estates", headers=resident.headers), 403, "forbidden")
    assert_error(client.post("/api/v1/admin/engineers", headers=resident.headers,
                             json={"name": "x", "phone": "13800000000", "employee_no": "X1"}), 403, "forbidden")
    assert_error(client.get("/api/v1/engineer/customers", headers=resident.headers), 403, "forbidden")


def test_duplicate_estate_code_is_409(client, admin):
    body = {"code": "SZ-0001", "name": "翠竹苑", "province": "广东省", "city": "深圳市", "district": "罗湖区"}
    assert client.post("/api/v1/admin/estates", headers=admin.headers, json=body).status_code == 201
    response = client.post("/api/v1/admin/estates", headers=admin.headers, json={**body, "name": "另一个"})
    assert_error(response, 409, "estate_code_taken")
    listed = client.get("/api/v1/admin/estates", headers=admin.headers).json["items"]
    assert [e["name"] for e in listed] == ["翠竹苑"]


def test_integrity_error_is_answered_as_409_conflict(client, admin, monkeypatch):
    """A check-then-insert that loses the race reaches the unique index: 409, not 500."""
    from community.estates import services

    body = {"code": "SZ-0002", "name": "翠竹苑", "province": "广东省", "city": "深圳市", "district": "罗湖区"}
    assert client.post("/api/v1/admin/estates", headers=admin.headers, json=body).status_code == 201
    # Skip the friendly pre-check, as a concurrent twin would slip past it.
    monkeypatch.setattr(services, "_check_estate_code_free", lambda code: None)
    response = client.post("/api/v1/admin/estates", headers=admin.headers, json={**body, "name": "抢先"})
    assert_error(response, 409, "conflict")
    # The failed request left nothing behind, and the session still works.
    listed = client.get("/api/v1/admin/estates", headers=admin.headers)
    assert listed.status_code == 200
    assert [e["name"] for e in listed.json["items"]] == ["翠竹苑"]


def test_service_error_rolls_back_the_request(client, admin, make_estate):
    """An APIError raised after a flush leaves no half-written rows (one commit boundary)."""
    estate = make_estate()
    response = client.post("/api/v1/admin/engineers", headers=admin.headers, json={
        "name": "王师傅", "phone": "13800000001", "employee_no": "RB-1", "estate_ids": [estate, 999999]})
    assert set(assert_error(response, 422, "validation_error")["fields"]) == {"estate_ids"}
    # The engineer row was flushed before the coverage check failed: it must be gone.
    engineers = client.get("/api/v1/admin/engineers", headers=admin.headers).json["items"]
    assert engineers == []


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(app_config, tmp_path):
    broken = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}
    from core.extensions import db
    with broken.app_context():
        db.engine.dispose()


def test_protected_routes_never_answer_500_without_a_token(client):
    for path in ("/api/v1/me", "/api/v1/estates", "/api/v1/engineer/customers", "/api/v1/admin/engineers"):
        assert_error(client.get(path), 401, "unauthorized")


BEYOND_BIGINT = 2**63  # one past the largest id PostgreSQL (and SQLite) can store


def test_ids_beyond_bigint_in_the_path_are_404(client, admin):
    for template in ("/api/v1/estates/{}", "/api/v1/admin/estates/{}", "/api/v1/admin/engineers/{}",
                     "/api/v1/admin/residents/{}/stewards", "/api/v1/admin/engineers/{}/customers"):
        for too_big in (BEYOND_BIGINT, 10**30):
            no_route = client.get(template.format(too_big), headers=admin.headers)
            assert_error(no_route, 404, "not_found")
        # The largest BIGINT is still an id: the view looks it up and answers its own 404.
        response = client.get(template.format(BEYOND_BIGINT - 1), headers=admin.headers)
        assert response.status_code == 404, template
        assert response.json["error"]["message"] != no_route.json["error"]["message"]


def test_ids_beyond_bigint_in_bodies_and_queries_are_422(client, admin):
    cases = [
        ("POST", "/api/v1/me/estates", {"estate_id": BEYOND_BIGINT}, "estate_id"),
        ("POST", "/api/v1/admin/engineers", {"name": "王", "phone": "13800000000", "employee_no": "B1",
                                             "estate_ids": [BEYOND_BIGINT]}, "estate_ids"),
        ("POST", "/api/v1/admin/engineers/1/reassign", {"to_engineer_id": BEYOND_BIGINT}, "to_engineer_id"),
        ("GET", f"/api/v1/admin/engineers?estate_id={BEYOND_BIGINT}", None, "estate_id"),
        ("GET", f"/api/v1/admin/engineers/1/customers?estate_id={BEYOND_BIGINT}", None, "estate_id"),
    ]
    for method, path, body, field in cases:
        response = client.open(path, method=method, headers=admin.headers, json=body)
        assert field in assert_error(response, 422, "validation_error")["fields"], path


def test_every_response_says_how_long_the_app_took(client):
    """Server-Timing separates the app's time from the network's (DevTools, bench/README.md)."""
    for response in (client.get("/healthz"), client.get("/api/v1/no-such-thing")):
        match = re.fullmatch(r"app;dur=(\d+\.\d)", response.headers["Server-Timing"])
        assert match and float(match.group(1)) >= 0
