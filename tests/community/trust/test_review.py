"""The agents' review of flagged bindings: the JSON API (list, confirm, dismiss, bulk), the console
queue with its bulk confirmation, what a confirmed fake undoes, and the dashboard's work count."""
from datetime import datetime

import sqlalchemy as sa

from tests.community.trust.conftest import balance, flags, watch
from tests.conftest import flashes, html, post_form


def far(rated_binding):
    """A binding flagged far_from_estate (≈ 4.4 km away) with its points pending."""
    return rated_binding(latitude=22.58, longitude=113.95)


def flag_id(client, agent, binding_id: int) -> int:
    items = client.get("/api/v1/admin/binding-flags?status=all", headers=agent.headers).json["items"]
    return next(item["id"] for item in items if item["binding"]["id"] == binding_id)


def audit_actions(app, action: str) -> list:
    from core.extensions import db
    from core.models import AuditEntry
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEntry.object_id).where(AuditEntry.action == action)))


def test_agents_list_the_open_flags_with_what_they_need_to_decide(app, client, agent, rated_binding, engineer,
                                                                  estate):
    bound = far(rated_binding)
    response = client.get("/api/v1/admin/binding-flags", headers=agent.headers)
    assert response.status_code == 200
    [item] = response.json["items"]
    assert item["reason"] == "far_from_estate" and item["reason_label"] == "绑定地点远离小区"
    assert item["status"] == "open" and item["details"]["distance_m"] > 3000
    assert item["binding"]["id"] == bound.binding_id and item["binding"]["ended_at"] is None
    assert item["engineer"]["id"] == engineer.engineer_id and item["estate"]["id"] == estate
    assert item["resident"]["id"] == bound.user_id
    assert item["watch"]["status"] == "pending" and datetime.fromisoformat(item["created_at"]).tzinfo is not None
    assert client.get("/api/v1/admin/binding-flags?status=dismissed", headers=agent.headers).json["items"] == []
    bad = client.get("/api/v1/admin/binding-flags?status=nope", headers=agent.headers)
    assert bad.status_code == 422
    resident = client.get("/api/v1/admin/binding-flags", headers=bound.headers)
    assert resident.status_code == 403


