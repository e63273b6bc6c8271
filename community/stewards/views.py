"""Admin console: engineers, their estates and customers, handover; the engineer workbench's
binding code. (The workbench's customer list and each customer's book live in community.book.)"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from community.estates import services as estates
from community.stewards import services
from core import pages
from core.auth import codes_per_ip, codes_per_user

bp = Blueprint("community_stewards_pages", __name__)


class EngineerForm(FlaskForm):
    name = StringField("姓名", validators=[DataRequired(), Length(max=64)])
    phone = StringField("手机号", validators=[DataRequired(), Length(max=20)])
    employee_no = StringField("工号", validators=[DataRequired(), Length(max=32)])


class PasswordForm(FlaskForm):
    password = PasswordField("工作台密码", validators=[DataRequired(), Length(max=256)])


class ReassignForm(FlaskForm):
    target = StringField("接收工程师的工号", validators=[DataRequired(), Length(max=32)])
    estate_id = SelectField("范围", choices=[], validate_choice=False)


@bp.route("/admin/")
@pages.admin_only
def admin_home():
    """The console's overview: estates, engineers, customers, the last day's bindings and visits."""
    return render_template("admin/community/stewards/index.html", nav="admin", counts=services.overview_counts())


@bp.route("/admin/engineers")
@pages.admin_only
def engineers():
    filters = {"q": request.args.get("q") or None, "status": request.args.get("status") or None}
    page = estates.list_engineers(**filters, **pages.cursor_args())
    return render_template("admin/community/stewards/engineers.html", nav="engineers", page=page, filters=filters)


@bp.route("/admin/engineers/new", methods=["GET", "POST"])
@pages.admin_only
def engineer_new():
    form = EngineerForm()
    if form.validate_on_submit():
        done, created = pages.apply(lambda: estates.create_engineer(form.data, actor=current_user), "工程师已创建", form)
        if done:
            engineer, invite = created
            return render_template("admin/community/stewards/engineer_created.html", nav="engineers", engineer=engineer, invite=invite)
    return render_template("admin/community/stewards/engineer_new.html", nav="engineers", form=form)


@bp.route("/admin/engineers/<int:engineer_id>")
@pages.admin_only
def engineer_detail(engineer_id):
    engineer = estates.get_engineer(engineer_id)
    q = request.args.get("q") or None
    candidates = estates.search_estates(q=q, status="active", limit=10).items if q else []
    reassign = ReassignForm()
    reassign.estate_id.choices = [SelectChoice("", "全部客户")] + [SelectChoice(str(e.id), e.name)
                                                                 for e in engineer.estates]
    return render_template("admin/community/stewards/engineer.html", nav="engineers", engineer=engineer, q=q, candidates=candidates,
                           password_form=PasswordForm(), reassign_form=reassign,
                           customers=services.customers_of(current_user, engineer.id, limit=5).items)


@bp.route("/admin/engineers/<int:engineer_id>/estates", methods=["POST"])
@pages.admin_only
def engineer_estates(engineer_id):
    engineer = estates.get_engineer(engineer_id)
    estate_id = request.form.get("estate_id", type=int)
    current = {e.id for e in engineer.estates}
    if request.form.get("action") == "add":
        pages.apply(lambda: estates.set_engineer_estates(engineer, sorted(current | {estate_id}), actor=current_user), "已添加负责小区")
    else:
        pages.apply(lambda: estates.set_engineer_estates(engineer, sorted(current - {estate_id}), actor=current_user), "已移除负责小区")
    return redirect(url_for(".engineer_detail", engineer_id=engineer_id, q=request.form.get("q") or None))


@bp.route("/admin/engineers/<int:engineer_id>/invite", methods=["POST"])
@pages.admin_only
def engineer_invite(engineer_id):
    engineer = estates.get_engineer(engineer_id)
    done, invite = pages.apply(lambda: estates.renew_invite(engineer, actor=current_user), "已生成新的邀请码，旧邀请码作废")
    if done:
        return render_template("admin/community/stewards/engineer_created.html", nav="engineers", engineer=engineer, invite=invite)
    return redirect(url_for(".engineer_detail", engineer_id=engineer_id))


@bp.route("/admin/engineers/<int:engineer_id>/password", methods=["POST"])
@pages.admin_only
def engineer_password(engineer_id):
    engineer = estates.get_engineer(engineer_id)
    form = PasswordForm()
    if form.validate_on_submit():
        pages.apply(lambda: estates.set_engineer_password(engineer, form.password.data, actor=current_user),
               "工作台密码已设置，请告知工程师登录后修改")
    else:
        flash("请输入密码", "error")
    return redirect(url_for(".engineer_detail", engineer_id=engineer_id))


@bp.route("/admin/engineers/<int:engineer_id>/reassign", methods=["POST"])
@pages.admin_only
def engineer_reassign(engineer_id):
    engineer = estates.get_engineer(engineer_id)
    form = ReassignForm()
    if form.validate_on_submit():
        leaving = request.form.get("action") == "deactivate"

        def action():
            target = estates.engineer_by_employee_no(form.target.data.strip())
            if leaving:
                return services.deactivate_engineer(engineer, current_user, target)
            return services.reassign_customers(engineer, target, current_user, int(form.estate_id.data or 0) or None)

        done, moved = pages.apply(action, "工程师已离职" if leaving else "客户已转交")
        if done:
            flash(f"共转交 {moved} 位客户", "info")
    return redirect(url_for(".engineer_detail", engineer_id=engineer_id))


@bp.route("/admin/engineers/<int:engineer_id>/deactivate", methods=["POST"])
@pages.admin_only
def engineer_deactivate(engineer_id):
    """Leave without a successor: customers lose their steward until their next visit."""
    engineer = estates.get_engineer(engineer_id)
    pages.apply(lambda: services.deactivate_engineer(engineer, current_user), "工程师已离职，其客户暂无管家")
    return redirect(url_for(".engineer_detail", engineer_id=engineer_id))


@bp.route("/admin/engineers/<int:engineer_id>/customers")
@pages.staff_only
def engineer_customers(engineer_id):
    engineer = estates.get_engineer(engineer_id)
    estate_id = request.args.get("estate_id", type=int)
    page = services.customers_of(current_user, engineer.id, estate_id=estate_id, **pages.cursor_args())
    return render_template("admin/community/stewards/customers.html", nav="engineers", engineer=engineer, page=page, estate_id=estate_id)


# -- engineer workbench -----------------------------------------------------------------------

class BindingCodeForm(FlaskForm):
    estate_id = SelectField("服务小区", choices=[], coerce=int)
    visit_ref = StringField("工单号（选填）", validators=[Optional(), Length(max=64)])


@bp.route("/engineer/code", methods=["GET", "POST"])
@codes_per_user
@codes_per_ip
@pages.engineer_only
def binding_code():
    engineer = estates.engineer_of(current_user.id)
    form = BindingCodeForm()
    form.estate_id.choices = [SelectChoice(e.id, f"{e.name}（{e.district}）") for e in engineer.estates]
    code = None
    if form.validate_on_submit():
        code = pages.apply(lambda: services.mint_binding_code(engineer, form.estate_id.data, form.visit_ref.data or None),
                      "绑定码已生成，请让住户用微信扫一扫")[1]
    return render_template("engineer/stewards/code.html", nav="code", engineer=engineer, form=form, code=code)
