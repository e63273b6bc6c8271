"""Estate community benchmark: feed and ranking reads against bare Flask, visit notifications
through the fake WeChat, and `flask community rebuild-stats`, on a platform-sized database.

    .venv/bin/python bench/community.py [--estates 10000] [--residents 1000000] [--orders 2000000]

Everything runs on this machine and is torn down at the end (also on Ctrl-C and errors):

1. a fresh PostgreSQL database (unique name) on --pg, migrated with `flask db upgrade`;
2. data by set-based SQL (`INSERT ... SELECT generate_series`), timed and printed: --estates
   estates, as many engineers each covering 3 estates (3 per estate), --residents users and
   residencies (estate 1 has --notify-residents of them, each with a WeChat identity and one
   `tmpl_visit_notice` subscription; the rest spread over the other estates), --orders service
   orders over 3 years (90% completed, 70% of those rated, 2% complained, the rest cancelled
   or open), 100,000 engineer likes, --hot-posts feed posts in each of the --hot-estates
   estates the readers live in and 3 in every other one; bearer tokens for the readers and the
   announcing engineer (stored hashed, as the app does);
3. `flask community rebuild-stats`, timed (wall time of the command), then `VACUUM ANALYZE`;
4. the fake WeChat (`flask wechat-fake`), the app under gunicorn (`wsgi:app`) and bench/bare_app.py
   under an identical gunicorn; the fake learns the 5,000 openids and their subscriptions through
   its controls (`/_fake/codes`, `/_fake/subscriptions`; setup, not timed);
5. read throughput with wrk at --connections connections: `GET /api/v1/estates/{id}/feed` and
   `GET /api/v1/estates/{id}/engineers`, each reader token reading its own estate, and bare
   Flask's `GET /json`, in alternating rounds (bare, feed, ranking, bare, ...); the round with the
   median req/s is reported, with CPU per request of gunicorn, PostgreSQL and wrk from /proc;
6. notifications: --senders sender processes are started and warmed (app built, WeChat token
   fetched: a running scheduler has both); the clock starts, the engineer announces a visit to
   estate 1 (`POST /api/v1/engineer/visits`: inbox rows for every resident, outbox rows for those
   with quota, one transaction), then the senders run `core.notifications.services.send_due`
   until it claims nothing (several senders are safe: claims use `FOR UPDATE SKIP LOCKED`); the
   time is until the fake recorded the last message (its own `sent_at`, `GET /_fake/messages`),
   and every one of the 5,000 residents must have exactly one message.

With --coverers 10,100,1000,10000 it measures only the ranking read against the coverage of an
estate (issue 15): each size N gets one estate of its own covered by 3 + N engineers (every 10th
invited; 3 in 4 with 1-3 rated orders there, scored by the rebuild), and after a warm-up that lets
every worker prepare its statements, five requests one at a time and one wrk round of --duration
seconds per size are reported (req/s, latencies, CPU per request). No feed, bare Flask or
notifications then, and bench/README.md is not written.

The machine is shared: the load average and the share of CPU other processes used are printed.
Figures are printed with the command that reproduces them and written into bench/README.md
(only runs at the issue's sizes; --no-readme leaves it alone).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# This file is bench/community.py: with bench/ first on sys.path, `import community` would find it
# instead of the app's community package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from bench.binding import (  # noqa: E402,F401
    ACCESS_LOG_FORMAT,
    BenchError,
    CpuMeter,
    Interrupted,
    Proc,
    Processes,
    app_env,
    call,
    ensure_wrk,
    free_port,
    gunicorn_argv,
    log,
    machine_info,
    per_unit_ms,
    percentile,
    read_access_log,
    wait_ready,
    wrk_version,
)

README = ROOT / "bench" / "README.md"
README_START = "<!-- community.py results: start (written by bench/community.py) -->"
README_END = "<!-- community.py results: end -->"
HISTORY_HEADER = ("| date (UTC) | estates | residents | orders | feed req/s | ranking req/s | bare req/s "
                  "| feed p99 | ranking p99 | notify 5,000 s | rebuild s | others |")
HISTORY_KEEP = 6
ISSUE_SIZES = {"estates": 10_000, "residents": 1_000_000, "orders": 2_000_000}

TARGET_READ_RATIO = 0.50
TARGET_READ_P99_MS = 50.0
TARGET_NOTIFY_S = 10.0
TEMPLATE = "tmpl_visit_notice"
APPID = "wx_fake_appid"
TOKEN_PREFIX = "lnl_"  # core.accounts.services.TOKEN_PREFIX
BARE_PATH = "/json"
FEED_RE = re.compile(r"^/api/v1/estates/\d+/feed$")
RANKING_RE = re.compile(r"^/api/v1/estates/\d+/engineers$")


# -- the database -----------------------------------------------------------------------------

@contextlib.contextmanager
def fresh_database(admin_url: str, prefix: str = "linli_bench_community_"):
    """A new database on the server of `admin_url`, dropped at the end whatever happens."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        settings = {key: conn.execute(f"SHOW {key}").fetchone()[0] for key in
                    ("server_version", "shared_buffers", "work_mem")}
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"created database {name}")
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path="/" + name)), name, settings
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped database {name}")


SERVICE_TYPES = "ARRAY['install', 'repair', 'maintenance', 'cleaning', 'inspection', 'other']"

