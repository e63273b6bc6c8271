"""Tasks through the API: the admin's editor (validation, what a published task may change, audit)
and what ambassadors see, take and submit (audience, proof, limits, deadline, status)."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ambassador.models import Ambassador, Level
from ambassador.tasks.models import Task, TaskAcceptance
from core.db import utcnow
from core.extensions import db
from core.models import AuditEntry

TASKS = "/api/v1/admin/ambassador/tasks"


def later(days: float = 7) -> str:
    return (utcnow() + timedelta(days=days)).isoformat()


def level_id(app, position: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Level.id).where(Level.position == position))


@pytest.fixture
def new_task(client, admin):
    """new_task(publish=True, **fields) -> the created task's JSON."""
    def make(publish: bool = True, **fields):
        body = {"title": "转发小区活动海报", "kind": "promotion", "points": 100, "deadline": later(), **fields}
        response = client.post(TASKS, json=body, headers=admin.headers)
        assert response.status_code == 201, response.json
        task = response.json
        if publish:
            response = client.post(f"{TASKS}/{task['id']}/publish", headers=admin.headers)
            assert response.status_code == 200, response.json
            task = response.json
        return task
    return make


def error(response):
    return response.status_code, response.json["error"]["code"]


# -- the editor -------------------------------------------------------------------------------

def test_create_lists_every_invalid_field(client, admin):
    response = client.post(TASKS, headers=admin.headers, json={
        "title": "", "kind": "dance", "points": -1, "deadline": "soon", "per_person_limit": 0,
        "proof_required": ["video"]})
    assert response.status_code == 422
    fields = response.json["error"]["details"]["fields"]
    assert {"title", "kind", "points", "deadline", "per_person_limit", "proof_required"} <= set(fields)


def test_create_refuses_a_past_deadline_and_unknown_audience(client, admin, make_estate):
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    response = client.post(TASKS, headers=admin.headers, json={
        "title": "t", "kind": "content", "points": 5, "deadline": past, "audience_level_ids": [999999],
        "audience_estate_ids": [888888]})
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == {"deadline", "audience_level_ids",
                                                                "audience_estate_ids"}


def test_create_is_a_draft_with_audience_and_is_audited(app, client, admin, make_estate):
    estate = make_estate()
    silver = level_id(app, 2)
    response = client.post(TASKS, headers={**admin.headers, "Idempotency-Key": "t-1"}, json={
        "title": " 拍摄安装视频 ", "kind": "content", "points": 80, "deadline": "2099-01-01T10:00:00",
        "audience_level_ids": [silver, silver], "audience_estate_ids": [estate], "audience_cities": ["深圳市"],
        "total_limit": 10, "per_person_limit": 2, "proof_required": ["photos", "text"]})
    assert response.status_code == 201, response.json
    task = response.json
    assert task["status"] == "draft" and task["title"] == "拍摄安装视频"
    assert task["audience_level_ids"] == [silver] and task["proof_required"] == ["text", "photos"]
    # A time without an offset is Asia/Shanghai.
    assert datetime.fromisoformat(task["deadline"]) == datetime(2099, 1, 1, 2, tzinfo=timezone.utc)
    again = client.post(TASKS, headers={**admin.headers, "Idempotency-Key": "t-1"}, json={
        "title": " 拍摄安装视频 ", "kind": "content", "points": 80, "deadline": "2099-01-01T10:00:00",
        "audience_level_ids": [silver, silver], "audience_estate_ids": [estate], "audience_cities": ["深圳市"],
        "total_limit": 10, "per_person_limit": 2, "proof_required": ["photos", "text"]})
    assert again.json["id"] == task["id"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 1
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "ambassador.task.create")).one()
        assert entry.actor_id == admin.user_id and entry.object_id == str(task["id"])


def test_only_admins_edit_tasks(client, login, make_ambassador):
    ambassador = make_ambassador()
    response = client.post(TASKS, headers=ambassador.headers, json={
        "title": "t", "kind": "content", "points": 5, "deadline": later()})
    assert response.status_code == 403
    assert client.get(TASKS).status_code == 401


