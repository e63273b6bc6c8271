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
        pages.apply(lambda: services.answer(post_id, pages.principal(), text), "回答已发布")
    return redirect(url_for(".engineer_questions"))


@bp.route("/admin/moderation")
@pages.admin_only
def moderation():
    status = request.args.get("status") or "held"
    if status not in ("held", "hidden"):
        abort(404)
    page = services.moderation_queue(status=status, **pages.cursor_args())
    names = {i: e.name for i, e in estates.estates_by_id(p.estate_id for p in page.items).items()}
    authors = {i: u.display_name for i, u in pages.users(p.author_id for p in page.items).items()}
    return render_template("admin/community/feed/moderation.html", nav="moderation", page=page, status=status, estates=names,
                           authors=authors, kinds=services.KIND_LABELS)


@bp.route("/admin/moderation/<kind>/<int:item_id>", methods=["POST"])
@pages.admin_only
def moderate(kind, item_id):
    action = request.form.get("action", "")
    reason = request.form.get("reason", "")
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.moderate(kind, item_id, action, reason, current_user),
               "已隐藏" if action == "hide" else "已恢复")
    return redirect(request.referrer or url_for(".moderation"))
