"""Signed checkpoints kept outside the database: the tamper evidence of the append-only tables.

Someone with the database's owner role (or a superuser, or a restored dump) can delete the newest
rows of the audit log or the points ledger, or truncate them, and nothing left inside the
database tells. A checkpoint records what such a table held (the audit log: its newest row and
row count; the ledger: see `points.services.checkpoint_ledger`), signed with AUDIT_HMAC_KEY and
kept where the database cannot reach: in Redis or in a file (AUDIT_CHECKPOINT). `flask audit
verify` and `flask points verify` compare the table with it (docs/security.md).

A checkpoint only moves forward: `update(name, advance)` reads the stored checkpoint, checks its
signature and stores what `advance` returns, atomically against concurrent writers (a Redis
transaction watching the key, or an exclusive lock beside the file). A stored checkpoint whose
signature does not verify is never overwritten, it is evidence: `Forged` is raised instead.
"""
from __future__ import annotations

import hmac
import json
import os
from pathlib import Path
from typing import Callable

from flask import current_app

from core.crypto import hmac_digest

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class Problem(Exception):
    """A checkpoint cannot vouch for its table; the verifiers report it."""


class Forged(Problem):
    """The stored checkpoint is not one we signed (edited, forged, or signed under another key)."""


class Mismatch(Problem):
    """The table no longer holds what its checkpoint recorded: the checkpoint is not moved."""


class Unavailable(Problem):
    """The store cannot be read."""


def key() -> bytes:
    """AUDIT_HMAC_KEY: keys the audit chain and signs the checkpoints; never stored in the database."""
    return current_app.config["AUDIT_HMAC_KEY"].encode()


def _signature(name: str, body: dict) -> str:
    message = json.dumps(["linli-checkpoint", name, body], sort_keys=True, separators=(",", ":"))
    return hmac_digest(key(), message.encode()).hex()


def _decode(name: str, raw: str | None) -> dict | None:
    if raw is None:
        return None
    try:
        stored = json.loads(raw)
        body, signature = stored["body"], stored["signature"]
    except (ValueError, KeyError, TypeError):
        raise Forged(f"checkpoint {name}: unreadable (not one we wrote)") from None
    if not isinstance(body, dict) or not hmac.compare_digest(str(signature), _signature(name, body)):
        raise Forged(f"checkpoint {name}: the signature does not verify (forged, or signed under another "
                     "AUDIT_HMAC_KEY)")
    return body


def load(name: str) -> dict | None:
    """The stored checkpoint's body, None when there is none yet; raises Forged or Unavailable."""
    try:
        raw = store().read(name)
    except Exception as exc:  # Redis down, a file we may not read: the verifier cannot vouch
        raise Unavailable(f"checkpoint {name}: the store cannot be read ({exc})") from exc
    return _decode(name, raw)


def update(name: str, advance: Callable[[dict | None], dict | None]) -> dict | None:
    """Store `advance(current body or None)` unless it returns None; returns the body stored after.

    Atomic: a concurrent update in between makes this one start over (Redis) or wait (file), so
    `advance` may run more than once. Raises Forged, storing nothing, when the stored one is forged."""
    outcome: dict = {}

    def step(raw: str | None) -> str | None:
        current = _decode(name, raw)
        new = advance(current)
        outcome["body"] = current if new is None else new
        if new is None or new == current:
            return None
        return json.dumps({"name": name, "body": new, "signature": _signature(name, new)}, sort_keys=True)

    store().update(name, step)
    return outcome.get("body")


class FileStore:
    """A JSON file per checkpoint in one directory, replaced atomically under an exclusive lock."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def read(self, name: str) -> str | None:
        try:
            return (self.directory / f"{name}.json").read_text()
        except FileNotFoundError:
            return None

    def update(self, name: str, step: Callable[[str | None], str | None]) -> None:
        import fcntl

        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / f"{name}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            new = step(self.read(name))
            if new is not None:
                temporary = self.directory / f"{name}.json.tmp"
                temporary.write_text(new)
                os.replace(temporary, self.directory / f"{name}.json")


class RedisStore:
    """A key per checkpoint (`linli:checkpoint:<name>`), updated in a transaction watching it."""

    def __init__(self, url: str, prefix: str = "linli:checkpoint:"):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    def read(self, name: str) -> str | None:
        value = self.client.get(self.prefix + name)
        return None if value is None else value.decode()

    def update(self, name: str, step: Callable[[str | None], str | None]) -> None:
        import redis

        key_name = self.prefix + name
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key_name)
                    raw = pipe.get(key_name)
                    new = step(None if raw is None else raw.decode())
                    if new is None:
                        return
                    pipe.multi()
                    pipe.set(key_name, new)
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue  # another writer moved it first: read it again


def store() -> FileStore | RedisStore:
    """The store AUDIT_CHECKPOINT names: a redis:// URL, or a directory."""
    setting = current_app.config["AUDIT_CHECKPOINT"]
    made = current_app.extensions.get("checkpoint.store")
    if made is None or made[0] != setting:
        chosen = RedisStore(setting) if setting.startswith(REDIS_SCHEMES) else FileStore(setting)
        made = current_app.extensions["checkpoint.store"] = (setting, chosen)
    return made[1]
