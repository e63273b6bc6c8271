"""The engineer workbench's customers (with health, alerts and follow-ups) and each customer's book;
customer health in the admin console (also the book, for admins and agents on duty). The same
services as the JSON API."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from community.book import services
from community.book.models import BANDS
from community.estates import services as estates
from core import pages
from core.auth import page_roles_required

bp = Blueprint("community_book_pages", __name__)

book_readers = page_roles_required("engineer", "admin", "agent")  # services.book_of decides per customer


class NoteForm(FlaskForm):
    text = TextAreaField("备注", validators=[DataRequired("请填写备注"), Length(max=services.NOTE_MAX)])


class TagForm(FlaskForm):
    tag = StringField("标签", validators=[DataRequired("请填写标签"), Length(max=services.TAG_MAX)])


class FollowUpForm(FlaskForm):
    due_on = pages.LocalDateField("跟进日期", validators=[DataRequired("请选择跟进日期")])
    text = StringField("跟进内容", validators=[DataRequired("请填写跟进内容"), Length(max=services.FOLLOW_UP_MAX)])


class HandleForm(FlaskForm):
    note = StringField("处理说明", validators=[DataRequired("请填写处理说明"), Length(max=services.HANDLE_NOTE_MAX)])


def _choice(name: str, allowed) -> str | None:
    value = request.args.get(name) or None
    return value if value in allowed else None


# -- the workbench -----------------------------------------------------------------------------

@bp.route("/engineer/")
@pages.engineer_only
def workbench():
    """My customers with their health (band filter, worst first), my open alerts and follow-ups."""
    who = pages.principal()
    engineer = estates.engineer_of(who.id)
    estate_id = pages.id_arg("estate_id")
    health, sort = _choice("health", BANDS), _choice("sort", ("health",))
    page = services.customers_with_health(who, estate_id=estate_id, health=health, sort=sort, **pages.cursor_args())
    return render_template("engineer/book/index.html", nav="customers", engineer=engineer, page=page,
                           estate_id=estate_id, health=health, sort=sort, counts=services.band_counts(who),
                           alerts=services.my_alerts(who, limit=5).items, follow_ups=services.follow_up_counts(who),
                           handle_form=HandleForm(), labels=services.BAND_LABELS)


@bp.route("/engineer/follow-ups")
@pages.engineer_only
def follow_ups():
    who = pages.principal()
    status = _choice("status", services.FOLLOW_UP_STATUSES) or "open"
    page = services.my_follow_ups(who, status, **pages.cursor_args())
    return render_template("engineer/book/follow_ups.html", nav="follow_ups", page=page, status=status,
                           statuses=services.FOLLOW_UP_STATUSES, counts=services.follow_up_counts(who))


# -- the customer's book (engineer workbench and console) ----------------------------------------

def _book_page(user_id: int, *, console: bool):
    who = pages.principal()
    book = services.book_of(who, user_id)
    detail = services.customer_detail(who, user_id) if book.bound else None
    timeline = services.timeline(who, user_id, limit=30, cursor=pages.cursor())
    return render_template(
        "engineer/book/customer.html", nav="health" if console else "customers", console=console, book=book,
        detail=detail, resident=book.resident, health=services.health_view(services.health_of(user_id)),
        tags=services.tags_of(user_id), suggested=services.SUGGESTED_TAGS,
        notes=services.notes_of(who, user_id, limit=20).items, follow_ups=services.follow_ups_of_customer(who, user_id),
        alerts=services.customer_alerts(who, user_id), timeline=timeline, note_form=NoteForm(), tag_form=TagForm(),
        follow_up_form=FollowUpForm(), handle_form=HandleForm(), today=services.business_today())


@bp.route("/engineer/customers/<int:user_id>")
@pages.engineer_only
def customer(user_id):
    return _book_page(user_id, console=False)


@bp.route("/admin/customers/<int:user_id>")
@pages.staff_only
def admin_customer(user_id):
    return _book_page(user_id, console=True)


def _back(user_id: int):
    return redirect(pages.back("community_book_pages.customer", user_id=user_id))


@bp.route("/engineer/customers/<int:user_id>/notes", methods=["POST"])
@book_readers
def add_note(user_id):
    form = NoteForm()
    if form.validate_on_submit():
        pages.apply(lambda: services.add_note(pages.principal(), user_id, form.text.data), "备注已保存")
    else:
        pages.flash_form_errors(form)
    return _back(user_id)


@bp.route("/engineer/customers/<int:user_id>/tags", methods=["POST"])
@book_readers
def change_tags(user_id):
    who = pages.principal()
    if request.form.get("action") == "remove":
        tag = request.form.get("tag") or ""
        pages.apply(lambda: services.remove_tag(who, user_id, tag), f"已移除标签「{tag}」")
    else:
        form = TagForm()
        if form.validate_on_submit():
            pages.apply(lambda: services.add_tag(who, user_id, form.tag.data), "标签已添加")
        else:
            pages.flash_form_errors(form)
    return _back(user_id)


@bp.route("/engineer/customers/<int:user_id>/follow-ups", methods=["POST"])
@book_readers
def add_follow_up(user_id):
    form = FollowUpForm()
    if form.validate_on_submit():
        pages.apply(lambda: services.add_follow_up(pages.principal(), user_id, form.due_on.data, form.text.data),
                    "跟进计划已添加")
    else:
        pages.flash_form_errors(form)
    return _back(user_id)


@bp.route("/engineer/follow-ups/<int:follow_up_id>/done", methods=["POST"])
@book_readers
def complete_follow_up(follow_up_id):
    if not FlaskForm().validate_on_submit():
        abort(400)
    pages.apply(lambda: services.complete_follow_up(pages.principal(), follow_up_id), "已标记为完成")
    return redirect(pages.back("community_book_pages.follow_ups"))


@bp.route("/engineer/health-alerts/<int:alert_id>/handle", methods=["POST"])
@book_readers
def handle_alert(alert_id):
    form = HandleForm()
    if form.validate_on_submit():
        pages.apply(lambda: services.handle_alert(pages.principal(), alert_id, form.note.data), "预警已处理")
    else:
        pages.flash_form_errors(form)
    return redirect(pages.back("community_book_pages.workbench"))


# -- the console --------------------------------------------------------------------------------

@bp.route("/admin/health")
@pages.staff_only
def admin_health():
    """Customers per band by engineer or estate, and the open alerts (an agent: of their duty)."""
    who = pages.principal()
    by = _choice("by", services.SUMMARY_BY) or "engineer"
    summary = services.health_summary(by, **pages.cursor_args())
    alerts = services.staff_alerts(who, limit=20, cursor=request.args.get("alerts_cursor") or None)
    return render_template("admin/community/book/health.html", nav="health", by=by, summary=summary,
                           totals=services.health_totals(), alerts=alerts, handle_form=HandleForm())

