"""Task approvals and submissions under real concurrency (PostgreSQL; threads with their own app
context, session and connection, released together and checked to have overlapped): a submission
is paid once whoever approves it, and a total limit of k pays exactly k."""
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ambassador.models import Ambassador
from ambassador.tasks import services as tasks
from ambassador.tasks.models import Task, TaskAcceptance, TaskSubmission
from core.accounts.models import User
from core.db import utcnow
from core.extensions import db
from core.models import AuditEntry
from points import services as points
from points.models import LedgerTransaction
from tests.concurrency import cli_verify, in_own_context, outcomes, race
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


@pytest.fixture
def app_config(app_config):
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 24, "max_overflow": 0, "pool_timeout": 30}
    return app_config


def new_task(app, admin_id: int, **fields) -> int:
    with app.app_context():
        task = tasks.create_task({"title": "转发海报", "kind": "promotion", "points": 100,
                                  "deadline": utcnow() + timedelta(days=7), **fields}, db.session.get(User, admin_id))
        tasks.publish_task(task.id, db.session.get(User, admin_id))
        db.session.commit()
        return task.id


def submission_of(app, user_id: int, task_id: int) -> int:
    with app.app_context():
        submission = tasks.submit(task_id, user_id, text="已完成")
        db.session.commit()
        return submission.id


def approve_call(app, admin, submission_id: int):
    """One approval as the console's API makes it."""
    def call():
        response = app.test_client().post(f"/api/v1/admin/ambassador/submissions/{submission_id}/approve",
                                          headers=admin.headers)
        if response.status_code == 200:
            return "ok", response.json["points"]
        assert response.status_code == 409, response.json
        return "error", response.json["error"]["code"]
    return call


def paid(app, user_id: int) -> int:
    with app.app_context():
        return points.balance(user_id).available


def test_two_admins_approving_one_submission_pay_it_once(app, make_admin, make_ambassador):
    admins = [make_admin(), make_admin()]
    gold = make_ambassador(level=3)
    task = new_task(app, admins[0].user_id, points=80)
    submission = submission_of(app, gold.user_id, task)

    results = race([approve_call(app, admin, submission) for admin in admins])
    assert outcomes(results) == {"ok": 1, "already_decided": 1}
    assert paid(app, gold.user_id) == 100  # 80 × 125 %
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "task")) == 1
        assert db.session.get(Task, task).approved_count == 1
        assert db.session.get(TaskAcceptance, (task, gold.user_id)).approved_count == 1
        assert db.session.get(Ambassador, gold.user_id).contribution_total == 100
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "ambassador.submission.approve")) == 1
    cli_verify(app)


def test_twenty_approvals_against_a_total_limit_of_k_pay_exactly_k(app, make_admin, make_ambassador):
    k, n = 6, 20
    admins = [make_admin() for _ in range(4)]
    crowd = [make_ambassador() for _ in range(n)]
    task = new_task(app, admins[0].user_id, total_limit=k)
    submissions = [submission_of(app, account.user_id, task) for account in crowd]

    results = race([approve_call(app, admins[i % 4], s) for i, s in enumerate(submissions)])
    assert outcomes(results) == {"ok": k, "task_limit_reached": n - k}
    winners = [account.user_id for account, (kind, _) in zip(crowd, results) if kind == "ok"]
    assert sorted(paid(app, account.user_id) for account in crowd) == [0] * (n - k) + [100] * k
    with app.app_context():
        assert db.session.get(Task, task).approved_count == k
        statuses = dict(db.session.execute(sa.select(TaskSubmission.status, sa.func.count()).group_by(
            TaskSubmission.status)).all())
        assert statuses == {"approved": k, "pending": n - k}  # the refused ones are untouched
        assert set(db.session.scalars(sa.select(TaskSubmission.user_id).where(
            TaskSubmission.status == "approved"))) == set(winners)
        assert tasks.stats(task)["points_paid"] == 100 * k
    cli_verify(app)


