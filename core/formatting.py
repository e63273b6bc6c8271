"""Display helpers shared by pages and API schemas."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, url_for

# Business days, months and displayed times are Asia/Shanghai.
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def business_today():
    """Today's date in Asia/Shanghai (the business day), whatever the server's zone."""
    return datetime.now(BUSINESS_TZ).date()


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(BUSINESS_TZ).strftime(fmt) if value else ""


def iso_time(value: datetime | None) -> str | None:
    """ISO 8601 in Beijing time (+08:00), as every API time is written (core.schemas)."""
    return value.astimezone(BUSINESS_TZ).isoformat() if value else None


def mask_phone(phone: str | None) -> str | None:
    """138****0000: enough to recognise a customer, not enough to harvest numbers."""
    return f"{phone[:3]}****{phone[-4:]}" if phone and len(phone) >= 7 else phone


def mask_name(name: str | None, fallback: str = "用户") -> str:
    """陈** / 欧阳**: recognisable to neighbours, not a full name, and not its length either (the
    first character, or two for names of four or more, which is where compound surnames are);
    `fallback` for someone without a name."""
    name = (name or "").strip()
    if not name:
        return fallback
    return name[:2 if len(name) >= 4 else 1] + "**"


DEV_BASE_URL = "http://127.0.0.1:5000"  # `flask run`'s address: development outside a request


def absolute_url(endpoint: str, **values) -> str:
    """The endpoint's absolute URL on PUBLIC_BASE_URL, for links that leave the site (API
    responses, messages, WeChat's media check): never from the request's Host header, which the
    caller chooses. Production requires the setting (core.config); development without it uses
    the request's own origin (or `flask run`'s address outside a request)."""
    base = current_app.config["PUBLIC_BASE_URL"]
    if not base:
        base = request.host_url if has_request_context() else DEV_BASE_URL
    if has_request_context():
        path = url_for(endpoint, **values)
    else:  # no SERVER_NAME is needed for a path
        path = current_app.url_map.bind("localhost").build(endpoint, values)
    return base.rstrip("/") + path


ROLE_NAMES = {"resident": "住户", "engineer": "工程师", "agent": "客服", "admin": "管理员", "partner": "合作伙伴"}


def role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role)


# Codes people read as names, by family: "points" (earning rules and ledger kinds), "role", … A
# feature names its own codes where it defines them (`name_codes`); pages print them through one
# filter, `{{ code|code_name("points") }}`, and API schemas add `<field>_label` from `code_name`.
CODE_NAMES: dict[str, dict[str, str]] = {"role": ROLE_NAMES}


def name_codes(family: str, names: dict[str, str]) -> None:
    CODE_NAMES.setdefault(family, {}).update(names)


def code_name(code: str | None, family: str) -> str:
    """The Chinese name of a code of that family; an unnamed code is shown as it is."""
    if code is None:
        return ""
    return CODE_NAMES.get(family, {}).get(code, code)


def register_template_helpers(app) -> None:
    app.add_template_filter(code_name, "code_name")
    app.add_template_filter(role_name, "role_name")
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(mask_phone, "mask_phone")
    app.add_template_global(BUSINESS_TZ, "tz")
