"""The estate feed: request validation and response shapes."""
import marshmallow as ma
from marshmallow import fields, validate

from core.pagination import PageArgsSchema


def _photo_urls(names) -> list[str]:
    return [f"/api/v1/uploads/{name}" for name in names or []]


class PostCreateSchema(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("question", "review", "photo", "announcement")),
                         metadata={"description": "announcement: staff, or ambassadors whose level may announce"})
    text = fields.String(load_default="", validate=validate.Length(max=2000))
    photo_ids = fields.List(fields.String(validate=validate.Length(1, 48)), load_default=list,
                            validate=validate.Length(max=9))


class FeedQueryArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(("question", "review", "photo", "announcement")))
    unanswered = fields.Boolean(load_default=False, metadata={"description": "only unanswered questions"})


class PostSchema(ma.Schema):
    id = fields.Integer()
    estate_id = fields.Integer()
    kind = fields.String()
    text = fields.String()
    photos = fields.Function(lambda p: _photo_urls(p["photos"] if isinstance(p, dict) else p.photos))
    status = fields.String(metadata={"description": "published, or held for moderation (only the author sees it)"})
    author = fields.Function(lambda p: {"id": _get(p, "author_id"), "name": _get(p, "author_name") or "邻居"})
    answers_count = fields.Integer()
    comments_count = fields.Integer()
    likes_count = fields.Integer()
    liked = fields.Boolean()
    accepted_answer_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


def _get(obj, name):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


class AnswerCreateSchema(ma.Schema):
    text = fields.String(required=True, validate=validate.Length(1, 2000))


class CommentCreateSchema(ma.Schema):
    text = fields.String(required=True, validate=validate.Length(1, 500))


class AnswerSchema(ma.Schema):
    id = fields.Integer()
    post_id = fields.Integer()
    author_id = fields.Integer()
    text = fields.String()
    status = fields.String()
    accepted = fields.Boolean()
    created_at = fields.DateTime()


class CommentSchema(ma.Schema):
    id = fields.Integer()
    post_id = fields.Integer()
    author_id = fields.Integer()
    text = fields.String()
    status = fields.String()
    created_at = fields.DateTime()


class PostDetailSchema(ma.Schema):
    post = fields.Nested(PostSchema)
    answers = fields.List(fields.Nested(AnswerSchema))
    comments = fields.List(fields.Nested(CommentSchema))
    liked = fields.Boolean()
    can_answer = fields.Boolean()


class PostLikeResultSchema(ma.Schema):
    post_id = fields.Integer()
    likes_count = fields.Integer()
    created = fields.Boolean()


class ModerateSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.OneOf(("hide", "restore")))
    reason = fields.String(required=True, validate=validate.Length(1, 255))


class ModerationQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default="held", validate=validate.OneOf(("held", "hidden", "published")))
