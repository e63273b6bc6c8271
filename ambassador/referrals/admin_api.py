"""Admin JSON API: referrals, and the flagged ones to clear or dismiss."""
from ambassador.referrals import services
from ambassador.referrals.schemas import AdminReferralQueryArgsSchema, AdminReferralSchema, FlagDecisionSchema, FlagOutcomeSchema
from core.auth import auth_required, current_api_user
from core.blueprint import Blueprint
from core.pagination import page_schema

bp = Blueprint("ambassador_referrals_admin", __name__, url_prefix="/api/v1/admin", description="管理：邀请与推荐奖励")


@bp.route("/ambassador/referrals")
@auth_required("admin")
@bp.arguments(AdminReferralQueryArgsSchema, location="query")
@bp.response(200, page_schema(AdminReferralSchema))
def admin_list(args):
    """Referrals, newest first; `status=flagged` is the anti-fraud review queue"""
    return services.list_referrals(**args)


@bp.route("/ambassador/referrals/<int:referral_id>")
@auth_required("admin")
@bp.response(200, AdminReferralSchema)
def admin_get(referral_id):
    """One referral"""
    return services.get_referral(referral_id)


def _flag_outcome(outcome):
    return {"referral": outcome.referral, "paid": outcome.paid,
            "refused": outcome.refused.code if outcome.refused else None}


@bp.route("/ambassador/referrals/<int:referral_id>/clear", methods=["POST"])
@auth_required("admin")
@bp.arguments(FlagDecisionSchema)
@bp.response(200, FlagOutcomeSchema)
def admin_clear(body, referral_id):
    """Clear a flagged pair (genuine, reason required): the inviter is paid what the referral met"""
    return _flag_outcome(services.clear_flag(referral_id, current_api_user(), body["reason"]))


@bp.route("/ambassador/referrals/<int:referral_id>/dismiss", methods=["POST"])
@auth_required("admin")
@bp.arguments(FlagDecisionSchema)
@bp.response(200, FlagOutcomeSchema)
def admin_dismiss(body, referral_id):
    """Confirm a flag (reason required): the reward stays withheld for good (status lapsed)"""
    return {"referral": services.dismiss_flag(referral_id, current_api_user(), body["reason"]),
            "paid": {}, "refused": None}
