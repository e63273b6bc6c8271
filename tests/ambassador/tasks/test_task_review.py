"""Reviewing task submissions through the admin API: approval pays once with the level multiplier
(and credits contribution), rejection carries a reason and allows a new submission, limits refuse
without paying, bulk decisions, the review queue and the task statistics."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ambassador.levels.models import Contribution
from ambassador.models import Ambassador, Level
from ambassador.tasks.models import Task, TaskAcceptance
from core.db import utcnow
from core.extensions import db
from core.models import AuditEntry
from points import services as points
from points.models import LedgerTransaction

TASKS = "/api/v1/admin/ambassador/tasks"
SUBMISSIONS = "/api/v1/admin/ambassador/submissions"


@pytest.fixture
def new_task(client, admin):
    def make(**fields):
        body = {"title": "转发海报", "kind": "promotion", "points": 100,
                "deadline": (utcnow() + timedelta(days=7)).isoformat(), **fields}
        response = client.post(TASKS, json=body, headers=admin.headers)
        assert response.status_code == 201, response.json
        assert client.post(f"{TASKS}/{response.json['id']}/publish", headers=admin.headers).status_code == 200
        return response.json["id"]
    return make


@pytest.fixture
def submit(client):
    def do(account, task_id, text="已完成"):
        response = client.post(f"/api/v1/ambassador/tasks/{task_id}/submissions", headers=account.headers,
                               json={"text": text})
        assert response.status_code == 201, response.json
        return response.json["id"]
    return do


def error(response):
    return response.status_code, response.json["error"]["code"]


def balance(app, user_id):
    with app.app_context():
        return points.balance(user_id).available


def verify_clean(app):
    with app.app_context():
        assert points.verify() == []


def test_approval_pays_the_level_multiplier_once_and_credits_contribution(app, client, admin, make_admin,
                                                                          new_task, submit, make_ambassador,
                                                                          make_estate):
    estate = make_estate()
    gold = make_ambassador(level=3, estate_ids=[estate], city="深圳市")  # multiplier 125 %
    task = new_task(points=101)
    submission = submit(gold, task)
    response = client.post(f"{SUBMISSIONS}/{submission}/approve", headers=admin.headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved" and response.json["points"] == 126  # 101 × 1.25, rounded down
    assert response.json["reviewed_by_id"] == admin.user_id
    again = client.post(f"{SUBMISSIONS}/{submission}/approve", headers=make_admin().headers)
    assert error(again) == (409, "already_decided")
    assert error(client.post(f"{SUBMISSIONS}/{submission}/reject", headers=admin.headers, json={"reason": "x"})) == (
        409, "already_decided")
    assert balance(app, gold.user_id) == 126
    with app.app_context():
        tx = db.session.scalars(sa.select(LedgerTransaction).where(
            LedgerTransaction.idempotency_key == f"task:{submission}")).one()
        assert (tx.kind, tx.amount) == ("task", 126)
        assert db.session.get(Ambassador, gold.user_id).contribution_total == 126
        assert db.session.scalar(sa.select(sa.func.sum(Contribution.points)).where(
            Contribution.user_id == gold.user_id)) == 126
        assert db.session.get(Task, task).approved_count == 1
        assert db.session.get(TaskAcceptance, (task, gold.user_id)).approved_count == 1
        entry = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "ambassador.submission.approve")).one()
        assert entry.object_id == str(submission) and entry.after["points"] == 126
    mine = client.get("/api/v1/ambassador/submissions", headers=gold.headers).json["items"]
    assert [(s["id"], s["status"], s["points"]) for s in mine] == [(submission, "approved", 126)]
    state = client.get(f"/api/v1/ambassador/tasks/{task}", headers=gold.headers).json
    assert (state["approved"], state["pending"], state["remaining_for_me"]) == (1, 0, 0)
    verify_clean(app)


def test_a_zero_point_task_approves_without_a_grant(app, client, admin, new_task, submit, make_ambassador):
    me = make_ambassador()
    submission = submit(me, new_task(points=0))
    response = client.post(f"{SUBMISSIONS}/{submission}/approve", headers=admin.headers)
    assert response.status_code == 200 and response.json["points"] == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "task")) == 0


def test_rejection_needs_a_reason_and_the_ambassador_may_submit_again(app, client, admin, new_task, submit,
                                                                      make_ambassador):
    me = make_ambassador()
    task = new_task()
    first = submit(me, task)
    assert client.post(f"{SUBMISSIONS}/{first}/reject", headers=admin.headers, json={}).status_code == 422
    assert client.post(f"{SUBMISSIONS}/{first}/reject", headers=admin.headers, json={"reason": ""}).status_code == 422
    response = client.post(f"{SUBMISSIONS}/{first}/reject", headers=admin.headers, json={"reason": "照片看不清"})
    assert response.status_code == 200 and response.json["status"] == "rejected"
    mine = client.get("/api/v1/ambassador/submissions", headers=me.headers).json["items"]
    assert (mine[0]["status"], mine[0]["reason"], mine[0]["task_title"]) == ("rejected", "照片看不清", "转发海报")
    second = submit(me, task, text="重新拍了")
    assert client.post(f"{SUBMISSIONS}/{second}/approve", headers=admin.headers).status_code == 200
    assert balance(app, me.user_id) == 100
    state = client.get(f"/api/v1/ambassador/tasks/{task}", headers=me.headers).json
    assert (state["approved"], state["rejected"]) == (1, 1)
    # Done once (the per-person limit): no third submission.
    assert error(client.post(f"/api/v1/ambassador/tasks/{task}/submissions", headers=me.headers,
                             json={"text": "再来"})) == (409, "per_person_limit_reached")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "ambassador.submission.reject")) == 1


def test_a_rejected_submission_cannot_be_resubmitted_after_the_deadline(app, client, admin, new_task, submit,
                                                                        make_ambassador):
    me = make_ambassador()
    task = new_task()
    first = submit(me, task)
    with app.app_context():
        db.session.get(Task, task).deadline = utcnow() - timedelta(seconds=1)
        db.session.commit()
    # A submission made in time is still reviewed after the deadline.
    response = client.post(f"{SUBMISSIONS}/{first}/reject", headers=admin.headers, json={"reason": "不符合"})
    assert response.status_code == 200
    assert error(client.post(f"/api/v1/ambassador/tasks/{task}/submissions", headers=me.headers,
                             json={"text": "x"})) == (409, "task_deadline_passed")


def test_the_total_limit_refuses_submissions_and_approvals_past_it_paying_nothing(app, client, admin, new_task,
                                                                                   submit, make_ambassador):
    crowd = [make_ambassador() for _ in range(3)]
    task = new_task(total_limit=2)
    ids = [submit(account, task) for account in crowd]  # all three submit while places are left
    assert client.post(f"{SUBMISSIONS}/{ids[0]}/approve", headers=admin.headers).status_code == 200
    assert client.post(f"{SUBMISSIONS}/{ids[1]}/approve", headers=admin.headers).status_code == 200
    response = client.post(f"{SUBMISSIONS}/{ids[2]}/approve", headers=admin.headers)
    assert error(response) == (409, "task_limit_reached")
    assert balance(app, crowd[2].user_id) == 0
    pending = client.get(f"{SUBMISSIONS}/{ids[2]}", headers=admin.headers).json
    assert pending["status"] == "pending" and pending["points"] is None  # nothing happened; it may be rejected
    assert client.post(f"{SUBMISSIONS}/{ids[2]}/reject", headers=admin.headers,
                       json={"reason": "名额已满"}).status_code == 200
    late = make_ambassador()
    assert error(client.post(f"/api/v1/ambassador/tasks/{task}/submissions", headers=late.headers,
                             json={"text": "x"})) == (409, "task_limit_reached")
    state = client.get(f"/api/v1/ambassador/tasks/{task}", headers=late.headers).json
    assert (state["remaining_total"], state["remaining_for_me"]) == (0, 0)
    # Raising the limit opens places again.
    assert client.patch(f"{TASKS}/{task}", headers=admin.headers, json={"total_limit": 3}).status_code == 200
    assert client.post(f"/api/v1/ambassador/tasks/{task}/submissions", headers=late.headers,
                       json={"text": "x"}).status_code == 201
    with app.app_context():
        assert db.session.get(Task, task).approved_count == 2
    verify_clean(app)


def test_the_per_person_limit_counts_approved_completions(app, client, admin, new_task, submit, make_ambassador):
    me = make_ambassador(level=2)  # multiplier 110 %
    task = new_task(per_person_limit=2, points=10)
    for _ in range(2):
        submission = submit(me, task)
        assert client.post(f"{SUBMISSIONS}/{submission}/approve", headers=admin.headers).json["points"] == 11
    assert error(client.post(f"/api/v1/ambassador/tasks/{task}/submissions", headers=me.headers,
                             json={"text": "x"})) == (409, "per_person_limit_reached")
    assert balance(app, me.user_id) == 22


def test_the_per_person_guard_holds_even_when_the_count_is_already_full(app, client, admin, new_task, submit,
                                                                        make_ambassador):
    """A pending submission left over when the limit filled (e.g. written before a concurrent
    approval) is refused at approval by the acceptance's conditional update."""
    me = make_ambassador()
    task = new_task()
    submission = submit(me, task)
    with app.app_context():
        db.session.get(TaskAcceptance, (task, me.user_id)).approved_count = 1
        db.session.commit()
    response = client.post(f"{SUBMISSIONS}/{submission}/approve", headers=admin.headers)
    assert error(response) == (409, "task_limit_reached")
    assert response.json["error"]["details"]["limit"] == "per_person"
    with app.app_context():
        assert db.session.get(Task, task).approved_count == 0  # the task's count was rolled back too
    assert balance(app, me.user_id) == 0


