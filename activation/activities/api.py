"""Community activities: the resident's side (an estate's activities, the detail, sign-up and
cancel, my activities and my attendee code, checking in by scanning the activity's code) and the
organiser's side (ambassadors whose level has `lead_activities`, approved partners' staff, and
admins: create, edit, cancel, attendees, CSV, checking attendees in by their code).

The organiser's calls live here rather than under /admin: ambassadors and partners use them from
the mini-program and the web; each call checks the organiser (services.organizer_of) and acts on
the caller's own activities only (another organiser's are 404). Admins may call them on any
activity; `POST /api/v1/admin/activities` and the moderation queue are the admin API.
"""
from flask import Response

from activation.activities import services
from activation.activities.schemas import (
    ActivityAttendeesArgsSchema,
    ActivityAttendeeSchema,
    ActivityAudiencePreviewResultSchema,
    ActivityAudiencePreviewSchema,
    ActivityCancelSchema,
    ActivityCheckInResultSchema,
    ActivityCheckInSchema,
    ActivityCreateSchema,
    ActivityEstateChoiceSchema,
    ActivityEstateSearchArgsSchema,
    ActivityOrganizerMeSchema,
    ActivitySchema,
    ActivitySignupCreateSchema,
    ActivitySignupResultSchema,
    ActivitySignupSchema,
    ActivityUpdateSchema,
    MyActivitiesArgsSchema,
    OrganizerActivitySchema,
    OwnActivitiesArgsSchema,
)
from core.auth import auth_required, current_api_user, current_principal
from core.blueprint import Blueprint
from core.errors import Forbidden
from core.idempotency import idempotent
from core.pagination import PageArgsSchema, list_schema, page_schema

bp = Blueprint("activation_activities", __name__, url_prefix="/api/v1", description="社区活动：报名、签到与组织")


# -- residents --------------------------------------------------------------------------------

@bp.route("/estates/<int:estate_id>/activities")
@auth_required()
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, page_schema(ActivitySchema))
def estate_activities(args, estate_id):
    """The estate's published activities that have not ended, the soonest first, with seats left
    and my sign-up"""
    who = current_principal()
    return services.view_page(services.estate_activities(estate_id, **args), who.id)


@bp.route("/activities/<int:activity_id>")
@auth_required()
@bp.response(200, ActivitySchema)
def get_activity(activity_id):
    """One activity with seats left and my sign-up (pending, rejected or withdrawn ones only for
    their organiser side)"""
    who = current_principal()
    return services.activity_view(services.visible_activity(who, activity_id), who)


