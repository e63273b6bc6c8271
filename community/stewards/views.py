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
from community.stats import services as stats
from community.stewards import services
from core import charts, pages, signals
from core.auth import codes_per_ip, codes_per_user

bp = Blueprint("community_stewards_pages", __name__)


class EngineerForm(FlaskForm):
    name = StringField("姓名", validators=[DataRequired(), Length(max=64)])
    phone = StringField("手机号", validators=[DataRequired(), Length(max=20)])
    employee_no = StringField("工号", validators=[DataRequired(), Length(max=32)])


class PasswordForm(FlaskForm):
    password = PasswordField("工作台密码", validators=[DataRequired(), Length(max=256)])


class ReassignForm(FlaskForm):
    target = StringField("接收工程师（姓名、工号或手机号）", validators=[DataRequired("请选择接收工程师"), Length(max=64)],
                         render_kw={"data-autocomplete": "engineers", "data-target": "target_id", "type": "search"})
    estate_id = SelectField("范围", choices=[], validate_choice=False)


@bp.route("/admin/")
@pages.staff_only
def admin_home():
    """The console's home: the work waiting for this reader (every feature answers
    core.signals.work_waiting with the queues they may work) and their scope at a glance, drawn
    from the statistics' rollups (community.stats.services.overview), never from a scan."""
    who = pages.principal()
    scope = stats.scope_for(who, request.args.get("city"), request.args.get("district"))
    data = stats.overview(city=scope["city"], district=scope["district"])
    days = data["bindings_per_day"]
    months = data["months"]
    return render_template(
        "admin/community/stewards/index.html", nav="admin", scope=scope, data=data,
        queues=signals.collect(signals.work_waiting, who=who),
        cities=stats.cities() if not scope["duties"] else sorted({c for c, _ in scope["duties"]}),
        bindings_chart=charts.bar_chart([d["label"] for d in days], [d["value"] for d in days]),
        months_chart=charts.line_chart([m["label"][2:] for m in months], [
            ("每千户订单", "orders", [m["orders_per_1000"] for m in months]),
            ("每千户投诉", "complaints", [m["complaints_per_1000"] for m in months])]))


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
            target = pages.picked("target", estates.get_engineer, estates.resolve_engineer)
            if leaving:
                return services.deactivate_engineer(engineer, current_user, target)
            return services.reassign_customers(engineer, target, current_user, int(form.estate_id.data or 0) or None)

        done, outcome = pages.apply(action, "工程师已离职" if leaving else "已发起客户交接")
        if done:
            flash(handover_summary(outcome), "info")
    return redirect(url_for(".engineer_detail", engineer_id=engineer_id))


def handover_summary(outcome: services.HandoverOutcome) -> str:
    text = f"已向 {outcome.moved} 位客户发出管家变更通知，24 小时内未拒绝即生效"
    skipped = outcome.skipped
    if skipped["limit"] or skipped["pending"]:
        text += f"；{skipped['limit'] + skipped['pending']} 位未转交（90 天内已交接 2 次：{skipped['limit']} 位，" \
                f"已有待处理的变更：{skipped['pending']} 位）"
    if outcome.ended:
        text += f"；{outcome.ended} 位客户暂无管家，直到下次上门扫码"
    return text


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


# -- the handover queue -----------------------------------------------------------------------

HANDOVER_TABS = {"request": "待审核申请", "pending": "交接中", "completed": "已生效", "refused": "住户拒绝",
                 "rejected": "已驳回", "cancelled": "已取消", "all": "全部"}


class RejectForm(FlaskForm):
    reason = StringField("驳回原因", validators=[DataRequired(), Length(max=200)])


@bp.route("/admin/handovers")
@pages.staff_only
def handovers():
    """Changes of steward: residents' change requests to decide, handovers waiting or decided."""
    tab = request.args.get("tab") if request.args.get("tab") in HANDOVER_TABS else "request"
    filters = {"status": "pending", "kind": "request"} if tab == "request" else {
        "status": None if tab == "all" else tab}
    engineer_id = pages.id_arg("engineer_id")
    engineer = estates.get_engineer(engineer_id) if engineer_id else None
    page = services.list_handovers(**filters, engineer_id=engineer_id, **pages.cursor_args())
    return render_template("admin/community/stewards/handovers.html", nav="handovers", page=page, tab=tab,
                           tabs=HANDOVER_TABS, engineer=engineer, reject_form=RejectForm(),
                           kinds=services.KIND_LABELS, statuses=services.STATUS_LABELS)


@bp.route("/admin/handovers/<int:handover_id>/approve", methods=["POST"])
@pages.staff_only
def handover_approve(handover_id):
    pages.apply(lambda: services.approve_request(current_user, handover_id), "已通过，住户的管家已更换")
    return redirect(pages.back(".handovers"))


@bp.route("/admin/handovers/<int:handover_id>/reject", methods=["POST"])
@pages.staff_only
def handover_reject(handover_id):
    form = RejectForm()
    if form.validate_on_submit():
        pages.apply(lambda: services.reject_request(current_user, handover_id, form.reason.data), "已驳回该申请")
    else:
        flash("请填写驳回原因", "error")
    return redirect(pages.back(".handovers"))


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
