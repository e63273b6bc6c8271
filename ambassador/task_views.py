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
from wtforms import DateTimeLocalField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ambassador import tasks as services
from ambassador.models import SUBMISSION_STATUSES, TASK_STATUSES, Level
from core.accounts.auth import page_roles_required
from core.accounts.models import User
from core.errors import APIError, NotFound
from core.extensions import db
from core.formatting import BUSINESS_TZ

bp = Blueprint("ambassador_task_pages", __name__)
admin_only = page_roles_required("admin")

MAX_ID = 2**63 - 1
BULK_MAX = 100
REFUSALS = {"already_decided": "已被处理", "submission_not_found": "不存在", "task_limit_reached": "名额已满",
            "ambassador_not_active": "代言人资格已暂停或取消", "validation_error": "信息不完整"}


# -- helpers ----------------------------------------------------------------------------------

def _safe_next(target: str | None) -> str | None:
    # Only local paths: a form's `next` never sends the admin to another site.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _apply(action, success: str, form: FlaskForm | None = None):
    """Run a service call and commit; on refusal roll back and show why (on the form's fields
    when it can). Returns (done, the action's result)."""
    try:
        result = action()
        db.session.commit()
    except APIError as exc:
        db.session.rollback()
        placed = False
        for name, messages in exc.details.get("fields", {}).items():
            if form is not None and name in form:
                form[name].errors = list(form[name].errors) + [_field_message(m) for m in messages]
                placed = True
        if not placed or exc.code != "validation_error":
            flash(exc.message, "error")
        return False, None
    if success:
        flash(success, "success")
    return True, result


FIELD_MESSAGES = {"required": "必填", "must be in the future": "须晚于当前时间",
                  "may only be extended after publishing": "发布后只能延后",
                  "may only be raised (or removed) after publishing": "发布后只能提高或取消上限",
                  "may only be raised after publishing": "发布后只能提高",
                  "cannot change after publishing": "发布后不能修改",
                  "below the completions approved": "不能低于已通过的次数"}


def _field_message(message: str) -> str:
    if message.startswith("unknown"):
        return "编号不存在：" + message.partition(":")[2].strip()
    return FIELD_MESSAGES.get(message, message)


def _users(ids) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}


def _levels() -> list[Level]:
    return list(db.session.scalars(sa.select(Level).order_by(Level.position)))


def _cursor() -> str | None:
    return request.args.get("cursor") or None


