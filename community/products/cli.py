"""`flask products import-models FILE.csv` (the catalogue) and `flask products import FILE.csv`
(the manufacturer's installed base: hundreds of thousands of appliances).

Both stream the file through csv.reader and write in batches, one commit per batch, so memory
stays flat whatever the file's size: only the current batch is ever held. Bad rows are reported
by line number with the reason and skipped; running a file again changes nothing.
"""
from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass

import click
from flask.cli import AppGroup

from community.products import services
from core import audit
from core.csvimport import error_report, format_fields, open_csv, progress, read_header, records, run
from core.errors import ValidationFailed
from core.extensions import db

MAX_BATCH_SIZE = 5000
MODEL_COLUMNS = ("code", "name", "category", "warranty_months", "active")
MODEL_REQUIRED = ("code", "name", "category")

products_cli = AppGroup("products", help="产品档案：型号目录与产品批量导入。")


# -- the catalogue ------------------------------------------------------------------------------


@products_cli.command("import-models")
@click.argument("path", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--encoding", default="utf-8-sig", show_default=True, help="文件编码（GBK 文件请用 gb18030）。")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False), default=None,
              help="把所有错误行写入此 CSV 文件（列：line,key,error）。")
@click.option("--show-errors", type=click.IntRange(0), default=20, show_default=True, help="终端最多显示的错误行数。")
def import_models_command(path, encoding, errors_path, show_errors):
    """从 CSV 导入产品型号（按型号编码新增或更新，重复导入不产生变化）。

    表头须包含 code,name,category；可选 warranty_months（默认 12）、active（1/0，默认 1）。
    category 可写英文键（water_purifier）或中文名（净水器）。同一文件中重复的编码以最后一行为准。
    """
    started = time.monotonic()
    report = error_report(show_errors, errors_path)
    totals = {"read": 0, "inserted": 0, "updated": 0, "unchanged": 0, "bad": 0}

    def work():
        with open_csv(path, encoding) as (reader, _, _):
            index, width = read_header(reader, MODEL_COLUMNS, MODEL_REQUIRED)
            rows: dict[str, dict] = {}
            for line, data in records(reader, index, width, report, "code"):
                totals["read"] += 1
                try:
                    row = services.clean_model(data)
                except ValidationFailed as exc:
                    report.add(line, data["code"], format_fields(exc.details["fields"], MODEL_COLUMNS))
                    continue
                rows[row["code"]] = row
            for start in range(0, len(rows), 500):
                counts = services.import_models(list(rows.values())[start:start + 500])
                for name, value in counts.items():
                    totals[name] += value
            audit.record(None, "product_model.import", "product_model_file", os.path.basename(path)[:64],
                         after={**totals, "bad": report.count})
            db.session.commit()

    run(work, report)
    totals["bad"] = report.count
    click.echo(f"导入完成：{path}\n  读取数据行：{totals['read']:,}\n  新增：{totals['inserted']:,}\n"
               f"  更新：{totals['updated']:,}\n  未变：{totals['unchanged']:,}\n  错误行：{totals['bad']:,}\n"
               f"  用时：{time.monotonic() - started:.1f} 秒")


# -- the installed base ---------------------------------------------------------------------------


@dataclass
class Totals:
    read: int = 0
    inserted: int = 0
    skipped: int = 0
    conflicts: int = 0
    schedules: int = 0
    bad: int = 0


@products_cli.command("import")
@click.argument("path", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--encoding", default="utf-8-sig", show_default=True, help="文件编码（GBK 文件请用 gb18030）。")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH_SIZE), default=1000, show_default=True,
              help="每批写入并提交的行数。")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False), default=None,
              help="把所有错误行写入此 CSV 文件（列：line,key,error；UTF-8 带 BOM）。")
@click.option("--show-errors", type=click.IntRange(0), default=20, show_default=True, help="终端最多显示的错误行数。")
def import_command(path, encoding, batch_size, errors_path, show_errors):
    """从 CSV 批量导入产品档案（厂家安装记录），并为每件产品排定保养计划。

    表头须包含 model_code,serial,owner_phone；可选 install_date,purchase_date（YYYY-MM-DD，
    不晚于今天）、estate_code、address、engineer_employee_no、external_id。业主按手机号匹配用户
    （没有则保留手机号，用户确认该手机号后自动归属）。同一型号的序列号已属于同一业主则跳过；
    属于其他业主则生成一条序列号冲突交客服核实（重复导入不会重复生成）。错误行按行号报告并跳过。
    """
    started = time.monotonic()
    report = error_report(show_errors, errors_path)
    totals = Totals()

    def work():
        with open_csv(path, encoding) as (reader, raw, size):
            index, width = read_header(reader, services.IMPORT_COLUMNS, services.IMPORT_REQUIRED)
            catalogue, on = services.ImportCatalogue(), services.today()
            batch: list[tuple[int, dict]] = []

            def flush():
                outcome = services.import_products([row for _, row in batch], catalogue, on=on)
                db.session.commit()
                db.session.expunge_all()  # nothing of a written batch stays in memory
                for i, message in outcome.refused.items():
                    report.add(batch[i][0], batch[i][1]["serial"], message)
                totals.inserted += outcome.inserted
                totals.skipped += outcome.skipped
                totals.conflicts += outcome.conflicts
                totals.schedules += outcome.schedules
                batch.clear()

            with progress(size, report, "导入产品") as advance:
                position = 0
                for line, data in records(reader, index, width, report, "serial"):
                    totals.read += 1
                    try:
                        batch.append((line, services.clean_import_row(data, on=on)))
                    except ValidationFailed as exc:
                        report.add(line, data.get("serial", ""),
                                   format_fields(exc.details["fields"], services.IMPORT_COLUMNS))
                    if len(batch) >= batch_size:
                        flush()
                        advance(raw.tell() - position)
                        position = raw.tell()
                if batch:
                    flush()
                advance(size - position)
        totals.bad = report.count
        audit.record(None, "product.import", "product_file", os.path.basename(path)[:64],
                     after={**dataclasses.asdict(totals), "seconds": round(time.monotonic() - started, 1)})
        db.session.commit()

    run(work, report)
    totals.bad = report.count
    elapsed = time.monotonic() - started
    rate = totals.read / elapsed if elapsed > 0 else 0.0
    click.echo("\n".join([
        f"导入完成：{path}",
        f"  读取数据行：{totals.read:,}",
        f"  新增产品：{totals.inserted:,}（保养排期 {totals.schedules:,} 条）",
        f"  已登记跳过：{totals.skipped:,}",
        f"  新增序列号冲突：{totals.conflicts:,}",
        f"  错误行：{totals.bad:,}",
        f"  用时：{elapsed:.1f} 秒，{rate:,.0f} 行/秒",
    ]))


COMMANDS = [products_cli]
