"""Partner pages that need nothing above the partners area: the admin's partner list, editor and
detail (with its staff), and the partner console's listing editor, sign-ups and staff.

The moderation queue, dashboards, audience and every decision that changes what estates are
shown are activation.ecosystem's pages. Pages call the same services as the JSON API; each POST
commits once or shows the refusal.
"""
from __future__ import annotations

import json
import re
from datetime import timezone

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from activation.partners import services
from activation.partners.models import LEAD_STATUSES, PARTNER_STATUSES
from community.estates import services as estates
from core import pages
from core.db import MAX_ID
from core.formatting import BUSINESS_TZ
from core.uploads import services as uploads

bp = Blueprint("activation_partners_pages", __name__)

PARTNER_FILTERS = [("", "全部"), *((s, services.STATUS_LABELS[s]) for s in PARTNER_STATUSES)]
LEAD_FILTERS = [("", "全部"), *((s, services.LEAD_STATUS_LABELS[s]) for s in LEAD_STATUSES)]


# -- targeting rules in forms and in words ----------------------------------------------------

# The rule keys the simple form edits (lists of names, or estate ids); any other key set through the
# API (households, ratings, distance, ...) is kept as it was.
RULE_LISTS = (("provinces", "省份"), ("cities", "城市"), ("districts", "区县"), ("tags_any", "标签（满足任一）"),
              ("tags_none", "排除标签"))
RULE_WORDS = {"provinces": "省份", "cities": "城市", "districts": "区县", "tags_any": "标签含任一",
              "tags_all": "标签全含", "tags_none": "排除标签"}
RANGE_WORDS = {"households": ("户数", ""), "avg_rating": ("平均评分", ""), "orders_per_1000": ("每千户服务单", ""),
               "complaints_per_1000": ("每千户投诉", "")}


def split_words(text: str | None) -> list[str]:
    return [part for part in re.split(r"[\s,，、;；]+", text or "") if part]


def rule_from_form(form, before: dict | None = None) -> dict:
    """The rule the simple fields describe, over the keys of `before` they do not edit."""
    rule = {k: v for k, v in (before or {}).items() if k not in dict(RULE_LISTS) and k != "estate_ids"}
    for key, _label in RULE_LISTS:
        words = split_words(form[key].data)
        if words:
            rule[key] = words
    ids = split_words(form.estate_ids.data)
    if ids:
        rule["estate_ids"] = [int(i) for i in ids]
    return rule


def rule_form_values(rule: dict) -> dict:
    values = {key: "，".join(rule.get(key) or []) for key, _label in RULE_LISTS}
    values["estate_ids"] = ", ".join(str(i) for i in rule.get("estate_ids") or [])
    return values


def _bounds(value: dict, unit: str = "") -> str:
    low, high = value.get("min"), value.get("max")
    if low is not None and high is not None:
        return f"{low}{unit}–{high}{unit}"
    return f"≥ {low}{unit}" if low is not None else f"≤ {high}{unit}"


@bp.app_template_filter("rule_text")
def rule_text(rule: dict | None) -> str:
    """A targeting rule in words, for pages ("城市：深圳市；户数 ≥ 500")."""
    rule = rule or {}
    parts = []
    if rule.get("estate_ids"):
        parts.append("小区 " + "、".join(f"#{i}" for i in rule["estate_ids"]))
    for key, word in RULE_WORDS.items():
        if rule.get(key):
            parts.append(f"{word}：{'、'.join(rule[key])}")
    for key, (word, unit) in RANGE_WORDS.items():
        if isinstance(rule.get(key), dict):
            parts.append(f"{word} {_bounds(rule[key], unit)}")
    if isinstance(rule.get("coverage"), dict):
        cov = {k: f"{round(v * 100)}" for k, v in rule["coverage"].items() if v is not None}
        parts.append(f"管家覆盖率 {_bounds(cov, '%')}")
    if isinstance(rule.get("near"), dict):
        near = rule["near"]
        parts.append(f"距 ({near.get('lat')}, {near.get('lng')}) {near.get('radius_km')} 公里内")
    return "；".join(parts) or "全部启用的小区"


class RuleFields:
    """The simple rule fields, mixed into a form."""
    provinces = StringField("省份（逗号分隔）", validators=[Optional(), Length(max=500)])
    cities = StringField("城市（逗号分隔）", validators=[Optional(), Length(max=500)])
    districts = StringField("区县（逗号分隔）", validators=[Optional(), Length(max=500)])
    estate_ids = StringField("小区编号（逗号分隔）", validators=[
        Optional(), Length(max=8000), Regexp(r"^[\d\s,，、;；]*$", message="请填写小区编号（数字），用逗号分隔")])
    tags_any = StringField("标签（满足任一，逗号分隔）", validators=[Optional(), Length(max=500)])
    tags_none = StringField("排除标签（逗号分隔）", validators=[Optional(), Length(max=500)])

    def validate_estate_ids(self, field):
        if any(not 0 < int(part) <= MAX_ID for part in split_words(field.data)):
            raise ValidationError("小区编号无效")