def test_bulk_approvals_by_two_admins_at_once_pay_each_submission_once(app, make_admin, make_ambassador):
    admins = [make_admin(), make_admin()]
    crowd = [make_ambassador() for _ in range(8)]
    task = new_task(app, admins[0].user_id, total_limit=5)
    ids = [submission_of(app, account.user_id, task) for account in crowd]

    def bulk(admin, order):
        def call():
            response = app.test_client().post("/api/v1/admin/ambassador/submissions/decisions",
                                              headers=admin.headers, json={"ids": order, "action": "approve"})
            assert response.status_code == 200, response.json
            return "ok", response.json["decided"]
        return call

    results = race([bulk(admins[0], ids), bulk(admins[1], ids[::-1])])
    assert sum(decided for _, decided in results) == 5
    assert sum(paid(app, account.user_id) for account in crowd) == 500
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "task")) == 5
    cli_verify(app)


def test_concurrent_submissions_of_one_ambassador_leave_one_pending(app, make_admin, make_ambassador):
    admin = make_admin()
    me = make_ambassador()
    task = new_task(app, admin.user_id)

    def submit():
        response = app.test_client().post(f"/api/v1/ambassador/tasks/{task}/submissions", json={"text": "x"},
                                          headers={**me.headers, "Idempotency-Key": uuid.uuid4().hex})
        if response.status_code == 201:
            return "ok", response.json["id"]
        assert response.status_code == 409, response.json
        return "error", response.json["error"]["code"]

    results = race([submit for _ in range(10)])
    assert outcomes(results) == {"ok": 1, "submission_pending": 9}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TaskSubmission)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TaskAcceptance)) == 1


def test_services_racing_on_one_submission_grant_once(app, make_admin, make_ambassador):
    """The service itself (as a job or the pages call it), ten contexts at once."""
    admin = make_admin()
    me = make_ambassador(level=2)
    task = new_task(app, admin.user_id, points=10)
    submission = submission_of(app, me.user_id, task)
    results = race([in_own_context(app, lambda: tasks.approve(submission, db.session.get(User, admin.user_id)).points)
                    for _ in range(10)])
    assert outcomes(results) == {"ok": 1, "already_decided": 9}
    assert paid(app, me.user_id) == 11
    cli_verify(app)


def test_crossing_bulk_decisions_over_two_tasks_and_shared_ambassadors_decide_each_once(app, make_admin,
                                                                                         make_ambassador):
    """Two tasks, the same four ambassadors on both: a bulk approval in one order, another in the
    reverse order and a bulk rejection, all at once. No deadlock; each submission decided once."""
    admins = [make_admin() for _ in range(3)]
    crowd = [make_ambassador() for _ in range(4)]
    first, second = new_task(app, admins[0].user_id), new_task(app, admins[0].user_id)
    ids = [submission_of(app, account.user_id, task) for task in (first, second) for account in crowd]

    def bulk(admin, order, action):
        def call():
            body = {"ids": order, "action": action, **({"reason": "重复提交"} if action == "reject" else {})}
            response = app.test_client().post("/api/v1/admin/ambassador/submissions/decisions",
                                              headers=admin.headers, json=body)
            assert response.status_code == 200, response.json
            return "ok", {item["id"] for item in response.json["items"] if item["ok"]}
        return call

    results = race([bulk(admins[0], ids, "approve"), bulk(admins[1], ids[::-1], "approve"),
                    bulk(admins[2], ids[2:6], "reject")])
    approved = results[0][1] | results[1][1]
    assert not results[0][1] & results[1][1] and not approved & results[2][1]
    assert approved | results[2][1] == set(ids)
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(TaskSubmission.id, TaskSubmission.status)).all())
        assert {i for i, s in statuses.items() if s == "approved"} == approved
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "task")) == len(approved)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action.like("ambassador.submission.%"))) == len(ids)
    assert sum(paid(app, account.user_id) for account in crowd) == 100 * len(approved)
    cli_verify(app)
