"""Points ledger benchmark: grants and redemptions per second on PostgreSQL, against bare INSERTs.

    .venv/bin/python bench/ledger.py [--accounts 100000] [--clients 8] [--duration 20]

Everything happens in a fresh PostgreSQL database (unique name) on --pg, dropped at the end
(also on Ctrl-C and errors):

1. the schema from the app's migrations (`flask_migrate.upgrade()` in `create_app`'s context);
2. setup, not measured: --accounts users, each with a points account and a starting balance,
   written in bulk by set-based SQL as what `ledger.grant` would have written (one grant
   transaction, its two postings and one lot per account: `services.verify()` checks it);
   the system accounts; one reward with unlimited stock and no per-user limit; VACUUM ANALYZE;
3. the workloads, each from --clients processes for --warmup + --duration seconds (only
   operations started in the last --duration seconds count), one database transaction and one
   commit per operation:
   - `ledger`: a random account gets a grant (`services.grant`, unique key) or redeems the
     reward (`services.redeem`, quantity 1), --grant-share of each; every operation runs in its
     own app context and session and commits, as an API request does;
   - `raw`: bare single-row INSERTs into a posting-shaped throwaway table with psycopg alone
     (INSERT, COMMIT): the ceiling;
   - `core`: the same INSERT through SQLAlchemy Core on an engine with the app's pool settings;
   in --rounds rounds (raw, core, ledger in each); the round with the median ops/s is reported;
4. one client, one operation at a time (--serial of each kind): latency without contention, and
   SQL statements and round trips per operation;
5. `services.verify()` on the whole ledger (must find nothing), and the counts of what the
   clients said they did against what the database holds.

Clients are processes, not threads: each has its own interpreter, app and connection pool, so
the figures are the database's and the ledger's, not the GIL's. CPU seconds of the clients and
of this database's PostgreSQL backends come from /proc, with the share of the machine that
other processes took meanwhile (the machine is shared).

Figures are printed with the command that reproduces them and written into bench/README.md
(runs with fewer than 100,000 accounts or shorter than 10 s, or --no-readme, leave it alone).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import json
import math
import multiprocessing as mp
import os
import platform
import queue
import random
import re
import shlex
import signal
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

README = ROOT / "bench" / "README.md"
README_START = "<!-- ledger.py results: start (written by bench/ledger.py) -->"
README_END = "<!-- ledger.py results: end -->"
HISTORY_HEADER = ("| date (UTC) | accounts | clients | s | ledger ops/s | grant p99 | redeem p99 | raw INSERT/s "
                  "| ratio | others |")
HISTORY_KEEP = 6
TARGET_RATIO = 0.20
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
BARE_TABLE = "bench_bare_postings"
WORKLOADS = ("raw", "core", "ledger")
LABELS = {"raw": "bare INSERT, psycopg", "core": "bare INSERT, SQLAlchemy Core",
          "ledger": "ledger (grants + redemptions)", "grant": "grant", "redeem": "redemption"}


class BenchError(RuntimeError):
    """The benchmark cannot go on, or what it measured is wrong."""


class Interrupted(BaseException):
    """SIGTERM/SIGHUP: unwind through the finally blocks like Ctrl-C does."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- numbers ----------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p99 of 1,000 values is the 990th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_ms(values_s: list[float]) -> dict:
    if not values_s:
        return {"n": 0, "p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    return {"n": len(values_s), **{name: percentile(values_s, p) * 1000 for name, p in
                                   (("p50", 50), ("p90", 90), ("p99", 99))},
            "max": max(values_s) * 1000, "mean": statistics.fmean(values_s) * 1000}


# -- CPU accounting ---------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


