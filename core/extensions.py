"""Extensions, created unbound here and bound to the app in core.create_app."""
from decimal import Decimal

import marshmallow as ma
from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from core.db import Base, render_item


class _ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "snake_case error code"})
    message = ma.fields.String(metadata={"description": "human-readable message (Simplified Chinese)"})
    details = ma.fields.Dict(metadata={"description": "e.g. fields: {name: [messages]} for validation errors"})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(_ErrorDetailSchema)


BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def decimal_bounds_as_numbers(self, field, ret, **kwargs) -> dict:
    """apispec writes a Range's bounds as the field serialises them: a Decimal field's come out as
    strings ("90"), which OpenAPI refuses; they are numbers."""
    if not isinstance(field, ma.fields.Decimal):
        return {}
    numbers = {}
    for key in BOUNDS:
        if key in ret:
            value = Decimal(str(ret[key]))
            numbers[key] = int(value) if value == value.to_integral_value() else float(value)
    return numbers


class LinliApi(Api):
    """flask-smorest Api that documents our error shape (core.errors handles the errors), and
    writes the OpenAPI document when it is first read instead of at start-up.

    Documenting ~300 views (apispec resolving and deep-copying their schemas) was 60% of
    `create_app`: half a second per app, for every worker and every test, for a document most
    processes never serve. The routes are registered at once as before; the document is built
    from the same blueprints on the first access to `spec` (the /api/openapi.json view, `flask
    openapi`, tests), and is the same document (tests/core/test_openapi.py validates it)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass

    def init_app(self, app, *, spec_kwargs=None):
        self._undocumented = []
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.ma_plugin.converter.add_attribute_function(decimal_bounds_as_numbers)

    def register_blueprint(self, blp, *, parameters=None, **options):
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((self._app, blp, name, parameters))

    @property
    def spec(self):
        pending = getattr(self, "_undocumented", None)
        if pending:
            self._undocumented = []
            for app, blp, name, parameters in pending:
                blp.register_views_in_doc(self, app, self._spec, name=name, parameters=parameters)
                self._spec.tag({"name": name, "description": blp.description})
        return self._spec

    @spec.setter
    def spec(self, value):
        self._spec = value


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True, render_item=render_item)
login_manager = LoginManager()
csrf = CSRFProtect()
# Limits are attached per route (login, binding, code minting); none apply by default.
limiter = Limiter(key_func=get_remote_address)


def limit_from(setting: str):
    """A Flask-Limiter limit read from the app's config at request time (e.g. "30/minute;600/hour")."""
    return lambda: current_app.config[setting]
api = LinliApi(spec_kwargs={"components": {"securitySchemes": {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "token from /api/v1/auth/*-login"},
    "linliSignature": {"type": "apiKey", "in": "header", "name": "X-Linli-Signature",
                       "description": 'partner systems: hex HMAC-SHA256 over X-Linli-Timestamp + "." + raw body'},
}}})
