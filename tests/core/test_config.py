"""Settings come from the environment; production refuses to start without its secrets."""
import pytest

from core.config import ConfigError, load_config

PRODUCTION_REQUIRED = ("SECRET_KEY", "DATABASE_URL", "WECHAT_API_BASE", "WECHAT_APPID", "WECHAT_SECRET",
                       "WECHAT_PUSH_TOKEN", "INTEGRATION_SECRET")


def _production_env(monkeypatch, **values):
    monkeypatch.setenv("LINLI_ENV", "production")
    for name in PRODUCTION_REQUIRED:
        monkeypatch.setenv(name, values.get(name, f"value-of-{name}".lower()))


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