def cpu_snapshot(admin_url: str, database: str) -> dict:
    """CPU seconds of this database's backends (by pid) and of the whole machine."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,))]
    backends = {pid: cpu for pid in pids if (cpu := _cpu_seconds(pid)) is not None}
    return {"pg": backends, "machine": _machine_busy()}


def cpu_delta(before: dict, after: dict, clients_cpu: float) -> dict:
    postgres = sum(cpu - before["pg"].get(pid, 0.0) for pid, cpu in after["pg"].items())
    busy = after["machine"][0] - before["machine"][0]
    capacity = after["machine"][1] - before["machine"][1]
    others = max(0.0, busy - postgres - clients_cpu)
    return {"clients": clients_cpu, "postgres": postgres, "others": others,
            "others_share": others / capacity if capacity else 0.0, "busy_share": busy / capacity if capacity else 0.0}


# -- the database -----------------------------------------------------------------------------

@contextlib.contextmanager
def fresh_database(admin_url: str):
    """A new database on the server of `admin_url`, dropped at the end whatever happens."""
    name = f"linli_bench_ledger_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        settings = {key: conn.execute(f"SHOW {key}").fetchone()[0] for key in
                    ("server_version", "fsync", "synchronous_commit", "shared_buffers", "max_connections")}
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"created database {name}")
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path="/" + name)), name, settings
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped database {name}")


def app_config(database_url: str, pre_ping: bool) -> dict:
    from core.config import normalise_database_url
    return {"SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url), "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": pre_ping, "pool_recycle": 1800},
            "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://", "LOG_LEVEL": "WARNING"}


SEED_SQL = [
    # Users and their accounts, with the starting balance the grant below gives them.
    ("users", """INSERT INTO users (display_name, roles, status, created_at)
                 SELECT 'bench ' || g, 'resident', 'active', %(now)s FROM generate_series(1, %(accounts)s) g"""),
    ("points_accounts", """INSERT INTO points_accounts (user_id, balance, allow_negative, created_at)
                 SELECT u.id, %(balance)s, false, %(now)s FROM users u
                 WHERE NOT EXISTS (SELECT 1 FROM points_accounts a WHERE a.user_id = u.id) ORDER BY u.id"""),
    # What ledger.grant writes: the transaction (kind, key, account, amount), two postings
    # (issuance -, user +) and one lot expiring by the app's policy.
    ("points_transactions", """INSERT INTO points_transactions
                 (kind, idempotency_key, account_id, amount, reason, created_at)
                 SELECT 'bench_seed', 'bench-seed:' || a.id, a.id, a.balance, '基准测试初始积分', %(now)s
                 FROM points_accounts a WHERE a.user_id IS NOT NULL ORDER BY a.id"""),
    ("points_postings", """INSERT INTO points_postings (transaction_id, account_id, amount)
                 SELECT t.id, leg.account_id, leg.amount FROM points_transactions t
                 CROSS JOIN LATERAL (VALUES (%(issuance)s::bigint, -t.amount), (t.account_id, t.amount))
                     AS leg(account_id, amount)
                 WHERE t.kind = 'bench_seed' ORDER BY t.id"""),
    ("points_lots", """INSERT INTO points_lots (account_id, transaction_id, amount, remaining, expires_at, created_at)
                 SELECT t.account_id, t.id, t.amount, t.amount, %(expires)s, %(now)s
                 FROM points_transactions t WHERE t.kind = 'bench_seed' ORDER BY t.id"""),
]


def migrate_and_seed(args, database_url: str) -> dict:
    """Schema by the migrations, then accounts with balances, a reward and the bare table."""
    from flask_migrate import upgrade

    from core import create_app
    from core.db import utcnow
    from core.extensions import db
    from points import ledger
    from points.models import HELD, ISSUANCE, REDEEMED, Reward

    app = create_app(app_config(database_url, pre_ping=True))
    with app.app_context():
        started = time.monotonic()
        upgrade()
        log(f"migrations applied in {time.monotonic() - started:.1f} s")
        issuance = ledger.system_account_id(ISSUANCE)
        for code in (HELD, REDEEMED):  # a running platform has them; the clients would race to create them
            ledger.system_account_id(code)
        reward = Reward(name="基准测试奖品", cost=args.reward_cost, stock=None, per_user_limit=None, min_level=None,
                        auto_approve=False, active=True)
        db.session.add(reward)
        db.session.commit()
        reward_id = reward.id
        now = utcnow()
        params = {"now": now.replace(tzinfo=None), "accounts": args.accounts, "balance": args.balance,
                  "issuance": issuance, "expires": ledger.expiry_for(now).replace(tzinfo=None)}
        db.engine.dispose()

    started = time.monotonic()
    with psycopg.connect(database_url) as conn:
        for table, sql in SEED_SQL:
            count = conn.execute(sql, params).rowcount
            log(f"seeded {count:,} rows of {table}")
        conn.execute(f"CREATE TABLE {BARE_TABLE} (id bigserial PRIMARY KEY, transaction_id bigint NOT NULL, "
                     f"account_id bigint NOT NULL, amount bigint NOT NULL)")
        conn.commit()
        user_ids = [row[0] for row in conn.execute(
            "SELECT user_id FROM points_accounts WHERE user_id IS NOT NULL ORDER BY user_id")]
    # A running database has planner statistics and a visibility map; a fresh one has neither.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    log(f"seeded and vacuumed in {time.monotonic() - started:.1f} s")
    if len(user_ids) != args.accounts:
        raise BenchError(f"expected {args.accounts} accounts, found {len(user_ids)}")

    with app.app_context():
        from points import services
        started = time.monotonic()
        problems = services.verify()
        if problems:
            raise BenchError(f"the seeded ledger does not verify: {problems[:5]}")
        log(f"seeded ledger verified in {time.monotonic() - started:.1f} s")
        db.engine.dispose()
    return {"reward_id": reward_id, "user_ids": user_ids}


# -- the clients ------------------------------------------------------------------------------

def _ledger_client(cfg: dict):
    """(op, setup) for the ledger: op() runs one grant or redemption and commits."""
    from core import create_app
    from core.accounts.services import Principal
    from core.extensions import db
    from points import services

    app = create_app(app_config(cfg["database_url"], cfg["pre_ping"]))
    rng = random.Random(cfg["seed"])
    user_ids, reward_id, share = cfg["user_ids"], cfg["reward_id"], cfg["grant_share"]
    amount, prefix = cfg["grant_points"], cfg["key_prefix"]
    resident = frozenset({"resident"})
    counter = iter(range(1 << 62))

    def op() -> str:
        user_id = rng.choice(user_ids)
        kind = "grant" if rng.random() < share else "redeem"
        with app.app_context():
            try:
                if kind == "grant":
                    services.grant(user_id, amount, "bench", f"{prefix}:{next(counter)}", "基准测试发放")
                else:
                    # What an API request has after authentication (core.accounts.services.Principal).
                    services.redeem(Principal(user_id, resident), reward_id, 1)
                db.session.commit()
            except services.InsufficientPoints:
                db.session.rollback()
                return kind + ":refused"
            except BaseException:
                db.session.rollback()
                raise
        return kind

    def warm() -> None:
        with app.app_context():
            db.session.execute(db.text("SELECT 1"))
            db.session.rollback()
    return op, warm


_RAW_INSERT = f"INSERT INTO {BARE_TABLE} (transaction_id, account_id, amount) VALUES (%s, %s, %s)"


def _raw_client(cfg: dict):
    conn = psycopg.connect(cfg["database_url"])  # not autocommit: BEGIN, INSERT, COMMIT, like any transaction
    rng = random.Random(cfg["seed"])
    user_ids = cfg["user_ids"]

    def op() -> str:
        conn.execute(_RAW_INSERT, (rng.randrange(1 << 40), rng.choice(user_ids), 10))
        conn.commit()
        return "insert"
    return op, lambda: None


def _core_client(cfg: dict):
    import sqlalchemy as sa

    from core.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(cfg["database_url"]), pool_pre_ping=cfg["pre_ping"],
                              pool_recycle=1800)
    table = sa.table(BARE_TABLE, sa.column("transaction_id"), sa.column("account_id"), sa.column("amount"))
    stmt = sa.insert(table)
    rng = random.Random(cfg["seed"])
    user_ids = cfg["user_ids"]

    def op() -> str:
        with engine.begin() as conn:  # a pool checkout per operation, like a request
            conn.execute(stmt, {"transaction_id": rng.randrange(1 << 40), "account_id": rng.choice(user_ids),
                                "amount": 10})
        return "insert"

    def warm() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    return op, warm


CLIENTS = {"ledger": _ledger_client, "raw": _raw_client, "core": _core_client}


def client_main(workload: str, cfg: dict, ready, go, finished, snapshotted, schedule, results) -> None:
    """One client process: set up, wait for the others, warm up, then measure until the end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us; no traceback per client on Ctrl-C
    try:
        op, warm = CLIENTS[workload](cfg)
        warm()
        ready.wait()
        go.wait()
        start, warm_s, duration = schedule[:]
        measure_from, end = start + warm_s, start + warm_s + duration
        latencies: dict[str, list[float]] = {}
        done: dict[str, int] = {}  # every committed operation, warm-up included
        errors: dict[str, int] = {}
        first_error = None
        cpu_start = None
        while True:
            t0 = time.monotonic()
            if t0 >= end:
                break
            if cpu_start is None and t0 >= measure_from:
                cpu_start = time.process_time()
            try:
                kind = op()
            except Exception as exc:  # counted and reported; the run then fails
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                first_error = first_error or "".join(traceback.format_exception(exc))[-2000:]
                time.sleep(0.01)
                continue
            if t0 >= measure_from:
                latencies.setdefault(kind, []).append(time.monotonic() - t0)
            done[kind] = done.get(kind, 0) + 1
        cpu = time.process_time() - cpu_start if cpu_start is not None else 0.0
        # Keep the connection open until the parent has read our backend's CPU seconds.
        finished.wait()
        snapshotted.wait()
        results.put({"latencies": latencies, "done": done, "errors": errors, "first_error": first_error, "cpu": cpu})
    except BaseException as exc:
        results.put({"fatal": "".join(traceback.format_exception(exc))[-3000:]})
        for barrier in (ready, go, finished, snapshotted):  # the parent stops waiting at once
            barrier.abort()


