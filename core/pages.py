"""Page plumbing shared by every console page: the page-side commit boundary, role guards, a safe
`next`, user lookups, cursor arguments, form fields in Chinese, and the bulk approve/reject view
with its confirmation.

Pages call the same services as the JSON API. A page POST commits once through `apply`, which
turns a refusal (`APIError`) into messages on the form's fields or a flash, and rolls back.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, IntegerField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from core.accounts import services as accounts
from core.accounts.models import User
from core.accounts.services import Principal
from core.auth import page_roles_required
from core.db import MAX_ID
from core.errors import APIError, NotFound
from core.extensions import db
from core.schemas import BULK_MAX

admin_only = page_roles_required("admin")
staff_only = page_roles_required("admin", "agent")  # agents read and handle; admins also decide
engineer_only = page_roles_required("engineer")
partner_only = page_roles_required("partner")  # a partner's staff: their own partner's console (/partner/)


def apply(action: Callable[[], object], success: str | Callable[[object], str] | None = None,
          form: FlaskForm | None = None, *, field_map: dict | None = None,
          translate: Callable[[str], str] | None = None) -> tuple[bool, object]:
    """Run a service call and commit; on a refusal roll back and show why: on the form's fields
    where the refusal names them (`field_map` renames a service field to a form field,
    `translate` rewords a field message), else as a flash message. `success` (text, or a
    function of the result) is flashed when the call went through. Returns (done, result)."""
    try:
        result = action()
        db.session.commit()
    except APIError as exc:
        db.session.rollback()
        placed = False
        for name, messages in exc.details.get("fields", {}).items():
            name = (field_map or {}).get(name, name)
            if form is not None and name in form:
                form[name].errors = list(form[name].errors) + [translate(m) if translate else m for m in messages]
                placed = True
        if not placed or exc.code != "validation_error":
            flash(exc.message, "error")
        return False, None
    if success:
        flash(success(result) if callable(success) else success, "success")
    return True, result


def flash_form_errors(form: FlaskForm) -> None:
    """A form that did not validate, as flash messages (for forms posted from a list page)."""
    for f in form:
        for error in f.errors:
            flash(f"{f.label.text}：{error}", "error")


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None: the one check for every redirect that
    a request names (`?next=`, a form's `next`).

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so "/<TAB>/evil"
    and "/<backslash>evil" lead to //evil; a CR/LF would split the Location header. A path is therefore refused
    when it has any control character, whitespace or backslash, a scheme or a host, or does not
    start with exactly one slash."""
    if not target or len(target) > 2048 or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def back(default_endpoint: str, **values) -> str:
    """Where a POST returns to: the form's local `next`, else the given page."""
    return safe_next(request.form.get("next")) or url_for(default_endpoint, **values)


def principal() -> Principal:
    """The logged-in user as services take the acting user."""
    return Principal(id=current_user.id, roles=current_user.roles)


def users(ids) -> dict[int, User]:
    """The users behind these ids (one query), for names in tables."""
    return accounts.users_by_id(ids)


def id_arg(name: str) -> int | None:
    """A positive id from the query string; anything else is as if it were absent."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def picked(name: str, get: Callable[[int], object], resolve: Callable[[str], object], source=None):
    """What a console picker chose (the `picker` macro, static/js/autocomplete.js): the hidden
    `<name>_id` its script filled, else the typed `<name>` text as the service resolves it (a code,
    a phone, an exact name: the page works without the script); None when both are empty. The
    services' refusals (not found, ambiguous) propagate, in Chinese."""
    source = request.form if source is None else source
    raw = (source.get(f"{name}_id") or "").strip()
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID:
        return get(int(raw))
    text = (source.get(name) or "").strip()
    return resolve(text) if text else None


def picked_arg(name: str, get: Callable[[int], object], resolve: Callable[[str], object]):
    """A list filter's picker, from the query string: the chosen object, or None (a text that
    names nothing, or several, is flashed)."""
    try:
        return picked(name, get, resolve, source=request.args)
    except APIError as exc:
        fields = exc.details.get("fields") or {}
        flash(next(iter(fields.values()))[0] if fields else exc.message, "error")
        return None


