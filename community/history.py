"""Service orders from the manufacturer's service system: years of history by CSV
(`flask community import-orders`) and single orders through the signed integration endpoint.

Imported orders are ordinary `service_orders` rows (source `import` or `integration`) with their
real dates, so rankings and KPIs count them exactly like orders made on the platform. Each
external_id is taken once: importing the same rows again changes nothing.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from community import ranking
from community.models import Engineer, Estate, ServiceOrder
from core.accounts.models import User
from core.db import dialect_insert
from core.errors import ValidationFailed
from core.extensions import db
from core.formatting import BUSINESS_TZ

COLUMNS = ("external_id", "estate_id", "engineer_employee_no", "resident_phone", "service_type", "requested_at",
           "completed_at", "rating", "complained")
REQUIRED = ("external_id", "estate_id", "service_type", "requested_at")


def _time(value: str, field: str, errors: dict) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors[field] = ["须为 ISO 8601 时间，如 2024-03-01T14:30:00+08:00"]
        return None
    if parsed.tzinfo is None:  # the service system's local time
        parsed = parsed.replace(tzinfo=BUSINESS_TZ)
    return parsed.astimezone(timezone.utc)


def clean_row(row: dict) -> dict:
    """Validate one order row (CSV or JSON, all values as text or numbers); ValidationFailed lists
    the fields."""
    get = lambda name: "" if row.get(name) is None else str(row.get(name)).strip()  # noqa: E731
    errors: dict[str, list[str]] = {}
    for name in REQUIRED:
        if not get(name):
            errors[name] = ["必填"]
    external_id = get("external_id")
    if len(external_id) > 64:
        errors["external_id"] = ["不能超过 64 个字符"]
    estate_id = None
    if get("estate_id"):
        try:
            estate_id = int(get("estate_id"))
            if not 1 <= estate_id < 2**63:
                raise ValueError
        except ValueError:
            errors["estate_id"] = ["须为小区 ID（正整数）"]
    service_type = get("service_type")
    if len(service_type) > 32:
        errors["service_type"] = ["不能超过 32 个字符"]
    phone = get("resident_phone") or None
    if phone and (len(phone) > 20 or not phone.lstrip("+").isdigit()):
        errors["resident_phone"] = ["手机号格式不对"]
    requested_at = _time(get("requested_at"), "requested_at", errors)
    completed_at = _time(get("completed_at"), "completed_at", errors)
    if requested_at and completed_at and completed_at < requested_at:
        errors["completed_at"] = ["完成时间早于下单时间"]
    rating = None
    if get("rating"):
        try:
            rating = int(get("rating"))
            if not 1 <= rating <= 5:
                raise ValueError
        except ValueError:
            errors["rating"] = ["评分须为 1–5 或留空"]
    complained = get("complained") or "0"
    if complained not in ("0", "1"):
        errors["complained"] = ["须为 0 或 1"]
    engineer_no = get("engineer_employee_no") or None
    if rating is not None and not completed_at:
        errors["rating"] = ["未完成的服务单不能有评分"]
    if errors:
        raise ValidationFailed("服务单数据有误", details={"fields": errors})
    return {"external_id": external_id, "estate_id": estate_id, "engineer_employee_no": engineer_no,
            "resident_phone": phone, "service_type": service_type, "requested_at": requested_at,
            "completed_at": completed_at, "rating": rating, "complained": complained == "1"}


def import_orders(rows: list[dict], *, source: str = "import") -> tuple[list[int], dict[int, str]]:
    """Insert cleaned rows (one batch); returns (ids inserted, {index: error} for rows refused).

    Rows whose external_id exists already are skipped silently (idempotent). Statistics for the
    inserted rows are applied in aggregate, the same sums the single events add.
    """
    refused: dict[int, str] = {}
    estates = set(db.session.scalars(sa.select(Estate.id).where(Estate.id.in_({r["estate_id"] for r in rows}))))
    numbers = {r["engineer_employee_no"] for r in rows if r["engineer_employee_no"]}
    engineers = dict(db.session.execute(sa.select(Engineer.employee_no, Engineer.id)
                                        .where(Engineer.employee_no.in_(numbers))).all()) if numbers else {}
    phones = {r["resident_phone"] for r in rows if r["resident_phone"]}
    users = {}
    if phones:
        for phone, user_id in db.session.execute(sa.select(User.phone, User.id).where(User.phone.in_(phones))
                                                 .order_by(User.id)):
            users.setdefault(phone, user_id)  # the oldest account with that phone
    values = []
    for index, row in enumerate(rows):
        if row["estate_id"] not in estates:
            refused[index] = f"小区 {row['estate_id']} 不存在"
            continue
        engineer_id = None
        if row["engineer_employee_no"]:
            engineer_id = engineers.get(row["engineer_employee_no"])
            if engineer_id is None:
                refused[index] = f"工号 {row['engineer_employee_no']} 的工程师不存在"
                continue
        completed = row["completed_at"] is not None
        values.append({
            "external_id": row["external_id"], "source": source, "estate_id": row["estate_id"],
            "resident_id": users.get(row["resident_phone"]), "resident_phone": row["resident_phone"],
            "engineer_id": engineer_id, "service_type": row["service_type"], "description": "",
            "status": "completed" if completed and engineer_id else ("assigned" if engineer_id else "requested"),
            "requested_at": row["requested_at"], "assigned_at": row["requested_at"] if engineer_id else None,
            "completed_at": row["completed_at"] if engineer_id else None, "rating": row["rating"],
            "complained": row["complained"], "created_at": datetime.now(timezone.utc),
            "updated_at": datetime.now(timezone.utc)})
    if not values:
        return [], refused
    insert = dialect_insert()(ServiceOrder.__table__).values(values)
    inserted = db.session.execute(insert.on_conflict_do_nothing(index_elements=["external_id"])
                                  .returning(ServiceOrder.__table__.c.id)).scalars().all()
    if inserted:
        orders = db.session.scalars(sa.select(ServiceOrder).where(ServiceOrder.id.in_(inserted))).all()
        ranking.apply_history(orders)
    return list(inserted), refused


def import_one(data: dict, *, source: str = "integration") -> tuple[ServiceOrder, bool]:
    """One order from the integration endpoint: (order, created). The same external_id again
    returns the stored order and changes nothing."""
    row = clean_row(data)
    inserted, refused = import_orders([row], source=source)
    if refused:
        raise ValidationFailed(refused[0], code="order_refused", details={"fields": {"order": [refused[0]]}})
    order = db.session.scalars(sa.select(ServiceOrder).where(ServiceOrder.external_id == row["external_id"])).one()
    if inserted and order.status == "completed" and order.resident_id is not None:
        from community.orders import _first_real_service
        _first_real_service(order.resident_id)  # a live order from the service system, not history
    return order, bool(inserted)