# -- admin: partners --------------------------------------------------------------------------

class PartnerForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired("请填写名称"), Length(max=64)])
    category = StringField("类别", validators=[DataRequired("请填写类别"), Length(max=32)],
                           render_kw={"list": "categories"})  # the page's <datalist> of known categories
    description = TextAreaField("简介（住户可见）", validators=[Optional(), Length(max=1000)])
    contact_name = StringField("联系人", validators=[DataRequired("请填写联系人"), Length(max=32)])
    contact_phone = StringField("联系电话", validators=[DataRequired("请填写联系电话"), Length(max=20)])
    code = StringField("伙伴编码（订单接入的 partner_code；留空自动生成，通过审核后不能修改）",
                       validators=[Optional(), Length(max=32)])


def _partner_data(form: PartnerForm) -> dict:
    data = {name: form[name].data or "" for name in ("name", "category", "description", "contact_name",
                                                        "contact_phone")}
    if form.code.data:
        data["code"] = form.code.data.strip()
    logo = request.files.get("logo_file")
    if logo is not None and logo.filename:
        data["logo"] = uploads.store_image(current_user.id, logo.read()).name
    elif request.form.get("remove_logo"):
        data["logo"] = None
    return data


@bp.route("/admin/partners")
@pages.staff_only
def partners():
    status = request.args.get("status") or ""
    if status and status not in PARTNER_STATUSES:
        abort(404)
    q = (request.args.get("q") or "").strip()[:64]
    page = services.list_partners(status=status or None, q=q or None, **pages.cursor_args())
    return render_template("admin/activation/partners/partners.html", nav="partners", page=page, status=status,
                           q=q, filters=PARTNER_FILTERS, counts=services.status_counts(),
                           labels=services.STATUS_LABELS)


@bp.route("/admin/partners/new", methods=["GET", "POST"])
@pages.admin_only
def partner_new():
    form = PartnerForm()
    if form.validate_on_submit():
        done, partner = pages.apply(lambda: services.create_partner(_partner_data(form), current_user),
                                    "合作伙伴已创建，待审核通过后才能发布内容", form)
        if done:
            return redirect(url_for(".partner_detail", partner_id=partner.id))
    return render_template("admin/activation/partners/partner_form.html", nav="partners", form=form, partner=None,
                           categories=services.CATEGORIES)


@bp.route("/admin/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@pages.admin_only
def partner_edit(partner_id):
    partner = services.get_partner(partner_id)
    form = PartnerForm(obj=partner)
    if form.validate_on_submit():
        if pages.apply(lambda: services.update_partner(partner.id, _partner_data(form), current_user), "已保存",
                       form)[0]:
            return redirect(url_for(".partner_detail", partner_id=partner.id))
    return render_template("admin/activation/partners/partner_form.html", nav="partners", form=form,
                           partner=partner, categories=services.CATEGORIES)


class StaffForm(FlaskForm):
    username = StringField("用户名（登录用）", validators=[DataRequired("请填写用户名"), Length(max=64)])
    display_name = StringField("姓名", validators=[Optional(), Length(max=32)])
    password = PasswordField("初始密码（至少 8 位，不能全是数字）", validators=[DataRequired("请填写密码"), Length(max=256)])
    owner = BooleanField("负责人（可以管理本伙伴的员工账号）")


@bp.route("/admin/partners/<int:partner_id>")
@pages.staff_only
def partner_detail(partner_id):
    partner = services.get_partner(partner_id)
    return render_template("admin/activation/partners/partner.html", nav="partners", partner=partner,
                           staff=services.list_staff(partner.id), staff_form=StaffForm(),
                           labels=services.STATUS_LABELS,
                           actions=[a for a, (_s, sources, _n) in services.DECISIONS.items() if partner.status in sources],
                           decision_labels=services.DECISION_LABELS, listings=services.listing_counts(partner.id),
                           leads=services.lead_counts(partner.id),
                           reach_json=json.dumps(partner.reach_rule or {}, ensure_ascii=False, indent=2),
                           users=pages.users([partner.applicant_id, partner.decided_by_id]),
                           can_decide=current_user.has_role("admin"))


def _staff_add(partner_id: int, form: StaffForm) -> bool:
    data = {"username": form.username.data, "password": form.password.data, "display_name": form.display_name.data,
            "owner": form.owner.data}
    if not form.validate_on_submit():
        pages.flash_form_errors(form)
        return False
    return pages.apply(lambda: services.add_staff(partner_id, data, current_user),
                       f"员工账号 {form.username.data} 已创建，可在 /login 登录")[0]


@bp.route("/admin/partners/<int:partner_id>/staff", methods=["POST"])
@pages.admin_only
def staff_add(partner_id):
    _staff_add(partner_id, StaffForm())
    return redirect(url_for(".partner_detail", partner_id=partner_id))


@bp.route("/admin/partners/<int:partner_id>/staff/<int:user_id>/remove", methods=["POST"])
@pages.admin_only
def staff_remove(partner_id, user_id):
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.remove_staff(partner_id, user_id, current_user), "员工账号已移除并停用")
    return redirect(url_for(".partner_detail", partner_id=partner_id))


