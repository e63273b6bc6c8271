"""A pooled connection the server closed is replaced at checkout, without pre-ping's round trip."""
import time

import pytest
import sqlalchemy as sa

from core.extensions import db
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (a server that can close connections)")


def _terminate_app_connections(app):
    """What a database restart does to the pool: the server ends every backend of the app."""
    outside = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)  # not one of the pool's
    with outside.connect() as conn:
        terminated = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    outside.dispose()
    assert terminated >= 1
    time.sleep(0.2)  # the server closes the sockets of the ended backends


def test_closed_connections_are_replaced_without_an_error(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    with app.app_context():
        backends = set()
        for _ in range(3):
            backends.add(db.session.scalar(sa.text("SELECT pg_backend_pid()")))
            db.session.remove()
        _terminate_app_connections(app)
        # Each pooled connection was closed by the server; every use after that works.
        for _ in range(5):
            assert db.session.scalar(sa.text("SELECT 1")) == 1
            db.session.remove()


def test_requests_after_the_server_closed_connections_succeed(app, client):
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    with app.app_context():
        _terminate_app_connections(app)
    statuses = [client.get("/healthz").status_code for _ in range(5)]
    assert statuses == [200] * 5
