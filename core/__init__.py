"""The application factory: a table of contents of the platform."""
from __future__ import annotations

import importlib
import logging
import time

import sqlalchemy as sa
from flask import Flask, g, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from core import validation  # noqa: F401  (Chinese marshmallow messages: before any schema is defined)
from core.boundary import register_request_boundary
from core.config import INSTANCE_DIR, ROOT, load_config
from core.db import MAX_ID
from core.formatting import register_template_helpers

# Feature packages in dependency order: a feature imports only those before it (docs/architecture.md).
# A feature is one area, or lists its areas (sub-packages) in AREAS, lowest first; create_app
# finds each area's models, api, admin_api, views, cli and jobs modules by those names.
FEATURES = ("core", "points", "community", "ambassador", "activation", "demo")
AREAS = ("wechat", "uploads", "accounts", "notifications")  # the kernel's own areas


class BigIntConverter(IntegerConverter):
    """`<int:…>` up to the largest BIGINT: a longer number is a 404, never a database error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask("linli", instance_path=str(INSTANCE_DIR), root_path=str(ROOT),
                template_folder="templates", static_folder="static")
    app.url_map.converters["int"] = BigIntConverter  # before any route is added
    app.config.update(load_config())
    app.config.update(overrides or {})
    configure_logging(app)
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1)
    register_request_boundary(app)  # first: every later hook and view sees a bounded, checked request
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_signal_receivers(app)
    register_template_helpers(app)
    register_server_timing(app)
    return app


def register_server_timing(app: Flask) -> None:
    """`Server-Timing: app;dur=<ms>` on every response: the time the app spent, for browser and
    mini-program DevTools and the benchmarks (bench/README.md), apart from the network's."""
    @app.before_request
    def start_timer():
        g.started = time.perf_counter()

    @app.after_request
    def add_timing(response):
        if "started" in g:
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.started) * 1000:.1f}"
        return response


def configure_logging(app: Flask) -> None:
    logging.basicConfig(level=app.config["LOG_LEVEL"],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def area_packages() -> list[str]:
    """Every area's package name, feature by feature in dependency order (a flat feature is its own area)."""
    names = []
    for feature in FEATURES:
        names.append(feature)
        names.extend(f"{feature}.{area}" for area in getattr(importlib.import_module(feature), "AREAS", ()))
    return names


def area_modules(kind: str) -> list:
    """The `kind` module (models, api, views, cli, jobs, ...) of every area that has one, in order."""
    modules = []
    for package in area_packages():
        try:
            modules.append(importlib.import_module(f"{package}.{kind}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{package}.{kind}":
                raise
    return modules


def register_extensions(app: Flask) -> None:
    from core.accounts import services as accounts
    from core.auth import check_web_session
    from core.extensions import api, csrf, db, limiter, login_manager, migrate

    area_modules("models")  # every table on the metadata before anything binds
    # Web-session lifetimes first: before the rate limiter's keys or any view load the user.
    app.before_request(check_web_session)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    api.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = "请先登录"
    login_manager.session_protection = "strong"
    login_manager.user_loader(accounts.web_user)


def register_blueprints(app: Flask) -> None:
    from core.extensions import api, csrf
    from core.wechat import push

    for kind in ("api", "admin_api"):
        for module in area_modules(kind):
            csrf.exempt(module.bp)  # the API authenticates with bearer tokens, never cookies
            api.register_blueprint(module.bp)
    for module in area_modules("views"):
        app.register_blueprint(module.bp)
    app.register_blueprint(push.bp)  # WeChat's message push (signed by WeChat, not a page)

    @app.get("/healthz")
    def healthz():
        from core.extensions import db
        try:
            db.session.execute(sa.text("SELECT 1"))
            db.session.rollback()
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            return jsonify(status="error", database="unreachable"), 503
        return jsonify(status="ok", database="ok")


def register_error_handlers(app: Flask) -> None:
    from core.errors import register_error_handlers as register
    register(app)


def register_commands(app: Flask) -> None:
    for module in area_modules("cli"):
        for command in module.COMMANDS:
            app.cli.add_command(command)


def register_signal_receivers(app: Flask) -> None:
    """Each feature connects its receivers of core.signals once, here (never at import)."""
    for feature in FEATURES:
        init_app = getattr(importlib.import_module(feature), "init_app", None)
        if init_app is not None:
            init_app(app)
