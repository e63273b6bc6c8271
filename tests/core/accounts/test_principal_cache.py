"""The per-worker principal cache (core.auth, issue 15): what it may answer, and when it must not.

"Another worker" is a second app on the same database: its changes reach the first app's cache
only through the database, as another gunicorn worker's would. Time is the cache's own clock,
moved by the tests (it also dates the lookups that follow a miss), never slept.
"""
import threading
from datetime import datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa

from core import create_app, crypto
from core.auth import CACHE_KEY, principal_cache
from core.db import utcnow
from core.formatting import BUSINESS_TZ
from tests.community.stats.test_ranking_and_history import count_statements
from tests.conftest import bearer

BOUND = 10  # TOKEN_CACHE_SECONDS by default: the documented bound


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cache(app):
    with app.app_context():
        return principal_cache()


@pytest.fixture
def clock(cache):
    cache.clock = Clock(utcnow().timestamp())
    return cache.clock


@pytest.fixture
def other_worker(app_config):
    """Another worker of the same deployment: its own app, its own cache, the same database."""
    other = create_app(app_config)
    yield other
    from core.extensions import db
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def in_app(app, change):
    """Run `change(db, User)` through the services in `app`, and commit."""
    from core.accounts.models import User
    from core.extensions import db
    with app.app_context():
        change(db, User)
        db.session.commit()


def warm(client, cache, account) -> None:
    """Two reads: the first may note the day's activity (not cached until it is on record), the second fills."""
    for _ in range(2):
        assert client.get("/api/v1/me", headers=account.headers).status_code == 200
    assert cache.get(crypto.token_hash(account.token), cache.clock()) is not None


def refused(response, status=401, code="invalid_token") -> bool:
    assert response.status_code == status, response.json
    assert set(response.json) == {"error"} and response.json["error"]["code"] == code  # the one error shape
    return True


def revoke(token):
    def change(db, User):
        from core.accounts import services
        services.revoke_token(token)
    return change


def disable(user_id):
    """An admin disables the user (every token revoked with it)."""
    def change(db, User):
        from core.accounts import services
        actor = db.session.scalars(sa.select(User).where(User.username == "admin1")).one()
        services.set_status(db.session.get(User, user_id), "disabled", actor=actor)
    return change


def set_status_in_db(user_id, status):
    """The status column alone (tokens untouched), as another worker's write leaves it."""
    def change(db, User):
        db.session.execute(sa.update(User).where(User.id == user_id).values(status=status))
    return change


# -- another worker's change: reads within the bound, writes at once ---------------------------------

def test_another_workers_revoke_reaches_reads_within_the_bound(app, client, cache, clock, login, other_worker):
    account = login()
    warm(client, cache, account)
    in_app(other_worker, revoke(account.token))
    clock.now += BOUND - 0.5
    assert client.get("/api/v1/me", headers=account.headers).status_code == 200  # this worker's cached read
    # The other worker's own cache never saw the token: one app cannot see another's entries.
    assert refused(other_worker.test_client().get("/api/v1/me", headers=account.headers))
    clock.now += 0.5
    assert refused(client.get("/api/v1/me", headers=account.headers))


@pytest.mark.parametrize("change", [revoke, disable], ids=["revoked", "disabled"])
@pytest.mark.parametrize("method, url", [("POST", "/api/v1/auth/logout"), ("PUT", "/api/v1/me"),
                                         ("DELETE", "/api/v1/me/estates/999999")])
def test_a_write_after_another_workers_change_is_refused_at_once(app, client, cache, clock, login, other_worker,
                                                                 admin, change, method, url):
    account = login()
    warm(client, cache, account)
    in_app(other_worker, change(account.token if change is revoke else account.user_id))
    assert client.get("/api/v1/me", headers=account.headers).status_code == 200  # a read: within the bound
    assert refused(client.open(url, method=method, headers=account.headers, json={}))
    # What the write learnt holds for this worker's reads at once.
    assert refused(client.get("/api/v1/me", headers=account.headers))


