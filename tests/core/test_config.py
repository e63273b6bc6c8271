"""Settings come from the environment; production refuses to start without its secrets."""
import pytest

from core.config import ConfigError, load_config

PRODUCTION_REQUIRED = ("SECRET_KEY", "DATABASE_URL", "WECHAT_API_BASE", "WECHAT_APPID", "WECHAT_SECRET",
                       "WECHAT_PUSH_TOKEN", "INTEGRATION_SECRET", "AUDIT_HMAC_KEY", "WECHAT_PUSH_AES_KEY",
                       "PUBLIC_BASE_URL")
VALID = {"WECHAT_PUSH_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",  # 43 characters, as WeChat's
         "PUBLIC_BASE_URL": "https://linli.example.com"}


def _production_env(monkeypatch, **values):
    monkeypatch.setenv("LINLI_ENV", "production")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")  # rate limits shared by every worker
    for name in PRODUCTION_REQUIRED:
        monkeypatch.setenv(name, values.get(name, VALID.get(name, f"value-of-{name}".lower())))


@pytest.mark.parametrize("missing", PRODUCTION_REQUIRED)
def test_production_refuses_to_start_without_each_secret(monkeypatch, missing):
    _production_env(monkeypatch)
    monkeypatch.delenv(missing)
    with pytest.raises(ConfigError, match=missing):
        load_config()


def test_production_reads_everything_from_the_environment(monkeypatch):
    _production_env(monkeypatch, DATABASE_URL="postgres://u@db/linli")
    monkeypatch.setenv("ORDER_REFUND_WINDOW_DAYS", "10")
    cfg = load_config()
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/linli"
    assert cfg["INTEGRATION_SECRET"] == "value-of-integration_secret"
    assert cfg["ORDER_REFUND_WINDOW_DAYS"] == 10


def test_development_has_embedded_defaults(monkeypatch):
    for name in ("LINLI_ENV", *PRODUCTION_REQUIRED, "AMBASSADOR_WINDOW_DAYS"):
        monkeypatch.delenv(name, raising=False)
    cfg = load_config()
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert cfg["AMBASSADOR_WINDOW_DAYS"] == 90 and cfg["INTEGRATION_MAX_SKEW_SECONDS"] == 300


def test_a_malformed_number_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("AMBASSADOR_WINDOW_DAYS", "ninety")
    with pytest.raises(ConfigError, match="AMBASSADOR_WINDOW_DAYS"):
        load_config()


@pytest.mark.parametrize("env", [{"REDIS_URL": ""}, {"RATELIMIT_STORAGE_URI": "memory://"}])
def test_production_refuses_per_worker_rate_limit_storage(monkeypatch, env):
    _production_env(monkeypatch)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        load_config()
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")  # limits off (e.g. at a gateway): nothing to share
    assert load_config()["RATELIMIT_ENABLED"] is False


def test_a_malformed_push_aes_key_is_a_clear_error(monkeypatch):
    """The EncodingAESKey is 43 characters of base64: anything else could never decrypt a push."""
    _production_env(monkeypatch, WECHAT_PUSH_AES_KEY="too-short")
    with pytest.raises(ConfigError, match="WECHAT_PUSH_AES_KEY"):
        load_config()


@pytest.mark.parametrize("value", ["linli.example.com", "https://linli.example.com/app", "ftp://linli.example.com"])
def test_public_base_url_must_be_an_origin(monkeypatch, value):
    """Absolute links are PUBLIC_BASE_URL + a path (core.formatting.absolute_url): an origin only."""
    _production_env(monkeypatch, PUBLIC_BASE_URL=value)
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_config()
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://linli.example.com/")
    assert load_config()["PUBLIC_BASE_URL"] == "https://linli.example.com"