# Parameters: now, estates, residents, orders, hot (residents of estate 1), engineer_user,
# hot_estates, hot_posts, likes. Ids are explicit (1..n) so that the relations can be computed;
# the sequences are moved past them afterwards.
SEED_SQL = [
    ("estates", """INSERT INTO estates (id, code, name, province, city, district, address, households, status,
                                        created_at, updated_at)
        SELECT g, 'BENCH' || lpad(g::text, 6, '0'), '基准小区' || g, '广东省',
               (ARRAY['深圳市', '广州市', '佛山市', '东莞市'])[1 + g %% 4],
               (ARRAY['南山区', '福田区', '宝安区', '龙岗区', '罗湖区'])[1 + g %% 5], '基准路 ' || g || ' 号',
               CASE WHEN g = 1 THEN %(hot)s ELSE 300 + g %% 3000 END, 'active', %(now)s, %(now)s
        FROM generate_series(1, %(estates)s) g"""),
    ("users", """INSERT INTO users (id, display_name, phone, roles, status, created_at)
        SELECT g, '住户' || g, '139' || lpad(g::text, 8, '0'), 'resident', 'active', %(now)s
        FROM generate_series(1, %(residents)s) g
        UNION ALL SELECT %(engineer_user)s, '基准工程师', '13800138000', 'engineer', 'active', %(now)s"""),
    # Engineer g covers estates g, g+1, g+2 (wrapping): every estate has 3 engineers.
    ("engineers", """INSERT INTO engineers (id, user_id, name, phone, employee_no, status, claimed_at, created_at)
        SELECT g, CASE WHEN g = 1 THEN %(engineer_user)s END, '工程师' || g, '137' || lpad(g::text, 8, '0'),
               'BENCH' || lpad(g::text, 7, '0'), 'active', %(now)s, %(now)s
        FROM generate_series(1, %(estates)s) g"""),
    ("engineer_estates", """INSERT INTO engineer_estates (engineer_id, estate_id, assigned_at)
        SELECT g, (g - 1 + k) %% %(estates)s + 1, %(now)s
        FROM generate_series(1, %(estates)s) g CROSS JOIN generate_series(0, 2) k"""),
    # Users 1..hot live in estate 1 (the notification test); the others spread over estates 2..n.
    ("residencies", """INSERT INTO residencies (user_id, estate_id, source, joined_at)
        SELECT g, CASE WHEN g <= %(hot)s THEN 1 ELSE 2 + g %% (%(estates)s - 1) END, 'admin',
               %(now)s - (g %% 1000) * interval '1 day'
        FROM generate_series(1, %(residents)s) g"""),
    ("wechat_identities", """INSERT INTO wechat_identities (user_id, appid, openid, created_at, last_login_at)
        SELECT g, %(appid)s, 'obench' || lpad(g::text, 10, '0'), %(now)s, %(now)s
        FROM generate_series(1, %(hot)s) g"""),
    ("subscription_quotas", """INSERT INTO subscription_quotas (user_id, template_id, remaining, updated_at)
        SELECT g, %(template)s, 1, %(now)s FROM generate_series(1, %(hot)s) g"""),
    # Orders over 3 years: estate by a multiplicative spread, engineer one of its 3.
    ("service_orders", """INSERT INTO service_orders (source, estate_id, resident_phone, engineer_id, service_type,
            description, status, requested_at, assigned_at, completed_at, cancelled_at, rating, complained,
            created_at, updated_at)
        SELECT 'import', e, '139' || lpad((g %% 100000000)::text, 8, '0'),
               CASE WHEN st = 'requested' THEN NULL ELSE (e - 1 - g %% 3 + %(estates)s) %% %(estates)s + 1 END,
               (""" + SERVICE_TYPES + """)[1 + g %% 6], '', st, req,
               CASE WHEN st <> 'requested' THEN req + interval '2 hours' END,
               CASE WHEN st = 'completed' THEN req + (1 + r2 * 72) * interval '1 hour' END,
               CASE WHEN st = 'cancelled' THEN req + interval '1 day' END,
               CASE WHEN st = 'completed' AND r2 < 0.7 THEN
                    CASE WHEN r3 < 0.60 THEN 5 WHEN r3 < 0.85 THEN 4 WHEN r3 < 0.93 THEN 3 WHEN r3 < 0.97 THEN 2
                         ELSE 1 END END,
               st = 'completed' AND r3 > 0.98, req, req
        FROM (SELECT g, (g::bigint * 7919) %% %(estates)s + 1 AS e,
                     %(now)s - random() * interval '1095 days' AS req, random() AS r2, random() AS r3,
                     CASE WHEN r < 0.90 THEN 'completed' WHEN r < 0.94 THEN 'cancelled' WHEN r < 0.96 THEN 'requested'
                          WHEN r < 0.98 THEN 'assigned' ELSE 'scheduled' END AS st
              FROM (SELECT g, random() AS r FROM generate_series(1, %(orders)s) g) x) o"""),
    ("engineer_likes", """INSERT INTO engineer_likes (resident_id, engineer_id, created_at)
        SELECT g, g %% %(estates)s + 1, %(now)s FROM generate_series(%(hot)s + 1, %(hot)s + %(likes)s) g"""),
    # Feed posts by residents of each estate: --hot-posts in the readers' estates, 3 elsewhere.
    ("estate_posts", """INSERT INTO estate_posts (estate_id, author_id, kind, text, photos, status, security_verdict,
            answers_count, comments_count, likes_count, created_at)
        SELECT e.id, r.user_id, (ARRAY['question', 'review', 'photo'])[1 + k %% 3],
               '基准帖子 ' || k || '：空调制冷效果不好，师傅能上门看看吗？',
               CASE WHEN k %% 3 = 2 THEN '["bench.jpg"]'::json ELSE '[]'::json END,
               CASE WHEN k %% 50 = 7 THEN 'hidden' WHEN k %% 100 = 13 THEN 'held' ELSE 'published' END,
               CASE WHEN k %% 100 = 13 THEN 'review' ELSE 'pass' END,
               k %% 4, k %% 7, k %% 11, %(now)s - (1000 - k) * interval '1 hour'
        FROM estates e
        CROSS JOIN LATERAL generate_series(1, CASE WHEN e.id <= %(hot_estates)s THEN %(hot_posts)s ELSE 3 END) k
        CROSS JOIN LATERAL (SELECT user_id FROM residencies WHERE estate_id = e.id ORDER BY user_id
                            OFFSET k %% 20 LIMIT 1) r
        ORDER BY e.id, k"""),
]