def test_a_miss_is_never_cached(app, client, cache, clock, login, other_worker):
    account = login()
    warm(client, cache, account)
    in_app(other_worker, set_status_in_db(account.user_id, "disabled"))
    clock.now += BOUND
    assert refused(client.get("/api/v1/me", headers=account.headers))
    in_app(other_worker, set_status_in_db(account.user_id, "active"))
    assert client.get("/api/v1/me", headers=account.headers).status_code == 200  # at once


# -- this worker's changes: at once --------------------------------------------------------------------

def _by_admin_api(client, admin, target, method_url_body):
    method, url, body = method_url_body(target)
    assert client.open(url, method=method, headers=admin.headers, json=body).status_code == 200


def test_this_workers_revoke_disable_and_password_reset_stop_reads_at_once(app, client, cache, clock, login, admin):
    from core.accounts import services

    def reset_password(user_id):
        return lambda db, User: services.set_password(db.session.get(User, user_id), "a-new-password-1")

    for change in (lambda a: revoke(a.token), lambda a: disable(a.user_id), lambda a: reset_password(a.user_id)):
        account = login()
        warm(client, cache, account)
        in_app(app, change(account))
        assert refused(client.get("/api/v1/me", headers=account.headers))
    account = login()
    warm(client, cache, account)
    _by_admin_api(client, admin, account, lambda a: ("PUT", f"/api/v1/admin/users/{a.user_id}/status",
                                                     {"status": "disabled"}))
    assert refused(client.get("/api/v1/me", headers=account.headers))


def test_a_role_taken_away_in_this_worker_is_gone_at_once(app, client, cache, clock, make_admin, admin):
    from core.accounts import services

    def remove_admin(db, User):
        services.remove_role(db.session.get(User, staff.user_id), "admin")

    for take_away in (lambda: in_app(app, remove_admin),
                      lambda: _by_admin_api(client, admin, staff, lambda s: (
                          "PUT", f"/api/v1/admin/users/{s.user_id}/roles", {"roles": ["agent"]}))):
        staff = make_admin(roles={"admin", "agent"})
        warm(client, cache, staff)
        assert client.get("/api/v1/admin/users", headers=staff.headers).status_code == 200
        take_away()
        assert refused(client.get("/api/v1/admin/users", headers=staff.headers), 403, "forbidden")


def test_a_read_between_the_change_and_its_commit_is_not_kept(app, client, cache, clock, login, admin):
    """The change drops the entry at once, but a read that runs before the commit still finds the
    old rows and fills the cache again: the drop is repeated when the transaction commits."""
    from core.accounts import services
    from core.accounts.models import User
    from core.extensions import db
    account = login()
    warm(client, cache, account)
    with app.app_context():
        actor = db.session.get(User, admin.user_id)
        services.set_status(db.session.get(User, account.user_id), "disabled", actor=actor)
        db.session.flush()
        # Another thread of this worker (a request of its own, outside this app context) reads
        # before the commit: it finds the old rows.
        reads = []
        reader = threading.Thread(target=lambda: reads.append(client.get("/api/v1/me", headers=account.headers)))
        reader.start()
        reader.join(timeout=30)
        assert reads[0].status_code == 200
        assert cache.get(crypto.token_hash(account.token), clock()) is not None
        db.session.commit()
    assert refused(client.get("/api/v1/me", headers=account.headers))


# -- the entry's own limits ----------------------------------------------------------------------------

def test_an_expired_token_is_refused_even_if_cached(app, client, cache, clock, login):
    from core.accounts.models import ApiToken
    from core.extensions import db
    account = login()
    with app.app_context():
        db.session.execute(sa.update(ApiToken).where(ApiToken.user_id == account.user_id).values(
            expires_at=datetime.fromtimestamp(clock.now + 5, timezone.utc)))
        db.session.commit()
    warm(client, cache, account)
    clock.now += 5  # within TOKEN_CACHE_SECONDS, but the token's own end
    assert refused(client.get("/api/v1/me", headers=account.headers))


