"""Partner organisations: applying, approval with notes (audited), suspension, reach, staff
accounts and where they land after logging in, and the role guards that keep a partner out of
the admin and engineer consoles."""
from __future__ import annotations

import re

import sqlalchemy as sa

from activation.partners.models import Partner, PartnerStaff
from core.accounts.models import User
from core.extensions import db
from core.models import AuditEntry
from tests.activation.partners.conftest import STAFF_PASSWORD, refused, staff_login, web_client
from tests.conftest import csrf_token, html

APPLICATION = {"name": "邻家洗衣", "category": "洗衣洗护", "description": "上门取送，48 小时送回",
               "contact_name": "李店长", "contact_phone": "13912345678"}


def audits(app, prefix="activation."):
    with app.app_context():
        return [(a.action, a.object_id, a.after) for a in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.id))]


def decide(client, admin, partner_id, action, note=None):
    return client.post(f"/api/v1/admin/partners/{partner_id}/decisions", headers=admin.headers,
                       json={"action": action, "note": note})


# -- applying and deciding --------------------------------------------------------------------

def test_a_resident_applies_and_an_admin_decides_with_notes_every_step_audited(app, client, login, admin, agent):
    applicant = login()
    r = client.post("/api/v1/partners/applications", headers=applicant.headers, json=APPLICATION)
    assert r.status_code == 201, r.json
    partner_id = r.json["id"]
    assert r.json["status"] == "pending" and r.json["decision_note"] is None
    # one open application at a time
    refused(client.post("/api/v1/partners/applications", headers=applicant.headers,
                        json={**APPLICATION, "name": "另一家"}), 409, "application_pending")
    mine = client.get("/api/v1/partners/applications/mine", headers=applicant.headers).json["items"]
    assert [(a["id"], a["status"]) for a in mine] == [(partner_id, "pending")]

    queue = client.get("/api/v1/admin/partners?status=pending", headers=agent.headers)
    assert [p["id"] for p in queue.json["items"]] == [partner_id]
    assert queue.json["items"][0]["applicant_id"] == applicant.user_id
    assert re.fullmatch(r"P[2-9A-HJKMNP-Z]{7}", queue.json["items"][0]["code"])
    # agents read, only admins decide; a rejection needs a note
    refused(decide(client, agent, partner_id, "approve"), 403, "forbidden")
    error = refused(decide(client, admin, partner_id, "reject"), 422, "validation_error")
    assert error["details"]["fields"]["note"] == ["拒绝必须填写说明"]
    r = decide(client, admin, partner_id, "reject", "资质材料不全")
    assert r.status_code == 200 and r.json["status"] == "rejected" and r.json["decision_note"] == "资质材料不全"
    assert client.get("/api/v1/partners/applications/mine", headers=applicant.headers).json["items"][0][
        "decision_note"] == "资质材料不全"

    # the applicant applies again under the same name: the same application reopens
    r = client.post("/api/v1/partners/applications", headers=applicant.headers,
                    json={**APPLICATION, "description": "补充了营业执照"})
    assert r.status_code == 201 and r.json["id"] == partner_id and r.json["status"] == "pending"
    # someone else cannot take the name
    refused(client.post("/api/v1/partners/applications", headers=login().headers, json=APPLICATION),
            409, "partner_name_taken")

    assert decide(client, admin, partner_id, "approve").json["status"] == "approved"
    refused(decide(client, admin, partner_id, "approve"), 409, "already_decided")
    refused(decide(client, admin, partner_id, "reinstate"), 409, "already_decided")
    refused(decide(client, admin, partner_id, "suspend"), 422)
    assert decide(client, admin, partner_id, "suspend", "投诉较多，暂停核查").json["status"] == "suspended"
    assert decide(client, admin, partner_id, "reinstate", "核查完毕").json["status"] == "approved"
    refused(decide(client, admin, partner_id, "dissolve"), 422)
    refused(decide(client, admin, 999999, "approve"), 404, "partner_not_found")

    assert [(a, after.get("status"), after.get("note")) for a, oid, after in audits(app)
            if oid == str(partner_id)] == [
        ("activation.partner.reject", "rejected", "资质材料不全"),
        ("activation.partner.approve", "approved", None),
        ("activation.partner.suspend", "suspended", "投诉较多，暂停核查"),
        ("activation.partner.reinstate", "approved", "核查完毕")]


