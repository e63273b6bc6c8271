"""What a person reads is Chinese: every field message of the API (walked from the OpenAPI
document), the built-in messages of the console's forms, the error pages (no codes) and the
Chinese names of rule and status codes."""
import re

import pytest

from tests.conftest import html, post_form

CJK = re.compile(r"[\u4e00-\u9fff]")
WRITE = ("post", "put", "patch")
# Signed by partner systems: the signature is checked before the body (tests/core/test_integrations.py).
SKIP_PREFIXES = ("/api/v1/integrations/",)
# marshmallow's and WTForms' own English defaults: none may reach a person.
ENGLISH_DEFAULTS = ("This field is required", "Not a valid", "Invalid ", "Field must be", "Missing data",
                    "Unknown field", "CSRF", "Length must be", "Must be greater", "Field may not be null")


def english_messages(fields, path=""):
    """Every message (with the path of its field) that has no Chinese in it."""
    if isinstance(fields, dict):
        for name, value in fields.items():
            yield from english_messages(value, f"{path}.{name}" if path else str(name))
    elif isinstance(fields, list):
        for value in fields:
            yield from english_messages(value, path)
    elif not CJK.search(str(fields)):
        yield path, fields


def resolve(spec, schema):
    while "$ref" in (schema or {}):
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema or {}


def wrong_value(prop: dict):
    """A value of the wrong type for a property of the OpenAPI schema."""
    kind = prop.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    return {"string": 12345, "integer": "abc", "number": "abc", "boolean": "maybe", "array": "abc",
            "object": 7}.get(kind, {"nested": object.__name__})


def write_operations(spec):
    for path, item in spec["paths"].items():
        if path.startswith(SKIP_PREFIXES):
            continue
        for method, operation in item.items():
            if method not in WRITE:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = resolve(spec, content["application/json"].get("schema"))
            url = re.sub(r"\{[^}]+\}", "1", path)
            yield method, url, schema


@pytest.fixture
def spec(client):
    return client.get("/api/openapi.json").json


def test_every_api_field_message_is_chinese(client, spec, admin, login):
    """Post `{}`, then every field with a value of the wrong type plus an unknown field, to every
    JSON write of the API, as an admin and as a resident: every field message is Chinese."""
    resident = login()
    english, checked = [], 0
    for method, url, schema in write_operations(spec):
        properties = {name: resolve(spec, prop) for name, prop in schema.get("properties", {}).items()
                      if not prop.get("readOnly")}
        bodies = [{}, {"surprise": 1, **{name: wrong_value(prop) for name, prop in properties.items()}}]
        for who in (admin, resident):
            for body in bodies:
                response = client.open(url, method=method.upper(), json=body, headers=who.headers)
                error = (response.json or {}).get("error") if response.is_json else None
                if not error:
                    continue
                assert CJK.search(error["message"]), (method, url, error)
                fields = error.get("details", {}).get("fields")
                if fields:
                    checked += 1
                    english += [f"{method.upper()} {url} {field}: {message}"
                                for field, message in english_messages(fields)]
    assert checked > 100  # the walk reached the schemas, not only the role guards
    assert not english, "\n".join(english)


def test_query_argument_messages_are_chinese(client, spec, admin):
    """Every GET with an integer or date query argument, given text instead, answers in Chinese."""
    english, checked = [], 0
    for path, item in spec["paths"].items():
        operation = item.get("get")
        if not operation or "{" in path:
            continue
        bad = {p["name"]: "abc" for p in operation.get("parameters", [])
               if p.get("in") == "query" and resolve(spec, p.get("schema")).get("type") in ("integer", "number")
               or resolve(spec, p.get("schema")).get("format") in ("date", "date-time")}
        if not bad:
            continue
        response = client.get(path, query_string=bad, headers=admin.headers)
        if response.status_code in (400, 422):
            checked += 1
            english += [f"{path} {f}: {m}" for f, m in
                        english_messages(response.json["error"]["details"].get("fields", {}))]
    assert checked > 10
    assert not english, "\n".join(english)


def test_hand_written_messages(client, admin, login):
    """Checks written in our own code (a schema's rule, a service's) answer in Chinese too."""
    response = client.post("/api/v1/admin/ambassador/submissions/decisions", headers=admin.headers,
                           json={"ids": [1], "action": "reject"})
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"] == {"reason": ["拒绝时必须填写原因"]}
    response = client.get("/api/v1/me/points/entries", headers=login().headers, query_string={"cursor": "@@"})
    assert response.status_code == 400
    assert response.json["error"]["details"]["fields"] == {"cursor": ["分页游标无效"]}


def test_an_english_message_never_reaches_a_person(app):
    """The safety net: a message left in English becomes a Chinese one (and is logged)."""
    from core.errors import FALLBACK_FIELD_MESSAGE, NotFound, ValidationFailed, invalid
    exc = invalid("rating", "must be 1-5", "评分须为 1–5 星")
    assert exc.details["fields"] == {"rating": [FALLBACK_FIELD_MESSAGE]}
    exc = ValidationFailed("bad", details={"fields": {"items": {0: {"name": ["too long", "最多 8 个字"]}}}})
    assert exc.message == "提交的数据有误"
    assert exc.details["fields"] == {"items": {0: {"name": [FALLBACK_FIELD_MESSAGE, "最多 8 个字"]}}}
    assert NotFound("no such thing").message == "资源不存在"


# -- console forms -----------------------------------------------------------------------------

def english_defaults_in(page: str) -> list[str]:
    return [text for text in ENGLISH_DEFAULTS if text in page]