def run_workload(args, workload: str, cfg: dict, database: str, round_no: int) -> dict:
    """--clients processes of one workload; returns latencies by kind, ops/s, errors and CPU."""
    ctx = mp.get_context("spawn")  # a clean interpreter per client: nothing inherited from this one
    ready, go, finished, snapshotted = (ctx.Barrier(args.clients + 1) for _ in range(4))
    schedule = ctx.Array("d", 3)
    results = ctx.Queue()
    procs = []
    for i in range(args.clients):
        client_cfg = dict(cfg, seed=f"{args.seed}:{round_no}:{workload}:{i}",
                          key_prefix=f"bench:{round_no}:{i}:{uuid.uuid4().hex[:8]}")
        proc = ctx.Process(target=client_main, name=f"{workload}-{i}",
                           args=(workload, client_cfg, ready, go, finished, snapshotted, schedule, results),
                           daemon=True)
        proc.start()
        procs.append(proc)
    try:
        try:
            ready.wait(timeout=120)
            start = time.monotonic() + 0.2
            schedule[:] = [start, float(args.warmup), float(args.duration)]
            go.wait(timeout=30)
            time.sleep(max(0.0, start + args.warmup - time.monotonic()))
            before = cpu_snapshot(args.pg, database)
            finished.wait(timeout=60 + args.warmup + args.duration)  # every client is past its last operation
            after = cpu_snapshot(args.pg, database)
            snapshotted.wait(timeout=30)
        except threading.BrokenBarrierError:
            fatal = [r["fatal"] for r in _drain(results, len(procs), timeout=5) if "fatal" in r]
            raise BenchError(f"a {workload} client failed:\n{fatal[0] if fatal else '(no report: timeout)'}") from None
        out = _drain(results, len(procs), timeout=60)
        for proc in procs:
            proc.join(timeout=30)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=10)
    fatal = [r["fatal"] for r in out if "fatal" in r]
    if fatal:
        raise BenchError(f"a {workload} client failed:\n{fatal[0]}")
    if len(out) != args.clients:
        raise BenchError(f"{len(out)} of {args.clients} {workload} clients reported")
    latencies: dict[str, list[float]] = {}
    done: dict[str, int] = {}
    errors: dict[str, int] = {}
    for r in out:
        for kind, values in r["latencies"].items():
            latencies.setdefault(kind, []).extend(values)
        for kind, count in r["done"].items():
            done[kind] = done.get(kind, 0) + count
        for name, count in r["errors"].items():
            errors[name] = errors.get(name, 0) + count
    if errors:
        first = next(r["first_error"] for r in out if r["first_error"])
        raise BenchError(f"{workload}: operations failed {errors}; the first:\n{first}")
    clients_cpu = sum(r["cpu"] for r in out)
    all_ops = [v for values in latencies.values() for v in values]
    cpu = cpu_delta(before, after, clients_cpu)
    by_kind = {kind: {**latency_ms(values), "ops_s": len(values) / args.duration} for kind, values in latencies.items()}
    return {"workload": workload, "round": round_no, "ops": len(all_ops), "ops_s": len(all_ops) / args.duration,
            "all": latency_ms(all_ops), "kinds": by_kind, "done": done,
            "cpu": cpu, "cpu_per_op_ms": {part: cpu[part] / max(1, len(all_ops)) * 1000
                                          for part in ("clients", "postgres")}}