def test_a_suspended_ambassadors_submission_is_not_paid(app, client, admin, new_task, submit, make_ambassador):
    me = make_ambassador()
    submission = submit(me, new_task())
    with app.app_context():
        db.session.get(Ambassador, me.user_id).status = "suspended"
        db.session.commit()
    assert error(client.post(f"{SUBMISSIONS}/{submission}/approve", headers=admin.headers)) == (
        409, "ambassador_not_active")
    assert client.post(f"{SUBMISSIONS}/{submission}/reject", headers=admin.headers,
                       json={"reason": "已暂停资格"}).status_code == 200
    assert balance(app, me.user_id) == 0


def test_unknown_submissions_and_non_admins(client, admin, login, make_ambassador, new_task, submit):
    assert error(client.post(f"{SUBMISSIONS}/999999/approve", headers=admin.headers)) == (404, "submission_not_found")
    me = make_ambassador()
    submission = submit(me, new_task())
    assert client.post(f"{SUBMISSIONS}/{submission}/approve", headers=me.headers).status_code == 403
    assert client.get(SUBMISSIONS, headers=login().headers).status_code == 403


def test_bulk_decisions_report_each_outcome(app, client, admin, new_task, submit, make_ambassador):
    crowd = [make_ambassador() for _ in range(3)]
    task = new_task(total_limit=2)
    ids = [submit(account, task) for account in crowd]
    response = client.post(f"{SUBMISSIONS}/decisions", headers=admin.headers,
                           json={"ids": ids + [ids[0], 999999], "action": "approve"})
    assert response.status_code == 200, response.json
    assert response.json["items"] == [{"id": ids[0], "ok": True, "code": "ok"},
                                      {"id": ids[1], "ok": True, "code": "ok"},
                                      {"id": ids[2], "ok": False, "code": "task_limit_reached"},
                                      {"id": 999999, "ok": False, "code": "submission_not_found"}]
    assert (response.json["decided"], response.json["refused"]) == (2, 2)
    assert [balance(app, a.user_id) for a in crowd] == [100, 100, 0]
    assert client.post(f"{SUBMISSIONS}/decisions", headers=admin.headers,
                       json={"ids": [ids[2]], "action": "reject"}).status_code == 422
    response = client.post(f"{SUBMISSIONS}/decisions", headers=admin.headers,
                           json={"ids": [ids[2], ids[0]], "action": "reject", "reason": "名额已满"})
    assert [i["code"] for i in response.json["items"]] == ["ok", "already_decided"]
    assert client.post(f"{SUBMISSIONS}/decisions", headers=admin.headers,
                       json={"ids": [], "action": "approve"}).status_code == 422
    verify_clean(app)


