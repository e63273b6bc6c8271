"""Benchmark `flask estates import` on SQLite and on PostgreSQL (docs/estates-import.md).

    python bench/estates_import.py                       # 100,000 and 500,000 rows, both databases
    python bench/estates_import.py --rows 500000 --databases postgresql

For each size it generates the CSV once (bench/gen_estates.py, kept under --workdir), and for
each database makes a fresh one (a new SQLite file; on PostgreSQL a new database it creates and
drops), migrates it, then runs the import twice as a child process: into the empty table
(inserts) and again with the same file (updates). Each run reports wall time, rows/s and the
peak RSS of the import process (ru_maxrss from os.wait4 on that one child), next to the RSS of
the same command that only loads the app (`flask estates --help`), and checks the stored count.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gen_estates import generate  # noqa: E402

FLASK = str(Path(sys.executable).with_name("flask"))


def run_child(args: list[str], env: dict, log: Path) -> dict:
    """Run one child process; its wall time, CPU time and peak RSS (MiB), from wait4 on that child alone."""
    with open(log, "w") as out:
        started = time.monotonic()
        child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text()
    if child.returncode not in (0, 1):
        raise SystemExit(f"{shlex.join(args)} failed ({child.returncode}):\n{output[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024,
            "output": output, "exit": child.returncode}


def child_env(database_url: str, workdir: Path) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, LINLI_INSTANCE_DIR=str(workdir / "instance"), LOG_LEVEL="WARNING")
    return env


class SQLiteDatabase:
    name = "SQLite"

    def __init__(self, workdir: Path, rows: int):
        self.path = workdir / f"bench-{rows}.db"

    def __enter__(self) -> str:
        self._remove()
        return f"sqlite:///{self.path}"

    def __exit__(self, *exc):
        self._remove()

    def _remove(self):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


class PostgresDatabase:
    name = "PostgreSQL"

    def __init__(self, admin_url: str):
        import psycopg
        self.admin = psycopg.connect(admin_url, autocommit=True)
        self.db = f"linli_bench_{uuid.uuid4().hex[:10]}"
        self.url = urlunsplit(urlsplit(admin_url)._replace(path="/" + self.db))

    def __enter__(self) -> str:
        self.admin.execute(f'CREATE DATABASE "{self.db}"')
        return self.url

    def __exit__(self, *exc):
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        self.admin.close()


def count_estates(database_url: str) -> int:
    import sqlalchemy as sa

    from core.config import normalise_database_url
    engine = sa.create_engine(normalise_database_url(database_url), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        count = conn.scalar(sa.text("SELECT count(*) FROM estates"))
    engine.dispose()
    return count


def csv_for(rows: int, workdir: Path) -> tuple[Path, dict]:
    path = workdir / f"estates-{rows}.csv"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path, json.loads(meta.read_text())
    print(f"generating {path} …", flush=True)
    stats = generate(rows, str(path))
    meta.write_text(json.dumps(stats))
    return path, stats


def bench_one(db, rows: int, path: Path, stats: dict, workdir: Path, batch_size: int, reimport: bool) -> list[dict]:
    results = []
    with db as url:
        env = child_env(url, workdir)
        run_child([FLASK, "--app", "wsgi", "db", "upgrade"], env, workdir / "migrate.log")
        baseline = run_child([FLASK, "--app", "wsgi", "estates", "--help"], env, workdir / "baseline.log")
        command = [FLASK, "--app", "wsgi", "estates", "import", str(path), "--batch-size", str(batch_size),
                   "--errors", str(workdir / f"errors-{rows}.csv")]
        for label in ("insert", "update") if reimport else ("insert",):
            run = run_child(command, env, workdir / f"import-{db.name}-{rows}-{label}.log")
            stored = count_estates(url)
            if stored != stats["estates"]:
                raise SystemExit(f"{db.name}: {stored} estates stored, expected {stats['estates']}\n{run['output']}")
            own = re.search(r"用时：([\d.]+) 秒", run["output"])
            results.append({"database": db.name, "rows": rows, "pass": label, "wall": run["wall"], "cpu": run["cpu"],
                            "import_s": float(own.group(1)) if own else None,
                            "rss_mib": run["rss_mib"], "baseline_rss_mib": baseline["rss_mib"],
                            "bad": stats["bad_rows"], "stored": stored})
            print(f"  {db.name:<10} {rows:>8,} {label:<6} wall {run['wall']:6.1f} s  cpu {run['cpu']:6.1f} s  "
                  f"{rows / run['wall']:8,.0f} rows/s  peak RSS {run['rss_mib']:6.1f} MiB "
                  f"(app alone {baseline['rss_mib']:.1f})  load {os.getloadavg()[0]:.1f}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 500_000])
    parser.add_argument("--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL URL allowed to CREATE DATABASE (the bench database is made beside it)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "estates-import")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--no-reimport", dest="reimport", action="store_false",
                        help="skip the second run of each file (all updates)")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)

    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f}")
    results = []
    for rows in args.rows:
        path, stats = csv_for(rows, args.workdir)
        print(f"{path.name}: {path.stat().st_size / 2**20:.1f} MiB, {stats}", flush=True)
        for name in args.databases:
            db = SQLiteDatabase(args.workdir, rows) if name == "sqlite" else PostgresDatabase(args.pg_url)
            results.extend(bench_one(db, rows, path, stats, args.workdir, args.batch_size, args.reimport))

    # "wall" is the whole child process (app start-up ~2-3 s included); "import" is the command's own
    # timer; "CPU" is the import process's user+system time (not the database server's), which
    # varies less than wall time on a busy machine.
    print("\n| database | rows | pass | wall time | rows/s (wall) | import time | rows/s (import) | CPU | peak RSS "
          "| app alone |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        own, own_rate = (f"{r['import_s']:.1f} s", f"{r['rows'] / r['import_s']:,.0f}") if r["import_s"] else ("?", "?")
        print(f"| {r['database']} | {r['rows']:,} | {r['pass']} | {r['wall']:.1f} s | {r['rows'] / r['wall']:,.0f} "
              f"| {own} | {own_rate} | {r['cpu']:.1f} s | {r['rss_mib']:.0f} MiB | {r['baseline_rss_mib']:.0f} MiB |")
    print("\nreproduce:", shlex.join([sys.executable, "bench/estates_import.py", "--rows", *map(str, args.rows),
                                      "--databases", *args.databases]))
    print("one import by hand:", f"DATABASE_URL=<url> /usr/bin/time -v {FLASK} --app wsgi estates import "
                                 f"{args.workdir / f'estates-{args.rows[-1]}.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
