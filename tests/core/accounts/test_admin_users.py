"""Admin account management: staff creation, roles, status — every change audited."""
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEntry


def audit_actions(app):
    with app.app_context():
        return [(a.action, a.object_id, a.before, a.after) for a in
                db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]


def test_admin_creates_an_agent_who_can_log_in(app, client, admin):
    r = client.post("/api/v1/admin/staff", headers=admin.headers, json={
        "username": "kefu1", "password": "agent-pass-1", "roles": ["agent"], "display_name": "客服小李"})
    assert r.status_code == 201, r.json
    assert r.json["roles"] == ["agent"]
    assert client.post("/api/v1/auth/password-login", json={"username": "kefu1", "password": "agent-pass-1"}
                       ).status_code == 200
    assert ("user.staff.create", str(r.json["id"]), None, {"roles": ["agent"], "username": "kefu1"}) \
        in audit_actions(app)
    # engineers are not created here, and a staff account needs a staff role
    assert client.post("/api/v1/admin/staff", headers=admin.headers, json={
        "username": "x", "password": "agent-pass-1", "roles": ["engineer"]}).status_code == 422


def test_roles_change_is_audited_and_guarded(app, client, admin, make_admin, login, make_engineer):
    resident = login()
    r = client.put(f"/api/v1/admin/users/{resident.user_id}/roles", headers=admin.headers,
                   json={"roles": ["resident", "agent"]})
    assert r.status_code == 200 and r.json["roles"] == ["agent", "resident"]
    assert ("user.roles.set", str(resident.user_id), {"roles": ["resident"]}, {"roles": ["agent", "resident"]}) \
        in audit_actions(app)
    # the engineer role follows the engineer profile
    r = client.put(f"/api/v1/admin/users/{resident.user_id}/roles", headers=admin.headers,
                   json={"roles": ["resident", "engineer"]})
    assert r.status_code == 409 and r.json["error"]["code"] == "engineer_role_managed"
    engineer = make_engineer()
    r = client.put(f"/api/v1/admin/users/{engineer.user_id}/roles", headers=admin.headers, json={"roles": ["resident"]})
    assert r.json["error"]["code"] == "engineer_role_managed"
    # an admin cannot take away their own admin role
    r = client.put(f"/api/v1/admin/users/{admin.user_id}/roles", headers=admin.headers, json={"roles": ["agent"]})
    assert r.status_code == 409 and r.json["error"]["code"] == "cannot_remove_own_admin"
    # residents cannot manage roles at all
    assert client.put(f"/api/v1/admin/users/{resident.user_id}/roles", headers=resident.headers,
                      json={"roles": ["admin"]}).status_code == 403


def test_disabling_an_account_revokes_its_tokens(app, client, admin, login):
    resident = login()
    assert client.get("/api/v1/me", headers=resident.headers).status_code == 200
    r = client.put(f"/api/v1/admin/users/{resident.user_id}/status", headers=admin.headers, json={"status": "disabled"})
    assert r.status_code == 200 and r.json["status"] == "disabled"
    assert client.get("/api/v1/me", headers=resident.headers).status_code == 401
    # enabling again does not bring the revoked tokens back
    client.put(f"/api/v1/admin/users/{resident.user_id}/status", headers=admin.headers, json={"status": "active"})
    assert client.get("/api/v1/me", headers=resident.headers).status_code == 401
    r = client.put(f"/api/v1/admin/users/{admin.user_id}/status", headers=admin.headers, json={"status": "disabled"})
    assert r.json["error"]["code"] == "cannot_disable_self"
    assert [a[0] for a in audit_actions(app)].count("user.status.set") == 2


def test_find_users_by_phone_username_or_id(app, client, admin, login):
    resident = login()
    r = client.get(f"/api/v1/admin/users?q={resident.user_id}", headers=admin.headers)
    assert [u["id"] for u in r.json["items"]] == [resident.user_id]
    r = client.get("/api/v1/admin/users?role=admin", headers=admin.headers)
    assert [u["id"] for u in r.json["items"]] == [admin.user_id]