def test_a_draft_changes_freely_and_a_published_task_only_in_the_audiences_favour(app, client, admin, new_task):
    task = new_task(publish=False, total_limit=10, per_person_limit=2)
    response = client.patch(f"{TASKS}/{task['id']}", headers=admin.headers, json={"points": 50, "kind": "content"})
    assert response.status_code == 200 and response.json["points"] == 50
    assert client.post(f"{TASKS}/{task['id']}/publish", headers=admin.headers).status_code == 200
    assert error(client.post(f"{TASKS}/{task['id']}/publish", headers=admin.headers)) == (409, "task_not_draft")

    for change in ({"points": 40}, {"points": 60}, {"kind": "promotion"}, {"proof_required": ["link"]},
                   {"audience_cities": ["上海市"]}, {"total_limit": 9}, {"per_person_limit": 1},
                   {"deadline": later(6)}):
        response = client.patch(f"{TASKS}/{task['id']}", headers=admin.headers, json=change)
        assert error(response) == (409, "task_change_not_allowed"), change
        assert set(response.json["error"]["details"]["fields"]) == set(change)
    response = client.patch(f"{TASKS}/{task['id']}", headers=admin.headers, json={
        "title": "新标题", "description": "补充说明", "deadline": later(30), "total_limit": 20, "per_person_limit": 3})
    assert response.status_code == 200, response.json
    assert (response.json["title"], response.json["total_limit"], response.json["per_person_limit"]) == ("新标题", 20, 3)
    # Removing the total limit is raising it too; putting one back is not.
    assert client.patch(f"{TASKS}/{task['id']}", headers=admin.headers, json={"total_limit": None}).status_code == 200
    assert error(client.patch(f"{TASKS}/{task['id']}", headers=admin.headers, json={"total_limit": 100})) == (
        409, "task_change_not_allowed")
    # Sending the same values is no change.
    assert client.patch(f"{TASKS}/{task['id']}", headers=admin.headers, json={"points": 50}).status_code == 200

    assert client.post(f"{TASKS}/{task['id']}/close", headers=admin.headers).json["status"] == "closed"
    assert error(client.patch(f"{TASKS}/{task['id']}", headers=admin.headers, json={"title": "x"})) == (
        409, "task_closed")
    assert error(client.post(f"{TASKS}/{task['id']}/close", headers=admin.headers)) == (409, "task_closed")
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.object_type == "ambassador_task").order_by(AuditEntry.id)).all()
    assert actions == ["ambassador.task.create", "ambassador.task.update", "ambassador.task.publish",
                       "ambassador.task.update", "ambassador.task.update", "ambassador.task.update",
                       "ambassador.task.close"]


def test_publishing_a_draft_whose_deadline_passed_is_refused(app, client, admin, new_task):
    task = new_task(publish=False)
    with app.app_context():
        db.session.get(Task, task["id"]).deadline = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = client.post(f"{TASKS}/{task['id']}/publish", headers=admin.headers)
    assert response.status_code == 422 and "deadline" in response.json["error"]["details"]["fields"]


def test_admin_list_filters_by_status_and_paginates(client, admin, new_task):
    drafts = [new_task(publish=False)["id"] for _ in range(3)]
    published = new_task()["id"]
    page = client.get(f"{TASKS}?status=draft&limit=2", headers=admin.headers).json
    assert [t["id"] for t in page["items"]] == drafts[::-1][:2] and page["next_cursor"]
    rest = client.get(f"{TASKS}?status=draft&limit=2&cursor={page['next_cursor']}", headers=admin.headers).json
    assert [t["id"] for t in rest["items"]] == [drafts[0]] and rest["next_cursor"] is None
    listed = client.get(f"{TASKS}?status=published", headers=admin.headers).json["items"]
    assert [t["id"] for t in listed] == [published]
    assert client.get(f"{TASKS}?status=nope", headers=admin.headers).status_code == 422
    assert error(client.get(f"{TASKS}?cursor=%%%", headers=admin.headers)) == (400, "invalid_cursor")
    assert client.get(f"{TASKS}/999999", headers=admin.headers).status_code == 404


# -- what an ambassador sees ------------------------------------------------------------------

def test_the_list_holds_open_tasks_of_the_callers_audience(app, client, new_task, make_ambassador, make_estate):
    near, far = make_estate(), make_estate(city="上海市")
    silver, gold = level_id(app, 2), level_id(app, 3)
    me = make_ambassador(level=2, estate_ids=[near], city="深圳市")
    mine = [new_task(title="全员")["id"],
            new_task(title="银牌", audience_level_ids=[silver, gold])["id"],
            new_task(title="本小区", audience_estate_ids=[near, far])["id"],
            new_task(title="本市", audience_cities=["深圳市"])["id"],
            new_task(title="全部条件", audience_level_ids=[silver], audience_estate_ids=[near],
                     audience_cities=["深圳市"])["id"]]
    new_task(title="金牌", audience_level_ids=[gold])
    new_task(title="别的小区", audience_estate_ids=[far])
    new_task(title="上海", audience_cities=["上海市"])
    new_task(title="草稿", publish=False)
    closed = new_task(title="已结束")
    expired = new_task(title="已过期")
    with app.app_context():
        db.session.get(Task, expired["id"]).deadline = utcnow() - timedelta(seconds=1)
        db.session.get(Task, closed["id"]).status = "closed"
        db.session.commit()

    page = client.get("/api/v1/ambassador/tasks?limit=3", headers=me.headers).json
    assert [t["id"] for t in page["items"]] == mine[::-1][:3]
    rest = client.get(f"/api/v1/ambassador/tasks?limit=3&cursor={page['next_cursor']}", headers=me.headers).json
    assert [t["id"] for t in rest["items"]] == mine[::-1][3:] and rest["next_cursor"] is None
    first = page["items"][0]
    assert (first["accepted"], first["pending"], first["approved"], first["remaining_for_me"],
            first["remaining_total"]) == (False, 0, 0, 1, None)
    assert "audience_level_ids" not in first


