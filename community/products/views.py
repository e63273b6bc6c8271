"""Admin console: the product catalogue (models), maintenance plans and serial conflicts. Staff
read; admins change the catalogue and plans; agents and admins settle conflicts. The same
services as the JSON API."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from community.products import services
from community.products.models import CATEGORIES
from community.service_types import SERVICE_TYPES
from core import pages
from core.uploads import services as uploads

bp = Blueprint("community_products_pages", __name__)

MONTHS = [SelectChoice("", "不限"), *(SelectChoice(str(m), f"{m} 月") for m in range(1, 13))]


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class ModelForm(FlaskForm):
    code = StringField("型号编码（铭牌上的型号）", validators=[DataRequired("请填写型号编码"), Length(max=64)])
    name = StringField("名称", validators=[DataRequired("请填写名称"), Length(max=128)])
    category = SelectField("品类", choices=_choices(CATEGORIES.items()))
    warranty_months = pages.IntField("保修月数", default=12,
                                     validators=[InputRequired("请填写保修月数"), NumberRange(0, 240, "须为 0–240")])
    active = BooleanField("在售（可供登记时选择）", default=True)


class PlanForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired("请填写名称"), Length(max=64)])
    category = SelectField("品类（整类适用）", choices=_choices([("", "— 按型号 —"), *CATEGORIES.items()]))
    product_model_id = SelectField("或：型号（只对该型号，替代品类中同服务类型的计划）", choices=[])
    service_type = SelectField("服务类型", choices=_choices(SERVICE_TYPES.items()))
    first_due_days = pages.IntField("首次到期：安装后第几天", validators=[
        InputRequired("请填写天数"), NumberRange(0, 3650, "须为 0–3650")])
    interval_months = pages.IntField("之后每隔几个月（留空为只做一次）", validators=[
        Optional(), NumberRange(1, 120, "须为 1–120")])
    after_completion = BooleanField("从上次完成服务起计算（不勾选则按固定周期）", default=True)
    season_start_month = SelectField("季节窗口：开始月", choices=MONTHS)
    season_end_month = SelectField("季节窗口：结束月", choices=MONTHS)
    lead_days = pages.IntField("提前几天提醒住户", default=14, validators=[
        InputRequired("请填写天数"), NumberRange(0, 90, "须为 0–90")])
    description = TextAreaField("告知住户的说明", validators=[Optional(), Length(max=500)])
    active = BooleanField("启用", default=True)

    def plan_data(self) -> dict:
        blank = lambda value: value or None  # noqa: E731  (an empty choice is "none")
        return {"name": self.name.data, "category": blank(self.category.data),
                "product_model_id": int(self.product_model_id.data) if self.product_model_id.data else None,
                "service_type": self.service_type.data, "first_due_days": self.first_due_days.data,
                "interval_months": self.interval_months.data, "after_completion": self.after_completion.data,
                "season_start_month": blank(self.season_start_month.data),
                "season_end_month": blank(self.season_end_month.data), "lead_days": self.lead_days.data,
                "description": self.description.data or "", "active": self.active.data}


def _plan_form(**kwargs) -> PlanForm:
    form = PlanForm(**kwargs)
    form.product_model_id.choices = _choices([("", "— 按品类 —")] + [
        (str(m.id), f"{m.code} {m.name}{'' if m.active else '（已停售）'}") for m in services.all_product_models()])
    return form


# -- product models ---------------------------------------------------------------------------


@bp.route("/admin/products/models")
@pages.staff_only
def models():
    filters = {"q": request.args.get("q") or None, "category": request.args.get("category") or None}
    if filters["category"] and filters["category"] not in CATEGORIES:
        abort(404)
    active = {"1": True, "0": False}.get(request.args.get("active") or "")
    page = services.list_product_models(**filters, active=active, **pages.cursor_args())
    return render_template("admin/community/products/models.html", nav="product_models", page=page,
                           filters={**filters, "active": request.args.get("active") or None}, categories=CATEGORIES)


def _save_model(form: ModelForm, model_id: int | None):
    data = {name: form[name].data for name in ("code", "name", "category", "warranty_months", "active")}
    image = request.files.get("image_file")
    if image is not None and image.filename:
        data["image"] = uploads.store_image(current_user.id, image.read()).name
    elif request.form.get("remove_image"):
        data["image"] = None
    if model_id is None:
        return services.create_product_model(data, current_user)
    return services.update_product_model(model_id, data, current_user)


@bp.route("/admin/products/models/new", methods=["GET", "POST"])
@pages.admin_only
def model_new():
    form = ModelForm()
    if form.validate_on_submit():
        done, model = pages.apply(lambda: _save_model(form, None), "型号已创建", form)
        if done:
            return redirect(url_for(".models", q=model.code))
    return render_template("admin/community/products/model_form.html", nav="product_models", form=form, model=None)


@bp.route("/admin/products/models/<int:model_id>", methods=["GET", "POST"])
@pages.admin_only
def model_edit(model_id):
    model = services.get_product_model(model_id)
    form = ModelForm(obj=model)
    if form.validate_on_submit():
        if pages.apply(lambda: _save_model(form, model.id), "型号已保存", form)[0]:
            return redirect(url_for(".model_edit", model_id=model.id))
    plans = services.list_plans(product_model_id=model.id, limit=100).items
    category_plans = services.list_plans(category=model.category, limit=100).items
    return render_template("admin/community/products/model_form.html", nav="product_models", form=form, model=model,
                           plans=plans, category_plans=category_plans, types=SERVICE_TYPES)


# -- maintenance plans ------------------------------------------------------------------------


@bp.route("/admin/products/plans")
@pages.staff_only
def plans():
    category = request.args.get("category") or None
    if category and category not in CATEGORIES:
        abort(404)
    model_id = pages.id_arg("product_model_id")
    page = services.list_plans(category=category, product_model_id=model_id, **pages.cursor_args())
    models_by_id = {m.id: m for m in services.all_product_models()}
    return render_template("admin/community/products/plans.html", nav="maintenance_plans", page=page,
                           category=category, model_id=model_id, models=models_by_id, categories=CATEGORIES,
                           types=SERVICE_TYPES)


@bp.route("/admin/products/plans/new", methods=["GET", "POST"])
@pages.admin_only
def plan_new():
    form = _plan_form(product_model_id=request.args.get("product_model_id") or "")
    if form.validate_on_submit():
        done, plan = pages.apply(lambda: services.create_plan(form.plan_data(), current_user),
                                 lambda plan: f"保养计划“{plan.name}”已创建，适用的产品已排期", form)
        if done:
            return redirect(url_for(".plans"))
    return render_template("admin/community/products/plan_form.html", nav="maintenance_plans", form=form, plan=None)


@bp.route("/admin/products/plans/<int:plan_id>", methods=["GET", "POST"])
@pages.admin_only
def plan_edit(plan_id):
    plan = services.get_plan(plan_id)
    values = {name: getattr(plan, name) for name in services.PLAN_FIELDS}
    # The selects hold text; an empty choice is "none".
    values.update({name: str(values[name] or "") for name in (
        "category", "product_model_id", "season_start_month", "season_end_month")})
    form = _plan_form(**values)
    if form.validate_on_submit():
        if pages.apply(lambda: services.update_plan(plan.id, form.plan_data(), current_user), "保养计划已保存", form)[0]:
            return redirect(url_for(".plan_edit", plan_id=plan.id))
    return render_template("admin/community/products/plan_form.html", nav="maintenance_plans", form=form, plan=plan)


# -- serial conflicts -------------------------------------------------------------------------


@bp.route("/admin/products/conflicts")
@pages.staff_only
def conflicts():
    status = request.args.get("status") or "open"
    if status not in ("open", "resolved"):
        abort(404)
    page = services.list_conflicts(status=status, **pages.cursor_args())
    return render_template("admin/community/products/conflicts.html", nav="product_conflicts", status=status,
                           page=page, items=services.conflict_details(page.items))


@bp.route("/admin/products/conflicts/<int:conflict_id>/resolve", methods=["POST"])
@pages.staff_only
def conflict_resolve(conflict_id):
    decision = request.form.get("decision") or ""
    words = {"keep": "已维持原主", "move": "已转给申请人", "reject": "已驳回"}
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.resolve_conflict(conflict_id, decision, current_user,
                                                      request.form.get("note") or ""),
                    f"冲突 #{conflict_id} {words.get(decision, '已处理')}")
    return redirect(pages.back(".conflicts"))
