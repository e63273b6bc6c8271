"""The task API: ambassadors list, take and submit tasks; admins edit tasks, review submissions
and read task statistics (the same services as the console pages)."""
from datetime import timezone

import marshmallow as ma
from marshmallow import fields, validate

from ambassador import tasks as services
from ambassador.models import PROOF_KINDS, SUBMISSION_STATUSES, TASK_KINDS, TASK_STATUSES
from core.accounts.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import PageArgsSchema, page_schema
from points.schemas import BulkOutcomeSchema, id_field, local_datetime

bp = Blueprint("ambassador_tasks", __name__, url_prefix="/api/v1", description="服务代言人：任务与提交审核")


# -- schemas ----------------------------------------------------------------------------------

class TaskSchema(ma.Schema):
    """A task as ambassadors see it."""
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    kind = fields.String(metadata={"description": " | ".join(TASK_KINDS)})
    points = fields.Integer(metadata={"description": "before the level multiplier"})
    deadline = fields.DateTime()
    total_limit = fields.Integer(allow_none=True, metadata={"description": "approved completions in all; null: none"})
    per_person_limit = fields.Integer()
    proof_required = fields.List(fields.String(), metadata={"description": "subset of " + ", ".join(PROOF_KINDS)})


class MyTaskSchema(TaskSchema):
    """A task with the caller's standing on it."""
    accepted = fields.Boolean()
    pending = fields.Integer(metadata={"description": "my submissions waiting for review"})
    approved = fields.Integer()
    rejected = fields.Integer()
    remaining_for_me = fields.Integer(metadata={"description": "completions I may still have approved"})
    remaining_total = fields.Integer(allow_none=True, metadata={"description": "null: no total limit"})


class AdminTaskSchema(TaskSchema):
    audience_level_ids = fields.List(fields.Integer(), metadata={"description": "empty: any level"})
    audience_estate_ids = fields.List(fields.Integer(), metadata={"description": "empty: any estate"})
    audience_cities = fields.List(fields.String(), metadata={"description": "empty: any city"})
    status = fields.String(metadata={"description": " | ".join(TASK_STATUSES)})
    approved_count = fields.Integer()
    created_by_id = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class TaskWriteSchema(ma.Schema):
    """Validated again in ambassador.tasks (shared with the pages)."""
    title = fields.String(required=True, validate=validate.Length(1, 64))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    kind = fields.String(required=True, validate=validate.OneOf(TASK_KINDS))
    audience_level_ids = fields.List(id_field(), load_default=list, validate=validate.Length(max=100))
    audience_estate_ids = fields.List(id_field(), load_default=list, validate=validate.Length(max=1000))
    audience_cities = fields.List(fields.String(validate=validate.Length(1, 32)), load_default=list,
                                  validate=validate.Length(max=100))
    points = fields.Integer(required=True, validate=validate.Range(0, services.MAX_POINTS))
    deadline = local_datetime(required=True, metadata={"description": "in the future; no offset: Asia/Shanghai"})
    total_limit = fields.Integer(load_default=None, validate=validate.Range(1, services.MAX_LIMIT),
                                 metadata={"description": "null: no limit"})
    per_person_limit = fields.Integer(load_default=1, validate=validate.Range(1, services.MAX_LIMIT))
    proof_required = fields.List(fields.String(validate=validate.OneOf(PROOF_KINDS)), load_default=list)

    @ma.post_load
    def _in_utc(self, data, **kwargs):
        if data.get("deadline") is not None:
            data["deadline"] = data["deadline"].astimezone(timezone.utc)
        return data


class TaskPatchSchema(TaskWriteSchema):
    """Only the fields sent change (a published task: see docs/ambassador-tasks.md)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class TaskQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(TASK_STATUSES))


class SubmissionCreateSchema(ma.Schema):
    text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    link = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                         metadata={"description": "an http(s) URL"})
    photos = fields.List(fields.String(validate=validate.Length(1, 500)), load_default=list,
                         validate=validate.Length(max=services.MAX_PHOTOS),
                         metadata={"description": "1–9 upload ids or http(s) URLs of uploaded images"})


class SubmissionSchema(ma.Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    task_title = fields.String(allow_none=True)
    text = fields.String(allow_none=True)
    link = fields.String(allow_none=True)
    photos = fields.List(fields.String())
    status = fields.String(metadata={"description": " | ".join(SUBMISSION_STATUSES)})
    reason = fields.String(allow_none=True, metadata={"description": "why it was rejected"})
    points = fields.Integer(allow_none=True, metadata={"description": "points paid (multiplier applied)"})
    created_at = fields.DateTime()
    reviewed_at = fields.DateTime(allow_none=True)


class AdminSubmissionSchema(SubmissionSchema):
    user_id = fields.Integer()
    reviewed_by_id = fields.Integer(allow_none=True)


class SubmissionQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(SUBMISSION_STATUSES))
    task_id = id_field(load_default=None)


class SubmissionRejectSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 255))


class SubmissionBulkDecisionSchema(ma.Schema):
    ids = fields.List(id_field(), required=True, validate=validate.Length(1, 100))
    action = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = fields.String(load_default=None, validate=validate.Length(1, 255),
                           metadata={"description": "required to reject"})

    @ma.validates_schema
    def _reason_to_reject(self, data, **kwargs):
        if data.get("action") == "reject" and not (data.get("reason") or "").strip():
            raise ma.ValidationError({"reason": ["required to reject"]})


class SubmissionBulkResultSchema(ma.Schema):
    items = fields.List(fields.Nested(BulkOutcomeSchema))
    decided = fields.Integer()
    refused = fields.Integer()


class TaskStatsSchema(ma.Schema):
    task_id = fields.Integer()
    reach = fields.Integer(metadata={"description": "active ambassadors eligible now"})
    accepted = fields.Integer()
    submitters = fields.Integer(metadata={"description": "distinct ambassadors who submitted"})
    submissions = fields.Integer()
    approved = fields.Integer()
    rejected = fields.Integer()
    pending = fields.Integer()
    points_paid = fields.Integer()


def _with_titles(items):
    """Submissions with their task's title (one query per page)."""
    titles = services.task_titles(s.task_id for s in items)
    for submission in items:
        submission.task_title = titles.get(submission.task_id)
    return items


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
    return _with_titles([services.submit(task_id, current_principal().id, **body)])[0]