@bp.route("/admin/partners/<int:partner_id>/staff/<int:user_id>/password", methods=["POST"])
@pages.admin_only
def staff_password(partner_id, user_id):
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.reset_staff_password(partner_id, user_id, request.form.get("password", ""),
                                                          current_user), "密码已重置，该员工需用新密码重新登录")
    return redirect(url_for(".partner_detail", partner_id=partner_id))


# -- the partner console: listings ------------------------------------------------------------

class ListingForm(RuleFields, FlaskForm):
    kind = SelectField("类型", default="service", choices=[SelectChoice(k, v) for k, v in services.KIND_LABELS.items()])
    title = StringField("标题", validators=[DataRequired("请填写标题"), Length(max=64)])
    body = TextAreaField("正文（住户可见）", validators=[Optional(), Length(max=2000)])
    price = StringField("价格（元，服务可填；留空为面议）", validators=[
        Optional(), Regexp(r"^\d{1,7}(\.\d{1,2})?$", message="请填写金额，例如 99 或 99.50")])
    price_note = StringField("价格说明（如 起、/次、/小时）", validators=[Optional(), Length(max=64)])
    signup_mode = SelectField("报名方式", default="platform",
                              choices=[SelectChoice(k, v) for k, v in services.SIGNUP_LABELS.items()])
    link_url = StringField("报名链接（https://，选择“跳转外部链接”时填写）", validators=[Optional(), Length(max=500)])
    show_from = pages.LocalDateTimeField("开始展示（北京时间，留空为审核通过时）", format="%Y-%m-%dT%H:%M",
                                         validators=[Optional()])
    show_until = pages.LocalDateTimeField(f"结束展示（留空为开始后 {services.LISTING_DAYS} 天）", format="%Y-%m-%dT%H:%M",
                                          validators=[Optional()])


def _price_fen(text: str | None) -> int | None:
    if not text:
        return None
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def _local(value):
    return value.replace(tzinfo=BUSINESS_TZ).astimezone(timezone.utc) if value else None


def _listing_data(form: ListingForm, listing) -> dict:
    """The service's fields from the form; new photos are stored first (the form's own files)."""
    kept = [name for name in (listing.photos if listing else []) if name not in request.form.getlist("remove_photos")]
    added = [uploads.store_image(current_user.id, f.read()).name
             for f in request.files.getlist("photo_files") if f and f.filename]
    return {"kind": form.kind.data, "title": form.title.data, "body": form.body.data or "",
            "price_fen": _price_fen(form.price.data), "price_note": form.price_note.data or "",
            "signup_mode": form.signup_mode.data, "link_url": form.link_url.data or None, "photos": kept + added,
            "audience_rule": rule_from_form(form, listing.audience_rule if listing else None),
            "show_from": _local(form.show_from.data), "show_until": _local(form.show_until.data)}


LISTING_FIELD_MAP = {"price_fen": "price", "audience_rule": "cities", "photos": "title"}


def _listing_form(listing) -> ListingForm:
    if listing is None or request.method == "POST":
        return ListingForm()
    price = None if listing.price_fen is None else (
        f"{listing.price_fen // 100}" + (f".{listing.price_fen % 100:02d}" if listing.price_fen % 100 else ""))
    return ListingForm(kind=listing.kind, title=listing.title, body=listing.body, price=price,
                       price_note=listing.price_note, signup_mode=listing.signup_mode, link_url=listing.link_url,
                       show_from=listing.show_from.astimezone(BUSINESS_TZ).replace(tzinfo=None) if listing.show_from
                       else None,
                       show_until=listing.show_until.astimezone(BUSINESS_TZ).replace(tzinfo=None)
                       if listing.show_until else None, **rule_form_values(listing.audience_rule or {}))


def _render_listing_form(form, listing, partner):
    return render_template("partner/partners/listing_form.html", nav="partner_listings", form=form, listing=listing,
                           partner=partner, rule_lists=RULE_LISTS)


