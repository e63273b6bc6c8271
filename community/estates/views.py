"""Admin console: estates, and the agents on duty for them."""
from __future__ import annotations

import tempfile

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from community.estates import services
from core import pages
from core.csvimport import ImportAborted, printable
from core.extensions import db
from core.formatting import mask_phone

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


# -- pickers: the console's search boxes (static/js/autocomplete.js) ---------------------------------

@bp.route("/admin/api/autocomplete/estates")
@pages.staff_only
def autocomplete_estates():
    """A picker's suggestions: the estate of a code, estates whose name starts with the text."""
    return {"items": [{"id": e.id, "label": e.name,
                       "detail": " ".join(filter(None, [e.city, e.district, e.code, "（停用）" if e.status != "active" else ""]))}
                      for e in services.pick_estates(request.args.get("q", ""))]}


ENGINEER_STATUS = {"invited": "待激活", "active": "在职", "left": "已离职"}


@bp.route("/admin/api/autocomplete/engineers")
@pages.staff_only
def autocomplete_engineers():
    """A picker's suggestions: employee number, name prefix, phone or its last 4+ digits."""
    return {"items": [{"id": e.id, "label": e.name,
                       "detail": f"工号 {e.employee_no} · {mask_phone(e.phone)} · {ENGINEER_STATUS.get(e.status, e.status)}"}
                      for e in services.pick_engineers(request.args.get("q", ""))]}


# -- engineers in bulk --------------------------------------------------------------------------

class ErrorLines:
    """The bad lines of a console import, for its result page (the first SHOWN of them)."""

    SHOWN = 500

    def __init__(self):
        self.count, self.lines = 0, []

    def add(self, line: int, key: str, error: str) -> None:
        self.count += 1
        if len(self.lines) < self.SHOWN:
            self.lines.append((line, printable(key or "")[:100], printable(error)))


@bp.route("/admin/engineers/import", methods=["GET", "POST"])
@pages.admin_only
def engineers_import():
    """The same import as `flask engineers import`, from an uploaded file: streamed to a temporary
    file, imported in batches (one commit each), its counts and bad lines shown."""
    form = FlaskForm()
    result = errors = None
    if form.validate_on_submit():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("请选择要导入的 CSV 文件", "error")
        else:
            errors = ErrorLines()
            with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
                upload.save(tmp)  # copied in chunks, never held whole in memory
                tmp.flush()
                encoding = "gb18030" if request.form.get("encoding") == "gb18030" else "utf-8-sig"
                try:
                    result = services.import_engineers_file(tmp.name, encoding=encoding, report=errors,
                                                            actor=current_user)
                except ImportAborted as exc:
                    db.session.rollback()
                    flash(f"无法导入：{exc}", "error")
                    errors = None
    return render_template("admin/community/estates/engineers_import.html", nav="engineers", form=form,
                           result=result, errors=errors, columns=services.ENGINEER_COLUMNS)


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