def test_the_queue_is_oldest_pending_first_and_filters_by_task(client, admin, new_task, submit, make_ambassador):
    a, b = new_task(), new_task()
    crowd = [make_ambassador() for _ in range(3)]
    ids = [submit(crowd[0], a), submit(crowd[1], b), submit(crowd[2], a)]
    client.post(f"{SUBMISSIONS}/{ids[1]}/reject", headers=admin.headers, json={"reason": "x"})
    page = client.get(f"{SUBMISSIONS}?status=pending&limit=1", headers=admin.headers).json
    assert [s["id"] for s in page["items"]] == [ids[0]]
    rest = client.get(f"{SUBMISSIONS}?status=pending&cursor={page['next_cursor']}", headers=admin.headers).json
    assert [s["id"] for s in rest["items"]] == [ids[2]] and rest["next_cursor"] is None
    assert [s["id"] for s in client.get(f"{SUBMISSIONS}?task_id={a}", headers=admin.headers).json["items"]] == [
        ids[2], ids[0]]
    rejected = client.get(f"{SUBMISSIONS}?status=rejected", headers=admin.headers).json["items"]
    assert [(s["id"], s["user_id"], s["task_title"]) for s in rejected] == [(ids[1], crowd[1].user_id, "转发海报")]
    assert client.get(f"{SUBMISSIONS}?status=odd", headers=admin.headers).status_code == 422


