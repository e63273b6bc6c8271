"""Activity pages: the admin console (every activity, creating and editing, the moderation of
partners' activities, the attendee list, CSV and check-in) and the organiser's pages for
ambassadors and partners' staff (their own activities, attendees, CSV, and check-in on a phone by
typing or scanning an attendee's code).

Both sides call the same services as the JSON API; each POST commits once or shows the refusal.
Who sees an activity is services.activity_for: an organiser's other ids are 404 here too.
"""
from __future__ import annotations

import json
from datetime import timezone

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from activation.activities import services
from activation.activities.models import ACTIVITY_STATUSES
from activation.coupons import services as coupons
from activation.partners import services as partners
from community.estates import services as estates
from core import pages
from core.auth import page_roles_required
from core.errors import APIError, Forbidden
from core.formatting import BUSINESS_TZ
from core.uploads import services as uploads

bp = Blueprint("activation_activities_pages", __name__)

organizer_page = page_roles_required()  # any logged-in account; the services decide who organises

STATUS_FILTERS = [("all", "全部"), ("pending", "待审核"), ("published", "已发布"), ("rejected", "已驳回"),
                  ("cancelled", "已取消"), ("withdrawn", "已撤回")]
ATTENDEE_TABS = [("all", "全部")] + list(services.ATTENDEE_FILTERS.items())
SIDES = {"admin": {"nav": "activities", "list": ".admin_list", "detail": ".admin_detail", "edit": ".admin_edit",
                   "new": ".admin_new", "cancel": ".admin_cancel", "check_in": ".admin_check_in",
                   "csv": ".admin_csv"},
         "organizer": {"nav": "my_activities", "list": ".organizer_list", "detail": ".organizer_detail",
                       "edit": ".organizer_edit", "new": ".organizer_new", "cancel": ".organizer_cancel",
                       "check_in": ".organizer_check_in", "csv": ".organizer_csv"}}


@bp.app_context_processor
def _organiser_menu():
    def organizes_activities() -> bool:
        return current_user.is_authenticated and services.may_organize(current_user)
    return {"organizes_activities": organizes_activities}


def qr_svg(text: str) -> Markup:
    """A QR code of `text` as inline SVG (the activity's check-in code, scanned by attendees)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    return Markup(image.to_string(encoding="unicode"))


def _int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


def _split_ids(text: str | None) -> list[int] | None:
    parts = [p.strip() for p in (text or "").replace("，", ",").replace("、", ",").replace("\n", ",").split(",")]
    parts = [p for p in parts if p]
    if not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


def _local(value):
    """An aware time as the form's Shanghai wall time (minutes)."""
    return value.astimezone(BUSINESS_TZ).replace(tzinfo=None, second=0, microsecond=0) if value else None


def _aware(value):
    return value.replace(tzinfo=BUSINESS_TZ).astimezone(timezone.utc) if value else None


# -- the form ---------------------------------------------------------------------------------

class ActivityForm(FlaskForm):
    title = StringField("标题", validators=[DataRequired("请填写标题"), Length(max=64)])
    description = TextAreaField("活动介绍（住户可见）", validators=[Optional(), Length(max=4000)])
    place = StringField("活动地点", validators=[DataRequired("请填写活动地点"), Length(max=128)])
    starts_at = pages.LocalDateTimeField("开始时间（北京时间）", format="%Y-%m-%dT%H:%M",
                                         validators=[InputRequired("请填写开始时间")])
    ends_at = pages.LocalDateTimeField("结束时间（北京时间）", format="%Y-%m-%dT%H:%M",
                                       validators=[InputRequired("请填写结束时间")])
    signup_deadline = pages.LocalDateTimeField("报名截止（留空为活动开始时）", format="%Y-%m-%dT%H:%M",
                                               validators=[Optional()])
    capacity = pages.IntField("名额（人）", validators=[InputRequired("请填写名额"),
                                                    NumberRange(1, services.CAPACITY_MAX, "名额应为 1–100000 人")])
    points_reward = pages.IntField("参加奖励积分（签到后发放，每人一次）", default=0,
                                   validators=[Optional(), NumberRange(0, services.POINTS_MAX, "应为 0–10000")])
    coupon_template_id = SelectField("参加奖励优惠券（签到后发放）", coerce=_int_or_none)
    photos = MultipleFileField("添加照片（JPG、PNG 或 WebP，最多 9 张）")
    remove_photos = pages.Checkboxes("删除已有照片")
    audience = RadioField("面向范围", default="estates",
                          choices=[SelectChoice("estates", "指定小区"), SelectChoice("rule", "按规则筛选小区")])
    estate_ids = TextAreaField("小区编号（逗号分隔；可用下方搜索添加）", validators=[Optional(), Length(max=8000)])
    served = pages.Checkboxes("面向小区（您服务的小区）", coerce=int)
    audience_rule = TextAreaField("筛选规则（JSON，见说明）", validators=[Optional(), Length(max=8000)])


