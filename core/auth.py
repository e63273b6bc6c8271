"""Who is calling: bearer tokens for the API, Flask-Login sessions for pages."""
from __future__ import annotations

import time
from copy import deepcopy
from functools import wraps

import sqlalchemy as sa
from flask import current_app, g, request, session
from flask_login import current_user, login_user, logout_user

from core.accounts import services
from core.accounts.models import User
from core.errors import Forbidden, Unauthorized
from core.extensions import db, limit_from, limiter

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
    """Flask-Limiter key: the authenticated user (bearer token, else web session), else the client address."""
    principal = current_principal()
    if principal is None and current_user and current_user.is_authenticated:
        principal = current_user
    return f"user:{principal.id}" if principal else f"ip:{request.remote_addr}"


def rate_key_username() -> str:
    """Flask-Limiter key: the account being tried — the username in the JSON body or form, else
    the bearer token's own account (a password change) — else the client address."""
    body = request.get_json(silent=True) if request.is_json else request.form
    username = body.get("username") if isinstance(body, dict) else None
    if not username and current_principal() is not None:
        username = db.session.scalar(sa.select(User.username).where(User.id == current_principal().id))
    return f"username:{str(username)[:64].strip().lower()}" if username else f"ip:{request.remote_addr}"


# Limits shared by every route that does the same thing, counted once across them (one scope):
# a password tried on /login, on /api/v1/auth/password-login or as the current password of
# PUT /api/v1/me/password is one more try at that account; a binding code minted on the page
# or through the API is one more code. Counted in RATELIMIT_STORAGE_URI (Redis in production:
# core.config refuses memory:// there, which would count per worker).
login_per_ip = limiter.shared_limit(limit_from("RATELIMIT_LOGIN_PER_IP"), scope="password-login-ip",
                                    methods=["POST"])
login_per_account = limiter.shared_limit(limit_from("RATELIMIT_LOGIN_PER_ACCOUNT"), scope="password-login-account",
                                         key_func=rate_key_username, methods=["POST", "PUT"])
codes_per_user = limiter.shared_limit(limit_from("RATELIMIT_CODES_PER_USER"), scope="binding-codes-user",
                                      key_func=rate_key_user, methods=["POST"])
codes_per_ip = limiter.shared_limit(limit_from("RATELIMIT_CODES_PER_IP"), scope="binding-codes-ip", methods=["POST"])


# -- web sessions ------------------------------------------------------------------------------
# The session cookie is signed, not stored: the server ends sessions through the user's session
# version (core.accounts.services.end_web_sessions, checked by the Flask-Login loader) and the two
# lifetimes below, whose timestamps the cookie carries (and which its signature protects).

SEEN_RESOLUTION = 60  # seconds: the last-seen time is rewritten at most once a minute


def start_web_session(user: User) -> None:
    """Log the user in to the web console, starting both lifetimes now."""
    login_user(user)
    now = int(time.time())
    session["auth_at"] = session["seen_at"] = now


def end_web_session(user: User) -> None:
    """Log out: every web session of the user ends (a saved cookie stops working too)."""
    services.end_web_sessions(user)
    db.session.commit()
    logout_user()


def check_web_session() -> None:
    """before_request: a session idle for SESSION_IDLE_MINUTES, or older than SESSION_MAX_HOURS,
    is over (the user logs in again); otherwise note the request's time."""
    if "_user_id" not in session:
        return
    cfg, now = current_app.config, int(time.time())
    auth_at, seen_at = session.get("auth_at"), session.get("seen_at")
    if (not isinstance(auth_at, int) or not isinstance(seen_at, int)
            or now - seen_at > cfg["SESSION_IDLE_MINUTES"] * 60
            or now - auth_at > cfg["SESSION_MAX_HOURS"] * 3600):
        logout_user()
        session.pop("auth_at", None)
        session.pop("seen_at", None)
        session["expired"] = True  # the login page says why
        return
    if now - seen_at >= SEEN_RESOLUTION:
        session["seen_at"] = now


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
