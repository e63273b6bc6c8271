"""Rate limits on login, binding and code minting: our error shape, per-key budgets, shared storage.

The app reads its settings when it is created, so each test sets its limits in `app_config`
first and only then asks for the fixtures that create the app (request.getfixturevalue).
"""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = "redis://127.0.0.1:6379/15"
# One prefix for the whole run: Flask-Limiter keeps the first prefix it is given for its lifetime.
RUN_PREFIX = f"linli-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def limited(app_config):
    """Turn the limiter on with generous budgets; a test tightens the one it is about."""
    app_config.update({
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_LOGIN_PER_IP": "1000/minute",
        "RATELIMIT_LOGIN_PER_ACCOUNT": "1000/minute",
        "RATELIMIT_BINDING_PER_IP": "1000/minute",
        "RATELIMIT_CODES_PER_USER": "1000/minute",
        "RATELIMIT_CODES_PER_IP": "1000/minute",
    })
    return app_config


def assert_rate_limited(response):
    assert response.status_code == 429, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "rate_limited"
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60


def test_wechat_login_per_ip(limited, request, wechat):
    limited["RATELIMIT_LOGIN_PER_IP"] = "3/minute"
    client = request.getfixturevalue("client")
    for _ in range(3):
        assert client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()}).status_code == 200
    code = wechat.code()
    assert_rate_limited(client.post("/api/v1/auth/wechat-login", json={"code": code}))
    # Refused before WeChat was asked: the code is not spent.
    assert len(wechat.calls("sns/jscode2session")) == 3
    # Another client address has its own budget.
    other = client.post("/api/v1/auth/wechat-login", json={"code": code}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_failed_logins_count_too(limited, request, wechat):
    limited["RATELIMIT_LOGIN_PER_IP"] = "3/minute"
    client = request.getfixturevalue("client")
    for _ in range(3):
        assert client.post("/api/v1/auth/wechat-login", json={"code": "guess"}).status_code == 400
    assert_rate_limited(client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()}))


def test_password_login_per_username(limited, request):
    limited["RATELIMIT_LOGIN_PER_ACCOUNT"] = "3/minute"
    request.getfixturevalue("make_admin")(username="alice", password="alice-pass-1")  # one login used
    client = request.getfixturevalue("client")
    for password in ("guess-1", "guess-2"):
        response = client.post("/api/v1/auth/password-login", json={"username": "alice", "password": password})
        assert response.status_code == 401
    # The budget is the username's, whatever its spelling or the address it comes from.
    assert_rate_limited(client.post("/api/v1/auth/password-login", json={"username": "ALICE", "password": "alice-pass-1"},
                                    environ_base={"REMOTE_ADDR": "10.0.0.7"}))
    # Other usernames are untouched.
    response = client.post("/api/v1/auth/password-login", json={"username": "bob", "password": "guess-3"})
    assert response.status_code == 401


def test_binding_codes_per_user(limited, request):
    limited["RATELIMIT_CODES_PER_USER"] = "2/minute"
    make_engineer, mint = request.getfixturevalue("make_engineer"), request.getfixturevalue("client")
    estate = request.getfixturevalue("make_estate")()
    first, second = make_engineer([estate]), make_engineer([estate])
    for _ in range(2):
        assert mint.post("/api/v1/engineer/binding-codes", headers=first.headers, json={"estate_id": estate}).status_code == 201
    assert_rate_limited(mint.post("/api/v1/engineer/binding-codes", headers=first.headers, json={"estate_id": estate}))
    # Same address, another engineer: an independent budget.
    for _ in range(2):
        assert mint.post("/api/v1/engineer/binding-codes", headers=second.headers, json={"estate_id": estate}).status_code == 201
    assert_rate_limited(mint.post("/api/v1/engineer/binding-codes", headers=second.headers, json={"estate_id": estate}))


def test_binding_codes_per_ip(limited, request):
    limited["RATELIMIT_CODES_PER_IP"] = "3/minute"
    make_engineer, client = request.getfixturevalue("make_engineer"), request.getfixturevalue("client")
    estate = request.getfixturevalue("make_estate")()
    first, second = make_engineer([estate]), make_engineer([estate])
    statuses = [client.post("/api/v1/engineer/binding-codes", headers=who.headers, json={"estate_id": estate}).status_code
                for who in (first, second, first, second)]
    assert statuses == [201, 201, 201, 429]


def test_bindings_per_ip(limited, request):
    limited["RATELIMIT_BINDING_PER_IP"] = "2/minute"
    estate = request.getfixturevalue("make_estate")()
    engineer = request.getfixturevalue("make_engineer")([estate])
    scene = request.getfixturevalue("mint_code")(engineer, estate)["scene"]
    bind = request.getfixturevalue("bind")
    assert bind(scene).status_code == 200
    assert bind(scene).status_code == 200
    assert_rate_limited(bind(scene))


def test_limits_are_off_when_disabled(app_config, request, wechat):
    app_config.update({"RATELIMIT_ENABLED": False, "RATELIMIT_LOGIN_PER_IP": "1/minute"})
    client = request.getfixturevalue("client")
    for _ in range(3):
        assert client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()}).status_code == 200


# -- shared storage: limits hold across processes -------------------------------------------------

OTHER_PROCESS = """
import json, sys
from core import create_app
app = create_app(json.loads(sys.argv[1]))
client = app.test_client()
codes = [client.post("/api/v1/auth/password-login", json={"username": "nobody", "password": "x"}).status_code
         for _ in range(int(sys.argv[2]))]
print(json.dumps(codes))
"""


def _other_process(config: dict, attempts: int) -> list[int]:
    """The same app in a separate Python process (as a second gunicorn worker would be)."""
    result = subprocess.run([sys.executable, "-c", OTHER_PROCESS, json.dumps(config), str(attempts)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def redis_db():
    r = redis.Redis.from_url(REDIS_URL)
    try:
        r.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")

    def clear():
        keys = list(r.scan_iter(match=f"*{RUN_PREFIX}*"))
        if keys:
            r.delete(*keys)
    clear()
    yield r
    clear()
    r.close()


@pytest.mark.parametrize("storage", ["redis", "memory"])
def test_limits_are_shared_across_processes_through_redis(limited, request, storage, redis_db):
    limited.update({"RATELIMIT_STORAGE_URI": REDIS_URL if storage == "redis" else "memory://",
                    "RATELIMIT_KEY_PREFIX": RUN_PREFIX, "RATELIMIT_LOGIN_PER_IP": "4/minute"})
    client = request.getfixturevalue("client")  # app A, in this process
    attempt = lambda: client.post("/api/v1/auth/password-login",  # noqa: E731
                                  json={"username": "nobody", "password": "x"}).status_code
    assert [attempt(), attempt()] == [401, 401]

    from_b = _other_process(limited, 3)  # app B, another process, the same settings
    if storage == "redis":
        assert from_b == [401, 401, 429]  # B counted A's two attempts
        assert attempt() == 429  # and A counts B's
        assert any(RUN_PREFIX in key.decode() for key in redis_db.scan_iter(match=f"*{RUN_PREFIX}*"))
    else:
        # Control: per-process memory knows nothing of the other process, so the check above can fail.
        assert from_b == [401, 401, 401]
        assert [attempt(), attempt(), attempt()] == [401, 401, 429]
