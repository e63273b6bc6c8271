"""Settings from environment variables; SQLite + fake WeChat by default.

Every setting is documented in README.md ("Settings"). `load_config()` returns a
plain dict so tests can override any key through `create_app({...})`.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("LINLI_INSTANCE_DIR", ROOT / "instance"))

FAKE_APPID = "wx_fake_appid"
FAKE_SECRET = "fake_secret"


MAX_TOKEN_CACHE_SECONDS = 60


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _dev_secret_key(filename: str = "secret_key") -> str:
    """A per-checkout random key kept under instance/, so dev sessions survive restarts."""
    path = INSTANCE_DIR / filename
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_config() -> dict:
    env = _env("LINLI_ENV", "development")
    if env not in ("development", "production"):
        raise ConfigError(f"LINLI_ENV must be development or production, got {env!r}")
    production = env == "production"

    def required(name: str, dev_default):
        value = _env(name)
        if value is None:
            if production:
                raise ConfigError(f"{name} must be set when LINLI_ENV=production")
            return dev_default() if callable(dev_default) else dev_default
        return value

    redis_url = _env("REDIS_URL")
    cfg = {
        "LINLI_ENV": env,
        "SECRET_KEY": required("SECRET_KEY", _dev_secret_key),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            required("DATABASE_URL", lambda: f"sqlite:///{INSTANCE_DIR / 'linli.db'}")
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": _bool("DATABASE_PRE_PING", False), "pool_recycle": 1800},
        "REDIS_URL": redis_url,
        # Tamper evidence of the audit log and the ledger (docs/security.md): the key of the audit
        # chain and of the checkpoints, and where the checkpoints are kept (a redis:// URL or a directory)
        "AUDIT_HMAC_KEY": required("AUDIT_HMAC_KEY", lambda: _dev_secret_key("audit_hmac_key")),
        "AUDIT_CHECKPOINT": _env("AUDIT_CHECKPOINT", redis_url or str(INSTANCE_DIR / "checkpoints")),
        # WeChat
        "WECHAT_API_BASE": required("WECHAT_API_BASE", "http://127.0.0.1:5001/"),
        "WECHAT_APPID": required("WECHAT_APPID", FAKE_APPID),
        "WECHAT_SECRET": required("WECHAT_SECRET", FAKE_SECRET),
        "WECHAT_TIMEOUT": _int("WECHAT_TIMEOUT", 5),
        # Inside a web request: seconds for a whole WeChat call, and the host's bounded pool of such calls
        "WECHAT_REQUEST_TIMEOUT": _int("WECHAT_REQUEST_TIMEOUT", 3),
        "WECHAT_MAX_CONCURRENT": _int("WECHAT_MAX_CONCURRENT", 2),
        "WECHAT_MAX_CONCURRENT_TOTAL": _int("WECHAT_MAX_CONCURRENT_TOTAL", 3),
        "WECHAT_SLOT_WAIT_MS": _int("WECHAT_SLOT_WAIT_MS", 500),  # how long a call may wait for a slot
        "WECHAT_SLOT_DIR": _env("WECHAT_SLOT_DIR", str(INSTANCE_DIR / "wechat-slots")),
        "WECHAT_PROXY": _env("WECHAT_PROXY", ""),  # e.g. http://proxy:3128 when WeChat is reached through one
        "WECHAT_BIND_PAGE": _env("WECHAT_BIND_PAGE", "pages/bind/index"),
        "WECHAT_ENV_VERSION": _env("WECHAT_ENV_VERSION", "release"),
        # formal | trial | developer: which mini-program version a subscribe message opens
        "WECHAT_MINIPROGRAM_STATE": _env("WECHAT_MINIPROGRAM_STATE", "formal"),
        # Subscribe-message template ids (from the mini-program's admin console), by purpose
        "WECHAT_TEMPLATE_VISIT": _env("WECHAT_TEMPLATE_VISIT", "tmpl_visit_notice"),
        "WECHAT_TEMPLATE_ACTIVITY": _env("WECHAT_TEMPLATE_ACTIVITY", "tmpl_activity_notice"),
        "WECHAT_TEMPLATE_ORDER": _env("WECHAT_TEMPLATE_ORDER", "tmpl_order_status"),
        "WECHAT_TEMPLATE_REDEMPTION": _env("WECHAT_TEMPLATE_REDEMPTION", "tmpl_redemption_status"),
        "WECHAT_TEMPLATE_MAINTENANCE": _env("WECHAT_TEMPLATE_MAINTENANCE", "tmpl_maintenance_due"),
        "WECHAT_TEMPLATE_OFFER": _env("WECHAT_TEMPLATE_OFFER", "tmpl_offer_notice"),
        "WECHAT_TEMPLATE_STEWARD": _env("WECHAT_TEMPLATE_STEWARD", "tmpl_steward_change"),
        "NOTIFY_BATCH_SIZE": _int("NOTIFY_BATCH_SIZE", 100),
        # WeChat's message push (消息推送配置): the token, and the EncodingAESKey for security mode
        "WECHAT_PUSH_TOKEN": required("WECHAT_PUSH_TOKEN", "linli-dev-push-token"),
        # (required in production: plaintext pushes are signed without their body)
        "WECHAT_PUSH_AES_KEY": required("WECHAT_PUSH_AES_KEY", ""),
        "WECHAT_PUSH_MAX_SKEW_SECONDS": _int("WECHAT_PUSH_MAX_SKEW_SECONDS", 300),
        # Accounts
        "TOKEN_TTL_DAYS": _int("TOKEN_TTL_DAYS", 30),
        # how long a worker may answer a read from its cache of a token's principal (core.auth); 0: never
        "TOKEN_CACHE_SECONDS": _int("TOKEN_CACHE_SECONDS", 10),
        "ENGINEER_INVITE_TTL_DAYS": _int("ENGINEER_INVITE_TTL_DAYS", 14),
        # Steward binding
        "BINDING_CODE_TTL_SECONDS": _int("BINDING_CODE_TTL_SECONDS", 7200),
        "BINDING_CODE_MAX_USES": _int("BINDING_CODE_MAX_USES", 10),
        "STEWARD_PROTECTION_DAYS": _int("STEWARD_PROTECTION_DAYS", 180),
        # Fake households (community.trust, docs/community.md): binding points wait this long for a
        # sign of life; more bindings than max(MIN, PERCENT % of households) by one engineer in one
        # estate within HOURS are flagged, as is a binding sent from farther than FAR_METERS
        "BINDING_POINTS_LAPSE_DAYS": _int("BINDING_POINTS_LAPSE_DAYS", 30),
        "BINDING_BURST_HOURS": _int("BINDING_BURST_HOURS", 24),
        "BINDING_BURST_MIN": _int("BINDING_BURST_MIN", 5),
        "BINDING_BURST_PERCENT": _int("BINDING_BURST_PERCENT", 2),
        "BINDING_FAR_METERS": _int("BINDING_FAR_METERS", 3000),
        # Estate community
        "RANKING_WINDOW_DAYS": _int("RANKING_WINDOW_DAYS", 90),
        # Due care: items are generated this many days before their due date
        "CARE_HORIZON_DAYS": _int("CARE_HORIZON_DAYS", 30),
        # Points
        "POINTS_EXPIRY_MONTHS": _int("POINTS_EXPIRY_MONTHS", 12),
        "POINTS_EXPIRY_NOTICE_DAYS": _int("POINTS_EXPIRY_NOTICE_DAYS", 30),
        # On PostgreSQL a grant and a redemption's hold are one statement each (points.ledger);
        # false takes the portable path SQLite takes (the tests compare both on PostgreSQL).
        "POINTS_ONE_STATEMENT": _bool("POINTS_ONE_STATEMENT", True),
        "POINTS_RETURN_GRACE_DAYS": _int("POINTS_RETURN_GRACE_DAYS", 30),
        "REDEMPTION_DECISION_DAYS": _int("REDEMPTION_DECISION_DAYS", 14),
        # Ambassadors
        "AMBASSADOR_QUALIFYING_TIERS": _env("AMBASSADOR_QUALIFYING_TIERS", "gold,silver"),
        "AMBASSADOR_REAPPLY_COOLDOWN_DAYS": _int("AMBASSADOR_REAPPLY_COOLDOWN_DAYS", 30),
        "AMBASSADOR_WINDOW_DAYS": _int("AMBASSADOR_WINDOW_DAYS", 90),
        "AMBASSADOR_DEMOTION_GRACE_DAYS": _int("AMBASSADOR_DEMOTION_GRACE_DAYS", 14),
        "AMBASSADOR_OVERRIDE_DAYS": _int("AMBASSADOR_OVERRIDE_DAYS", 90),
        "REFERRAL_PROTECTION_DAYS": _int("REFERRAL_PROTECTION_DAYS", 30),
        "ORDER_REFUND_WINDOW_DAYS": _int("ORDER_REFUND_WINDOW_DAYS", 7),
        # Coupons: a refund this many days after a coupon was used on an order restores it
        "COUPON_REFUND_DAYS": _int("COUPON_REFUND_DAYS", 7),
        # Integrations (the manufacturer's order and service systems): HMAC-SHA256 shared secret
        "INTEGRATION_SECRET": required("INTEGRATION_SECRET", "linli-dev-integration-secret"),
        "INTEGRATION_MAX_SKEW_SECONDS": _int("INTEGRATION_MAX_SKEW_SECONDS", 300),
        # Uploaded images
        "UPLOAD_DIR": _env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads")),
        "UPLOAD_MAX_BYTES": _int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024),
        "UPLOAD_MAX_SIDE": _int("UPLOAD_MAX_SIDE", 8000),
        "UPLOAD_MAX_PIXELS": _int("UPLOAD_MAX_PIXELS", 40_000_000),
        # Rate limits (Flask-Limiter syntax); shared through Redis when REDIS_URL is set
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", redis_url or "memory://"),
        "RATELIMIT_LOGIN_PER_IP": _env("RATELIMIT_LOGIN_PER_IP", "30/minute;600/hour"),
        "RATELIMIT_LOGIN_PER_ACCOUNT": _env("RATELIMIT_LOGIN_PER_ACCOUNT", "10/minute;50/hour"),
        "RATELIMIT_BINDING_PER_IP": _env("RATELIMIT_BINDING_PER_IP", "30/minute;600/hour"),
        "RATELIMIT_CODES_PER_USER": _env("RATELIMIT_CODES_PER_USER", "20/minute;300/day"),
        "RATELIMIT_CODES_PER_IP": _env("RATELIMIT_CODES_PER_IP", "60/minute"),
        "RATELIMIT_UPLOADS_PER_USER": _env("RATELIMIT_UPLOADS_PER_USER", "30/minute;500/day"),
        # Web
        "PROXY_FIX_X_FOR": _int("PROXY_FIX_X_FOR", 0),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Web console sessions end after this long without a request, and this long after login
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 120),
        "SESSION_MAX_HOURS": _int("SESSION_MAX_HOURS", 12),
        # The site's origin (https://host), for absolute links (core.formatting.absolute_url); never
        # the request's Host header. Development without it: the request's own origin
        "PUBLIC_BASE_URL": required("PUBLIC_BASE_URL", "").rstrip("/"),
        # Request bodies other than file uploads (JSON, forms): larger ones are refused with 413
        "MAX_JSON_BYTES": _int("MAX_JSON_BYTES", 1024 * 1024),
        "LOG_LEVEL": _env("LOG_LEVEL", "INFO"),
        # flask-smorest / OpenAPI
        "API_TITLE": "Linli 邻里 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",
        "JSON_SORT_KEYS": False,
    }
    if cfg["WECHAT_PUSH_AES_KEY"] and not re.fullmatch(r"[A-Za-z0-9+/]{43}", cfg["WECHAT_PUSH_AES_KEY"]):
        raise ConfigError("WECHAT_PUSH_AES_KEY must be the 43-character EncodingAESKey of the push settings")
    if cfg["PUBLIC_BASE_URL"] and not re.fullmatch(r"https?://[^/\s]+", cfg["PUBLIC_BASE_URL"]):
        raise ConfigError("PUBLIC_BASE_URL must be an origin such as https://linli.example.com, "
                          f"got {cfg['PUBLIC_BASE_URL']!r}")
    if not 0 <= cfg["TOKEN_CACHE_SECONDS"] <= MAX_TOKEN_CACHE_SECONDS:
        # The documented bound on a revocation reaching every worker: seconds, never the token's lifetime.
        raise ConfigError(f"TOKEN_CACHE_SECONDS must be 0 to {MAX_TOKEN_CACHE_SECONDS}, "
                          f"got {cfg['TOKEN_CACHE_SECONDS']}")
    if production and cfg["RATELIMIT_ENABLED"] and cfg["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        # Each worker would count on its own: a limit of 10 becomes 10 per worker and per restart.
        raise ConfigError("RATELIMIT_STORAGE_URI (or REDIS_URL) must name a shared storage such as "
                          "redis://… when LINLI_ENV=production; memory:// counts per worker")
    return cfg
