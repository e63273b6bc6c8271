"""`flask products import FILE.csv` (the installed base) and `flask products import-models
FILE.csv`, through Flask's CLI runner: bad rows reported by line and skipped, owners by phone,
schedules in the same batches, conflicts once, and a second run changes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from community.products import services
from core.extensions import db

HEADER = "model_code,serial,owner_phone,install_date,purchase_date,estate_code,address,engineer_employee_no,external_id"
TODAY = services.today()


@pytest.fixture
def run(app, tmp_path):
    runner = app.test_cli_runner()
    counter = iter(range(1, 10**6))

    def do(command: str, text: str, *options: str):
        path = tmp_path / f"file{next(counter)}.csv"
        path.write_text(text, encoding="utf-8")
        return runner.invoke(args=["products", command, str(path), *options])
    return do


def counts(app) -> dict:
    from community.products.models import Product, ProductSchedule, SerialConflict
    with app.app_context():
        return {name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                for name, model in (("products", Product), ("schedules", ProductSchedule),
                                    ("conflicts", SerialConflict))}


def test_import_models_is_idempotent_by_code_and_reports_bad_lines(app, run):
    text = "\n".join([
        "code,name,category,warranty_months,active",
        "ro-600g,反渗透净水器 RO-600G,净水器,24,1",
        "KFR-35GW,变频空调 KFR-35GW,air_conditioner,72,",
        "BAD MODEL,空格,净水器,12,1",
        "X-1,未知品类,烤面包机,12,1",
        "X-2,保修太长,净水器,300,1",
    ]) + "\n"
    result = run("import-models", text)
    assert result.exit_code == 0, result.output
    assert "第 4 行（BAD MODEL）：code: 型号编码须为" in result.output
    assert "第 5 行（X-1）：category: 品类须为" in result.output
    assert "第 6 行（X-2）：warranty_months: 保修月数须为 0–240 的整数" in result.output
    assert "新增：2" in result.output and "错误行：3" in result.output
    again = run("import-models", text)
    assert "新增：0" in again.output and "更新：0" in again.output and "未变：2" in again.output
    changed = run("import-models", "code,name,category,warranty_months\nRO-600G,反渗透净水器 RO-600G 新款,净水器,36\n")
    assert "更新：1" in changed.output
    with app.app_context():
        model = db.session.scalar(sa.select(services.ProductModel).where(services.ProductModel.code == "RO-600G"))
        assert (model.name, model.warranty_months, model.category) == ("反渗透净水器 RO-600G 新款", 36, "water_purifier")
    missing = run("import-models", "code,name\nA,B\n")
    assert missing.exit_code == 2 and "缺少必需的列：category" in missing.output


def test_import_products_in_batches_with_bad_rows_owners_schedules_and_conflicts(app, run, catalogue, estate,
                                                                                 make_engineer, login, client,
                                                                                 wechat):
    engineer = make_engineer([estate])
    known = login()
    code = wechat.control("POST", "phone-codes", json={"phone": "13911110001"})["code"]
    client.post("/api/v1/me/phone", headers=known.headers, json={"code": code})
    other = login()
    client.post("/api/v1/me/products", headers=other.headers, json={"model_code": "RO-600G", "serial": "TAKEN-1"})
    installed = (TODAY - timedelta(days=40)).isoformat()
    lines = [HEADER]
    for n in range(25):  # 25 good rows over batches of 10
        lines.append(f"RO-600G,SN{n:04d},1390000{n:04d},{installed},,SZ-0001,{n}栋,{engineer.employee_no},EXT-{n}")
    lines += [
        f"NOPE-1,SN9001,13900009001,{installed},,,,,",                                  # 27: unknown model
        f"RO-600G,SN9002,13900009002,{(TODAY + timedelta(days=1)).isoformat()},,,,,",  # 28: future date
        "RO-600G,,13900009003,,,,,,",                                                  # 29: no serial
        "RO-600G,SN9004,13900009004,,,NO-ESTATE,,,",                                   # 30: unknown estate
        "RO-600G,SN9005,not-a-phone,,,,,,",                                            # 31: bad phone
        "RO-600G,SN9006,13900009006",                                                  # 32: too few columns
        "KFR-35GW,AC0001,13911110001,2020-05-01,2020-04-20,,,,",                       # 33: a known user's
        "RO-600G,TAKEN-1,13900009007,,,,,,",                                           # 34: someone else's serial
        "RO-600G,SN0001,13922220000,,,,,,",                                            # 35: in the file already, another owner
        "ro-600g,sn0002,13900000002,,,,,,",                                            # 36: the same again: skipped
    ]
    result = run("import", "\n".join(lines) + "\n", "--batch-size", "10")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "第 27 行（SN9001）：型号 NOPE-1 不存在" in out
    assert "第 28 行（SN9002）：install_date: 日期不能晚于今天" in out
    assert "第 29 行：serial: 必填" in out
    assert "第 30 行（SN9004）：小区编码 NO-ESTATE 不存在" in out
    assert "第 31 行（SN9005）：owner_phone: 手机号格式不对" in out
    assert "第 32 行（SN9006）：列数不符" in out
    assert "新增产品：26" in out and "新增序列号冲突：2" in out and "错误行：6" in out and "已登记跳过：1" in out
    assert counts(app) == {"products": 27, "schedules": 2 * 25 + 1 + 1 * 2, "conflicts": 2}
    from community.products.models import Product, ProductSchedule
    with app.app_context():
        first = db.session.scalar(sa.select(Product).where(Product.serial == "SN0000"))
        assert (first.owner_id, first.owner_phone, first.estate_id, first.installer_id, first.external_id) == (
            None, "13900000000", estate, engineer.engineer_id, "EXT-0")
        assert first.warranty_end == services.add_months(TODAY - timedelta(days=40), 24)
        ac = db.session.scalar(sa.select(Product).where(Product.serial == "AC0001"))
        assert ac.owner_id == known.user_id and ac.warranty_end.isoformat() == "2026-04-20"
        due = dict(db.session.execute(sa.select(ProductSchedule.plan_id, ProductSchedule.next_due_on)
                                      .where(ProductSchedule.product_id == first.id)).all())
        # 40 days after installing: the 30-day inspection is 10 days overdue, the filter due in 140 days
        assert due == {catalogue.inspection: TODAY - timedelta(days=10), catalogue.filters: TODAY + timedelta(days=140)}
    # the same file again changes nothing (no new products, schedules or conflicts)
    again = run("import", "\n".join(lines) + "\n", "--batch-size", "7")
    assert "新增产品：0" in again.output and "新增序列号冲突：0" in again.output
    assert counts(app) == {"products": 27, "schedules": 53, "conflicts": 2}
    # the owner by phone confirms it later: the products become theirs
    someone = login()
    code = wechat.control("POST", "phone-codes", json={"phone": "13900000003"})["code"]
    client.post("/api/v1/me/phone", headers=someone.headers, json={"code": code})
    assert [p["serial"] for p in client.get("/api/v1/me/products", headers=someone.headers).json["items"]] == ["SN0003"]


def test_import_refuses_a_file_it_cannot_read(app, run, catalogue):
    result = run("import", "serial,owner_phone\nA,1\n")
    assert result.exit_code == 2 and "缺少必需的列：model_code" in result.output
    assert counts(app)["products"] == 0