def _coupon_choices(organizer: services.Organizer, current: int | None) -> list[SelectChoice]:
    choices = [SelectChoice(None, "不发优惠券")]
    if organizer.kind == "ambassador":
        return choices
    active = coupons.list_templates(status="active", limit=100).items
    for t in active:
        if organizer.kind == "admin" or t.partner_id == organizer.partner_id or t.id == current:
            choices.append(SelectChoice(t.id, f"{t.name}（{coupons.face(t)}）"))
    return choices


def _organizer_for_form() -> services.Organizer:
    if current_user.has_role("admin"):
        return services.Organizer("admin", current_user.id)
    return services.organizer_of(current_user)


def _make_form(organizer: services.Organizer, activity=None) -> ActivityForm:
    if activity is None or request.method == "POST":
        form = ActivityForm()
    else:
        ids = services.audience_estate_ids(activity.id, limit=services.AUDIENCE_IDS_MAX)
        form = ActivityForm(
            title=activity.title, description=activity.description, place=activity.place,
            starts_at=_local(activity.starts_at), ends_at=_local(activity.ends_at),
            signup_deadline=_local(activity.signup_deadline), capacity=activity.capacity,
            points_reward=activity.points_reward, coupon_template_id=activity.coupon_template_id,
            audience="rule" if activity.audience_rule is not None else "estates",
            estate_ids=", ".join(map(str, ids)) if activity.audience_rule is None else "", served=ids,
            audience_rule=json.dumps(activity.audience_rule, ensure_ascii=False, indent=1)
            if activity.audience_rule is not None else "")
    form.coupon_template_id.choices = _coupon_choices(organizer, activity.coupon_template_id if activity else None)
    form.remove_photos.choices = [SelectChoice(p, p) for p in (activity.photos if activity else [])]
    places = estates.estates_by_id(organizer.estate_ids or ())
    form.served.choices = [SelectChoice(i, places[i].name) for i in organizer.estate_ids or () if i in places]
    if organizer.kind != "admin":
        del form.points_reward
    if organizer.kind == "ambassador":
        del form.coupon_template_id
        del form.estate_ids
    else:
        del form.served
    return form


def _audience(form: ActivityForm) -> dict:
    """The audience the form names, as the services take it (errors on the form's fields)."""
    if form.audience.data == "rule":
        try:
            rule = json.loads(form.audience_rule.data or "{}")
        except ValueError:
            rule = None
        if not isinstance(rule, dict):
            raise APIError("筛选规则须为 JSON 对象，例如 {\"cities\": [\"深圳市\"]}", code="validation_error",
                           status=422, details={"fields": {"audience_rule": ["须为 JSON 对象"]}})
        return {"audience_rule": rule}
    if "served" in form:
        return {"estate_ids": list(form.served.data or [])}
    ids = _split_ids(form.estate_ids.data)
    if ids is None:
        raise APIError("小区编号须为数字，用逗号分隔", code="validation_error", status=422,
                       details={"fields": {"estate_ids": ["小区编号须为数字，用逗号分隔"]}})
    return {"estate_ids": ids}


def _activity_data(form: ActivityForm, activity=None) -> dict:
    """The service's fields from the form; on an edit only what changed (times compared to the
    minute, the audience as a whole), so an ongoing activity's start is not 'moved'."""
    data = {"title": form.title.data, "description": form.description.data or "", "place": form.place.data,
            "capacity": form.capacity.data}
    for name in ("starts_at", "ends_at", "signup_deadline"):
        value = form[name].data
        if value is None and name == "signup_deadline":
            if activity is None:
                continue
            value = _local(activity.starts_at)
        if activity is None or value != _local(getattr(activity, name)):
            data[name] = _aware(value)
    if "points_reward" in form:
        data["points_reward"] = form.points_reward.data or 0
    if "coupon_template_id" in form:
        data["coupon_template_id"] = form.coupon_template_id.data
    kept = [p for p in (activity.photos if activity else []) if p not in set(form.remove_photos.data or [])]
    added = [f for f in (form.photos.data or []) if getattr(f, "filename", "")]
    if added or len(kept) != len(activity.photos if activity else []) or activity is None:
        names = [uploads.store_image(current_user.id, f.read()).name for f in added]
        data["photos"] = kept + names
    audience = _audience(form)
    if activity is None:
        data.update(audience)
    elif "audience_rule" in audience:
        if audience["audience_rule"] != activity.audience_rule:
            data.update(audience)
    elif activity.audience_rule is not None or sorted(set(audience["estate_ids"])) != \
            services.audience_estate_ids(activity.id, limit=services.AUDIENCE_IDS_MAX):
        data.update(audience)
    return data


