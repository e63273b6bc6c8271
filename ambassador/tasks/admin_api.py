"""Admin JSON API: the task editor and the review of submissions."""
from ambassador.tasks import services
from ambassador.tasks.schemas import (
    AdminSubmissionSchema,
    AdminTaskSchema,
    SubmissionQueryArgsSchema,
    SubmissionRejectSchema,
    TaskPatchSchema,
    TaskQueryArgsSchema,
    TaskStatsSchema,
    TaskWriteSchema,
)
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import page_schema
from core.schemas import BulkDecisionSchema, BulkResultSchema, bulk_result

bp = Blueprint("ambassador_tasks_admin", __name__, url_prefix="/api/v1/admin", description="管理：代言人任务与提交审核")


@bp.route("/ambassador/tasks", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(TaskWriteSchema)
@bp.response(201, AdminTaskSchema)
def create_task(body):
    """Create a task (a draft until published)"""
    return services.create_task(body, current_api_user())


@bp.route("/ambassador/tasks")
@auth_required("admin")
@bp.arguments(TaskQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminTaskSchema))
def list_tasks(args):
    """Every task, newest first, optionally of one status"""
    return services.list_tasks(**args)


@bp.route("/ambassador/tasks/<int:task_id>")
@auth_required("admin")
@bp.response(200, AdminTaskSchema)
def get_task(task_id):
    """One task"""
    return services.get_task(task_id)


@bp.route("/ambassador/tasks/<int:task_id>", methods=["PATCH"])
@auth_required("admin")
@idempotent
@bp.arguments(TaskPatchSchema)
@bp.response(200, AdminTaskSchema)
def update_task(body, task_id):
    """Change a task: anything while a draft; once published only wording, a later deadline, higher limits"""
    return services.update_task(task_id, body, current_api_user())


@bp.route("/ambassador/tasks/<int:task_id>/publish", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.response(200, AdminTaskSchema)
def publish_task(task_id):
    """Publish a draft: its audience sees it until the deadline"""
    return services.publish_task(task_id, current_api_user())


@bp.route("/ambassador/tasks/<int:task_id>/close", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.response(200, AdminTaskSchema)
def close_task(task_id):
    """End a task early (pending submissions can still be reviewed)"""
    return services.close_task(task_id, current_api_user())


@bp.route("/ambassador/tasks/<int:task_id>/stats")
@auth_required("admin")
@bp.response(200, TaskStatsSchema)
def task_stats(task_id):
    """A task's reach, acceptances, submissions by status and points paid"""
    return services.stats(task_id)


# -- admins: review ---------------------------------------------------------------------------

@bp.route("/ambassador/submissions")
@auth_required("admin")
@bp.arguments(SubmissionQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminSubmissionSchema))
def list_submissions(args):
    """Submissions: status=pending is the review queue (oldest first); other statuses newest first"""
    page = services.list_submissions(**args)
    services.titled(page.items)
    return page


@bp.route("/ambassador/submissions/<int:submission_id>")
@auth_required("admin")
@bp.response(200, AdminSubmissionSchema)
def get_submission(submission_id):
    """One submission"""
    return services.titled([services.get_submission(submission_id)])[0]


@bp.route("/ambassador/submissions/<int:submission_id>/approve", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.response(200, AdminSubmissionSchema)
def approve(submission_id):
    """Approve a pending submission: the task's points × the level's multiplier are paid once"""
    return services.titled([services.approve(submission_id, current_api_user())])[0]


@bp.route("/ambassador/submissions/<int:submission_id>/reject", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(SubmissionRejectSchema)
@bp.response(200, AdminSubmissionSchema)
def reject(body, submission_id):
    """Reject a pending submission with a reason (the ambassador may submit again before the deadline)"""
    return services.titled([services.reject(submission_id, current_api_user(), body["reason"])])[0]


@bp.route("/ambassador/submissions/decisions", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(BulkDecisionSchema)
@bp.response(200, BulkResultSchema)
def decide_many(body):
    """Approve or reject several submissions; each is decided on its own, with its outcome"""
    return bulk_result(services.decide_many(body["ids"], body["action"], current_api_user(), body["reason"]))
