"""Estate questions in the engineer workbench; content moderation in the admin console."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from community import feed
from community.models import Estate
from community.views import _apply, _cursor_args
from core.accounts.auth import page_roles_required
from core.accounts.models import User
from core.accounts.services import Principal
from core.extensions import db

bp = Blueprint("community_feed_pages", __name__)
engineer_only = page_roles_required("engineer")
admin_only = page_roles_required("admin")


def _principal() -> Principal:
    return Principal(id=current_user.id, roles=current_user.roles)


@bp.route("/engineer/questions")
@engineer_only
def engineer_questions():
    questions = feed.unanswered_for_engineer(current_user.id)
    return render_template("engineer/questions.html", nav="questions", questions=questions)


@bp.route("/engineer/questions/<int:post_id>/answer", methods=["POST"])
@engineer_only
def engineer_answer(post_id):
    text = (request.form.get("text") or "").strip()
    if FlaskForm().validate_on_submit():
        _apply(lambda: feed.answer(post_id, _principal(), text), "回答已发布")
    return redirect(url_for(".engineer_questions"))


@bp.route("/admin/moderation")
@admin_only
def moderation():
    status = request.args.get("status") or "held"
    if status not in ("held", "hidden"):
        abort(404)
    page = feed.moderation_queue(status=status, **_cursor_args())
    estates = dict(db.session.execute(sa.select(Estate.id, Estate.name).where(
        Estate.id.in_({p.estate_id for p in page.items}))).all()) if page.items else {}
    authors = dict(db.session.execute(sa.select(User.id, User.display_name).where(
        User.id.in_({p.author_id for p in page.items}))).all()) if page.items else {}
    return render_template("admin/moderation.html", nav="moderation", page=page, status=status, estates=estates,
                           authors=authors, kinds=feed.KIND_LABELS)


@bp.route("/admin/moderation/<kind>/<int:item_id>", methods=["POST"])
@admin_only
def moderate(kind, item_id):
    action = request.form.get("action", "")
    reason = request.form.get("reason", "")
    if FlaskForm().validate_on_submit():
        _apply(lambda: feed.moderate(kind, item_id, action, reason, current_user),
               "已隐藏" if action == "hide" else "已恢复")
    return redirect(request.referrer or url_for(".moderation"))