def test_an_application_is_checked_in_chinese(client, login):
    account = login()
    error = refused(client.post("/api/v1/partners/applications", headers=account.headers,
                                json={**APPLICATION, "contact_phone": "电话"}), 422, "validation_error")
    assert "联系电话" in error["details"]["fields"]["contact_phone"][0]
    error = refused(client.post("/api/v1/partners/applications", headers=account.headers,
                                json={"name": "x", "category": "", "contact_name": "a", "contact_phone": "13900000000",
                                      "extra": 1}), 422)
    assert error["details"]["fields"]["extra"] == ["不认识的字段"]
    error = refused(client.post("/api/v1/partners/applications", headers=account.headers,
                                json={**APPLICATION, "name": "x"}), 422)
    assert error["details"]["fields"]["name"] == ["名称应为 2–64 个字"]
    refused(client.post("/api/v1/partners/applications", json=APPLICATION), 401, "unauthorized")


def test_an_admin_enters_a_partner_whose_code_is_fixed_once_approved(app, client, admin, agent):
    r = client.post("/api/v1/admin/partners", headers=admin.headers,
                    json={**APPLICATION, "code": "laundry-01"})
    assert r.status_code == 201, r.json
    partner = r.json
    assert (partner["status"], partner["code"], partner["applicant_id"], partner["reach_rule"]) == (
        "pending", "laundry-01", None, {})
    refused(client.post("/api/v1/admin/partners", headers=agent.headers, json=APPLICATION), 403)
    refused(client.post("/api/v1/admin/partners", headers=admin.headers, json={**APPLICATION, "code": "X1"}),
            409, "partner_name_taken")
    refused(client.post("/api/v1/admin/partners", headers=admin.headers,
                        json={**APPLICATION, "name": "别家", "code": "laundry-01"}), 409, "partner_code_taken")
    error = refused(client.post("/api/v1/admin/partners", headers=admin.headers,
                                json={**APPLICATION, "name": "别家", "code": "有 空格"}), 422)
    assert error["details"]["fields"]["code"] == ["伙伴编码须为 2–32 位英文字母、数字、- 或 _"]

    url = f"/api/v1/admin/partners/{partner['id']}"
    r = client.patch(url, headers=admin.headers, json={"code": "LAUNDRY-1", "description": "新简介"})
    assert (r.json["code"], r.json["description"], r.json["name"]) == ("LAUNDRY-1", "新简介", "邻家洗衣")
    decide(client, admin, partner["id"], "approve")
    refused(client.patch(url, headers=admin.headers, json={"code": "OTHER"}), 409, "partner_code_locked")
    assert client.patch(url, headers=admin.headers, json={"contact_name": "赵经理"}).json["contact_name"] == "赵经理"
    assert [a for a, oid, _ in audits(app) if oid == str(partner["id"])] == [
        "activation.partner.create", "activation.partner.update", "activation.partner.approve",
        "activation.partner.update"]


def test_the_reach_is_a_validated_targeting_rule_set_by_an_admin(app, client, admin, make_partner):
    world = make_partner()
    url = f"/api/v1/admin/partners/{world.partner_id}/reach"
    error = refused(client.put(url, headers=admin.headers, json={"reach_rule": {"households": {"min": "many"}}}), 422)
    assert error["details"]["fields"]
    refused(client.put(url, headers=world.owner.headers, json={"reach_rule": {}}), 403)
    r = client.put(url, headers=admin.headers, json={"reach_rule": {"cities": ["深圳市"]}})
    assert r.status_code == 200 and r.json["reach_rule"]["cities"] == ["深圳市"]
    with app.app_context():
        from activation.partners import services
        assert services.reach_rule(world.partner_id)["cities"] == ["深圳市"]
    assert ("activation.partner.reach", str(world.partner_id)) in [(a, oid) for a, oid, _ in audits(app)]