def _drain(results, expected: int, timeout: float) -> list[dict]:
    out, deadline = [], time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            out.append(results.get(timeout=max(0.1, deadline - time.monotonic())))
    return out


# -- one client, one operation at a time: latency and statements --------------------------------

def statement_label(statement: str) -> str:
    """"INSERT INTO points_lots", "SELECT … FROM points_rewards", or for a statement of
    data-modifying CTEs the rows it writes: "WITH … (INSERT points_transactions, UPDATE …)"."""
    words = statement.split()
    if words[0] == "WITH":
        writes = re.findall(r"\b(INSERT INTO|UPDATE) (\w+)", statement)
        return "WITH … (" + ", ".join(f"{verb.split()[0]} {table}" for verb, table in writes) + ")"
    if words[0] in ("INSERT", "UPDATE", "DELETE"):
        return " ".join(words[:3])
    return "SELECT … FROM " + (words[words.index("FROM") + 1] if "FROM" in words else "?")


def serial_profile(args, database_url: str, database: str, seeded: dict) -> dict:
    """Each kind of operation --serial times from this process, with SQL statements and round
    trips counted (statements from SQLAlchemy's cursor events; plus the pool's pre-ping on
    checkout, psycopg's BEGIN before the first statement, and COMMIT)."""
    import sqlalchemy as sa

    from core import create_app
    from core.accounts.services import Principal
    from core.extensions import db
    from points import services

    app = create_app(app_config(database_url, args.pre_ping))
    rng = random.Random(f"{args.seed}:serial")
    counts = {"statements": 0, "checkouts": 0, "commits": 0, "execute_s": 0.0}
    statements: dict[str, int] = {}
    started: list[float] = []

    with app.app_context():
        engine = db.engine

        @sa.event.listens_for(engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            counts["statements"] += 1
            head = statement_label(statement)
            statements[head] = statements.get(head, 0) + 1
            started.append(time.perf_counter())

        @sa.event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            counts["execute_s"] += time.perf_counter() - started.pop()

        @sa.event.listens_for(engine, "checkout")
        def checkout(*_):
            counts["checkouts"] += 1

        @sa.event.listens_for(engine, "commit")
        def commit(*_):
            counts["commits"] += 1

    def grant(i: int) -> None:
        with app.app_context():
            services.grant(rng.choice(seeded["user_ids"]), args.grant_points, "bench", f"bench:serial:{i}",
                           "基准测试发放")
            db.session.commit()

    def redeem(i: int) -> None:
        with app.app_context():
            services.redeem(Principal(rng.choice(seeded["user_ids"]), frozenset({"resident"})), seeded["reward_id"], 1)
            db.session.commit()

    conn = psycopg.connect(database_url)

    def raw(i: int) -> None:
        conn.execute(_RAW_INSERT, (i, rng.choice(seeded["user_ids"]), 10))
        conn.commit()

    out = {}
    try:
        for name, fn in (("raw", raw), ("grant", grant), ("redeem", redeem)):
            for i in range(5):  # warm: statement caches, prepared statements, the pool
                fn(-1 - i - 1000 * len(out))
            for key in counts:
                counts[key] = 0
            statements.clear()
            # A bare INSERT is short: 5 x as many, or the 10 ms CPU clock ticks would blur its CPU time.
            n = args.serial * (5 if name == "raw" else 1)
            times, cpu0, pg0 = [], time.process_time(), cpu_snapshot(args.pg, database)
            for i in range(n):
                t0 = time.perf_counter()
                fn(i)
                times.append(time.perf_counter() - t0)
            cpu = time.process_time() - cpu0
            pg = cpu_delta(pg0, cpu_snapshot(args.pg, database), cpu)["postgres"]
            out[name] = {**latency_ms(times), "cpu_ms": cpu / n * 1000, "pg_cpu_ms": pg / n * 1000, "done": n + 5}
            if name != "raw":
                pre_ping = counts["checkouts"] / n if args.pre_ping else 0.0
                out[name].update({
                    "statements": counts["statements"] / n,
                    # pre-ping + BEGIN + statements + COMMIT (executemany counts once: pipelined)
                    "round_trips": pre_ping + 1 + counts["statements"] / n + counts["commits"] / n,
                    "execute_ms": counts["execute_s"] / n * 1000,
                    "by_statement": {k: v / n for k, v in sorted(statements.items(), key=lambda kv: -kv[1])}})
            else:
                out[name].update({"statements": 1.0, "round_trips": 3.0})
    finally:
        conn.close()
        with app.app_context():
            db.engine.dispose()
    return out


# -- checking the result ----------------------------------------------------------------------

def verify_ledger(database_url: str, expected: dict) -> dict:
    """services.verify() over the whole ledger, and what the clients reported against the rows."""
    from core import create_app
    from core.extensions import db
    from points import services

    app = create_app(app_config(database_url, pre_ping=True))
    with app.app_context():
        started = time.monotonic()
        problems = services.verify()
        seconds = time.monotonic() - started
        grants = db.session.scalar(db.text("SELECT count(*) FROM points_transactions WHERE kind = 'bench'"))
        redemptions = db.session.scalar(db.text("SELECT count(*) FROM points_redemptions"))
        holds = db.session.scalar(db.text("SELECT count(*) FROM points_holds WHERE status = 'held'"))
        db.engine.dispose()
    counts = {"grants": grants, "redemptions": redemptions, "open_holds": holds}
    mismatch = [f"{name}: clients committed {expected[name]}, the database holds {counts[name]}"
                for name in ("grants", "redemptions") if expected[name] != counts[name]]
    if counts["open_holds"] != counts["redemptions"]:
        mismatch.append(f"{counts['redemptions']} redemptions but {counts['open_holds']} open holds")
    return {"problems": problems, "mismatch": mismatch, "seconds": seconds, "counts": counts}


# -- reporting --------------------------------------------------------------------------------

def code_version() -> str:
    """The commit measured, and whether the app's code differed from it (uncommitted changes)."""
    import subprocess
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "core", "points", "migrations"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' with uncommitted changes in core/points/migrations' if dirty else ''}"


