"""Engineers and their estates in bulk: `flask engineers import FILE.csv` and the console upload."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from community.estates.models import Engineer, EngineerEstate
from core.extensions import db
from core.models import AuditEntry
from tests.conftest import csrf_token, html

HEADER = "employee_no,name,phone,estate_codes"


@pytest.fixture
def write_csv(tmp_path):
    counter = iter(range(1, 10**6))

    def write(text: str, encoding: str = "utf-8-sig") -> str:
        path = tmp_path / f"engineers{next(counter)}.csv"
        path.write_bytes(text.encode(encoding))
        return str(path)
    return write


@pytest.fixture
def run_import(app):
    runner = app.test_cli_runner()

    def run(path: str, *options: str):
        return runner.invoke(args=["engineers", "import", path, *options])
    return run


@pytest.fixture
def stored(app):
    """{employee_no: (name, phone, status, {estate codes})}"""
    def load() -> dict:
        from community.estates.models import Estate
        with app.app_context():
            out = {e.employee_no: (e.name, e.phone, e.status, set()) for e in db.session.scalars(sa.select(Engineer))}
            for no, code in db.session.execute(sa.select(Engineer.employee_no, Estate.code)
                                               .join(EngineerEstate, EngineerEstate.engineer_id == Engineer.id)
                                               .join(Estate, Estate.id == EngineerEstate.estate_id)):
                out[no][3].add(code)
            return out
    return load


def test_import_creates_invited_engineers_and_a_rerun_changes_nothing(write_csv, run_import, stored, make_estate, app):
    make_estate(code="SZ-1"), make_estate(code="SZ-2"), make_estate(code="SZ-3")
    path = write_csv(f"{HEADER}\nE001,张伟,13800138001,SZ-1;SZ-2\nE002,李娜,138-0013-8002,SZ-3|SZ-1\nE003,王五,13800138003,\n")
    result = run_import(path)
    assert result.exit_code == 0, result.output
    assert "新增：3" in result.output and "错误行：0" in result.output
    assert stored() == {"E001": ("张伟", "13800138001", "invited", {"SZ-1", "SZ-2"}),
                        "E002": ("李娜", "13800138002", "invited", {"SZ-1", "SZ-3"}),
                        "E003": ("王五", "13800138003", "invited", set())}
    before = stored()
    again = run_import(path)
    assert "新增：0" in again.output and "更新：0" in again.output and "未变：3" in again.output
    assert stored() == before
    with app.app_context():  # one audit row per run
        runs = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "engineer.import")).all()
        assert [r.after["created"] for r in runs] == [3, 0]


def test_changed_name_phone_and_estates_update(write_csv, run_import, stored, make_estate):
    make_estate(code="A"), make_estate(code="B")
    run_import(write_csv(f"{HEADER}\nE001,张伟,13800138001,A\nE002,李娜,13800138002,A\n"))
    result = run_import(write_csv(f"{HEADER}\nE001,张伟伟,13900139001,B\nE002,李娜,13800138002,A\n"))
    assert "更新：1" in result.output and "未变：1" in result.output, result.output
    assert stored()["E001"] == ("张伟伟", "13900139001", "invited", {"B"})


def test_bad_rows_are_reported_by_line_in_chinese_and_good_rows_imported(write_csv, run_import, stored, make_estate):
    make_estate(code="A")
    path = write_csv(f"{HEADER}\nE001,张伟,13800138001,A\nE 2,李娜,12345,A\nE003,王五,13800138003,NOPE;A\n"
                     f"E004,,13800138004,\nE005,赵六,13800138005,A\n")
    result = run_import(path)
    assert result.exit_code == 0
    assert "第 3 行（E 2）：工号: 工号须为 1–32 位字母、数字、- 或 _; 手机号: 手机号须为 11 位大陆手机号" in result.output
    assert "第 4 行（E003）：小区编码不存在：NOPE" in result.output
    assert "第 5 行（E004）：姓名: 姓名不能为空" in result.output
    assert "新增：2" in result.output and "错误行：3" in result.output
    assert set(stored()) == {"E001", "E005"}


def test_engineers_who_left_are_not_updated(write_csv, run_import, stored, app):
    run_import(write_csv(f"{HEADER}\nE001,张伟,13800138001,\n"))
    with app.app_context():
        db.session.execute(sa.update(Engineer).values(status="left"))
        db.session.commit()
    result = run_import(write_csv(f"{HEADER}\nE001,张三,13800138001,\n"))
    assert "第 2 行（E001）：该工程师已离职" in result.output
    assert stored()["E001"][0] == "张伟"


def test_a_file_that_cannot_be_read_stops_with_a_reason(write_csv, run_import):
    result = run_import(write_csv("name,phone\n张伟,13800138001\n"))
    assert result.exit_code == 2 and "缺少必需的列：employee_no" in result.output


def test_batches_read_the_database_a_fixed_number_of_times(write_csv, app, make_estate):
    """No per-row query: a batch of 300 rows costs the same few statements as one of 3."""
    from community.estates import services

    for n in range(5):
        make_estate(code=f"C{n}")

    def statements(count: int) -> int:
        lines = "".join(f"N{count}-{i},工程师{i},138{i:08d},C{i % 5};C{(i + 1) % 5}\n" for i in range(count))
        path = write_csv(HEADER + "\n" + lines)
        seen = []
        with app.app_context():
            listen = lambda *args: seen.append(args[2])  # noqa: E731
            sa.event.listen(db.engine, "before_cursor_execute", listen)
            try:
                class Report:
                    count = 0

                    def add(self, *args):
                        raise AssertionError(args)
                services.import_engineers_file(path, report=Report(), batch_size=1000)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", listen)
        return len([s for s in seen if "engineer" in s.lower()])

    assert statements(300) <= statements(3) + 2  # SQLite's insertmanyvalues may split a big insert once


def test_console_upload_shows_counts_and_bad_lines(console, make_estate):
    make_estate(code="A")
    page = console.get("/admin/engineers/import")
    assert page.status_code == 200 and 'type="file"' in html(page)
    body = f"{HEADER}\nE001,张伟,13800138001,A\nE002,李娜,1380013800,A\n".encode("utf-8-sig")
    response = console.post("/admin/engineers/import", data={
        "csrf_token": csrf_token(html(page)), "encoding": "utf-8", "file": (io.BytesIO(body), "engineers.csv")},
        content_type="multipart/form-data")
    text = html(response)
    assert response.status_code == 200
    assert 'data-testid="created">1<' in text and 'data-testid="bad">1<' in text
    assert "第 3 行" in text and "手机号须为 11 位大陆手机号" in text
    again = console.post("/admin/engineers/import", data={
        "csrf_token": csrf_token(html(page)), "encoding": "utf-8", "file": (io.BytesIO(body), "engineers.csv")},
        content_type="multipart/form-data")
    assert 'data-testid="unchanged">1<' in html(again) and 'data-testid="created">0<' in html(again)
    assert "批量导入" in html(console.get("/admin/engineers"))
