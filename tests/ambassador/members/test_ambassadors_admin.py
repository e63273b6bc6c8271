"""The ambassadors admin API: list with filters, detail, suspend / reinstate / remove with a
reason (history kept, leaderboards left), estates, who may do what."""
from datetime import timedelta

import sqlalchemy as sa

from ambassador.levels import services as contributions
from ambassador.levels.models import Standing
from ambassador.models import Ambassador, AmbassadorEstate, LevelChange
from ambassador.referrals.models import Referral
from ambassador.tasks.models import Task, TaskSubmission
from core.db import utcnow
from core.extensions import db
from core.models import AuditEntry
from points import ledger

LIST = "/api/v1/admin/ambassadors"


def error(response):
    return response.json["error"]["code"]


def invite_code(app, user_id) -> str:
    with app.app_context():
        return db.session.get(Ambassador, user_id).invite_code


def standings(app, user_id) -> set[tuple[str, str, int]]:
    with app.app_context():
        return {(s.scope, s.period, s.points) for s in db.session.scalars(
            sa.select(Standing).where(Standing.user_id == user_id))}


def credit(app, user_id, points):
    with app.app_context():
        assert contributions.credit(user_id, points)
        db.session.commit()


def test_list_filters_by_level_estate_city_status_and_search(app, client, admin, make_ambassador, make_estate):
    a, b = make_estate(city="深圳市"), make_estate(city="广州市")
    first = make_ambassador(level=1, estate_ids=[a], city="深圳市", phone="13911110001")
    second = make_ambassador(level=2, estate_ids=[b], city="广州市")
    third = make_ambassador(level=2, estate_ids=[a, b], city="深圳市")
    with app.app_context():
        db.session.get(Ambassador, third.user_id).status = "suspended"
        db.session.get(Ambassador, second.user_id).real_name = "周小红"
        level2 = db.session.get(Ambassador, second.user_id).level_id
        db.session.commit()

    def ids(query=""):
        response = client.get(f"{LIST}?{query}", headers=admin.headers)
        assert response.status_code == 200, response.json
        return [item["user_id"] for item in response.json["items"]]

    assert ids() == [third.user_id, second.user_id, first.user_id]
    assert ids(f"level_id={level2}") == [third.user_id, second.user_id]
    assert ids(f"estate_id={a}") == [third.user_id, first.user_id]
    assert ids("city=广州市") == [second.user_id]
    assert ids("status=suspended") == [third.user_id]
    assert ids(f"level_id={level2}&status=active") == [second.user_id]
    assert ids("q=小红") == [second.user_id]
    assert ids("q=13911110001") == [first.user_id]
    assert ids(f"q={invite_code(app, first.user_id).lower()}") == [first.user_id]
    page = client.get(f"{LIST}?limit=2", headers=admin.headers).json
    assert len(page["items"]) == 2 and page["next_cursor"]
    assert ids(f"limit=2&cursor={page['next_cursor']}") == [first.user_id]
    assert client.get(f"{LIST}?status=gone", headers=admin.headers).status_code == 422
    assert client.get(f"{LIST}?level_id=0", headers=admin.headers).status_code == 422