class IntField(IntegerField):
    """An integer input whose parse error reads in Chinese."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("请输入整数") from exc


class LocalDateTimeField(DateTimeLocalField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("请输入日期和时间，例如 2026-12-31 18:00") from exc


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace("，", ",").replace("、", ",").split(",") if part.strip()]


# -- tasks ------------------------------------------------------------------------------------

class TaskForm(FlaskForm):
    title = StringField("标题", validators=[DataRequired("请填写标题"), Length(max=64)])
    description = TextAreaField("任务说明（代言人可见）", validators=[Optional(), Length(max=2000)])
    kind = SelectField("类型", choices=[SelectChoice(k, v) for k, v in services.KIND_LABELS.items()])
    points = IntField("奖励积分（再乘以代言人等级的倍率）",
                      validators=[InputRequired("请填写奖励积分"), NumberRange(0, services.MAX_POINTS, "不能小于 0")])
    deadline = LocalDateTimeField("截止时间（北京时间）", format="%Y-%m-%dT%H:%M",
                                  validators=[InputRequired("请填写截止时间")])
    total_limit = IntField("总完成次数上限（留空为不限）",
                           validators=[Optional(), NumberRange(1, services.MAX_LIMIT, "须大于 0")])
    per_person_limit = IntField("每人完成次数上限", default=1,
                                validators=[InputRequired("请填写每人完成次数上限"),
                                            NumberRange(1, services.MAX_LIMIT, "须大于 0")])
    proof_required = Checkboxes("需要提交的证明", choices=[SelectChoice(k, v) for k, v in services.PROOF_LABELS.items()])
    audience_level_ids = Checkboxes("面向等级（都不选为全部等级）", coerce=int)
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
    return render_template("admin/ambassador/tasks_form.html", nav="ambassador_tasks", form=form, task=task,
                           locked=task is not None and task.status == "published", levels=_levels(),
                           kinds=services.KIND_LABELS, proofs=services.PROOF_LABELS)


@bp.route("/admin/ambassador/tasks")
@admin_only
def tasks():
    status = request.args.get("status") or "all"
    if status != "all" and status not in TASK_STATUSES:
        status = "all"
    page = services.list_tasks(status=None if status == "all" else status, limit=20, cursor=_cursor())
    return render_template("admin/ambassador/tasks.html", nav="ambassador_tasks", page=page, status=status,
                           filters=STATUS_FILTERS, kinds=services.KIND_LABELS, labels=services.STATUS_LABELS,
                           now=datetime.now(timezone.utc))


@bp.route("/admin/ambassador/tasks/new", methods=["GET", "POST"])
@admin_only
def task_new():
    form = TaskForm()
    if form.validate_on_submit():
        done, task = _apply(lambda: services.create_task(form.task_data(), current_user), "任务已保存为草稿", form)
        if done:
            return redirect(url_for(".task_detail", task_id=task.id))
    return _render_form(form, None)


@bp.route("/admin/ambassador/tasks/<int:task_id>/edit", methods=["GET", "POST"])
@admin_only
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
        done, _ = _apply(lambda: services.update_task(task.id, data, current_user), "任务已保存", form)
        if done:
            return redirect(url_for(".task_detail", task_id=task.id))
    return _render_form(form, task)


@bp.route("/admin/ambassador/tasks/<int:task_id>")
@admin_only
def task_detail(task_id):
    task = services.get_task(task_id)
    levels = {level.id: level.name for level in _levels()}
    recent = services.list_submissions(task_id=task.id, limit=10)
    return render_template("admin/ambassador/tasks_detail.html", nav="ambassador_tasks", task=task,
                           stats=services.stats(task.id), levels=levels, kinds=services.KIND_LABELS,
                           proofs=services.PROOF_LABELS, labels=services.STATUS_LABELS,
                           sub_labels=services.SUBMISSION_LABELS, recent=recent,
                           users=_users([task.created_by_id, *(s.user_id for s in recent.items)]))


@bp.route("/admin/ambassador/tasks/<int:task_id>/publish", methods=["POST"])
@admin_only
def task_publish(task_id):
    _apply(lambda: services.publish_task(task_id, current_user), "任务已发布，符合条件的代言人现在可以看到它")
    return redirect(url_for(".task_detail", task_id=task_id))


@bp.route("/admin/ambassador/tasks/<int:task_id>/close", methods=["POST"])
@admin_only
def task_close(task_id):
    _apply(lambda: services.close_task(task_id, current_user), "任务已结束；已提交的待审核记录仍可审核")
    return redirect(url_for(".task_detail", task_id=task_id))


# -- review -----------------------------------------------------------------------------------

SUBMISSION_FILTERS = [("pending", "待审核"), ("approved", "已通过"), ("rejected", "已驳回"), ("all", "全部")]


def _task_filter() -> int | None:
    value = request.args.get("task_id", type=int)
    return value if value and 0 < value <= MAX_ID else None


@bp.route("/admin/ambassador/submissions")
@admin_only
def submissions():
    status = request.args.get("status") or "pending"
    if status != "all" and status not in SUBMISSION_STATUSES:
        status = "pending"
    task_id = _task_filter()
    page = services.list_submissions(status=None if status == "all" else status, task_id=task_id, limit=20,
                                     cursor=_cursor())
    return render_template("admin/ambassador/submissions.html", nav="ambassador_submissions", page=page,
                           status=status, task_id=task_id, filters=SUBMISSION_FILTERS,
                           titles=services.task_titles([s.task_id for s in page.items] + [task_id]),
                           users=_users(s.user_id for s in page.items), labels=services.SUBMISSION_LABELS)


@bp.route("/admin/ambassador/submissions/bulk", methods=["POST"])
@admin_only
def submissions_bulk():
    """Bulk approve or reject: the first POST shows what will happen, the confirmed one does it."""
    back = _safe_next(request.form.get("next")) or url_for(".submissions")
    action = request.form.get("action")
    reason = (request.form.get("reason") or "").strip()
    ids = list(dict.fromkeys(i for i in request.form.getlist("ids", type=int) if 0 < i <= MAX_ID))
    if action not in ("approve", "reject"):
        flash("请选择批量通过或批量驳回", "error")
        return redirect(back)
    if not ids:
        flash("请先勾选要处理的提交", "error")
        return redirect(back)
    if len(ids) > BULK_MAX:
        flash(f"一次最多处理 {BULK_MAX} 条", "error")
        return redirect(back)
    if action == "reject" and not reason:
        flash("批量驳回必须填写驳回原因", "error")
        return redirect(back)
    if request.form.get("confirmed") != "1":
        items = []
        for submission_id in ids:
            try:
                items.append(services.get_submission(submission_id))
            except NotFound:
                pass
        return render_template("admin/ambassador/submissions_confirm.html", nav="ambassador_submissions",
                               items=items, action=action, reason=reason, back=back,
                               users=_users(s.user_id for s in items), labels=services.SUBMISSION_LABELS,
                               titles=services.task_titles(s.task_id for s in items),
                               decidable=sum(s.status == "pending" for s in items))
    done, outcome = _apply(lambda: services.decide_many(ids, action, current_user, reason), "")
    if done:
        verb = "通过" if action == "approve" else "驳回"
        decided = [i for i, code in outcome.items() if code == "ok"]
        refused = [f"#{i}（{REFUSALS.get(code, code)}）" for i, code in outcome.items() if code != "ok"]
        if decided:
            flash(f"已{verb} {len(decided)} 条提交", "success")
        if refused:
            flash(f"{len(refused)} 条未{verb}：" + "、".join(refused), "error")
    return redirect(back)


def _back() -> str:
    return _safe_next(request.form.get("next")) or url_for(".submissions")


@bp.route("/admin/ambassador/submissions/<int:submission_id>/approve", methods=["POST"])
@admin_only
def submission_approve(submission_id):
    done, submission = _apply(lambda: services.approve(submission_id, current_user), "")
    if done:
        flash(f"提交 #{submission_id} 已通过，发放 {submission.points} 积分", "success")
    return redirect(_back())


@bp.route("/admin/ambassador/submissions/<int:submission_id>/reject", methods=["POST"])
@admin_only
def submission_reject(submission_id):
    _apply(lambda: services.reject(submission_id, current_user, request.form.get("reason", "")),
           f"提交 #{submission_id} 已驳回，代言人可在截止前重新提交")
    return redirect(_back())
