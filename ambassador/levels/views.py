"""Admin pages for ambassador levels: the levels editor and the level override form.

Pages call the same services as the levels API; each POST commits once or shows the refusal.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ambassador import access
from ambassador.access import PERMISSION_LABELS
from ambassador.levels import services
from ambassador.models import PERMISSIONS, Ambassador
from core import pages
from core.accounts import services as accounts
from core.db import MAX_ID
from core.errors import APIError
from core.extensions import db
from core.formatting import BUSINESS_TZ

bp = Blueprint("ambassador_levels_pages", __name__)


KIND_LABELS = {"join": "加入", "promote": "晋级", "demote": "降级", "override": "人工调整", "suspend": "暂停",
               "reinstate": "恢复", "remove": "移除"}


class LevelForm(FlaskForm):
    code = StringField("代码", validators=[DataRequired("请填写代码"), Length(max=32)])
    name = StringField("名称", validators=[DataRequired("请填写名称"), Length(max=32)])
    position = pages.IntField("顺序", validators=[InputRequired("请填写顺序"), NumberRange(1, 10**6, "须为正整数")])
    threshold = pages.IntField("门槛（窗口内贡献分）",
                         validators=[InputRequired("请填写门槛"), NumberRange(0, services.MAX_THRESHOLD, "不能小于 0")])
    multiplier_pct = pages.IntField("奖励倍数 %", validators=[InputRequired("请填写奖励倍数"),
                                                     NumberRange(1, 1000, "须在 1 到 1000 之间")])
    permissions = pages.Checkboxes("权限", choices=[SelectChoice(p, PERMISSION_LABELS[p]) for p in PERMISSIONS])


class OverrideForm(FlaskForm):
    user_id = pages.IntField("代言人用户 ID", validators=[InputRequired("请填写用户 ID"), NumberRange(1, MAX_ID, "用户 ID 无效")])
    level_id = pages.IntField("调整为", validators=[InputRequired("请选择等级"), NumberRange(1, MAX_ID, "等级无效")])
    reason = StringField("原因", validators=[Optional(), Length(max=255)])
    pin_days = pages.IntField("锁定天数（留空为默认）", validators=[Optional(), NumberRange(1, services.MAX_PIN_DAYS, "天数无效")])


class UnpinForm(FlaskForm):
    user_id = pages.IntField("代言人用户 ID", validators=[InputRequired("请填写用户 ID"), NumberRange(1, MAX_ID, "用户 ID 无效")])


def _level_data(form: LevelForm) -> dict:
    return {f: form[f].data for f in ("code", "name", "position", "threshold", "multiplier_pct")} | {
        "permissions": list(form.permissions.data or [])}


# -- the levels editor ------------------------------------------------------------------------

@bp.route("/admin/ambassador/levels")
@pages.admin_only
def levels_page():
    all_levels = services.list_levels()
    holders = dict(db.session.execute(sa.select(Ambassador.level_id, sa.func.count()).where(
        Ambassador.status == "active").group_by(Ambassador.level_id)).all())
    return render_template("admin/ambassador/levels/levels.html", nav="ambassador_levels", levels=all_levels,
                           holders=holders, permissions=PERMISSIONS, labels=PERMISSION_LABELS,
                           window_days=services.window_days(), grace_days=services.grace_days(), form=LevelForm())


@bp.route("/admin/ambassador/levels/new", methods=["POST"])
@pages.admin_only
def level_create():
    form = LevelForm()
    if form.validate_on_submit():
        pages.apply(lambda: services.create_level(_level_data(form), current_user), f"等级「{form.name.data}」已添加")
    else:
        pages.flash_form_errors(form)
    return redirect(url_for(".levels_page"))


@bp.route("/admin/ambassador/levels/<int:level_id>", methods=["POST"])
@pages.admin_only
def level_update(level_id):
    form = LevelForm()
    if form.validate_on_submit():
        pages.apply(lambda: services.update_level(level_id, _level_data(form), current_user),
               f"等级「{form.name.data}」已保存")
    else:
        pages.flash_form_errors(form)
    return redirect(url_for(".levels_page"))


@bp.route("/admin/ambassador/levels/<int:level_id>/delete", methods=["POST"])
@pages.admin_only
def level_delete(level_id):
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.delete_level(level_id, current_user), "等级已删除")
    return redirect(url_for(".levels_page"))


# -- overrides --------------------------------------------------------------------------------

@bp.route("/admin/ambassador/levels/override")
@pages.admin_only
def override_page():
    user_id, text = pages.id_arg("user_id"), (request.args.get("user") or "").strip()
    ambassador = history = None
    if user_id is None and text:  # typed without the picker's script: a phone, a username, a unique name
        try:
            user_id = accounts.resolve_user(text).id
        except APIError as exc:
            flash(exc.details.get("fields", {}).get("user", [exc.message])[0], "error")
    if user_id is not None:
        ambassador = access.ambassador_of(user_id)
        if ambassador is None:
            flash("该用户不是服务代言人", "error")
        else:
            history = services.level_changes(user_id, limit=20)
    all_levels = services.list_levels()
    form = OverrideForm(data={"user_id": user_id, "level_id": ambassador.level_id if ambassador else None})
    return render_template("admin/ambassador/levels/levels_override.html", nav="ambassador_levels", ambassador=ambassador,
                           history=history or [], levels=all_levels, by_id={lv.id: lv for lv in all_levels},
                           kinds=KIND_LABELS, form=form, unpin=UnpinForm(data={"user_id": user_id}), text=text,
                           default_days=current_app.config["AMBASSADOR_OVERRIDE_DAYS"])


@bp.route("/admin/ambassador/levels/override", methods=["POST"])
@pages.admin_only
def override_submit():
    form = OverrideForm()
    if form.validate_on_submit():
        pages.apply(lambda: services.override_level(form.user_id.data, form.level_id.data, form.reason.data or "",
                                             current_user, pin_days=form.pin_days.data),
               lambda amb: f"已调整为「{services.get_level(amb.level_id).name}」，锁定至 "
                           f"{amb.level_pinned_until.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M}")
    else:
        pages.flash_form_errors(form)
    return redirect(url_for(".override_page", user_id=form.user_id.data) if form.user_id.data
                    else url_for(".override_page"))


@bp.route("/admin/ambassador/levels/unpin", methods=["POST"])
@pages.admin_only
def unpin_submit():
    form = UnpinForm()
    if form.validate_on_submit():
        pages.apply(lambda: services.unpin_level(form.user_id.data, current_user), "已解除锁定，下次评定时按贡献调整等级")
    else:
        pages.flash_form_errors(form)
    return redirect(url_for(".override_page", user_id=form.user_id.data) if form.user_id.data
                    else url_for(".override_page"))
