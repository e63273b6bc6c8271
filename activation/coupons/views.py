"""Admin console for coupons: templates (list, create, edit, pause/resume/end), a template's figures
with grants to users or estates, and the per-estate report with its CSV. The same services as the
admin JSON API; each POST commits once or shows the refusal."""
from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from activation.coupons import services
from activation.coupons.models import TEMPLATE_STATUSES
from core import pages
from core.db import MAX_ID
from core.errors import APIError

bp = Blueprint("activation_coupons_pages", __name__)

# The service's fields in fen, the form's in yuan.
FIELD_MAP = {"amount_fen": "amount_yuan", "cap_fen": "cap_yuan", "min_spend_fen": "min_spend_yuan"}


def _yuan_field(label: str) -> DecimalField:
    return DecimalField(label, places=2, validators=[Optional(), NumberRange(0, 100000, "须在 0 到 10 万元之间")])


def _fen(value: Decimal | None) -> int | None:
    return None if value is None else int((value * 100).quantize(Decimal(1), ROUND_HALF_UP))


def _as_yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen) / 100


class TemplateForm(FlaskForm):
    name = StringField("名称（住户可见）", validators=[DataRequired("请填写优惠券名称"), Length(max=64)])
    description = TextAreaField("使用说明", validators=[Optional(), Length(max=500)])
    kind = SelectField("优惠方式", choices=[SelectChoice("amount", "满减 / 立减"), SelectChoice("percent", "折扣")])
    amount_yuan = _yuan_field("减免金额（元，满减券）")
    percent_off = pages.IntField("折扣（%，折扣券：15 表示打八五折）", validators=[Optional()])
    cap_yuan = _yuan_field("最高减免（元，折扣券必填）")
    min_spend_yuan = _yuan_field("使用门槛：订单满（元，留空为无门槛）")
    service_types = pages.Checkboxes("适用服务（都不选为全部服务）",
                                     choices=[SelectChoice(k, v) for k, v in services.SERVICE_TYPES.items()])
    validity = RadioField("有效期", choices=[SelectChoice("days", "领取后若干天内有效"), SelectChoice("fixed", "固定日期")],
                          default="days")
    valid_days = pages.IntField("领取后有效天数", validators=[Optional()])
    valid_from = pages.LocalDateField("开始日期", validators=[Optional()])
    valid_until = pages.LocalDateField("结束日期（当天有效）", validators=[Optional()])
    total_stock = pages.IntField("总库存（张，留空为不限）", validators=[Optional()])
    per_user_limit = pages.IntField("每人限领（张）", default=1, validators=[Optional()])
    claimable = BooleanField("住户可在小程序领取（需通过“千区千面”投放到小区）")
    auto_issue = SelectField("自动发放", choices=[SelectChoice("", "不自动发放")] + [
        SelectChoice(k, v) for k, v in services.AUTO_ISSUE_LABELS.items()], default="")
    partner_id = SelectField("合作伙伴（仅限其服务使用）", coerce=lambda v: int(v) if v not in (None, "", "None") else None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner_id.choices = [SelectChoice(None, "不限（平台券）")] + [
            SelectChoice(pid, name) for pid, name in services.partner_choices()]

    def template_data(self) -> dict:
        fixed = self.validity.data == "fixed"
        return {"name": self.name.data, "description": self.description.data or "", "kind": self.kind.data,
                "amount_fen": _fen(self.amount_yuan.data), "percent_off": self.percent_off.data,
                "cap_fen": _fen(self.cap_yuan.data), "min_spend_fen": _fen(self.min_spend_yuan.data) or 0,
                "service_types": self.service_types.data or [],
                "valid_days": None if fixed else self.valid_days.data,
                "valid_from": self.valid_from.data if fixed else None,
                "valid_until": self.valid_until.data if fixed else None,
                "total_stock": self.total_stock.data, "per_user_limit": self.per_user_limit.data,
                "claimable": self.claimable.data, "auto_issue": self.auto_issue.data or None,
                "partner_id": self.partner_id.data}


def _form_for(template) -> TemplateForm:
    return TemplateForm(obj=template, amount_yuan=_as_yuan(template.amount_fen), cap_yuan=_as_yuan(template.cap_fen),
                        min_spend_yuan=_as_yuan(template.min_spend_fen) if template.min_spend_fen else None,
                        validity="days" if template.valid_days else "fixed", auto_issue=template.auto_issue or "")


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


def _report_filters(template_id: int | None) -> dict:
    return {"template_id": template_id, "q": (request.args.get("q") or "").strip()[:64] or None,
            "city": (request.args.get("city") or "").strip()[:32] or None,
            "start": _date_arg("from"), "end": _date_arg("to")}


def _report(filters: dict) -> dict:
    try:
        return services.report(**filters, limit=50, cursor=pages.cursor())
    except APIError as exc:  # a period the report refuses: say why, show all time
        flash(exc.message, "error")
        filters.update(start=None, end=None)
        return services.report(**filters, limit=50)


def _csv(filters: dict, name: str) -> Response:
    try:
        body = services.report_csv(**filters)
    except APIError as exc:
        flash(exc.message, "error")
        return redirect(request.referrer or url_for(".templates"))
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


# -- templates --------------------------------------------------------------------------------

@bp.route("/admin/coupons")
@pages.admin_only
def templates():
    status = request.args.get("status") or None
    if status not in (None, *TEMPLATE_STATUSES):
        abort(404)
    q = (request.args.get("q") or "").strip()[:64] or None
    page = services.list_templates(status=status, q=q, **pages.cursor_args())
    return render_template("admin/activation/coupons/templates.html", nav="coupons", page=page,
                           views=services.template_views(page.items), status=status, q=q,
                           statuses=services.TEMPLATE_STATUS_LABELS, yuan=services.yuan)


@bp.route("/admin/coupons/new", methods=["GET", "POST"])
@pages.admin_only
def template_new():
    form = TemplateForm()
    if form.validate_on_submit():
        done, template = pages.apply(lambda: services.create_template(form.template_data(), current_user),
                                     "优惠券已创建，开始发放", form, field_map=FIELD_MAP)
        if done:
            return redirect(url_for(".template_detail", template_id=template.id))
    return render_template("admin/activation/coupons/form.html", nav="coupons", form=form, template=None)


@bp.route("/admin/coupons/<int:template_id>/edit", methods=["GET", "POST"])
@pages.admin_only
def template_edit(template_id):
    template = services.get_template(template_id)
    if template.status == "ended":
        flash("优惠券已结束发放，不能再修改", "error")
        return redirect(url_for(".template_detail", template_id=template.id))
    form = _form_for(template)
    if form.validate_on_submit():
        data = form.template_data()
        if template.issued:  # the terms are shown, not posted, once coupons are out
            data = {k: v for k, v in data.items() if k not in services.FROZEN}
        done, _ = pages.apply(lambda: services.update_template(template.id, data, current_user), "已保存", form,
                              field_map=FIELD_MAP)
        if done:
            return redirect(url_for(".template_detail", template_id=template.id))
    return render_template("admin/activation/coupons/form.html", nav="coupons", form=form, template=template,
                           view=services.template_view(template))


@bp.route("/admin/coupons/<int:template_id>")
@pages.admin_only
def template_detail(template_id):
    template = services.get_template(template_id)
    filters = _report_filters(template.id)
    return render_template("admin/activation/coupons/detail.html", nav="coupons", template=template,
                           view=services.template_view(template), figures=services.template_figures(template.id),
                           report=_report(filters), filters=filters, grant_id=uuid.uuid4().hex[:16],
                           yuan=services.yuan_decimal)


@bp.route("/admin/coupons/<int:template_id>/<any(pause, resume, end):action>", methods=["POST"])
@pages.admin_only
def template_status(template_id, action):
    if FlaskForm().validate_on_submit():
        said = {"pause": "已暂停发放", "resume": "已恢复发放", "end": "已结束发放"}[action]
        pages.apply(lambda: services.set_template_status(template_id, action, current_user), said)
    return redirect(url_for(".template_detail", template_id=template_id))


def _ids(text: str) -> list[int] | None:
    """Ids written with commas, spaces or new lines; None when something else is there."""
    parts = [p for p in re.split(r"[\s,，、;；]+", text or "") if p]
    if not parts or any(not p.isdigit() or not 0 < int(p) <= MAX_ID for p in parts):
        return None
    return [int(p) for p in parts]


@bp.route("/admin/coupons/<int:template_id>/grants", methods=["POST"])
@pages.admin_only
def template_grant(template_id):
    target = url_for(".template_detail", template_id=template_id)
    if not FlaskForm().validate_on_submit():
        return redirect(target)
    to = request.form.get("to")
    ids = _ids(request.form.get("ids", ""))
    if to not in ("users", "estates") or ids is None:
        flash("请填写用户编号或小区编号（数字，用逗号或换行分隔）", "error")
        return redirect(target)
    grant_id = request.form.get("grant_id") or None
    key = "user_ids" if to == "users" else "estate_ids"

    def said(result) -> str:
        parts = [f"已发放 {result.issued} 张"]
        for count, words in ((result.repeated, "此前已发放"), (result.at_limit, "已达每人限领"),
                             (result.out_of_stock, "库存不足未发放")):
            if count:
                parts.append(f"{count} 人{words}")
        return "，".join(parts) + f"（共 {result.targeted} 位住户）"

    pages.apply(lambda: services.grant(template_id, current_user, grant_id=grant_id, **{key: ids}), said)
    return redirect(target)


@bp.route("/admin/coupons/<int:template_id>/report.csv")
@pages.admin_only
def template_report_csv(template_id):
    template = services.get_template(template_id)
    return _csv(_report_filters(template.id), f"coupon-{template.id}-estates")


# -- the report over every template ------------------------------------------------------------

@bp.route("/admin/coupons/report")
@pages.admin_only
def report():
    filters = _report_filters(None)
    return render_template("admin/activation/coupons/report.html", nav="coupon_report", report=_report(filters),
                           filters=filters, yuan=services.yuan_decimal)


@bp.route("/admin/coupons/report.csv")
@pages.admin_only
def report_csv():
    return _csv(_report_filters(None), "coupons-estates")
