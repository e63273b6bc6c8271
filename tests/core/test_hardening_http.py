"""The request boundary (core/boundary.py) and the answers around it: body limits, bad text refused
once for every field, 503 while the database is out of reach, CSV cells never run as formulas,
the security headers, and absolute links from PUBLIC_BASE_URL whatever the Host header says."""
import ast
import csv
import io
import json
import re
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from core import create_app
from tests.conftest import ON_POSTGRES, bearer, csrf_token, html, post_form
from tests.core.test_errors import assert_error

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


class CountingStream(io.BytesIO):
    """A request body that counts the bytes the app reads from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1):
        chunk = super().readline(size)
        self.bytes_read += len(chunk)
        return chunk


def _oversize(client, path: str, content_type: str, size: int):
    stream = CountingStream(b"x" * size)
    response = client.post(path, input_stream=stream, content_length=size, content_type=content_type,
                           headers={"Accept": "application/json"})
    return response, stream


# -- 1. body size -------------------------------------------------------------------------------

def test_a_json_body_over_the_limit_is_refused_before_it_is_read(app, client):
    assert app.config["MAX_JSON_BYTES"] == MIB
    response, stream = _oversize(client, "/api/v1/bindings", "application/json", MIB + 1)
    assert_error(response, 413, "payload_too_large")
    assert stream.bytes_read == 0
    # under the limit it is read and judged on its content
    body = json.dumps({"code": "x", "scene": "y", "comment": "x" * (MIB - 100)}).encode()
    assert MIB - 100 < len(body) <= MIB
    details = assert_error(client.post("/api/v1/bindings", data=body, content_type="application/json"),
                           422, "validation_error")
    assert "comment" in details["fields"]


def test_a_page_post_over_the_limit_is_refused_before_it_is_read(client):
    # text/plain: the CSRF check would otherwise refuse it only after the form was looked at
    response, stream = _oversize(client, "/login", "text/plain", MIB + 1)
    assert_error(response, 413, "payload_too_large")
    assert stream.bytes_read == 0
    response, stream = _oversize(client, "/login", "application/x-www-form-urlencoded", MIB + 1)
    assert_error(response, 413, "payload_too_large")
    assert stream.bytes_read == 0


def test_a_chunked_body_is_stopped_at_the_limit(client):
    body = json.dumps({"code": "x" * (MIB + 10), "scene": "y"}).encode()
    response = client.post("/api/v1/bindings", input_stream=io.BytesIO(body), content_type="application/json",
                           environ_overrides={"wsgi.input_terminated": True})
    assert_error(response, 413, "payload_too_large")


def _big_png(width=800, height=700) -> bytes:
    """An uncompressed PNG: well over a mebibyte, under UPLOAD_MAX_BYTES (and one colour: random
    pixels may happen to spell markup, which the upload check refuses)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG", compress_level=0)
    return out.getvalue()


def _multipart(fields: dict) -> dict:
    """The body encoded in memory (the test client spools a large one to a file it never closes)."""
    boundary, data = encode_multipart(fields)
    return {"data": data, "content_type": f"multipart/form-data; boundary={boundary}"}


def test_uploads_over_a_mebibyte_keep_their_own_limit(app, client, login, console):
    image = _big_png()
    assert MIB < len(image) < app.config["UPLOAD_MAX_BYTES"]
    resident = login()
    response = client.post("/api/v1/uploads", headers=bearer(resident.token),
                           **_multipart({"file": FileStorage(io.BytesIO(image), "big.png", content_type="image/png")}))
    assert response.status_code == 201, response.json
    # a console form with a file (the CSRF check reads it first: it is bounded by then, too)
    token = csrf_token(html(console.get("/admin/products/models/new")))
    response = console.post("/admin/products/models/new", **_multipart({
        "csrf_token": token, "code": "big-1", "name": "大图型号", "category": "range_hood", "warranty_months": "12",
        "active": "y", "image_file": FileStorage(io.BytesIO(image), "big.png", content_type="image/png")}))
    assert response.status_code == 302, html(response)[:500]


# -- 2. bad text --------------------------------------------------------------------------------

def _field_error(response, field: str) -> None:
    details = assert_error(response, 422, "validation_error")
    assert list(details["fields"]) == [field], details


