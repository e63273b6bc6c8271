"""`flask ambassadors import-members FILE.csv`: membership tiers from the loyalty programme.

The file has the columns `phone,tier` (a header line first; other columns are ignored). Each
line is matched to a user by phone and written through ambassador.members.services.set_membership, so a
line that sets the tier a user already has changes nothing: the import can be run again. An
empty tier clears a membership. Bad or unknown lines are reported by line number and skipped;
the rest are committed in batches.
"""
from __future__ import annotations

import csv
import sys

import click
from flask.cli import AppGroup

from ambassador.members import services
from core.errors import APIError
from core.extensions import db

BATCH = 500
SHOWN = 200
EXIT_BAD_LINES, EXIT_NOT_RUN = 1, 2  # 0: every line was imported

ambassadors = AppGroup("ambassadors", help="服务代言人。")


def _import_line(phone_raw: str, tier_raw: str) -> str:
    """One line: "set", "cleared" or "unchanged"; raises ValueError with the reason to report."""
    phone = services.normalise_phone(phone_raw)
    if not services.PHONE_RE.match(phone):
        raise ValueError(f"手机号格式不正确：{phone_raw!r}")
    tier = (tier_raw or "").strip().lower() or None
    if tier is not None and tier not in services.known_tiers():
        raise ValueError(f"会员等级无效：{tier_raw!r}（可用：{'、'.join(services.known_tiers())}，留空为清除）")
    users = services.users_by_phone(phone)
    if not users:
        raise ValueError(f"没有手机号为 {phone} 的用户")
    if len(users) > 1:
        raise ValueError(f"手机号 {phone} 对应多个用户，请在后台逐个设置")
    before = services.membership_of(users[0])
    before_tier = before.tier if before else None
    if before_tier == tier:
        return "unchanged"
    with db.session.begin_nested():
        services.set_membership(users[0], tier, None, source="import")
    return "cleared" if tier is None else "set"


@ambassadors.command("import-members")
@click.argument("path", type=click.Path(dir_okay=False))
def import_members(path):
    """Set membership tiers from a CSV file with the columns phone,tier."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        click.echo(f"无法读取 {path}：{exc.strerror or exc}", err=True)
        sys.exit(EXIT_NOT_RUN)
    counts = {"set": 0, "cleared": 0, "unchanged": 0, "bad": 0}
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip().lower() for h in next(reader, [])]
        except (csv.Error, UnicodeDecodeError) as exc:
            click.echo(f"无法读取表头：{exc}", err=True)
            sys.exit(EXIT_NOT_RUN)
        if "phone" not in header or "tier" not in header:
            click.echo("第 1 行须为表头，至少包含 phone,tier 两列", err=True)
            sys.exit(EXIT_NOT_RUN)
        phone_at, tier_at = header.index("phone"), header.index("tier")
        pending = 0
        line = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except (csv.Error, UnicodeDecodeError) as exc:
                line = reader.line_num if reader.line_num > line else line + 1
                counts["bad"] += 1
                _report(counts["bad"], line, f"无法解析：{exc}")
                continue
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            try:
                if len(row) <= max(phone_at, tier_at):
                    raise ValueError("列数不足")
                outcome = _import_line(row[phone_at], row[tier_at])
            except (ValueError, APIError) as exc:
                counts["bad"] += 1
                _report(counts["bad"], line, getattr(exc, "message", None) or str(exc))
                continue
            counts[outcome] += 1
            pending += outcome != "unchanged"
            if pending >= BATCH:
                db.session.commit()
                pending = 0
        db.session.commit()
    click.echo(f"会员等级导入完成：设置 {counts['set']}，清除 {counts['cleared']}，未变化 {counts['unchanged']}，"
               f"错误 {counts['bad']}")
    sys.exit(EXIT_BAD_LINES if counts["bad"] else 0)


def _report(count: int, line: int, message: str) -> None:
    if count <= SHOWN:
        click.echo(f"第 {line} 行：{message}", err=True)
    elif count == SHOWN + 1:
        click.echo("（更多错误行不再逐条显示）", err=True)


COMMANDS = [ambassadors]
