"""Admin console (estates, engineers, their customers) and the engineer workbench.

Pages call the same services as the JSON API; each POST commits once or shows the refusal.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from community import services
from core.accounts.auth import page_roles_required
from core.errors import APIError
from core.extensions import db

bp = Blueprint("community_pages", __name__)
admin_only = page_roles_required("admin")
engineer_only = page_roles_required("engineer")


def _cursor_args() -> dict:
    return {"limit": 20, "cursor": request.args.get("cursor") or None}


def _apply(action, success: str, form: FlaskForm | None = None) -> tuple[bool, object]:
    """Run a service call and commit; on refusal roll back and show why (on the form's fields when it can).

    Returns (done, the action's result).
    """
    try:
        result = action()
        db.session.commit()
    except APIError as exc:
        db.session.rollback()
        fields = exc.details.get("fields", {})
        placed = False
        for name, messages in fields.items():
            if form is not None and name in form:
                form[name].errors = list(form[name].errors) + list(messages)
                placed = True
        if not placed:
            flash(exc.message, "error")
        return False, None
    flash(success, "success")
    return True, result


# -- admin: overview --------------------------------------------------------------------------

@bp.route("/admin/")
@admin_only
def admin_home():
    return render_template("admin/index.html", nav="admin", counts=services.overview_counts())


# -- admin: estates ---------------------------------------------------------------------------

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
@admin_only
def estates():
    filters = {k: request.args.get(k) or None for k in ("q", "province", "city", "district", "status")}
    page = services.search_estates(**filters, **_cursor_args())
    return render_template("admin/estates.html", nav="estates", page=page, filters=filters)


@bp.route("/admin/estates/new", methods=["GET", "POST"])
@admin_only
def estate_new():
    form = EstateForm()
    if form.validate_on_submit():
        done, estate = _apply(lambda: services.create_estate(form.data, actor=current_user), "小区已创建", form)
        if done:
            return redirect(url_for(".estates", q=estate.name))
    return render_template("admin/estate_form.html", nav="estates", form=form, estate=None)


@bp.route("/admin/estates/<int:estate_id>", methods=["GET", "POST"])
@admin_only
def estate_edit(estate_id):
    estate = services.get_estate(estate_id)
    form = EstateForm(obj=estate)
    if form.validate_on_submit():
        if _apply(lambda: services.update_estate(estate, form.data, actor=current_user), "小区已保存", form)[0]:
            return redirect(url_for(".estate_edit", estate_id=estate.id))
    engineers = services.list_engineers(estate_id=estate.id, limit=100).items
    return render_template("admin/estate_form.html", nav="estates", form=form, estate=estate, engineers=engineers)


# -- admin: engineers -------------------------------------------------------------------------

class EngineerForm(FlaskForm):
    name = StringField("姓名", validators=[DataRequired(), Length(max=64)])
    phone = StringField("手机号", validators=[DataRequired(), Length(max=20)])
    employee_no = StringField("工号", validators=[DataRequired(), Length(max=32)])


class PasswordForm(FlaskForm):
    password = PasswordField("工作台密码", validators=[DataRequired(), Length(max=256)])


class ReassignForm(FlaskForm):
    target = StringField("接收工程师的工号", validators=[DataRequired(), Length(max=32)])
    estate_id = SelectField("范围", choices=[], validate_choice=False)


@bp.route("/admin/engineers")
@admin_only
def engineers():
    filters = {"q": request.args.get("q") or None, "status": request.args.get("status") or None}
    page = services.list_engineers(**filters, **_cursor_args())
    return render_template("admin/engineers.html", nav="engineers", page=page, filters=filters)


@bp.route("/admin/engineers/new", methods=["GET", "POST"])
@admin_only
def engineer_new():
    form = EngineerForm()
    if form.validate_on_submit():
        done, created = _apply(lambda: services.create_engineer(form.data, actor=current_user), "工程师已创建", form)
        if done:
            engineer, invite = created
            return render_template("admin/engineer_created.html", nav="engineers", engineer=engineer, invite=invite)
    return render_template("admin/engineer_new.html", nav="engineers", form=form)


@bp.route("/admin/engineers/<int:engineer_id>")
@admin_only
def engineer_detail(engineer_id):
    engineer = services.get_engineer(engineer_id)
    q = request.args.get("q") or None
    candidates = services.search_estates(q=q, status="active", limit=10).items if q else []
    reassign = ReassignForm()
    reassign.estate_id.choices = [SelectChoice("", "全部客户")] + [SelectChoice(str(e.id), e.name)
                                                                 for e in engineer.estates]
    return render_template("admin/engineer.html", nav="engineers", engineer=engineer, q=q, candidates=candidates,
                           password_form=PasswordForm(), reassign_form=reassign,
                           customers=services.customers_of(engineer, limit=5).items)


@bp.route("/admin/engineers/<int:engineer_id>/estates", methods=["POST"])
@admin_only
def engineer_estates(engineer_id):
    engineer = services.get_engineer(engineer_id)
    estate_id = request.form.get("estate_id", type=int)
    current = {e.id for e in engineer.estates}
    if request.form.get("action") == "add":
        _apply(lambda: services.set_engineer_estates(engineer, sorted(current | {estate_id}), actor=current_user), "已添加负责小区")
    else:
        _apply(lambda: services.set_engineer_estates(engineer, sorted(current - {estate_id}), actor=current_user), "已移除负责小区")
    return redirect(url_for(".engineer_detail", engineer_id=engineer_id, q=request.form.get("q") or None))


@bp.route("/admin/engineers/<int:engineer_id>/invite", methods=["POST"])
@admin_only
def engineer_invite(engineer_id):
    engineer = services.get_engineer(engineer_id)
    done, invite = _apply(lambda: services.renew_invite(engineer, actor=current_user), "已生成新的邀请码，旧邀请码作废")
    if done:
        return render_template("admin/engineer_created.html", nav="engineers", engineer=engineer, invite=invite)
    return redirect(url_for(".engineer_detail", engineer_id=engineer_id))


@bp.route("/admin/engineers/<int:engineer_id>/password", methods=["POST"])
@admin_only
def engineer_password(engineer_id):
    engineer = services.get_engineer(engineer_id)
    form = PasswordForm()
    if form.validate_on_submit():
        _apply(lambda: services.set_engineer_password(engineer, form.password.data, actor=current_user),
               "工作台密码已设置，请告知工程师登录后修改")
    else:
        flash("请输入密码", "error")
    return redirect(url_for(".engineer_detail", engineer_id=engineer_id))


@bp.route("/admin/engineers/<int:engineer_id>/reassign", methods=["POST"])
@admin_only
def engineer_reassign(engineer_id):
    engineer = services.get_engineer(engineer_id)
    form = ReassignForm()
    if form.validate_on_submit():
        leaving = request.form.get("action") == "deactivate"

        def action():
            target = services.engineer_by_employee_no(form.target.data.strip())
            if leaving:
                return services.deactivate_engineer(engineer, current_user, target)
            return services.reassign_customers(engineer, target, current_user, int(form.estate_id.data or 0) or None)

        done, moved = _apply(action, "工程师已离职" if leaving else "客户已转交")
        if done:
            flash(f"共转交 {moved} 位客户", "info")
    return redirect(url_for(".engineer_detail", engineer_id=engineer_id))


@bp.route("/admin/engineers/<int:engineer_id>/deactivate", methods=["POST"])
@admin_only
def engineer_deactivate(engineer_id):
    """Leave without a successor: customers lose their steward until their next visit."""
    engineer = services.get_engineer(engineer_id)
    _apply(lambda: services.deactivate_engineer(engineer, current_user), "工程师已离职，其客户暂无管家")
    return redirect(url_for(".engineer_detail", engineer_id=engineer_id))


@bp.route("/admin/engineers/<int:engineer_id>/customers")
@admin_only
def engineer_customers(engineer_id):
    engineer = services.get_engineer(engineer_id)
    estate_id = request.args.get("estate_id", type=int)
    page = services.customers_of(engineer, estate_id=estate_id, **_cursor_args())
    return render_template("admin/customers.html", nav="engineers", engineer=engineer, page=page, estate_id=estate_id)


# -- engineer workbench -----------------------------------------------------------------------

class BindingCodeForm(FlaskForm):
    estate_id = SelectField("服务小区", choices=[], coerce=int)
    visit_ref = StringField("工单号（选填）", validators=[Optional(), Length(max=64)])


@bp.route("/engineer/")
@engineer_only
def workbench():
    engineer = services.engineer_of(current_user.id)
    estate_id = request.args.get("estate_id", type=int)
    page = services.customers_of(engineer, estate_id=estate_id, **_cursor_args())
    return render_template("engineer/index.html", nav="customers", engineer=engineer, page=page, estate_id=estate_id)


@bp.route("/engineer/customers/<int:user_id>")
@engineer_only
def customer(user_id):
    detail = services.customer_of(services.engineer_of(current_user.id), user_id)
    return render_template("engineer/customer.html", nav="customers", detail=detail)


@bp.route("/engineer/code", methods=["GET", "POST"])
@engineer_only
def binding_code():
    engineer = services.engineer_of(current_user.id)
    form = BindingCodeForm()
    form.estate_id.choices = [SelectChoice(e.id, f"{e.name}（{e.district}）") for e in engineer.estates]
    code = None
    if form.validate_on_submit():
        code = _apply(lambda: services.mint_binding_code(engineer, form.estate_id.data, form.visit_ref.data or None),
                      "绑定码已生成，请让住户用微信扫一扫")[1]
    return render_template("engineer/code.html", nav="code", engineer=engineer, form=form, code=code)
