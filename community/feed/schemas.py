"""The estate feed: request validation and response shapes."""
import marshmallow as ma
from marshmallow import fields, validate

from community.feed.services import BADGE_LABELS, STATUS_LABELS
from core.pagination import PageArgsSchema
from core.schemas import local_iso, upload_urls


def _get(obj, name):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _author(item) -> dict:
    """Who wrote it: a badged author (engineer, agent, admin, ambassador) by name and badge; a
    resident by their display name, or 邻居."""
    badge = _get(item, "author_badge")
    label = BADGE_LABELS.get(badge)
    return {"id": _get(item, "author_id"), "name": _get(item, "author_name") or label or "邻居",
            "badge": badge, "badge_label": label}


class AuthorSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    badge = fields.String(allow_none=True, metadata={"description": "engineer, agent, admin, ambassador; null: a resident"})
    badge_label = fields.String(allow_none=True, metadata={"description": "工程师, 客服, 管理员, 服务代言人"})


class AuthorField(fields.Nested):
    """The author as shown, computed from the item's author_id, author_name and author_badge."""

    def __init__(self):
        super().__init__(AuthorSchema, metadata={
            "description": "the author as shown: a name, and a role badge for staff and ambassadors"})

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return _author(obj)


class StatusLabelField(fields.Function):
    """What the author is told about their item."""

    def __init__(self):
        super().__init__(lambda item: STATUS_LABELS.get(_get(item, "status")), metadata={
            "description": "what the author is told: 已发布, 已提交，审核通过后显示 (held: only the author sees it), 已隐藏"})


class PostCreateSchema(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("question", "review", "photo", "announcement")),
                         metadata={"description": "announcement: staff, or ambassadors whose level may announce"})
    text = fields.String(load_default="", validate=validate.Length(max=2000, error="内容不能超过 2000 字"))
    photo_ids = fields.List(fields.String(validate=validate.Length(1, 48, error="照片无效")), load_default=list,
                            validate=validate.Length(max=9, error="最多 9 张照片"))


class FeedQueryArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(("question", "review", "photo", "announcement")))
    unanswered = fields.Boolean(load_default=False, metadata={"description": "only unanswered questions"})


class PostSchema(ma.Schema):
    id = fields.Integer()
    estate_id = fields.Integer()
    kind = fields.String()
    text = fields.String()
    photos = fields.Function(lambda p: upload_urls(p["photos"] if isinstance(p, dict) else p.photos))
    status = fields.String(metadata={"description": "published, or held for moderation (only the author sees it)"})
    status_label = StatusLabelField()
    author = AuthorField()
    answers_count = fields.Integer()
    comments_count = fields.Integer()
    likes_count = fields.Integer()
    liked = fields.Boolean()
    accepted_answer_id = fields.Integer(allow_none=True)
    review_id = fields.Integer(allow_none=True, metadata={"description": "a shared review: the review's id"})
    created_at = fields.DateTime()


def dump_feed_post(item: dict) -> dict:
    """`FeedPostSchema().dump(item)` for a feed row (community.feed.services.feed), field by
    field without marshmallow: the feed is a hot read (core.schemas.fast_response).
    tests/community/feed/test_fast_dump.py holds the two to the same output."""
    accepted = item["accepted_answer"]
    return {
        "id": item["id"], "estate_id": item["estate_id"], "kind": item["kind"], "text": item["text"],
        "photos": upload_urls(item["photos"]), "status": item["status"],
        "status_label": STATUS_LABELS.get(item["status"]), "author": _author(item),
        "answers_count": item["answers_count"], "comments_count": item["comments_count"],
        "likes_count": item["likes_count"], "liked": bool(item["liked"]),
        "accepted_answer_id": item["accepted_answer_id"], "review_id": item["review_id"],
        "created_at": local_iso(item["created_at"]),
        "accepted_answer": None if accepted is None else {
            "id": accepted["id"], "text": accepted["text"], "author": _author(accepted)},
    }


class ReviewShareSchema(ma.Schema):
    shared = fields.Boolean(metadata={"description": "my review of this order was shared to the estate feed"})
    post = fields.Nested(PostSchema, allow_none=True, metadata={"description": "the post; null until shared"})


class AcceptedAnswerSchema(ma.Schema):
    id = fields.Integer()
    text = fields.String()
    author = AuthorField()


class FeedPostSchema(PostSchema):
    """A post in the feed: a question carries its accepted answer (while it is published)."""
    accepted_answer = fields.Nested(AcceptedAnswerSchema, allow_none=True, metadata={
        "description": "a question's accepted answer with its author, else null"})


class EngineerQuestionSchema(ma.Schema):
    """A question waiting for an answer in one of the engineer's estates."""
    id = fields.Integer()
    estate_id = fields.Integer()
    estate_name = fields.String()
    text = fields.String()
    photos = fields.Function(lambda q: upload_urls(q["photos"]), metadata={
        "type": "array", "items": {"type": "string"}, "description": "image URLs"})
    author = AuthorField()
    created_at = fields.DateTime()
    my_answer_held = fields.Boolean(metadata={
        "description": "my answer waits for a moderator: the asker sees it once restored (I may answer again)"})


class AnswerCreateSchema(ma.Schema):
    text = fields.String(required=True, validate=validate.Length(1, 2000, error="回答须为 1–2000 字"),
                         error_messages={"required": "请填写回答"})


class CommentCreateSchema(ma.Schema):
    text = fields.String(required=True, validate=validate.Length(1, 500, error="评论须为 1–500 字"),
                         error_messages={"required": "请填写评论"})


class AnswerSchema(ma.Schema):
    id = fields.Integer()
    post_id = fields.Integer()
    author = AuthorField()
    text = fields.String()
    status = fields.String()
    status_label = StatusLabelField()
    accepted = fields.Boolean()
    created_at = fields.DateTime()


class CommentSchema(ma.Schema):
    id = fields.Integer()
    post_id = fields.Integer()
    author = AuthorField()
    text = fields.String()
    status = fields.String()
    status_label = StatusLabelField()
    created_at = fields.DateTime()


class PostDetailSchema(ma.Schema):
    post = fields.Nested(PostSchema)
    answers = fields.List(fields.Nested(AnswerSchema))
    comments = fields.List(fields.Nested(CommentSchema))
    liked = fields.Boolean()
    can_answer = fields.Boolean(metadata={"description": "the caller may answer (engineers of the estate, staff)"})
    can_accept = fields.Boolean(metadata={"description": "the caller asked this question and may accept an answer"})


class PostLikeResultSchema(ma.Schema):
    post_id = fields.Integer()
    likes_count = fields.Integer()
    liked = fields.Boolean(metadata={"description": "the caller likes the post now (true)"})
    created = fields.Boolean(metadata={"description": "false: the caller liked it before"})


class PostUnlikeResultSchema(ma.Schema):
    post_id = fields.Integer()
    likes_count = fields.Integer()
    liked = fields.Boolean(metadata={"description": "the caller likes the post now (false)"})
    removed = fields.Boolean(metadata={"description": "false: the caller did not like it"})


class ModerateSchema(ma.Schema):
    action = fields.String(required=True, validate=validate.OneOf(("hide", "restore")))
    reason = fields.String(required=True, validate=validate.Length(1, 255))


class ModerationQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default="held", validate=validate.OneOf(("held", "hidden", "unchecked", "published")),
                           metadata={"description": "unchecked: staff content published without a WeChat verdict"})
