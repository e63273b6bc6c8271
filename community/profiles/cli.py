"""`flask estates import-tags FILE.csv`: estate tags in bulk (columns estate_code,tags; tags
`|`-separated). Each row makes the estate's tags exactly those listed, so running a file again
changes nothing. The file is streamed and written in batches, one commit each; bad rows are
reported by line and skipped. The command joins the estates group (`flask estates …`)."""
from __future__ import annotations

import os
import time

import click

from community.estates.cli import estates
from community.profiles import services
from core import audit
from core.csvimport import error_report, format_fields, open_csv, progress, read_header, records, run
from core.errors import ValidationFailed
from core.extensions import db

COLUMNS = ("estate_code", "tags")
MAX_BATCH_SIZE = 5000


@estates.command("import-tags")
@click.argument("path", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--encoding", default="utf-8-sig", show_default=True, help="文件编码（GBK 文件请用 gb18030）。")
@click.option("--batch-size", type=click.IntRange(1, MAX_BATCH_SIZE), default=1000, show_default=True,
              help="每批写入并提交的行数。")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False), default=None,
              help="把所有错误行写入此 CSV 文件（列：line,key,error；UTF-8 带 BOM）。")
@click.option("--show-errors", type=click.IntRange(0), default=20, show_default=True, help="终端最多显示的错误行数。")
def import_tags_command(path, encoding, batch_size, errors_path, show_errors):
    """从 CSV 批量设置小区标签（按小区编码）。

    表头须包含 estate_code,tags；多个标签用 | 分隔（如 新小区|学区房），留空则清除该小区的标签。
    每行把该小区的标签设为所列标签，重复导入不产生变化。小区编码不存在、标签过长等错误行按行号报告并跳过；
    正在投放的内容会按新标签重新匹配改动的小区。
    """
    started = time.monotonic()
    report = error_report(show_errors, errors_path)
    totals = {"read": 0, "changed": 0, "unchanged": 0, "bad": 0}

    def work():
        with open_csv(path, encoding) as (reader, raw, size):
            index, width = read_header(reader, COLUMNS, COLUMNS)
            batch: list[tuple[int, str, list[str]]] = []

            def flush():
                outcome = services.import_tags([(code, tags) for _, code, tags in batch])
                db.session.commit()
                unknown = set(outcome["unknown"])
                for line, code, _ in batch:
                    if code in unknown:
                        report.add(line, code, "estate_code: 小区编码不存在")
                totals["changed"] += outcome["changed"]
                totals["unchanged"] += outcome["unchanged"]
                batch.clear()

            with progress(size, report, "导入标签") as advance:
                position = 0
                for line, data in records(reader, index, width, report, "estate_code"):
                    totals["read"] += 1
                    try:
                        code, tags = services.clean_import_row(data)
                    except ValidationFailed as exc:
                        report.add(line, data.get("estate_code", ""), format_fields(exc.details["fields"], COLUMNS))
                        continue
                    batch.append((line, code, tags))
                    if len(batch) >= batch_size:
                        flush()
                        advance(raw.tell() - position)
                        position = raw.tell()
                if batch:
                    flush()
                advance(size - position)
        totals["bad"] = report.count
        audit.record(None, "estate.tags.import", "estate_tag_file", os.path.basename(path)[:64],
                     after={**totals, "seconds": round(time.monotonic() - started, 1)})
        db.session.commit()

    run(work, report)
    totals["bad"] = report.count
    click.echo(f"导入完成：{path}\n  读取数据行：{totals['read']:,}\n  标签有变化的小区：{totals['changed']:,}\n"
               f"  未变：{totals['unchanged']:,}\n  错误行：{totals['bad']:,}\n"
               f"  用时：{time.monotonic() - started:.1f} 秒")


COMMANDS: list = []  # import-tags joined `flask estates` above