def seed(args, database_url: str) -> dict:
    """Everything by set-based SQL in one transaction; returns row counts, readers and the timing."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    params = {"now": now, "estates": args.estates, "residents": args.residents, "orders": args.orders,
              "hot": args.notify_residents, "engineer_user": args.residents + 1, "appid": APPID,
              "template": TEMPLATE, "hot_estates": args.tokens, "hot_posts": args.hot_posts,
              "likes": min(100_000, args.residents - args.notify_residents)}
    counts, timings = {}, {}
    started = time.monotonic()
    with psycopg.connect(database_url) as conn:
        for table, sql in SEED_SQL:
            t0 = time.monotonic()
            counts[table] = conn.execute(sql, params).rowcount
            timings[table] = time.monotonic() - t0
            log(f"seeded {counts[table]:,} rows of {table} in {timings[table]:.1f} s")
        for table in ("users", "estates", "engineers", "estate_posts", "service_orders"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        # Readers: one resident of each of the first --tokens estates (all hot estates), and the
        # announcing engineer; bearer tokens stored as their SHA-256, as issue_token does.
        readers = conn.execute(
            "SELECT DISTINCT ON (estate_id) estate_id, user_id FROM residencies WHERE estate_id <= %s "
            "ORDER BY estate_id, user_id DESC", (args.tokens,)).fetchall()
        tokens = []
        for estate_id, user_id in [*readers, (None, args.residents + 1)]:
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            conn.execute("INSERT INTO api_tokens (user_id, token_hash, kind, created_at, expires_at) "
                         "VALUES (%s, encode(sha256(%s::bytea), 'hex'), 'wechat', %s, %s)",
                         (user_id, token.encode(), now, now + datetime.timedelta(days=30)))
            tokens.append((estate_id, user_id, token))
        conn.commit()
    seconds = time.monotonic() - started
    log(f"seeded in {seconds:.1f} s")
    return {"counts": counts, "timings": timings, "seconds": seconds,
            "readers": tokens[:-1], "engineer_token": tokens[-1][2]}


# Parameters: now, estate, base (engineer ids base+1..base+n), n. Every 10th coverer is invited
# (ranked by imported history, as the app ranks them); 3 in 4 have 1-3 completed, rated orders
# so that scores differ and the ranking's order matters; the others have no record in the estate.
COVERERS_SQL = [
    ("engineers", """INSERT INTO engineers (id, name, phone, employee_no, status, claimed_at, created_at)
        SELECT %(base)s + g, '覆盖工程师' || g, '136' || lpad((%(base)s + g)::text, 8, '0'),
               'BENCHC' || lpad((%(base)s + g)::text, 8, '0'), CASE WHEN g %% 10 = 0 THEN 'invited' ELSE 'active' END,
               CASE WHEN g %% 10 <> 0 THEN %(now)s END, %(now)s
        FROM generate_series(1, %(n)s) g"""),
    ("engineer_estates", """INSERT INTO engineer_estates (engineer_id, estate_id, assigned_at)
        SELECT %(base)s + g, %(estate)s, %(now)s FROM generate_series(1, %(n)s) g"""),
    ("service_orders", """INSERT INTO service_orders (source, estate_id, resident_phone, engineer_id, service_type,
            description, status, requested_at, assigned_at, completed_at, rating, complained, created_at, updated_at)
        SELECT 'import', %(estate)s, '139' || lpad(g::text, 8, '0'), %(base)s + g, 'repair', '', 'completed', req,
               req + interval '2 hours', req + interval '1 day', 3 + (g * 7 + k) %% 3, (g + k) %% 37 = 0, req, req
        FROM generate_series(1, %(n)s) g CROSS JOIN LATERAL generate_series(1, 1 + g %% 3) k
        CROSS JOIN LATERAL (SELECT %(now)s - ((g * 13 + k * 101) %% 700) * interval '1 day' AS req) r
        WHERE g %% 4 <> 0"""),
]


def coverers_estates(args) -> list[tuple[int, int]]:
    """(coverers, estate) for each --coverers size: the last estates, away from the readers' ones."""
    return [(n, args.estates - i) for i, n in enumerate(args.coverers)]


