"""The application factory: a table of contents of the platform."""
from __future__ import annotations

import importlib
import logging

import sqlalchemy as sa
from flask import Flask, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from core.config import INSTANCE_DIR, ROOT, load_config
from core.formatting import register_template_helpers

# Feature packages in dependency order. Each may have models, api (bp), views (bp) and cli (commands).
FEATURES = ("core", "core.wechat", "core.accounts", "core.uploads", "core.notifications", "points", "community", "ambassador", "demo")


class BigIntConverter(IntegerConverter):
    """`<int:…>` up to the largest BIGINT: a longer number is a 404, never a database error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
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
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_template_helpers(app)
    return app


def configure_logging(app: Flask) -> None:
    logging.basicConfig(level=app.config["LOG_LEVEL"],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _feature_module(feature: str, name: str):
    try:
        return importlib.import_module(f"{feature}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{feature}.{name}":
            return None
        raise


def register_extensions(app: Flask) -> None:
    from core.accounts import services as accounts
    from core.extensions import api, csrf, db, limiter, login_manager, migrate

    for feature in FEATURES:
        _feature_module(feature, "models")
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

    for feature in FEATURES:
        # A package that splits its API or pages over several modules lists them
        # (API_MODULES, VIEW_MODULES in its __init__); the default is one module of each.
        package = importlib.import_module(feature)
        for name in getattr(package, "API_MODULES", ("api", "admin_api")):
            api_module = _feature_module(feature, name)
            if api_module is not None:
                csrf.exempt(api_module.bp)  # the API authenticates with bearer tokens, never cookies
                api.register_blueprint(api_module.bp)
        for name in getattr(package, "VIEW_MODULES", ("views",)):
            views = _feature_module(feature, name)
            if views is not None:
                app.register_blueprint(views.bp)

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
    for feature in FEATURES:
        cli = _feature_module(feature, "cli")
        if cli is not None:
            for command in getattr(cli, "COMMANDS", ()):
                app.cli.add_command(command)
