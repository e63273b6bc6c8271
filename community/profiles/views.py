"""Admin console: an estate's profile (its figures and tags, edited here) and the tags in use."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from community.estates import services as estates
from community.profiles import services
from core import pages

bp = Blueprint("community_profiles_pages", __name__)


@bp.route("/admin/estates/<int:estate_id>/profile")
@pages.staff_only
def profile(estate_id):
    estate = estates.get_estate(estate_id)
    return render_template("admin/community/profiles/profile.html", nav="estates", estate=estate,
                           view=services.profile_of(estate.id), suggested=services.SUGGESTED_TAGS,
                           can_edit=current_user.has_role("admin"), tag_max=services.TAG_MAX)


@bp.route("/admin/estates/<int:estate_id>/tags", methods=["POST"])
@pages.admin_only
def edit_tags(estate_id):
    """One form, three buttons: add the tags typed, replace the tags with them, or remove one."""
    action = request.form.get("action")
    typed = services.split_tags(request.form.get("tags", "").replace(",", "|").replace("，", "|"))
    if action == "remove":
        pages.apply(lambda: services.remove_estate_tags(estate_id, [request.form.get("tag", "")], current_user),
                    "标签已移除")
    elif action == "replace":
        pages.apply(lambda: services.set_estate_tags(estate_id, typed, current_user), "标签已保存")
    else:
        pages.apply(lambda: services.add_estate_tags(estate_id, typed, current_user), "标签已添加")
    return redirect(url_for(".profile", estate_id=estate_id))


@bp.route("/admin/estates/<int:estate_id>/profile/refresh", methods=["POST"])
@pages.admin_only
def refresh(estate_id):
    pages.apply(lambda: services.refresh_estate_profile(estate_id), "画像数据已更新")
    return redirect(url_for(".profile", estate_id=estate_id))


@bp.route("/admin/estates/tags")
@pages.staff_only
def tags():
    return render_template("admin/community/profiles/tags.html", nav="estate_tags", counts=services.tag_counts(),
                           separator=services.TAG_SEPARATOR)