def test_detail_shows_history_estates_points_tasks_and_referrals(app, client, admin, make_ambassador, make_estate,
                                                                 login):
    estate = make_estate(name="翠苑")
    inviter = make_ambassador(level=2)
    ambassador = make_ambassador(level=1, estate_ids=[estate], city="深圳市")
    invitee = login()
    with app.app_context():
        db.session.get(Ambassador, ambassador.user_id).inviter_id = inviter.user_id
        ledger.grant(ambassador.user_id, 120, "test", "seed:detail", "测试发放")
        task = Task(title="转发活动海报", kind="promotion", points=30, deadline=utcnow() + timedelta(days=3),
                    created_by_id=admin.user_id, status="published")
        db.session.add(task)
        db.session.flush()
        db.session.add(TaskSubmission(task_id=task.id, user_id=ambassador.user_id, text="已转发", status="approved",
                                      points=30))
        db.session.add(Referral(inviter_id=ambassador.user_id, invitee_id=invitee.user_id, invite_code="ABCDEFGH",
                                protected_until=utcnow() + timedelta(days=30)))
        db.session.commit()
    credit(app, ambassador.user_id, 45)

    response = client.get(f"{LIST}/{ambassador.user_id}", headers=admin.headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["ambassador"]["inviter_id"] == inviter.user_id
    assert body["ambassador"]["contribution_total"] == 45
    assert body["level"]["code"] == "trainee" and body["next_level"]["threshold"] == 500
    assert [e["name"] for e in body["estates"]] == ["翠苑"]
    assert [(h["kind"], h["to_level"]["code"]) for h in body["history"]] == [("join", "trainee")]
    assert body["points"] == {"balance": 120, "held": 0}
    assert [(s["task_title"], s["status"], s["points"]) for s in body["submissions"]] == [("转发活动海报", "approved", 30)]
    assert [(r["invitee_id"], r["status"]) for r in body["referrals"]] == [(invitee.user_id, "pending")]
    assert error(client.get(f"{LIST}/{invitee.user_id}", headers=admin.headers)) == "ambassador_not_found"


def test_suspend_reinstate_remove_keep_history_and_remove_leaves_the_leaderboards(app, client, admin,
                                                                                  make_ambassador, make_estate):
    estate = make_estate()
    account = make_ambassador(level=2, estate_ids=[estate], city="深圳市")
    credit(app, account.user_id, 80)
    assert ("estate:%d" % estate, "all", 80) in standings(app, account.user_id)
    url = f"{LIST}/{account.user_id}"

    assert client.post(f"{url}/suspend", headers=admin.headers, json={"reason": " "}).status_code == 422
    assert client.post(f"{url}/suspend", headers=admin.headers, json={}).status_code == 422
    response = client.post(f"{url}/suspend", headers=admin.headers, json={"reason": "虚假宣传"})
    assert response.status_code == 200, response.json
    assert (response.json["ambassador"]["status"], response.json["ambassador"]["status_reason"]) == (
        "suspended", "虚假宣传")
    me = client.get("/api/v1/ambassador/me", headers=account.headers).json["ambassador"]
    assert (me["status"], me["status_reason"], me["invite_code"]) == ("suspended", "虚假宣传", None)
    response = client.post(f"{url}/suspend", headers=admin.headers, json={"reason": "再次"})
    assert response.status_code == 409 and error(response) == "invalid_status_change"

    assert client.post(f"{url}/reinstate", headers=admin.headers, json={"reason": "已整改"}).json[
        "ambassador"]["status"] == "active"
    assert standings(app, account.user_id)  # suspension does not touch the leaderboards
    response = client.post(f"{url}/remove", headers=admin.headers, json={"reason": "多次违规"})
    assert response.status_code == 200 and response.json["ambassador"]["status"] == "removed"
    assert standings(app, account.user_id) == set()
    response = client.post(f"{url}/reinstate", headers=admin.headers, json={"reason": "申诉"})
    assert response.status_code == 409 and error(response) == "invalid_status_change"
    assert response.json["error"]["details"]["status"] == "removed"
    assert error(client.post(f"{url}/remove", headers=admin.headers, json={"reason": "x"})) == "invalid_status_change"

    with app.app_context():
        kinds = [(c.kind, c.reason, c.actor_id) for c in db.session.scalars(
            sa.select(LevelChange).where(LevelChange.user_id == account.user_id).order_by(LevelChange.id))]
        audits = list(db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.object_type == "ambassador", AuditEntry.object_id == str(account.user_id))
            .order_by(AuditEntry.id)))
        assert db.session.get(Ambassador, account.user_id).contribution_total == 80  # history stays
    assert kinds[1:] == [("suspend", "虚假宣传", admin.user_id), ("reinstate", "已整改", admin.user_id),
                         ("remove", "多次违规", admin.user_id)]
    assert audits == ["ambassador.suspend", "ambassador.reinstate", "ambassador.remove"]
    history = client.get(url, headers=admin.headers).json["history"]
    assert [h["kind"] for h in history] == ["remove", "reinstate", "suspend", "join"]
    assert error(client.post(f"{LIST}/999999/suspend", headers=admin.headers,
                             json={"reason": "x"})) == "ambassador_not_found"