def _preview(form: ActivityForm):
    try:
        return services.preview_audience(current_user, _audience(form).get("audience_rule") or {})
    except APIError as refusal:
        flash(refusal.message, "error")
        return None


def _render_form(side: str, form: ActivityForm, activity=None, preview=None):
    photos = activity.photos if activity else []
    return render_template("admin/activation/activities/form.html", nav=SIDES[side]["nav"], side=side, ep=SIDES[side],
                           form=form, activity=activity, preview=preview,
                           photo_urls={p: f"/api/v1/uploads/{p}" for p in photos})


def _new(side: str):
    organizer = _organizer_for_form()
    form = _make_form(organizer)
    preview = None
    if form.validate_on_submit():
        if request.form.get("preview"):
            preview = _preview(form)
        else:
            done, activity = pages.apply(lambda: services.create_activity(current_user, _activity_data(form)),
                                         lambda a: "活动已发布" if a.status == "published" else "活动已提交，等待平台审核",
                                         form)
            if done:
                return redirect(url_for(SIDES[side]["detail"], activity_id=activity.id))
    return _render_form(side, form, preview=preview)


def _edit(side: str, activity_id: int):
    activity = services.activity_for(current_user, activity_id, manage=True)
    if activity.status in ("cancelled", "withdrawn"):
        flash("活动已取消，不能再修改", "error")
        return redirect(url_for(SIDES[side]["detail"], activity_id=activity.id))
    organizer = _organizer_for_form()
    form = _make_form(organizer, activity)
    preview = None
    if form.validate_on_submit():
        if request.form.get("preview"):
            preview = _preview(form)
        else:
            done, _ = pages.apply(lambda: services.update_activity(current_user, activity.id,
                                                                   _activity_data(form, activity)), "活动已保存", form)
            if done:
                return redirect(url_for(SIDES[side]["detail"], activity_id=activity.id))
    return _render_form(side, form, activity, preview)


# -- the detail, attendees and check-in ----------------------------------------------------------------

def _detail(side: str, activity_id: int):
    activity = services.activity_for(current_user, activity_id)
    tab = request.args.get("tab") or "all"
    if tab not in dict(ATTENDEE_TABS):
        tab = "all"
    try:
        page = services.attendees(activity, status=None if tab == "all" else tab, limit=50, cursor=pages.cursor())
    except APIError as refusal:
        flash(refusal.message, "error")
        page = services.attendees(activity, status=None if tab == "all" else tab, limit=50)
    view = services.activity_view(activity, organizer=True)
    places = estates.estates_by_id(view["estate_ids"])
    return render_template("admin/activation/activities/detail.html", nav=SIDES[side]["nav"], side=side,
                           ep=SIDES[side], activity=activity, view=view,
                           page=page, tab=tab, tabs=ATTENDEE_TABS, counts=services.attendee_counts(activity),
                           places=[places[i] for i in view["estate_ids"] if i in places],
                           manage=services.manages(current_user, activity), qr=qr_svg(activity.checkin_token),
                           labels=services.STATUS_LABELS, users=pages.users([activity.organizer_user_id,
                                                                            activity.reviewed_by_id]))


def _check_in(side: str, activity_id: int):
    code = (request.form.get("code") or "").strip()

    def message(result):
        who = services.attendee_views([result.signup])[0]["name"]
        if not result.first:
            return f"{who} 已于 {services.local(result.signup.checked_in_at, '%H:%M')} 签到过"
        paid = result.reward
        extra = "".join([f"，获得 {paid['points']} 积分" if paid["points"] else "",
                         f"，获得优惠券「{paid['coupon']['name']}」" if paid["coupon"] else ""])
        return f"签到成功：{who}{extra}"

    if not code:
        flash("请输入或扫描参加者的签到码", "error")
    else:
        pages.apply(lambda: services.check_in(activity_id, current_user, code=code), message)
    return redirect(url_for(SIDES[side]["detail"], activity_id=activity_id, tab=request.form.get("tab") or None))


def _cancel(side: str, activity_id: int):
    pages.apply(lambda: services.cancel_activity(current_user, activity_id, request.form.get("reason")),
                lambda a: "活动已取消，已通知报名的住户" if a.status == "cancelled" else "活动已撤回")
    return redirect(url_for(SIDES[side]["detail"], activity_id=activity_id))