def machine_info(settings: dict) -> dict:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": model, "postgres": settings["server_version"],
            "pg_settings": {k: v for k, v in settings.items() if k != "server_version"},
            "python": platform.python_version(), "sqlalchemy": importlib.metadata.version("sqlalchemy"),
            "psycopg": importlib.metadata.version("psycopg"), "flask": importlib.metadata.version("flask"),
            "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
            "loadavg_start": os.getloadavg(), "code": code_version()}


def command_line(args) -> str:
    parts = [".venv/bin/python", "bench/ledger.py", "--accounts", str(args.accounts), "--clients", str(args.clients),
             "--duration", str(args.duration)]
    defaults = build_parser().parse_args([])
    for name in ("warmup", "rounds", "grant_share", "serial", "balance", "grant_points", "reward_cost", "seed", "pg"):
        value = getattr(args, name)
        if value != getattr(defaults, name):
            parts += [f"--{name.replace('_', '-')}", str(value)]
    if args.pre_ping:
        parts.append("--pre-ping")
    return shlex.join(parts)


def pick_median(rounds: list[dict]) -> dict:
    return sorted(rounds, key=lambda r: r["ops_s"])[(len(rounds) - 1) // 2]


def summarise(args, rounds: dict[str, list[dict]]) -> dict:
    median = {w: pick_median(rounds[w]) for w in WORKLOADS}
    ratios = [led["ops_s"] / raw["ops_s"] for led, raw in zip(rounds["ledger"], rounds["raw"])]
    return {"median": median, "ratios": ratios, "ratio": statistics.median(ratios),
            "core_ratio": median["ledger"]["ops_s"] / median["core"]["ops_s"],
            "by_round": {w: [r["ops_s"] for r in rounds[w]] for w in WORKLOADS}}


def _cpu_text(r: dict) -> str:
    c, per = r["cpu"], r["cpu_per_op_ms"]
    return (f"clients {per['clients']:.2f} ms, PostgreSQL {per['postgres']:.2f} ms per operation; "
            f"machine {c['busy_share']:.0%} busy, other processes {c['others_share']:.0%}")


def _driver_text(r: dict) -> str:
    return f"{r['execute_ms']:.2f}" if "execute_ms" in r else "–"


def report_lines(result: dict, markdown: bool) -> list[str]:
    m, s, v, serial = result["machine"], result["summary"], result["verify"], result["serial"]
    med = s["median"]
    led = med["ledger"]
    rows = [(LABELS["grant"], led["kinds"].get("grant")), (LABELS["redeem"], led["kinds"].get("redeem")),
            ("ledger combined", {**led["all"], "ops_s": led["ops_s"]}),
            (LABELS["raw"], {**med["raw"]["all"], "ops_s": med["raw"]["ops_s"]}),
            (LABELS["core"], {**med["core"]["all"], "ops_s": med["core"]["ops_s"]})]
    rows = [(name, r) for name, r in rows if r]
    refused = sum(k["n"] for name, k in led["kinds"].items() if name.endswith(":refused"))
    ok = not v["problems"] and not v["mismatch"]
    verdict = "met" if s["ratio"] >= TARGET_RATIO else "MISSED"
    pg = m["pg_settings"]
    machine = (f"{m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']:.0f} GiB, PostgreSQL {m['postgres']} (fsync "
               f"{pg['fsync']}, synchronous_commit {pg['synchronous_commit']}, shared_buffers {pg['shared_buffers']}), "
               f"Python {m['python']}, SQLAlchemy {m['sqlalchemy']}, psycopg {m['psycopg']}; load average "
               f"{m['loadavg_start'][0]:.2f} at the start, {result['loadavg_end'][0]:.2f} at the end")
    setup = (f"{result['accounts']:,} accounts of {result['balance']} points; {result['clients']} client processes; "
             f"{result['rounds']} round(s) of {result['warmup']} s warm-up + {result['duration']} s measured per "
             f"workload; ledger mix {result['grant_share']:.0%} grants ({result['grant_points']} points) / "
             f"{1 - result['grant_share']:.0%} redemptions (reward cost {result['reward_cost']}); pool pre-ping "
             f"{'on' if result['pre_ping'] else 'off'}")
    pg_led, pg_raw = led["cpu_per_op_ms"]["postgres"], med["raw"]["cpu_per_op_ms"]["postgres"]
    pg_text = (f"PostgreSQL CPU per operation: ledger {pg_led:.2f} ms, bare INSERT {pg_raw:.2f} ms, so with the "
               f"clients on other machines the database alone would allow the ledger about "
               f"{pg_raw / pg_led:.0%} of the bare-INSERT rate" if pg_led > 0 else "")
    ratio_text = (f"ledger / bare INSERT (psycopg): **{s['ratio']:.1%}** (target ≥ {TARGET_RATIO:.0%}: {verdict}"
                  + (f"; by round {', '.join(f'{x:.1%}' for x in s['ratios'])}" if len(s["ratios"]) > 1 else "")
                  + f"); ledger / bare INSERT (SQLAlchemy Core): {s['core_ratio']:.1%}")
    verify_text = (f"`services.verify()` after the run: {'[] (sound)' if not v['problems'] else v['problems'][:5]} "
                   f"in {v['seconds']:.1f} s; the database holds {v['counts']['grants']:,} bench grants and "
                   f"{v['counts']['redemptions']:,} redemptions with as many open holds"
                   + (": as the clients reported" if not v["mismatch"] else f": MISMATCH {v['mismatch']}")
                   + (f"; {refused} redemptions refused for insufficient points" if refused else ""))
    serial_rows = [(LABELS.get(k, k), serial[k]) for k in ("raw", "grant", "redeem") if k in serial]
    statements = "; ".join(
        f"{LABELS[k]}: " + ", ".join(f"{n:g} × {stmt}" for stmt, n in serial[k]["by_statement"].items())
        for k in ("grant", "redeem") if k in serial)
    if markdown:
        out = [f"Run of {result['date']} UTC: `{result['command']}`", "",
               f"Code: commit {m['code']}. Machine: {machine}.", "", f"Setup: {setup}.", "",
               "| workload | ops/s | p50 ms | p90 ms | p99 ms | max ms | operations |",
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        out += [f"| {name} | {r['ops_s']:.0f} | {r['p50']:.2f} | {r['p90']:.2f} | {r['p99']:.2f} | {r['max']:.1f} | "
                f"{r['n']:,} |" for name, r in rows]
        out += ["", f"Ratio {ratio_text}.", "",
                f"CPU: ledger {_cpu_text(led)}; bare INSERT (psycopg) {_cpu_text(med['raw'])}; "
                f"bare INSERT (Core) {_cpu_text(med['core'])}. {pg_text}.", "", f"{verify_text}.", ""]
        if serial_rows:
            out += [f"One client, one operation at a time ({result['serial_n']} grants, {result['serial_n']} "
                    f"redemptions, {5 * result['serial_n']} bare INSERTs):", "",
                    "| operation | p50 ms | p99 ms | client CPU ms | PostgreSQL CPU ms | SQL statements | round trips "
                    "| in driver ms |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
            out += [f"| {name} | {r['p50']:.2f} | {r['p99']:.2f} | {r['cpu_ms']:.2f} | {r['pg_cpu_ms']:.2f} | "
                    f"{r['statements']:.0f} | {r['round_trips']:.0f} | "
                    f"{_driver_text(r)} |" for name, r in serial_rows]
            out += ["", f"Statements per operation: {statements}.", ""]
        return out[:-1] if out[-1] == "" else out
    width = 34
    out = ["", "=" * 96, f"Points ledger benchmark, {result['date']} UTC, commit {m['code']}", f"machine: {machine}",
           f"setup: {setup}", "",
           f"{'':<{width}}{'ops/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'ops':>9}"]
    out += [f"{name:<{width}}{r['ops_s']:>9.0f}{r['p50']:>9.2f}{r['p90']:>9.2f}{r['p99']:>9.2f}{r['max']:>9.1f}"
            f"{r['n']:>9}" for name, r in rows]
    if result["rounds"] > 1:
        out += [f"  {LABELS[w]} ops/s by round: " + ", ".join(f"{x:.0f}" for x in s["by_round"][w]) for w in WORKLOADS]
    out += ["", "ratio " + ratio_text.replace("**", ""),
            f"CPU ledger: {_cpu_text(led)}", f"CPU bare INSERT psycopg: {_cpu_text(med['raw'])}",
            f"CPU bare INSERT Core: {_cpu_text(med['core'])}", pg_text, "", verify_text.replace("`", "")]
    if serial_rows:
        out += ["", f"one client, one at a time ({result['serial_n']} grants, {result['serial_n']} redemptions, "
                    f"{5 * result['serial_n']} bare INSERTs):",
                f"{'':<{width}}" + "".join(f"{h:>9}" for h in ("p50 ms", "p99 ms", "cpu ms", "pg cpu", "stmts",
                                                               "trips", "driver"))]
        out += [f"{name:<{width}}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['cpu_ms']:>9.2f}{r['pg_cpu_ms']:>9.2f}"
                f"{r['statements']:>9.0f}{r['round_trips']:>9.0f}{_driver_text(r):>9}" for name, r in serial_rows]
        out += [f"statements: {statements}"]
    out += ["", f"target: ledger >= {TARGET_RATIO:.0%} of bare INSERTs: {verdict} ({s['ratio']:.1%}); "
                f"ledger verification: {'passed' if ok else 'FAILED'}",
            f"command: {result['command']}", "=" * 96]
    return out


def write_readme(result: dict) -> None:
    text = README.read_text() if README.exists() else ""
    if README_START not in text or README_END not in text:
        log(f"{README} has no ledger results markers; not written")
        return
    head, rest = text.split(README_START, 1)
    old, tail_text = rest.split(README_END, 1)
    history = [line for line in old.splitlines() if re.match(r"^\| \d{4}-\d\d-\d\d", line)]
    s, med = result["summary"], result["summary"]["median"]
    kinds = med["ledger"]["kinds"]
    row = (f"| {result['date']} | {result['accounts']:,} | {result['clients']} | {result['duration']} | "
           f"{med['ledger']['ops_s']:.0f} | {kinds.get('grant', {}).get('p99', 0):.1f} ms | "
           f"{kinds.get('redeem', {}).get('p99', 0):.1f} ms | {med['raw']['ops_s']:.0f} | {s['ratio']:.0%} | "
           f"{med['ledger']['cpu']['others_share']:.0%} |")
    history = [row] + history[:HISTORY_KEEP - 1]
    block = ["", *report_lines(result, markdown=True), "", "Recent runs, newest first (the machine is shared: compare "
             "runs, not single figures; *others* is the CPU share other people's processes took during the ledger "
             "workload):", "", HISTORY_HEADER, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
             *history, ""]
    README.write_text(head + README_START + "\n".join(block) + "\n" + README_END + tail_text)
    log(f"figures written to {README.relative_to(ROOT)}")


# -- main -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--accounts", type=int, default=100_000, help="users with a points account and a balance")
    p.add_argument("--clients", type=int, default=8, help="concurrent client processes of each workload")
    p.add_argument("--duration", type=int, default=20, help="measured seconds of each workload per round")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each measurement")
    p.add_argument("--rounds", type=int, default=1, help="rounds of (raw, core, ledger); the median round is shown")
    p.add_argument("--grant-share", type=float, default=0.5, help="share of ledger operations that are grants")
    p.add_argument("--serial", type=int, default=200,
                   help="operations of each kind from one client afterwards, with statement counts (0: none)")
    p.add_argument("--balance", type=int, default=1000, help="starting balance of every account")
    p.add_argument("--grant-points", type=int, default=10, help="points per grant")
    p.add_argument("--reward-cost", type=int, default=10, help="points per redemption")
    p.add_argument("--pre-ping", dest="pre_ping", action="store_true",
                   help="pool_pre_ping on (the app's default, DATABASE_PRE_PING, is off: core.db replaces a "
                        "connection the server closed from its socket, without a round trip)")
    p.add_argument("--seed", default="ledger", help="random seed of the clients' choices")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                   help="PostgreSQL server (any database on it) where the benchmark database is created")
    p.add_argument("--no-readme", action="store_true", help="do not write the figures into bench/README.md")
    p.add_argument("--json", type=Path, help="also write the full result to this file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.accounts < 1 or args.clients < 1 or args.duration < 1 or not 0 <= args.grant_share <= 1:
        raise SystemExit("--accounts, --clients and --duration must be positive, --grant-share in [0, 1]")

    def interrupted(signum, frame):
        raise Interrupted(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    # The app reads these at import and in create_app; the client processes inherit them.
    instance = tempfile.TemporaryDirectory(prefix="linli-bench-ledger-")
    os.environ.update({"LINLI_ENV": "development", "SECRET_KEY": SECRET_KEY, "LINLI_INSTANCE_DIR": instance.name,
                       "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": "false"})
    try:
        with fresh_database(args.pg) as (database_url, database, settings):
            machine = machine_info(settings)
            seeded = migrate_and_seed(args, database_url)
            cfg = {"database_url": database_url, "user_ids": seeded["user_ids"], "reward_id": seeded["reward_id"],
                   "grant_share": args.grant_share, "grant_points": args.grant_points, "pre_ping": args.pre_ping}
            rounds: dict[str, list[dict]] = {w: [] for w in WORKLOADS}
            for round_no in range(args.rounds):
                for workload in WORKLOADS:
                    log(f"round {round_no + 1}/{args.rounds}: {workload}, {args.clients} clients, "
                        f"{args.warmup} s + {args.duration} s")
                    r = run_workload(args, workload, cfg, database, round_no)
                    rounds[workload].append(r)
                    log(f"  {r['ops_s']:.0f} ops/s, p50 {r['all']['p50']:.2f} ms, p99 {r['all']['p99']:.2f} ms, "
                        f"others {r['cpu']['others_share']:.0%} of the machine")
            serial = serial_profile(args, database_url, database, seeded) if args.serial else {}
            # Every operation the clients committed (warm-up included), and the serial ones.
            committed = {name: sum(r["done"].get(kind, 0) for r in rounds["ledger"]) +
                         serial.get(kind, {}).get("done", 0) for name, kind in (("grants", "grant"),
                                                                               ("redemptions", "redeem"))}
            log("verifying the ledger")
            verification = verify_ledger(database_url, committed)
        summary = summarise(args, rounds)
        result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                  "command": command_line(args), "machine": machine, "summary": summary, "verify": verification,
                  "serial": serial, "serial_n": args.serial, "loadavg_end": os.getloadavg(),
                  **{k: getattr(args, k) for k in ("accounts", "clients", "duration", "warmup", "rounds",
                                                   "grant_share", "grant_points", "reward_cost", "balance",
                                                   "pre_ping")}}
        print("\n".join(report_lines(result, markdown=False)))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2, default=str))
        failed = bool(verification["problems"] or verification["mismatch"])
        if failed:
            log("FAILED: the ledger does not verify")
        elif args.no_readme or args.accounts < 100_000 or args.duration < 10:
            log("bench/README.md not written (--no-readme, fewer than 100,000 accounts or shorter than 10 s)")
        else:
            write_readme(result)
        return 1 if failed else 0
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({type(exc).__name__} {exc}); cleaned up")
        return 130
    finally:
        instance.cleanup()


if __name__ == "__main__":
    sys.exit(main())