@bp.route("/ambassador/submissions")
@auth_required()
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(SubmissionSchema))
def my_submissions(args):
    """My submissions, newest first, with their status and any rejection reason"""
    page = services.submissions_of(current_principal().id, **args)
    _with_titles(page.items)
    return page


# -- admins: tasks ----------------------------------------------------------------------------

@bp.route("/admin/ambassador/tasks", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(TaskWriteSchema)
@bp.response(201, AdminTaskSchema)
def create_task(body):
    """Create a task (a draft until published)"""
    return services.create_task(body, current_api_user())


@bp.route("/admin/ambassador/tasks")
@auth_required("admin")
@bp.arguments(TaskQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminTaskSchema))
def list_tasks(args):
    """Every task, newest first, optionally of one status"""
    return services.list_tasks(**args)


@bp.route("/admin/ambassador/tasks/<int:task_id>")
@auth_required("admin")
@bp.response(200, AdminTaskSchema)
def get_task(task_id):
    """One task"""
    return services.get_task(task_id)


@bp.route("/admin/ambassador/tasks/<int:task_id>", methods=["PATCH"])
@auth_required("admin")
@idempotent
@bp.arguments(TaskPatchSchema)
@bp.response(200, AdminTaskSchema)
def update_task(body, task_id):
    """Change a task: anything while a draft; once published only wording, a later deadline, higher limits"""
    return services.update_task(task_id, body, current_api_user())


@bp.route("/admin/ambassador/tasks/<int:task_id>/publish", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.response(200, AdminTaskSchema)
def publish_task(task_id):
    """Publish a draft: its audience sees it until the deadline"""
    return services.publish_task(task_id, current_api_user())


@bp.route("/admin/ambassador/tasks/<int:task_id>/close", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.response(200, AdminTaskSchema)
def close_task(task_id):
    """End a task early (pending submissions can still be reviewed)"""
    return services.close_task(task_id, current_api_user())


@bp.route("/admin/ambassador/tasks/<int:task_id>/stats")
@auth_required("admin")
@bp.response(200, TaskStatsSchema)
def task_stats(task_id):
    """A task's reach, acceptances, submissions by status and points paid"""
    return services.stats(task_id)


# -- admins: review ---------------------------------------------------------------------------

@bp.route("/admin/ambassador/submissions")
@auth_required("admin")
@bp.arguments(SubmissionQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminSubmissionSchema))
def list_submissions(args):
    """Submissions: status=pending is the review queue (oldest first); other statuses newest first"""
    page = services.list_submissions(**args)
    _with_titles(page.items)
    return page


@bp.route("/admin/ambassador/submissions/<int:submission_id>")
@auth_required("admin")
@bp.response(200, AdminSubmissionSchema)
def get_submission(submission_id):
    """One submission"""
    return _with_titles([services.get_submission(submission_id)])[0]


@bp.route("/admin/ambassador/submissions/<int:submission_id>/approve", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.response(200, AdminSubmissionSchema)
def approve(submission_id):
    """Approve a pending submission: the task's points × the level's multiplier are paid once"""
    return _with_titles([services.approve(submission_id, current_api_user())])[0]


@bp.route("/admin/ambassador/submissions/<int:submission_id>/reject", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(SubmissionRejectSchema)
@bp.response(200, AdminSubmissionSchema)
def reject(body, submission_id):
    """Reject a pending submission with a reason (the ambassador may submit again before the deadline)"""
    return _with_titles([services.reject(submission_id, current_api_user(), body["reason"])])[0]


@bp.route("/admin/ambassador/submissions/decisions", methods=["POST"])
@auth_required("admin")
@idempotent
@bp.arguments(SubmissionBulkDecisionSchema)
@bp.response(200, SubmissionBulkResultSchema)
def decide_many(body):
    """Approve or reject several submissions; each is decided on its own, with its outcome"""
    outcome = services.decide_many(list(dict.fromkeys(body["ids"])), body["action"], current_api_user(),
                                   body["reason"])
    items = [{"id": i, "ok": code == "ok", "code": code} for i, code in outcome.items()]
    decided = sum(item["ok"] for item in items)
    return {"items": items, "decided": decided, "refused": len(items) - decided}