def _csv(activity_id: int):
    activity = services.activity_for(current_user, activity_id)
    return Response(services.attendees_csv(activity), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="activity-{activity.id}-attendees.csv"'})


# -- admin pages --------------------------------------------------------------------------------------

@bp.route("/admin/activities")
@pages.staff_only
def admin_list():
    status = request.args.get("status") or "all"
    if status != "all" and status not in ACTIVITY_STATUSES:
        status = "all"
    q = (request.args.get("q") or "").strip()[:64] or None
    page = services.list_activities(status=None if status == "all" else status, q=q, limit=20, cursor=pages.cursor())
    return render_template("admin/activation/activities/list.html", nav="activities", side="admin", ep=SIDES["admin"],
                           page=page, views=services.activity_views(page.items), status=status, q=q,
                           filters=STATUS_FILTERS, labels=services.STATUS_LABELS,
                           pending=services.pending_count())


@bp.route("/admin/activities/new", methods=["GET", "POST"])
@pages.admin_only
def admin_new():
    return _new("admin")


@bp.route("/admin/activities/<int:activity_id>")
@pages.staff_only
def admin_detail(activity_id):
    return _detail("admin", activity_id)


@bp.route("/admin/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@pages.admin_only
def admin_edit(activity_id):
    return _edit("admin", activity_id)


@bp.route("/admin/activities/<int:activity_id>/review", methods=["POST"])
@pages.admin_only
def admin_review(activity_id):
    action = request.form.get("action")
    pages.apply(lambda: services.review_activity(activity_id, action, request.form.get("note"), current_user),
                "活动已通过审核并发布" if action == "approve" else "活动已驳回，伙伴可修改后重新提交")
    return redirect(pages.back(".admin_detail", activity_id=activity_id))


@bp.route("/admin/activities/<int:activity_id>/cancel", methods=["POST"])
@pages.admin_only
def admin_cancel(activity_id):
    return _cancel("admin", activity_id)


@bp.route("/admin/activities/<int:activity_id>/check-in", methods=["POST"])
@pages.admin_only
def admin_check_in(activity_id):
    return _check_in("admin", activity_id)


@bp.route("/admin/activities/<int:activity_id>/attendees.csv")
@pages.staff_only
def admin_csv(activity_id):
    return _csv(activity_id)


# -- organiser pages (ambassadors, partners' staff) ----------------------------------------------------

@bp.route("/organizer/activities")
@organizer_page
def organizer_list():
    status = request.args.get("status") or "all"
    if status != "all" and status not in ACTIVITY_STATUSES:
        status = "all"
    page = services.own_activities(current_user, status=None if status == "all" else status, limit=20,
                                   cursor=pages.cursor())
    refusal = None
    try:
        services.organizer_of(current_user)
    except Forbidden as exc:
        refusal = exc.message
    return render_template("organizer/activities/list.html", nav="my_activities", side="organizer",
                           ep=SIDES["organizer"], page=page, views=services.activity_views(page.items), status=status,
                           filters=STATUS_FILTERS, refusal=refusal,
                           partner=partners.partner_of(current_user))


@bp.route("/organizer/activities/new", methods=["GET", "POST"])
@organizer_page
def organizer_new():
    return _new("organizer")


@bp.route("/organizer/activities/<int:activity_id>")
@organizer_page
def organizer_detail(activity_id):
    services.activity_for(current_user, activity_id, manage=True)  # agents read the admin console
    return _detail("organizer", activity_id)


@bp.route("/organizer/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@organizer_page
def organizer_edit(activity_id):
    return _edit("organizer", activity_id)


@bp.route("/organizer/activities/<int:activity_id>/cancel", methods=["POST"])
@organizer_page
def organizer_cancel(activity_id):
    return _cancel("organizer", activity_id)


@bp.route("/organizer/activities/<int:activity_id>/check-in", methods=["POST"])
@organizer_page
def organizer_check_in(activity_id):
    return _check_in("organizer", activity_id)


@bp.route("/organizer/activities/<int:activity_id>/attendees.csv")
@organizer_page
def organizer_csv(activity_id):
    services.activity_for(current_user, activity_id, manage=True)
    return _csv(activity_id)


@bp.route("/organizer/activities/estates")
@organizer_page
def estate_search():
    """Estates the form's search may add (JSON for the page's script): what the organiser reaches."""
    try:
        items = services.searchable_estates(current_user, request.args.get("q") or "")
    except Forbidden as refusal:
        return {"error": {"code": refusal.code, "message": refusal.message, "details": {}}}, 403
    return {"items": items}
