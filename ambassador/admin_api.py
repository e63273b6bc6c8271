"""Admin JSON API for ambassadors: memberships, the application queue and its decisions, the
ambassadors list and detail, status changes and estates (the same services as the pages).

Admins decide and change; agents (客服) may read the queue, the list and the details.
"""
import marshmallow as ma
from marshmallow import fields, validate

from ambassador import services
from ambassador.api import (ID_RANGE, AmbassadorApplicationSchema, LevelViewSchema, HistoryLevelSchema,
                            NextLevelSchema)
from community.schemas import EstateBriefSchema
from ambassador.models import AMBASSADOR_STATUSES, APPLICATION_STATUSES, CHANNELS
from core.accounts.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.pagination import PageArgsSchema, page_schema

bp = Blueprint("admin_ambassador", __name__, url_prefix="/api/v1/admin", description="管理：服务代言人申请、代言人与会员等级")

READERS = ("admin", "agent")


# -- schemas ----------------------------------------------------------------------------------

class MembershipWriteSchema(ma.Schema):
    tier = fields.String(required=True, allow_none=True, validate=validate.Length(max=16),
                         metadata={"description": "gold | silver (or another configured tier); null clears"})


class MembershipSchema(ma.Schema):
    user_id = fields.Integer()
    tier = fields.String(allow_none=True)
    source = fields.String(allow_none=True, metadata={"description": "admin | import"})
    qualifying = fields.Boolean(metadata={"description": "the tier pre-qualifies an ambassador application"})
    updated_at = fields.DateTime(allow_none=True)


class AdminApplicationSchema(AmbassadorApplicationSchema):
    user_id = fields.Integer()
    invite_code = fields.String(allow_none=True)
    inviter_id = fields.Integer(allow_none=True)
    real_name = fields.String()
    phone = fields.String()
    estate_ids = fields.List(fields.Integer())
    statement = fields.String()
    qualified = fields.Boolean(metadata={"description": "pre-qualified (engineer, member of a qualifying tier)"})
    decided_by_id = fields.Integer(allow_none=True)


class ApplicationQueryArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(APPLICATION_STATUSES),
                           metadata={"description": "pending: oldest first; otherwise newest first"})
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    q = fields.String(load_default=None, validate=validate.Length(max=64),
                      metadata={"description": "name (part of), phone or user id"})


class ReasonSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(1, services.REASON_MAX))


class ApplicationDecisionsSchema(ma.Schema):
    ids = fields.List(fields.Integer(validate=ID_RANGE), required=True, validate=validate.Length(1, 100))
    action = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = fields.String(load_default=None, validate=validate.Length(1, services.REASON_MAX),
                           metadata={"description": "required to reject"})

    @ma.validates_schema
    def _reason_to_reject(self, data, **kwargs):
        if data.get("action") == "reject" and not (data.get("reason") or "").strip():
            raise ma.ValidationError("required to reject", "reason")


class DecisionOutcomeSchema(ma.Schema):
    id = fields.Integer()
    ok = fields.Boolean()
    code = fields.String(metadata={"description": "ok, or why not (already_decided, application_not_found, "
                                                  "already_ambassador)"})


class DecisionsResultSchema(ma.Schema):
    items = fields.List(fields.Nested(DecisionOutcomeSchema))
    decided = fields.Integer()
    refused = fields.Integer()


class AdminAmbassadorSchema(ma.Schema):
    user_id = fields.Integer()
    real_name = fields.String()
    phone = fields.String()
    channel = fields.String()
    status = fields.String(metadata={"description": " | ".join(AMBASSADOR_STATUSES)})
    status_reason = fields.String(allow_none=True)
    level_id = fields.Integer()
    city = fields.String(allow_none=True)
    invite_code = fields.String()
    inviter_id = fields.Integer(allow_none=True)
    contribution_total = fields.Integer()
    window_contribution = fields.Integer()
    joined_at = fields.DateTime()


class AmbassadorQueryArgsSchema(PageArgsSchema):
    level_id = fields.Integer(load_default=None, validate=ID_RANGE)
    estate_id = fields.Integer(load_default=None, validate=ID_RANGE)
    city = fields.String(load_default=None, validate=validate.Length(max=32))
    status = fields.String(load_default=None, validate=validate.OneOf(AMBASSADOR_STATUSES))
    q = fields.String(load_default=None, validate=validate.Length(max=64),
                      metadata={"description": "name (part of), phone, invite code or user id"})


class LevelChangeSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "join promote demote override suspend reinstate remove"})
    from_level = fields.Nested(HistoryLevelSchema, allow_none=True)
    to_level = fields.Nested(HistoryLevelSchema, allow_none=True)
    contribution = fields.Integer(allow_none=True)
    reason = fields.String()
    actor_id = fields.Integer(allow_none=True, metadata={"description": "null: the scheduled job"})
    created_at = fields.DateTime()


class AmbassadorPointsSchema(ma.Schema):
    balance = fields.Integer(attribute="available")
    held = fields.Integer()


class SubmissionBriefSchema(ma.Schema):
    id = fields.Integer()
    task_id = fields.Integer()
    task_title = fields.String()
    status = fields.String()
    points = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    reviewed_at = fields.DateTime(allow_none=True)


class ReferralBriefSchema(ma.Schema):
    id = fields.Integer()
    invitee_id = fields.Integer()
    invitee_name = fields.String()
    status = fields.String()
    flag_reason = fields.String(allow_none=True)
    qualified_by = fields.String(allow_none=True)
    attributed_at = fields.DateTime()
    rewarded_at = fields.DateTime(allow_none=True)


