"""Levels as data (the admin editor API and page), admin overrides and who may do either."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import Account, csrf_token


def error_code(response) -> str:
    return response.json["error"]["code"]


def level_ids(app) -> dict[str, int]:
    from ambassador.models import Level
    from core.extensions import db
    with app.app_context():
        return dict(db.session.execute(sa.select(Level.code, Level.id)).all())


def audit_rows(app, prefix="ambassador.level") -> list[tuple]:
    from core.extensions import db
    from core.models import AuditEntry
    with app.app_context():
        return [tuple(r) for r in db.session.execute(sa.select(
            AuditEntry.action, AuditEntry.object_id, AuditEntry.actor_id, AuditEntry.before, AuditEntry.after)
            .where(AuditEntry.action.like(prefix + "%")).order_by(AuditEntry.id))]


@pytest.fixture
def make_agent(app, client):
    counter = iter(range(1, 10**6))

    def make() -> Account:
        from core.accounts import services as accounts
        from core.extensions import db
        username = f"agent{next(counter)}"
        with app.app_context():
            user = accounts.create_staff(username, "agent-pass-1", {"agent"})
            db.session.commit()
            user_id = user.id
        response = client.post("/api/v1/auth/password-login", json={"username": username, "password": "agent-pass-1"})
        assert response.status_code == 200, response.json
        return Account(user_id=user_id, token=response.json["token"])
    return make


NEW_LEVEL = {"code": "diamond", "name": "钻石代言人", "position": 4, "threshold": 5000,
             "permissions": ["lead_activities", "recruit"], "multiplier_pct": 150}


# -- the editor API -----------------------------------------------------------------------------

def test_admin_lists_the_seeded_levels_in_order(client, admin):
    response = client.get("/api/v1/admin/ambassador/levels", headers=admin.headers)
    assert response.status_code == 200
    assert [(lv["code"], lv["position"], lv["threshold"]) for lv in response.json["items"]] == [
        ("trainee", 1, 0), ("silver", 2, 500), ("gold", 3, 2000)]


def test_admin_creates_edits_and_deletes_a_level_and_each_step_is_audited(app, client, admin):
    response = client.post("/api/v1/admin/ambassador/levels", headers=admin.headers, json=NEW_LEVEL)
    assert response.status_code == 201, response.json
    level = response.json
    # permissions come back in the canonical order of ambassador.models.PERMISSIONS
    assert level["permissions"] == ["recruit", "lead_activities"] and level["multiplier_pct"] == 150
    response = client.patch(f"/api/v1/admin/ambassador/levels/{level['id']}", headers=admin.headers,
                            json={"name": "钻石", "threshold": 8000, "permissions": []})
    assert response.status_code == 200, response.json
    assert (response.json["name"], response.json["threshold"], response.json["permissions"]) == ("钻石", 8000, [])
    response = client.delete(f"/api/v1/admin/ambassador/levels/{level['id']}", headers=admin.headers)
    assert response.status_code == 204
    assert "diamond" not in level_ids(app)
    rows = audit_rows(app)
    assert [(a, o, actor) for a, o, actor, _, _ in rows] == [
        ("ambassador.level.create", str(level["id"]), admin.user_id),
        ("ambassador.level.update", str(level["id"]), admin.user_id),
        ("ambassador.level.delete", str(level["id"]), admin.user_id)]
    assert rows[1][3]["threshold"] == 5000 and rows[1][4]["threshold"] == 8000
    assert rows[2][3]["name"] == "钻石"


@pytest.mark.parametrize("change, status, code, field", [
    ({"code": "gold"}, 409, "level_code_taken", "code"),
    ({"position": 3}, 409, "level_position_taken", "position"),
    ({"threshold": 2000}, 422, "level_threshold_order", "threshold"),  # equal to gold's: never reachable
    ({"threshold": 1500}, 422, "level_threshold_order", "threshold"),  # above gold yet lower threshold
    ({"threshold": -1}, 422, "validation_error", "threshold"),
    ({"permissions": ["recruit", "fly"]}, 422, "validation_error", "permissions"),
    ({"multiplier_pct": 0}, 422, "validation_error", "multiplier_pct"),
    ({"multiplier_pct": 1001}, 422, "validation_error", "multiplier_pct"),
    ({"name": ""}, 422, "validation_error", "name"),
    ({"code": "Bad Code"}, 422, "validation_error", "code"),
    ({"position": 0}, 422, "validation_error", "position"),
])
def test_invalid_levels_are_refused_with_the_field(app, client, admin, change, status, code, field):
    response = client.post("/api/v1/admin/ambassador/levels", headers=admin.headers, json={**NEW_LEVEL, **change})
    assert response.status_code == status, response.json
    assert error_code(response) == code
    assert field in response.json["error"]["details"]["fields"]
    assert "diamond" not in level_ids(app) and audit_rows(app) == []


def test_a_patch_must_keep_thresholds_rising_with_position(client, app, admin):
    ids = level_ids(app)
    # silver above gold's threshold, or below trainee's (0 is the lowest possible): refused
    for threshold in (2000, 2500):
        response = client.patch(f"/api/v1/admin/ambassador/levels/{ids['silver']}", headers=admin.headers,
                                json={"threshold": threshold})
        assert response.status_code == 422 and error_code(response) == "level_threshold_order"
    response = client.patch(f"/api/v1/admin/ambassador/levels/{ids['trainee']}", headers=admin.headers,
                            json={"threshold": 500})
    assert response.status_code == 422 and error_code(response) == "level_threshold_order"
    # a threshold between its neighbours is fine; so is moving a level to a free position
    response = client.patch(f"/api/v1/admin/ambassador/levels/{ids['silver']}", headers=admin.headers,
                            json={"threshold": 1999})
    assert response.status_code == 200 and response.json["threshold"] == 1999
    response = client.patch(f"/api/v1/admin/ambassador/levels/{ids['gold']}", headers=admin.headers,
                            json={"position": 10})
    assert response.status_code == 200 and response.json["position"] == 10
    response = client.patch("/api/v1/admin/ambassador/levels/999999", headers=admin.headers, json={"name": "x"})
    assert response.status_code == 404 and error_code(response) == "level_not_found"
    response = client.patch(f"/api/v1/admin/ambassador/levels/{ids['gold']}", headers=admin.headers,
                            json={"multiplier_pct": "many"})
    assert response.status_code == 422 and "multiplier_pct" in response.json["error"]["details"]["fields"]


def test_a_level_held_by_any_ambassador_or_named_in_history_is_not_deleted(app, client, admin, make_ambassador):
    from ambassador.models import Ambassador
    from core.extensions import db

    response = client.post("/api/v1/admin/ambassador/levels", headers=admin.headers, json=NEW_LEVEL)
    diamond = response.json["id"]
    amb = make_ambassador(level=4)
    with app.app_context():  # suspended still counts: history must keep its level
        db.session.get(Ambassador, amb.user_id).status = "suspended"
        db.session.commit()
    response = client.delete(f"/api/v1/admin/ambassador/levels/{diamond}", headers=admin.headers)
    assert response.status_code == 409 and error_code(response) == "level_in_use"
    assert response.json["error"]["details"] == {"ambassadors": 1}
    # moved away by an override, the level is still in the ambassador's history
    response = client.post(f"/api/v1/admin/ambassadors/{amb.user_id}/level", headers=admin.headers,
                           json={"level_id": level_ids(app)["gold"], "reason": "调整"})
    assert response.status_code == 200, response.json
    response = client.delete(f"/api/v1/admin/ambassador/levels/{diamond}", headers=admin.headers)
    assert response.status_code == 409 and error_code(response) == "level_has_history"
    assert "diamond" in level_ids(app)


def test_creating_a_level_is_idempotent_with_a_key(app, client, admin):
    headers = {**admin.headers, "Idempotency-Key": "level-1"}
    first = client.post("/api/v1/admin/ambassador/levels", headers=headers, json=NEW_LEVEL)
    again = client.post("/api/v1/admin/ambassador/levels", headers=headers, json=NEW_LEVEL)
    assert first.status_code == again.status_code == 201 and first.json["id"] == again.json["id"]
    assert len(audit_rows(app)) == 1


# -- overrides ----------------------------------------------------------------------------------

def test_override_sets_the_level_pins_it_records_history_audits_and_moves_standings(app, client, admin,
                                                                                    make_ambassador):
    from ambassador.levels import services as contributions
    from ambassador.levels.models import Standing
    from ambassador.models import Ambassador, LevelChange
    from core.db import utcnow
    from core.extensions import db

    ids = level_ids(app)
    amb = make_ambassador(level=1)
    with app.app_context():
        contributions.credit(amb.user_id, 40)
        db.session.get(Ambassador, amb.user_id).below_since = utcnow()
        db.session.commit()
    before = utcnow()
    response = client.post(f"/api/v1/admin/ambassadors/{amb.user_id}/level", headers=admin.headers,
                           json={"level_id": ids["gold"], "reason": "社区活动组织突出", "pin_days": 30})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["level"]["code"] == "gold" and body["below_since"] is None
    with app.app_context():
        ambassador = db.session.get(Ambassador, amb.user_id)
        assert ambassador.level_id == ids["gold"]
        assert timedelta(days=30) <= ambassador.level_pinned_until - before < timedelta(days=30, minutes=1)
        change = db.session.scalars(sa.select(LevelChange).where(LevelChange.user_id == amb.user_id)
                                    .order_by(LevelChange.id.desc())).first()
        assert (change.kind, change.from_level_id, change.to_level_id, change.actor_id, change.reason) == (
            "override", ids["trainee"], ids["gold"], admin.user_id, "社区活动组织突出")
        scopes = set(db.session.scalars(sa.select(Standing.scope).where(Standing.user_id == amb.user_id)))
        assert f"level:{ids['gold']}" in scopes and f"level:{ids['trainee']}" not in scopes
    (action, object_id, actor, audit_before, audit_after), = audit_rows(app)
    assert (action, object_id, actor) == ("ambassador.level.override", str(amb.user_id), admin.user_id)
    assert audit_before["level_id"] == ids["trainee"] and audit_after["level_id"] == ids["gold"]

    # the default pin is AMBASSADOR_OVERRIDE_DAYS
    response = client.post(f"/api/v1/admin/ambassadors/{amb.user_id}/level", headers=admin.headers,
                           json={"level_id": ids["silver"], "reason": "复核"})
    with app.app_context():
        days = app.config["AMBASSADOR_OVERRIDE_DAYS"]
        pinned = db.session.get(Ambassador, amb.user_id).level_pinned_until
        assert timedelta(days=days) <= pinned - before < timedelta(days=days, minutes=1)

    response = client.delete(f"/api/v1/admin/ambassadors/{amb.user_id}/level-pin", headers=admin.headers)
    assert response.status_code == 200 and response.json["level_pinned_until"] is None
    assert response.json["level"]["code"] == "silver"
    assert [row[0] for row in audit_rows(app)] == ["ambassador.level.override", "ambassador.level.override",
                                                   "ambassador.level.unpin"]
    # un-pinning what is not pinned changes nothing and audits nothing
    response = client.delete(f"/api/v1/admin/ambassadors/{amb.user_id}/level-pin", headers=admin.headers)
    assert response.status_code == 200 and len(audit_rows(app)) == 3


@pytest.mark.parametrize("body, status, code", [
    ({"level_id": 999999, "reason": "x"}, 422, "level_not_found"),
    ({"level_id": 1, "reason": ""}, 422, "validation_error"),
    ({"level_id": 1, "reason": "  "}, 422, "validation_error"),
    ({"level_id": 1}, 422, "validation_error"),
    ({"level_id": 1, "reason": "x", "pin_days": 0}, 422, "validation_error"),
    ({"level_id": 1, "reason": "x", "pin_days": 99999}, 422, "validation_error"),
    ({"level_id": "gold", "reason": "x"}, 422, "validation_error"),
])
def test_bad_overrides_are_refused(app, client, admin, make_ambassador, body, status, code):
    amb = make_ambassador(level=2)
    if body.get("level_id") == 1:
        body = {**body, "level_id": level_ids(app)["trainee"]}
    response = client.post(f"/api/v1/admin/ambassadors/{amb.user_id}/level", headers=admin.headers, json=body)
    assert response.status_code == status and error_code(response) == code, response.json
    assert audit_rows(app) == []


def test_overriding_someone_who_is_not_an_ambassador_is_404_and_removed_is_409(app, client, admin, login,
                                                                              make_ambassador):
    from ambassador.models import Ambassador
    from core.extensions import db

    resident = login()
    gold = level_ids(app)["gold"]
    response = client.post(f"/api/v1/admin/ambassadors/{resident.user_id}/level", headers=admin.headers,
                           json={"level_id": gold, "reason": "x"})
    assert response.status_code == 404 and error_code(response) == "ambassador_not_found"
    response = client.delete(f"/api/v1/admin/ambassadors/{resident.user_id}/level-pin", headers=admin.headers)
    assert response.status_code == 404 and error_code(response) == "ambassador_not_found"
    amb = make_ambassador()
    with app.app_context():
        db.session.get(Ambassador, amb.user_id).status = "removed"
        db.session.commit()
    response = client.post(f"/api/v1/admin/ambassadors/{amb.user_id}/level", headers=admin.headers,
                           json={"level_id": gold, "reason": "x"})
    assert response.status_code == 409 and error_code(response) == "ambassador_removed"


def test_unauthorised_level_actions_are_refused(app, client, login, make_engineer, make_ambassador, make_agent,
                                                make_estate):
    from ambassador.models import Ambassador
    from core.extensions import db

    ids = level_ids(app)
    target = make_ambassador(level=1)
    callers = {"anonymous": None, "resident": login(), "engineer": make_engineer([make_estate()]),
               "agent": make_agent()}
    for position in (1, 2, 3):  # an ambassador of any level, even with every permission
        callers[f"ambassador level {position}"] = make_ambassador(level=position)
    requests = [("GET", "/api/v1/admin/ambassador/levels", None),
                ("POST", "/api/v1/admin/ambassador/levels", NEW_LEVEL),
                ("PATCH", f"/api/v1/admin/ambassador/levels/{ids['gold']}", {"threshold": 1}),
                ("DELETE", f"/api/v1/admin/ambassador/levels/{ids['gold']}", None),
                ("POST", f"/api/v1/admin/ambassadors/{target.user_id}/level",
                 {"level_id": ids["gold"], "reason": "自己升级"}),
                ("DELETE", f"/api/v1/admin/ambassadors/{target.user_id}/level-pin", None)]
    for name, caller in callers.items():
        for method, path, body in requests:
            response = client.open(path, method=method, headers=caller.headers if caller else {}, json=body)
            expected = 401 if caller is None else 403
            assert response.status_code == expected, (name, method, path, response.json)
    with app.app_context():
        assert db.session.get(Ambassador, target.user_id).level_id == ids["trainee"]
    assert level_ids(app) == ids and audit_rows(app) == []
    # and the pages
    from core.accounts import services as accounts
    with app.app_context():
        accounts.create_staff("agent-web", "agent-pass-1", {"agent"})
        db.session.commit()
    page_client = app.test_client()
    token = csrf_token(page_client.get("/login").get_data(as_text=True))
    page_client.post("/login", data={"csrf_token": token, "username": "agent-web", "password": "agent-pass-1"})
    for path in ("/admin/ambassador/levels", "/admin/ambassador/levels/override"):
        assert page_client.get(path).status_code == 403, path


# -- pages --------------------------------------------------------------------------------------

def test_the_levels_page_edits_creates_and_deletes(app, client, make_admin, web_login):
    make_admin("levels-admin", "admin-pass-1")
    web_login("levels-admin", "admin-pass-1")
    ids = level_ids(app)
    page = client.get("/admin/ambassador/levels")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "银牌代言人" in html and "金牌代言人" in html and "门槛" in html
    token = csrf_token(html)
    response = client.post(f"/admin/ambassador/levels/{ids['silver']}", data={
        "csrf_token": token, "code": "silver", "name": "银牌", "position": "2", "threshold": "600",
        "multiplier_pct": "115", "permissions": ["recruit", "announce"]}, follow_redirects=True)
    assert response.status_code == 200 and "已保存" in response.get_data(as_text=True)
    # a threshold out of order is refused with the reason shown, nothing saved
    response = client.post(f"/admin/ambassador/levels/{ids['silver']}", data={
        "csrf_token": token, "code": "silver", "name": "银牌", "position": "2", "threshold": "5000",
        "multiplier_pct": "115"}, follow_redirects=True)
    assert "门槛须随等级升高" in response.get_data(as_text=True)
    response = client.post("/admin/ambassador/levels/new", data={
        "csrf_token": token, "code": "diamond", "name": "钻石代言人", "position": "4", "threshold": "9000",
        "multiplier_pct": "150", "permissions": ["recruit"]}, follow_redirects=True)
    assert response.status_code == 200 and "钻石代言人" in response.get_data(as_text=True)
    new_ids = level_ids(app)
    response = client.post(f"/admin/ambassador/levels/{new_ids['diamond']}/delete", data={"csrf_token": token},
                           follow_redirects=True)
    assert response.status_code == 200 and "已删除" in response.get_data(as_text=True)
    from ambassador.models import Level
    from core.extensions import db
    with app.app_context():
        silver = db.session.get(Level, ids["silver"])
        assert (silver.name, silver.threshold, silver.multiplier_pct, silver.permissions) == (
            "银牌", 600, 115, ["recruit", "announce"])
        assert db.session.scalar(sa.select(Level).where(Level.code == "diamond")) is None


def test_the_override_page_sets_and_unpins_a_level(app, client, make_admin, web_login, make_ambassador):
    from ambassador.models import Ambassador, LevelChange
    from core.extensions import db

    amb = make_ambassador(level=1)
    make_admin("levels-admin", "admin-pass-1")
    web_login("levels-admin", "admin-pass-1")
    ids = level_ids(app)
    page = client.get(f"/admin/ambassador/levels/override?user_id={amb.user_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "调整代言人等级" in html and "测试代言人" in html
    token = csrf_token(html)
    response = client.post("/admin/ambassador/levels/override", data={
        "csrf_token": token, "user_id": str(amb.user_id), "level_id": str(ids["gold"]), "reason": "表现突出",
        "pin_days": "10"}, follow_redirects=True)
    assert response.status_code == 200 and "已调整为「金牌代言人」" in response.get_data(as_text=True)
    with app.app_context():
        ambassador = db.session.get(Ambassador, amb.user_id)
        assert ambassador.level_id == ids["gold"] and ambassador.level_pinned_until is not None
        assert db.session.scalar(sa.select(LevelChange.kind).where(LevelChange.user_id == amb.user_id)
                                 .order_by(LevelChange.id.desc()).limit(1)) == "override"
    # a refusal (no reason) shows why and changes nothing
    response = client.post("/admin/ambassador/levels/override", data={
        "csrf_token": token, "user_id": str(amb.user_id), "level_id": str(ids["silver"]), "reason": ""},
        follow_redirects=True)
    assert "请填写调整原因" in response.get_data(as_text=True)
    response = client.post("/admin/ambassador/levels/unpin", data={"csrf_token": token, "user_id": str(amb.user_id)},
                           follow_redirects=True)
    assert response.status_code == 200 and "已解除锁定" in response.get_data(as_text=True)
    with app.app_context():
        ambassador = db.session.get(Ambassador, amb.user_id)
        assert ambassador.level_id == ids["gold"] and ambassador.level_pinned_until is None
