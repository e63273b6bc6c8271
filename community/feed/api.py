"""The estate feed and its questions and answers."""
from community.feed import services
from community.feed.schemas import (
    AnswerCreateSchema,
    AnswerSchema,
    CommentCreateSchema,
    CommentSchema,
    FeedQueryArgsSchema,
    PostCreateSchema,
    PostDetailSchema,
    PostLikeResultSchema,
    PostSchema,
)
from core.accounts.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import page_schema

bp = Blueprint("community_feed", __name__, url_prefix="/api/v1", description="小区动态与问答")


@bp.route("/estates/<int:estate_id>/posts", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(PostCreateSchema)
@bp.response(201, PostSchema)
def create_post(body, estate_id):
    """Post a question, a service review or a photo share to my estate

    The text goes through WeChat content security: risky text is refused (409 content_risky);
    text WeChat wants a human to look at is held (`status: held`, only you see it) until a
    moderator restores it.
    """
    return services.create_post(current_principal(), estate_id, body["kind"], body["text"], body["photo_ids"])


@bp.route("/estates/<int:estate_id>/feed")
@auth_required()
@bp.arguments(FeedQueryArgsSchema, location="query")
@bp.response(200, page_schema(PostSchema))
def estate_feed(args, estate_id):
    """The estate's feed, newest first (filter by kind; `unanswered=true` for open questions)"""
    return services.feed(current_principal(), estate_id, **args)


@bp.route("/posts/<int:post_id>")
@auth_required()
@bp.response(200, PostDetailSchema)
def get_post(post_id):
    """A post with its answers (accepted first) and comments"""
    return services.post_detail(post_id, current_principal())


@bp.route("/posts/<int:post_id>/answers", methods=["POST"])
@auth_required()
@bp.arguments(AnswerCreateSchema)
@bp.response(201, AnswerSchema)
def answer(body, post_id):
    """Answer a question (engineers covering the estate, agents, admins)"""
    return services.answer(post_id, current_principal(), body["text"])


@bp.route("/answers/<int:answer_id>/accept", methods=["POST"])
@auth_required()
@bp.response(200, AnswerSchema)
def accept(answer_id):
    """Accept an answer to my question"""
    return services.accept_answer(answer_id, current_api_user())


@bp.route("/posts/<int:post_id>/comments", methods=["POST"])
@auth_required()
@bp.arguments(CommentCreateSchema)
@bp.response(201, CommentSchema)
def comment(body, post_id):
    """Comment on a post"""
    return services.comment(post_id, current_principal(), body["text"])


@bp.route("/posts/<int:post_id>/like", methods=["POST"])
@auth_required()
@bp.response(200, PostLikeResultSchema)
def like(post_id):
    """Like a post (once; repeating is harmless)"""
    count, created = services.like(post_id, current_principal())
    return {"post_id": post_id, "likes_count": count, "created": created}
