"""Estate questions in the engineer workbench; content moderation in the admin console."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from community.estates import services as estates
from community.feed import services
from core import pages

bp = Blueprint("community_feed_pages", __name__)


@bp.route("/engineer/questions")
@pages.engineer_only
def engineer_questions():
    questions = services.unanswered_for_engineer(current_user.id)
    return render_template("engineer/feed/questions.html", nav="questions", questions=questions)


@bp.route("/engineer/questions/<int:post_id>/answer", methods=["POST"])
@pages.engineer_only
def engineer_answer(post_id):
    text = (request.form.get("text") or "").strip()
    if FlaskForm().validate_on_submit():
        # Say what happened: a held answer is not seen by the asker until a moderator restores it.
        pages.apply(lambda: services.answer(post_id, pages.principal(), text),
                    lambda item: f"回答{services.STATUS_LABELS[item.status]}")
    return redirect(url_for(".engineer_questions"))


@bp.route("/admin/moderation")
@pages.admin_only
def moderation():
    status = request.args.get("status") or "held"
    kind = request.args.get("kind") or "post"
    if status not in ("held", "hidden", "unchecked") or kind not in services.MODERATED:
        abort(404)
    page = services.moderation_queue(kind=kind, status=status, **pages.cursor_args())
    posts = page.items if kind == "post" else services.posts_by_id(i.post_id for i in page.items).values()
    names = {i: e.name for i, e in estates.estates_by_id(p.estate_id for p in posts).items()}
    parents = {p.id: p for p in posts}
    return render_template("admin/community/feed/moderation.html", nav="moderation", page=page, status=status,
                           kind=kind, estates=names, parents=parents, kinds=services.KIND_LABELS,
                           badges=services.BADGE_LABELS)


@bp.route("/admin/moderation/<kind>/<int:item_id>", methods=["POST"])
@pages.admin_only
def moderate(kind, item_id):
    action = request.form.get("action", "")
    reason = request.form.get("reason", "")
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.moderate(kind, item_id, action, reason, current_user),
               "已隐藏" if action == "hide" else "已恢复")
    return redirect(request.referrer or url_for(".moderation"))