def test_form_defaults_are_chinese(console):
    """Forms whose validators carry no message of their own show WTForms' built-ins in Chinese."""
    response = post_form(console, "/admin/points/rewards/new", "/admin/points/rewards/new", {
        "name": "奖" * 80, "cost": "abc", "image_url": "x" * 600, "starts_on": "soon"})
    assert response.status_code == 200
    page = html(response)
    assert "最多 64 个字" in page and "最多 500 个字" in page
    assert not english_defaults_in(page)
    response = post_form(console, "/admin/estates/new", "/admin/estates/new", {"households": "x", "lat": "north"})
    assert not english_defaults_in(html(response))


def test_every_form_default_message_translates(app):
    """Each message WTForms or Flask-WTF can raise by itself has a Chinese wording."""
    from flask_wtf import FlaskForm
    from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField
    from wtforms.validators import URL, DataRequired, Length, NumberRange

    class Probe(FlaskForm):
        name = StringField("名称", validators=[DataRequired(), Length(2, 4)])
        short = StringField("简称", validators=[Length(max=2)])
        count = IntegerField("数量", validators=[NumberRange(1, 9)])
        day = DateField("日期")
        kind = SelectField("类型", choices=[SelectChoice("a", "甲")])
        site = StringField("网址", validators=[URL()])

    with app.test_request_context("/", method="POST", data={
            "name": "", "short": "abcdef", "count": "x", "day": "soon", "kind": "zzz", "site": "nope"}):
        form = Probe()
        assert not form.validate()
        messages = [m for errors in form.errors.values() for m in errors]
    assert len(messages) >= 6, form.errors
    assert all(CJK.search(m) for m in messages), form.errors
    assert "页面已过期或来源无效，请刷新后重试" in form.errors["csrf_token"]


# -- error pages ---------------------------------------------------------------------------------

def test_error_page_shows_no_code(console):
    response = console.get("/admin/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    page = html(response)
    assert "页面不存在" in page and "返回首页" in page
    assert "错误代码" not in page and "not_found" not in page


def test_error_page_of_a_bad_cursor(console):
    response = console.get("/admin/points/redemptions?cursor=@@", headers={
        "Accept": "text/html", "Referer": "http://linli.test/admin/points/rules"})
    assert response.status_code == 400
    page = html(response)
    assert "分页游标无效" in page and "invalid" not in page and "cursor:" not in page
    assert 'href="/admin/points/rules"' in page  # the way back


def test_error_page_back_link_stays_on_site(console):
    response = console.get("/admin/no-such-page", headers={"Accept": "text/html", "Referer": "https://evil.example/x"})
    assert "evil.example" not in html(response)


def test_csrf_failure_page_is_chinese(console):
    response = console.post("/admin/points/rewards/new", data={"name": "x"}, headers={"Accept": "text/html"})
    assert response.status_code == 400
    page = html(response)
    assert "页面已过期" in page and "CSRF" not in page and "csrf" not in page.lower().replace("csrf_token", "")


# -- codes shown as names --------------------------------------------------------------------------

def test_code_name_filter(app):
    from flask import render_template_string
    with app.test_request_context("/"):
        assert render_template_string("{{ 'binding_rating'|code_name('points') }}") == "完成管家绑定并评价服务"
        assert render_template_string("{{ 'order_inviter'|code_name('points') }}") == "邀请的用户下单（每元）"
        assert render_template_string("{{ 'hold'|code_name('points') }}") == "兑换冻结"
        assert render_template_string("{{ 'agent'|code_name('role') }}") == "客服"
        assert render_template_string("{{ 'mystery'|code_name('points') }}") == "mystery"


def test_rules_page_names_each_rule(console):
    page = html(console.get("/admin/points/rules"))
    assert "完成管家绑定并评价服务" in page
    assert ">binding_rating<" not in page and "<code>binding_rating" not in page


def test_points_entries_carry_the_kind_by_name(app, client, login):
    from core.extensions import db
    from points import rules, services
    resident = login()
    with app.app_context():
        services.earn(resident.user_id, rules.SERVICE_REVIEW, "review:test-1", "评价服务单")
        db.session.commit()
    entry = client.get("/api/v1/me/points/entries", headers=resident.headers).json["items"][0]
    assert (entry["kind"], entry["kind_label"]) == ("service_review", "评价已完成的服务")


# -- field conventions -----------------------------------------------------------------------------

def test_api_times_are_beijing_time(client, admin):
    """Every time a response carries reads +08:00 (the same instant as the UTC stored)."""
    from datetime import datetime, timezone
    response = client.post("/api/v1/admin/rewards", headers=admin.headers, json={
        "name": "保温杯", "cost": 100, "starts_at": "2026-12-01T00:00:00+08:00"})
    assert response.status_code == 201, response.json
    assert response.json["starts_at"] == "2026-12-01T00:00:00+08:00"
    shown = client.get(f"/api/v1/admin/rewards/{response.json['id']}", headers=admin.headers).json
    assert shown["starts_at"].endswith("+08:00")
    assert datetime.fromisoformat(shown["starts_at"]) == datetime(2026, 11, 30, 16, tzinfo=timezone.utc)


def test_image_urls_are_absolute(client, login):
    from tests.core.test_uploads import _image, _post
    resident = login()
    upload = _post(client, resident.token, _image("PNG"), "a.png", "image/png")
    assert upload.status_code == 201, upload.json
    assert upload.json["url"] == f"http://linli.test/api/v1/uploads/{upload.json['id']}"
    assert upload.json["created_at"].endswith("+08:00")
