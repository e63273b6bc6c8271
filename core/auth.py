"""Who is calling: bearer tokens for the API, Flask-Login sessions for pages."""
from __future__ import annotations

from copy import deepcopy
from functools import wraps

from flask import g, request
from flask_login import current_user

from core.accounts import services
from core.accounts.models import User
from core.errors import Forbidden, Unauthorized
from core.extensions import db

_UNSET = object()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_principal() -> services.Principal | None:
    """Who the request's bearer token belongs to (looked up once per request)."""
    principal = g.get("api_principal", _UNSET)
    if principal is _UNSET:
        token = bearer_token()
        principal = services.principal_for_token(token) if token else None
        g.api_principal = principal
    return principal


def current_api_user() -> User | None:
    """The caller's User row, loaded when a view needs more than the id and roles."""
    principal = current_principal()
    return db.session.get(User, principal.id) if principal else None


def require_api_user(*roles: str) -> services.Principal:
    principal = current_principal()
    if principal is None:
        if bearer_token():
            raise Unauthorized("登录已失效，请重新登录", code="invalid_token")
        raise Unauthorized()
    if roles and not principal.has_role(*roles):
        raise Forbidden()
    return principal


def auth_required(*roles: str):
    """API view decorator: a valid bearer token (with one of `roles`, when given).

    The view receives nothing extra; it calls `current_principal()` or `current_api_user()`.
    """
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            require_api_user(*roles)
            return view(*args, **kwargs)
        # Document the requirement in OpenAPI (flask-smorest reads _apidoc["manual_doc"]).
        wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
        wrapper._apidoc.setdefault("manual_doc", {})["security"] = [{"bearerAuth": []}]
        return wrapper
    return decorator


def rate_key_user() -> str:
    """Flask-Limiter key: the authenticated user, else the client address."""
    principal = current_principal()
    return f"user:{principal.id}" if principal else f"ip:{request.remote_addr}"


def rate_key_username() -> str:
    """Flask-Limiter key: the username being tried (JSON body or form), else the client address."""
    body = request.get_json(silent=True) if request.is_json else request.form
    username = body.get("username") if isinstance(body, dict) else None
    return f"username:{str(username)[:64].strip().lower()}" if username else f"ip:{request.remote_addr}"


def page_roles_required(*roles: str):
    """Page view decorator: a logged-in web session with one of `roles`."""
    from core.extensions import login_manager

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and not current_user.has_role(*roles):
                raise Forbidden()
            return view(*args, **kwargs)
        return wrapper
    return decorator