def test_statistics_of_a_task(app, client, admin, new_task, submit, make_ambassador, make_estate):
    near, far = make_estate(), make_estate()
    with app.app_context():
        silver = db.session.scalar(sa.select(Level.id).where(Level.position == 2))
    task = new_task(audience_level_ids=[silver], audience_estate_ids=[near], points=20)
    takers = [make_ambassador(level=2, estate_ids=[near]) for _ in range(3)]
    make_ambassador(level=2, estate_ids=[far])  # other estate
    make_ambassador(level=1, estate_ids=[near])  # other level
    suspended = make_ambassador(level=2, estate_ids=[near])
    with app.app_context():
        db.session.get(Ambassador, suspended.user_id).status = "suspended"
        db.session.commit()
    client.post(f"/api/v1/ambassador/tasks/{task}/accept", headers=takers[0].headers)
    first = submit(takers[1], task)
    client.post(f"{SUBMISSIONS}/{first}/reject", headers=admin.headers, json={"reason": "x"})
    second = submit(takers[1], task)
    client.post(f"{SUBMISSIONS}/{second}/approve", headers=admin.headers)
    submit(takers[2], task)
    stats = client.get(f"{TASKS}/{task}/stats", headers=admin.headers).json
    assert stats == {"task_id": task, "reach": 3, "accepted": 3, "submitters": 2, "submissions": 3,
                     "approved": 1, "rejected": 1, "pending": 1, "points_paid": 22}
    everyone = new_task()
    assert client.get(f"{TASKS}/{everyone}/stats", headers=admin.headers).json["reach"] == 5


def test_reach_of_a_recruit_task_counts_only_levels_that_may_recruit(app, client, admin, new_task, make_ambassador):
    with app.app_context():
        db.session.scalar(sa.select(Level).where(Level.position == 1)).permissions = []
        db.session.commit()
    make_ambassador(level=1)
    make_ambassador(level=2)
    make_ambassador(level=3, city="上海市")
    task = new_task(kind="recruit")
    assert client.get(f"{TASKS}/{task}/stats", headers=admin.headers).json["reach"] == 2
    in_city = new_task(kind="recruit", audience_cities=["上海市"])
    assert client.get(f"{TASKS}/{in_city}/stats", headers=admin.headers).json["reach"] == 1


def test_a_retried_approval_with_its_idempotency_key_answers_the_first_result(app, client, admin, new_task, submit,
                                                                             make_ambassador):
    me = make_ambassador()
    submission = submit(me, new_task())
    headers = {**admin.headers, "Idempotency-Key": "approve-once"}
    first = client.post(f"{SUBMISSIONS}/{submission}/approve", headers=headers)
    again = client.post(f"{SUBMISSIONS}/{submission}/approve", headers=headers)
    assert first.status_code == again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json == first.json
    # Without the key a repeat is refused, and nothing is paid twice either way.
    assert error(client.post(f"{SUBMISSIONS}/{submission}/approve", headers=admin.headers)) == (409, "already_decided")
    assert balance(app, me.user_id) == 100


def test_a_submission_made_before_closing_is_still_approved_and_paid(app, client, admin, new_task, submit,
                                                                     make_ambassador):
    me = make_ambassador()
    task = new_task()
    submission = submit(me, task)
    assert client.post(f"{TASKS}/{task}/close", headers=admin.headers).status_code == 200
    response = client.post(f"{SUBMISSIONS}/{submission}/approve", headers=admin.headers)
    assert response.status_code == 200 and response.json["points"] == 100
    assert balance(app, me.user_id) == 100


def test_my_submissions_of_one_task(client, admin, new_task, submit, make_ambassador):
    """The task page asks for my submissions to that task only: newest first, with the reason."""
    me, other = make_ambassador(), make_ambassador()
    poster, survey = new_task(), new_task(title="问卷")
    first = submit(me, poster)
    assert client.post(f"{SUBMISSIONS}/{first}/reject", headers=admin.headers, json={"reason": "照片看不清"}).status_code == 200
    second = submit(me, poster, text="重新拍了")
    submit(me, survey)
    submit(other, poster)
    mine = client.get(f"/api/v1/ambassador/submissions?task_id={poster}", headers=me.headers).json
    assert [(s["id"], s["status"], s["reason"]) for s in mine["items"]] == [
        (second, "pending", None), (first, "rejected", "照片看不清")]
    assert {s["task_title"] for s in mine["items"]} == {"转发海报"}
    everything = client.get("/api/v1/ambassador/submissions", headers=me.headers).json["items"]
    assert len(everything) == 3
    assert client.get("/api/v1/ambassador/submissions?task_id=0", headers=me.headers).status_code == 422
    paged = client.get(f"/api/v1/ambassador/submissions?task_id={poster}&limit=1", headers=me.headers).json
    rest = client.get(f"/api/v1/ambassador/submissions?task_id={poster}&limit=1&cursor={paged['next_cursor']}",
                      headers=me.headers).json
    assert [s["id"] for s in paged["items"] + rest["items"]] == [second, first] and rest["next_cursor"] is None
