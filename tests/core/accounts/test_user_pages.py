"""The admin's users pages: search, roles and status through real forms (CSRF on)."""
from tests.conftest import csrf_token


def test_admin_finds_a_user_and_changes_roles_and_status(app, client, make_admin, login, web_login):
    make_admin("boss", "boss-pass-123")
    resident = login()
    web_login("boss", "boss-pass-123")
    page = client.get(f"/admin/users?q={resident.user_id}").get_data(as_text=True)
    assert f"/admin/users/{resident.user_id}" in page and "住户" in page
    detail = client.get(f"/admin/users/{resident.user_id}").get_data(as_text=True)
    assert f"/admin/points/users/{resident.user_id}" in detail  # the user's ledger is one click away
    token = csrf_token(detail)
    r = client.post(f"/admin/users/{resident.user_id}", data={
        "csrf_token": token, "action": "roles", "roles": ["resident", "agent"]}, follow_redirects=True)
    assert "已保存" in r.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=resident.headers).json["roles"] == ["agent", "resident"]
    r = client.post(f"/admin/users/{resident.user_id}", data={
        "csrf_token": token, "action": "status", "status": "disabled"}, follow_redirects=True)
    assert "已停用" in r.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=resident.headers).status_code == 401
    # a form without the CSRF token is refused
    assert client.post(f"/admin/users/{resident.user_id}", data={"action": "status", "status": "active"}
                       ).status_code == 400


def test_users_pages_are_for_admins_only(client, make_engineer, login, web_login, app):
    engineer = make_engineer()
    client.put("/api/v1/me/password", headers=engineer.headers, json=engineer.first_password("eng-pass-123"))
    web_login(engineer.employee_no, "eng-pass-123")
    assert client.get("/admin/users").status_code == 403
