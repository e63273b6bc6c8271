"""Extensions, created unbound here and bound to the app in core.create_app."""
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


class LinliApi(Api):
    """flask-smorest Api that documents our error shape; core.errors handles the errors."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


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
