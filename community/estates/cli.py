"""`flask estates import FILE.csv`: the bulk import of the manufacturer's estate list (docs/estates-import.md).

The file is streamed through csv.reader and written in batches through
community.estates.services.upsert_estates, one commit per batch, so memory stays flat whatever the
file size: only the current batch and the error report's first lines are ever held.
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

from community.estates import services
from community.estates.models import Estate
from core import audit
from core.csvimport import UNDECODABLE, csv_writer, format_fields, printable
from core.errors import ValidationFailed
from core.extensions import db

REQUIRED_COLUMNS = ("code", "name", "province", "city", "district")
OPTIONAL_COLUMNS = ("address", "lat", "lng", "households", "status")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# The existence check binds one parameter per code (SQLite allows 32,766); past ~1,000 rows a
# batch is no faster (measured, docs/estates-import.md) and only holds its locks longer.
MAX_BATCH_SIZE = 5000
# No valid field is longer than 255 characters; a small limit makes a stray opening quote
# (which swallows the lines after it into one field) cost a few dozen lines, not thousands.
FIELD_SIZE_LIMIT = 10_000
SNIFF_BYTES = 64 * 1024

EXIT_BAD_ROWS, EXIT_NOT_RUN = 1, 2  # 0: the import ran (bad rows, if any, were reported)

estates = AppGroup("estates", help="小区数据管理。")


class ImportAborted(Exception):
    """The import cannot run (or go on): the message is shown to the operator."""


@dataclass
class Stats:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    superseded: int = 0
    bad: int = 0


class ErrorReport:
    """Streams bad rows to stderr (the first `shown` of them) and to an optional CSV file."""

    def __init__(self, shown: int, path: str | None):
        self.shown = shown
        self.count = 0
        self.path = path
        self.file = None
        self.over_progress_bar = False  # set while a progress bar is drawn on the terminal
        self.writer = None
        if path:
            try:
                self.file = open(path, "w", encoding="utf-8-sig", newline="")
            except OSError as exc:
                raise ImportAborted(f"无法写入错误文件 {path}：{exc.strerror or exc}") from None
            self.writer = csv_writer(self.file)  # a code like =HYPERLINK(...) stays text
            self.writer.writerow(["line", "code", "error"])

    def add(self, line: int, code: str | None, error: str) -> None:
        self.count += 1
        code = printable(code or "")[:100]
        error = printable(error)
        if self.writer:
            self.writer.writerow([line, code, error])
        if self.count <= self.shown:
            clear = "\r\x1b[2K" if self.over_progress_bar else ""  # the bar redraws below the message
            click.echo(f"{clear}第 {line} 行：{error}", err=True)

    def close(self) -> None:
        if self.file:
            self.file.close()


@estates.command("import")
@click.argument("path", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--encoding", default="utf-8-sig", show_default=True,
              help="文件编码；默认 UTF-8（可带 BOM），GBK/GB18030 文件请用 gb18030。")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH_SIZE), default=1000, show_default=True,
              help="每批写入并提交的行数。")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False), default=None,
              help="把所有错误行写入此 CSV 文件（列：line,code,error；UTF-8 带 BOM）。")
@click.option("--show-errors", type=click.IntRange(0), default=20, show_default=True,
              help="终端最多显示的错误行数。")
@click.option("--dry-run", is_flag=True, help="只校验，不写入数据库。")
@click.option("--strict", is_flag=True, help="有任何错误行时以退出码 1 结束（数据照常导入）。")
def import_command(path, encoding, batch_size, errors_path, show_errors, dry_run, strict):
    """从 CSV 文件批量导入小区（按 code 新增或更新）。

    表头须包含 code,name,province,city,district；可选 address,lat,lng,households,status；
    其他列忽略。退出码：0 导入完成（错误行已报告），1 使用 --strict 且有错误行，2 无法导入。
    """
    started = time.monotonic()
    report = stats = None
    try:
        report = ErrorReport(show_errors, errors_path)
        stats = run_import(path, encoding=encoding, batch_size=batch_size, dry_run=dry_run, report=report)
    except ImportAborted as exc:
        db.session.rollback()
        click.echo(f"错误：{exc}", err=True)
        if stats is None and report is not None and report.count:
            click.echo(f"（中止前已报告 {report.count} 行错误）", err=True)
        raise SystemExit(EXIT_NOT_RUN) from None
    finally:
        if report is not None:
            report.close()
    elapsed = time.monotonic() - started
    if not dry_run:  # one audit row per run, not per estate
        audit.record(None, "estate.import", "estate_file", os.path.basename(path)[:64],
                     after={**dataclasses.asdict(stats), "seconds": round(elapsed, 1)})
        db.session.commit()
    if report.count > report.shown:
        rest = f"……另有 {report.count - report.shown:,} 行错误未显示"
        click.echo(rest + (f"，全部错误见 {errors_path}" if errors_path else "，加 --errors FILE 可导出全部错误"),
                   err=True)
    _print_summary(path, stats, elapsed, dry_run)
    if strict and stats.bad:
        raise SystemExit(EXIT_BAD_ROWS)


def _print_summary(path: str, stats: Stats, elapsed: float, dry_run: bool) -> None:
    rate = stats.read / elapsed if elapsed > 0 else 0.0
    title = f"试运行完成（未写入任何数据）：{path}" if dry_run else f"导入完成：{path}"
    verb = "将" if dry_run else ""
    lines = [
        title,
        f"  读取数据行：{stats.read:,}",
        f"  {verb}新增：{stats.inserted:,}",
        f"  {verb}更新：{stats.updated:,}",
        f"  同批重复编码（以后一行为准）：{stats.superseded:,}",
        f"  错误行：{stats.bad:,}",
        f"  用时：{elapsed:.1f} 秒，{rate:,.0f} 行/秒",
    ]
    click.echo("\n".join(lines))


def run_import(path: str, *, encoding: str, batch_size: int, dry_run: bool, report: ErrorReport) -> Stats:
    """Stream the file, validate each row, upsert in batches; bad rows go to `report`."""
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
    with raw, _field_size_limit(FIELD_SIZE_LIMIT):
        size = os.fstat(raw.fileno()).st_size
        _check_encoding(raw, encoding)
        text = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
        reader = csv.reader(text)
        index, width = _read_header(reader)
        importer = _Batches(index, width, batch_size, dry_run, report, encoding)
        try:
            with _progress(size, report) as advance:
                position = 0
                for line, end, row, error in _records(reader):
                    importer.add(line, end, row, error)
                    if importer.full():
                        importer.flush()
                        now = raw.tell()
                        advance(now - position)
                        position = now
                importer.flush()
                advance(size - position)
        except sa.exc.SQLAlchemyError as exc:
            db.session.rollback()
            done = importer.stats.inserted + importer.stats.updated
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise ImportAborted(f"数据库出错，导入中止：{reason}。此前已提交 {done:,} 行，"
                                "修复后重新导入同一文件即可（已导入的行会被更新而不会重复）") from None
        return importer.stats


def _check_encoding(raw, encoding: str) -> None:
    """Refuse a file whose start does not decode, before anything is written (wrong --encoding)."""
    head = raw.read(SNIFF_BYTES)
    raw.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        decoder.decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError as exc:
        line = head.count(b"\n", 0, exc.start) + 1
        hint = "；GBK/GB18030 文件请加 --encoding gb18030" if encoding.startswith("utf") else ""
        raise ImportAborted(f"第 {line} 行不是有效的 {encoding} 编码{hint}") from None


def _read_header(reader) -> tuple[dict[str, int], int]:
    """The position of each known column, and the number of columns every row must have."""
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportAborted(f"无法读取表头：{exc}") from None
    if not header:
        raise ImportAborted("文件为空，或第 1 行不是表头")
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        name = name.strip().lstrip("\ufeff").strip().lower()
        if name in COLUMNS:
            if name in index:
                raise ImportAborted(f"表头中的列 {name} 重复")
            index[name] = i
    missing = [name for name in REQUIRED_COLUMNS if name not in index]
    if missing:
        raise ImportAborted(f"缺少必需的列：{', '.join(missing)}（表头须包含 {','.join(REQUIRED_COLUMNS)}）")
    return index, len(header)


def _records(reader):
    """Yield (first line, last line, fields, csv error) per record; line numbers are the file's
    physical lines (header = 1), so a quoted newline inside a field does not shift them."""
    iterator = iter(reader)
    previous = reader.line_num
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader drops the rest of the offending line and carries on with the next one.
            yield previous + 1, reader.line_num, None, str(exc)
            previous = reader.line_num
            continue
        line, previous = previous + 1, reader.line_num
        if any(field.strip() for field in row):  # blank lines and all-empty rows (",,,,") are skipped
            yield line, previous, row, None


@contextmanager
def _field_size_limit(limit: int):
    old = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(old)


@contextmanager
def _progress(size: int, report: ErrorReport):
    """A progress bar over the bytes read, on a terminal only (quiet in pipes, logs and tests)."""
    if not sys.stderr.isatty() or size == 0:
        yield lambda n: None
        return
    with click.progressbar(length=size, label="导入中", file=sys.stderr) as bar:
        report.over_progress_bar = True
        try:
            yield bar.update
        finally:
            report.over_progress_bar = False


class _Batches:
    """Collects valid rows by code (last wins within a batch) and upserts them a batch at a time."""

    def __init__(self, index: dict[str, int], width: int, size: int, dry_run: bool, report: ErrorReport,
                 encoding: str):
        self.index = index
        self.width = width
        # Only the file's columns are overwritten on update (community.estates.services.upsert_estates).
        self.present = tuple(name for name in COLUMNS if name in index)
        self.size = size
        self.dry_run = dry_run
        self.report = report
        self.encoding = encoding
        self.stats = Stats()
        self.rows: dict[str, tuple[int, dict]] = {}

    def add(self, line: int, end: int, row: list[str] | None, error: str | None) -> None:
        self.stats.read += 1
        spans = f"（该记录跨第 {line}–{end} 行）" if end > line else ""
        if row is None:
            return self.bad(line, None, f"CSV 格式错误：{error}{spans}")
        code_at = self.index["code"]
        raw_code = row[code_at] if code_at < len(row) else ""
        if len(row) != self.width:
            return self.bad(line, raw_code, f"列数不符：表头 {self.width} 列，本行 {len(row)} 列{spans}")
        data = {name: row[self.index[name]] for name in self.present}
        if UNDECODABLE.search("".join(data.values())):
            return self.bad(line, raw_code, f"含有无法按 {self.encoding} 解码的字节")
        fields = {}
        try:
            clean = services.clean_estate(data)
        except ValidationFailed as exc:
            fields = dict(exc.details.get("fields") or {"row": [exc.message]})
        if not data["code"].strip():
            fields["code"] = ["必填"]
        if fields:
            return self.bad(line, raw_code, format_fields(fields, COLUMNS) + spans)
        code = clean["code"]
        if code in self.rows:
            self.stats.superseded += 1
        self.rows[code] = (line, clean)

    def bad(self, line: int, code: str | None, error: str) -> None:
        self.stats.bad += 1
        self.report.add(line, code, error)

    def full(self) -> bool:
        return len(self.rows) >= self.size

    def flush(self) -> None:
        if not self.rows:
            return
        batch, self.rows = self.rows, {}
        existing = set(db.session.scalars(sa.select(Estate.code).where(Estate.code.in_(list(batch)))))
        refused = set()
        if not self.dry_run:
            try:
                services.upsert_estates([row for _, row in batch.values()], fields=self.present)
                db.session.commit()
            except (sa.exc.IntegrityError, sa.exc.DataError):
                db.session.rollback()
                refused = self._flush_one_by_one(batch)
        else:
            db.session.rollback()  # end the read transaction: a dry run holds no locks between batches
        self.stats.updated += len(existing - refused)
        self.stats.inserted += len(batch) - len(existing | refused)

    def _flush_one_by_one(self, batch: dict[str, tuple[int, dict]]) -> set[str]:
        """A row the validation let through but the database refused: find it, report it, keep the rest."""
        refused = set()
        for code, (line, row) in batch.items():
            try:
                with db.session.begin_nested():
                    services.upsert_estates([row], fields=self.present)
            except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
                refused.add(code)
                reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
                self.bad(line, code, f"数据库拒绝：{reason}")
        db.session.commit()
        return refused


# -- flask engineers import --------------------------------------------------------------------

engineers = AppGroup("engineers", help="工程师数据管理。")


@engineers.command("import")
@click.argument("path", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--encoding", default="utf-8-sig", show_default=True, help="文件编码（GBK 文件请用 gb18030）。")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH_SIZE), default=services.ENGINEER_BATCH, show_default=True,
              help="每批写入并提交的行数。")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False), default=None,
              help="把所有错误行写入此 CSV 文件（列：line,key,error；UTF-8 带 BOM）。")
@click.option("--show-errors", type=click.IntRange(0), default=20, show_default=True, help="终端最多显示的错误行数。")
def import_engineers_command(path, encoding, batch_size, errors_path, show_errors):
    """从 CSV 批量导入工程师及其负责小区（按工号新增或更新）。

    表头须包含 employee_no,name,phone，可选 estate_codes（多个小区编码用 ; 或 | 分隔）。
    新工程师为“待激活”状态，邀请码在工程师页面生成；已有工程师按文件更新姓名、手机号，
    负责小区设为文件所列小区。重复导入不产生变化；错误行按行号报告并跳过，其余照常导入。
    """
    from core.csvimport import error_report, progress, run

    started = time.monotonic()
    report = error_report(show_errors, errors_path)

    def work():
        size = os.path.getsize(path) if os.path.isfile(path) else 0
        with progress(size, report, "导入工程师") as advance:
            done = [0]

            def moved(position):
                advance(position - done[0])
                done[0] = position
            return services.import_engineers_file(path, encoding=encoding, report=report, batch_size=batch_size,
                                                  progress=moved)

    totals = run(work, report)
    elapsed = time.monotonic() - started
    click.echo(f"导入完成：{path}\n  读取数据行：{totals['read']:,}\n  新增：{totals['created']:,}\n"
               f"  更新：{totals['updated']:,}\n  未变：{totals['unchanged']:,}\n  错误行：{totals['bad']:,}\n"
               f"  用时：{elapsed:.1f} 秒，{totals['read'] / elapsed if elapsed > 0 else 0:,.0f} 行/秒")


COMMANDS = [estates, engineers]