# -- staff ------------------------------------------------------------------------------------

def test_staff_accounts_log_in_and_land_on_their_own_console(app, client, admin, make_partner):
    world = make_partner(name="安心家政")
    r = client.post(f"/api/v1/admin/partners/{world.partner_id}/staff", headers=admin.headers,
                    json={"username": "anxin-kefu", "password": "kefu-pass-1", "display_name": "小周"})
    assert r.status_code == 201, r.json
    assert {(s["username"], s["owner"]) for s in r.json["items"]} == {(world.owner_username, True), ("anxin-kefu", False)}
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "anxin-kefu"))
        assert user.roles == {"partner"} and user.display_name == "小周"
    # web login lands on the partner console, which shows their partner
    web, target = web_client(app, "anxin-kefu", "kefu-pass-1")
    assert target.endswith("/partner/")
    page = web.get("/partner/")
    assert page.status_code == 200 and "安心家政" in html(page)
    assert web.get("/").headers["Location"].endswith("/partner/")
    # the bearer token works for the partner API
    token = staff_login(client, "anxin-kefu", "kefu-pass-1")
    assert client.get("/api/v1/partner/me", headers=token.headers).json == {
        "partner": client.get("/api/v1/partner/me", headers=world.owner.headers).json["partner"], "owner": False}

    error = refused(client.post(f"/api/v1/admin/partners/{world.partner_id}/staff", headers=admin.headers,
                                json={"username": "weak", "password": "12345678"}), 422)
    assert error["message"] == "密码不能全是数字"
    refused(client.post(f"/api/v1/admin/partners/{world.partner_id}/staff", headers=admin.headers,
                        json={"username": "anxin-kefu", "password": "kefu-pass-1"}), 409, "username_taken")
    # the partner role follows the staff row: not settable on the users page
    refused(client.put(f"/api/v1/admin/users/{user.id}/roles", headers=admin.headers, json={"roles": ["resident"]}),
            409, "partner_role_managed")


def test_owners_manage_their_staff_and_a_removed_account_stops_working(app, client, make_partner, add_staff):
    world = make_partner()
    username, staff = add_staff(client, world.partner_id)
    # a plain staff member cannot manage the staff
    refused(client.post("/api/v1/partner/staff", headers=staff.headers,
                        json={"username": "x-staff", "password": "x-pass-123"}), 403, "not_partner_owner")
    r = client.post("/api/v1/partner/staff", headers=world.owner.headers,
                    json={"username": "new-staff", "password": "new-pass-123"})
    assert r.status_code == 201 and "new-staff" in {s["username"] for s in r.json["items"]}
    new_id = next(s["user_id"] for s in r.json["items"] if s["username"] == "new-staff")
    assert client.post(f"/api/v1/partner/staff/{new_id}/password", headers=world.owner.headers,
                       json={"password": "changed-pass-9"}).status_code == 204
    staff_login(client, "new-staff", "changed-pass-9")
    refused(client.delete(f"/api/v1/partner/staff/{world.owner.user_id}", headers=world.owner.headers),
            409, "cannot_remove_self")

    assert client.delete(f"/api/v1/partner/staff/{staff.user_id}", headers=world.owner.headers).status_code == 204
    refused(client.get("/api/v1/partner/me", headers=staff.headers), 401)
    refused(client.post("/api/v1/auth/password-login", json={"username": username, "password": STAFF_PASSWORD}),
            403, "account_disabled")
    with app.app_context():
        user = db.session.get(User, staff.user_id)
        assert user.status == "disabled" and "partner" not in user.roles
        assert db.session.get(PartnerStaff, staff.user_id) is None
    assert [a for a, _, _ in audits(app, "activation.partner.staff")] == [
        "activation.partner.staff.add", "activation.partner.staff.add", "activation.partner.staff.add",
        "activation.partner.staff.password", "activation.partner.staff.remove"]


