"""Ambassador level evaluation benchmark: the daily job over 200,000 ambassadors on PostgreSQL.

    .venv/bin/python bench/levels.py [--ambassadors 200000] [--batch-size 1000]

Everything happens in a fresh PostgreSQL database (unique name) on --pg, dropped at the end
(also on Ctrl-C and errors):

1. the schema from the app's migrations (`flask_migrate.upgrade()`; it seeds the three levels
   trainee 0 / silver 500 / gold 2000 contribution points in the 90-day window);
2. setup, not measured, by set-based SQL: --ambassadors users and ambassadors, each at a random
   level (so the job both promotes and demotes), 2% suspended, 1% pinned by an admin override;
   a third of the silver and gold ones already below their threshold since 20 days (past the
   14-day grace: they are demoted if still below), the others not; a contribution history of
   each ambassador active on a random 5–60 of the last 180 Shanghai days with random points per
   day (each ambassador has their own intensity, so window sums spread over every level); the
   level-scope leaderboard rows of that history (what the job moves on a level change);
   a copy of every ambassador's state before the run; VACUUM ANALYZE;
3. the measured run: a new process (its own interpreter, so its peak RSS is the job's) builds
   the app and runs the real job `evaluate-ambassador-levels` through `core.scheduler.run_job`
   (`ambassador.levels.jobs.evaluate_levels` → `ambassador.levels.services.evaluate_all`, committing batch by
   batch): wall time, peak RSS (resource.getrusage) before and after, SQL statements, and what
   the job reports (evaluated, promotions, demotions, rows read);
4. checks: an independent SQL computation of every ambassador's expected level from the copy
   made before the run must match the result exactly, every change has its level-change row, and
   the standings moved; then the job runs again (same day) and must change nothing.

Figures are printed with the command that reproduces them and written into bench/README.md
(runs with fewer than 100,000 ambassadors, or --no-readme, leave it alone).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import multiprocessing as mp
import os
import platform
import re
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

README = ROOT / "bench" / "README.md"
ALL_CHECKED = ("every level matches an independent SQL evaluation, every change has its level-change row, "
               "no standing left behind")
README_START = "<!-- levels.py results: start (written by bench/levels.py) -->"
README_END = "<!-- levels.py results: end -->"
HISTORY_HEADER = "| date (UTC) | ambassadors | batch | wall s | peak RSS MiB | promoted | demoted | rows read | re-run s |"
HISTORY_KEEP = 6
TARGET_SECONDS = 60
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
CITIES = ["上海市", "北京市", "深圳市", "广州市", "杭州市", "南京市", "成都市", "武汉市", "西安市", "苏州市",
          "天津市", "重庆市", "长沙市", "郑州市", "青岛市", "宁波市", "合肥市", "佛山市", "东莞市", "无锡市"]


class BenchError(RuntimeError):
    """The benchmark cannot go on, or what it measured is wrong."""


class Interrupted(BaseException):
    """SIGTERM/SIGHUP: unwind through the finally blocks like Ctrl-C does."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the database -----------------------------------------------------------------------------

@contextlib.contextmanager
def fresh_database(admin_url: str):
    """A new database on the server of `admin_url`, dropped at the end whatever happens."""
    name = f"linli_bench_levels_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        settings = {key: conn.execute(f"SHOW {key}").fetchone()[0] for key in
                    ("server_version", "fsync", "synchronous_commit", "shared_buffers", "work_mem")}
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"created database {name}")
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path="/" + name)), settings
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped database {name}")


def app_config(database_url: str) -> dict:
    from core.config import normalise_database_url
    return {"SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url), "SECRET_KEY": SECRET_KEY,
            "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://", "LOG_LEVEL": "WARNING"}


