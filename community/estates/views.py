"""Admin console: estates, and the agents on duty for them."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from community.estates import services
from core import pages

bp = Blueprint("community_estates_pages", __name__)


class EstateForm(FlaskForm):
    code = StringField("小区编码", validators=[Optional(), Length(max=64)])
    name = StringField("小区名称", validators=[DataRequired(), Length(max=128)])
    province = StringField("省份", validators=[DataRequired(), Length(max=32)])
    city = StringField("城市", validators=[DataRequired(), Length(max=32)])
    district = StringField("区县", validators=[DataRequired(), Length(max=32)])
    address = StringField("地址", validators=[Optional(), Length(max=255)])
    lat = StringField("纬度", validators=[Optional()])
    lng = StringField("经度", validators=[Optional()])
    households = StringField("户数", validators=[Optional()])
    status = SelectField("状态", choices=[SelectChoice("active", "正常"), SelectChoice("inactive", "停用")])


@bp.route("/admin/estates")
@pages.admin_only
def estates():
    filters = {k: request.args.get(k) or None for k in ("q", "province", "city", "district", "status")}
    page = services.search_estates(**filters, **pages.cursor_args())
    return render_template("admin/community/estates/estates.html", nav="estates", page=page, filters=filters)


@bp.route("/admin/estates/new", methods=["GET", "POST"])
@pages.admin_only
def estate_new():
    form = EstateForm()
    if form.validate_on_submit():
        done, estate = pages.apply(lambda: services.create_estate(form.data, actor=current_user), "小区已创建", form)
        if done:
            return redirect(url_for(".estates", q=estate.name))
    return render_template("admin/community/estates/estate_form.html", nav="estates", form=form, estate=None)


@bp.route("/admin/estates/<int:estate_id>", methods=["GET", "POST"])
@pages.admin_only
def estate_edit(estate_id):
    estate = services.get_estate(estate_id)
    form = EstateForm(obj=estate)
    if form.validate_on_submit():
        if pages.apply(lambda: services.update_estate(estate, form.data, actor=current_user), "小区已保存", form)[0]:
            return redirect(url_for(".estate_edit", estate_id=estate.id))
    engineers = services.list_engineers(estate_id=estate.id, limit=100).items
    return render_template("admin/community/estates/estate_form.html", nav="estates", form=form, estate=estate, engineers=engineers)


# -- agents on duty -----------------------------------------------------------------------------

class DutyForm(FlaskForm):
    user_id = SelectField("客服", choices=[], coerce=int, validate_choice=False)
    city = StringField("城市", validators=[DataRequired("请填写城市"), Length(max=services.DUTY_FIELD_MAX)])
    district = StringField("区县（留空为全市）", validators=[Optional(), Length(max=services.DUTY_FIELD_MAX)])


@bp.route("/admin/duties", methods=["GET", "POST"])
@pages.admin_only
def duties():
    """Which agents are on duty for which cities and districts: they hear of customers turning red."""
    form = DutyForm()
    agents = services.active_agents()
    form.user_id.choices = [SelectChoice(u.id, u.display_name or u.username or f"客服 #{u.id}") for u in agents]
    if form.validate_on_submit():
        done, _ = pages.apply(lambda: services.add_agent_duty(form.user_id.data, form.city.data, form.district.data,
                                                              actor=current_user), "值班安排已添加", form)
        if done:
            return redirect(url_for(".duties"))
    duties = services.agent_duties()
    return render_template("admin/community/estates/duties.html", nav="duties", form=form, duties=duties,
                           users=pages.users(d.user_id for d in duties), agents=agents)


@bp.route("/admin/duties/<int:duty_id>/delete", methods=["POST"])
@pages.admin_only
def duty_delete(duty_id):
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.remove_agent_duty(duty_id, actor=current_user), "值班安排已移除")
    return redirect(url_for(".duties"))