def seed_coverers(args, database_url: str) -> list[tuple[int, int]]:
    """For each --coverers size N, one estate gets N more covering engineers (before the rebuild,
    which scores them from their orders). Set-based SQL, one transaction."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    base = args.estates
    started = time.monotonic()
    with psycopg.connect(database_url) as conn:
        for n, estate in coverers_estates(args):
            for table, sql in COVERERS_SQL:
                conn.execute(sql, {"now": now, "estate": estate, "base": base, "n": n})
            base += n
        conn.execute("SELECT setval(pg_get_serial_sequence('engineers', 'id'), (SELECT max(id) FROM engineers))")
        conn.commit()
    log(f"coverers: {base - args.estates:,} more engineers over {len(args.coverers)} estates "
        f"in {time.monotonic() - started:.1f} s")
    return coverers_estates(args)


def vacuum_analyze(database_url: str) -> float:
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    seconds = time.monotonic() - started
    log(f"VACUUM ANALYZE in {seconds:.1f} s")
    return seconds


def rebuild_stats(env: dict, database_url: str) -> dict:
    """`flask community rebuild-stats`, wall time of the whole command (interpreter start included)."""
    log("flask community rebuild-stats")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "flask", "community", "rebuild-stats"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise BenchError(f"rebuild-stats failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    with psycopg.connect(database_url) as conn:
        rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("engineer_estate_stats", "engineer_estate_days", "estate_month_stats")}
    log(f"rebuild-stats: {wall:.1f} s ({result.stdout.strip()})")
    return {"wall_s": wall, "output": result.stdout.strip(), "rows": rows}


# -- the stack --------------------------------------------------------------------------------

def start_stack(args, procs: Processes, env: dict, tmp: Path, fake_port: int, database: str) -> dict:
    flask = [sys.executable, "-m", "flask"]
    fake = procs.start("fake WeChat", flask + ["wechat-fake", "--port", str(fake_port)], env, tmp / "fake.log")
    fake_url = f"http://127.0.0.1:{fake_port}/"
    wait_ready(fake, fake_url + "_fake/clock")
    app_port, bare_port = free_port(), free_port()
    access_log, bare_access_log = tmp / "access.log", tmp / "bare-access.log"
    app = procs.start("gunicorn (app)", gunicorn_argv(args, app_port, "wsgi:app", access_log, tmp / "gunicorn.log"),
                      env, tmp / "gunicorn.out")
    bare_env = {k: v for k, v in env.items() if k != "SECRET_KEY"}
    bare = procs.start("gunicorn (bare Flask)", gunicorn_argv(args, bare_port, "bench.bare_app:app", bare_access_log,
                                                               tmp / "bare-gunicorn.log"), bare_env, tmp / "bare.out")
    app_url, bare_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
    wait_ready(app, app_url + "/healthz")
    wait_ready(bare, bare_url + BARE_PATH)
    log(f"fake WeChat {fake_url}, app {app_url}, bare Flask {bare_url} ({args.workers} {args.worker_class} workers)")
    groups = {"app": app.popen.pid, "bare": bare.popen.pid, "fake": fake.popen.pid}
    return {"app_url": app_url, "bare_url": bare_url, "fake_url": fake_url, "access_log": access_log,
            "bare_access_log": bare_access_log, "groups": groups,
            "cpu": CpuMeter(groups, args.pg, database)}


def register_openids(fake_url: str, count: int, clients: int = 8) -> float:
    """The fake learns every openid of estate 1 and one subscription each (its test controls)."""
    started = time.monotonic()

    def one(chunk: range) -> None:
        s = requests.Session()
        for g in chunk:
            openid = f"obench{g:010d}"
            call(s, "POST", fake_url + "_fake/codes", 200, json={"openid": openid})
            call(s, "POST", fake_url + "_fake/subscriptions", 200,
                 json={"openid": openid, "template_id": TEMPLATE, "count": 1})

    step = -(-count // clients)
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(one, range(i, min(i + step, count + 1))) for i in range(1, count + 1, step)]:
            future.result()
    seconds = time.monotonic() - started
    log(f"fake WeChat knows {count:,} openids with a {TEMPLATE} subscription each ({seconds:.1f} s)")
    return seconds


# -- reads ------------------------------------------------------------------------------------

WRK_SCRIPT = """\
-- Generated by bench/community.py: rotate (path, bearer token) pairs; print figures as one JSON line.
local reqs = {%s}
local n = 0
request = function()
  n = n + 1
  local r = reqs[(n %% #reqs) + 1]
  return wrk.format("GET", r[1], {["Authorization"] = "Bearer " .. r[2]})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_WRK {"requests": %%d, "duration_us": %%d, "non_2xx_3xx": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def wrk_script(tmp: Path, name: str, pairs: list[tuple[str, str]]) -> Path:
    path = tmp / f"{name}.lua"
    path.write_text(WRK_SCRIPT % ", ".join("{%s, %s}" % (json.dumps(p), json.dumps(t)) for p, t in pairs))
    return path


def run_wrk(args, wrk: str, script: Path, url: str, access_log: Path, path_re: re.Pattern, group: str,
            duration: int, cpu: CpuMeter) -> dict:
    _, offset = read_access_log(access_log)
    argv = [wrk, f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration}s", "--timeout", "5s",
            "-s", str(script), url]
    before = cpu.snapshot()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    used = CpuMeter.delta(before, cpu.snapshot())
    match = re.search(r"^BENCH_WRK (\{.*\})$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    figures = json.loads(match.group(1))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    time.sleep(0.5)  # let the workers write their last access-log lines
    lines, _ = read_access_log(access_log, offset)
    served = [line for line in lines if path_re.match(line.path)]
    if not served:
        raise BenchError(f"no {path_re.pattern} requests in {access_log}")
    statuses = {line.status for line in served}
    if figures["non_2xx_3xx"] or figures["timeout"] or statuses != {200}:
        raise BenchError(f"{url}: {figures['non_2xx_3xx']} non-2xx answers, {figures['timeout']} timeouts, "
                         f"statuses in the access log {sorted(statuses)}")
    micros = [line.micros for line in served]
    figures["server_p50_ms"] = percentile(micros, 50) / 1000
    figures["server_p99_ms"] = percentile(micros, 99) / 1000
    used["server"] = used[group]
    figures["cpu"] = per_unit_ms(used, figures["requests"], ("server", "postgres", "wrk"))
    return figures


def check_reads(stack: dict, readers: list, hot_posts: int) -> None:
    """Every reader gets a full first page of its estate's feed and its 3 ranked engineers."""
    s = requests.Session()
    for estate_id, _, token in readers:
        feed = call(s, "GET", f"{stack['app_url']}/api/v1/estates/{estate_id}/feed", 200, token=token).json()
        if len(feed["items"]) != min(20, hot_posts) or any(i["estate_id"] != estate_id for i in feed["items"]):
            raise BenchError(f"estate {estate_id}: unexpected feed page ({len(feed['items'])} items)")
        ranked = call(s, "GET", f"{stack['app_url']}/api/v1/estates/{estate_id}/engineers", 200,
                      token=token).json()["items"]
        if len(ranked) != 3 or not all(r["components"]["completed"] > 0 for r in ranked):
            raise BenchError(f"estate {estate_id}: unexpected ranking {ranked}")


def read_throughput(args, stack: dict, readers: list, tmp: Path) -> dict:
    wrk = ensure_wrk()
    check_reads(stack, readers, args.hot_posts)
    feed = wrk_script(tmp, "feed", [(f"/api/v1/estates/{e}/feed", t) for e, _, t in readers])
    ranking = wrk_script(tmp, "ranking", [(f"/api/v1/estates/{e}/engineers", t) for e, _, t in readers])
    bare = wrk_script(tmp, "bare", [(BARE_PATH, t) for _, _, t in readers])
    targets = {"bare": (bare, stack["bare_url"], stack["bare_access_log"], re.compile("^/json$"), "bare"),
               "feed": (feed, stack["app_url"], stack["access_log"], FEED_RE, "app"),
               "ranking": (ranking, stack["app_url"], stack["access_log"], RANKING_RE, "app")}
    for name, target in targets.items():  # warm-up: pools, caches, prepared statements in every worker
        run_wrk(args, wrk, *target, 3, stack["cpu"])
    rounds: dict[str, list[dict]] = {name: [] for name in targets}
    for r in range(1, args.rounds + 1):
        for name, target in targets.items():
            log(f"wrk round {r}/{args.rounds}: {name}, {args.duration} s")
            rounds[name].append(run_wrk(args, wrk, *target, args.duration, stack["cpu"]))
    out = {"rounds": rounds, "wrk": wrk_version(wrk), "tokens": len(readers)}
    for name in ("feed", "ranking"):
        ratios = [x["rps"] / b["rps"] for b, x in zip(rounds["bare"], rounds[name], strict=True)]
        out[f"{name}_ratios"], out[f"{name}_ratio"] = ratios, statistics.median(ratios)
    out["median"] = {name: _median_round(rs) for name, rs in rounds.items()}
    return out


def ranking_by_coverers(args, stack: dict, estates: list[tuple[int, int]], token: str, tmp: Path) -> list[dict]:
    """`GET /api/v1/estates/{id}/engineers` of an estate covered by 3 + N engineers, for each
    --coverers N: a check of the first page, a 3 s warm-up (every worker prepares its statements:
    psycopg does after 5 executions, and PostgreSQL may then reuse a generic plan), then one wrk
    round of --duration seconds. Returns req/s and latencies per size."""
    wrk, s, out = ensure_wrk(), requests.Session(), []
    for n, estate in estates:
        path = f"/api/v1/estates/{estate}/engineers"
        items = call(s, "GET", stack["app_url"] + path, 200, token=token).json()["items"]
        if len(items) != min(50, n + 3) or [i["rank"] for i in items] != list(range(1, len(items) + 1)):
            raise BenchError(f"estate {estate} ({n} coverers): unexpected ranking of {len(items)} rows")
        script = wrk_script(tmp, f"coverers-{n}", [(path, token)])
        try:
            run_wrk(args, wrk, script, stack["app_url"], stack["access_log"], RANKING_RE, "app", 3, stack["cpu"])
        except BenchError as exc:  # a request slower than wrk's 5 s timeout: the round below says so
            log(f"warm-up with {n:,} coverers: {str(exc).splitlines()[0]}")
        alone = []
        for _ in range(5):  # one request at a time, after the warm-up (plans prepared)
            started = time.monotonic()
            call(s, "GET", stack["app_url"] + path, 200, token=token)
            alone.append((time.monotonic() - started) * 1000)
        log(f"one request alone, {n:,} coverers: {statistics.median(alone):.1f} ms (median of 5)")
        log(f"wrk: ranking of an estate with {n:,} coverers, {args.duration} s")
        try:
            figures = run_wrk(args, wrk, script, stack["app_url"], stack["access_log"], RANKING_RE, "app",
                              args.duration, stack["cpu"])
        except (BenchError, ZeroDivisionError) as exc:  # no request answered within wrk's 5 s timeout
            figures = {"rps": 0.0, "error": (str(exc) or type(exc).__name__).splitlines()[0]}
        out.append({"coverers": n, "estate": estate, "alone_ms": statistics.median(alone), **figures})
        log(f"{n:,} coverers: {figures['rps']:.0f} req/s, one request alone {statistics.median(alone):.1f} ms")
    return out


def coverers_report(args, rows: list[dict]) -> list[str]:
    out = ["", "=" * 84, f"Ranking by coverers, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC "
           f"(load average {os.getloadavg()[0]:.2f}); wrk -t{args.wrk_threads} -c{args.connections}, "
           f"one {args.duration} s round each",
           f"{'coverers':>10}{'alone ms':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'srv p50':>9}{'srv p99':>9}"
           f"{'app CPU ms':>12}{'PG CPU ms':>11}"]
    for r in rows:
        if "error" in r:
            out.append(f"{r['coverers']:>10,}{r['alone_ms']:>10.1f}  no wrk figures: {r['error']}")
            continue
        out.append(f"{r['coverers']:>10,}{r['alone_ms']:>10.1f}{r['rps']:>9.0f}{r['p50_us'] / 1000:>9.1f}"
                   f"{r['p99_us'] / 1000:>9.1f}{r['server_p50_ms']:>9.2f}{r['server_p99_ms']:>9.2f}"
                   f"{r['cpu']['server']:>12.2f}{r['cpu']['postgres']:>11.2f}")
    return out + ["", f"command: {command_line(args)}", "=" * 84]


def _median_round(rounds: list[dict]) -> dict:
    """The round with the median req/s (its latencies and CPU go with it)."""
    return sorted(rounds, key=lambda r: r["rps"])[(len(rounds) - 1) // 2] | {
        "rps_median": statistics.median(r["rps"] for r in rounds)}


# -- notifications ----------------------------------------------------------------------------

SENDER = r"""
import json, sys, time
from core import create_app
app = create_app()
with app.app_context():
    from core.extensions import db
    from core.notifications import services
    from core.wechat import gateway
    db.session.execute(db.text("SELECT 1"))
    gateway.client().access_token  # a running sender has its token
    db.session.rollback()
    print("READY", flush=True)
    sys.stdin.readline()
    started, totals, batches = time.time(), {}, 0
    while True:
        counts = services.send_due()
        batches += 1
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        if counts["claimed"] == 0:
            break
    print("DONE " + json.dumps(dict(totals, batches=batches, started=started, ended=time.time())), flush=True)
"""


def notify_estate(args, procs: Processes, env: dict, stack: dict, engineer_token: str, database_url: str,
                  tmp: Path) -> dict:
    """Announce a visit to estate 1 and send until the outbox is empty; time until the fake has them all."""
    fake_url, s = stack["fake_url"], requests.Session()
    call(s, "DELETE", fake_url + "_fake/messages", 200)
    senders = []
    for i in range(args.senders):
        log_path = tmp / f"sender-{i}.log"
        popen = subprocess.Popen([sys.executable, "-c", SENDER], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=open(log_path, "ab"), text=True,
                                 start_new_session=True)
        procs.procs.append(Proc(f"sender {i}", popen, log_path))
        senders.append(popen)
    for i, popen in enumerate(senders):
        line = popen.stdout.readline()
        if line.strip() != "READY":
            raise BenchError(f"sender {i} did not start:\n{(tmp / f'sender-{i}.log').read_text()[-3000:]}")
    groups = dict(stack["groups"], **{f"sender{i}": p.pid for i, p in enumerate(senders)})
    cpu = CpuMeter(groups, args.pg, stack["cpu"].database)
    day = (datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))) + datetime.timedelta(days=1)).date()
    before = cpu.snapshot()
    started = time.time()
    body = call(s, "POST", stack["app_url"] + "/api/v1/engineer/visits", 201, token=engineer_token, json={
        "estate_id": 1, "date": day.isoformat(), "slots": ["09:00-10:00", "10:00-11:00", "14:00-15:00",
                                                           "15:00-16:00"], "note": "基准测试上门"}).json()
    announced = time.time()
    for popen in senders:
        popen.stdin.write("go\n")
        popen.stdin.flush()
    results = []
    for i, popen in enumerate(senders):
        line = popen.stdout.readline()
        if not line.startswith("DONE "):
            raise BenchError(f"sender {i} failed:\n{(tmp / f'sender-{i}.log').read_text()[-3000:]}")
        results.append(json.loads(line[5:]))
    senders_done = time.time()
    messages = call(s, "GET", fake_url + "_fake/messages", 200).json()["messages"]
    used = CpuMeter.delta(before, cpu.snapshot())
    mine = [m for m in messages if m["template_id"] == TEMPLATE]
    recipients = {m["touser"] for m in mine}
    expected = {f"obench{g:010d}" for g in range(1, args.notify_residents + 1)}
    if len(mine) != len(expected) or recipients != expected:
        raise BenchError(f"the fake received {len(mine)} messages for {len(recipients)} residents; "
                         f"expected one each for {len(expected)}")
    with psycopg.connect(database_url) as conn:
        outbox = dict(conn.execute("SELECT status, count(*) FROM outbox_messages GROUP BY status").fetchall())
        inbox = conn.execute("SELECT count(*) FROM notifications").fetchone()[0]
    if outbox != {"sent": len(expected)}:
        raise BenchError(f"outbox not empty: {outbox}")
    last = max(m["sent_at"] for m in mine)
    first = min(m["sent_at"] for m in mine)
    sender_cpu = sum(used[f"sender{i}"] for i in range(len(senders)))
    out = {"residents": args.notify_residents, "messages": len(mine), "inbox": inbox, "senders": len(senders),
           "announce_s": announced - started, "delivered_s": last - started, "first_s": first - started,
           "send_s": last - announced, "senders_done_s": senders_done - started, "notified": body.get("notified"),
           "wechat": body.get("wechat"), "batches": sum(r["batches"] for r in results),
           "cpu": {"app": used["app"], "senders": sender_cpu, "fake": used["fake"], "postgres": used["postgres"],
                   "others_share": used["others_share"], "busy_share": used["busy_share"]}}
    log(f"notifications: announcement {out['announce_s']:.2f} s, {len(mine):,} messages at the fake "
        f"{out['delivered_s']:.2f} s after the announcement started")
    return out


