"""`flask estates import FILE.csv`, driven through Flask's CLI runner on the suite's database."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from community.estates.models import Estate
from core.extensions import db

HEADER = "code,name,province,city,district,address,lat,lng,households,status"


@pytest.fixture
def write_csv(tmp_path):
    counter = iter(range(1, 10**6))

    def write(text: str, *, bom: bool = False, encoding: str = "utf-8") -> str:
        path = tmp_path / f"estates{next(counter)}.csv"
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
        return str(path)
    return write


@pytest.fixture
def run_import(app):
    runner = app.test_cli_runner()

    def run(path: str, *options: str):
        return runner.invoke(args=["estates", "import", path, *options])
    return run


@pytest.fixture
def estates(app):
    """The stored estates by code."""
    def load() -> dict[str, Estate]:
        with app.app_context():
            rows = db.session.scalars(sa.select(Estate).order_by(Estate.code)).all()
            db.session.expunge_all()
            return {row.code: row for row in rows}
    return load


def rows(*lines: str, header: str = HEADER) -> str:
    return "\n".join((header, *lines)) + "\n"


def test_imports_chinese_text_with_a_bom(write_csv, run_import, estates):
    path = write_csv(rows(
        'SZ001,翠竹苑,广东省,深圳市,南山区,"科技园路1号, 东门",22.540001,113.934,1200,active',
        "BJ002,万科城 ,北京市,北京市,朝阳区,,,,,inactive",
    ), bom=True)

    result = run_import(path)

    assert result.exit_code == 0, result.output
    assert "新增：2" in result.stdout and "错误行：0" in result.stdout
    stored = estates()
    assert sorted(stored) == ["BJ002", "SZ001"]  # the BOM is not part of the first column's name
    sz = stored["SZ001"]
    assert (sz.name, sz.province, sz.city, sz.district) == ("翠竹苑", "广东省", "深圳市", "南山区")
    assert sz.address == "科技园路1号, 东门"
    assert (sz.lat, sz.lng, sz.households, sz.status) == (Decimal("22.540001"), Decimal("113.934"), 1200, "active")
    bj = stored["BJ002"]
    assert (bj.name, bj.address, bj.lat, bj.households, bj.status) == ("万科城", "", None, 0, "inactive")


def test_reimport_updates_by_code_instead_of_duplicating(write_csv, run_import, estates):
    first = run_import(write_csv(rows("A1,翠竹苑,广东省,深圳市,南山区,,,,100,active",
                                      "A2,碧桂园,广东省,广州市,天河区,,,,200,active")))
    assert first.exit_code == 0, first.output
    before = estates()

    second = run_import(write_csv(rows("A1,翠竹苑（二期）,广东省,深圳市,南山区,,,,150,inactive",
                                       "A3,龙湖天街,四川省,成都市,武侯区,,,,300,active")))

    assert second.exit_code == 0, second.output
    assert "新增：1" in second.stdout and "更新：1" in second.stdout
    after = estates()
    assert sorted(after) == ["A1", "A2", "A3"]
    a1 = after["A1"]
    assert (a1.id, a1.name, a1.households, a1.status) == (before["A1"].id, "翠竹苑（二期）", 150, "inactive")
    assert a1.created_at == before["A1"].created_at and a1.updated_at > before["A1"].updated_at
    assert after["A2"].name == "碧桂园"


def test_columns_absent_from_the_file_keep_their_stored_values(write_csv, run_import, estates):
    run_import(write_csv(rows("A1,翠竹苑,广东省,深圳市,南山区,科技园路1号,22.5,113.9,100,inactive")))

    result = run_import(write_csv(rows("A1,翠竹苑新名,广东省,深圳市,南山区",
                                       header="code,name,province,city,district")))

    assert result.exit_code == 0, result.output
    a1 = estates()["A1"]
    assert a1.name == "翠竹苑新名"
    assert (a1.address, a1.lat, a1.households, a1.status) == ("科技园路1号", Decimal("22.5"), 100, "inactive")


def test_bad_rows_are_reported_by_file_line_and_the_import_goes_on(write_csv, run_import, estates):
    path = write_csv(rows(
        "OK1,翠竹苑,广东省,深圳市,南山区,,,,100,active",                            # line 2
        'OK2,"碧桂园\n二期",广东省,深圳市,福田区,"第一行\n第二行",,,200,active',   # lines 3-5
        "BAD1,万科城,广东省,深圳市,龙岗区,,,,-5,active",                          # line 6
        "",                                                                       # line 7 (blank)
        'BAD2,"保利\n花园",广东省,深圳市,宝安区,,95,,abc,closed',                  # lines 8-9
        ",无编码小区,广东省,深圳市,南山区,,,,1,active",                             # line 10
        "BAD3,多一列,广东省,深圳市,南山区,,,,1,active,多余",                        # line 11
        "OK3,龙湖天街,四川省,成都市,武侯区,,,,300,active",                          # line 12
    ))

    result = run_import(path)

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "第 6 行：households: 应为不小于 0 的整数",
        "第 8 行：lat: 应在 -90 到 90 之间; households: 应为不小于 0 的整数; "
        "status: 须为 active（启用）或 inactive（停用）（该记录跨第 8–9 行）",
        "第 10 行：code: 必填",
        "第 11 行：列数不符：表头 10 列，本行 11 列",
    ]
    assert "读取数据行：7" in result.stdout and "新增：3" in result.stdout and "错误行：4" in result.stdout
    stored = estates()
    assert sorted(stored) == ["OK1", "OK2", "OK3"]
    assert stored["OK2"].name == "碧桂园\n二期" and stored["OK2"].address == "第一行\n第二行"


def test_errors_file_lists_every_bad_row_and_the_terminal_only_the_first(write_csv, run_import, tmp_path):
    bad = [f"B{i},坏小区{i},广东省,深圳市,南山区,,,,{-i},active" for i in range(1, 6)]
    path = write_csv(rows("G1,好小区,广东省,深圳市,南山区,,,,1,active", *bad, ',"缺编码",广东省,,南山区,,,,,'))
    errors = tmp_path / "errors.csv"

    result = run_import(path, "--errors", str(errors), "--show-errors", "2")

    assert result.exit_code == 0, result.output
    shown = result.stderr.splitlines()
    assert shown[:2] == ["第 3 行：households: 应为不小于 0 的整数",
                         "第 4 行：households: 应为不小于 0 的整数"]
    assert shown[2] == f"……另有 4 行错误未显示，全部错误见 {errors}"
    with open(errors, encoding="utf-8-sig", newline="") as f:
        report = list(csv.reader(f))
    assert report[0] == ["line", "code", "error"]
    assert report[1:] == [[str(i + 2), f"B{i}", "households: 应为不小于 0 的整数"] for i in range(1, 6)] + [
        ["8", "", "code: 必填; city: 必填"]]


def test_missing_required_column_stops_before_writing(write_csv, run_import, estates):
    path = write_csv(rows("A1,翠竹苑,广东省,南山区", header="code,name,province,district"))

    result = run_import(path)

    assert result.exit_code == 2
    assert "缺少必需的列：city" in result.stderr
    assert estates() == {}


def test_missing_file_and_unknown_columns(write_csv, run_import, estates, tmp_path):
    missing = run_import(str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "文件不存在" in missing.stderr

    extra = run_import(write_csv(rows("A1,翠竹苑,广东省,深圳市,南山区,,,,1,active,备注,x",
                                      header=HEADER + ",remark,开发商")))
    assert extra.exit_code == 0, extra.output
    assert list(estates()) == ["A1"]


def test_duplicate_codes_in_one_file_last_row_wins(write_csv, run_import, estates):
    # D1 twice in one batch (PostgreSQL refuses one statement touching a row twice);
    # D2 in two batches of 2 rows (the later batch updates).
    path = write_csv(rows(
        "D1,第一次,广东省,深圳市,南山区,,,,1,active",
        "D1,第二次,广东省,深圳市,南山区,,,,2,active",
        "D2,第一次,广东省,深圳市,南山区,,,,1,active",
        "X1,其他,广东省,深圳市,南山区,,,,1,active",
        "D2,第二次,广东省,深圳市,南山区,,,,2,active",
    ))

    result = run_import(path, "--batch-size", "2")

    assert result.exit_code == 0, result.output
    assert "同批重复编码（以后一行为准）：1" in result.stdout
    assert "新增：3" in result.stdout and "更新：1" in result.stdout
    stored = estates()
    assert sorted(stored) == ["D1", "D2", "X1"]
    assert (stored["D1"].name, stored["D1"].households) == ("第二次", 2)
    assert (stored["D2"].name, stored["D2"].households) == ("第二次", 2)


def test_dry_run_validates_and_writes_nothing(write_csv, run_import, estates):
    run_import(write_csv(rows("E1,已有小区,广东省,深圳市,南山区,,,,1,active")))
    path = write_csv(rows("E1,改名,广东省,深圳市,南山区,,,,9,active",
                          "E2,新小区,广东省,深圳市,南山区,,,,1,active",
                          "E3,坏小区,广东省,深圳市,南山区,,,,x,active"))

    result = run_import(path, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "试运行完成（未写入任何数据）" in result.stdout
    assert "将新增：1" in result.stdout and "将更新：1" in result.stdout and "错误行：1" in result.stdout
    assert "第 4 行：households" in result.stderr
    stored = estates()
    assert list(stored) == ["E1"] and stored["E1"].name == "已有小区"


def test_strict_exits_1_when_any_row_is_bad(write_csv, run_import, estates):
    clean = write_csv(rows("S1,好小区,广东省,深圳市,南山区,,,,1,active"))
    dirty = write_csv(rows("S2,好小区,广东省,深圳市,南山区,,,,1,active", "S3,坏小区,广东省,深圳市,南山区,,,,1,gone"))

    assert run_import(clean, "--strict").exit_code == 0
    result = run_import(dirty, "--strict")

    assert result.exit_code == 1
    assert sorted(estates()) == ["S1", "S2"]  # the good rows are imported all the same


def test_encoding_option_and_a_wrong_encoding(write_csv, run_import, estates):
    text = rows("G1,翠竹苑,广东省,深圳市,南山区,,,,1,active")
    gb = write_csv(text, encoding="gb18030")

    refused = run_import(gb)
    assert refused.exit_code == 2 and "--encoding gb18030" in refused.stderr
    assert estates() == {}

    result = run_import(gb, "--encoding", "gb18030")
    assert result.exit_code == 0, result.output
    assert estates()["G1"].name == "翠竹苑"


def test_undecodable_bytes_after_the_start_make_one_bad_row(tmp_path, run_import, estates):
    # The encoding check reads the first 64 KiB; a stray byte past it fails only its own row.
    filler = "".join(f"F{i:04d},翠竹苑{i},广东省,深圳市,南山区,科技园路{i}号,,,1,active\n" for i in range(1, 1101))
    path = tmp_path / "mixed.csv"
    body = (HEADER + "\n" + filler).encode() + b"X1,\xb4\xed\xce\xf3,\xb9\xe3\xb6\xab,c,d,,,,1,active\n"
    path.write_bytes(body + "Z1,末行,广东省,深圳市,南山区,,,,1,active\n".encode())
    assert len(body) > 64 * 1024

    result = run_import(str(path))

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["第 1102 行：含有无法按 utf-8-sig 解码的字节"]
    stored = estates()
    assert len(stored) == 1101 and "X1" not in stored and "Z1" in stored


def test_a_row_the_database_refuses_is_reported_and_its_batch_kept(write_csv, run_import, estates, monkeypatch):
    # Validation and database disagreeing (here: a CHECK the cleaning lets through) costs one row.
    from community.estates import services
    clean = services.clean_estate

    def lenient(data, **kwargs):
        out = clean({**data, "households": "0"}, **kwargs)
        if data["code"] == "R2":
            out["households"] = -1
        return out
    monkeypatch.setattr(services, "clean_estate", lenient)
    path = write_csv(rows(*(f"R{i},小区{i},广东省,深圳市,南山区,,,,1,active" for i in range(1, 5))))

    result = run_import(path, "--batch-size", "10")

    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("第 3 行：数据库拒绝：")
    assert "新增：3" in result.stdout and "错误行：1" in result.stdout
    assert sorted(estates()) == ["R1", "R3", "R4"]


def test_thousands_of_rows_in_small_batches(write_csv, run_import, estates):
    lines = []
    for i in range(1, 3001):
        households = "坏" if i % 500 == 0 else str(i)
        lines.append(f"K{i:05d},小区{i},广东省,深圳市,南山区,幸福路{i}号,22.{i:06d},113.5,{households},active")
    path = write_csv(rows(*lines))

    result = run_import(path, "--batch-size", "97")

    assert result.exit_code == 0, result.output
    assert "读取数据行：3,000" in result.stdout and "新增：2,994" in result.stdout and "错误行：6" in result.stdout
    assert [line.split("：")[0] for line in result.stderr.splitlines()] == [
        f"第 {i + 1} 行" for i in range(500, 3001, 500)]
    stored = estates()
    assert len(stored) == 2994
    assert stored["K02999"].households == 2999 and stored["K00001"].lat == Decimal("22.000001")

    again = run_import(path, "--batch-size", "97")
    assert "新增：0" in again.stdout and "更新：2,994" in again.stdout
    assert len(estates()) == 2994


def test_record_line_numbers_are_physical_file_lines():
    from community.estates.cli import _records
    reader = csv.reader(io.StringIO('h,i\n"a\nb",x\n\n , \nc,y\n'))
    next(reader)
    assert [(first, last, row) for first, last, row, _ in _records(reader)] == [
        (2, 3, ["a\nb", "x"]), (6, 6, ["c", "y"])]  # blank and all-empty lines are skipped, still counted


def test_a_database_failure_stops_the_import_with_exit_2(write_csv, run_import, monkeypatch):
    from community.estates import services

    def down(rows, fields):
        raise sa.exc.OperationalError("INSERT …", {}, Exception("server closed the connection unexpectedly"))
    monkeypatch.setattr(services, "upsert_estates", down)

    result = run_import(write_csv(rows("A1,翠竹苑,广东省,深圳市,南山区,,,,1,active")))

    assert result.exit_code == 2
    assert "数据库出错，导入中止：server closed the connection unexpectedly。此前已提交 0 行" in result.stderr


def test_the_errors_file_keeps_a_formula_like_code_as_text(write_csv, run_import, tmp_path):
    """A bad row's raw code is written back: a spreadsheet must not run `=HYPERLINK(...)` from it."""
    path = write_csv(rows('"=HYPERLINK(""http://evil.example"",""点我"")",坏小区,广东省,深圳市,南山区,,,,-1,active',
                          "+1-2,坏小区2,广东省,深圳市,南山区,,,,-1,active"))
    errors = tmp_path / "errors.csv"

    result = run_import(path, "--errors", str(errors))

    assert result.exit_code == 0, result.output
    with open(errors, encoding="utf-8-sig", newline="") as f:
        report = list(csv.reader(f))
    assert [row[1] for row in report[1:]] == ["'=HYPERLINK(\"http://evil.example\",\"点我\")", "'+1-2"]