SEED_SQL = [
    ("users", """INSERT INTO users (display_name, roles, status, created_at)
                 SELECT 'bench ' || g, 'resident', 'active', %(now)s FROM generate_series(1, %(n)s) g"""),
    # Level by position 1-3 at random; 2% suspended; a third of those above the entry level
    # already below their threshold since 20 days (the grace is over for them), 1% pinned.
    ("ambassadors", """INSERT INTO ambassadors (user_id, level_id, status, channel, real_name, phone, city,
                        invite_code, contribution_total, window_contribution, below_since, level_pinned_until,
                        joined_at, updated_at)
                 SELECT u.id, l.id, CASE WHEN r.s < 0.02 THEN 'suspended' ELSE 'active' END, 'member',
                        '代言人' || u.id, '139' || lpad(u.id::text, 8, '0'), (%(cities)s::text[])[1 + u.id %% 20],
                        'B' || upper(to_hex(u.id)), 0, 0,
                        CASE WHEN r.pos > 1 AND r.b < 0.33 THEN %(below)s END,
                        CASE WHEN r.p < 0.01 THEN %(pinned)s END, %(now)s, %(now)s
                 FROM users u
                 CROSS JOIN LATERAL (SELECT 1 + floor(random() * 3)::int + 0 * u.id AS pos, random() AS s,
                                            random() AS b, random() AS p) r
                 JOIN ambassador_levels l ON l.position = r.pos ORDER BY u.id"""),
    # Active on 5-60 random days of the last 180; points per day up to twice the ambassador's
    # own intensity (0-250, skewed low): window sums from 0 to well past the gold threshold.
    ("ambassador_contributions", """INSERT INTO ambassador_contributions (user_id, day, points)
                 SELECT a.user_id, d.day, sum(greatest(1, (random() * a.intensity * 2)::int))
                 FROM (SELECT user_id, 5 + floor(random() * 56)::int AS days, random() * random() * 250 AS intensity
                       FROM ambassadors) a
                 CROSS JOIN LATERAL (SELECT %(today)s::date - (floor(random() * 180) + 0 * a.user_id)::int AS day
                                     FROM generate_series(1, a.days)) d
                 GROUP BY a.user_id, d.day ORDER BY a.user_id, d.day"""),
    ("ambassadors (contribution_total)", """UPDATE ambassadors a SET contribution_total = c.total
                 FROM (SELECT user_id, sum(points) AS total FROM ambassador_contributions GROUP BY user_id) c
                 WHERE c.user_id = a.user_id"""),
    # The level-scope leaderboard rows (all time, each month, each quarter) of that history;
    # the secondary indexes are built after the rows (the same indexes as the migration's).
    ("ambassador_standings (drop rank index)", "DROP INDEX ix_ambassador_standings_rank"),
    ("ambassador_standings (drop user index)", "DROP INDEX ix_ambassador_standings_user"),
    ("ambassador_standings", """INSERT INTO ambassador_standings (scope, period, user_id, points)
                 SELECT 'level:' || a.level_id, p.period, c.user_id, sum(c.points)
                 FROM ambassador_contributions c JOIN ambassadors a ON a.user_id = c.user_id
                 CROSS JOIN LATERAL (VALUES ('all'), (to_char(c.day, 'YYYY-MM')),
                                            (to_char(c.day, 'YYYY') || 'Q' || to_char(c.day, 'Q'))) p(period)
                 GROUP BY a.level_id, p.period, c.user_id"""),
    ("ambassador_standings (rank index)", """CREATE INDEX ix_ambassador_standings_rank
                 ON ambassador_standings (scope, period, points, user_id)"""),
    ("ambassador_standings (user index)", """CREATE INDEX ix_ambassador_standings_user
                 ON ambassador_standings (user_id, scope)"""),
    ("bench_before", """CREATE TABLE bench_before AS
                 SELECT user_id, level_id, status, below_since, level_pinned_until FROM ambassadors"""),
]


def migrate_and_seed(args, database_url: str, now: datetime.datetime) -> dict:
    from flask_migrate import upgrade

    from core import create_app
    from core.extensions import db
    from core.formatting import BUSINESS_TZ

    app = create_app(app_config(database_url))
    with app.app_context():
        started = time.monotonic()
        upgrade()
        log(f"migrations applied in {time.monotonic() - started:.1f} s")
        db.engine.dispose()
    naive = now.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    params = {"n": args.ambassadors, "now": naive, "today": now.astimezone(BUSINESS_TZ).date(),
              "below": naive - datetime.timedelta(days=20), "pinned": naive + datetime.timedelta(days=7),
              "cities": CITIES}
    started = time.monotonic()
    counts = {}
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT setseed(%s)", (args.seed,))
        for table, sql in SEED_SQL:
            step = time.monotonic()
            counts[table] = conn.execute(sql, params if "%(" in sql else None).rowcount
            log(f"{table}: {counts[table]:,} rows in {time.monotonic() - step:.1f} s")
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        levels = conn.execute("SELECT position, code, threshold FROM ambassador_levels ORDER BY position").fetchall()
    log(f"seeded and vacuumed in {time.monotonic() - started:.1f} s")
    return {"counts": counts, "levels": levels, "seed_s": time.monotonic() - started}


