"""Tasks for ambassadors: what I may take, taking one, submitting proof, my submissions."""
from ambassador.tasks import services
from ambassador.tasks.schemas import MySubmissionQueryArgsSchema, MyTaskSchema, SubmissionCreateSchema, SubmissionSchema
from core.auth import auth_required, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import PageArgsSchema, page_schema

bp = Blueprint("ambassador_tasks", __name__, url_prefix="/api/v1", description="服务代言人：任务")


# -- ambassadors ------------------------------------------------------------------------------

@bp.route("/ambassador/tasks")
@auth_required()
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(MyTaskSchema))
def my_tasks(args):
    """Open tasks I am eligible for, newest first, with my standing on each"""
    return services.tasks_for(current_principal().id, **args)


@bp.route("/ambassador/tasks/<int:task_id>")
@auth_required()
@bp.response(200, MyTaskSchema)
def my_task(task_id):
    """One task I am eligible for, with my standing on it"""
    return services.task_for(task_id, current_principal().id)


@bp.route("/ambassador/tasks/<int:task_id>/accept", methods=["POST"])
@auth_required()
@idempotent
@bp.response(200, MyTaskSchema)
def accept(task_id):
    """Take a task (taking it again changes nothing)"""
    return services.accept_task(task_id, current_principal().id)


@bp.route("/ambassador/tasks/<int:task_id>/submissions", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(SubmissionCreateSchema)
@bp.response(201, SubmissionSchema)
def submit(body, task_id):
    """Submit proof of a task done (takes the task if not taken yet); an admin reviews it"""
    return services.titled([services.submit(task_id, current_principal().id, **body)])[0]


@bp.route("/ambassador/submissions")
@auth_required()
@bp.arguments(MySubmissionQueryArgsSchema, location="query")
@bp.response(200, page_schema(SubmissionSchema))
def my_submissions(args):
    """My submissions, newest first, with their status and any rejection reason (`task_id`: of one task)"""
    page = services.submissions_of(current_principal().id, **args)
    services.titled(page.items)
    return page
