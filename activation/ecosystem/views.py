"""Partner pages that reach across the feature: the partner console's dashboard, listings (with
the offers showing them), audience and orders; the admin's moderation queue, a partner's
dashboard, and the decisions that change what estates are shown (approve, reject, withdraw a
listing; approve, reject, suspend, reinstate a partner; its reach).

Pages call the same services as the JSON API; each POST commits once or shows the refusal.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from activation.ecosystem import services
from activation.partners import services as partners
from activation.partners.models import LISTING_KINDS, REVIEW_STATUSES
from activation.partners.views import parse_rule_json
from core import pages

bp = Blueprint("activation_ecosystem_pages", __name__)

LISTING_FILTERS = [("", "全部"), *((s, partners.LISTING_STATUS_LABELS[s]) for s in REVIEW_STATUSES)]
AUDIENCE_TABS = {"coupons": "领券用户", "activities": "活动报名"}


def _labels() -> dict:
    return {"status": partners.LISTING_STATUS_LABELS, "kind": partners.KIND_LABELS,
            "signup": partners.SIGNUP_LABELS, "partner": partners.STATUS_LABELS}


def _status_arg() -> str:
    status = request.args.get("status", "")
    if status and status not in REVIEW_STATUSES:
        abort(404)
    return status


# -- the partner console ----------------------------------------------------------------------

@bp.route("/partner/")
@pages.partner_only
def dashboard():
    partner = partners.acting_partner(current_user)
    return render_template("partner/ecosystem/dashboard.html", nav="partner_home", d=services.dashboard(partner),
                           orders=services.partner_orders(partner, limit=services.RECENT_ORDERS).items,
                           labels=partners.STATUS_LABELS, admin_view=False)


@bp.route("/partner/listings")
@pages.partner_only
def partner_listings():
    partner = partners.acting_partner(current_user)
    status = _status_arg()
    page = partners.list_listings(partner_id=partner.id, status=status or None, **pages.cursor_args())
    return render_template("partner/ecosystem/listings.html", nav="partner_listings", partner=partner, page=page,
                           status=status, filters=LISTING_FILTERS, offers=services.offers_of_listings(page.items),
                           counts=partners.listing_counts(partner.id), labels=_labels())


@bp.route("/partner/listings/<int:listing_id>")
@pages.partner_only
def partner_listing(listing_id):
    partner = partners.acting_partner(current_user)
    listing = partners.listing_for(current_user, listing_id)
    if listing.partner_id != partner.id:
        abort(404)
    return render_template("partner/ecosystem/listing.html", nav="partner_listings", partner=partner,
                           listing=listing, offer=services.listing_offer(listing.id), labels=_labels(),
                           leads=partners.partner_leads(partner.id, listing_id=listing.id, limit=1).items)


@bp.route("/partner/listings/<int:listing_id>/withdraw", methods=["POST"])
@pages.partner_only
def partner_withdraw(listing_id):
    if partners.listing_for(current_user, listing_id).partner_id != partners.acting_partner(current_user).id:
        abort(404)
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.withdraw_listing(listing_id, current_user), "已撤下，住户将不再看到该内容")
    return redirect(url_for(".partner_listing", listing_id=listing_id))


@bp.route("/partner/audience")
@pages.partner_only
def audience():
    partner = partners.acting_partner(current_user)
    tab = request.args.get("tab") or "coupons"
    if tab not in AUDIENCE_TABS:
        abort(404)
    reader = services.coupon_holders if tab == "coupons" else services.activity_signups
    return render_template("partner/ecosystem/audience.html", nav="partner_audience", partner=partner, tab=tab,
                           tabs=AUDIENCE_TABS, page=reader(partner.id, **pages.cursor_args()))


@bp.route("/partner/orders")
@pages.partner_only
def partner_orders():
    partner = partners.acting_partner(current_user)
    return render_template("partner/ecosystem/orders.html", nav="partner_home", partner=partner,
                           page=services.partner_orders(partner, **pages.cursor_args()))


# -- admin: moderation ------------------------------------------------------------------------

@bp.route("/admin/partners/listings")
@pages.staff_only
def moderation():
    status = request.args.get("status", "pending")
    if status and status not in REVIEW_STATUSES:
        abort(404)
    kind = request.args.get("kind") or ""
    if kind and kind not in LISTING_KINDS:
        abort(404)
    partner_id = pages.id_arg("partner_id")
    page = partners.list_listings(status=status or None, kind=kind or None, partner_id=partner_id,
                                  oldest_first=status == "pending", **pages.cursor_args())
    return render_template("admin/activation/ecosystem/listings.html", nav="partner_listings", page=page,
                           status=status, kind=kind, partner_id=partner_id, filters=LISTING_FILTERS,
                           partners=partners.partners_by_id([x.partner_id for x in page.items] + [partner_id]),
                           offers=services.offers_of_listings(page.items), labels=_labels())


@bp.route("/admin/partners/listings/<int:listing_id>")
@pages.staff_only
def listing_detail(listing_id):
    listing = partners.get_listing(listing_id)
    return render_template("admin/activation/ecosystem/listing.html", nav="partner_listings", listing=listing,
                           partner=partners.get_partner(listing.partner_id), offer=services.listing_offer(listing.id),
                           window=partners.offer_window(listing), labels=_labels(),
                           users=pages.users([listing.created_by_id, listing.reviewed_by_id]),
                           can_decide=current_user.has_role("admin"))


@bp.route("/admin/partners/listings/<int:listing_id>/approve", methods=["POST"])
@pages.admin_only
def listing_approve(listing_id):
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.publish_listing(listing_id, current_user, request.form.get("note")),
                    f"#{listing_id} 已通过并发布到匹配的小区")
    return redirect(pages.back(".listing_detail", listing_id=listing_id))


@bp.route("/admin/partners/listings/<int:listing_id>/reject", methods=["POST"])
@pages.admin_only
def listing_reject(listing_id):
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: partners.reject_listing(listing_id, current_user, request.form.get("reason")),
                    f"#{listing_id} 已驳回，伙伴可修改后重新提交")
    return redirect(pages.back(".listing_detail", listing_id=listing_id))


@bp.route("/admin/partners/listings/<int:listing_id>/withdraw", methods=["POST"])
@pages.admin_only
def listing_withdraw(listing_id):
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.withdraw_listing(listing_id, current_user, request.form.get("reason")),
                    f"#{listing_id} 已撤下")
    return redirect(pages.back(".listing_detail", listing_id=listing_id))


# -- admin: a partner -------------------------------------------------------------------------

@bp.route("/admin/partners/<int:partner_id>/dashboard")
@pages.staff_only
def partner_dashboard(partner_id):
    partner = partners.get_partner(partner_id)
    return render_template("partner/ecosystem/dashboard.html", nav="partners", d=services.dashboard(partner),
                           orders=services.partner_orders(partner, limit=services.RECENT_ORDERS).items,
                           labels=partners.STATUS_LABELS, admin_view=True)


@bp.route("/admin/partners/<int:partner_id>/decide", methods=["POST"])
@pages.admin_only
def decide(partner_id):
    action = request.form.get("action", "")
    if FlaskForm().validate_on_submit():
        pages.apply(lambda: services.decide_partner(partner_id, action, request.form.get("note"), current_user),
                    f"已{partners.DECISION_LABELS.get(action, action)}")
    return redirect(url_for("activation_partners_pages.partner_detail", partner_id=partner_id))


@bp.route("/admin/partners/<int:partner_id>/reach", methods=["POST"])
@pages.admin_only
def reach(partner_id):
    rule = parse_rule_json(request.form.get("reach_rule"))
    if rule is not None and FlaskForm().validate_on_submit():
        pages.apply(lambda: services.set_reach(partner_id, rule, current_user), "覆盖范围已保存，在线展示已按新范围重新匹配")
    return redirect(url_for("activation_partners_pages.partner_detail", partner_id=partner_id))
