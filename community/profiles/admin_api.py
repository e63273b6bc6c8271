"""Admin JSON API: an estate's tags and figures, the tags in use, and how many estates a targeting
rule matches before anything is sent to them. Admins write; agents (客服) may read."""
from community.profiles import services
from community.profiles.schemas import (
    EstateProfileSchema,
    EstateRulePreviewArgsSchema,
    EstateRulePreviewSchema,
    EstateTagsSchema,
    TagCountSchema,
    TagsSchema,
)
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.pagination import list_schema

bp = Blueprint("community_profiles_admin", __name__, url_prefix="/api/v1/admin", description="管理：小区画像与标签")

READERS = ("admin", "agent")


@bp.route("/estates/<int:estate_id>/profile")
@auth_required(*READERS)
@bp.response(200, EstateProfileSchema)
def get_profile(estate_id):
    """An estate's figures as targeting rules read them (last 12 full months) and its tags"""
    return services.profile_of(estate_id)


@bp.route("/estates/<int:estate_id>/profile/refresh", methods=["POST"])
@auth_required("admin")
@bp.response(200, EstateProfileSchema)
def refresh_profile(estate_id):
    """Recompute an estate's figures now (the daily job does every estate); offers are matched again for it"""
    services.refresh_estate_profile(estate_id)
    return services.profile_of(estate_id)


@bp.route("/estates/<int:estate_id>/tags", methods=["PUT"])
@auth_required("admin")
@bp.arguments(TagsSchema)
@bp.response(200, EstateTagsSchema)
def set_tags(body, estate_id):
    """Make an estate's tags exactly these (a repeat changes nothing); live offers are matched again for it"""
    return {"estate_id": estate_id, "tags": services.set_estate_tags(estate_id, body["tags"], current_api_user())}


@bp.route("/estates/<int:estate_id>/tags", methods=["POST"])
@auth_required("admin")
@bp.arguments(TagsSchema)
@bp.response(200, EstateTagsSchema)
def add_tags(body, estate_id):
    """Add tags to an estate (those it has stay; a repeat changes nothing)"""
    return {"estate_id": estate_id, "tags": services.add_estate_tags(estate_id, body["tags"], current_api_user())}


@bp.route("/estates/<int:estate_id>/tags/<string:tag>", methods=["DELETE"])
@auth_required("admin")
@bp.response(200, EstateTagsSchema)
def remove_tag(estate_id, tag):
    """Remove one tag from an estate (a tag it does not have: nothing changes)"""
    return {"estate_id": estate_id, "tags": services.remove_estate_tags(estate_id, [tag], current_api_user())}


@bp.route("/estate-tags")
@auth_required(*READERS)
@bp.response(200, list_schema(TagCountSchema))
def tag_counts():
    """Every tag in use and how many estates carry it, the most used first"""
    return {"items": services.tag_counts()}


@bp.route("/estate-rules/preview", methods=["POST"])
@auth_required(*READERS)
@bp.arguments(EstateRulePreviewArgsSchema)
@bp.response(200, EstateRulePreviewSchema)
def preview_rule(body):
    """How many active estates a targeting rule matches, and the first of them (nothing is saved)

    422 with the rule's keys at fault in `details.fields` (e.g. `households`: 最小值不能大于最大值).
    """
    rule = services.validate_rule(body["rule"])
    return {**services.preview(rule, limit=body["limit"]), "rule": rule}
