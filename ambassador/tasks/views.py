"""Admin console for ambassador tasks: the task list and editor (create, edit, publish, close),
a task's page with its statistics, and the submission review queue with confirmed bulk decisions.

Pages call the same services as the admin JSON API; each POST commits once or shows the refusal.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ambassador.models import Level
from ambassador.tasks import services
from ambassador.tasks.models import SUBMISSION_STATUSES, TASK_STATUSES
from core import pages
from core.db import MAX_ID
from core.extensions import db
from core.formatting import BUSINESS_TZ

bp = Blueprint("ambassador_tasks_pages", __name__)


REFUSALS = {"already_decided": "已被处理", "submission_not_found": "不存在", "task_limit_reached": "名额已满",
            "ambassador_not_active": "代言人资格已暂停或取消", "validation_error": "信息不完整"}


def _levels() -> list[Level]:
    return list(db.session.scalars(sa.select(Level).order_by(Level.position)))


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace("，", ",").replace("、", ",").split(",") if part.strip()]


# -- tasks ------------------------------------------------------------------------------------

class TaskForm(FlaskForm):
    title = StringField("标题", validators=[DataRequired("请填写标题"), Length(max=64)])
    description = TextAreaField("任务说明（代言人可见）", validators=[Optional(), Length(max=2000)])
    kind = SelectField("类型", choices=[SelectChoice(k, v) for k, v in services.KIND_LABELS.items()])
    points = pages.IntField("奖励积分（再乘以代言人等级的倍率）",
                      validators=[InputRequired("请填写奖励积分"), NumberRange(0, services.MAX_POINTS, "不能小于 0")])
    deadline = pages.LocalDateTimeField("截止时间（北京时间）", format="%Y-%m-%dT%H:%M",
                                  validators=[InputRequired("请填写截止时间")])
    total_limit = pages.IntField("总完成次数上限（留空为不限）",
                           validators=[Optional(), NumberRange(1, services.MAX_LIMIT, "须大于 0")])
    per_person_limit = pages.IntField("每人完成次数上限", default=1,
                                validators=[InputRequired("请填写每人完成次数上限"),
                                            NumberRange(1, services.MAX_LIMIT, "须大于 0")])
    proof_required = pages.Checkboxes("需要提交的证明", choices=[SelectChoice(k, v) for k, v in services.PROOF_LABELS.items()])
    audience_level_ids = pages.Checkboxes("面向等级（都不选为全部等级）", coerce=int)
    audience_estate_ids = StringField("面向小区编号（逗号分隔，留空为全部小区）", validators=[Optional(), Length(max=4000)])
    audience_cities = StringField("面向城市（逗号分隔，留空为全部城市）", validators=[Optional(), Length(max=1000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.audience_level_ids.choices = [SelectChoice(level.id, level.name) for level in _levels()]

    def validate_audience_estate_ids(self, field):
        if any(not part.isdigit() or not 0 < int(part) <= MAX_ID for part in _split(field.data)):
            raise ValidationError("请填写小区编号（数字），用逗号分隔")

    def task_data(self) -> dict:
        """The service's fields from the fields this form has (a published task's form has fewer)."""
        data = {f: self[f].data for f in ("title", "kind", "points", "total_limit", "per_person_limit",
                                           "proof_required", "audience_level_ids") if f in self}
        data["description"] = (self.description.data or "").strip()
        data["deadline"] = self.deadline.data.replace(tzinfo=BUSINESS_TZ).astimezone(timezone.utc)
        if "audience_estate_ids" in self:
            data["audience_estate_ids"] = [int(part) for part in _split(self.audience_estate_ids.data)]
            data["audience_cities"] = _split(self.audience_cities.data)
        return data


# Once published only the wording, the deadline and the limits change (services.update_task refuses
# the rest): the form of a published task leaves these out and the page shows them as facts.
LOCKED_FIELDS = ("kind", "points", "proof_required", "audience_level_ids", "audience_estate_ids",
                 "audience_cities")
STATUS_FILTERS = [("all", "全部"), ("draft", "草稿"), ("published", "进行中"), ("closed", "已结束")]


def _form_for(task) -> TaskForm:
    if task is None:
        return TaskForm()
    # Not obj=task: WTForms prefers the object's attributes to keyword values, and these three
    # are shown differently from how they are stored (Shanghai wall time, comma-separated lists).
    return TaskForm(**{f: getattr(task, f) for f in ("title", "description", "kind", "points", "total_limit",
                                                      "per_person_limit", "proof_required", "audience_level_ids")},
                    deadline=task.deadline.astimezone(BUSINESS_TZ).replace(tzinfo=None),
                    audience_estate_ids=", ".join(str(i) for i in task.audience_estate_ids or []),
                    audience_cities="，".join(task.audience_cities or []))


def _render_form(form: TaskForm, task):
    return render_template("admin/ambassador/tasks/tasks_form.html", nav="ambassador_tasks", form=form, task=task,
                           locked=task is not None and task.status == "published", levels=_levels(),
                           kinds=services.KIND_LABELS, proofs=services.PROOF_LABELS)


@bp.route("/admin/ambassador/tasks")
@pages.admin_only
def tasks():
    status = request.args.get("status") or "all"
    if status != "all" and status not in TASK_STATUSES:
        status = "all"
    page = services.list_tasks(status=None if status == "all" else status, limit=20, cursor=pages.cursor())
    return render_template("admin/ambassador/tasks/tasks.html", nav="ambassador_tasks", page=page, status=status,
                           filters=STATUS_FILTERS, kinds=services.KIND_LABELS, labels=services.STATUS_LABELS,
                           now=datetime.now(timezone.utc))


@bp.route("/admin/ambassador/tasks/new", methods=["GET", "POST"])
@pages.admin_only
def task_new():
    form = TaskForm()
    if form.validate_on_submit():
        done, task = pages.apply(lambda: services.create_task(form.task_data(), current_user), "任务已保存为草稿", form)
        if done:
            return redirect(url_for(".task_detail", task_id=task.id))
    return _render_form(form, None)


@bp.route("/admin/ambassador/tasks/<int:task_id>/edit", methods=["GET", "POST"])
@pages.admin_only
def task_edit(task_id):
    task = services.get_task(task_id)
    if task.status == "closed":
        flash("任务已结束，不能再修改", "error")
        return redirect(url_for(".task_detail", task_id=task.id))
    form = _form_for(task)
    if task.status == "published":
        for name in LOCKED_FIELDS:
            del form[name]
    if form.validate_on_submit():
        data = form.task_data()
        done, _ = pages.apply(lambda: services.update_task(task.id, data, current_user), "任务已保存", form)
        if done:
            return redirect(url_for(".task_detail", task_id=task.id))
    return _render_form(form, task)


@bp.route("/admin/ambassador/tasks/<int:task_id>")
@pages.admin_only
def task_detail(task_id):
    task = services.get_task(task_id)
    levels = {level.id: level.name for level in _levels()}
    recent = services.list_submissions(task_id=task.id, limit=10)
    return render_template("admin/ambassador/tasks/tasks_detail.html", nav="ambassador_tasks", task=task,
                           stats=services.stats(task.id), levels=levels, kinds=services.KIND_LABELS,
                           proofs=services.PROOF_LABELS, labels=services.STATUS_LABELS,
                           sub_labels=services.SUBMISSION_LABELS, recent=recent,
                           users=pages.users([task.created_by_id, *(s.user_id for s in recent.items)]))


@bp.route("/admin/ambassador/tasks/<int:task_id>/publish", methods=["POST"])
@pages.admin_only
def task_publish(task_id):
    pages.apply(lambda: services.publish_task(task_id, current_user), "任务已发布，符合条件的代言人现在可以看到它")
    return redirect(url_for(".task_detail", task_id=task_id))


@bp.route("/admin/ambassador/tasks/<int:task_id>/close", methods=["POST"])
@pages.admin_only
def task_close(task_id):
    pages.apply(lambda: services.close_task(task_id, current_user), "任务已结束；已提交的待审核记录仍可审核")
    return redirect(url_for(".task_detail", task_id=task_id))


# -- review -----------------------------------------------------------------------------------

SUBMISSION_FILTERS = [("pending", "待审核"), ("approved", "已通过"), ("rejected", "已驳回"), ("all", "全部")]


@bp.route("/admin/ambassador/submissions")
@pages.admin_only
def submissions():
    status = request.args.get("status") or "pending"
    if status != "all" and status not in SUBMISSION_STATUSES:
        status = "pending"
    task_id = pages.id_arg("task_id")
    page = services.list_submissions(status=None if status == "all" else status, task_id=task_id, limit=20,
                                     cursor=pages.cursor())
    return render_template("admin/ambassador/tasks/submissions.html", nav="ambassador_submissions", page=page,
                           status=status, task_id=task_id, filters=SUBMISSION_FILTERS,
                           titles=services.task_titles([s.task_id for s in page.items] + [task_id]),
                           users=pages.users(s.user_id for s in page.items), labels=services.SUBMISSION_LABELS)


SUBMISSIONS_BULK = pages.BulkPage(
    noun="提交", unit="条", reject_verb="驳回",
    approve_note="按任务积分 × 代言人等级倍率发放积分，通过后不能撤销。已达到次数上限的将被跳过。",
    reject_note="代言人可在截止前重新提交。", reason_reader="代言人", time_label="提交时间",
    rows="admin/ambassador/tasks/_submission_rows.html", get=services.get_submission,
    decide_many=services.decide_many, refusals=REFUSALS, nav="ambassador_submissions",
    queue="ambassador_tasks_pages.submissions",
    context=lambda items: {"users": pages.users(s.user_id for s in items), "labels": services.SUBMISSION_LABELS,
                           "titles": services.task_titles(s.task_id for s in items)})


@bp.route("/admin/ambassador/submissions/bulk", methods=["POST"])
@pages.admin_only
def submissions_bulk():
    """Bulk approve or reject: the first POST shows what will happen, the confirmed one does it."""
    return pages.bulk_decide(SUBMISSIONS_BULK)


@bp.route("/admin/ambassador/submissions/<int:submission_id>/approve", methods=["POST"])
@pages.admin_only
def submission_approve(submission_id):
    pages.apply(lambda: services.approve(submission_id, current_user),
                lambda submission: f"提交 #{submission_id} 已通过，发放 {submission.points} 积分")
    return redirect(pages.back(".submissions"))


@bp.route("/admin/ambassador/submissions/<int:submission_id>/reject", methods=["POST"])
@pages.admin_only
def submission_reject(submission_id):
    pages.apply(lambda: services.reject(submission_id, current_user, request.form.get("reason", "")),
                f"提交 #{submission_id} 已驳回，代言人可在截止前重新提交")
    return redirect(pages.back(".submissions"))
