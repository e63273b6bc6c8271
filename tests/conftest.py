"""One suite, two databases.

- SQLite (default): the schema is built once by the Alembic migrations into a template file,
  and every test gets a fresh copy of it.
- PostgreSQL (TEST_DATABASE_URL=postgresql://…): the suite creates its own database on that
  server, builds the schema with the migrations once, empties the tables after each test and
  drops the database at the end, so runs never collide. If the server cannot be reached the
  run fails: it never skips silently.

WeChat is the fake server (core.wechat.fake) on a loopback port, reached by real wechatpy calls.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import requests
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from core import create_app
from core.wechat.fake import FakeWeChatServer

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL)


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + TEST_DATABASE_URL if ON_POSTGRES else 'SQLite (file per test)'}"


def _app_config(database_url: str, wechat_base: str, **extra) -> dict:
    return {
        "TESTING": True,
        "PROPAGATE_UNEXPECTED_ERRORS": True,
        "SECRET_KEY": "test-secret-key",
        "AUDIT_HMAC_KEY": "test-audit-hmac-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WECHAT_API_BASE": wechat_base,
        "WECHAT_APPID": "wx_fake_appid",
        "WECHAT_SECRET": "fake_secret",
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "linli.test",
        **extra,
    }


def _migrate(database_url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(_app_config(database_url, "http://127.0.0.1:9/"))
    with app.app_context():
        upgrade()
        from core.extensions import db
        db.engine.dispose()


def _postgres_admin_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """SQLite: a migrated template file. PostgreSQL: the owner's URL of a fresh migrated database
    (the app connects as a restricted role: `_APP_URLS`)."""
    if not ON_POSTGRES:
        path = tmp_path_factory.mktemp("db") / "template.db"
        _migrate(f"sqlite:///{path}")
        yield str(path)
        return
    admin_url = _postgres_admin_url(TEST_DATABASE_URL)
    name = f"linli_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}", returncode=3)
    admin.execute(f'CREATE DATABASE "{name}"')
    # A test database need not survive a crash: commits don't wait for the WAL flush (each test
    # commits many times; concurrency and locking behave exactly as with durable commits).
    admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    parts = urlsplit(admin_url)
    url = urlunsplit(parts._replace(path="/" + name))
    # The app runs as a role that owns nothing (docs/security.md): roles are cluster-wide, so each
    # run (each xdist worker) makes its own, dropped with its database.
    role, password = name.replace("linli_test_", "linli_app_"), uuid.uuid4().hex
    try:
        _migrate(url)
        _SEEDED[url] = _seeded_rows(url)
        admin.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
        engine = _engine(url)
        with engine.begin() as conn:
            from core.db import grant_app_role
            grant_app_role(conn, role)
        engine.dispose()
        _APP_URLS[url] = sa.engine.make_url(url).set(username=role, password=password).render_as_string(
            hide_password=False)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.close()


@pytest.fixture
def database_url(database_template, tmp_path):
    if not ON_POSTGRES:
        path = tmp_path / "test.db"
        shutil.copyfile(database_template, path)
        yield f"sqlite:///{path}"
        return
    yield _APP_URLS[database_template]
    _truncate_all(database_template)


@pytest.fixture
def owner_db(database_url, database_template):
    """An engine connected as the owner of the tables, for what the app's role may not do (tamper
    with append-only rows, lift their triggers): on SQLite the same file."""
    engine = _engine(database_template if ON_POSTGRES else database_url)
    yield engine
    engine.dispose()


def rewrite_as_owner(owner_db, *statements: str) -> None:
    """Run `statements` against append-only rows as the owner of the tables could: the triggers
    out of the way for the one transaction (PostgreSQL: the replica role, as a superuser; SQLite:
    the refusing triggers dropped from the test's file)."""
    with owner_db.begin() as conn:
        if ON_POSTGRES:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            for name in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars():
                if name.endswith(("_no_update", "_no_delete")):
                    conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        for statement in statements:
            conn.exec_driver_sql(statement)


# The app's restricted role's URL, per owner URL of a PostgreSQL test database.
_APP_URLS: dict[str, str] = {}


# Rows the migrations seed (reference data such as the default earning rules), per database URL:
# every test starts from them, as a freshly migrated SQLite copy does.
_SEEDED: dict[str, dict[str, list[dict]]] = {}


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=sa.pool.NullPool)


