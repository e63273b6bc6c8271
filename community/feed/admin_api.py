"""Admin JSON API: the moderation queue."""
from community.feed import services
from community.feed.schemas import AnswerSchema, CommentSchema, ModerateSchema, ModerationQueryArgsSchema, PostSchema
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.pagination import page_schema

bp = Blueprint("community_feed_admin", __name__, url_prefix="/api/v1/admin", description="管理：内容审核")


@bp.route("/posts")
@auth_required("admin")
@bp.arguments(ModerationQueryArgsSchema, location="query")
@bp.response(200, page_schema(PostSchema))
def moderation_queue(args):
    """Posts by moderation status (held ones oldest first; `unchecked`: staff posts published without a WeChat verdict)"""
    return services.moderation_queue(kind="post", **args)


@bp.route("/answers")
@auth_required("admin")
@bp.arguments(ModerationQueryArgsSchema, location="query")
@bp.response(200, page_schema(AnswerSchema))
def answer_queue(args):
    """Answers by moderation status (as for posts)"""
    return services.moderation_queue(kind="answer", **args)


@bp.route("/comments")
@auth_required("admin")
@bp.arguments(ModerationQueryArgsSchema, location="query")
@bp.response(200, page_schema(CommentSchema))
def comment_queue(args):
    """Comments by moderation status (as for posts)"""
    return services.moderation_queue(kind="comment", **args)


@bp.route("/moderation/<kind>/<int:item_id>", methods=["POST"])
@auth_required("admin")
@bp.arguments(ModerateSchema)
@bp.response(204)
def moderate(body, kind, item_id):
    """Hide or restore a post, answer or comment (`kind`: post, answer, comment), with a reason (audited)"""
    services.moderate(kind, item_id, body["action"], body["reason"], current_api_user())