# -- report -----------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def command_line(args) -> str:
    parts = [".venv/bin/python", "bench/community.py"]
    defaults = build_parser().parse_args([])
    for name in ("estates", "residents", "orders", "duration", "rounds", "connections", "workers", "worker_class",
                 "threads", "wrk_threads", "tokens", "hot_posts", "notify_residents", "senders", "pg", "redis"):
        value = getattr(args, name)
        if value != getattr(defaults, name):
            parts += [f"--{name.replace('_', '-')}", str(value)]
    if args.no_limiter:
        parts.append("--no-limiter")
    if args.coverers:
        parts += ["--coverers", ",".join(map(str, args.coverers))]
    return shlex.join(parts)


def targets_of(result: dict) -> list[str]:
    r, n = result["read"], result["notify"]
    out = []
    for name, label in (("feed", "feed"), ("ranking", "ranking")):
        ratio, p99 = r[f"{name}_ratio"], r["median"][name]["p99_us"] / 1000
        out.append(f"{label} >= {TARGET_READ_RATIO:.0%} of bare Flask: {verdict(ratio >= TARGET_READ_RATIO)} "
                   f"({ratio:.0%})")
        out.append(f"{label} p99 < {TARGET_READ_P99_MS:.0f} ms at {result['connections']} connections: "
                   f"{verdict(p99 < TARGET_READ_P99_MS)} ({p99:.1f} ms)")
    out.append(f"{n['residents']:,} notifications delivered in < {TARGET_NOTIFY_S:.0f} s: "
               f"{verdict(n['delivered_s'] < TARGET_NOTIFY_S)} ({n['delivered_s']:.2f} s)")
    return out