def test_nul_in_a_json_string_field_is_422_naming_it(client, admin):
    response = client.post("/api/v1/admin/engineers", headers=admin.headers, json={
        "name": "王\x00建国", "phone": "13800138009", "employee_no": "E9009"})
    _field_error(response, "name")
    nested = client.post("/api/v1/admin/engineers", headers=admin.headers, json={
        "name": "王建国", "phone": "13800138009", "employee_no": "E9009", "estate_ids": [{"\x00": 1}]})
    _field_error(nested, "estate_ids.0.\ufffd")
    # a surrogate pair is one character (😀), not a lone half
    fine = client.post("/api/v1/admin/engineers", headers=admin.headers, content_type="application/json",
                       data='{"name": "王\\ud83d\\ude00", "phone": "13800138009", "employee_no": "E9009"}')
    assert fine.status_code == 201, fine.json


def test_nul_in_a_query_argument_is_422_naming_it(client, admin):
    _field_error(client.get("/api/v1/admin/estates?q=a%00b", headers=admin.headers), "q")


def test_nul_in_a_form_field_is_422_naming_it(client):
    response = post_form(client, "/login", "/login", {"username": "boss\x00", "password": "x"},
                         headers={"Accept": "application/json"})
    _field_error(response, "username")
    # a browser gets the error page saying what is wrong, in Chinese (no field codes on pages)
    response = post_form(client, "/login", "/login", {"username": "boss\x00", "password": "x"},
                         headers={"Accept": "text/html"})
    assert response.status_code == 422 and "含有无效字符" in html(response) and "username" not in html(response)


@pytest.mark.parametrize("path,field", [("/api/v1/auth/password-login", "username"),
                                        ("/api/v1/auth/wechat-login", "code")])
def test_a_lone_surrogate_is_422_naming_the_field(client, path, field):
    body = '{"%s": "\\ud800", "password": "x"}' % field if field == "username" else '{"code": "\\ud800"}'
    _field_error(client.post(path, data=body, content_type="application/json"), field)
    # as a key, too
    _field_error(client.post(path, data='{"\\udfff": 1}', content_type="application/json"), "\ufffd")


@pytest.mark.parametrize("rate_limits", [False, True])
def test_deeply_nested_json_is_400_invalid_json(app_config, rate_limits):
    """With rate limits on, the per-account key reads the login body first: the boundary runs before it."""
    app_config["RATELIMIT_ENABLED"] = rate_limits
    client = create_app(app_config).test_client()
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/api/v1/auth/password-login", "/api/v1/auth/wechat-login", "/api/v1/bindings"):
        assert_error(client.post(path, data=deep, content_type="application/json"), 400, "invalid_json")
    nested = json.dumps({"username": "a", "password": "b", "extra": json.loads("[" * 40 + "]" * 40)})
    assert_error(client.post("/api/v1/auth/password-login", data=nested, content_type="application/json"),
                 400, "invalid_json")


def test_malformed_json_is_still_answered_by_the_view(client):
    response = client.post("/api/v1/auth/wechat-login", data='{"code": "abc"', content_type="application/json")
    assert_error(response, 400, "invalid_json")


def test_the_estate_name_nul_check_still_guards_the_csv_import(ctx):
    """The boundary covers requests; the estates CSV import (no request) keeps its own check."""
    from community.estates import services
    from core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        services.clean_estate({"name": "阳光\x00花园", "province": "广东省", "city": "深圳市", "district": "南山区"})
    assert "name" in refused.value.details["fields"]


# -- 3. the database out of reach ---------------------------------------------------------------

@pytest.fixture
def database_down(app):
    """Every new database connection fails as an unreachable server does (a closed port for
    PostgreSQL, a file that cannot be opened for SQLite)."""
    import sqlite3

    from core.extensions import db

    def refuse(dialect, conn_rec, cargs, cparams):
        if ON_POSTGRES:
            return psycopg.connect("postgresql://postgres@127.0.0.1:1/unreachable", connect_timeout=2)
        return sqlite3.connect("file:/nonexistent-dir/linli.db?mode=rw", uri=True)

    with app.app_context():
        engine = db.engine
    engine.dispose()
    sa.event.listen(engine, "do_connect", refuse)
    yield
    sa.event.remove(engine, "do_connect", refuse)