class AmbassadorDetailSchema(ma.Schema):
    ambassador = fields.Nested(AdminAmbassadorSchema)
    level = fields.Nested(LevelViewSchema)
    next_level = fields.Nested(NextLevelSchema, allow_none=True)
    estates = fields.List(fields.Nested(EstateBriefSchema))
    history = fields.List(fields.Nested(LevelChangeSchema), metadata={"description": "newest first (latest 50)"})
    points = fields.Nested(AmbassadorPointsSchema, attribute="balance")
    submissions = fields.List(fields.Nested(SubmissionBriefSchema), metadata={"description": "latest 50"})
    referrals = fields.List(fields.Nested(ReferralBriefSchema), metadata={"description": "latest 50"})


class EstatesWriteSchema(ma.Schema):
    estate_ids = fields.List(fields.Integer(strict=True, validate=ID_RANGE), required=True,
                             metadata={"description": "1–5 active estates; the first sets the city"})


# -- memberships ------------------------------------------------------------------------------

def _membership_view(user_id: int) -> dict:
    membership = services.membership_of(user_id)
    return {"user_id": user_id, "tier": membership.tier if membership else None,
            "source": membership.source if membership else None,
            "qualifying": bool(membership and membership.tier in services.qualifying_tiers()),
            "updated_at": membership.updated_at if membership else None}


@bp.route("/users/<int:user_id>/membership", methods=["PUT"])
@auth_required("admin")
@bp.arguments(MembershipWriteSchema)
@bp.response(200, MembershipSchema)
def set_membership(body, user_id):
    """Set or clear a user's membership tier (a qualifying tier pre-qualifies an application)"""
    services.set_membership(user_id, body["tier"], current_api_user(), source="admin")
    return _membership_view(user_id)


@bp.route("/users/<int:user_id>/membership")
@auth_required(*READERS)
@bp.response(200, MembershipSchema)
def get_membership(user_id):
    """A user's membership tier"""
    services.require_user(user_id)
    return _membership_view(user_id)


# -- applications -----------------------------------------------------------------------------

@bp.route("/ambassador/applications")
@auth_required(*READERS)
@bp.arguments(ApplicationQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminApplicationSchema))
def list_applications(args):
    """Ambassador applications: the queue is status=pending, oldest first"""
    return services.list_applications(**args)


@bp.route("/ambassador/applications/<int:application_id>")
@auth_required(*READERS)
@bp.response(200, AdminApplicationSchema)
def get_application(application_id):
    """One application"""
    return services.get_application(application_id)


@bp.route("/ambassador/applications/<int:application_id>/approve", methods=["POST"])
@auth_required("admin")
@bp.response(200, AdminApplicationSchema)
def approve(application_id):
    """Approve a pending application: the applicant becomes an ambassador at the entry level"""
    return services.approve_application(application_id, current_api_user())


@bp.route("/ambassador/applications/<int:application_id>/reject", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReasonSchema)
@bp.response(200, AdminApplicationSchema)
def reject(body, application_id):
    """Reject a pending application with a reason the applicant sees"""
    return services.reject_application(application_id, current_api_user(), body["reason"])


@bp.route("/ambassador/applications/decisions", methods=["POST"])
@auth_required("admin")
@bp.arguments(ApplicationDecisionsSchema)
@bp.response(200, DecisionsResultSchema)
def decide_many(body):
    """Approve or reject several applications; each is decided on its own, with its outcome"""
    outcome = services.decide_many(list(dict.fromkeys(body["ids"])), body["action"], current_api_user(),
                                   body["reason"])
    items = [{"id": i, "ok": code == "ok", "code": code} for i, code in outcome.items()]
    decided = sum(item["ok"] for item in items)
    return {"items": items, "decided": decided, "refused": len(items) - decided}


# -- ambassadors ------------------------------------------------------------------------------

@bp.route("/ambassadors")
@auth_required(*READERS)
@bp.arguments(AmbassadorQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminAmbassadorSchema))
def list_ambassadors(args):
    """Ambassadors, filtered by level, estate, city, status; q is a name, phone or invite code"""
    return services.list_ambassadors(**args)


@bp.route("/ambassadors/<int:user_id>")
@auth_required(*READERS)
@bp.response(200, AmbassadorDetailSchema)
def get_ambassador(user_id):
    """One ambassador: level history, estates, contribution, points, task submissions, referrals"""
    return services.ambassador_detail(user_id)


def _status_view(action: str):
    def view(body, user_id):
        services.change_status(user_id, action, body["reason"], current_api_user())
        return services.ambassador_detail(user_id)
    return view


@bp.route("/ambassadors/<int:user_id>/suspend", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReasonSchema)
@bp.response(200, AmbassadorDetailSchema)
def suspend(body, user_id):
    """Suspend an active ambassador, with a reason (history kept)"""
    return _status_view("suspend")(body, user_id)


@bp.route("/ambassadors/<int:user_id>/reinstate", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReasonSchema)
@bp.response(200, AmbassadorDetailSchema)
def reinstate(body, user_id):
    """Reinstate a suspended ambassador, with a reason (a removed one must apply again)"""
    return _status_view("reinstate")(body, user_id)


@bp.route("/ambassadors/<int:user_id>/remove", methods=["POST"])
@auth_required("admin")
@bp.arguments(ReasonSchema)
@bp.response(200, AmbassadorDetailSchema)
def remove(body, user_id):
    """Remove an ambassador, with a reason: they leave the leaderboards; history is kept"""
    return _status_view("remove")(body, user_id)


@bp.route("/ambassadors/<int:user_id>/estates", methods=["PUT"])
@auth_required("admin")
@bp.arguments(EstatesWriteSchema)
@bp.response(200, AmbassadorDetailSchema)
def set_estates(body, user_id):
    """Replace the estates an ambassador serves (1–5; the first sets the city)"""
    services.set_estates(user_id, body["estate_ids"], current_api_user())
    return services.ambassador_detail(user_id)