def test_the_list_reads_past_many_tasks_of_other_audiences(app, client, new_task, make_ambassador):
    gold = level_id(app, 3)
    me = make_ambassador(level=1)
    wanted = new_task(title="见习可见")["id"]
    for _ in range(55):
        new_task(title="金牌专属", audience_level_ids=[gold])
    page = client.get("/api/v1/ambassador/tasks?limit=5", headers=me.headers).json
    assert [t["id"] for t in page["items"]] == [wanted] and page["next_cursor"] is None


def test_non_ambassadors_and_suspended_ambassadors_are_refused(app, client, login, new_task, make_ambassador):
    task = new_task()
    resident = login()
    for call in (lambda h: client.get("/api/v1/ambassador/tasks", headers=h),
                 lambda h: client.get(f"/api/v1/ambassador/tasks/{task['id']}", headers=h),
                 lambda h: client.post(f"/api/v1/ambassador/tasks/{task['id']}/accept", headers=h),
                 lambda h: client.post(f"/api/v1/ambassador/tasks/{task['id']}/submissions", headers=h, json={})):
        assert error(call(resident.headers)) == (403, "not_an_ambassador")
    suspended = make_ambassador()
    with app.app_context():
        db.session.get(Ambassador, suspended.user_id).status = "suspended"
        db.session.commit()
    assert error(client.get("/api/v1/ambassador/tasks", headers=suspended.headers)) == (403, "not_an_ambassador")
    assert error(client.post(f"/api/v1/ambassador/tasks/{task['id']}/accept", headers=suspended.headers)) == (
        403, "not_an_ambassador")


def test_accept_is_idempotent_and_checks_audience_and_openness(app, client, admin, new_task, make_ambassador):
    gold = level_id(app, 3)
    me = make_ambassador(level=1)
    task = new_task()
    for _ in range(2):
        response = client.post(f"/api/v1/ambassador/tasks/{task['id']}/accept", headers=me.headers)
        assert response.status_code == 200 and response.json["accepted"] is True
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TaskAcceptance)) == 1
    assert client.get(f"/api/v1/ambassador/tasks/{task['id']}", headers=me.headers).json["accepted"] is True

    other = new_task(audience_level_ids=[gold])
    assert error(client.post(f"/api/v1/ambassador/tasks/{other['id']}/accept", headers=me.headers)) == (
        403, "task_not_in_audience")
    assert error(client.get(f"/api/v1/ambassador/tasks/{other['id']}", headers=me.headers)) == (
        403, "task_not_in_audience")
    draft = new_task(publish=False)
    assert error(client.post(f"/api/v1/ambassador/tasks/{draft['id']}/accept", headers=me.headers)) == (
        404, "task_not_found")
    assert error(client.post("/api/v1/ambassador/tasks/999999/accept", headers=me.headers)) == (404, "task_not_found")
    closed = new_task()
    client.post(f"{TASKS}/{closed['id']}/close", headers=admin.headers)
    assert error(client.post(f"/api/v1/ambassador/tasks/{closed['id']}/accept", headers=me.headers)) == (
        409, "task_closed")
    expired = new_task()
    with app.app_context():
        db.session.get(Task, expired["id"]).deadline = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert error(client.post(f"/api/v1/ambassador/tasks/{expired['id']}/accept", headers=me.headers)) == (
        409, "task_deadline_passed")


def test_recruit_tasks_need_the_levels_recruit_permission(app, client, new_task, make_ambassador):
    with app.app_context():
        trainee = db.session.scalar(sa.select(Level).where(Level.position == 1))
        trainee.permissions = ["announce"]
        db.session.commit()
    novice, silver = make_ambassador(level=1), make_ambassador(level=2)
    task = new_task(kind="recruit", title="邀请新代言人")
    assert client.get("/api/v1/ambassador/tasks", headers=novice.headers).json["items"] == []
    response = client.post(f"/api/v1/ambassador/tasks/{task['id']}/accept", headers=novice.headers)
    assert error(response) == (403, "permission_denied")
    assert response.json["error"]["details"]["permission"] == "recruit"
    assert error(client.post(f"/api/v1/ambassador/tasks/{task['id']}/submissions", headers=novice.headers,
                             json={"text": "x"})) == (403, "permission_denied")
    listed = client.get("/api/v1/ambassador/tasks", headers=silver.headers).json["items"]
    assert [t["id"] for t in listed] == [task["id"]]
    assert client.post(f"/api/v1/ambassador/tasks/{task['id']}/accept", headers=silver.headers).status_code == 200


