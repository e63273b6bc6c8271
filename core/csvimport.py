"""Helpers shared by the CSV commands: streaming a file as csv records with its encoding checked
first, the header, the records with bad ones reported by line, the error report, the progress
bar, the run wrapper that turns failures into an exit code, a byte counter, error text that stays
printable whatever the file's encoding, and the one CSV writer of the platform (`csv_writer`,
`csv_text`): its cells are never run as formulas by a spreadsheet.

Import commands (products, estate tags) are written with `open_csv` → `read_header` →
`records`, inside `run(work, report)`; `community/estates/cli.py` predates them and keeps its own
(its records report the lines a multi-line record spans)."""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
import sys
from contextlib import contextmanager

import click
import sqlalchemy as sa

FIELD_SIZE_LIMIT = 10_000  # no valid field is longer: a stray quote costs a few lines, not thousands
SNIFF_BYTES = 64 * 1024
EXIT_NOT_RUN = 2  # the file cannot be imported (bad rows are reported and the rest imported: exit 0)

# Undecodable bytes come through as lone surrogates (errors="surrogateescape").
UNDECODABLE = re.compile("[\udc80-\udcff]")


def printable(text: str) -> str:
    """Text from a file as it may be shown: undecodable bytes become U+FFFD."""
    return UNDECODABLE.sub("\ufffd", text)


def format_fields(fields: dict, columns: tuple[str, ...] = ()) -> str:
    """A validation error's fields on one line, in the file's column order."""
    order = {name: i for i, name in enumerate(columns)}
    return "; ".join(f"{name}: {', '.join(map(str, messages))}"
                     for name, messages in sorted(fields.items(), key=lambda kv: order.get(kv[0], 99)))


class CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary file, for the progress bar."""

    def __init__(self, raw):
        self.raw, self.count = raw, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n


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
            self.writer = csv_writer(self.file)
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
def open_csv(path: str, encoding: str):
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


def read_header(reader, columns: tuple[str, ...], required: tuple[str, ...]) -> tuple[dict[str, int], int]:
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


def records(reader, index: dict[str, int], width: int, report: ErrorReport, key: str):
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
def progress(size: int, report: ErrorReport, label: str):
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


def error_report(shown: int, path: str | None) -> ErrorReport:
    try:
        return ErrorReport(shown, path)
    except ImportAborted as exc:
        click.echo(f"错误：{exc}", err=True)
        raise SystemExit(EXIT_NOT_RUN) from None


def run(work, report: ErrorReport):
    """Run an import; a refusal or a database error ends it with a message and EXIT_NOT_RUN (the
    batches committed before stay: running the file again completes it)."""
    from core.extensions import db

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


FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A value as a CSV cell a spreadsheet shows as text: a string starting like a formula
    (=, +, -, @, tab, CR) gets a leading apostrophe (OWASP's CSV-injection advice). Numbers pass."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(v) for v in values]


class SafeWriter:
    """A csv.writer whose every cell goes through safe_cell."""

    def __init__(self, file):
        self._writer = csv.writer(file)

    def writerow(self, values) -> None:
        self._writer.writerow(safe_row(values))

    def writerows(self, rows) -> None:
        for values in rows:
            self.writerow(values)


def csv_writer(file) -> SafeWriter:
    """The one way the platform writes CSV (exports, error reports): formula-like cells as text."""
    return SafeWriter(file)


def csv_text(header, rows) -> str:
    """A CSV download: the header and the rows through csv_writer, with a BOM (Excel then reads UTF-8)."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()
