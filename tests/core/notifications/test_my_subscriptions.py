"""GET /api/v1/me/subscriptions: the notice settings page's one call (each offered purpose with its
Chinese name, what it is for and the messages we may still send), through the API."""


def purposes(client, who) -> list[dict]:
    response = client.get("/api/v1/me/subscriptions", headers=who.headers)
    assert response.status_code == 200, response.json
    return response.json["purposes"]


def test_each_offered_purpose_has_a_name_a_description_its_template_and_no_quota_at_first(app, client, login):
    resident = login()
    listed = purposes(client, resident)
    assert [p["purpose"] for p in listed][:4] == ["visit", "order", "redemption", "maintenance"]
    assert "offer" in [p["purpose"] for p in listed]  # new offers in the estate (activation.offers)
    assert "activity" in [p["purpose"] for p in listed]  # my activities (activation.activities)
    for p in listed:
        assert p["name"] and p["description"] and p["remaining"] == 0
    by_purpose = {p["purpose"]: p for p in listed}
    assert by_purpose["order"]["template_id"] == app.config["WECHAT_TEMPLATE_ORDER"]
    assert by_purpose["order"]["name"] == "服务单进度"
    # the purposes' templates are the ones the client asks for
    templates = client.get("/api/v1/subscriptions/templates").json["templates"]
    assert all(templates[p["purpose"]] == p["template_id"] for p in listed)


def test_acceptances_count_per_purpose_and_only_for_the_caller(app, client, login):
    resident, neighbour = login(), login()
    order, visit = app.config["WECHAT_TEMPLATE_ORDER"], app.config["WECHAT_TEMPLATE_VISIT"]
    r = client.post("/api/v1/me/subscriptions", headers=resident.headers, json={"template_ids": [order, order, visit]})
    assert r.status_code == 200, r.json
    remaining = {p["purpose"]: p["remaining"] for p in purposes(client, resident)}
    assert {k: remaining[k] for k in ("visit", "order", "redemption", "maintenance", "offer")} == {
        "visit": 1, "order": 2, "redemption": 0, "maintenance": 0, "offer": 0}
    body = client.get("/api/v1/me/subscriptions", headers=resident.headers).json
    assert body["quotas"] == {order: 2, visit: 1}  # the template-keyed shape is kept
    assert {p["remaining"] for p in purposes(client, neighbour)} == {0}


def test_needs_a_login(client):
    assert client.get("/api/v1/me/subscriptions").status_code == 401