# -- submissions ------------------------------------------------------------------------------

def submit(client, account, task_id, **body):
    return client.post(f"/api/v1/ambassador/tasks/{task_id}/submissions", headers=account.headers, json=body)


def _upload(client, account) -> str:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 150, 90)).save(out, "PNG")
    response = client.post("/api/v1/uploads", headers=account.headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(out.getvalue()), "proof.png")})
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_submitting_takes_the_task_and_requires_the_proof(app, client, new_task, make_ambassador, login):
    me = make_ambassador()
    task = new_task(proof_required=["link", "photos"])
    response = submit(client, me, task["id"], text="我做了")
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == {"link", "photos"}
    bad = submit(client, me, task["id"], link="javascript:alert(1)",
                 photos=["abcdefghijklmnopqrstuvwx.jpg", "has space"])
    assert set(bad.json["error"]["details"]["fields"]) == {"link", "photos"}
    assert submit(client, me, task["id"], link="https://example.com/p", photos=["abcdefghijklmnopqrstuvwx.jpg"] * 10
                  ).status_code == 422
    # upload names must be the submitter's own uploads
    unknown = submit(client, me, task["id"], link="https://example.com/p", photos=["Ab-_cdefghijklmnopqrstuv.webp"])
    assert unknown.status_code == 422 and "photos" in unknown.json["error"]["details"]["fields"]
    someone_else = _upload(client, login())
    theirs = submit(client, me, task["id"], link="https://example.com/p", photos=[someone_else])
    assert theirs.status_code == 422 and "photos" in theirs.json["error"]["details"]["fields"]
    mine, other_mine = _upload(client, me), _upload(client, me)
    response = submit(client, me, task["id"], link=" https://mp.weixin.qq.com/s/abc ",
                      photos=[mine, f"/api/v1/uploads/{other_mine}", "https://cdn.example.com/x.jpg"])
    assert response.status_code == 201, response.json
    assert response.json["status"] == "pending" and response.json["link"] == "https://mp.weixin.qq.com/s/abc"
    assert response.json["task_title"] == task["title"] and response.json["points"] is None
    state = client.get(f"/api/v1/ambassador/tasks/{task['id']}", headers=me.headers).json
    assert (state["accepted"], state["pending"]) == (True, 1)


def test_a_pending_submission_blocks_another_and_an_idempotent_retry_returns_it(client, new_task, make_ambassador):
    me = make_ambassador()
    task = new_task()
    headers = {**me.headers, "Idempotency-Key": "sub-1"}
    first = client.post(f"/api/v1/ambassador/tasks/{task['id']}/submissions", headers=headers, json={"text": "a"})
    again = client.post(f"/api/v1/ambassador/tasks/{task['id']}/submissions", headers=headers, json={"text": "a"})
    assert first.status_code == again.status_code == 201 and first.json["id"] == again.json["id"]
    assert error(submit(client, me, task["id"], text="b")) == (409, "submission_pending")
    mine = client.get("/api/v1/ambassador/submissions", headers=me.headers).json
    assert [s["id"] for s in mine["items"]] == [first.json["id"]]


def test_no_submission_after_the_deadline_or_once_closed(app, client, admin, new_task, make_ambassador):
    me = make_ambassador()
    task = new_task()
    client.post(f"/api/v1/ambassador/tasks/{task['id']}/accept", headers=me.headers)
    with app.app_context():
        db.session.get(Task, task["id"]).deadline = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert error(submit(client, me, task["id"], text="晚了")) == (409, "task_deadline_passed")
    other = new_task()
    client.post(f"{TASKS}/{other['id']}/close", headers=admin.headers)
    assert error(submit(client, me, other["id"], text="x")) == (409, "task_closed")


def test_bad_submission_bodies_are_422_not_500(client, new_task, make_ambassador):
    me = make_ambassador()
    task = new_task()
    for body in ({"photos": "abcdefghijklmnopqrstuvwx.jpg"}, {"photos": [1, 2]}, {"photos": ["short.jpg"]},
                 {"photos": ["abcdefghijklmnopqrstuvwx.gif"]}, {"link": "ftp://example.com/x"}, {"text": 5},
                 {"link": ["x"]}, {"text": "x" * 2001}):
        assert submit(client, me, task["id"], **body).status_code == 422, body
    response = client.post(f"/api/v1/ambassador/tasks/{task['id']}/submissions", headers={
        **me.headers, "Content-Type": "application/json"}, data="{not json")
    assert response.status_code == 400
