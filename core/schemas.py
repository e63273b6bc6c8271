"""Field helpers and shapes shared by every feature's schemas."""
import marshmallow as ma
from marshmallow import fields, validate

from core.db import MAX_ID
from core.formatting import BUSINESS_TZ

# Ids are positive BIGINTs: a larger number is a validation error here, not a database error later.
ID_RANGE = validate.Range(1, MAX_ID)


def id_field(**kwargs) -> fields.Integer:
    return fields.Integer(validate=ID_RANGE, **kwargs)


def upload_url(name: str | None) -> str | None:
    """Where an uploaded image is served (core.uploads): the path the clients prefix with the API's origin."""
    return f"/api/v1/uploads/{name}" if name else None


def upload_urls(names) -> list[str]:
    return [f"/api/v1/uploads/{name}" for name in names or []]


def local_datetime(**kwargs) -> fields.AwareDateTime:
    """ISO 8601; a time without an offset is read as Asia/Shanghai (the business time zone)."""
    return fields.AwareDateTime(default_timezone=BUSINESS_TZ, **kwargs)


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
            raise ma.ValidationError({"reason": ["required to reject"]})

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