def test_the_days_first_request_notes_activity_even_with_a_warm_cache(app, client, cache, clock, login):
    from core.accounts.models import User
    from core.extensions import db
    today = datetime.now(BUSINESS_TZ).date()
    clock.now = datetime.combine(today, time(23, 59, 58), BUSINESS_TZ).timestamp()
    account = login()
    warm(client, cache, account)
    clock.now += 3  # 00:00:01 in Shanghai: a new day, well within TOKEN_CACHE_SECONDS
    with count_statements(app) as statements:
        assert client.get("/api/v1/me", headers=account.headers).status_code == 200
    assert any(s.lstrip().upper().startswith("UPDATE USERS") for s in statements), statements
    with app.app_context():
        assert db.session.get(User, account.user_id).last_active_on == today + timedelta(days=1)


def test_a_lookup_that_noted_the_day_is_not_cached_until_the_note_is_on_record(app, client, cache, clock, login):
    """The day's first lookup writes last_active_on. A read's lookup runs in autocommit (core.blueprint),
    but one inside a transaction that then rolls back loses the write: the next request must write
    it again, not be answered by an entry that claims it was written."""
    from core.accounts.models import User
    from core.auth import current_principal
    from core.extensions import db
    today = datetime.now(BUSINESS_TZ).date()
    clock.now = datetime.combine(today, time(23, 59, 58), BUSINESS_TZ).timestamp()
    account = login()
    warm(client, cache, account)
    clock.now += 3  # a new day: this lookup notes it, and its transaction rolls back
    with app.test_request_context("/api/v1/me", headers=account.headers):
        assert current_principal().id == account.user_id
        db.session.rollback()
    assert client.get("/api/v1/me", headers=account.headers).status_code == 200
    with app.app_context():
        assert db.session.get(User, account.user_id).last_active_on == today + timedelta(days=1)


def test_zero_seconds_turns_the_cache_off(app_config, request, wechat, other_worker):
    app_config["TOKEN_CACHE_SECONDS"] = 0
    app, client = request.getfixturevalue("app"), request.getfixturevalue("client")
    token = client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()}).json["token"]
    for _ in range(2):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    in_app(other_worker, revoke(token))
    assert refused(client.get("/api/v1/me", headers=bearer(token)))
    assert CACHE_KEY not in app.extensions


def test_the_cache_is_bounded_in_size_oldest_first():
    from core.accounts.services import Principal, TokenGrant
    from core.auth import PrincipalCache
    cache, now = PrincipalCache(10, max_entries=2), utcnow().timestamp()
    grant = TokenGrant(Principal(1, frozenset({"resident"})), utcnow() + timedelta(days=1), noted_before=True)
    for key in ("a", "b", "c"):
        cache.put(key, grant, now)
    assert len(cache) == 2 and cache.get("a", now) is None and cache.get("c", now) is not None


# -- what it saves: the warm statement counts are pinned -----------------------------------------------

def test_a_warm_read_runs_no_token_lookup(app, client, cache, make_estate, make_engineer, mint_code, bind):
    """Warm reads of two common screens. The counts (the same on SQLite and PostgreSQL) are pinned,
    so a change that adds a round trip shows up here: /me/points reads the balance and the pending
    grants, /me/stewards its one joined query; without the cache each also looks up the token."""
    estate = make_estate()
    engineer = make_engineer([estate])
    headers = bearer(bind(mint_code(engineer, estate)["scene"]).json["token"])

    def warm_counts() -> dict:
        counts = {}
        for url in ("/api/v1/me/points", "/api/v1/me/stewards"):
            for _ in range(2):
                assert client.get(url, headers=headers).status_code == 200
            with count_statements(app) as statements:
                assert client.get(url, headers=headers).status_code == 200
            counts[url] = (len(statements), sum("api_tokens" in s for s in statements))  # (all, token lookups)
        return counts

    assert warm_counts() == {"/api/v1/me/points": (2, 0), "/api/v1/me/stewards": (1, 0)}
    app.config["TOKEN_CACHE_SECONDS"] = 0  # as before the cache
    app.extensions.pop(CACHE_KEY)
    assert warm_counts() == {"/api/v1/me/points": (3, 1), "/api/v1/me/stewards": (2, 1)}
