"""The catalogue (product models, maintenance plans), the care-schedule arithmetic, the archive of
what each household owns (registration by the steward, the resident, the manufacturer's
installation records and the bulk import), serial-number conflicts settled by agents, and the
product schedules every other area reads (docs/community.md, "Product archives and care
schedules").

Schedules are kept up to date here and nowhere else: on registration (one row per applicable
plan), when a service of a plan's type completes (`record_service`, called by the orders), when a
plan changes (`reschedule_plan`), when a product's dates change, when it is retired or moved, and
when the steward records that a due service was declined (`skip_due`, called by the care items).
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

import sqlalchemy as sa

from community.estates import services as estates
from community.estates.models import Engineer, Estate
from community.products.models import CATEGORIES, PRODUCT_SOURCES, MaintenancePlan, Product, ProductModel, ProductSchedule, SerialConflict
from community.service_types import SERVICE_TYPES
from community.stewards import services as stewards
from core import audit, signals
from core.accounts.models import User
from core.accounts.services import Principal
from core.db import MAX_ID, dialect_insert, insert_or_nothing, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed, invalid
from core.extensions import db
from core.formatting import BUSINESS_TZ
from core.notifications import services as notifications
from core.pagination import Page, paginate
from core.uploads import services as uploads

STATUS_LABELS = {"active": "在用", "retired": "已停用", "transferred": "已转出"}
SOURCE_LABELS = {"engineer": "工程师登记", "resident": "住户登记", "integration": "厂家安装记录",
                 "import": "批量导入", "admin": "后台登记"}
CONFLICT_DECISIONS = {"keep": "kept", "move": "moved", "reject": "rejected"}
RESOLUTION_LABELS = {"kept": "维持原主", "moved": "已转给申请人", "rejected": "驳回申请"}
# Model codes and serials are printed on nameplates and scanned: printable ASCII without spaces,
# stored upper-case so a typed "ro-600g" and a scanned "RO-600G" are one code.
_CODE = re.compile(r"[\x21-\x7e]{1,64}")
_PHONE = re.compile(r"\+?[0-9]{5,19}")
EARLIEST_DATE = date(1980, 1, 1)
# A schedule computed from nothing done whose first due date is older than this catches up with
# the plan's cycle instead (see `schedule_due`).
CATCH_UP_DAYS = 90
BATCH = 1000


def today() -> date:
    """The business day (Asia/Shanghai)."""
    return utcnow().astimezone(BUSINESS_TZ).date()


def business_date(moment: datetime) -> date:
    return moment.astimezone(BUSINESS_TZ).date()


def normalise_code(value) -> str:
    """A model code or serial as stored: trimmed and upper-case."""
    return str(value if value is not None else "").strip().upper()


def _one_line(text) -> str:
    return " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c for c in str(text or "")).split())


# -- care-schedule arithmetic (pure functions) ---------------------------------------------------


def add_months(day: date, months: int) -> date:
    """`day` moved by whole calendar months; a day the target month lacks becomes its last day
    (31 January + 1 month = 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def in_season(day: date, start: int | None, end: int | None) -> bool:
    """The day's month lies in the window start..end (inclusive; 11..2 wraps the new year)."""
    if start is None or end is None:
        return True
    if start <= end:
        return start <= day.month <= end
    return day.month >= start or day.month <= end


def into_season(day: date, start: int | None, end: int | None) -> date:
    """A date outside the season window moves to the window's next start (the 1st of its first month)."""
    if in_season(day, start, end):
        return day
    return date(day.year if day.month < start else day.year + 1, start, 1)


def _season(plan, day: date) -> date:
    return into_season(day, plan.season_start_month, plan.season_end_month)


def first_due(plan, install_date: date) -> date:
    """The first due date before any season adjustment: installation + first_due_days."""
    return install_date + timedelta(days=plan.first_due_days)


def _cycle(plan, install_date: date, k: int) -> date:
    """The k-th date of the plan's fixed cycle (k may be negative), before the season window:
    first due + k × interval months, each counted from the first due date so month-end clamping
    never drifts."""
    return add_months(first_due(plan, install_date), k * plan.interval_months)


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _answered(plan, install_date: date, done_on: date) -> int:
    """The index of the cycle date a service on `done_on` answered: the one nearest to it as the
    household saw it (after the season window; a tie goes to the earlier), never before index -1
    (a service at installation answers the first due date)."""
    guess = _months_between(first_due(plan, install_date), done_on) // plan.interval_months
    # A season window moves a date up to eleven months later: look back far enough for it.
    back = -(-12 // plan.interval_months) + 1
    candidates = {max(k, -1) for k in range(guess - back, guess + 2)}
    return min(candidates, key=lambda k: (abs((_season(plan, _cycle(plan, install_date, k)) - done_on).days), k))


def _done(last_done_on: date | None, install_date: date) -> bool:
    # A service before the installation cannot be this product's (an edited install date).
    return last_done_on is not None and last_done_on >= install_date


def next_due(plan, install_date: date, last_done_on: date | None) -> date | None:
    """When the plan's care is next due for a product installed on `install_date` whose last
    service of the plan's type was on `last_done_on` (None: never).

    - Nothing done yet: installation + first_due_days.
    - Once-only plans (no interval): None after it was done.
    - With an interval, the next due is the base + interval months: the base is the last service
      when the plan counts from completion (`after_completion`), else the previous due date —
      the date of the plan's fixed cycle (first due, then every interval months) that the
      service answered, i.e. the one nearest to it, so an early service does not bring a second
      reminder days later and a late one does not leave the next one already overdue.
    - A due date outside the season window moves to the window's next start.
    """
    if not _done(last_done_on, install_date):
        return _season(plan, first_due(plan, install_date))
    if plan.interval_months is None:
        return None
    if plan.after_completion:
        return _season(plan, add_months(last_done_on, plan.interval_months))
    k = _answered(plan, install_date, last_done_on) + 1
    # Two cycle dates may fall into one season window: the next due is the first after the service.
    while _season(plan, _cycle(plan, install_date, k)) <= last_done_on:
        k += 1
    return _season(plan, _cycle(plan, install_date, k))


def due_after(plan, install_date: date, due_on: date) -> date | None:
    """The plan's next due date after a due date that was let go (declined): None for a one-off
    plan; due + interval when the plan counts from completion; else the first date of the fixed
    cycle that falls after it (season window applied either way)."""
    if plan.interval_months is None:
        return None
    if plan.after_completion:
        return _season(plan, add_months(due_on, plan.interval_months))
    k = max(0, _months_between(first_due(plan, install_date), due_on) // plan.interval_months - 1)
    while True:  # ends: the cycle grows by at least a month a step
        due = _season(plan, _cycle(plan, install_date, k))
        if due > due_on:
            return due
        k += 1


def schedule_due(plan, install_date: date, last_done_on: date | None, on: date) -> date | None:
    """The due date a schedule starts with when it is computed afresh (registration, import, a
    new or changed plan, changed dates): `next_due`, except that when nothing was done and that
    first due date is more than CATCH_UP_DAYS before `on` (an appliance registered years after
    its installation), a one-off plan is no longer asked for (None: an inspection 30 days after
    installing is pointless three years on), and a recurring one is due at the latest date of
    its fixed cycle on or before `on` (overdue by less than one interval, not by years)."""
    due = next_due(plan, install_date, last_done_on)
    if due is None or _done(last_done_on, install_date) or due >= on - timedelta(days=CATCH_UP_DAYS):
        return due
    if plan.interval_months is None:
        return None
    k = max(0, _months_between(first_due(plan, install_date), on) // plan.interval_months - 1)
    while k > 0 and _season(plan, _cycle(plan, install_date, k)) > on:
        k -= 1
    while _season(plan, _cycle(plan, install_date, k + 1)) <= on:
        k += 1
    return _season(plan, _cycle(plan, install_date, k))


def applicable_plans(plans: Iterable, model_id: int, category: str) -> list:
    """The plans that apply to a product of this model: the model's own active plans, plus its
    category's active plans whose service type none of the model's plans covers (a model's plan
    of a type replaces its category's plans of that type)."""
    active = [p for p in plans if p.active]
    own = [p for p in active if p.product_model_id == model_id]
    covered = {p.service_type for p in own}
    return own + [p for p in active if p.product_model_id is None and p.category == category
                  and p.service_type not in covered]


def warranty_end(purchase_date: date | None, install_date: date | None, warranty_months: int) -> date | None:
    """(purchase date, else install date) + the model's warranty months; None without either date."""
    start = purchase_date or install_date
    return add_months(start, warranty_months) if start else None


def _start_of(install_date: date | None, purchase_date: date | None, created_at: datetime | None) -> date:
    """Where a product's schedule counts from: its installation, else its purchase, else the day
    it was registered."""
    return install_date or purchase_date or business_date(created_at or utcnow())


# -- the catalogue: product models --------------------------------------------------------------


def _category(value) -> str | None:
    value = str(value or "").strip()
    if value in CATEGORIES:
        return value
    return {label: key for key, label in CATEGORIES.items()}.get(value)


def _int(value, field: str, low: int, high: int, errors: dict, message: str) -> int | None:
    """An integer in low..high from a number or text; None when empty; else the message in `errors`."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[field] = [message]
        return None
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        errors[field] = [message]
        return None
    if not low <= number <= high:
        errors[field] = [message]
        return None
    return number


def _bool(value, field: str, errors: dict) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in ("1", "true", "yes", "y", "是", "启用"):
        return True
    if text in ("0", "false", "no", "n", "否", "停用"):
        return False
    errors[field] = ["须为 是/否（1/0）"]
    return None


def clean_model(data: dict, *, partial: bool = False) -> dict:
    """The product-model fields present in `data`, checked; a 422 lists every bad field. The
    category may be its key (water_purifier) or its Chinese name (净水器)."""
    out, errors = {}, {}
    required = () if partial else ("code", "name", "category")
    for name in required:
        if name not in data or data[name] is None or str(data[name]).strip() == "":
            errors[name] = ["必填"]
    if "code" in data and "code" not in errors:
        code = normalise_code(data["code"])
        if not _CODE.fullmatch(code):
            errors["code"] = ["型号编码须为 1–64 个英文字母、数字或符号（不含空格）"]
        out["code"] = code
    if "name" in data and "name" not in errors:
        name = _one_line(data["name"])
        if not 1 <= len(name) <= 128:
            errors["name"] = ["名称须为 1–128 个字"]
        out["name"] = name
    if "category" in data and "category" not in errors:
        category = _category(data["category"])
        if category is None:
            errors["category"] = [f"品类须为：{'、'.join(CATEGORIES.values())}"]
        out["category"] = category
    if "warranty_months" in data:
        months = _int(data["warranty_months"], "warranty_months", 0, 240, errors, "保修月数须为 0–240 的整数")
        if months is None and "warranty_months" not in errors and not partial:
            months = 12
        if months is not None:
            out["warranty_months"] = months
    if "image" in data:
        image = (str(data["image"]).strip() if data["image"] is not None else "") or None
        if image is not None:
            try:
                uploads.get_upload(image)
            except NotFound:
                errors["image"] = ["图片不存在，请先上传"]
        out["image"] = image
    if "active" in data and data["active"] is not None and data["active"] != "":
        active = _bool(data["active"], "active", errors)
        if active is not None:
            out["active"] = active
    if errors:
        raise ValidationFailed("型号信息有误", details={"fields": errors})
    return out


def _model_state(model: ProductModel) -> dict:
    return {"code": model.code, "name": model.name, "category": model.category, "image": model.image,
            "warranty_months": model.warranty_months, "active": model.active}


def _check_code_free(code: str, model_id: int | None = None) -> None:
    taken = db.session.scalar(sa.select(ProductModel.id).where(ProductModel.code == code))
    if taken is not None and taken != model_id:
        raise ValidationFailed("型号编码已存在", code="model_code_taken",
                               details={"fields": {"code": [f"型号编码 {code} 已存在"]}})


def get_product_model(model_id: int) -> ProductModel:
    model = db.session.get(ProductModel, model_id) if 0 < model_id <= MAX_ID else None
    if model is None:
        raise NotFound("型号不存在", code="product_model_not_found")
    return model


def create_product_model(data: dict, actor) -> ProductModel:
    """A new model of the catalogue (admins): code unique, category, name, warranty months, image."""
    fields = clean_model(data)
    _check_code_free(fields["code"])
    model = ProductModel(**{"warranty_months": 12, "active": True, **fields})
    db.session.add(model)
    db.session.flush()
    audit.record(actor, "product_model.create", "product_model", model.id, after=_model_state(model))
    return model


def update_product_model(model_id: int, data: dict, actor) -> ProductModel:
    """Change a model (only the fields given). Products keep their stored warranty end: it was
    the warranty they were sold with."""
    model = get_product_model(model_id)
    fields = clean_model(data, partial=True)
    if "code" in fields:
        _check_code_free(fields["code"], model.id)
    before = _model_state(model)
    category_changed = "category" in fields and fields["category"] != model.category
    for name, value in fields.items():
        setattr(model, name, value)
    db.session.flush()
    after = _model_state(model)
    if after != before:
        audit.record(actor, "product_model.update", "product_model", model.id, before=before, after=after)
    if category_changed:  # another category's plans apply to its products now
        for plan_id in db.session.scalars(sa.select(MaintenancePlan.id).where(
                MaintenancePlan.category.in_((before["category"], model.category)))).all():
            reschedule_plan(plan_id, model_id=model.id)
    return model


def deactivate_product_model(model_id: int, actor) -> ProductModel:
    """Take a model out of the pickers (discontinued). Its products, plans and schedules stay:
    the appliances are still in homes, and a nameplate scan still registers one."""
    return update_product_model(model_id, {"active": False}, actor)


def list_product_models(*, q: str | None = None, category: str | None = None, active: bool | None = None,
                        limit: int = 20, cursor: str | None = None) -> Page:
    """The catalogue by code (filter by code or name, category, active)."""
    stmt = sa.select(ProductModel)
    q = (q or "").strip()
    if q:
        stmt = stmt.where(sa.or_(ProductModel.code.contains(q.upper(), autoescape=True),
                                 ProductModel.name.contains(q, autoescape=True)))
    if category:
        stmt = stmt.where(ProductModel.category == category)
    if active is not None:
        stmt = stmt.where(ProductModel.active.is_(active))
    return paginate(stmt, [ProductModel.code], limit=limit, cursor=cursor, descending=False)


def all_product_models(*, active_only: bool = False) -> list[ProductModel]:
    """The whole catalogue by category and code (pickers; a catalogue is hundreds of rows)."""
    stmt = sa.select(ProductModel).order_by(ProductModel.category, ProductModel.code)
    if active_only:
        stmt = stmt.where(ProductModel.active.is_(True))
    return list(db.session.scalars(stmt))


def models_by_code(codes: Iterable[str]) -> dict[str, ProductModel]:
    wanted = {normalise_code(c) for c in codes if c}
    if not wanted:
        return {}
    return {m.code: m for m in db.session.scalars(sa.select(ProductModel).where(ProductModel.code.in_(wanted)))}


def import_models(rows: list[dict]) -> dict[str, int]:
    """Insert or update cleaned model rows by code (the CSV import; idempotent: a row equal to the
    stored model changes nothing). Returns counts inserted / updated / unchanged."""
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    existing = models_by_code(r["code"] for r in rows)
    for row in rows:
        model = existing.get(row["code"])
        if model is None:
            model = ProductModel(**{"warranty_months": 12, "active": True, **row})
            db.session.add(model)
            existing[row["code"]] = model
            counts["inserted"] += 1
            continue
        before = _model_state(model)
        for name, value in row.items():
            setattr(model, name, value)
        counts["updated" if _model_state(model) != before else "unchanged"] += 1
    db.session.flush()
    return counts


# -- the catalogue: maintenance plans ------------------------------------------------------------

PLAN_FIELDS = ("name", "category", "product_model_id", "service_type", "first_due_days", "interval_months",
               "after_completion", "season_start_month", "season_end_month", "lead_days", "description", "active")
# The fields that move due dates or decide which products a plan applies to.
SCHEDULING_FIELDS = ("category", "product_model_id", "service_type", "first_due_days", "interval_months",
                     "after_completion", "season_start_month", "season_end_month", "active")


def _plan_state(plan: MaintenancePlan) -> dict:
    return {name: getattr(plan, name) for name in PLAN_FIELDS}


def clean_plan(data: dict, current: dict | None = None) -> dict:
    """A plan's fields after applying `data` to `current` (a new plan: None), checked as a whole:
    a category XOR a model, a known service type, day and month ranges, both season months or
    neither. A 422 lists every bad field."""
    state = {"after_completion": True, "lead_days": 14, "description": "", "active": True,
             "interval_months": None, "season_start_month": None, "season_end_month": None,
             "category": None, "product_model_id": None, **(current or {})}
    errors: dict[str, list[str]] = {}
    for name in PLAN_FIELDS:
        if name in data:
            state[name] = data[name]
    if state.get("category") in ("", None):
        state["category"] = None
    name = _one_line(state.get("name"))
    if not 1 <= len(name) <= 64:
        errors["name"] = ["名称须为 1–64 个字"]
    state["name"] = name
    if state["category"] is not None:
        category = _category(state["category"])
        if category is None:
            errors["category"] = [f"品类须为：{'、'.join(CATEGORIES.values())}"]
        state["category"] = category
    if state["product_model_id"] is not None:
        model_id = _int(state["product_model_id"], "product_model_id", 1, MAX_ID, errors, "型号不存在")
        if model_id is not None and db.session.get(ProductModel, model_id) is None:
            errors["product_model_id"] = ["型号不存在"]
        state["product_model_id"] = model_id
    if (state["category"] is None) == (state["product_model_id"] is None) and not (
            {"category", "product_model_id"} & set(errors)):
        errors["category"] = ["请选择品类或型号之一（二者只能选一个）"]
    if state.get("service_type") not in SERVICE_TYPES:
        errors["service_type"] = [f"服务类型须为：{'、'.join(SERVICE_TYPES.values())}"]
    state["first_due_days"] = _int(state.get("first_due_days"), "first_due_days", 0, 3650, errors,
                                   "首次到期天数须为 0–3650 的整数")
    if state["first_due_days"] is None and "first_due_days" not in errors:
        errors["first_due_days"] = ["必填"]
    state["interval_months"] = _int(state.get("interval_months"), "interval_months", 1, 120, errors,
                                    "周期月数须为 1–120 的整数，或留空表示只做一次")
    for month in ("season_start_month", "season_end_month"):
        state[month] = _int(state.get(month), month, 1, 12, errors, "月份须为 1–12")
    if (state["season_start_month"] is None) != (state["season_end_month"] is None) and not (
            {"season_start_month", "season_end_month"} & set(errors)):
        errors["season_end_month"] = ["季节窗口须同时填写开始月和结束月，或都不填"]
    lead = _int(state.get("lead_days"), "lead_days", 0, 90, errors, "提前提醒天数须为 0–90 的整数")
    state["lead_days"] = 14 if lead is None and "lead_days" not in errors else lead
    for flag in ("after_completion", "active"):
        value = _bool(state.get(flag), flag, errors)
        state[flag] = value
    description = str(state.get("description") or "").strip()
    if len(description) > 500:
        errors["description"] = ["说明最多 500 个字"]
    state["description"] = description
    if errors:
        raise ValidationFailed("保养计划有误", details={"fields": errors})
    return state


def get_plan(plan_id: int) -> MaintenancePlan:
    plan = db.session.get(MaintenancePlan, plan_id) if 0 < plan_id <= MAX_ID else None
    if plan is None:
        raise NotFound("保养计划不存在", code="plan_not_found")
    return plan


def create_plan(data: dict, actor) -> MaintenancePlan:
    """A new maintenance plan (admins); the products it applies to are scheduled at once."""
    plan = MaintenancePlan(**clean_plan(data))
    db.session.add(plan)
    db.session.flush()
    audit.record(actor, "maintenance_plan.create", "maintenance_plan", plan.id, after=_plan_state(plan))
    _reschedule_after_change(plan, None)
    return plan


def update_plan(plan_id: int, data: dict, actor) -> MaintenancePlan:
    """Change a plan (only the fields given); when its timing or target changed, every product it
    applies to (or applied to) is rescheduled."""
    plan = get_plan(plan_id)
    before = _plan_state(plan)
    for name, value in clean_plan(data, before).items():
        setattr(plan, name, value)
    db.session.flush()
    after = _plan_state(plan)
    if after != before:
        audit.record(actor, "maintenance_plan.update", "maintenance_plan", plan.id, before=before, after=after)
    if any(before[name] != after[name] for name in SCHEDULING_FIELDS):
        _reschedule_after_change(plan, before)
    return plan


def deactivate_plan(plan_id: int, actor) -> MaintenancePlan:
    """Stop a plan: its schedules go (no more care items from it); a model plan's category plans
    of the same type apply to that model's products again."""
    return update_plan(plan_id, {"active": False}, actor)


def list_plans(*, category: str | None = None, product_model_id: int | None = None, active: bool | None = None,
               limit: int = 20, cursor: str | None = None) -> Page:
    stmt = sa.select(MaintenancePlan)
    if category:
        stmt = stmt.where(MaintenancePlan.category == category)
    if product_model_id:
        stmt = stmt.where(MaintenancePlan.product_model_id == product_model_id)
    if active is not None:
        stmt = stmt.where(MaintenancePlan.active.is_(active))
    return paginate(stmt, [MaintenancePlan.id], limit=limit, cursor=cursor)


def _reschedule_after_change(plan: MaintenancePlan, before: dict | None) -> int:
    """Reschedule the plan's products; and where the plan is (or was) a model's plan, the
    category plans of that type for that model's products, which it displaces (or no longer does)."""
    changed = reschedule_plan(plan.id)
    displaced = set()
    for state in filter(None, (before, _plan_state(plan))):
        if state["product_model_id"] is not None:
            displaced.add((state["product_model_id"], state["service_type"]))
    for model_id, service_type in sorted(displaced):
        model = db.session.get(ProductModel, model_id)
        for other in db.session.scalars(sa.select(MaintenancePlan.id).where(
                MaintenancePlan.category == model.category, MaintenancePlan.service_type == service_type)).all():
            changed += reschedule_plan(other, model_id=model_id)
    return changed


# -- schedules ------------------------------------------------------------------------------------


def _applies(plan: MaintenancePlan):
    """SQL: the plan applies to the product row (Product joined with its ProductModel)."""
    if plan.product_model_id is not None:
        target = Product.model_id == plan.product_model_id
    else:
        other = sa.orm.aliased(MaintenancePlan)
        target = sa.and_(ProductModel.category == plan.category, ~sa.exists().where(
            other.product_model_id == Product.model_id, other.service_type == plan.service_type,
            other.active.is_(True)))
    return sa.and_(Product.status == "active", target)


def _last_done(product_ids: list[int], service_type: str) -> dict[int, date]:
    """The latest service of a type recorded on each product's schedules (a new schedule of that
    type starts from it)."""
    if not product_ids:
        return {}
    return dict(db.session.execute(
        sa.select(ProductSchedule.product_id, sa.func.max(ProductSchedule.last_done_on))
        .join(MaintenancePlan, MaintenancePlan.id == ProductSchedule.plan_id)
        .where(ProductSchedule.product_id.in_(product_ids), MaintenancePlan.service_type == service_type,
               ProductSchedule.last_done_on.is_not(None))
        .group_by(ProductSchedule.product_id)).all())


def _upsert_schedules(rows: list[dict]) -> None:
    if not rows:
        return
    insert = dialect_insert()(ProductSchedule.__table__)
    db.session.execute(insert.on_conflict_do_update(
        index_elements=["product_id", "plan_id"],
        set_={"next_due_on": insert.excluded.next_due_on, "last_done_on": insert.excluded.last_done_on,
              "updated_at": insert.excluded.updated_at}), rows)


def reschedule_plan(plan_id: int, *, model_id: int | None = None, batch: int = BATCH) -> int:
    """Bring every schedule of one plan up to date (all its products, or one model's): schedules
    of products it no longer applies to go; each product it applies to gets its due date
    recomputed from its installation and its last service of the plan's type. Runs in batches of
    `batch` products (bounded memory, whatever the archive's size); returns the rows written or
    deleted."""
    plan = get_plan(plan_id)
    scope = [Product.model_id == model_id] if model_id is not None else []
    s = ProductSchedule.__table__.c
    in_scope = sa.select(Product.id).where(*scope)
    if not plan.active:
        stmt = sa.delete(ProductSchedule).where(s.plan_id == plan.id)
        if scope:
            stmt = stmt.where(s.product_id.in_(in_scope))
        return db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount
    applicable = sa.select(Product.id).join(ProductModel, ProductModel.id == Product.model_id) \
        .where(*scope, _applies(plan))
    stale = sa.delete(ProductSchedule).where(s.plan_id == plan.id, s.product_id.not_in(applicable))
    if scope:
        stale = stale.where(s.product_id.in_(in_scope))
    changed = db.session.execute(stale.execution_options(synchronize_session=False)).rowcount
    on, last_id = today(), 0
    while True:
        products = db.session.execute(
            sa.select(Product.id, Product.install_date, Product.purchase_date, Product.created_at)
            .join(ProductModel, ProductModel.id == Product.model_id)
            .where(*scope, _applies(plan), Product.id > last_id).order_by(Product.id).limit(batch)).all()
        if not products:
            return changed
        last_id = products[-1].id
        ids = [p.id for p in products]
        current = {row.product_id: row for row in db.session.execute(
            sa.select(s.product_id, s.next_due_on, s.last_done_on).where(s.plan_id == plan.id, s.product_id.in_(ids)))}
        done = _last_done(ids, plan.service_type)
        now, rows = utcnow(), []
        for p in products:
            mine = current.get(p.id)
            last = mine.last_done_on if mine is not None and mine.last_done_on else done.get(p.id)
            due = schedule_due(plan, _start_of(p.install_date, p.purchase_date, p.created_at), last, on)
            if mine is None or (mine.next_due_on, mine.last_done_on) != (due, last):
                rows.append({"product_id": p.id, "plan_id": plan.id, "next_due_on": due, "last_done_on": last,
                             "updated_at": now})
        _upsert_schedules(rows)
        changed += len(rows)


def _plans_by_model(models: dict[int, str]) -> dict[int, list[MaintenancePlan]]:
    """The applicable plans of each model ({model id: category}), in one query."""
    if not models:
        return {}
    plans = db.session.scalars(sa.select(MaintenancePlan).where(
        MaintenancePlan.active.is_(True), sa.or_(MaintenancePlan.product_model_id.in_(list(models)),
                                                 MaintenancePlan.category.in_(set(models.values()))))
        .order_by(MaintenancePlan.id)).all()
    return {model_id: applicable_plans(plans, model_id, category) for model_id, category in models.items()}


def _new_schedule_rows(products: Iterable[dict], plans_by_model: dict[int, list], on: date) -> list[dict]:
    """Schedule rows of newly registered products (dicts with id, model_id and their dates)."""
    now = utcnow()
    return [{"product_id": p["id"], "plan_id": plan.id, "last_done_on": None, "updated_at": now,
             "next_due_on": schedule_due(plan, _start_of(p["install_date"], p["purchase_date"], p.get("created_at")),
                                         None, on)}
            for p in products for plan in plans_by_model.get(p["model_id"], ())]


def refresh_product_schedules(product: Product) -> int:
    """Recompute one product's schedules after its dates, model or owner changed: the plans that
    apply get a row (keeping their last service), the others lose theirs; a product not in use
    has none."""
    s = ProductSchedule.__table__.c
    if product.status != "active":
        return db.session.execute(sa.delete(ProductSchedule).where(s.product_id == product.id)
                                  .execution_options(synchronize_session=False)).rowcount
    plans = _plans_by_model({product.model_id: product.model.category})[product.model_id]
    current = {row.plan_id: row for row in db.session.execute(
        sa.select(s.plan_id, s.next_due_on, s.last_done_on, MaintenancePlan.service_type)
        .join(MaintenancePlan, MaintenancePlan.id == s.plan_id).where(s.product_id == product.id))}
    done_by_type: dict[str, date] = {}
    for row in current.values():
        if row.last_done_on and (row.service_type not in done_by_type or row.last_done_on > done_by_type[row.service_type]):
            done_by_type[row.service_type] = row.last_done_on
    wanted = {plan.id for plan in plans}
    gone = [plan_id for plan_id in current if plan_id not in wanted]
    changed = 0
    if gone:
        changed += db.session.execute(sa.delete(ProductSchedule).where(s.product_id == product.id, s.plan_id.in_(gone))
                                      .execution_options(synchronize_session=False)).rowcount
    start, on, now, rows = _start_of(product.install_date, product.purchase_date, product.created_at), today(), utcnow(), []
    for plan in plans:
        mine = current.get(plan.id)
        last = mine.last_done_on if mine is not None and mine.last_done_on else done_by_type.get(plan.service_type)
        due = schedule_due(plan, start, last, on)
        if mine is None or (mine.next_due_on, mine.last_done_on) != (due, last):
            rows.append({"product_id": product.id, "plan_id": plan.id, "next_due_on": due, "last_done_on": last,
                         "updated_at": now})
    _upsert_schedules(rows)
    return changed + len(rows)


def record_service(product_id: int, service_type: str, done_on: date) -> int:
    """A service of `service_type` was completed on `done_on` for the product (an order completed
    on the platform, or arrived completed from the service system): every schedule of the product
    whose plan has that type advances from it. A date no later than the recorded one changes
    nothing. Returns the schedules advanced."""
    return record_services([(product_id, service_type, done_on)])


def record_services(items: Iterable[tuple[int | None, str, date | None]]) -> int:
    """`record_service` for many (product id, service type, date) at once (imports): the latest
    date per product and type counts, in a few statements per 500 products. Each update is
    conditional on the stored date being older, so two completions racing keep the later."""
    latest: dict[tuple[int, str], date] = {}
    for product_id, service_type, done_on in items:
        if product_id is None or done_on is None:
            continue
        key = (product_id, service_type)
        if key not in latest or done_on > latest[key]:
            latest[key] = done_on
    if not latest:
        return 0
    s = ProductSchedule.__table__.c
    update = ProductSchedule.__table__.update().where(
        s.product_id == sa.bindparam("b_product"), s.plan_id == sa.bindparam("b_plan"),
        sa.or_(s.last_done_on.is_(None), s.last_done_on < sa.bindparam("b_done"))
    ).values(last_done_on=sa.bindparam("b_done"), next_due_on=sa.bindparam("b_next"), updated_at=sa.bindparam("b_at"))
    product_ids = sorted({product_id for product_id, _ in latest})
    advanced, now = 0, utcnow()
    for start in range(0, len(product_ids), 500):
        chunk = product_ids[start:start + 500]
        params = []
        for row in db.session.execute(
                sa.select(s.product_id, s.plan_id, s.last_done_on, MaintenancePlan, Product.install_date,
                          Product.purchase_date, Product.created_at)
                .join(MaintenancePlan, MaintenancePlan.id == s.plan_id).join(Product, Product.id == s.product_id)
                .where(s.product_id.in_(chunk))):
            plan = row.MaintenancePlan
            done_on = latest.get((row.product_id, plan.service_type))
            if done_on is None or (row.last_done_on is not None and done_on <= row.last_done_on):
                continue
            due = next_due(plan, _start_of(row.install_date, row.purchase_date, row.created_at), done_on)
            params.append({"b_product": row.product_id, "b_plan": row.plan_id, "b_done": done_on, "b_next": due,
                           "b_at": now})
        if params:
            result = db.session.execute(update.execution_options(synchronize_session=False), params)
            advanced += result.rowcount if result.rowcount >= 0 else len(params)
    return advanced


def skip_due(product_id: int, plan_id: int, due_on: date) -> date | None:
    """The household declined the care due on `due_on` (recorded by the steward): the schedule
    moves to the plan's next due date after it (see `due_after`) — unless it has already moved
    past that date (a service was recorded meanwhile). Returns the schedule's due date after the
    call (None: nothing more is due, or no such schedule)."""
    row = db.session.execute(
        sa.select(ProductSchedule.next_due_on, MaintenancePlan, Product.install_date, Product.purchase_date,
                  Product.created_at)
        .join(MaintenancePlan, MaintenancePlan.id == ProductSchedule.plan_id)
        .join(Product, Product.id == ProductSchedule.product_id)
        .where(ProductSchedule.product_id == product_id, ProductSchedule.plan_id == plan_id)).first()
    if row is None:
        return None
    if row.next_due_on is None or row.next_due_on > due_on:
        return row.next_due_on
    following = due_after(row.MaintenancePlan, _start_of(row.install_date, row.purchase_date, row.created_at), due_on)
    s = ProductSchedule.__table__.c
    db.session.execute(ProductSchedule.__table__.update().where(
        s.product_id == product_id, s.plan_id == plan_id, s.next_due_on.is_not(None), s.next_due_on <= due_on)
        .values(next_due_on=following, updated_at=utcnow()))
    return db.session.scalar(sa.select(s.next_due_on).where(s.product_id == product_id, s.plan_id == plan_id))


def schedules_of(product_id: int) -> list[dict]:
    """A product's schedules with their plans, soonest first (nothing due last)."""
    s = ProductSchedule
    rows = db.session.execute(sa.select(s.plan_id, s.next_due_on, s.last_done_on, MaintenancePlan.name,
                                        MaintenancePlan.service_type, MaintenancePlan.description)
                              .join(MaintenancePlan, MaintenancePlan.id == s.plan_id)
                              .where(s.product_id == product_id)).all()
    rows = sorted(rows, key=lambda r: (r.next_due_on is None, r.next_due_on or date.max, r.plan_id))
    return [{"plan_id": r.plan_id, "plan_name": r.name, "service_type": r.service_type,
             "service_type_label": SERVICE_TYPES.get(r.service_type, r.service_type), "description": r.description,
             "next_due_on": r.next_due_on, "last_done_on": r.last_done_on} for r in rows]


# -- registration ---------------------------------------------------------------------------------


@dataclass
class Registration:
    """The outcome of a registration: the product (created, or the one already on record for the
    same owner), or the conflict an agent will settle (the serial belongs to someone else)."""
    product: Product | None
    created: bool = False
    conflict: SerialConflict | None = None


SERIAL_CONFLICT_MESSAGE = "该序列号的产品已登记在其他用户名下，客服将核实后与您联系"
SERIAL_DECIDED_MESSAGE = "该序列号的归属已由客服核实，如有疑问请联系客服"


def conflict_error(conflict: SerialConflict) -> Conflict:
    """The 409 a claimant reads (the conflict row itself is kept: see the API)."""
    if conflict.status == "open":
        return Conflict(SERIAL_CONFLICT_MESSAGE, code="serial_conflict",
                        details={"conflict_id": conflict.id, "status": conflict.status})
    return Conflict(SERIAL_DECIDED_MESSAGE, code="serial_conflict_decided",
                    details={"conflict_id": conflict.id, "status": conflict.status,
                             "resolution": conflict.resolution})


def clean_serial(value) -> str:
    serial = normalise_code(value)
    if not serial:
        raise invalid("serial", "请填写序列号")
    if not _CODE.fullmatch(serial):
        raise invalid("serial", "序列号须为 1–64 个英文字母、数字或符号（不含空格）")
    return serial


def clean_phone(value, field: str = "owner_phone") -> str | None:
    phone = re.sub(r"[\s-]", "", str(value or ""))
    if not phone:
        return None
    if not (phone.isascii() and _PHONE.fullmatch(phone)):
        raise invalid(field, "手机号格式不对")
    return phone


def parse_date(value, field: str, *, on: date | None = None) -> date | None:
    """A business date (a date, or ISO text like 2024-05-01): not in the future, not before 1980."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = business_date(value) if value.tzinfo else value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip().replace("/", "-"))
        except ValueError:
            raise invalid(field, "日期格式不对，例如 2024-05-01") from None
    if value > (on or today()):
        raise invalid(field, "日期不能晚于今天")
    if value < EARLIEST_DATE:
        raise invalid(field, "日期不能早于 1980 年")
    return value


def _resolve_model(data: dict) -> ProductModel:
    if data.get("model_id") is not None:
        model = db.session.get(ProductModel, data["model_id"]) if 0 < int(data["model_id"]) <= MAX_ID else None
        if model is None:
            raise invalid("model_id", "型号不存在")
        return model
    code = normalise_code(data.get("model_code"))
    if not code:
        raise invalid("model_code", "请选择型号或填写型号编码")
    model = db.session.scalar(sa.select(ProductModel).where(ProductModel.code == code))
    if model is None:
        raise invalid("model_code", f"型号 {code[:64]} 不存在，请核对铭牌上的型号")
    return model


def _place(data: dict, owner: User | None, *, resident_only: bool) -> dict:
    """Where the product is: an address of the owner's address book (its estate with it), or an
    estate and an address written out."""
    address_id, estate_id = data.get("address_id"), data.get("estate_id")
    text = _one_line(data.get("address"))
    if address_id is not None:
        if owner is None:
            raise invalid("address_id", "没有用户的产品不能使用地址簿")
        book = estates.address_of(owner.id, address_id)  # 404 unless the owner's
        if estate_id is not None and estate_id != book.estate_id:
            raise invalid("address_id", "该地址不在所选小区")
        if text:
            raise invalid("address", "已选择地址簿中的地址，请勿再填写地址")
        return {"estate_id": book.estate_id, "address_id": book.id, "address": estates.address_text(book)[:255]}
    if len(text) > 255:
        raise invalid("address", "地址不能超过 255 个字")
    if estate_id is not None:
        if db.session.get(Estate, estate_id) is None:
            raise invalid("estate_id", "小区不存在")
        if resident_only and owner is not None and not estates.is_resident(owner.id, estate_id):
            raise invalid("estate_id", "请选择您居住的小区")
    return {"estate_id": estate_id, "address_id": None, "address": text}


def _same_owner(product: Product, owner: User | None, phone: str | None) -> bool:
    if owner is not None and product.owner_id == owner.id:
        return True
    # Records by phone: the same phone is the same household while one side has no account.
    return bool(phone) and product.owner_phone == phone and (product.owner_id is None or owner is None)


def _claim(data: dict, model: ProductModel, serial: str, dates: dict, place: dict, installer_id, external_id) -> dict:
    return {"model_id": model.id, "model_code": model.code, "serial": serial,
            **{k: v.isoformat() if v else None for k, v in dates.items()}, **place,
            "installer_id": installer_id, "external_id": external_id}


def register_product(data: dict, actor, *, owner: User | None, source: str, owner_phone: str | None = None,
                     on: date | None = None) -> Registration:
    """Put an appliance on a household's record.

    `data`: model_id or model_code, serial (trimmed, upper-case), install_date and
    purchase_date (not in the future), address_id (the owner's address book) or estate_id and
    address, installer_id (an engineer), external_id (the installation record's id). The
    warranty end is derived from the model. Idempotent: the same serial of the same model for
    the same owner (or the same external_id) returns the product on record, unchanged. A serial
    on record for someone else is never moved: it becomes a SerialConflict (one per claimant)
    for an agent, returned instead of a product.
    """
    if source not in PRODUCT_SOURCES:
        raise ValueError(source)
    model = _resolve_model(data)
    serial = clean_serial(data.get("serial"))
    on = on or today()
    dates = {name: parse_date(data.get(name), name, on=on) for name in ("install_date", "purchase_date")}
    phone = (owner.phone if owner is not None else None) or owner_phone
    place = _place(data, owner, resident_only=source == "resident")
    installer_id = data.get("installer_id")
    if installer_id is not None and db.session.get(Engineer, installer_id) is None:
        raise invalid("installer_id", "工程师不存在")
    external_id = (str(data.get("external_id") or "").strip() or None)
    if external_id is not None:
        if len(external_id) > 64:
            raise invalid("external_id", "不能超过 64 个字符")
        known = db.session.scalar(sa.select(Product).where(Product.external_id == external_id))
        if known is not None:
            return Registration(known)
    values = dict(model_id=model.id, serial=serial, **dates, owner_id=owner.id if owner else None, owner_phone=phone,
                  warranty_end=warranty_end(dates["purchase_date"], dates["install_date"], model.warranty_months),
                  installer_id=installer_id, status="active", source=source, external_id=external_id,
                  created_by_id=getattr(actor, "id", None), **place)
    product = insert_or_nothing(Product, values, conflict=["model_id", "serial"])
    if product is not None:
        rows = _new_schedule_rows([{"id": product.id, "model_id": model.id, **dates, "created_at": product.created_at}],
                                  _plans_by_model({model.id: model.category}), on)
        _upsert_schedules(rows)
        signals.product_registered.send(product_id=product.id, owner_id=product.owner_id, source=source)
        return Registration(product, created=True)
    existing = db.session.scalars(sa.select(Product).where(Product.model_id == model.id, Product.serial == serial)
                                  .with_for_update(of=Product)).one()
    if _same_owner(existing, owner, phone):
        if owner is not None and existing.owner_id is None:  # a record by phone finds its account
            existing.owner_id = owner.id
        if external_id is not None and existing.external_id is None:
            existing.external_id = external_id
        db.session.flush()
        return Registration(existing)
    claim = _claim(data, model, serial, dates, place, installer_id, external_id)
    return Registration(None, conflict=_open_conflict(existing, owner, phone, source, claim))


def _open_conflict(product: Product, owner: User | None, phone: str | None, source: str, claim: dict) -> SerialConflict:
    """The claimant's conflict on this product: the one on record (open or decided), else a new
    open one. The product row is locked by the caller, so one claimant's twin claims make one row."""
    who = SerialConflict.claimant_id == owner.id if owner is not None else sa.and_(
        SerialConflict.claimant_id.is_(None), SerialConflict.claimant_phone == phone)
    known = db.session.scalars(sa.select(SerialConflict).where(SerialConflict.product_id == product.id, who)
                               .order_by(SerialConflict.id.desc()).limit(1)).first()
    if known is not None:
        return known
    conflict = SerialConflict(product_id=product.id, claimant_id=owner.id if owner else None, claimant_phone=phone,
                              source=source, claim=claim, status="open")
    db.session.add(conflict)
    db.session.flush()
    return conflict


def register_for_customer(who: Principal, user_id: int, data: dict) -> Registration:
    """The steward registers an appliance of one of their customers at a visit: the installer is
    the steward, the estate the binding's (or the address book entry's, when one is chosen).
    Anyone else's customer is a 404."""
    detail = stewards.customer_of(who, user_id)
    engineer = estates.engineer_of(who.id)
    data = {**data, "installer_id": engineer.id}
    if data.get("address_id") is None and data.get("estate_id") is None:
        data["estate_id"] = detail.binding.estate_id
    return register_product(data, who, owner=detail.resident, source="engineer")


def register_own(user: User, data: dict) -> Registration:
    """A resident registers their own appliance (e.g. after scanning its serial)."""
    data = {k: v for k, v in data.items() if k != "installer_id"}
    return register_product(data, user, owner=user, source="resident")


def user_by_phone(phones: Iterable[str]) -> dict[str, int]:
    """The account of each phone (the oldest account with it)."""
    phones = {p for p in phones if p}
    found: dict[str, int] = {}
    if phones:
        for phone, user_id in db.session.execute(sa.select(User.phone, User.id).where(User.phone.in_(phones))
                                                 .order_by(User.id)):
            found.setdefault(phone, user_id)
    return found


def receive_installation(data: dict) -> Registration:
    """One installation record from the manufacturer's system (the signed integration):
    idempotent by external_id; the owner is the account with that phone, else the phone is kept
    until someone confirms it; the estate by its code, the installer by employee number."""
    phone = clean_phone(data.get("owner_phone"))
    if phone is None:
        raise invalid("owner_phone", "请提供业主手机号")
    row = {"model_code": data.get("model_code"), "serial": data.get("serial"), "external_id": data.get("external_id"),
           "install_date": data.get("install_date"), "purchase_date": data.get("purchase_date"),
           "address": data.get("address")}
    if data.get("estate_code"):
        estate_id = db.session.scalar(sa.select(Estate.id).where(Estate.code == str(data["estate_code"]).strip()))
        if estate_id is None:
            raise invalid("estate_code", f"小区编码 {str(data['estate_code'])[:64]} 不存在")
        row["estate_id"] = estate_id
    if data.get("engineer_employee_no"):
        engineer_id = db.session.scalar(sa.select(Engineer.id).where(
            Engineer.employee_no == str(data["engineer_employee_no"]).strip()))
        if engineer_id is None:
            raise invalid("engineer_employee_no", f"工号 {str(data['engineer_employee_no'])[:32]} 的工程师不存在")
        row["installer_id"] = engineer_id
    user_id = user_by_phone([phone]).get(phone)
    owner = db.session.get(User, user_id) if user_id else None
    return register_product(row, None, owner=owner, source="integration", owner_phone=phone)


def products_by_serial(pairs: Iterable[tuple[str | None, str | None]]) -> dict[tuple[str, str], int]:
    """The products named by (model code, serial) pairs, in one query per 500 pairs (the order
    history import links its orders to them); pairs naming nothing are left out."""
    wanted = sorted({(normalise_code(code), normalise_code(serial)) for code, serial in pairs if code and serial})
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        found.update({(row.code, row.serial): row.id for row in db.session.execute(
            sa.select(ProductModel.code, Product.serial, Product.id).join(ProductModel, ProductModel.id == Product.model_id)
            .where(sa.tuple_(ProductModel.code, Product.serial).in_(chunk)))})
    return found


def link_phone(user_id: int, phone: str) -> int:
    """A user confirmed a phone: the products recorded under it without an account become theirs."""
    if not phone:
        return 0
    return db.session.execute(sa.update(Product).where(Product.owner_id.is_(None), Product.owner_phone == phone)
                              .values(owner_id=user_id, updated_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount


# -- the bulk import (flask products import) ------------------------------------------------------

IMPORT_COLUMNS = ("model_code", "serial", "owner_phone", "install_date", "purchase_date", "estate_code", "address",
                  "engineer_employee_no", "external_id")
IMPORT_REQUIRED = ("model_code", "serial", "owner_phone")


def clean_import_row(row: dict, *, on: date) -> dict:
    """Validate one CSV row (text values); ValidationFailed lists the fields in Chinese. Codes
    are resolved per batch (`import_products`)."""
    get = lambda name: str(row.get(name) or "").strip()  # noqa: E731
    errors: dict[str, list[str]] = {}
    for name in IMPORT_REQUIRED:
        if not get(name):
            errors[name] = ["必填"]
    out = {"model_code": normalise_code(get("model_code")), "estate_code": get("estate_code") or None,
           "engineer_employee_no": get("engineer_employee_no") or None, "external_id": get("external_id") or None,
           "address": _one_line(get("address"))}
    for name, check in (("serial", clean_serial), ("owner_phone", clean_phone)):
        if name not in errors:
            try:
                out[name] = check(get(name))
            except ValidationFailed as exc:
                errors.update(exc.details["fields"])
    for name in ("install_date", "purchase_date"):
        try:
            out[name] = parse_date(get(name), name, on=on)
        except ValidationFailed as exc:
            errors.update(exc.details["fields"])
    if len(out["address"]) > 255:
        errors["address"] = ["地址不能超过 255 个字"]
    if out["external_id"] and len(out["external_id"]) > 64:
        errors["external_id"] = ["不能超过 64 个字符"]
    if out["model_code"] and not _CODE.fullmatch(out["model_code"]):
        errors["model_code"] = ["型号编码格式不对"]
    if errors:
        raise ValidationFailed("产品数据有误", details={"fields": errors})
    return out


@dataclass
class ImportOutcome:
    inserted: int = 0
    skipped: int = 0  # on record already for the same owner (or the same external id)
    conflicts: int = 0  # new conflicts (a serial on record for another owner)
    schedules: int = 0
    refused: dict | None = None  # index in the batch -> the Chinese reason


class ImportCatalogue:
    """What one import run looks up once: the catalogue and its plans (hundreds of rows), so a
    batch asks the database only about its own serials, estates, engineers and phones."""

    def __init__(self):
        self.models = {m.code: (m.id, m.category, m.warranty_months) for m in all_product_models()}
        plans = _plans_by_model({model_id: category for model_id, category, _ in self.models.values()})
        # Plain copies: each batch commits and clears the session, which would expire ORM objects.
        self.plans = {model_id: [PlanRule(**{name: getattr(p, name) for name in PlanRule.__dataclass_fields__})
                                 for p in model_plans] for model_id, model_plans in plans.items()}


@dataclass(frozen=True)
class PlanRule:
    """What the schedule arithmetic reads of a maintenance plan."""
    id: int
    service_type: str
    first_due_days: int
    interval_months: int | None
    after_completion: bool
    season_start_month: int | None
    season_end_month: int | None


def import_products(rows: list[dict], catalogue: ImportCatalogue, *, on: date, actor=None,
                    source: str = "import") -> ImportOutcome:
    """Write one batch of cleaned rows: new products in one INSERT (ON CONFLICT DO NOTHING) with
    their schedules in another; a serial on record for the same owner is skipped; for another
    owner it becomes one conflict (once, whatever the re-runs). One query looks up the batch's
    serials, one its external ids, one each its estates, engineers and phones."""
    out = ImportOutcome(refused={})
    estate_codes = {r["estate_code"] for r in rows if r["estate_code"]}
    estate_ids = dict(db.session.execute(sa.select(Estate.code, Estate.id).where(Estate.code.in_(estate_codes)))
                      .all()) if estate_codes else {}
    numbers = {r["engineer_employee_no"] for r in rows if r["engineer_employee_no"]}
    engineer_ids = dict(db.session.execute(sa.select(Engineer.employee_no, Engineer.id)
                                           .where(Engineer.employee_no.in_(numbers))).all()) if numbers else {}
    owners = user_by_phone(r["owner_phone"] for r in rows)
    keyed: list[tuple[int, dict, tuple]] = []
    for index, row in enumerate(rows):
        model = catalogue.models.get(row["model_code"])
        if model is None:
            out.refused[index] = f"型号 {row['model_code']} 不存在"
        elif row["estate_code"] and row["estate_code"] not in estate_ids:
            out.refused[index] = f"小区编码 {row['estate_code']} 不存在"
        elif row["engineer_employee_no"] and row["engineer_employee_no"] not in engineer_ids:
            out.refused[index] = f"工号 {row['engineer_employee_no']} 的工程师不存在"
        else:
            keyed.append((index, row, (model[0], row["serial"])))
    if not keyed:
        return out
    p = Product.__table__.c
    existing = {(r.model_id, r.serial): dict(r._mapping) for r in db.session.execute(
        sa.select(p.id, p.model_id, p.serial, p.owner_id, p.owner_phone)
        .where(sa.tuple_(p.model_id, p.serial).in_({key for _, _, key in keyed})))}
    external_ids = {row["external_id"] for _, row, _ in keyed if row["external_id"]}
    known_external = set(db.session.scalars(sa.select(p.external_id).where(p.external_id.in_(external_ids)))) \
        if external_ids else set()
    now = utcnow()
    new: dict[tuple, dict] = {}
    claims: list[tuple[tuple, dict]] = []  # (key, row) claiming a serial on record for someone else
    for index, row, key in keyed:
        owner_id, phone = owners.get(row["owner_phone"]), row["owner_phone"]
        if row["external_id"] in known_external and key not in new:
            out.skipped += 1
            continue
        held = existing.get(key) or new.get(key)
        if held is not None:
            same = (owner_id is not None and held["owner_id"] == owner_id) or (
                held["owner_phone"] == phone and (held["owner_id"] is None or owner_id is None))
            if same:
                out.skipped += 1
            else:
                claims.append((key, row))
            continue
        model_id, _, months = catalogue.models[row["model_code"]]
        new[key] = {"model_id": model_id, "serial": row["serial"], "install_date": row["install_date"],
                    "purchase_date": row["purchase_date"], "owner_id": owner_id, "owner_phone": phone,
                    "warranty_end": warranty_end(row["purchase_date"], row["install_date"], months),
                    "estate_id": estate_ids.get(row["estate_code"]), "address_id": None, "address": row["address"],
                    "installer_id": engineer_ids.get(row["engineer_employee_no"]), "status": "active",
                    "source": source, "external_id": row["external_id"], "created_by_id": getattr(actor, "id", None),
                    "created_at": now, "updated_at": now}
        if row["external_id"]:
            known_external.add(row["external_id"])
    if new:
        insert = dialect_insert()(Product.__table__).on_conflict_do_nothing().returning(p.id, p.model_id, p.serial)
        created = {(r.model_id, r.serial): r.id for r in db.session.execute(insert, list(new.values()))}
        out.inserted = len(created)
        out.skipped += len(new) - len(created)  # a concurrent run (or an external id) got there first
        for key, values in new.items():
            values["id"] = created.get(key)
        rows_ = _new_schedule_rows([v for v in new.values() if v["id"] is not None], catalogue.plans, on)
        _upsert_schedules(rows_)
        out.schedules = len(rows_)
    if claims:
        out.conflicts = _import_conflicts(claims, existing, new, owners, source)
    return out


def _claimant_key(product_id: int, claimant_id: int | None, phone: str | None) -> tuple:
    """Who claims: the account when there is one, else the phone (as `_open_conflict` matches)."""
    return (product_id, "user", claimant_id) if claimant_id is not None else (product_id, "phone", phone)


def _import_conflicts(claims, existing, new, owners, source) -> int:
    """One conflict per product and claimant, ever (re-running the file creates none)."""
    wanted: dict[tuple, tuple] = {}
    for key, row in claims:
        product_id = existing[key]["id"] if key in existing else new[key]["id"]
        if product_id is None:
            continue
        owner_id = owners.get(row["owner_phone"])
        wanted.setdefault(_claimant_key(product_id, owner_id, row["owner_phone"]), (product_id, owner_id, row))
    c = SerialConflict.__table__.c
    known = {_claimant_key(r.product_id, r.claimant_id, r.claimant_phone) for r in db.session.execute(
        sa.select(c.product_id, c.claimant_id, c.claimant_phone).where(
            c.product_id.in_({product_id for product_id, _, _ in wanted.values()})))}
    now = utcnow()
    rows = [{"product_id": product_id, "claimant_id": owner_id, "claimant_phone": row["owner_phone"],
             "source": source, "status": "open", "created_at": now,
             "claim": {name: (v.isoformat() if isinstance(v, date) else v) for name, v in row.items()}}
            for key, (product_id, owner_id, row) in wanted.items() if key not in known]
    if rows:
        db.session.execute(sa.insert(SerialConflict.__table__), rows)
    return len(rows)


# -- reading and editing the archive --------------------------------------------------------------


def get_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id) if 0 < product_id <= MAX_ID else None
    if product is None:
        raise NotFound("产品不存在", code="product_not_found")
    return product


def own_product(user_id: int, product_id: int, *, active: bool = False) -> Product:
    """One of the user's products (someone else's is a 404); `active`: only one in use."""
    product = db.session.get(Product, product_id) if 0 < product_id <= MAX_ID else None
    if product is None or product.owner_id != user_id:
        raise NotFound("产品不存在", code="product_not_found")
    if active and product.status != "active":
        raise Conflict("该产品已停用", code="product_not_active")
    return product


def products_of_owner(owner_id: int, *, status: str | None = "active", limit: int = 20,
                      cursor: str | None = None) -> Page:
    """A household's products, newest first (one status, or all with None)."""
    stmt = sa.select(Product).where(Product.owner_id == owner_id)
    if status:
        stmt = stmt.where(Product.status == status)
    return paginate(stmt, [Product.id], limit=limit, cursor=cursor)


def customer_products(who: Principal, user_id: int, *, status: str | None = "active", limit: int = 20,
                      cursor: str | None = None) -> Page:
    """A customer's products for their steward (anyone else's customer: 404), admins and agents."""
    if not who.has_role("admin", "agent"):
        stewards.customer_of(who, user_id)
    return products_of_owner(user_id, status=status, limit=limit, cursor=cursor)


def update_own_product(user: User, product_id: int, data: dict) -> Product:
    """The owner corrects dates or the place of a product in use (the model and serial are its
    identity: a wrong one is retired and registered again). The warranty end follows the dates;
    the schedules follow too."""
    product = own_product(user.id, product_id, active=True)
    dates_changed = False
    for name in ("install_date", "purchase_date"):
        if name in data:
            value = parse_date(data[name], name)
            dates_changed |= value != getattr(product, name)
            setattr(product, name, value)
    if {"address_id", "estate_id", "address"} & set(data):
        if data.get("address_id") is not None:  # an address of the book brings its estate and text
            wanted = {k: data.get(k) for k in ("address_id", "estate_id", "address")}
        else:  # what is not sent stays
            wanted = {"estate_id": data.get("estate_id", product.estate_id), "address": data.get("address", product.address)}
        place = _place(wanted, user, resident_only="estate_id" in data)
        for name, value in place.items():
            setattr(product, name, value)
    product.warranty_end = warranty_end(product.purchase_date, product.install_date, product.model.warranty_months)
    db.session.flush()
    if dates_changed:
        refresh_product_schedules(product)
    return product


def retire_product(user: User, product_id: int) -> Product:
    """The owner no longer uses the appliance (scrapped, sold, moved out): it stays on record as
    retired and its schedules go, so no care is generated for it. Repeating is harmless."""
    product = own_product(user.id, product_id)
    if product.status != "retired":
        db.session.execute(sa.update(Product).where(Product.id == product.id, Product.status != "retired")
                           .values(status="retired", updated_at=utcnow()).execution_options(synchronize_session=False))
        db.session.refresh(product)
        refresh_product_schedules(product)
    return product


def product_cards(products: list[Product], *, on: date | None = None) -> list[dict]:
    """Products as the lists show them: the model (name, category label, image), the warranty
    (end, in warranty, days left), the place and installer, and the next care (the earliest due
    date of its schedules, with the plan's name and service type). Three more statements
    whatever the number of products."""
    on = on or today()
    ids = [p.id for p in products]
    care: dict[int, dict] = {}
    if ids:
        for row in db.session.execute(
                sa.select(ProductSchedule.product_id, ProductSchedule.next_due_on, MaintenancePlan.id,
                          MaintenancePlan.name, MaintenancePlan.service_type)
                .join(MaintenancePlan, MaintenancePlan.id == ProductSchedule.plan_id)
                .where(ProductSchedule.product_id.in_(ids), ProductSchedule.next_due_on.is_not(None))
                .order_by(ProductSchedule.next_due_on, MaintenancePlan.id)):
            care.setdefault(row.product_id, {
                "due_on": row.next_due_on, "plan_id": row.id, "plan_name": row.name, "service_type": row.service_type,
                "service_type_label": SERVICE_TYPES.get(row.service_type, row.service_type),
                "overdue": row.next_due_on < on, "days_left": (row.next_due_on - on).days})
    places = estates.estates_by_id({p.estate_id for p in products if p.estate_id})
    installers = estates.engineers_by_id(p.installer_id for p in products)
    cards = []
    for p in products:
        in_warranty = p.warranty_end is not None and p.warranty_end >= on
        cards.append({
            "id": p.id, "serial": p.serial, "status": p.status, "status_label": STATUS_LABELS[p.status],
            "source": p.source, "model": {"id": p.model.id, "code": p.model.code, "name": p.model.name,
                                          "category": p.model.category,
                                          "category_label": CATEGORIES.get(p.model.category, p.model.category),
                                          "image": p.model.image, "warranty_months": p.model.warranty_months},
            "install_date": p.install_date, "purchase_date": p.purchase_date, "warranty_end": p.warranty_end,
            "in_warranty": in_warranty, "warranty_days_left": (p.warranty_end - on).days if in_warranty else 0,
            "owner_id": p.owner_id, "estate_id": p.estate_id,
            "estate_name": places[p.estate_id].name if p.estate_id in places else None,
            "address_id": p.address_id, "address": p.address,
            "installer": {"id": p.installer_id, "name": installers[p.installer_id].name}
            if p.installer_id in installers else None,
            "next_care": care.get(p.id), "created_at": p.created_at})
    return cards


def card_page(page: Page) -> Page:
    return Page(product_cards(page.items), page.next_cursor)


# -- serial conflicts -----------------------------------------------------------------------------


def get_conflict(conflict_id: int) -> SerialConflict:
    conflict = db.session.get(SerialConflict, conflict_id) if 0 < conflict_id <= MAX_ID else None
    if conflict is None:
        raise NotFound("冲突记录不存在", code="conflict_not_found")
    return conflict


def list_conflicts(*, status: str | None = "open", limit: int = 20, cursor: str | None = None) -> Page:
    """Serial conflicts: open ones oldest first (the queue), resolved ones newest first."""
    stmt = sa.select(SerialConflict)
    if status:
        stmt = stmt.where(SerialConflict.status == status)
    return paginate(stmt, [SerialConflict.id], limit=limit, cursor=cursor, descending=status != "open")


def conflict_details(conflicts: list[SerialConflict]) -> list[dict]:
    """Conflicts with what an agent needs to decide: the product (model, serial, dates, place, its
    owner) and the claimant (name, phone) with their claim. Phones are shown in full: agents call
    both households to check."""
    products = {p.id: p for p in db.session.scalars(sa.select(Product).where(
        Product.id.in_({c.product_id for c in conflicts})))} if conflicts else {}
    user_ids = {c.claimant_id for c in conflicts} | {p.owner_id for p in products.values()}
    names = dict(db.session.execute(sa.select(User.id, User.display_name).where(
        User.id.in_({u for u in user_ids if u}))).all()) if any(user_ids) else {}
    places = estates.estates_by_id({p.estate_id for p in products.values() if p.estate_id} |
                                   {c.claim.get("estate_id") for c in conflicts if (c.claim or {}).get("estate_id")})
    details = []
    for c in conflicts:
        p = products[c.product_id]
        claim = dict(c.claim or {})
        details.append({
            "id": c.id, "status": c.status, "resolution": c.resolution,
            "resolution_label": RESOLUTION_LABELS.get(c.resolution), "note": c.note, "source": c.source,
            "source_label": SOURCE_LABELS.get(c.source, c.source), "created_at": c.created_at,
            "resolved_at": c.resolved_at, "resolved_by_id": c.resolved_by_id,
            "product": {"id": p.id, "model_code": p.model.code, "model_name": p.model.name, "serial": p.serial,
                        "status": p.status, "install_date": p.install_date, "purchase_date": p.purchase_date,
                        "owner_id": p.owner_id, "owner_name": names.get(p.owner_id) or None,
                        "owner_phone": p.owner_phone, "address": p.address,
                        "estate_name": places[p.estate_id].name if p.estate_id in places else None},
            "claimant": {"id": c.claimant_id, "name": names.get(c.claimant_id) or None, "phone": c.claimant_phone},
            "claim": {**claim, "estate_name": places[claim["estate_id"]].name
                      if claim.get("estate_id") in places else None}})
    return details


def resolve_conflict(conflict_id: int, decision: str, actor, note: str = "") -> SerialConflict:
    """An agent or admin settles a conflict once: `keep` (the owner on record keeps it; the claim
    is turned down), `move` (the product becomes the claimant's: its owner, place and schedules
    change, the previous owner loses it; the previous state stays in the conflict and the audit
    log), `reject` (the claim is void, e.g. a mistyped serial). The claimant is told in their inbox."""
    if not actor.has_role("agent", "admin"):
        raise Forbidden("只有客服或管理员可以处理序列号冲突", code="forbidden")
    if decision not in CONFLICT_DECISIONS:
        raise invalid("decision", "处理方式须为：keep（维持原主）、move（转给申请人）、reject（驳回）")
    note = (note or "").strip()
    if len(note) > 500:
        raise invalid("note", "备注最多 500 个字")
    conflict = get_conflict(conflict_id)
    resolution = CONFLICT_DECISIONS[decision]
    done = db.session.execute(sa.update(SerialConflict).where(SerialConflict.id == conflict.id,
                                                              SerialConflict.status == "open")
                              .values(status="resolved", resolution=resolution, note=note or None,
                                      resolved_by_id=actor.id, resolved_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount
    if not done:
        raise Conflict("该冲突已处理", code="conflict_already_resolved")
    db.session.refresh(conflict)
    product = db.session.scalars(sa.select(Product).where(Product.id == conflict.product_id)
                                 .with_for_update(of=Product)).one()
    before = _product_state(product)
    if resolution == "moved":
        _move(product, conflict)
    audit.record(actor, f"product_conflict.{decision}", "product", product.id, before=before,
                 after={**_product_state(product), "conflict_id": conflict.id, "note": note or None})
    if conflict.claimant_id is not None:
        words = {"kept": "经核实，该产品仍归原登记用户所有，您的登记未通过。",
                 "moved": "经核实，该产品已登记到您的名下，可在“我的产品”中查看。",
                 "rejected": "经核实，您提交的产品登记信息有误，登记未通过。"}[resolution]
        notifications.notify([conflict.claimant_id], kind="product", title="产品登记核实结果",
                             body=f"您登记的产品（{product.model.name}，序列号 {product.serial}）：{words}"
                                  + (f"说明：{note}" if note else ""),
                             page="pages/products/index")
    return conflict


def _product_state(product: Product) -> dict:
    return {"owner_id": product.owner_id, "owner_phone": product.owner_phone, "estate_id": product.estate_id,
            "address_id": product.address_id, "address": product.address, "status": product.status,
            "install_date": product.install_date.isoformat() if product.install_date else None}


def _move(product: Product, conflict: SerialConflict) -> None:
    """The product becomes the claimant's, at the claimed place (an address of the previous
    owner's book cannot follow); its schedules are redone for the new household (keeping the
    appliance's service dates)."""
    claim = conflict.claim or {}
    product.owner_id = conflict.claimant_id
    product.owner_phone = conflict.claimant_phone
    address_id = claim.get("address_id")
    if address_id is not None and conflict.claimant_id is not None:
        try:
            estates.address_of(conflict.claimant_id, address_id)
        except NotFound:
            address_id = None
    else:
        address_id = None
    product.address_id = address_id
    product.estate_id = claim.get("estate_id") if claim.get("estate_id") and db.session.get(
        Estate, claim["estate_id"]) else None
    product.address = str(claim.get("address") or "")[:255]
    if claim.get("install_date") and product.install_date is None:
        product.install_date = date.fromisoformat(claim["install_date"])
    product.status = "active"
    db.session.flush()
    refresh_product_schedules(product)