def test_a_pending_partner_s_staff_see_their_console_but_cannot_publish(app, client, make_partner):
    world = make_partner(status="pending")
    assert client.get("/api/v1/partner/me", headers=world.owner.headers).json["partner"]["status"] == "pending"
    refused(client.post("/api/v1/partner/listings", headers=world.owner.headers,
                        json={"kind": "announcement", "title": "开业啦"}), 403, "partner_not_approved")
    web, _ = web_client(app, world.owner_username)
    assert "合作申请审核中" in html(web.get("/partner/"))


# -- role guards ------------------------------------------------------------------------------

def sample_url(rule) -> str:
    """The rule's path with a plausible value for each argument (an id, or a choice it allows)."""
    values = {name: sorted(getattr(converter, "items", None) or ["1"])[0]
              for name, converter in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


def test_a_partner_cannot_open_any_admin_or_engineer_page(app, make_partner):
    world = make_partner()
    web, _ = web_client(app, world.owner_username)
    token = csrf_token(html(web.get("/partner/")))
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/admin", "/engineer")):
            continue
        url = sample_url(rule)
        if "GET" in rule.methods:
            response = web.get(url)
        else:
            response = web.post(url, data={"csrf_token": token})
        assert response.status_code == 403, (rule.rule, response.status_code)
        checked += 1
    assert checked > 60


def test_a_partner_cannot_call_any_admin_or_engineer_api(app, client, make_partner):
    world = make_partner()
    checked = 0
    for rule in app.url_map.iter_rules():
        # /engineer/claim is where a WeChat user claims an engineer invite: open to any logged-in user
        if not rule.rule.startswith(("/api/v1/admin/", "/api/v1/engineer/")) or rule.rule == "/api/v1/engineer/claim":
            continue
        url = sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, headers=world.owner.headers, json={})
            assert response.status_code == 403, (method, rule.rule, response.status_code, response.json)
            checked += 1
    assert checked > 100


def test_only_partner_staff_open_the_partner_console(app, client, console, login, make_partner):
    world = make_partner()
    # an admin is no partner: the console's pages and API refuse them
    assert console.get("/partner/").status_code == 403
    assert console.get("/partner/listings").status_code == 403
    refused(client.get("/api/v1/partner/me", headers=console.admin.headers), 403)
    refused(client.get("/api/v1/partner/dashboard", headers=login().headers), 403)
    refused(client.get("/api/v1/partner/dashboard"), 401)
    anonymous = app.test_client()
    assert anonymous.get("/partner/").status_code == 302
    assert client.get("/api/v1/partner/dashboard", headers=world.owner.headers).status_code == 200


def test_a_suspended_partner_s_staff_read_but_cannot_publish(client, make_partner):
    world = make_partner(status="suspended")
    assert client.get("/api/v1/partner/dashboard", headers=world.owner.headers).json["partner"]["status"] == "suspended"
    refused(client.post("/api/v1/partner/listings", headers=world.owner.headers,
                        json={"kind": "announcement", "title": "恢复营业"}), 403, "partner_not_approved")


def test_partner_known_answers_for_approved_partners_only(app, make_partner):
    approved, pending, suspended = make_partner(), make_partner(status="pending"), make_partner(status="suspended")
    from core import signals
    with app.app_context():
        assert signals.ask(signals.partner_known, default=False, code=approved.code) is True
        assert signals.ask(signals.partner_known, default=False, code=pending.code) is False
        assert signals.ask(signals.partner_known, default=False, code=suspended.code) is False
        assert signals.ask(signals.partner_known, default=False, code="NOPE") is False
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Partner)) == 3