def _cpu_text(c: dict) -> str:
    return (f"gunicorn {c['server']:.2f} ms, PostgreSQL {c['postgres']:.2f} ms, wrk {c['wrk']:.2f} ms "
            f"(others {c['others_share']:.0%} of the machine, all together {c['busy_share']:.0%})")


def report_lines(result: dict, markdown: bool) -> list[str]:
    m, r, n, rb, sd = result["machine"], result["read"], result["notify"], result["rebuild"], result["seed"]
    rows = [("bare Flask `GET /json`", "bare"), ("`GET /api/v1/estates/{id}/feed`", "feed"),
            ("`GET /api/v1/estates/{id}/engineers`", "ranking")]
    c = sd["counts"]
    data = (f"{c['estates']:,} estates, {c['engineers']:,} engineers ({c['engineer_estates']:,} coverages), "
            f"{c['residencies']:,} residents, {c['service_orders']:,} service orders over 3 years, "
            f"{c['engineer_likes']:,} engineer likes, {c['estate_posts']:,} feed posts ({result['hot_posts']} in "
            f"each readers' estate); seeded in {sd['seconds']:.0f} s by set-based SQL, VACUUM ANALYZE "
            f"{result['vacuum_s']:.0f} s")
    rebuild = (f"`flask community rebuild-stats`: **{rb['wall_s']:.1f} s** wall time (whole command) for "
               f"{rb['rows']['engineer_estate_stats']:,} engineer-estate rows, {rb['rows']['engineer_estate_days']:,} "
               f"engineer-days, {rb['rows']['estate_month_stats']:,} estate-months")
    nc = n["cpu"]
    notify = (f"Visit announced to an estate of {n['residents']:,} residents with quota, {n['senders']} warm sender "
              f"processes (`send_due`, batches of 100, {n['batches']} batches): the announcement request took "
              f"{n['announce_s']:.2f} s ({n['inbox']:,} inbox rows, {n['wechat']:,} outbox rows in one transaction); "
              f"the fake WeChat had all **{n['messages']:,} messages {n['delivered_s']:.2f} s** after the "
              f"announcement started (first at {n['first_s']:.2f} s). CPU meanwhile: app {nc['app']:.1f} s, senders "
              f"{nc['senders']:.1f} s, fake WeChat {nc['fake']:.1f} s, PostgreSQL {nc['postgres']:.1f} s; other "
              f"processes {nc['others_share']:.0%} of the machine (all together {nc['busy_share']:.0%})")
    if markdown:
        out = [f"Run of {result['date']} UTC: `{result['command']}`", "",
               f"Machine: {m['nproc']} CPUs ({m['cpu']}), PostgreSQL {m['postgres']} (shared_buffers "
               f"{result['pg']['shared_buffers']}, work_mem {result['pg']['work_mem']}), Python {m['python']}, "
               f"Flask {m['flask']}, gunicorn {m['gunicorn']} with {m['workers']} {m['worker_class']} workers, "
               f"{r['wrk']}; load average {m['loadavg_start'][0]:.2f} at the start, "
               f"{result['loadavg_end'][0]:.2f} at the end.", "",
               f"Data: {data}.", "", rebuild + ".", "",
               f"Reads: wrk {result['wrk_args']}, {len(r['rounds']['bare'])} alternating rounds of "
               f"{result['duration']} s, {r['tokens']} residents each reading their own estate; the round with the "
               f"median req/s.", "",
               "| endpoint | req/s | of bare | latency p50 ms | latency p99 ms | server p50 ms | server p99 ms |",
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for label, name in rows:
            s = r["median"][name]
            ratio = "" if name == "bare" else f"{r[name + '_ratio']:.0%}"
            out.append(f"| {label} | {s['rps_median']:.0f} | {ratio} | {s['p50_us'] / 1000:.1f} | "
                       f"{s['p99_us'] / 1000:.1f} | {s['server_p50_ms']:.2f} | {s['server_p99_ms']:.2f} |")
        out += ["", "CPU per request: " + "; ".join(f"{name}: {_cpu_text(r['median'][name]['cpu'])}"
                                                    for _, name in rows) + ".", "", notify + ".", "",
                "Targets: " + "; ".join(targets_of(result)) + "."]
        return out
    width = 40
    out = ["", "=" * 84, f"Estate community benchmark, {result['date']} UTC",
           f"machine: {m['nproc']} CPUs, {m['cpu']}, PostgreSQL {m['postgres']}, load average "
           f"{m['loadavg_start'][0]:.2f} at the start, {result['loadavg_end'][0]:.2f} at the end",
           f"server: gunicorn {m['gunicorn']}, {m['workers']} {m['worker_class']} workers", "",
           f"data: {data}", rebuild.replace("**", "").replace("`", ""), "",
           f"reads: wrk {result['wrk_args']}, {len(r['rounds']['bare'])} rounds x {result['duration']} s, "
           f"alternating (median round shown)",
           f"{'':<{width}}{'req/s':>8}{'ratio':>7}{'p50 ms':>8}{'p99 ms':>8}{'srv p50':>8}{'srv p99':>8}"]
    for label, name in rows:
        s = r["median"][name]
        ratio = "" if name == "bare" else f"{r[name + '_ratio']:.0%}"
        out.append(f"{label.replace('`', ''):<{width}}{s['rps_median']:>8.0f}{ratio:>7}{s['p50_us'] / 1000:>8.1f}"
                   f"{s['p99_us'] / 1000:>8.1f}{s['server_p50_ms']:>8.2f}{s['server_p99_ms']:>8.2f}")
    for _, name in rows:
        out.append(f"  {name} req/s by round: " + ", ".join(f"{x['rps']:.0f}" for x in r["rounds"][name]))
    out += [f"CPU per request, {name}: {_cpu_text(r['median'][name]['cpu'])}" for _, name in rows]
    out += ["", notify.replace("**", "").replace("`", ""), ""]
    out += [f"target {t}" for t in targets_of(result)]
    out += ["", f"command: {result['command']}", "=" * 84]
    return out


def write_readme(result: dict) -> None:
    text = README.read_text() if README.exists() else ""
    if README_START not in text or README_END not in text:
        log(f"{README} has no community.py results markers; not written")
        return
    head, rest = text.split(README_START, 1)
    old, tail_text = rest.split(README_END, 1)
    history = [line for line in old.splitlines() if re.match(r"^\| \d{4}-\d\d-\d\d", line)]
    r, n, c = result["read"], result["notify"], result["seed"]["counts"]
    row = (f"| {result['date']} | {c['estates']:,} | {c['residencies']:,} | {c['service_orders']:,} | "
           f"{r['median']['feed']['rps_median']:.0f} | {r['median']['ranking']['rps_median']:.0f} | "
           f"{r['median']['bare']['rps_median']:.0f} | {r['median']['feed']['p99_us'] / 1000:.1f} ms | "
           f"{r['median']['ranking']['p99_us'] / 1000:.1f} ms | {n['delivered_s']:.2f} | "
           f"{result['rebuild']['wall_s']:.1f} | {r['median']['feed']['cpu']['others_share']:.0%} |")
    history = [row] + history[:HISTORY_KEEP - 1]
    block = ["", *report_lines(result, markdown=True), "", "Recent runs, newest first (the machine is shared: "
             "compare runs, not single figures; *others* is the CPU share other people's processes took during "
             "the median feed round):", "", HISTORY_HEADER, "| --- |" + " ---: |" * 11, *history, ""]
    README.write_text(head + README_START + "\n".join(block) + "\n" + README_END + tail_text)
    log(f"figures written to {README.relative_to(ROOT)}")


# -- main -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    cpus = len(os.sched_getaffinity(0))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--estates", type=int, default=ISSUE_SIZES["estates"], help="estates (3 engineers each)")
    p.add_argument("--residents", type=int, default=ISSUE_SIZES["residents"], help="residents (users)")
    p.add_argument("--orders", type=int, default=ISSUE_SIZES["orders"], help="service orders over 3 years")
    p.add_argument("--notify-residents", type=int, default=5000,
                   help="residents of estate 1, each with a WeChat identity and quota: the notification test")
    p.add_argument("--hot-posts", type=int, default=300, help="feed posts in each estate the readers live in")
    p.add_argument("--tokens", type=int, default=16, help="readers: one resident in each of estates 1..N")
    p.add_argument("--senders", type=int, default=4, help="sender processes running send_due in parallel")
    p.add_argument("--workers", type=int, default=2 * cpus + 1, help="gunicorn workers (both servers)")
    p.add_argument("--worker-class", default="sync", choices=("sync", "gthread"), help="gunicorn worker class")
    p.add_argument("--threads", type=int, default=4, help="threads per worker with --worker-class gthread")
    p.add_argument("--duration", type=int, default=10, help="seconds of each wrk round")
    p.add_argument("--rounds", type=int, default=3, help="wrk rounds per endpoint (alternating bare, feed, ranking)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections")
    p.add_argument("--wrk-threads", type=int, default=2, help="wrk threads")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                   help="PostgreSQL server (any database on it) where the benchmark database is created")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="rate-limit storage")
    p.add_argument("--no-limiter", action="store_true", help="RATELIMIT_ENABLED=false instead of high limits")
    p.add_argument("--coverers", type=lambda v: [int(x) for x in v.split(",")], default=[],
                   help="only the ranking read, of estates covered by this many more engineers each "
                        "(e.g. 10,100,1000,10000): one wrk round per size, no feed, bare Flask or notifications")
    p.add_argument("--no-readme", action="store_true", help="do not write the figures into bench/README.md")
    p.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with the server logs")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.estates < max(args.tokens, 3) + 1 or args.residents < args.notify_residents + 20 * args.estates:
        raise SystemExit("need more estates than --tokens, and at least --notify-residents + 20 x --estates residents")
    if args.coverers and args.estates - len(args.coverers) <= args.tokens:
        raise SystemExit("--coverers needs an estate of its own for each size, beyond the --tokens readers' estates")

    def interrupted(signum, frame):
        raise Interrupted(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    tmp = Path(tempfile.mkdtemp(prefix="linli-bench-community-"))
    procs = Processes()
    failed = True
    try:
        ensure_wrk()
        with fresh_database(args.pg) as (database_url, database, pg_settings):
            machine = machine_info(pg_settings["server_version"], args)
            fake_port = free_port()
            (tmp / "instance").mkdir()
            env = app_env(args, database_url, f"http://127.0.0.1:{fake_port}/", tmp / "instance")
            env["WECHAT_APPID"] = APPID
            try:
                log("flask db upgrade")
                result = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                                        capture_output=True, text=True, timeout=600)
                if result.returncode != 0:
                    raise BenchError(f"flask db upgrade failed:\n{result.stdout}\n{result.stderr}")
                seeded = seed(args, database_url)
                covered = seed_coverers(args, database_url) if args.coverers else []
                rebuild = rebuild_stats(env, database_url)
                vacuum_s = vacuum_analyze(database_url)
                stack = start_stack(args, procs, env, tmp, fake_port, database)
                if covered:  # the ranking by coverers only
                    rows = ranking_by_coverers(args, stack, covered, seeded["readers"][0][2], tmp)
                    print("\n".join(coverers_report(args, rows)))
                    failed = False
                    return 0
                register_s = register_openids(stack["fake_url"], args.notify_residents)
                read = read_throughput(args, stack, seeded["readers"], tmp)
                notify = notify_estate(args, procs, env, stack, seeded["engineer_token"], database_url, tmp)
            finally:
                procs.stop_all()
        result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                  "command": command_line(args), "machine": machine, "pg": pg_settings, "seed": seeded,
                  "rebuild": rebuild, "vacuum_s": vacuum_s, "register_s": register_s, "read": read,
                  "notify": notify, "duration": args.duration, "connections": args.connections,
                  "hot_posts": args.hot_posts, "wrk_args": f"-t{args.wrk_threads} -c{args.connections}",
                  "loadavg_end": os.getloadavg()}
        result["seed"] = {k: v for k, v in seeded.items() if k not in ("readers", "engineer_token")}
        print("\n".join(report_lines(result, markdown=False)))
        (tmp / "result.json").write_text(json.dumps(result, indent=2, default=str))
        full = all(getattr(args, k) >= v for k, v in ISSUE_SIZES.items()) and args.duration >= 10
        if args.no_readme or not full:
            log("bench/README.md not written (--no-readme, or smaller than the issue's sizes)")
        else:
            write_readme(result)
        failed = False
        return 0
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({type(exc).__name__} {exc}); cleaned up")
        return 130
    finally:
        procs.stop_all()
        if args.keep_logs or failed:
            log(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
