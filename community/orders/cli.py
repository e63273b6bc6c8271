"""`flask community import-orders FILE.csv` (years of service history) and `flask community
rebuild-stats` (rankings and KPIs recomputed from the orders)."""
from __future__ import annotations

import csv
import io
import os
import sys
import time

import click
from flask.cli import AppGroup

from community.orders import services
from core.csvimport import CountingReader, format_fields, printable
from core.errors import ValidationFailed
from core.extensions import db

MAX_BATCH_SIZE = 5000
EXIT_NOT_RUN = 2  # the file cannot be imported (bad rows are reported and the rest imported: exit 0)

community_cli = AppGroup("community", help="小区社区：服务单历史导入与统计。")


@community_cli.command("import-orders")
@click.argument("path", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH_SIZE), default=1000, show_default=True,
              help="每批写入并提交的行数。")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="文件编码（GBK 文件请用 gb18030）。")
def import_orders_command(path, batch_size, encoding):
    """导入服务系统的历史服务单（按 external_id 幂等，错误行按行号报告且不中断）。

    列：external_id,estate_id,engineer_employee_no,resident_phone,service_type,requested_at,
    completed_at,rating,complained；可选 model_code,serial（所服务的产品，找不到则忽略）；时间为
    ISO 8601（不带时区视为北京时间），rating 与 completed_at 可为空，complained 为 0/1。
    """
    raw = open(path, "rb")
    counting = CountingReader(raw)
    text = io.TextIOWrapper(io.BufferedReader(counting, 1 << 16), encoding=encoding, newline="")
    reader = csv.DictReader(text)
    missing = [c for c in services.COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        click.echo(f"表头缺少列：{', '.join(missing)}", err=True)
        sys.exit(EXIT_NOT_RUN)
    totals = {"read": 0, "inserted": 0, "skipped": 0, "bad": 0}
    started = time.monotonic()

    def bad(line: int, external_id: str, message: str) -> None:
        totals["bad"] += 1
        click.echo(f"\r\x1b[2K第 {line} 行（{printable(external_id)[:64]}）：{message}", err=True)

    def flush(batch: list[tuple[int, dict]]) -> None:
        inserted, refused = services.import_orders([row for _, row in batch])
        db.session.commit()
        for index, message in refused.items():
            bad(batch[index][0], batch[index][1]["external_id"], message)
        totals["inserted"] += len(inserted)
        totals["skipped"] += len(batch) - len(inserted) - len(refused)

    with click.progressbar(length=os.path.getsize(path), label="导入服务单", file=sys.stderr) as bar:
        batch: list[tuple[int, dict]] = []
        done = 0
        for record in reader:
            totals["read"] += 1
            line = reader.line_num
            try:
                batch.append((line, services.clean_row(record)))
            except ValidationFailed as exc:
                bad(line, record.get("external_id") or "", format_fields(exc.details["fields"], services.COLUMNS))
            if len(batch) >= batch_size:
                flush(batch)
                batch = []
                bar.update(counting.count - done)
                done = counting.count
        if batch:
            flush(batch)
        bar.update(counting.count - done)
    raw.close()
    click.echo(f"读取 {totals['read']} 行：新增 {totals['inserted']}，已存在跳过 {totals['skipped']}，"
               f"错误 {totals['bad']}（{time.monotonic() - started:.1f} 秒）")


@community_cli.command("rebuild-stats")
def rebuild_stats_command():
    """从服务单与点赞重算工程师排名与小区月度统计（应与增量结果一致）。"""
    started = time.monotonic()
    counts = services.rebuild_stats()
    db.session.commit()
    click.echo(f"已重算：工程师-小区 {counts['engineer_estate_stats']} 行，日统计 {counts['engineer_estate_days']} 行，"
               f"小区月度 {counts['estate_month_stats']} 行（{time.monotonic() - started:.1f} 秒）")


COMMANDS = [community_cli]