def cursor() -> str | None:
    return request.args.get("cursor") or None


def cursor_args() -> dict:
    """The page size and cursor of a console list."""
    return {"limit": 20, "cursor": cursor()}


# -- form fields whose parse errors read in Chinese -------------------------------------------------

class IntField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("请输入整数") from exc


class LocalDateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("请输入日期，例如 2026-12-31") from exc


class LocalDateTimeField(DateTimeLocalField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("请输入日期和时间，例如 2026-12-31 18:00") from exc


class Checkboxes(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# -- bulk decisions with a confirmation step ------------------------------------------------------

@dataclass(frozen=True)
class WorkQueue:
    """One kind of work waiting on the dashboard (core.signals.work_waiting): what, how many, where."""

    label: str  # Chinese, as staff read it: "待审核兑换"
    count: int
    url: str


@dataclass(frozen=True)
class BulkPage:
    """One queue's bulk approve/reject: its words, its rows and its services. The view
    (`bulk_decide`) and the template (`_bulk_confirm.html`) are shared by every queue."""

    noun: str  # what is decided: 兑换申请, 申请, 提交
    unit: str  # its measure word: 条, 份
    reject_verb: str  # 拒绝 or 驳回
    approve_note: str  # what approving does, shown before confirming
    reject_note: str  # what rejecting does
    reason_reader: str  # who reads the rejection reason: 住户, 申请人, 代言人
    time_label: str  # the heading of the items' creation time: 申请时间, 提交时间
    rows: str  # template with the macros `head()` and `cells(item)` (imported with the context)
    get: Callable[[int], object]  # one item by id (NotFound when gone)
    decide_many: Callable[..., dict[int, str]]  # (ids, action, actor, reason) -> id: "ok" or a refusal code
    refusals: dict[str, str]  # refusal code -> what the admin reads
    nav: str
    queue: str  # endpoint of the queue page (where the decision returns to)
    context: Callable[[list], dict] = field(default=lambda items: {})  # extra context for the rows
    pending: str = "pending"  # the status of an item still to decide (binding flags: open)


def bulk_decide(page: BulkPage):
    """The bulk POST of a queue: the first POST shows what will happen, the confirmed one does it."""
    target = back(page.queue)
    action = request.form.get("action")
    reason = (request.form.get("reason") or "").strip()
    ids = list(dict.fromkeys(i for i in request.form.getlist("ids", type=int) if 0 < i <= MAX_ID))
    verb = "通过" if action == "approve" else page.reject_verb
    if action not in ("approve", "reject"):
        flash(f"请选择批量通过或批量{page.reject_verb}", "error")
    elif not ids:
        flash(f"请先勾选要处理的{page.noun}", "error")
    elif len(ids) > BULK_MAX:
        flash(f"一次最多处理 {BULK_MAX} {page.unit}", "error")
    elif action == "reject" and not reason:
        flash(f"批量{page.reject_verb}必须填写{page.reject_verb}原因", "error")
    elif request.form.get("confirmed") != "1":
        items = []
        for item_id in ids:
            try:
                items.append(page.get(item_id))
            except NotFound:
                pass
        return render_template("_bulk_confirm.html", nav=page.nav, page=page, items=items, action=action,
                               verb=verb, reason=reason, back=target, endpoint=request.endpoint,
                               decidable=sum(item.status == page.pending for item in items), **page.context(items))
    else:
        done, outcome = apply(lambda: page.decide_many(ids, action, current_user, reason))
        if done:
            decided = [i for i, code in outcome.items() if code == "ok"]
            refused = [f"#{i}（{page.refusals.get(code, code)}）" for i, code in outcome.items() if code != "ok"]
            if decided:
                flash(f"已{verb} {len(decided)} {page.unit}{page.noun}", "success")
            if refused:
                flash(f"{len(refused)} {page.unit}未{verb}：" + "、".join(refused), "error")
    return redirect(target)