def test_a_lost_database_is_503_with_retry_after_on_the_api_and_pages(app, console, database_down):
    token = console.admin.token
    response = console.get("/api/v1/me", headers=bearer(token))
    assert_error(response, 503, "service_unavailable")
    assert response.headers["Retry-After"] == "30"
    page = console.get("/admin/", headers={"Accept": "text/html"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert page.mimetype == "text/html" and "服务暂时不可用" in html(page)


def test_only_connection_errors_are_503():
    from core.errors import connection_lost

    def wrapped(orig):
        return sa.exc.OperationalError("SELECT 1", {}, orig)

    assert connection_lost(wrapped(psycopg.OperationalError("connection refused")))  # no SQLSTATE: client side
    assert connection_lost(wrapped(psycopg.errors.AdminShutdown()))
    assert connection_lost(sa.exc.DisconnectionError())
    assert not connection_lost(wrapped(psycopg.errors.SerializationFailure()))
    assert not connection_lost(wrapped(psycopg.errors.LockNotAvailable()))
    import sqlite3
    assert not connection_lost(wrapped(sqlite3.OperationalError("no such table: nope")))


# -- 5. CSV -------------------------------------------------------------------------------------

def test_csv_text_keeps_formula_like_cells_as_text():
    from core.csvimport import csv_text

    text = csv_text(["名称", "数值"], [["=1+1", 3], ["+86 138", -2.5], ["-x", 0], ["@SUM(A1)", ""],
                                       ["\tx", None], ["\rx", "正常"]])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["名称", "数值"]
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'+86 138", "'-x", "'@SUM(A1)", "'\tx", "'\rx"]
    assert [r[1] for r in rows[1:]] == ["3", "-2.5", "0", "", "", "正常"]  # numbers stay numbers


def test_every_csv_the_platform_writes_goes_through_the_one_writer():
    """csv.writer / csv.DictWriter only inside core/csvimport.py (csv_writer, csv_text)."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", "bench/", "migrations/")) or relative == "core/csvimport.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("writer", "DictWriter") \
                    and isinstance(node.value, ast.Name) and node.value.id == "csv":
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []


# -- 6. security headers ------------------------------------------------------------------------

def _assert_security_headers(response, hsts: bool = False):
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["img-src"] == "'self' data: blob:"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert ("Strict-Transport-Security" in response.headers) is hsts


def test_security_headers_on_pages_api_and_errors(client, login):
    resident = login()
    _assert_security_headers(client.get("/login"))
    _assert_security_headers(client.get("/api/v1/me", headers=bearer(resident.token)))
    _assert_security_headers(client.get("/api/v1/no-such-thing"))
    _assert_security_headers(client.get("/no-such-page", headers={"Accept": "text/html"}))
    _assert_security_headers(client.get("/api/docs"))


def test_hsts_only_in_production(app_config):
    client = create_app({**app_config, "LINLI_ENV": "production"}).test_client()
    response = client.get("/login")
    _assert_security_headers(response, hsts=True)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    _assert_security_headers(client.get("/api/v1/no-such-thing"), hsts=True)


def test_no_template_carries_inline_script():
    """script-src 'self': scripts are files under static/; a page has no inline script or handler."""
    found = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b[^>]*>", text):
            tag = match.group(0)
            if "src=" not in tag and 'type="application/json"' not in tag:
                found.append(f"{path.name}: {tag}")
        found += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"\son[a-z]+\s*=", text)]
        found += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"javascript:", text)]
    assert found == []


# -- 7. absolute links --------------------------------------------------------------------------

def test_links_use_public_base_url_not_the_host_header(app, client, make_engineer, make_estate):
    estate = make_estate()
    engineer = make_engineer([estate])
    app.config["PUBLIC_BASE_URL"] = "https://linli.example.com"
    response = client.post("/api/v1/engineer/binding-codes", headers={**engineer.headers, "Host": "evil.example"},
                           json={"estate_id": estate})
    assert response.status_code == 201, response.json
    assert response.json["image_url"].startswith("https://linli.example.com/api/v1/binding-codes/")
    # development without the setting: the request's own origin
    app.config["PUBLIC_BASE_URL"] = ""
    response = client.post("/api/v1/engineer/binding-codes", headers=engineer.headers, json={"estate_id": estate})
    assert response.json["image_url"].startswith("http://linli.test/api/v1/binding-codes/")


def test_absolute_url_outside_a_request(app):
    from core.formatting import absolute_url

    app.config["PUBLIC_BASE_URL"] = "https://linli.example.com"
    with app.app_context():
        assert absolute_url("uploads.image", name="a.png") == "https://linli.example.com/api/v1/uploads/a.png"

