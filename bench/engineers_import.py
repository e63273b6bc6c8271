"""Benchmark `flask engineers import` on SQLite and on PostgreSQL (docs/estates-import.md, "Engineers").

    python bench/engineers_import.py                          # 20,000 engineers, both databases
    python bench/engineers_import.py --rows 100000 --databases postgresql

For each database it makes a fresh one (as bench/estates_import.py does), migrates it, imports
--estates estates (`flask estates import`), then runs `flask engineers import` three times as a
child process on the same generated file of --rows engineers with one to three estate codes each:
into an empty table (creates), the same file again (nothing changes), and a file where every
tenth engineer has a new phone and other estates (updates). It prints rows/s of each run.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.estates_import import FLASK, PostgresDatabase, SQLiteDatabase, child_env, run_child  # noqa: E402


def write_files(rows: int, estates: int, workdir: Path) -> tuple[Path, Path, Path]:
    rng = random.Random(14)
    estates_csv = workdir / f"estates-{estates}.csv"
    with open(estates_csv, "w", encoding="utf-8") as out:
        out.write("code,name,province,city,district\n")
        for n in range(estates):
            out.write(f"BE{n:06d},测试小区{n},广东省,深圳市,南山区\n")
    first, changed = workdir / f"engineers-{rows}.csv", workdir / f"engineers-{rows}-changed.csv"
    with open(first, "w", encoding="utf-8") as a, open(changed, "w", encoding="utf-8") as b:
        for out in (a, b):
            out.write("employee_no,name,phone,estate_codes\n")
        for n in range(rows):
            codes = ";".join(f"BE{rng.randrange(estates):06d}" for _ in range(rng.randint(1, 3)))
            a.write(f"BENCH{n:07d},工程师{n},139{n:08d},{codes}\n")
            if n % 10 == 0:
                codes = "|".join(f"BE{rng.randrange(estates):06d}" for _ in range(rng.randint(1, 3)))
                b.write(f"BENCH{n:07d},工程师{n},137{n:08d},{codes}\n")
            else:
                b.write(f"BENCH{n:07d},工程师{n},139{n:08d},{codes}\n")
    return estates_csv, first, changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--estates", type=int, default=5_000)
    parser.add_argument("--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "engineers-import")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    estates_csv, first, changed = write_files(args.rows, args.estates, args.workdir)
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"{args.rows:,} engineers over {args.estates:,} estates")
    table = []
    for name in args.databases:
        db = SQLiteDatabase(args.workdir, args.rows) if name == "sqlite" else PostgresDatabase(args.pg_url)
        with db as url:
            env = child_env(url, args.workdir)
            run_child([FLASK, "--app", "wsgi", "db", "upgrade"], env, args.workdir / "migrate.log")
            run_child([FLASK, "--app", "wsgi", "estates", "import", str(estates_csv)], env, args.workdir / "estates.log")
            for label, path in (("create", first), ("unchanged", first), ("update 10%", changed)):
                run = run_child([FLASK, "--app", "wsgi", "engineers", "import", str(path)], env,
                                args.workdir / f"import-{name}-{label.split()[0]}.log")
                own = re.search(r"用时：([\d.]+) 秒", run["output"])
                counts = dict(re.findall(r"(新增|更新|未变|错误行)：([\d,]+)", run["output"]))
                seconds = float(own.group(1)) if own else run["wall"]
                table.append((db.name, label, seconds, run["wall"], counts))
                print(f"  {db.name:<10} {label:<10} import {seconds:5.1f} s ({args.rows / seconds:8,.0f} rows/s), "
                      f"process {run['wall']:5.1f} s, {counts}", flush=True)
    print("\n| database | pass | import time | rows/s | whole command | created / updated / unchanged / bad |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for db_name, label, seconds, wall, c in table:
        print(f"| {db_name} | {label} | {seconds:.1f} s | {args.rows / seconds:,.0f} | {wall:.1f} s "
              f"| {c.get('新增')} / {c.get('更新')} / {c.get('未变')} / {c.get('错误行')} |")
    print("\nreproduce:", shlex.join([sys.executable, "bench/engineers_import.py", "--rows", str(args.rows),
                                      "--estates", str(args.estates), "--databases", *args.databases]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