def _seeded_rows(url: str) -> dict[str, list[dict]]:
    from core.extensions import db

    engine = _engine(url)
    with engine.connect() as conn:
        seeded = {t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in db.metadata.sorted_tables}
    engine.dispose()
    return {name: rows for name, rows in seeded.items() if rows}


def _truncate_all(url: str) -> None:
    """Empty every table, restart the id sequences and put back what the migrations seeded.

    DELETE in foreign-key order is ~7x faster than TRUNCATE on a test's few rows (TRUNCATE makes
    new files for every table: ~0.3 s per test); TRUNCATE stays the fallback.
    """
    from core.extensions import db

    engine = _engine(url)
    with engine.begin() as conn:
        tables = conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )).scalars().all()
        sequences = conn.execute(sa.text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")).scalars().all()
        ordered = [t.name for t in reversed(db.metadata.sorted_tables) if t.name in tables]
        if len(ordered) == len(tables):
            try:
                with conn.begin_nested():
                    # replica role: the append-only triggers (and FK checks) stay out of the way
                    conn.exec_driver_sql("; ".join(["SET LOCAL session_replication_role = replica",
                                                    *(f'DELETE FROM "{t}"' for t in ordered),
                                                    *(f'ALTER SEQUENCE "{q}" RESTART' for q in sequences)]))
                tables = []
            except sa.exc.IntegrityError:  # a foreign-key cycle no order satisfies
                pass
        if tables:  # the append-only tables refuse TRUNCATE unless their triggers are off
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        for name, rows in _SEEDED.get(url, {}).items():
            conn.execute(db.metadata.tables[name].insert(), rows)
            # Seeded rows keep their ids: the restarted sequence must continue after them.
            sequence = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": name}).scalar() \
                if "id" in db.metadata.tables[name].c else None
            if sequence:
                conn.execute(sa.text(f'SELECT setval(:s, (SELECT max(id) FROM "{name}"))'), {"s": sequence})
    engine.dispose()


# -- the fake WeChat server -------------------------------------------------------------------

class WeChat:
    """Test controls of the fake WeChat server."""

    def __init__(self, server: FakeWeChatServer):
        self.server = server
        self.url = server.url
        self.http = requests.Session()

    def control(self, method: str, path: str, **kwargs):
        response = self.http.request(method, self.url + "_fake/" + path, timeout=5, **kwargs)
        response.raise_for_status()
        return response.json()

    def code(self, openid: str | None = None, unionid: str | None = None) -> str:
        """A one-shot wx.login code for that openid (a new openid when omitted)."""
        body = {k: v for k, v in (("openid", openid), ("unionid", unionid)) if v}
        return self.control("POST", "codes", json=body)["code"]

    def fault(self, endpoint: str, count: int = 1, **kwargs) -> None:
        self.control("POST", "faults", json={"endpoint": endpoint, "count": count, **kwargs})

    def calls(self, endpoint: str | None = None) -> list[dict]:
        calls = self.control("GET", "calls")["calls"]
        return [c for c in calls if endpoint is None or c["endpoint"] == endpoint]

    def advance(self, seconds: int) -> None:
        self.control("POST", "clock", json={"advance_seconds": seconds})

    def reset(self) -> None:
        self.control("POST", "reset")


@pytest.fixture(scope="session")
def wechat_server():
    with FakeWeChatServer() as server:
        yield server


@pytest.fixture
def wechat(wechat_server):
    wx = WeChat(wechat_server)
    wx.reset()
    yield wx
    wx.http.close()


# -- the app ----------------------------------------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """scrypt costs ~0.2 s per hash and nearly every test logs staff in: hash with a cheap
    PBKDF2 instead (check_password_hash reads the method from the hash; the code paths are the same)."""
    from werkzeug.security import generate_password_hash

    from core.accounts import services as accounts
    fast = functools.partial(generate_password_hash, method="pbkdf2:sha256:1000")
    patch = pytest.MonkeyPatch()
    patch.setattr(accounts, "generate_password_hash", fast)
    patch.setattr(accounts, "_DUMMY_HASH", fast("linli-dummy-password"))
    yield
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def reuse_url_builders():
    """Every test creates its app, and werkzeug generates and compiles Python code for each of the
    ~500 routes' URL builders (~0.3 s of the ~0.35 s create_app, times every test). A builder is a
    pure function of the rule's text, parsed trace, defaults and converters, so the test session
    compiles each once and reuses it across apps; production builds its one app as before."""
    from werkzeug.routing.rules import Rule

    compile_builder, built = Rule._compile_builder, {}

    def reused(self, append_unknown=True):
        key = (self.rule, append_unknown, tuple(self._trace),
               tuple(sorted((k, repr(v)) for k, v in (self.defaults or {}).items())),
               tuple(sorted((k, type(c).__name__, repr(vars(c))) for k, c in self._converters.items()
                            if k in (self.defaults or {}))))
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    patch = pytest.MonkeyPatch()
    patch.setattr(Rule, "_compile_builder", reused)
    yield
    patch.undo()


@pytest.fixture
def app_config(database_url, wechat, tmp_path):
    """Override keys here (e.g. `app_config["RATELIMIT_ENABLED"] = True`) before using `app`."""
    # Each test has its own pool of WeChat call slots (a host's pool is shared by its processes).
    return _app_config(database_url, wechat.url, UPLOAD_DIR=str(tmp_path / "uploads"),
                       AUDIT_CHECKPOINT=str(tmp_path / "checkpoints"),
                       WECHAT_SLOT_DIR=str(tmp_path / "wechat-slots"),
                       # Unbounded: tests that race many requests through WeChat calls must not
                       # meet the host's pool; tests/core/wechat/test_gateway_stall.py sets it.
                       WECHAT_MAX_CONCURRENT=0, WECHAT_MAX_CONCURRENT_TOTAL=0)


class Client(FlaskClient):
    """A test client whose responses are read and closed at once, as a server does (a streamed file
    is not left open for the garbage collector to warn about)."""

    def open(self, *args, buffered=True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.test_client_class = Client
    yield app
    from core.extensions import db
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for service tests."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# -- factories: fixtures that return callables ------------------------------------------------

@dataclass
class Account:
    user_id: int
    token: str
    openid: str | None = None

    @property
    def headers(self) -> dict:
        return bearer(self.token)


@dataclass
class EngineerAccount(Account):
    engineer_id: int = 0
    employee_no: str = ""
    wechat: "WeChat | None" = None

    def first_password(self, password: str) -> dict:
        """The body of PUT /api/v1/me/password setting a first web password: with a fresh wx.login
        code of the engineer's own WeChat account, as the mini-program sends it."""
        return {"password": password, "wechat_code": self.wechat.code(self.openid)}


@pytest.fixture
def make_estate(app):
    counter = iter(range(1, 10**6))

    def make(**fields) -> int:
        from community.estates import services
        from core.extensions import db
        n = next(counter)
        data = {"name": f"测试小区{n}", "province": "广东省", "city": "深圳市", "district": "南山区",
                "address": f"科技园路{n}号", "households": 1000, **fields}
        with app.app_context():
            estate = services.create_estate(data, actor=None)
            db.session.commit()
            return estate.id
    return make


@pytest.fixture
def login(client, wechat):
    """Log a resident in through the fake WeChat; returns an Account."""
    def do(openid: str | None = None, unionid: str | None = None) -> Account:
        openid = openid or f"o{uuid.uuid4().hex[:27]}"
        response = client.post("/api/v1/auth/wechat-login", json={"code": wechat.code(openid, unionid)})
        assert response.status_code == 200, response.json
        return Account(user_id=response.json["user"]["id"], token=response.json["token"], openid=openid)
    return do


@pytest.fixture
def make_admin(app, client):
    """make(username=None, password=..., roles={"admin"}) -> the logged-in Account of a staff member."""
    counter = iter(range(1, 10**6))

    def make(username: str | None = None, password: str = "admin-pass-1", roles=frozenset({"admin"})) -> Account:
        from core.accounts import services as accounts
        from core.extensions import db
        username = username or f"{sorted(roles)[0]}{next(counter)}"
        with app.app_context():
            user = accounts.create_staff(username, password, set(roles))
            db.session.commit()
            user_id = user.id
        response = client.post("/api/v1/auth/password-login", json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        return Account(user_id=user_id, token=response.json["token"])
    return make


@pytest.fixture
def admin(make_admin):
    return make_admin()


@pytest.fixture
def agent(make_admin):
    """A customer-service agent (客服): reads and handles, decides nothing an admin decides."""
    return make_admin(roles={"agent"})


@pytest.fixture
def make_engineer(client, admin, login, wechat):
    """An engineer created by the admin API and claimed from the mini-program; returns EngineerAccount."""
    counter = iter(range(1, 10**6))

    def make(estate_ids: list[int] = (), name: str | None = None) -> EngineerAccount:
        n = next(counter)
        employee_no = f"E{n:05d}{uuid.uuid4().hex[:4]}"
        response = client.post("/api/v1/admin/engineers", headers=admin.headers, json={
            "name": name or f"工程师{n}", "phone": f"1380000{n:04d}", "employee_no": employee_no,
            "estate_ids": list(estate_ids)})
        assert response.status_code == 201, response.json
        engineer_id, invite = response.json["id"], response.json["invite_code"]
        account = login()
        response = client.post("/api/v1/engineer/claim", headers=account.headers, json={"invite_code": invite})
        assert response.status_code == 200, response.json
        return EngineerAccount(user_id=account.user_id, token=account.token, openid=account.openid,
                               engineer_id=engineer_id, employee_no=employee_no, wechat=wechat)
    return make


@pytest.fixture
def mint_code(client):
    def mint(engineer: EngineerAccount, estate_id: int, **extra) -> dict:
        response = client.post("/api/v1/engineer/binding-codes", headers=engineer.headers,
                               json={"estate_id": estate_id, **extra})
        assert response.status_code == 201, response.json
        return response.json
    return mint


@pytest.fixture
def bind(client, wechat):
    """Scan + one binding call, as the mini-program does. Returns the response."""
    def do(scene: str, openid: str | None = None, **extra):
        openid = openid or f"o{uuid.uuid4().hex[:27]}"
        return client.post("/api/v1/bindings", json={"code": wechat.code(openid), "scene": scene, **extra})
    return do


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def html(response) -> str:
    return response.get_data(as_text=True)


def flashes(response) -> list[str]:
    """The flash messages a page shows, whitespace folded."""
    found = re.findall(r'<div class="flash [a-z]+">(.*?)</div>', html(response), re.S)
    return [re.sub(r"\s+", " ", m).strip() for m in found]


def post_form(client, page_url: str, action_url: str, data, **kwargs):
    """Open the page, take its CSRF token and post the form (a dict, or (name, value) pairs for
    repeated names) to `action_url`."""
    token = csrf_token(html(client.get(page_url)))
    if isinstance(data, dict):
        data = {"csrf_token": token, **data}
    else:
        data = MultiDict([("csrf_token", token), *data])
    return client.post(action_url, data=data, **kwargs)


PASSWORD = "boss-pass-123"


@pytest.fixture
def console(client, make_admin, web_login):
    """The test client logged in as an admin (through /login); `.admin` is the admin's Account."""
    client.admin = make_admin("boss", PASSWORD)
    web_login("boss", PASSWORD)
    return client


@pytest.fixture
def web_login(client):
    """Log the test client in through the real login form (CSRF included); returns the client."""
    def do(username: str, password: str):
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"csrf_token": token, "username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client
    return do


@pytest.fixture
def make_ambassador(app, login):
    """make(level=1, estate_ids=(), city=None, channel="member", user=None) -> the logged-in Account
    (with .user_id and .headers) of an active ambassador at the level of that position, made directly in
    the database (tests of the application flow itself go through the API instead)."""
    import secrets

    from ambassador.models import Ambassador, AmbassadorEstate, Level, LevelChange
    from core.extensions import db

    def make(level: int = 1, estate_ids=(), city: str | None = None, channel: str = "member", user=None,
             phone: str | None = None):
        account = user or login()
        with app.app_context():
            level_row = db.session.scalar(sa.select(Level).where(Level.position == level))
            db.session.add(Ambassador(user_id=account.user_id, level_id=level_row.id, channel=channel,
                                      real_name="测试代言人", phone=phone or f"139{secrets.randbelow(10**8):08d}",
                                      city=city, invite_code=secrets.token_hex(4).upper()))
            db.session.flush()
            for estate_id in estate_ids:
                db.session.add(AmbassadorEstate(user_id=account.user_id, estate_id=estate_id))
            db.session.add(LevelChange(user_id=account.user_id, kind="join", to_level_id=level_row.id,
                                       reason="测试数据"))
            db.session.commit()
        return account

    return make