def test_a_removed_ambassador_may_apply_again_and_comes_back_in_the_same_row(app, client, admin, make_ambassador,
                                                                            make_estate):
    estate = make_estate(city="杭州市")
    account = make_ambassador(level=3, estate_ids=[estate], city="杭州市")
    credit(app, account.user_id, 60)
    old_code = invite_code(app, account.user_id)
    client.post(f"{LIST}/{account.user_id}/remove", headers=admin.headers, json={"reason": "违规"})
    client.put(f"/api/v1/admin/users/{account.user_id}/membership", headers=admin.headers, json={"tier": "gold"})
    response = client.post("/api/v1/ambassador/applications", headers=account.headers, json={
        "channel": "member", "real_name": "回归者", "phone": "13812340000", "estate_ids": [estate], "statement": ""})
    assert response.status_code == 201, response.json
    assert client.post(f"/api/v1/admin/ambassador/applications/{response.json['id']}/approve",
                       headers=admin.headers).status_code == 200
    body = client.get(f"{LIST}/{account.user_id}", headers=admin.headers).json
    assert body["ambassador"]["status"] == "active" and body["level"]["position"] == 1
    assert body["ambassador"]["invite_code"] != old_code and body["ambassador"]["real_name"] == "回归者"
    assert [h["kind"] for h in body["history"]] == ["join", "remove", "join"]
    assert ("all", "all", 60) in standings(app, account.user_id)


def test_estates_change_moves_city_and_standings(app, client, admin, make_ambassador, make_estate):
    old, new1, new2 = make_estate(city="深圳市"), make_estate(city="广州市"), make_estate(city="深圳市")
    account = make_ambassador(level=1, estate_ids=[old], city="深圳市")
    credit(app, account.user_id, 25)
    url = f"{LIST}/{account.user_id}/estates"
    response = client.put(url, headers=admin.headers, json={"estate_ids": [new1, new2]})
    assert response.status_code == 200, response.json
    assert response.json["ambassador"]["city"] == "广州市"
    assert sorted(e["id"] for e in response.json["estates"]) == sorted([new1, new2])
    scopes = {s for s, period, _ in standings(app, account.user_id) if period == "all"}
    assert {f"estate:{new1}", f"estate:{new2}", "city:广州市"} <= scopes
    assert f"estate:{old}" not in scopes and "city:深圳市" not in scopes
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEntry.after).where(
            AuditEntry.action == "ambassador.estates.set")) == {"estate_ids": sorted([new1, new2]), "city": "广州市"}
        assert set(db.session.scalars(sa.select(AmbassadorEstate.estate_id).where(
            AmbassadorEstate.user_id == account.user_id))) == {new1, new2}

    assert client.put(url, headers=admin.headers, json={"estate_ids": []}).status_code == 422
    assert error(client.put(url, headers=admin.headers, json={"estate_ids": [999999]})) == "estate_not_found"
    client.post(f"{LIST}/{account.user_id}/remove", headers=admin.headers, json={"reason": "离开"})
    assert error(client.put(url, headers=admin.headers, json={"estate_ids": [old]})) == "invalid_status_change"


def test_only_admins_change_agents_read_everyone_else_is_refused(app, client, admin, agent, make_ambassador,
                                                                login, make_engineer, make_estate):
    estate = make_estate()
    account = make_ambassador(estate_ids=[estate])
    url = f"{LIST}/{account.user_id}"
    assert client.get(LIST, headers=agent.headers).status_code == 200
    assert client.get(url, headers=agent.headers).status_code == 200
    others = [agent.headers, login().headers, make_engineer().headers, account.headers]
    for headers in others:
        for action in ("suspend", "reinstate", "remove"):
            assert client.post(f"{url}/{action}", headers=headers, json={"reason": "x"}).status_code == 403
        assert client.put(f"{url}/estates", headers=headers, json={"estate_ids": [estate]}).status_code == 403
        assert client.put(f"/api/v1/admin/users/{account.user_id}/membership", headers=headers,
                          json={"tier": "gold"}).status_code == 403
    for headers in others[1:]:
        assert client.get(LIST, headers=headers).status_code == 403
        assert client.get(url, headers=headers).status_code == 403
    assert client.get(LIST).status_code == 401
    with app.app_context():
        assert db.session.get(Ambassador, account.user_id).status == "active"
