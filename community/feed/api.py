"""The estate feed and its questions and answers."""
from community.feed import services
from community.feed.schemas import (
    AnswerCreateSchema,
    AnswerSchema,
    CommentCreateSchema,
    CommentSchema,
    EngineerQuestionSchema,
    FeedPostSchema,
    FeedQueryArgsSchema,
    PostCreateSchema,
    PostDetailSchema,
    PostLikeResultSchema,
    PostSchema,
    PostUnlikeResultSchema,
    ReviewShareSchema,
    dump_feed_post,
)
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.idempotency import idempotent
from core.pagination import PageArgsSchema, page_schema
from core.schemas import fast_response

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
    moderator restores it. `status_label` says which: 已发布, or 已提交，审核通过后显示.
    """
    return services.create_post(current_principal(), estate_id, body["kind"], body["text"], body["photo_ids"])


@bp.route("/estates/<int:estate_id>/feed")
@auth_required()
@bp.arguments(FeedQueryArgsSchema, location="query")
@bp.response(200, page_schema(FeedPostSchema))
def estate_feed(args, estate_id):
    """The estate's feed, newest first (filter by kind; `unanswered=true` for open questions)

    A question carries its accepted answer (`accepted_answer`: id, text, author) while it is published.
    """
    page = services.feed(current_principal(), estate_id, **args)
    return fast_response({"items": [dump_feed_post(item) for item in page.items], "next_cursor": page.next_cursor})


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
    """Answer a question (engineers covering the estate, agents, admins)

    `status` published or held (`status_label` 已发布, or 已提交，审核通过后显示: the asker sees it once a
    moderator restores it). Staff text WeChat cannot check (no openid, not in the mini-program
    for two hours, WeChat down) is published and recorded in the audit log.
    """
    return services.answer(post_id, current_principal(), body["text"])


@bp.route("/engineer/questions")
@auth_required("engineer")
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(EngineerQuestionSchema))
def engineer_questions(args):
    """Questions waiting for an answer in the estates I cover, oldest first

    Published questions nobody has answered yet (the web workbench's 小区问答). Answer one with
    `POST /posts/{id}/answers`; it leaves this list once an answer is published. `my_answer_held`:
    my answer waits for a moderator.
    """
    return services.unanswered_page(current_principal().id, **args)


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
    """Comment on a post (`status` and `status_label` as for an answer)"""
    return services.comment(post_id, current_principal(), body["text"])


@bp.route("/service-orders/<int:order_id>/review/share", methods=["POST"])
@auth_required()
@bp.response(201, PostSchema)
@bp.alt_response(200, schema=PostSchema, description="already shared: the same post")
def share_review(order_id):
    """Share my review of this order to the order's estate feed, once (201; again: 200, the same post)

    A `review` post with the review's text and photos, checked like any post (409 content_risky;
    `status: held` when WeChat asks for a human). I must still live in the estate (403
    not_estate_resident); a review with neither text nor photos cannot be shared (409 review_empty).
    """
    post, created = services.share_review(order_id, current_principal())
    return post, 201 if created else 200


@bp.route("/service-orders/<int:order_id>/review/share")
@auth_required()
@bp.response(200, ReviewShareSchema)
def review_share(order_id):
    """Whether I shared my review of this order to the estate feed, and its post (null: not yet)"""
    post = services.review_share(order_id, current_principal())
    return {"shared": post is not None, "post": post}


@bp.route("/posts/<int:post_id>/like", methods=["POST"])
@auth_required()
@bp.response(200, PostLikeResultSchema)
def like(post_id):
    """Like a post (once; repeating is harmless)"""
    count, created = services.like(post_id, current_principal())
    return {"post_id": post_id, "likes_count": count, "liked": True, "created": created}


@bp.route("/posts/<int:post_id>/like", methods=["DELETE"])
@auth_required()
@bp.response(200, PostUnlikeResultSchema)
def unlike(post_id):
    """Take back my like (repeating is harmless: `removed: false`)"""
    count, removed = services.unlike(post_id, current_principal())
    return {"post_id": post_id, "likes_count": count, "liked": False, "removed": removed}