@bp.route("/activities/<int:activity_id>/signups", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(ActivitySignupCreateSchema)
@bp.response(200, ActivitySignupResultSchema)
def sign_up(body, activity_id):
    """Sign up: confirmed while seats are left, else on the waitlist (it moves up by itself)

    Only residents of the activity's estates (403 `not_in_audience`), before the sign-up deadline
    (409 `signup_closed`; a cancelled activity 409 `activity_cancelled`). Signing up again while
    signed up returns the same sign-up (`created` false); after cancelling, one goes to the end of
    the queue.
    """
    user = current_api_user()
    result = services.sign_up(activity_id, user, body)
    return {"signup": services.signup_views([result.signup])[0], "created": result.created,
            "activity": services.activity_view(services.get_activity(activity_id), user)}


@bp.route("/activities/<int:activity_id>/signups/me")
@auth_required()
@bp.response(200, ActivitySignupSchema)
def my_signup(activity_id):
    """My sign-up for the activity, with my attendee code while confirmed (404 `signup_not_found`)"""
    return services.signup_views([services.my_signup(activity_id, current_principal().id)])[0]


@bp.route("/activities/<int:activity_id>/signups/me", methods=["DELETE"])
@auth_required()
@bp.response(200, ActivitySignupSchema)
def cancel_signup(activity_id):
    """Cancel my sign-up before the start: a confirmed seat goes to the earliest waitlisted, who
    is told (cancelling again changes nothing; checked in: 409 `already_checked_in`)"""
    return services.signup_views([services.cancel_signup(activity_id, current_principal().id)])[0]


@bp.route("/me/activities")
@auth_required()
@bp.arguments(MyActivitiesArgsSchema, location="query")
@bp.response(200, page_schema(ActivitySchema))
def my_activities(args):
    """The activities I signed up for, each with my sign-up (`my`)"""
    who = current_principal()
    return services.view_page(services.my_signups(who.id, **args), who.id)


@bp.route("/activities/<int:activity_id>/check-ins", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(ActivityCheckInSchema)
@bp.response(200, ActivityCheckInResultSchema)
def check_in(body, activity_id):
    """Check in: the organiser sends the attendee's `code`, or the attendee sends the activity's
    `token` (from its QR code)

    From 1 h before the start until the end (409 `checkin_closed`); confirmed sign-ups only (409
    `not_confirmed`, `not_signed_up`; no walk-ins). Once per person: another check-in answers the
    first (`first` false). The first one pays the activity's points and coupon, once.
    """
    who = current_principal()
    result = services.check_in(activity_id, who, code=body["code"], token=body["token"])
    return {"attendee": services.attendee_views([result.signup])[0], "first": result.first, "reward": result.reward}


# -- organisers -------------------------------------------------------------------------------

@bp.route("/organizer/me")
@auth_required()
@bp.response(200, ActivityOrganizerMeSchema)
def organizer_me():
    """Whether I may organise activities now, as what, and (an ambassador) in which estates"""
    try:
        organizer = services.organizer_of(current_principal())
    except Forbidden as refusal:
        return {"may_organize": False, "kind": None, "estate_ids": None, "reason": refusal.message}
    return {"may_organize": True, "kind": organizer.kind, "reason": None,
            "estate_ids": list(organizer.estate_ids) if organizer.estate_ids is not None else None}


@bp.route("/organizer/activities")
@auth_required()
@bp.arguments(OwnActivitiesArgsSchema, location="query")
@bp.response(200, page_schema(OrganizerActivitySchema))
def own_activities(args):
    """The activities I organise (a partner's staff: the partner's), newest first"""
    return services.view_page(services.own_activities(current_principal(), **args), organizer=True)


@bp.route("/organizer/estates")
@auth_required()
@bp.arguments(ActivityEstateSearchArgsSchema, location="query")
@bp.response(200, list_schema(ActivityEstateChoiceSchema))
def search_estates(args):
    """Estates I may put an activity in front of, by name or code (at most 10)"""
    return {"items": services.searchable_estates(current_principal(), args["q"])}


@bp.route("/organizer/audience-preview", methods=["POST"])
@auth_required()
@bp.arguments(ActivityAudiencePreviewSchema)
@bp.response(200, ActivityAudiencePreviewResultSchema)
def preview_audience(body):
    """How many estates a targeting rule reaches within what I may reach, and the first 50"""
    return services.preview_audience(current_principal(), body["audience_rule"])


@bp.route("/activities", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(ActivityCreateSchema)
@bp.response(201, OrganizerActivitySchema)
def create_activity(body):
    """Organise an activity (ambassadors whose level has `lead_activities`, in the estates they
    serve; approved partners' staff, within the partner's reach, pending moderation; admins)

    Refusals: 403 `not_an_ambassador`, `permission_denied`, `partner_not_approved`, `no_estate`;
    422 `estate_out_of_reach`, `audience_empty` and field errors.
    """
    return services.activity_view(services.create_activity(current_api_user(), body), organizer=True)


@bp.route("/activities/<int:activity_id>/manage")
@auth_required()
@bp.response(200, OrganizerActivitySchema)
def manage_activity(activity_id):
    """One activity as its organiser side sees it (the check-in token, the audience, the review)"""
    return services.activity_view(services.activity_for(current_principal(), activity_id), organizer=True)


@bp.route("/activities/<int:activity_id>", methods=["PATCH"])
@auth_required()
@idempotent
@bp.arguments(ActivityUpdateSchema)
@bp.response(200, OrganizerActivitySchema)
def update_activity(body, activity_id):
    """Edit an activity: only the fields sent change (a partner's edit goes back to moderation;
    sign-ups are told when the time or place changes)"""
    return services.activity_view(services.update_activity(current_api_user(), activity_id, body), organizer=True)


@bp.route("/activities/<int:activity_id>/cancel", methods=["POST"])
@auth_required()
@idempotent
@bp.arguments(ActivityCancelSchema)
@bp.response(200, OrganizerActivitySchema)
def cancel_activity(body, activity_id):
    """Call an activity off with a reason: everyone signed up is told (a pending one is withdrawn)"""
    activity = services.cancel_activity(current_api_user(), activity_id, body["reason"])
    return services.activity_view(activity, organizer=True)


@bp.route("/activities/<int:activity_id>/attendees")
@auth_required()
@bp.arguments(ActivityAttendeesArgsSchema, location="query")
@bp.response(200, page_schema(ActivityAttendeeSchema))
def attendees(args, activity_id):
    """The activity's sign-ups in queue order, with their contact and estate (its organiser side only)"""
    return services.attendees(services.activity_for(current_principal(), activity_id), **args)


@bp.route("/activities/<int:activity_id>/attendees.csv")
@auth_required()
@bp.response(200, content_type="text/csv")
def attendees_csv(activity_id):
    """The attendee list as CSV (UTF-8 with BOM, opens in Excel)"""
    activity = services.activity_for(current_principal(), activity_id)
    return Response(services.attendees_csv(activity), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="activity-{activity.id}-attendees.csv"'})