@bp.route("/partner/listings/new", methods=["GET", "POST"])
@pages.partner_only
def listing_new():
    partner = services.acting_partner(current_user)
    form = _listing_form(None)
    if form.validate_on_submit():
        done, listing = pages.apply(lambda: services.create_listing(current_user, _listing_data(form, None)),
                                    "已提交审核，审核通过后将在目标小区展示", form, field_map=LISTING_FIELD_MAP)
        if done:
            return redirect(url_for("activation_ecosystem_pages.partner_listing", listing_id=listing.id))
    return _render_listing_form(form, None, partner)


@bp.route("/partner/listings/<int:listing_id>/edit", methods=["GET", "POST"])
@pages.partner_only
def listing_edit(listing_id):
    partner = services.acting_partner(current_user)
    listing = services.listing_for(current_user, listing_id)
    if listing.partner_id != partner.id:
        abort(404)
    if listing.status == "published":
        flash("已发布的内容请先撤下再修改", "error")
        return redirect(url_for("activation_ecosystem_pages.partner_listing", listing_id=listing.id))
    form = _listing_form(listing)
    if form.validate_on_submit():
        if pages.apply(lambda: services.update_listing(current_user, listing.id, _listing_data(form, listing)),
                       "已保存并重新提交审核", form, field_map=LISTING_FIELD_MAP)[0]:
            return redirect(url_for("activation_ecosystem_pages.partner_listing", listing_id=listing.id))
    return _render_listing_form(form, listing, partner)


# -- the partner console: sign-ups ------------------------------------------------------------

@bp.route("/partner/leads")
@pages.partner_only
def leads():
    partner = services.acting_partner(current_user)
    status = request.args.get("status") or ""
    if status and status not in LEAD_STATUSES:
        abort(404)
    listing_id = pages.id_arg("listing_id")
    page = services.partner_leads(partner.id, status=status or None, listing_id=listing_id, **pages.cursor_args())
    listings = services.listings_by_id(lead.listing_id for lead in page.items)
    names = {i: e.name for i, e in estates.estates_by_id(lead.estate_id for lead in page.items).items()}
    return render_template("partner/partners/leads.html", nav="partner_leads", partner=partner, page=page,
                           status=status, listing_id=listing_id, filters=LEAD_FILTERS, listings=listings,
                           estates=names, labels=services.LEAD_STATUS_LABELS, counts=services.lead_counts(partner.id))


@bp.route("/partner/leads/<int:lead_id>/status", methods=["POST"])
@pages.partner_only
def lead_status(lead_id):
    status = request.form.get("status", "")
    if services.lead_for(current_user, lead_id).partner_id != services.acting_partner(current_user).id:
        abort(404)
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.set_lead_status(current_user, lead_id, status),
                    f"已标记为“{services.LEAD_STATUS_LABELS.get(status, status)}”")
    return redirect(pages.back(".leads"))


# -- the partner console: staff ---------------------------------------------------------------

@bp.route("/partner/staff")
@pages.partner_only
def staff():
    partner = services.acting_partner(current_user)
    return render_template("partner/partners/staff.html", nav="partner_staff", partner=partner,
                           staff=services.list_staff(partner.id), form=StaffForm(),
                           owner=services.is_owner(current_user, partner.id))


@bp.route("/partner/staff", methods=["POST"])
@pages.partner_only
def own_staff_add():
    _staff_add(services.acting_partner(current_user).id, StaffForm())
    return redirect(url_for(".staff"))


@bp.route("/partner/staff/<int:user_id>/remove", methods=["POST"])
@pages.partner_only
def own_staff_remove(user_id):
    services.staff_member(services.acting_partner(current_user), user_id)  # another partner's: 404
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.remove_staff(services.acting_partner(current_user).id, user_id, current_user),
                    "员工账号已移除并停用")
    return redirect(url_for(".staff"))


@bp.route("/partner/staff/<int:user_id>/password", methods=["POST"])
@pages.partner_only
def own_staff_password(user_id):
    services.staff_member(services.acting_partner(current_user), user_id)  # another partner's: 404
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.reset_staff_password(services.acting_partner(current_user).id, user_id,
                                                          request.form.get("password", ""), current_user),
                    "密码已重置，该员工需用新密码重新登录")
    return redirect(url_for(".staff"))


def parse_rule_json(text: str | None) -> dict | None:
    """An admin's rule typed as JSON; None (with a flash) when it is not a JSON object."""
    try:
        rule = json.loads(text or "{}")
    except ValueError:
        rule = None
    if not isinstance(rule, dict):
        flash("覆盖范围须为 JSON 对象，例如 {\"cities\": [\"深圳市\"]}", "error")
        return None
    return rule
