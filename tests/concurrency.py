"""Helpers of the concurrency tests (PostgreSQL): release calls together in threads, and read
what they did."""
from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from core.errors import APIError
from core.extensions import db
from points import services


def race(calls: list) -> list:
    """Run each call in its own thread, released together; returns their results in order.

    An exception in a thread fails the test; so does a race in which no two calls overlapped.
    """
    barrier = threading.Barrier(len(calls))
    results, spans = [None] * len(calls), [None] * len(calls)

    def run(i, call):
        barrier.wait(timeout=30)
        start = time.perf_counter()
        try:
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[i] = exc
        spans[i] = (start, time.perf_counter())

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a call hung"
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    # They overlapped: at some moment at least half of them were running at once.
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak >= max(2, len(calls) // 2), f"only {peak} of {len(calls)} calls ran at once"
    return results


def http_race(app, requests: list) -> list:
    """`request(client)` for each request, each thread with its own test client, released together;
    returns the responses in order. A server error (5xx) fails the test."""
    results = race([lambda request=request: request(app.test_client()) for request in requests])
    assert all(r.status_code < 500 for r in results), [r.status_code for r in results]
    return results


def in_own_context(app, work):
    """`work()` in a fresh app context (its own session and connection), committed like the API
    boundary does; an APIError rolls back and comes back as ("error", code)."""
    def call():
        with app.app_context():
            try:
                result = work()
                db.session.commit()
                return "ok", result
            except APIError as exc:
                db.session.rollback()
                return "error", exc.code
            finally:
                db.session.remove()
    return call


def outcomes(results) -> dict:
    counted = {}
    for kind, value in results:
        key = "ok" if kind == "ok" else value
        counted[key] = counted.get(key, 0) + 1
    return counted


def cli_verify(app) -> None:
    result = app.test_cli_runner().invoke(args=["points", "verify"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert services.verify() == []


def count(app, model, **where) -> int:
    with app.app_context():
        stmt = sa.select(sa.func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return db.session.scalar(stmt)