def test_confirming_a_fake_takes_its_points_ends_the_binding_and_leaves_it_out_of_the_counts(
        app, client, agent, rated_binding):
    from community.profiles import services as profiles
    from community.stewards import services as stewards
    from core.extensions import db

    genuine, fake = rated_binding(), far(rated_binding)
    with app.app_context():
        before = stewards.overview_counts()
    flag = flag_id(client, agent, fake.binding_id)
    response = client.post(f"/api/v1/admin/binding-flags/{flag}/confirm", headers=agent.headers,
                           json={"note": "电话核实无此住户"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "confirmed" and response.json["note"] == "电话核实无此住户"
    assert response.json["binding"]["end_reason"] == "fake" and response.json["watch"]["status"] == "fake"
    summary = balance(app, fake.user_id)
    assert (summary.available, summary.pending) == (0, 0)
    assert client.get("/api/v1/me/stewards", headers=fake.headers).json["items"] == []
    with app.app_context():
        after = stewards.overview_counts()
        profiles.refresh_profiles([watch(app, genuine.binding_id).estate_id])
        db.session.commit()
        from community.profiles.models import EstateProfile
        profile = db.session.get(EstateProfile, watch(app, genuine.binding_id).estate_id)
    assert after["customers"] == before["customers"] - 1
    assert after["bindings_24h"] == before["bindings_24h"] - 1
    assert profile.bound_residents == 1  # the genuine one only
    assert audit_actions(app, "binding_flag.confirm") == [str(flag)]


def test_confirming_again_changes_nothing_and_a_confirmed_flag_cannot_be_dismissed(app, client, agent,
                                                                                    rated_binding):
    fake = far(rated_binding)
    flag = flag_id(client, agent, fake.binding_id)
    first = client.post(f"/api/v1/admin/binding-flags/{flag}/confirm", headers=agent.headers, json={})
    again = client.post(f"/api/v1/admin/binding-flags/{flag}/confirm", headers=agent.headers, json={})
    assert first.status_code == again.status_code == 200
    assert again.json["decided_at"] == first.json["decided_at"]
    assert audit_actions(app, "binding_flag.confirm") == [str(flag)]
    refused = client.post(f"/api/v1/admin/binding-flags/{flag}/dismiss", headers=agent.headers, json={})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "binding_flag_decided"
    missing = client.post("/api/v1/admin/binding-flags/999999/confirm", headers=agent.headers, json={})
    assert missing.status_code == 404


def test_released_points_are_reversed_when_the_fake_is_confirmed(app, client, wechat, agent, rated_binding):
    fake = far(rated_binding)
    code = wechat.control("POST", "phone-codes", json={"phone": "13955556666"})["code"]
    client.post("/api/v1/me/phone", headers=fake.headers, json={"code": code})
    assert balance(app, fake.user_id).available == 20
    flag = flag_id(client, agent, fake.binding_id)
    assert client.post(f"/api/v1/admin/binding-flags/{flag}/confirm", headers=agent.headers, json={}).status_code == 200
    assert balance(app, fake.user_id).available == 0


def test_confirming_one_reason_confirms_the_bindings_other_open_flags(app, client, agent, rated_binding):
    from datetime import timedelta

    from community.trust import services
    from core.db import utcnow
    from core.extensions import db

    fake = far(rated_binding)
    with app.app_context():
        services.lapse_due(now=utcnow() + timedelta(days=31))
        db.session.commit()
    flag = flag_id(client, agent, fake.binding_id)
    client.post(f"/api/v1/admin/binding-flags/{flag}/confirm", headers=agent.headers, json={})
    assert sorted(flags(app, fake.binding_id)) == [(fake.binding_id, "far_from_estate", "confirmed"),
                                                    (fake.binding_id, "never_returned", "confirmed")]


def test_dismissing_keeps_the_binding_and_its_points(app, client, agent, rated_binding):
    bound = far(rated_binding)
    flag = flag_id(client, agent, bound.binding_id)
    response = client.post(f"/api/v1/admin/binding-flags/{flag}/dismiss", headers=agent.headers,
                           json={"note": "住户在外地出差时扫码"})
    assert response.status_code == 200 and response.json["status"] == "dismissed"
    again = client.post(f"/api/v1/admin/binding-flags/{flag}/dismiss", headers=agent.headers, json={})
    assert again.status_code == 200 and again.json["note"] == "住户在外地出差时扫码"
    assert balance(app, bound.user_id).pending == 20
    assert [s["binding_id"] for s in client.get("/api/v1/me/stewards", headers=bound.headers).json["items"]] == [
        bound.binding_id]
    assert audit_actions(app, "binding_flag.dismiss") == [str(flag)]
    refused = client.post(f"/api/v1/admin/binding-flags/{flag}/confirm", headers=agent.headers, json={})
    assert refused.status_code == 409


def test_bulk_decides_each_and_reports_each(app, client, agent, rated_binding):
    one, two = far(rated_binding), far(rated_binding)
    ids = [flag_id(client, agent, one.binding_id), flag_id(client, agent, two.binding_id)]
    response = client.post("/api/v1/admin/binding-flags/bulk", headers=agent.headers,
                           json={"ids": ids, "action": "confirm", "note": "同一工程师批量造假"})
    assert response.status_code == 200 and response.json["decided"] == 2
    again = client.post("/api/v1/admin/binding-flags/bulk", headers=agent.headers,
                        json={"ids": ids + [999999], "action": "dismiss"})
    assert again.json["decided"] == 0 and {i["code"] for i in again.json["items"]} == {
        "binding_flag_decided", "binding_flag_not_found"}


def test_the_console_queue_confirms_in_bulk_after_a_confirmation_step(app, client, make_admin, web_login,
                                                                      rated_binding):
    make_admin("agent7", "agent-pass-1", roles={"agent"})
    web_login("agent7", "agent-pass-1")
    fake, kept = far(rated_binding), far(rated_binding)
    page = client.get("/admin/binding-flags")
    assert page.status_code == 200
    text = html(page)
    assert "可疑绑定审核" in text and "绑定地点远离小区" in text and text.count('data-testid="flag-row"') == 2
    with app.app_context():
        from community.trust.models import BindingFlag
        from core.extensions import db
        ids = dict(db.session.execute(sa.select(BindingFlag.binding_id, BindingFlag.id)).all())
    step = post_form(client, "/admin/binding-flags", "/admin/binding-flags/bulk",
                     [("ids", ids[fake.binding_id]), ("action", "reject"), ("reason", "电话核实无此住户")])
    assert step.status_code == 200 and "确认批量认定虚假" in html(step) and "确认认定虚假 1 条" in html(step)
    assert flags(app, fake.binding_id)[0][2] == "open"  # nothing done before the confirmation
    done = post_form(client, "/admin/binding-flags", "/admin/binding-flags/bulk",
                     [("ids", ids[fake.binding_id]), ("action", "reject"), ("reason", "电话核实无此住户"),
                      ("confirmed", "1")], follow_redirects=True)
    assert "已认定虚假 1 条可疑绑定" in flashes(done)
    assert flags(app, fake.binding_id)[0][2] == "confirmed" and flags(app, kept.binding_id)[0][2] == "open"
    single = post_form(client, "/admin/binding-flags", f"/admin/binding-flags/{ids[kept.binding_id]}/dismiss",
                       {"note": ""}, follow_redirects=True)
    assert any("已判定为正常" in f for f in flashes(single))
    assert html(client.get("/admin/binding-flags?status=all")).count('data-testid="flag-row"') == 2


def test_the_dashboard_counts_the_open_flags_for_staff_only(app, rated_binding):
    from core import signals
    from core.accounts.services import Principal

    far(rated_binding)
    with app.test_request_context():
        queues = signals.collect(signals.work_waiting, who=Principal(1, frozenset({"agent"})))
        nobody = signals.collect(signals.work_waiting, who=Principal(2, frozenset({"resident"})))
    [mine] = [q for q in queues if q.label == "待审核的可疑绑定"]
    assert mine.count == 1 and mine.url == "/admin/binding-flags"
    assert [q for q in nobody if q.label == "待审核的可疑绑定"] == []
