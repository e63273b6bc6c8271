"""Who is calling: bearer tokens for the API, Flask-Login sessions for pages."""
from __future__ import annotations

import threading
import time
from copy import deepcopy
from datetime import datetime, timedelta, timezone
from functools import wraps

import sqlalchemy as sa
from flask import current_app, g, has_app_context, request, session
from flask_login import current_user, login_user, logout_user

from core.accounts import services
from core.accounts.models import User
from core.blueprint import READ_METHODS
from core.db import utcnow
from core.errors import Forbidden, Unauthorized
from core.extensions import db, limit_from, limiter
from core.formatting import BUSINESS_TZ

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
        principal = _principal_of(token) if token else None
        g.api_principal = principal
    return principal


# -- the principal cache (issue 15) --------------------------------------------------------------
# The token lookup was a third of a simple read's time on PostgreSQL, so each worker keeps what it
# found for a short while. The rules, all here:
# - only reads (GET, HEAD) are answered from the cache; every other method asks the database, so a
#   revoked token or a disabled user is refused at once for any write, on every worker;
# - an entry is trusted for at most TOKEN_CACHE_SECONDS (the documented bound within which a change
#   made by another worker reaches this one's reads), never past its token's expires_at, and never
#   into a new Asia/Shanghai day (the day's first request must note the user's activity);
# - a miss is never cached (a new login works at once), nor is a lookup that had to note today's
#   activity (a read's lookup commits it at once in autocommit, core.blueprint, but one inside a
#   transaction may still roll back: the next read asks again);
# - what changes a token's grant in this worker (revocation, a user's roles or status: see
#   core.accounts.services._forget_principals) drops the affected entries at once and again when
#   its transaction commits, so a read that looked up the old rows in between is not kept either.

CACHE_KEY = "linli_principal_cache"  # in app.extensions: one cache per app, never shared between apps
_FORGET_AFTER_COMMIT = "linli_forget_principals"  # in Session.info: drops to repeat after the commit


class PrincipalCache:
    """Principals of recently seen tokens, by token hash (never the token), in one worker.

    Thread safety (gthread workers): a read is one `dict.get` of an immutable tuple, atomic in
    CPython, so it takes no lock and sees either the old entry or the new one. Writers (fill, drop,
    eviction) take a lock, so that eviction and the per-user scan never iterate a dict that another
    thread is resizing.
    """

    def __init__(self, seconds: int, max_entries: int = 10_000):
        self.seconds, self.max_entries = seconds, max_entries
        self.clock = time.time  # wall-clock seconds: token expiry and the business day are wall-clock
        self._entries: dict[str, tuple[float, float, services.Principal]] = {}  # hash → (since, until, principal)
        self._lock = threading.Lock()

    def get(self, token_hash: str, now: float) -> services.Principal | None:
        entry = self._entries.get(token_hash)
        # `since <= now`: a wall clock set back does not stretch an entry's life.
        return entry[2] if entry is not None and entry[0] <= now < entry[1] else None

    def put(self, token_hash: str, grant: services.TokenGrant | None, now: float) -> None:
        """Remember a lookup's answer, if it may be trusted; otherwise forget the token's entry."""
        if grant is None or not grant.noted_before:
            self.drop(token_hash=token_hash)
            return
        until = min(now + self.seconds, grant.expires_at.timestamp(), _end_of_business_day(now))
        with self._lock:
            self._entries.pop(token_hash, None)  # re-inserted last: the dict's order is the entries' age
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]  # the oldest first
            self._entries[token_hash] = (now, until, grant.principal)

    def drop(self, *, user_id: int | None = None, token_hash: str | None = None) -> None:
        """Forget one token's entry, or every entry of a user (a scan: only on rare staff actions)."""
        with self._lock:
            if token_hash is not None:
                self._entries.pop(token_hash, None)
            if user_id is not None:
                for key in [k for k, entry in self._entries.items() if entry[2].id == user_id]:
                    del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


def _end_of_business_day(now: float) -> float:
    today = datetime.fromtimestamp(now, BUSINESS_TZ).date()
    return datetime.combine(today + timedelta(days=1), datetime.min.time(), BUSINESS_TZ).timestamp()


def principal_cache() -> PrincipalCache | None:
    """This app's principal cache; None when TOKEN_CACHE_SECONDS is 0 (every request asks the database)."""
    cache = current_app.extensions.get(CACHE_KEY)
    if cache is None and current_app.config["TOKEN_CACHE_SECONDS"] > 0:
        cache = current_app.extensions.setdefault(CACHE_KEY, PrincipalCache(current_app.config["TOKEN_CACHE_SECONDS"]))
    return cache


def _principal_of(token: str) -> services.Principal | None:
    """The token's principal: a read may take it from this worker's cache; anything else, and a read
    the cache cannot answer, asks the database (one query: core.accounts.services.token_grant)."""
    token_hash = services.token_key(token)
    if token_hash is None:
        return None
    cache = principal_cache()
    if cache is None:
        grant = services.token_grant(token_hash, utcnow())
        return grant.principal if grant else None
    now = cache.clock()
    reading = request.method in READ_METHODS
    if reading and (principal := cache.get(token_hash, now)) is not None:
        return principal
    grant = services.token_grant(token_hash, datetime.fromtimestamp(now, timezone.utc))
    # A read fills the cache. A write's answer drops the token's entry instead: what the write just
    # learnt (a revocation, a user disabled, today's activity not on record) holds for this
    # worker's next read at once, and writes never fill the cache.
    cache.put(token_hash, grant if reading else None, now)
    return grant.principal if grant else None


def forget_principals(*, user_id: int | None = None, token_hash: str | None = None) -> None:
    """What a token grants changed in this transaction: drop the affected cache entries now, and
    again when the transaction commits (a read in between may have looked up the old, still
    committed rows). A rollback changes nothing, so the early drop costs at most one lookup."""
    if not has_app_context():
        return
    cache = current_app.extensions.get(CACHE_KEY)
    if cache is None:
        return
    cache.drop(user_id=user_id, token_hash=token_hash)
    db.session.info.setdefault(_FORGET_AFTER_COMMIT, []).append((cache, user_id, token_hash))


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _forget_committed(session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release commits nothing yet
    for cache, user_id, token_hash in session.info.pop(_FORGET_AFTER_COMMIT, ()):
        cache.drop(user_id=user_id, token_hash=token_hash)


@sa.event.listens_for(sa.orm.Session, "after_soft_rollback")
def _nothing_to_forget(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction: none of its changes happened
        session.info.pop(_FORGET_AFTER_COMMIT, None)


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
