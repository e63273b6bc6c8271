"""Admin console for points: the redemption queue, a user's ledger, earning rules, rewards.

Pages call the same services as the admin JSON API; each POST commits once or shows the refusal.
CSRF is checked on every POST by CSRFProtect (core.extensions).
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core import pages
from core.accounts import services as accounts
from core.accounts.models import User
from core.db import utcnow
from core.formatting import BUSINESS_TZ
from points import rules, services
from points.models import REDEMPTION_STATUSES
from points.schemas import MAX_POINTS

bp = Blueprint("points_pages", __name__)
# Ledger kinds as admins read them; earning-rule kinds are labelled with the rule's name.
KIND_LABELS = {**rules.LEDGER_NAMES, **rules.GRANT_NAMES}
NOT_REVERSIBLE = frozenset({"hold", "release", "settle", "reverse"})
REFUSALS = {"redemption_already_decided": "已被处理", "redemption_not_found": "不存在",
            "validation_error": "信息不完整", "insufficient_points": "积分不足"}


# -- helpers ----------------------------------------------------------------------------------

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
@pages.admin_only
def redemptions():
    status = request.args.get("status") or "pending"
    if status != "all" and status not in REDEMPTION_STATUSES:
        status = "pending"
    page = services.list_redemptions(status=None if status == "all" else status, limit=20, cursor=pages.cursor())
    return render_template("admin/points/redemptions.html", nav="redemptions", page=page, status=status,
                           filters=STATUS_FILTERS, users=pages.users(r.user_id for r in page.items))


REDEMPTIONS_BULK = pages.BulkPage(
    noun="兑换申请", unit="条", reject_verb="拒绝", approve_note="冻结的积分随即扣除，通过后不能撤销。",
    reject_note="冻结的积分退回住户，库存恢复。", reason_reader="住户", time_label="申请时间",
    rows="admin/points/_redemption_rows.html", get=services.get_redemption, decide_many=services.decide_many,
    refusals=REFUSALS, nav="redemptions", queue="points_pages.redemptions",
    context=lambda items: {"users": pages.users(r.user_id for r in items)})


@bp.route("/admin/points/redemptions/bulk", methods=["POST"])
@pages.admin_only
def redemptions_bulk():
    """Bulk approve or reject: the first POST shows what will happen, the confirmed one does it."""
    return pages.bulk_decide(REDEMPTIONS_BULK)


@bp.route("/admin/points/redemptions/<int:redemption_id>")
@pages.admin_only
def redemption_detail(redemption_id):
    redemption = services.get_redemption(redemption_id)
    users = pages.users([redemption.user_id, redemption.decided_by_id, *(e.actor_id for e in redemption.events)])
    return render_template("admin/points/redemption.html", nav="redemptions", r=redemption, users=users)


@bp.route("/admin/points/redemptions/<int:redemption_id>/approve", methods=["POST"])
@pages.admin_only
def redemption_approve(redemption_id):
    pages.apply(lambda: services.approve(redemption_id, current_user), f"兑换 #{redemption_id} 已通过，积分已扣除")
    return redirect(pages.back(".redemption_detail", redemption_id=redemption_id))


@bp.route("/admin/points/redemptions/<int:redemption_id>/reject", methods=["POST"])
@pages.admin_only
def redemption_reject(redemption_id):
    pages.apply(lambda: services.reject(redemption_id, current_user, request.form.get("reason", "")),
           f"兑换 #{redemption_id} 已拒绝，积分和库存已退回")
    return redirect(pages.back(".redemption_detail", redemption_id=redemption_id))


@bp.route("/admin/points/redemptions/<int:redemption_id>/fulfil", methods=["POST"])
@pages.admin_only
def redemption_fulfil(redemption_id):
    pages.apply(lambda: services.fulfil(redemption_id, current_user, request.form.get("note", "")),
           f"兑换 #{redemption_id} 已标记为已发放")
    return redirect(pages.back(".redemption_detail", redemption_id=redemption_id))


# -- a user's ledger --------------------------------------------------------------------------

class AdjustForm(FlaskForm):
    direction = SelectField("操作", choices=[SelectChoice("grant", "发放（增加积分）"),
                                             SelectChoice("deduct", "扣除（减少积分）")])
    amount = pages.IntField("积分数量", validators=[InputRequired("请填写积分数量"),
                                           NumberRange(1, MAX_POINTS, "须为 1 到 10 亿之间的整数")])
    reason = StringField("原因（必填，将记入审计日志）", validators=[DataRequired("请填写原因"), Length(max=255)])
    # A one-time key per rendered form: a double-submitted form posts once (services.adjust's key).
    key = HiddenField()


@bp.route("/admin/points/users")
@pages.admin_only
def user_lookup():
    q = (request.args.get("q") or "").strip()
    found = []
    if (user_id := pages.id_arg("user_id")) is not None:  # chosen in the picker
        return redirect(url_for(".user_ledger", user_id=user_id))
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
                           page=services.entries(user.id, limit=20, cursor=pages.cursor()),
                           redemptions=services.redemptions_of(user.id, limit=5).items, labels=labels,
                           not_reversible=NOT_REVERSIBLE)


@bp.route("/admin/points/users/<int:user_id>")
@pages.admin_only
def user_ledger(user_id):
    return _ledger_page(accounts.get_user(user_id), AdjustForm())


@bp.route("/admin/points/users/<int:user_id>/adjust", methods=["POST"])
@pages.admin_only
def user_adjust(user_id):
    user = accounts.get_user(user_id)
    form = AdjustForm()
    if form.validate_on_submit():
        amount = form.amount.data if form.direction.data == "grant" else -form.amount.data
        done, posted = pages.apply(lambda: services.adjust(user.id, amount, form.reason.data, current_user,
                                                      key=form.key.data or None),
                              f"已{'发放' if amount > 0 else '扣除'} {abs(amount)} 积分", form)
        if done:
            if not posted.created:
                flash("这次调整此前已提交过，未重复记账", "info")
            return redirect(url_for(".user_ledger", user_id=user.id))
    return _ledger_page(user, form)


@bp.route("/admin/points/transactions/<int:transaction_id>/reverse", methods=["POST"])
@pages.admin_only
def transaction_reverse(transaction_id):
    done, posted = pages.apply(lambda: services.reverse_transaction(transaction_id, request.form.get("reason", ""),
                                                               current_user), "")
    if done:
        if posted.created:
            flash(f"流水 #{transaction_id} 已冲正", "success")
        else:
            flash(f"流水 #{transaction_id} 此前已冲正，未重复操作", "info")
    return redirect(pages.back(".user_lookup"))


# -- earning rules ----------------------------------------------------------------------------

class RuleForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired("请填写名称"), Length(max=64)])
    points = pages.IntField("每次积分", validators=[InputRequired("请填写积分"), NumberRange(0, MAX_POINTS, "不能小于 0")])
    daily_cap = pages.IntField("每日上限", validators=[Optional(), NumberRange(0, MAX_POINTS, "不能小于 0")])
    lifetime_cap = pages.IntField("累计上限", validators=[Optional(), NumberRange(0, MAX_POINTS, "不能小于 0")])
    enabled = BooleanField("启用")


@bp.route("/admin/points/rules")
@pages.admin_only
def rules():
    return render_template("admin/points/rules.html", nav="rules", rules=services.rules())


@bp.route("/admin/points/rules/<kind>", methods=["POST"])
@pages.admin_only
def rule_update(kind):
    form = RuleForm()
    if form.validate_on_submit():
        data = {f: form[f].data for f in ("name", "points", "daily_cap", "lifetime_cap", "enabled")}
        pages.apply(lambda: services.update_rule(kind, data, current_user), f"积分规则“{form.name.data}”已保存")
    else:
        pages.flash_form_errors(form)
    return redirect(url_for(".rules"))


# -- rewards ----------------------------------------------------------------------------------

class RewardForm(FlaskForm):
    name = StringField("奖品名称", validators=[DataRequired("请填写奖品名称"), Length(max=64)])
    description = TextAreaField("说明", validators=[Optional(), Length(max=1000)])
    image_url = StringField("图片地址", validators=[Optional(), Length(max=500)])
    cost = pages.IntField("所需积分", validators=[InputRequired("请填写所需积分"), NumberRange(1, MAX_POINTS, "须大于 0")])
    stock = pages.IntField("剩余库存（留空为不限）", validators=[Optional(), NumberRange(0, MAX_POINTS, "不能小于 0")])
    per_user_limit = pages.IntField("每人限兑（留空为不限）", validators=[Optional(), NumberRange(1, MAX_POINTS, "须大于 0")])
    min_level = pages.IntField("兑换范围：服务代言人最低等级（留空为所有人）",
                         validators=[Optional(), NumberRange(0, 1000, "须为 0 到 1000")])
    offer_only = BooleanField("仅限投放的小区")
    auto_approve = BooleanField("可信用户自动审核通过（认证工程师，及达到下面等级的服务代言人）")
    auto_approve_min_level = pages.IntField("自动审核：服务代言人最低等级（留空则仅工程师）",
                                      validators=[Optional(), NumberRange(0, 1000, "须为 0 到 1000")])
    starts_on = pages.LocalDateField("上架日期（北京时间，当天 0 点起）", validators=[Optional()])
    ends_on = pages.LocalDateField("下架日期（北京时间，当天结束）", validators=[Optional()])
    active = BooleanField("上架", default=True)

    def validate_image_url(self, field):
        if field.data and not field.data.startswith(("https://", "http://", "/")):
            raise ValidationError("请填写以 https:// 开头的图片地址")

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError("下架日期不能早于上架日期")

    def reward_data(self) -> dict:
        data = {f: self[f].data for f in ("name", "cost", "stock", "per_user_limit", "min_level", "offer_only",
                                           "auto_approve", "auto_approve_min_level", "active")}
        data["description"] = (self.description.data or "").strip()
        data["image_url"] = (self.image_url.data or "").strip()
        data["starts_at"] = _day_start(self.starts_on.data) if self.starts_on.data else None
        # The end is exclusive: a reward on offer until 12-31 leaves at 01-01 00:00 Asia/Shanghai.
        data["ends_at"] = _day_start(self.ends_on.data + timedelta(days=1)) if self.ends_on.data else None
        return data


REWARD_FIELD_MAP = {"starts_at": "starts_on", "ends_at": "ends_on"}


@bp.route("/admin/points/rewards")
@pages.admin_only
def rewards():
    page = services.all_rewards(limit=20, cursor=pages.cursor())
    return render_template("admin/points/rewards.html", nav="rewards", page=page, now=utcnow(),
                           last_day=lambda value: _local_day(value, end=True))


@bp.route("/admin/points/rewards/new", methods=["GET", "POST"])
@pages.admin_only
def reward_new():
    form = RewardForm()
    if form.validate_on_submit():
        done, reward = pages.apply(lambda: services.create_reward(form.reward_data(), current_user),
                              "奖品已创建", form, field_map=REWARD_FIELD_MAP)
        if done:
            return redirect(url_for(".rewards"))
    return render_template("admin/points/reward_form.html", nav="rewards", form=form, reward=None)


@bp.route("/admin/points/rewards/<int:reward_id>", methods=["GET", "POST"])
@pages.admin_only
def reward_edit(reward_id):
    reward = services.get_reward(reward_id)
    form = RewardForm(obj=reward, starts_on=_local_day(reward.starts_at), ends_on=_local_day(reward.ends_at, end=True))
    if form.validate_on_submit():
        done, _ = pages.apply(lambda: services.update_reward(reward, form.reward_data(), current_user),
                         "奖品已保存", form, field_map=REWARD_FIELD_MAP)
        if done:
            return redirect(url_for(".reward_edit", reward_id=reward.id))
    return render_template("admin/points/reward_form.html", nav="rewards", form=form, reward=reward)
