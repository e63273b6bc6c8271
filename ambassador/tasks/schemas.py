"""Tasks and submissions: request validation and response shapes."""
from datetime import timezone

import marshmallow as ma
from marshmallow import fields, validate

from ambassador.tasks import services
from ambassador.tasks.models import PROOF_KINDS, SUBMISSION_STATUSES, TASK_KINDS, TASK_STATUSES
from core.pagination import PageArgsSchema
from core.schemas import id_field, local_datetime


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
    """Validated again in ambassador.tasks.services (shared with the pages)."""
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


class MySubmissionQueryArgsSchema(PageArgsSchema):
    task_id = id_field(load_default=None, metadata={"description": "only my submissions to this task"})


class SubmissionQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(SUBMISSION_STATUSES))
    task_id = id_field(load_default=None)


class SubmissionRejectSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 255))


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
