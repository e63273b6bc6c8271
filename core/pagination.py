"""Cursor (keyset) pagination: `?limit=&cursor=` → {"items": [...], "next_cursor": str | null}.

No OFFSET: the cursor carries the sort key of the last row and the next page starts
strictly after it, so every page is an index range scan however deep the reader goes.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Sequence

import marshmallow as ma
import sqlalchemy as sa

from core.errors import BadRequest
from core.extensions import db

MAX_LIMIT = 100
INT64 = 2**63


class PageArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, MAX_LIMIT),
                              metadata={"description": f"page size, 1–{MAX_LIMIT}"})
    cursor = ma.fields.String(load_default=None, metadata={"description": "next_cursor of the previous page"})


@dataclass
class Page:
    items: list
    next_cursor: str | None
    # The page before this one (pass it as `before`): set when rows may precede the first item.
    prev_cursor: str | None = None


def encode_cursor(values: Sequence[Any]) -> str:
    """Dates and times go in as ISO 8601 text (times with their offset)."""
    raw = json.dumps([v.isoformat() if isinstance(v, (date, datetime)) else v for v in values],
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _python_type(key: sa.ColumnElement) -> type | None:
    kind = key.type
    if isinstance(kind, sa.types.TypeDecorator):  # e.g. core.db.UTCDateTime: its impl's type
        kind = kind.impl_instance
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def _fits(value: Any, expected: type | None) -> bool:
    """The value can be compared with a key of that type (a mismatch or an out-of-range
    integer is a database error on PostgreSQL, an OverflowError on SQLite)."""
    if expected is int:
        return isinstance(value, int) and -INT64 <= value < INT64
    if expected is str:
        return isinstance(value, str)
    if expected in (date, datetime):
        return _as_time(value, expected) is not None
    return True


def _as_time(value: Any, expected: type) -> date | datetime | None:
    """A cursor's ISO text as the key's date or aware datetime, or None when it is not one."""
    try:
        parsed = expected.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if expected is datetime and parsed is not None and parsed.tzinfo is None:
        return None
    if expected is date and isinstance(parsed, datetime):
        return None
    return parsed


def decode_cursor(cursor: str, arity: int, types: Sequence[type | None] | None = None) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity or not all(
            isinstance(v, (int, str)) and not isinstance(v, bool) for v in values) or (
            types is not None and not all(_fits(v, t) for v, t in zip(values, types))):
        raise BadRequest("分页游标无效", code="invalid_cursor", details={"fields": {"cursor": ["分页游标无效"]}})
    if types is not None:
        values = [_as_time(v, t) if t in (date, datetime) else v for v, t in zip(values, types)]
    return values


def paginate(stmt: sa.Select, keys: Sequence[sa.ColumnElement], *, limit: int, cursor: str | None,
             descending: bool = True, key_of: Callable[[Any], Sequence[Any]] | None = None,
             scalars: bool = True, before: str | None = None) -> Page:
    """Run `stmt` ordered by `keys` (the last one unique, e.g. the id) and cut one page.

    `key_of(row)` returns the key values of a row (default: the attributes named like `keys`).
    Keys may be integers, text, dates or times.

    Forwards, `cursor` (a page's `next_cursor`) starts strictly after a row; backwards, `before`
    (a page's `prev_cursor`) ends strictly before one: the same index range read the other way,
    then put back in the list's order. `prev_cursor` is set when rows may precede the page (a
    forward page that started from a cursor, or a backward page with more before it).
    """
    backwards = bool(before)
    mark = before if backwards else cursor
    if mark:
        after = decode_cursor(mark, len(keys), [_python_type(k) for k in keys])
        after = [sa.literal(v, k.type) for v, k in zip(after, keys)]  # bound as the column binds (UTC times)
        row_key = sa.tuple_(*keys) if len(keys) > 1 else keys[0]
        bound = sa.tuple_(*after) if len(keys) > 1 else after[0]
        stmt = stmt.where(row_key < bound if descending != backwards else row_key > bound)
    reading_down = descending != backwards
    stmt = stmt.order_by(*[k.desc() if reading_down else k.asc() for k in keys]).limit(limit + 1)
    result = db.session.execute(stmt)
    rows = list(result.scalars() if scalars else result)
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    if key_of is None:
        names = [k.key for k in keys]
        key_of = lambda row: [getattr(row, n) for n in names]  # noqa: E731
    if backwards:
        return Page(rows, encode_cursor(key_of(rows[-1])) if rows else None,
                    encode_cursor(key_of(rows[0])) if more and rows else None)
    return Page(rows, encode_cursor(key_of(rows[-1])) if more and rows else None,
                encode_cursor(key_of(rows[0])) if cursor and rows else None)


_schemas: dict[str, type[ma.Schema]] = {}


def _wrapper_schema(item_schema: type[ma.Schema], suffix: str, paged: bool) -> type[ma.Schema]:
    name = item_schema.__name__.removesuffix("Schema") + suffix
    if name not in _schemas:
        attrs = {"items": ma.fields.List(ma.fields.Nested(item_schema))}
        if paged:
            attrs["next_cursor"] = ma.fields.String(allow_none=True)
        _schemas[name] = type(name, (ma.Schema,), attrs)
    return _schemas[name]


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """A response schema {"items": [item], "next_cursor"} named after the item schema."""
    return _wrapper_schema(item_schema, "PageSchema", paged=True)


def list_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """A response schema {"items": [item]} for short, unpaged lists."""
    return _wrapper_schema(item_schema, "ListSchema", paged=False)
