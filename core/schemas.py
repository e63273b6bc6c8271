"""Field helpers and shapes shared by every feature's schemas."""
from datetime import datetime

import marshmallow as ma
from flask import Response, current_app
from marshmallow import fields, validate

from core.db import MAX_ID
from core.formatting import BUSINESS_TZ, absolute_url

# Ids are positive BIGINTs: a larger number is a validation error here, not a database error later.
ID_RANGE = validate.Range(1, MAX_ID)


def id_field(**kwargs) -> fields.Integer:
    return fields.Integer(validate=ID_RANGE, **kwargs)


def upload_url(name: str | None) -> str | None:
    """Where an uploaded image is served (core.uploads), absolute on PUBLIC_BASE_URL like every
    URL the API returns (docs/decisions.md "API field conventions")."""
    return absolute_url("uploads.image", name=name) if name else None


def upload_urls(names) -> list[str]:
    return [absolute_url("uploads.image", name=name) for name in names or []]


def _serialize_in_business_time(self, value, attr, obj, **kwargs):
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(BUSINESS_TZ)
    return _serialize_datetime(self, value, attr, obj, **kwargs)


# Every time a response carries reads in Beijing time: aware UTC is written as 2026-12-05T09:30:00+08:00
# by every DateTime field of every schema (the instant is unchanged; people and the mini-program
# read the wall-clock time without converting). Set once here, under every feature's schemas.
_serialize_datetime = fields.DateTime._serialize
if fields.DateTime._serialize.__name__ != _serialize_in_business_time.__name__:  # a reload keeps one layer
    fields.DateTime._serialize = _serialize_in_business_time


def local_iso(value: datetime | None) -> str | None:
    """What every DateTime field writes (above), for the hot reads that build their response
    without marshmallow (see `fast_response`)."""
    if value is None:
        return None
    return (value.astimezone(BUSINESS_TZ) if value.tzinfo is not None else value).isoformat()


def fast_response(payload) -> Response:
    """A JSON response from a payload already in its documented shape.

    The hot reads (bench/reads.py) write their items with a plain function beside their schema
    instead of `schema.dump`: marshmallow's per-field machinery cost more than the query on a
    feed page. The schema stays the contract (OpenAPI documents it through `@bp.response`, which
    passes a Response through unchanged) and a test holds each fast writer to `schema.dump` on
    the same data."""
    return current_app.json.response(payload)


def local_datetime(**kwargs) -> fields.AwareDateTime:
    """ISO 8601; a time without an offset is read as Asia/Shanghai (the business time zone)."""
    return fields.AwareDateTime(default_timezone=BUSINESS_TZ, **kwargs)


class PersonSchema(ma.Schema):
    """A person as every response names one: an object, never a bare `*_id` beside a `*_name`."""
    id = fields.Integer()
    name = fields.String()


class PersonField(fields.Nested):
    """`{id, name}` from the item's `<role>_id` and `<role>_name` (attributes or keys); null without an id."""

    def __init__(self, role: str = "author", **kwargs):
        self.role = role
        kwargs.setdefault("allow_none", True)
        super().__init__(PersonSchema, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        def get(name):
            return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        person_id = get(f"{self.role}_id")
        return None if person_id is None else {"id": person_id, "name": get(f"{self.role}_name")}


# -- bulk decisions (approve or reject many at once: redemptions, applications, submissions) ----

BULK_MAX = 100


class BulkDecisionSchema(ma.Schema):
    """Approve or reject several items; each is decided on its own (`bulk_result`)."""
    ids = fields.List(id_field(), required=True, validate=validate.Length(1, BULK_MAX),
                      metadata={"description": "a repeated id counts once"})
    action = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = fields.String(load_default=None, validate=validate.Length(1, 255),
                           metadata={"description": "required to reject"})

    @ma.validates_schema
    def _reason_to_reject(self, data, **kwargs):
        if data.get("action") == "reject" and not (data.get("reason") or "").strip():
            raise ma.ValidationError({"reason": ["拒绝时必须填写原因"]})

    @ma.post_load
    def _once_each(self, data, **kwargs):
        data["ids"] = list(dict.fromkeys(data["ids"]))
        return data


class BulkOutcomeSchema(ma.Schema):
    id = fields.Integer()
    ok = fields.Boolean()
    code = fields.String(metadata={"description": "ok, or why this one was not decided (e.g. already decided, not found)"})


class BulkResultSchema(ma.Schema):
    items = fields.List(fields.Nested(BulkOutcomeSchema))
    decided = fields.Integer()
    refused = fields.Integer()


def bulk_result(outcome: dict[int, str]) -> dict:
    """A service's bulk outcome (id -> "ok" or a refusal code) as the BulkResultSchema body."""
    items = [{"id": i, "ok": code == "ok", "code": code} for i, code in outcome.items()]
    decided = sum(item["ok"] for item in items)
    return {"items": items, "decided": decided, "refused": len(items) - decided}