# -- the measured run -------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (here: the job's PostgreSQL backend)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


def _job_process(database_url: str, batch_size: int, now_iso: str, results) -> None:
    """In a fresh interpreter: build the app, run the real job once through the job runner."""
    import sqlalchemy as sa

    from ambassador.levels import jobs, services as levels
    from core import create_app, scheduler
    from core.extensions import db

    # One pooled connection: its PostgreSQL backend is the job's, and its CPU time is read from /proc.
    app = create_app({**app_config(database_url),
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}})
    now = datetime.datetime.fromisoformat(now_iso)
    statements = {"n": 0}
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *a, **k: statements.__setitem__("n", statements["n"] + 1))
        backend = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()  # connect before measuring
        db.session.rollback()
    # The job as scheduled, with the run's `now` pinned (the seed is relative to it) and the
    # batch size of the command line.
    job = scheduler.Job("evaluate-ambassador-levels", lambda: levels.evaluate_all(
        now=now, batch_size=batch_size, after_batch=db.session.commit).as_dict())
    assert any(j.name == job.name and j.func is jobs.evaluate_levels for j in scheduler.all_jobs())
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before, pg_before, busy_before = time.process_time(), cpu_seconds(backend), machine_busy()
    started = time.monotonic()
    outcome = scheduler.run_job(app, job)
    wall = time.monotonic() - started
    busy_after = machine_busy()
    results.put({"wall_s": wall, "cpu_s": time.process_time() - cpu_before,
                 "pg_cpu_s": (cpu_seconds(backend) or 0) - (pg_before or 0),
                 "machine_cpu_s": busy_after[0] - busy_before[0], "machine_total_s": busy_after[1] - busy_before[1],
                 "statements": statements["n"],
                 "rss_before_kib": rss_before, "rss_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                 "result": outcome})


def run_job_in_process(database_url: str, batch_size: int, now: datetime.datetime) -> dict:
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    process = ctx.Process(target=_job_process, args=(database_url, batch_size, now.isoformat(), results))
    process.start()
    try:
        outcome = results.get(timeout=1800)
    except BaseException:  # Ctrl-C, SIGTERM, a timeout: the job process goes too
        process.terminate()
        process.join(10)
        raise
    process.join(60)
    if process.exitcode != 0:
        raise BenchError(f"the job process exited with {process.exitcode}")
    return outcome


def time_leaderboards(database_url: str, now: datetime.datetime, samples: int) -> dict:
    """`levels.leaderboard(scope=level)` for random active ambassadors: top 20 and own rank."""
    import sqlalchemy as sa

    from ambassador.levels import services as levels
    from core import create_app
    from core.extensions import db

    app = create_app(app_config(database_url))
    timings: dict[str, list[float]] = {"all": [], "month": []}
    with app.app_context():
        user_ids = db.session.scalars(sa.text("SELECT user_id FROM ambassadors WHERE status = 'active' "
                                              "ORDER BY random() LIMIT :n"), {"n": samples}).all()
        for period in timings:
            for user_id in user_ids:
                started = time.perf_counter()
                board = levels.leaderboard(user_id, "level", period, now=now)
                timings[period].append(time.perf_counter() - started)
                db.session.rollback()
                if len(board.items) != 20 and period == "all":
                    raise BenchError(f"a level leaderboard of {len(board.items)} rows")
        db.engine.dispose()
    result = {}
    for period, values in timings.items():
        values.sort()
        result[period] = {"p50": values[len(values) // 2] * 1000,
                          "p99": values[max(0, -(-len(values) * 99 // 100) - 1)] * 1000}
    return result


# -- checks -----------------------------------------------------------------------------------

EXPECTED_SQL = """
WITH w AS (
  SELECT b.user_id, b.level_id, b.below_since, coalesce(sum(c.points), 0) AS win
  FROM bench_before b
  LEFT JOIN ambassador_contributions c ON c.user_id = b.user_id AND c.day BETWEEN %(first)s AND %(today)s
  WHERE b.status = 'active' AND (b.level_pinned_until IS NULL OR b.level_pinned_until <= %(now)s)
  GROUP BY b.user_id, b.level_id, b.below_since
), t AS (
  SELECT w.*, cur.position AS cur_pos, cur.threshold AS cur_threshold,
         coalesce((SELECT l.id FROM ambassador_levels l WHERE l.threshold <= w.win ORDER BY l.position DESC LIMIT 1),
                  (SELECT l.id FROM ambassador_levels l ORDER BY l.position LIMIT 1)) AS target_id
  FROM w JOIN ambassador_levels cur ON cur.id = w.level_id
), e AS (
  SELECT t.user_id, t.win,
         CASE WHEN tl.position > t.cur_pos THEN t.target_id
              WHEN t.win >= t.cur_threshold OR tl.position = t.cur_pos THEN t.level_id
              WHEN t.below_since IS NOT NULL
                   AND (%(today)s::date - (t.below_since AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Shanghai')::date) >= %(grace)s
                   THEN t.target_id
              ELSE t.level_id END AS expected_level
  FROM t JOIN ambassador_levels tl ON tl.id = t.target_id
)
SELECT count(*) FILTER (WHERE a.level_id <> e.expected_level) AS wrong_level,
       count(*) FILTER (WHERE a.window_contribution <> e.win) AS wrong_window,
       count(*) FILTER (WHERE a.evaluated_at IS NULL) AS not_evaluated,
       count(*) AS evaluated
FROM e JOIN ambassadors a ON a.user_id = e.user_id
"""


def check(database_url: str, now: datetime.datetime, result: dict, window_days: int, grace_days: int) -> dict:
    from core.formatting import BUSINESS_TZ
    today = now.astimezone(BUSINESS_TZ).date()
    params = {"today": today, "first": today - datetime.timedelta(days=window_days - 1), "grace": grace_days,
              "now": now.astimezone(datetime.timezone.utc).replace(tzinfo=None)}
    with psycopg.connect(database_url) as conn:
        wrong_level, wrong_window, not_evaluated, evaluated = conn.execute(EXPECTED_SQL, params).fetchone()
        changes = dict(conn.execute("SELECT kind, count(*) FROM ambassador_level_changes GROUP BY kind").fetchall())
        untouched = conn.execute("""SELECT count(*) FROM bench_before b JOIN ambassadors a USING (user_id)
                                    WHERE (b.status <> 'active' OR b.level_pinned_until > %(now)s)
                                      AND (a.level_id <> b.level_id OR a.evaluated_at IS NOT NULL)""",
                                 params).fetchone()[0]
        stray = conn.execute("""SELECT count(*) FROM ambassador_standings s JOIN ambassadors a USING (user_id)
                                WHERE s.scope LIKE 'level:%%' AND s.scope <> 'level:' || a.level_id""").fetchone()[0]
    problems = []
    if wrong_level or wrong_window or not_evaluated:
        problems.append(f"{wrong_level} wrong levels, {wrong_window} wrong windows, {not_evaluated} not evaluated")
    if evaluated != result["evaluated"]:
        problems.append(f"the job evaluated {result['evaluated']}, expected {evaluated}")
    if changes.get("promote", 0) != result["promoted"] or changes.get("demote", 0) != result["demoted"]:
        problems.append(f"level changes {changes} do not match the job's counts")
    if untouched:
        problems.append(f"{untouched} suspended or pinned ambassadors were evaluated")
    if stray:
        problems.append(f"{stray} level standings left in a level the ambassador is no longer at")
    return {"expected_evaluated": evaluated, "changes": changes, "problems": problems}


# -- reporting --------------------------------------------------------------------------------

def code_version() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "ambassador", "core", "migrations"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' with uncommitted changes in ambassador/core/migrations' if dirty else ''}"


def machine_info(settings: dict) -> dict:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": model, "settings": settings,
            "python": platform.python_version(), "sqlalchemy": importlib.metadata.version("sqlalchemy"),
            "psycopg": importlib.metadata.version("psycopg"),
            "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
            "loadavg_start": os.getloadavg(), "code": code_version()}


def command_line(args) -> str:
    parts = [".venv/bin/python", "bench/levels.py", "--ambassadors", str(args.ambassadors)]
    defaults = build_parser().parse_args([])
    for name in ("batch_size", "seed", "pg", "leaderboards"):
        if getattr(args, name) != getattr(defaults, name):
            parts += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    return shlex.join(parts)


def report_lines(r: dict) -> list[str]:
    run, again, m, job = r["run"], r["rerun"], r["machine"], r["run"]["result"]
    s = m["settings"]
    verdict = "met" if run["wall_s"] < TARGET_SECONDS else "MISSED"
    own = run["cpu_s"] + run["pg_cpu_s"]
    others = max(0.0, run["machine_cpu_s"] - own)
    return [
        f"Run of {r['date']} UTC: `{r['command']}`",
        "",
        f"Code: commit {m['code']}. Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']:.0f} GiB, PostgreSQL "
        f"{s['server_version']} (fsync {s['fsync']}, synchronous_commit {s['synchronous_commit']}, shared_buffers "
        f"{s['shared_buffers']}, work_mem {s['work_mem']}), Python {m['python']}, SQLAlchemy {m['sqlalchemy']}, "
        f"psycopg {m['psycopg']}; load average {m['loadavg_start'][0]:.2f} at the start, {r['loadavg_end'][0]:.2f} "
        f"at the end.",
        "",
        f"Data: {r['seed']['counts']['ambassadors']:,} ambassadors ({r['check']['expected_evaluated']:,} active and "
        f"unpinned), {r['seed']['counts']['ambassador_contributions']:,} contribution days, "
        f"{r['seed']['counts']['ambassador_standings']:,} level leaderboard rows; seeded in {r['seed']['seed_s']:.0f} s.",
        "",
        "| run | wall s | CPU s: job process | CPU s: its PostgreSQL backend | machine busy (all processes) "
        "| peak RSS MiB (before → after) | evaluated | promoted | demoted "
        "| newly below | recovered | batches | ambassador rows | contribution rows | SQL statements |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[f"| {name} | {x['wall_s']:.1f} | {x['cpu_s']:.1f} | {x['pg_cpu_s']:.1f} | "
          f"{x['machine_cpu_s'] / max(x['machine_total_s'], 1e-9):.0%} | {x['rss_before_kib'] / 1024:.0f} → "
          f"{x['rss_peak_kib'] / 1024:.0f} | {x['result']['evaluated']:,} | {x['result']['promoted']:,} | "
          f"{x['result']['demoted']:,} | {x['result']['newly_below']:,} | {x['result']['recovered']:,} | "
          f"{x['result']['batches']:,} | {x['result']['ambassadors_read']:,} | "
          f"{x['result']['contribution_rows_read']:,} | {x['statements']:,} |"
          for name, x in (("first run", run), ("re-run, same day", again))],
        "",
        f"Target < {TARGET_SECONDS} s: **{verdict}** ({run['wall_s']:.1f} s, "
        f"{job['evaluated'] / max(run['wall_s'], 1e-9):,.0f} ambassadors/s). Checks: "
        f"{'; '.join(r['check']['problems']) or ALL_CHECKED}. "
        f"CPU: the job process and its PostgreSQL backend used {own:.1f} CPU seconds in {run['wall_s']:.1f} s; "
        f"other processes used {others:.1f} CPU seconds of the machine's {run['machine_total_s']:.0f} meanwhile "
        f"(the machine is shared), so the job waited for a CPU or the disk (commits) the rest of the time. "
        f"The re-run changed {again['result']['promoted'] + again['result']['demoted'] + again['result']['newly_below']} "
        f"ambassadors (must be 0).",
        *([] if not r.get("leaderboards") else [
            "",
            f"Leaderboard reads afterwards (`levels.leaderboard(scope=\"level\")`, top 20 and the caller's rank, "
            f"{r['leaderboard_samples']} random active ambassadors, about {r['ambassadors'] // 3:,} per level): "
            + ", ".join(f"period {p}: p50 {v['p50']:.1f} ms, p99 {v['p99']:.1f} ms" for p, v in r["leaderboards"].items())
            + "."]),
    ]


def write_readme(r: dict) -> None:
    text = README.read_text() if README.exists() else ""
    if README_START not in text or README_END not in text:
        log(f"{README} has no levels results markers; not written")
        return
    head, rest = text.split(README_START, 1)
    old, tail_text = rest.split(README_END, 1)
    history = [line for line in old.splitlines() if re.match(r"^\| \d{4}-\d\d-\d\d", line)]
    run = r["run"]
    row = (f"| {r['date']} | {r['ambassadors']:,} | {r['batch_size']} | {run['wall_s']:.1f} | "
           f"{run['rss_peak_kib'] / 1024:.0f} | {run['result']['promoted']:,} | {run['result']['demoted']:,} | "
           f"{run['result']['ambassadors_read'] + run['result']['contribution_rows_read']:,} | "
           f"{r['rerun']['wall_s']:.1f} |")
    history = [row] + history[:HISTORY_KEEP - 1]
    block = ["", *report_lines(r), "", "Recent runs, newest first (the machine is shared: compare runs, not single "
             "figures):", "", HISTORY_HEADER, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
             *history, ""]
    README.write_text(head + README_START + "\n".join(block) + "\n" + README_END + tail_text)
    log(f"figures written to {README.relative_to(ROOT)}")


# -- main -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--ambassadors", type=int, default=200_000, help="ambassadors with a contribution history")
    p.add_argument("--batch-size", type=int, default=1000, help="ambassadors per batch (the job's own is 1000)")
    p.add_argument("--seed", type=float, default=0.42, help="PostgreSQL setseed() for the generated data")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                   help="PostgreSQL server (any database on it) where the benchmark database is created")
    p.add_argument("--leaderboards", type=int, default=200,
                   help="level leaderboards read afterwards (top 20 and own rank), for their latency (0: none)")
    p.add_argument("--no-readme", action="store_true", help="do not write the figures into bench/README.md")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.ambassadors < 1 or args.batch_size < 1 or not -1 <= args.seed <= 1:
        raise SystemExit("--ambassadors and --batch-size must be positive, --seed in [-1, 1]")

    def interrupted(signum, frame):
        raise Interrupted(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    instance = tempfile.TemporaryDirectory(prefix="linli-bench-levels-")
    os.environ.update({"LINLI_ENV": "development", "SECRET_KEY": SECRET_KEY, "LINLI_INSTANCE_DIR": instance.name,
                       "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": "false"})
    try:
        from core.config import load_config
        config = load_config()
        window_days, grace_days = config["AMBASSADOR_WINDOW_DAYS"], config["AMBASSADOR_DEMOTION_GRACE_DAYS"]
        now = datetime.datetime.now(datetime.timezone.utc)
        with fresh_database(args.pg) as (database_url, settings):
            machine = machine_info(settings)
            seed = migrate_and_seed(args, database_url, now)
            log(f"running the job over {args.ambassadors:,} ambassadors, batches of {args.batch_size}")
            run = run_job_in_process(database_url, args.batch_size, now)
            log(f"  {run['wall_s']:.1f} s, peak RSS {run['rss_peak_kib'] / 1024:.0f} MiB: {run['result']}")
            checked = check(database_url, now, run["result"], window_days, grace_days)
            log("running it again (same day: must change nothing)")
            rerun = run_job_in_process(database_url, args.batch_size, now + datetime.timedelta(minutes=1))
            log(f"  {rerun['wall_s']:.1f} s: {rerun['result']}")
            boards = time_leaderboards(database_url, now, args.leaderboards) if args.leaderboards else {}
            rerun_changes = rerun["result"]["promoted"] + rerun["result"]["demoted"] + rerun["result"]["newly_below"]
            if rerun_changes:
                checked["problems"].append(f"the re-run changed {rerun_changes} ambassadors")
        result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                  "command": command_line(args), "machine": machine, "seed": seed, "run": run, "rerun": rerun,
                  "check": checked, "leaderboards": boards, "loadavg_end": os.getloadavg(), "ambassadors": args.ambassadors,
                  "batch_size": args.batch_size, "leaderboard_samples": args.leaderboards}
        print("\n".join(report_lines(result)))
        if checked["problems"]:
            log("FAILED: " + "; ".join(checked["problems"]))
            return 1
        if args.no_readme or args.ambassadors < 100_000:
            log("bench/README.md not written (--no-readme or fewer than 100,000 ambassadors)")
        else:
            write_readme(result)
        return 0
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
