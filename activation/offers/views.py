"""Admin console of offers (千区千面): the list, the editor with its rule builder (a field for each
rule key), the preview (how many estates and the first 50), publish and withdraw. Pages call the
same services as the JSON API; each POST commits once or shows the refusal."""
from __future__ import annotations

import re
from datetime import timezone

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FloatField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from activation.offers import services
from activation.offers.models import OFFER_KINDS, OFFER_STATUSES
from community.profiles import services as profiles
from core import pages
from core.db import MAX_ID
from core.errors import ValidationFailed
from core.formatting import BUSINESS_TZ

bp = Blueprint("activation_offers_pages", __name__)

STATUS_FILTERS = [("", "全部"), *((s, services.STATUS_LABELS[s]) for s in OFFER_STATUSES)]
KIND_FILTERS = [("", "全部类型"), *((k, services.KIND_LABELS[k]) for k in OFFER_KINDS)]


class NumberField(FloatField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("请输入数字") from exc


def split_words(text: str | None) -> list[str]:
    return [part for part in re.split(r"[\s,，、;；|｜]+", text or "") if part]


# The rule builder: the list keys are typed as words, the ranges as two numbers, the distance as a
# point and a radius. Coverage is entered in percent (the rule holds 0..1).
LIST_KEYS = (("provinces", "省份"), ("cities", "城市"), ("districts", "区县"), ("tags_any", "含任一标签"),
             ("tags_all", "含全部标签"), ("tags_none", "排除标签"))
RANGE_KEYS = (("households", "户数", ""), ("avg_rating", "平均评分（1–5）", ""),
              ("orders_per_1000", "每千户服务单（近 12 个月）", ""), ("complaints_per_1000", "每千户投诉（近 12 个月）", ""),
              ("coverage", "管家覆盖率（%）", "%"))
# A refusal of a rule key lands on its first field.
FIELD_MAP = {"households": "households_min", "avg_rating": "avg_rating_min", "orders_per_1000": "orders_per_1000_min",
             "complaints_per_1000": "complaints_per_1000_min", "coverage": "coverage_min", "near": "near_lat",
             "kind": "thing", "ref_id": "thing", "rule": "estate_ids"}


class OfferForm(FlaskForm):
    thing = SelectField("投放内容", choices=[], validate_choice=False,
                        validators=[DataRequired("请选择要投放的优惠券、活动、奖品或伙伴内容")])
    title = StringField("标题（留空用内容名称）", validators=[Optional(), Length(max=services.TITLE_MAX)])
    summary = StringField("简介（留空自动生成，如券面、活动时间地点）", validators=[Optional(), Length(max=services.SUMMARY_MAX)])
    starts_at = pages.LocalDateTimeField("开始投放（北京时间）", format="%Y-%m-%dT%H:%M",
                                         validators=[DataRequired("请填写开始时间")])
    ends_at = pages.LocalDateTimeField("结束投放（北京时间）", format="%Y-%m-%dT%H:%M",
                                       validators=[DataRequired("请填写结束时间")])
    estate_ids = StringField(f"指定小区编号（逗号分隔，最多 {profiles.MAX_RULE_ESTATES} 个）", validators=[
        Optional(), Length(max=25000), Regexp(r"^[\d\s,，、;；]*$", message="请填写小区编号（数字），用逗号分隔")])
    provinces = StringField("省份（逗号分隔）", validators=[Optional(), Length(max=2000)])
    cities = StringField("城市（逗号分隔）", validators=[Optional(), Length(max=2000)])
    districts = StringField("区县（逗号分隔）", validators=[Optional(), Length(max=2000)])
    tags_any = StringField("含任一标签（逗号分隔）", validators=[Optional(), Length(max=1000)])
    tags_all = StringField("含全部标签（逗号分隔）", validators=[Optional(), Length(max=1000)])
    tags_none = StringField("排除标签（逗号分隔）", validators=[Optional(), Length(max=1000)])
    households_min = pages.IntField("户数 最少", validators=[Optional()])
    households_max = pages.IntField("户数 最多", validators=[Optional()])
    avg_rating_min = NumberField("平均评分 最低", validators=[Optional()])
    avg_rating_max = NumberField("平均评分 最高", validators=[Optional()])
    orders_per_1000_min = NumberField("每千户服务单 最少", validators=[Optional()])
    orders_per_1000_max = NumberField("每千户服务单 最多", validators=[Optional()])
    complaints_per_1000_min = NumberField("每千户投诉 最少", validators=[Optional()])
    complaints_per_1000_max = NumberField("每千户投诉 最多", validators=[Optional()])
    coverage_min = NumberField("管家覆盖率 最低（%）", validators=[Optional()])
    coverage_max = NumberField("管家覆盖率 最高（%）", validators=[Optional()])
    near_lat = NumberField("中心纬度", validators=[Optional()])
    near_lng = NumberField("中心经度", validators=[Optional()])
    near_radius_km = NumberField(f"半径（公里，最大 {profiles.NEAR_MAX_KM}）", validators=[Optional()])

    def validate_estate_ids(self, field):
        if any(not 0 < int(part) <= MAX_ID for part in split_words(field.data)):
            raise ValidationError("小区编号无效")


def rule_from_form(form: OfferForm) -> dict:
    """The rule the builder's fields describe (validate_rule checks it)."""
    rule: dict = {}
    ids = split_words(form.estate_ids.data)
    if ids:
        rule["estate_ids"] = [int(i) for i in ids]
    for key, _label in LIST_KEYS:
        words = split_words(form[key].data)
        if words:
            rule[key] = words
    for key, _label, unit in RANGE_KEYS:
        bounds = {}
        for end in ("min", "max"):
            value = form[f"{key}_{end}"].data
            if value is not None:
                bounds[end] = round(value / 100, 6) if unit == "%" else value
        if bounds:
            rule[key] = bounds
    near = {"lat": form.near_lat.data, "lng": form.near_lng.data, "radius_km": form.near_radius_km.data}
    if any(v is not None for v in near.values()):
        rule["near"] = near
    return rule


def rule_form_values(rule: dict) -> dict:
    values = {"estate_ids": ", ".join(str(i) for i in rule.get("estate_ids") or [])}
    for key, _label in LIST_KEYS:
        values[key] = "，".join(rule.get(key) or [])
    for key, _label, unit in RANGE_KEYS:
        for end in ("min", "max"):
            value = (rule.get(key) or {}).get(end)
            values[f"{key}_{end}"] = None if value is None else (round(value * 100, 4) if unit == "%" else value)
    near = rule.get("near") or {}
    values.update(near_lat=near.get("lat"), near_lng=near.get("lng"), near_radius_km=near.get("radius_km"))
    return values


def _utc(value):
    return value.replace(tzinfo=BUSINESS_TZ).astimezone(timezone.utc) if value else None


def _local(value):
    return value.astimezone(BUSINESS_TZ).replace(tzinfo=None) if value else None


def _data(form: OfferForm) -> dict:
    kind, _, ref = (form.thing.data or "").partition(":")
    return {"kind": kind, "ref_id": int(ref) if ref.isdigit() else None, "rule": rule_from_form(form),
            "starts_at": _utc(form.starts_at.data), "ends_at": _utc(form.ends_at.data),
            "title": form.title.data or None, "summary": form.summary.data or None}


def _choices(offer=None) -> dict:
    """The things to offer, grouped by kind (a dict renders as optgroups; None: no group)."""
    things = services.offerable_things()
    groups = {services.KIND_LABELS[kind]: [(f"{kind}:{i}", f"#{i} {label}") for i, label in things.get(kind, [])]
              for kind in OFFER_KINDS}
    if offer is not None and f"{offer.kind}:{offer.ref_id}" not in {v for g in groups.values() for v, _ in g}:
        groups[services.KIND_LABELS[offer.kind]].insert(0, (f"{offer.kind}:{offer.ref_id}", f"#{offer.ref_id} {offer.title}"))
    return {None: [("", "请选择")], **groups}


def _form(offer=None) -> OfferForm:
    if offer is None or request.method == "POST":
        form = OfferForm()
        if offer is None and request.method == "GET":
            form.thing.data = request.args.get("thing") or ""
    else:
        form = OfferForm(thing=f"{offer.kind}:{offer.ref_id}", title=offer.title, summary=offer.summary,
                         starts_at=_local(offer.starts_at), ends_at=_local(offer.ends_at), **rule_form_values(offer.rule))
    form.thing.choices = _choices(offer)
    return form


def _preview(form: OfferForm):
    """The preview of the form as it stands, or None with the refusal on the form's fields."""
    try:
        return services.preview_draft(_data(form))
    except ValidationFailed as exc:
        for name, messages in exc.details.get("fields", {}).items():
            name = FIELD_MAP.get(name, name)
            if name in form:
                form[name].errors = list(form[name].errors) + list(messages)
            else:
                form.thing.errors = list(form.thing.errors) + [exc.message]
        return None


def _render_form(form, offer, preview=None):
    return render_template("admin/activation/offers/form.html", nav="offers", form=form, offer=offer, preview=preview,
                           list_keys=LIST_KEYS, range_keys=RANGE_KEYS)


@bp.route("/admin/offers")
@pages.staff_only
def offers():
    filters = {k: request.args.get(k) or None for k in ("status", "kind", "q")}
    if filters["status"] not in (None, *OFFER_STATUSES) or filters["kind"] not in (None, *OFFER_KINDS):
        abort(404)
    page = services.list_offers(**filters, **pages.cursor_args())
    return render_template("admin/activation/offers/offers.html", nav="offers", page=page,
                           views=services.offer_views(page.items), filters=filters, status_filters=STATUS_FILTERS,
                           kind_filters=KIND_FILTERS)


@bp.route("/admin/offers/new", methods=["GET", "POST"])
@pages.admin_only
def offer_new():
    form = _form()
    preview = None
    if form.validate_on_submit():
        if request.form.get("action") == "preview":
            preview = _preview(form)
        else:
            done, offer = pages.apply(lambda: services.create_offer(_data(form), current_user), "投放草稿已保存，请核对匹配的小区后发布",
                                      form, field_map=FIELD_MAP)
            if done:
                return redirect(url_for(".offer_detail", offer_id=offer.id))
    return _render_form(form, None, preview)


@bp.route("/admin/offers/<int:offer_id>/edit", methods=["GET", "POST"])
@pages.admin_only
def offer_edit(offer_id):
    offer = services.get_offer(offer_id)
    if offer.status == "withdrawn":
        abort(404)
    form = _form(offer)
    preview = None
    if form.validate_on_submit():
        if request.form.get("action") == "preview":
            preview = _preview(form)
        elif pages.apply(lambda: services.update_offer(offer.id, _data(form), current_user), "投放已保存", form,
                         field_map=FIELD_MAP)[0]:
            return redirect(url_for(".offer_detail", offer_id=offer.id))
    return _render_form(form, offer, preview)


@bp.route("/admin/offers/<int:offer_id>")
@pages.staff_only
def offer_detail(offer_id):
    offer = services.get_offer(offer_id)
    view = services.offer_view(offer)
    preview = services.preview(offer.id) if offer.status != "withdrawn" else None
    return render_template("admin/activation/offers/offer.html", nav="offers", offer=offer, view=view, preview=preview,
                           progress=services.offer_notices_total(offer.id), can_edit=current_user.has_role("admin"),
                           users=pages.users([offer.created_by_id]))


@bp.route("/admin/offers/<int:offer_id>/publish", methods=["POST"])
@pages.admin_only
def offer_publish(offer_id):
    pages.apply(lambda: services.publish(offer_id, current_user),
                lambda o: f"已发布，匹配 {o.matched:,} 个小区；通知将在 9:00–20:00 间逐个小区发出")
    return redirect(url_for(".offer_detail", offer_id=offer_id))


@bp.route("/admin/offers/<int:offer_id>/withdraw", methods=["POST"])
@pages.admin_only
def offer_withdraw(offer_id):
    pages.apply(lambda: services.withdraw_offer(offer_id, current_user), "投放已撤回，各小区不再展示")
    return redirect(url_for(".offer_detail", offer_id=offer_id))
