"""Admin console for points: the redemption queue, a user's ledger, earning rules, rewards.

Pages call the same services as the admin JSON API; each POST commits once or shows the refusal.
CSRF is checked on every POST by CSRFProtect (core.extensions).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core.accounts import services as accounts
from core.accounts.auth import page_roles_required
from core.accounts.models import User
from core.db import utcnow
from core.errors import APIError, NotFound
from core.extensions import db
from core.formatting import BUSINESS_TZ
from points import services
from points.models import REDEMPTION_STATUSES
from points.schemas import MAX_POINTS

bp = Blueprint("points_pages", __name__)
admin_only = page_roles_required("admin")

MAX_ID = 2**63 - 1
BULK_MAX = 100
# Ledger kinds as admins read them; earning-rule kinds are labelled with the rule's name.
KIND_LABELS = {"hold": "兑换冻结", "release": "兑换退回", "settle": "兑换结算", "spend": "消费",
               "adjustment": "人工调整", "reverse": "冲正", "expiry": "积分过期", "task": "代言人任务奖励"}
NOT_REVERSIBLE = frozenset({"hold", "release", "settle", "reverse"})
REFUSALS = {"redemption_already_decided": "已被处理", "redemption_not_found": "不存在",
            "validation_error": "信息不完整", "insufficient_points": "积分不足"}


# -- helpers ----------------------------------------------------------------------------------

def _safe_next(target: str | None) -> str | None:
    # Only local paths: a form's `next` never sends the admin to another site.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _apply(action, success: str, form: FlaskForm | None = None, field_map: dict | None = None):
    """Run a service call and commit; on refusal roll back and show why (on the form's fields when it can).

    Returns (done, the action's result).
    """
    try:
        result = action()
        db.session.commit()
    except APIError as exc:
        db.session.rollback()
        placed = False
        for name, messages in exc.details.get("fields", {}).items():
            name = (field_map or {}).get(name, name)
            if form is not None and name in form:
                form[name].errors = list(form[name].errors) + list(messages)
                placed = True
        if not placed:
            flash(exc.message, "error")
        return False, None
    if success:
        flash(success, "success")
    return True, result


def _users(ids) -> dict[int, User]:
    """The users behind these ids (one query), for names in tables."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}


def _cursor() -> str | None:
    return request.args.get("cursor") or None


def _form_errors(form: FlaskForm) -> None:
    for field in form:
        for error in field.errors:
            flash(f"{field.label.text}：{error}", "error")


class IntField(IntegerField):
    """An integer input whose parse error reads in Chinese."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("请输入整数") from exc


class LocalDateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("请输入日期，例如 2026-12-31") from exc


def _day_start(day: date) -> datetime:
    """00:00 of that day in Asia/Shanghai, as aware UTC."""
    return datetime.combine(day, time(), BUSINESS_TZ).astimezone(timezone.utc)


def _local_day(value: datetime | None, *, end: bool = False) -> date | None:
    """The Asia/Shanghai day of a stored time; for an exclusive end, the last day it includes."""
    if value is None:
        return None
    local = value.astimezone(BUSINESS_TZ)
    return (local - timedelta(microseconds=1)).date() if end else local.date()


# -- redemptions ------------------------------------------------------------------------------

STATUS_FILTERS = [("pending", "待审核"), ("approved", "已通过待发放"), ("fulfilled", "已发放"), ("rejected", "已拒绝"),
                  ("cancelled", "已取消"), ("voided", "已作废"), ("all", "全部")]


@bp.route("/admin/points/redemptions")
@admin_only
def redemptions():
    status = request.args.get("status") or "pending"
    if status != "all" and status not in REDEMPTION_STATUSES:
        status = "pending"
    page = services.list_redemptions(status=None if status == "all" else status, limit=20, cursor=_cursor())
    return render_template("admin/points/redemptions.html", nav="redemptions", page=page, status=status,
                           filters=STATUS_FILTERS, users=_users(r.user_id for r in page.items))


@bp.route("/admin/points/redemptions/bulk", methods=["POST"])
@admin_only
def redemptions_bulk():
    """Bulk approve or reject: the first POST shows what will happen, the confirmed one does it."""
    back = _safe_next(request.form.get("next")) or url_for(".redemptions")
    action = request.form.get("action")
    reason = (request.form.get("reason") or "").strip()
    ids = list(dict.fromkeys(i for i in request.form.getlist("ids", type=int) if 0 < i <= MAX_ID))
    if action not in ("approve", "reject"):
        flash("请选择批量通过或批量拒绝", "error")
        return redirect(back)
    if not ids:
        flash("请先勾选要处理的兑换申请", "error")
        return redirect(back)
    if len(ids) > BULK_MAX:
        flash(f"一次最多处理 {BULK_MAX} 条", "error")
        return redirect(back)
    if action == "reject" and not reason:
        flash("批量拒绝必须填写拒绝原因", "error")
        return redirect(back)
    if request.form.get("confirmed") != "1":
        items = []
        for redemption_id in ids:
            try:
                items.append(services.get_redemption(redemption_id))
            except NotFound:
                pass
        return render_template("admin/points/bulk_confirm.html", nav="redemptions", items=items, action=action,
                               reason=reason, back=back, users=_users(r.user_id for r in items),
                               decidable=sum(r.status == "pending" for r in items))
    done, outcome = _apply(lambda: services.decide_many(ids, action, current_user, reason), "")
    if done:
        verb = "通过" if action == "approve" else "拒绝"
        decided = [i for i, code in outcome.items() if code == "ok"]
        refused = [f"#{i}（{REFUSALS.get(code, code)}）" for i, code in outcome.items() if code != "ok"]
        if decided:
            flash(f"已{verb} {len(decided)} 条兑换申请", "success")
        if refused:
            flash(f"{len(refused)} 条未{verb}：" + "、".join(refused), "error")
    return redirect(back)


@bp.route("/admin/points/redemptions/<int:redemption_id>")
@admin_only
def redemption_detail(redemption_id):
    redemption = services.get_redemption(redemption_id)
    users = _users([redemption.user_id, redemption.decided_by_id, *(e.actor_id for e in redemption.events)])
    return render_template("admin/points/redemption.html", nav="redemptions", r=redemption, users=users)


def _back_to(redemption_id: int) -> str:
    return _safe_next(request.form.get("next")) or url_for(".redemption_detail", redemption_id=redemption_id)


@bp.route("/admin/points/redemptions/<int:redemption_id>/approve", methods=["POST"])
@admin_only
def redemption_approve(redemption_id):
    _apply(lambda: services.approve(redemption_id, current_user), f"兑换 #{redemption_id} 已通过，积分已扣除")
    return redirect(_back_to(redemption_id))


@bp.route("/admin/points/redemptions/<int:redemption_id>/reject", methods=["POST"])
@admin_only
def redemption_reject(redemption_id):
    _apply(lambda: services.reject(redemption_id, current_user, request.form.get("reason", "")),
           f"兑换 #{redemption_id} 已拒绝，积分和库存已退回")
    return redirect(_back_to(redemption_id))


@bp.route("/admin/points/redemptions/<int:redemption_id>/fulfil", methods=["POST"])
@admin_only
def redemption_fulfil(redemption_id):
    _apply(lambda: services.fulfil(redemption_id, current_user, request.form.get("note", "")),
           f"兑换 #{redemption_id} 已标记为已发放")
    return redirect(_back_to(redemption_id))


# -- a user's ledger --------------------------------------------------------------------------

class AdjustForm(FlaskForm):
    direction = SelectField("操作", choices=[SelectChoice("grant", "发放（增加积分）"),
                                             SelectChoice("deduct", "扣除（减少积分）")])
    amount = IntField("积分数量", validators=[InputRequired("请填写积分数量"),
                                           NumberRange(1, MAX_POINTS, "须为 1 到 10 亿之间的整数")])
    reason = StringField("原因（必填，将记入审计日志）", validators=[DataRequired("请填写原因"), Length(max=255)])
    # A one-time key per rendered form: a double-submitted form posts once (services.adjust's key).
    key = HiddenField()


@bp.route("/admin/points/users")
@admin_only
def user_lookup():
    q = (request.args.get("q") or "").strip()
    found = []
    if q:
        found = accounts.search_users(q=q[:64], limit=20).items
        if len(found) == 1:
            return redirect(url_for(".user_ledger", user_id=found[0].id))
        if not found:
            flash(f"没有找到用户“{q}”", "error")
    return render_template("admin/points/user_lookup.html", nav="redemptions", q=q, found=found)


def _ledger_page(user: User, form: AdjustForm):
    if not form.key.data:
        form.key.data = uuid.uuid4().hex
    labels = {**KIND_LABELS, **{rule.kind: rule.name for rule in services.rules()}}
    return render_template("admin/points/user_ledger.html", nav="redemptions", user=user, form=form,
                           balance=services.balance(user.id),
                           page=services.entries(user.id, limit=20, cursor=_cursor()),
                           redemptions=services.redemptions_of(user.id, limit=5).items, labels=labels,
                           not_reversible=NOT_REVERSIBLE)


@bp.route("/admin/points/users/<int:user_id>")
@admin_only
def user_ledger(user_id):
    return _ledger_page(accounts.get_user(user_id), AdjustForm())


@bp.route("/admin/points/users/<int:user_id>/adjust", methods=["POST"])
@admin_only
def user_adjust(user_id):
    user = accounts.get_user(user_id)
    form = AdjustForm()
    if form.validate_on_submit():
        amount = form.amount.data if form.direction.data == "grant" else -form.amount.data
        done, posted = _apply(lambda: services.adjust(user.id, amount, form.reason.data, current_user,
                                                      key=form.key.data or None),
                              f"已{'发放' if amount > 0 else '扣除'} {abs(amount)} 积分", form)
        if done:
            if not posted.created:
                flash("这次调整此前已提交过，未重复记账", "info")
            return redirect(url_for(".user_ledger", user_id=user.id))
    return _ledger_page(user, form)


@bp.route("/admin/points/transactions/<int:transaction_id>/reverse", methods=["POST"])
@admin_only
def transaction_reverse(transaction_id):
    done, posted = _apply(lambda: services.reverse_transaction(transaction_id, request.form.get("reason", ""),
                                                               current_user), "")
    if done:
        if posted.created:
            flash(f"流水 #{transaction_id} 已冲正", "success")
        else:
            flash(f"流水 #{transaction_id} 此前已冲正，未重复操作", "info")
    return redirect(_safe_next(request.form.get("next")) or url_for(".user_lookup"))


# -- earning rules ----------------------------------------------------------------------------

class RuleForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired("请填写名称"), Length(max=64)])
    points = IntField("每次积分", validators=[InputRequired("请填写积分"), NumberRange(0, MAX_POINTS, "不能小于 0")])
    daily_cap = IntField("每日上限", validators=[Optional(), NumberRange(0, MAX_POINTS, "不能小于 0")])
    lifetime_cap = IntField("累计上限", validators=[Optional(), NumberRange(0, MAX_POINTS, "不能小于 0")])
    enabled = BooleanField("启用")


@bp.route("/admin/points/rules")
@admin_only
def rules():
    return render_template("admin/points/rules.html", nav="rules", rules=services.rules())


@bp.route("/admin/points/rules/<kind>", methods=["POST"])
@admin_only
def rule_update(kind):
    form = RuleForm()
    if form.validate_on_submit():
        data = {f: form[f].data for f in ("name", "points", "daily_cap", "lifetime_cap", "enabled")}
        _apply(lambda: services.update_rule(kind, data, current_user), f"积分规则“{form.name.data}”已保存")
    else:
        _form_errors(form)
    return redirect(url_for(".rules"))


# -- rewards ----------------------------------------------------------------------------------

class RewardForm(FlaskForm):
    name = StringField("奖品名称", validators=[DataRequired("请填写奖品名称"), Length(max=64)])
    description = TextAreaField("说明", validators=[Optional(), Length(max=1000)])
    image_url = StringField("图片地址", validators=[Optional(), Length(max=500)])
    cost = IntField("所需积分", validators=[InputRequired("请填写所需积分"), NumberRange(1, MAX_POINTS, "须大于 0")])
    stock = IntField("剩余库存（留空为不限）", validators=[Optional(), NumberRange(0, MAX_POINTS, "不能小于 0")])
    per_user_limit = IntField("每人限兑（留空为不限）", validators=[Optional(), NumberRange(1, MAX_POINTS, "须大于 0")])
    min_level = IntField("兑换范围：服务代言人最低等级（留空为所有人）",
                         validators=[Optional(), NumberRange(0, 1000, "须为 0 到 1000")])
    auto_approve = BooleanField("可信用户自动审核通过（认证工程师，及达到下面等级的服务代言人）")
    auto_approve_min_level = IntField("自动审核：服务代言人最低等级（留空则仅工程师）",
                                      validators=[Optional(), NumberRange(0, 1000, "须为 0 到 1000")])
    starts_on = LocalDateField("上架日期（北京时间，当天 0 点起）", validators=[Optional()])
    ends_on = LocalDateField("下架日期（北京时间，当天结束）", validators=[Optional()])
    active = BooleanField("上架", default=True)

    def validate_image_url(self, field):
        if field.data and not field.data.startswith(("https://", "http://", "/")):
            raise ValidationError("请填写以 https:// 开头的图片地址")

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError("下架日期不能早于上架日期")

    def reward_data(self) -> dict:
        data = {f: self[f].data for f in ("name", "cost", "stock", "per_user_limit", "min_level", "auto_approve",
                                           "auto_approve_min_level", "active")}
        data["description"] = (self.description.data or "").strip()
        data["image_url"] = (self.image_url.data or "").strip()
        data["starts_at"] = _day_start(self.starts_on.data) if self.starts_on.data else None
        # The end is exclusive: a reward on offer until 12-31 leaves at 01-01 00:00 Asia/Shanghai.
        data["ends_at"] = _day_start(self.ends_on.data + timedelta(days=1)) if self.ends_on.data else None
        return data


REWARD_FIELD_MAP = {"starts_at": "starts_on", "ends_at": "ends_on"}


@bp.route("/admin/points/rewards")
@admin_only
def rewards():
    page = services.all_rewards(limit=20, cursor=_cursor())
    return render_template("admin/points/rewards.html", nav="rewards", page=page, now=utcnow(),
                           last_day=lambda value: _local_day(value, end=True))


@bp.route("/admin/points/rewards/new", methods=["GET", "POST"])
@admin_only
def reward_new():
    form = RewardForm()
    if form.validate_on_submit():
        done, reward = _apply(lambda: services.create_reward(form.reward_data(), current_user),
                              "奖品已创建", form, REWARD_FIELD_MAP)
        if done:
            return redirect(url_for(".rewards"))
    return render_template("admin/points/reward_form.html", nav="rewards", form=form, reward=None)


@bp.route("/admin/points/rewards/<int:reward_id>", methods=["GET", "POST"])
@admin_only
def reward_edit(reward_id):
    reward = services.get_reward(reward_id)
    form = RewardForm(obj=reward, starts_on=_local_day(reward.starts_at), ends_on=_local_day(reward.ends_at, end=True))
    if form.validate_on_submit():
        done, _ = _apply(lambda: services.update_reward(reward, form.reward_data(), current_user),
                         "奖品已保存", form, REWARD_FIELD_MAP)
        if done:
            return redirect(url_for(".reward_edit", reward_id=reward.id))
    return render_template("admin/points/reward_form.html", nav="rewards", form=form, reward=reward)
