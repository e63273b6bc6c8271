"""`flask products import-models FILE.csv` (the catalogue) and `flask products import FILE.csv`
(the manufacturer's installed base: hundreds of thousands of appliances).

Both stream the file through csv.reader and write in batches, one commit per batch, so memory
stays flat whatever the file's size: only the current batch is ever held. Bad rows are reported
by line number with the reason and skipped; running a file again changes nothing.
"""
from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from community.products import services
from core import audit
from core.csvimport import UNDECODABLE, format_fields, printable
from core.errors import ValidationFailed
from core.extensions import db

MAX_BATCH_SIZE = 5000
FIELD_SIZE_LIMIT = 10_000  # no valid field is longer: a stray quote costs a few lines, not thousands
SNIFF_BYTES = 64 * 1024
EXIT_NOT_RUN = 2  # the file cannot be imported (bad rows are reported and the rest imported: exit 0)
MODEL_COLUMNS = ("code", "name", "category", "warranty_months", "active")
MODEL_REQUIRED = ("code", "name", "category")

products_cli = AppGroup("products", help="产品档案：型号目录与产品批量导入。")


class ImportAborted(Exception):
    """The import cannot run (or go on): the message is shown to the operator."""


class ErrorReport:
    """Bad rows to stderr (the first `shown` of them) and, with --errors, all of them to a CSV file."""

    def __init__(self, shown: int, path: str | None):
        self.shown, self.count, self.path, self.file, self.writer = shown, 0, path, None, None
        self.over_progress_bar = False
        if path:
            try:
                self.file = open(path, "w", encoding="utf-8-sig", newline="")
            except OSError as exc:
                raise ImportAborted(f"无法写入错误文件 {path}：{exc.strerror or exc}") from None
            self.writer = csv.writer(self.file)
            self.writer.writerow(["line", "key", "error"])

    def add(self, line: int, key: str, error: str) -> None:
        self.count += 1
        key, error = printable(key or "")[:100], printable(error)
        if self.writer:
            self.writer.writerow([line, key, error])
        if self.count <= self.shown:
            clear = "\r\x1b[2K" if self.over_progress_bar else ""
            click.echo(f"{clear}第 {line} 行（{key}）：{error}" if key else f"{clear}第 {line} 行：{error}", err=True)

    def close(self) -> None:
        if self.file:
            self.file.close()
        if self.count > self.shown:
            rest = f"……另有 {self.count - self.shown:,} 行错误未显示"
            click.echo(rest + (f"，全部错误见 {self.path}" if self.path else "，加 --errors FILE 可导出全部错误"), err=True)


@contextmanager
def _open_csv(path: str, encoding: str):
    """The file as csv records, after checking the encoding of its start (nothing is written
    when --encoding is wrong); yields (reader, raw binary file, size)."""
    try:
        encoding = codecs.lookup(encoding).name
    except LookupError:
        raise ImportAborted(f"不支持的编码：{encoding}") from None
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise ImportAborted(f"文件不存在：{path}") from None
    except OSError as exc:
        raise ImportAborted(f"无法打开文件 {path}：{exc.strerror or exc}") from None
    old_limit = csv.field_size_limit(FIELD_SIZE_LIMIT)
    try:
        head = raw.read(SNIFF_BYTES)
        raw.seek(0)
        try:
            codecs.getincrementaldecoder(encoding)("strict").decode(head, final=len(head) < SNIFF_BYTES)
        except UnicodeDecodeError as exc:
            line = head.count(b"\n", 0, exc.start) + 1
            hint = "；GBK/GB18030 文件请加 --encoding gb18030" if encoding.startswith("utf") else ""
            raise ImportAborted(f"第 {line} 行不是有效的 {encoding} 编码{hint}") from None
        text = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
        yield csv.reader(text), raw, os.fstat(raw.fileno()).st_size
    finally:
        csv.field_size_limit(old_limit)
        raw.close()


def _header(reader, columns: tuple[str, ...], required: tuple[str, ...]) -> tuple[dict[str, int], int]:
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportAborted(f"无法读取表头：{exc}") from None
    if not header:
        raise ImportAborted("文件为空，或第 1 行不是表头")
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        name = name.strip().lstrip("\ufeff").strip().lower()
        if name in columns:
            if name in index:
                raise ImportAborted(f"表头中的列 {name} 重复")
            index[name] = i
    missing = [name for name in required if name not in index]
    if missing:
        raise ImportAborted(f"缺少必需的列：{', '.join(missing)}（表头须包含 {','.join(required)}）")
    return index, len(header)


def _records(reader, index: dict[str, int], width: int, report: ErrorReport, key: str):
    """(line, {column: text}) per good record; CSV errors, wrong widths and undecodable bytes go
    to the report. Lines are the file's physical lines (header = 1)."""
    iterator, previous = iter(reader), reader.line_num
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except csv.Error as exc:
            report.add(previous + 1, "", f"CSV 格式错误：{exc}")
            previous = reader.line_num
            continue
        line, previous = previous + 1, reader.line_num
        if not any(field.strip() for field in row):
            continue  # blank lines
        name = row[index[key]] if index[key] < len(row) else ""
        if len(row) != width:
            report.add(line, name, f"列数不符：表头 {width} 列，本行 {len(row)} 列")
            continue
        data = {column: row[i] for column, i in index.items()}
        if UNDECODABLE.search("".join(data.values())):
            report.add(line, name, "含有无法解码的字节（请检查 --encoding）")
            continue
        yield line, data


@contextmanager
def _progress(size: int, report: ErrorReport, label: str):
    """A progress bar over the bytes read, on a terminal only (quiet in pipes, logs and tests)."""
    if not sys.stderr.isatty() or size == 0:
        yield lambda n: None
        return
    with click.progressbar(length=size, label=label, file=sys.stderr) as bar:
        report.over_progress_bar = True
        try:
            yield bar.update
        finally:
            report.over_progress_bar = False


def _report(shown: int, path: str | None) -> ErrorReport:
    try:
        return ErrorReport(shown, path)
    except ImportAborted as exc:
        click.echo(f"错误：{exc}", err=True)
        raise SystemExit(EXIT_NOT_RUN) from None


def _run(work, report: ErrorReport):
    try:
        return work()
    except ImportAborted as exc:
        db.session.rollback()
        click.echo(f"错误：{exc}", err=True)
        raise SystemExit(EXIT_NOT_RUN) from None
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        click.echo(f"错误：数据库出错，导入中止：{reason}。已提交的批次保留，修复后重新导入同一文件即可（不会重复）", err=True)
        raise SystemExit(EXIT_NOT_RUN) from None
    finally:
        report.close()


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
    report = _report(show_errors, errors_path)
    totals = {"read": 0, "inserted": 0, "updated": 0, "unchanged": 0, "bad": 0}

    def work():
        with _open_csv(path, encoding) as (reader, _, _):
            index, width = _header(reader, MODEL_COLUMNS, MODEL_REQUIRED)
            rows: dict[str, dict] = {}
            for line, data in _records(reader, index, width, report, "code"):
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

    _run(work, report)
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
    report = _report(show_errors, errors_path)
    totals = Totals()

    def work():
        with _open_csv(path, encoding) as (reader, raw, size):
            index, width = _header(reader, services.IMPORT_COLUMNS, services.IMPORT_REQUIRED)
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

            with _progress(size, report, "导入产品") as advance:
                position = 0
                for line, data in _records(reader, index, width, report, "serial"):
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

    _run(work, report)
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
