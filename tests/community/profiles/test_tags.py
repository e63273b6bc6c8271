"""Estate tags: edited one estate at a time (admin API and the estate's profile page) or in bulk
with `flask estates import-tags FILE.csv` (estate_code,tags with `|` between tags): checked,
audited, idempotent, bad rows reported by line."""
from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from tests.conftest import html, post_form


def tags_of(app, estate_id: int) -> list[str]:
    from community.profiles import services
    with app.app_context():
        return services.estate_tags(estate_id)


def test_set_add_remove_through_the_api(client, admin, agent, make_estate):
    estate_id = make_estate()
    url = f"/api/v1/admin/estates/{estate_id}/tags"
    r = client.put(url, headers=admin.headers, json={"tags": [" 新小区 ", "别墅", "新小区", ""]})
    assert r.status_code == 200, r.json
    assert r.json == {"estate_id": estate_id, "tags": ["新小区", "别墅"]}
    r = client.post(url, headers=admin.headers, json={"tags": ["学区房", "别墅"]})
    assert r.json["tags"] == ["新小区", "别墅", "学区房"]
    r = client.delete(f"{url}/别墅", headers=admin.headers)
    assert r.status_code == 200 and r.json["tags"] == ["新小区", "学区房"]
    assert client.delete(f"{url}/别墅", headers=admin.headers).json["tags"] == ["新小区", "学区房"]  # gone already
    r = client.put(url, headers=admin.headers, json={"tags": ["学区房", "新小区"]})
    assert sorted(r.json["tags"]) == ["学区房", "新小区"]
    counts = client.get("/api/v1/admin/estate-tags", headers=agent.headers).json["items"]
    assert sorted((c["tag"], c["estates"]) for c in counts) == [("学区房", 1), ("新小区", 1)]
    assert client.put(url, headers=agent.headers, json={"tags": []}).status_code == 403
    assert client.put(url, headers=admin.headers, json={"tags": []}).json["tags"] == []


def test_bad_tags_are_422_naming_the_field(client, admin, make_estate):
    estate_id = make_estate()
    url = f"/api/v1/admin/estates/{estate_id}/tags"
    r = client.put(url, headers=admin.headers, json={"tags": ["这是一个超过十六个字的非常非常长的标签"]})
    assert r.status_code == 422
    assert r.json["error"]["details"]["fields"] == {"tags": ["标签最多 16 个字：这是一个超过十六个字的非常非常长的标签"]}
    r = client.put(url, headers=admin.headers, json={"tags": ["新|旧"]})
    assert r.json["error"]["details"]["fields"]["tags"] == ["标签不能含有 | 或控制字符：新|旧"]
    r = client.post(url, headers=admin.headers, json={"tags": [" "]})
    assert r.status_code == 422 and r.json["error"]["details"]["fields"]["tags"] == ["请填写要添加的标签"]
    r = client.put(url, headers=admin.headers, json={"tags": "新小区"})
    assert r.status_code == 422 and "tags" in r.json["error"]["details"]["fields"]
    r = client.put("/api/v1/admin/estates/999999/tags", headers=admin.headers, json={"tags": ["新小区"]})
    assert r.status_code == 404 and r.json["error"]["code"] == "estate_not_found"


def test_a_tag_edit_is_audited_and_a_repeat_is_not(app, client, admin, make_estate):
    from core.models import AuditEntry
    estate_id = make_estate()
    for _ in range(2):
        client.put(f"/api/v1/admin/estates/{estate_id}/tags", headers=admin.headers, json={"tags": ["别墅"]})
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action.like("estate.tags.%"))).all()
        assert [(r.action, r.object_id, r.after) for r in rows] == [("estate.tags.set", str(estate_id), {"tags": ["别墅"]})]


def test_the_profile_page_adds_replaces_and_removes_tags(console, make_estate, app):
    estate_id = make_estate()
    page = f"/admin/estates/{estate_id}/profile"
    action = f"/admin/estates/{estate_id}/tags"
    r = post_form(console, page, action, {"tags": "新小区，别墅", "action": "add"}, follow_redirects=True)
    assert "标签已添加" in html(r) and tags_of(app, estate_id) == ["新小区", "别墅"]
    r = post_form(console, page, action, {"tag": "别墅", "action": "remove"}, follow_redirects=True)
    assert "标签已移除" in html(r) and tags_of(app, estate_id) == ["新小区"]
    r = post_form(console, page, action, {"tags": "老旧小区|学区房", "action": "replace"}, follow_redirects=True)
    assert tags_of(app, estate_id) == ["老旧小区", "学区房"]
    r = post_form(console, page, action, {"tags": "x" * 17, "action": "add"}, follow_redirects=True)
    assert "标签最多 16 个字" in html(r) and tags_of(app, estate_id) == ["老旧小区", "学区房"]
    listing = console.get("/admin/estates/tags")
    assert listing.status_code == 200 and "老旧小区" in html(listing) and "import-tags" in html(listing)


def test_import_tags_csv_reports_bad_rows_by_line_and_is_idempotent(app, tmp_path, make_estate):
    a, b, c = make_estate(code="SZ0001"), make_estate(code="SZ0002"), make_estate(code="SZ0003")
    with app.app_context():
        from community.profiles import services
        services.set_estate_tags(c, ["别墅"], None)
        db.session.commit()
    path = tmp_path / "tags.csv"
    path.write_text("\n".join([
        "estate_code,tags,note",
        "SZ0001,新小区|学区房,ignored column",
        "SZ0002, 老旧小区 ｜ 学区房 ,",
        "NOPE01,新小区,",
        ",新小区,",
        "SZ0003,,cleared",
        "SZ0002,这是一个超过十六个字的非常非常长的标签,",
        "SZ0001,too,many,columns",
    ]) + "\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["estates", "import-tags", str(path)])
    assert result.exit_code == 0, result.output
    assert "第 4 行（NOPE01）：estate_code: 小区编码不存在" in result.output
    assert "第 5 行：estate_code: 请填写小区编码" in result.output
    assert "第 7 行（SZ0002）：tags: 标签最多 16 个字" in result.output
    assert "第 8 行（SZ0001）：列数不符" in result.output
    assert "标签有变化的小区：3" in result.output and "错误行：4" in result.output
    assert tags_of(app, a) == ["新小区", "学区房"]
    assert sorted(tags_of(app, b)) == ["学区房", "老旧小区"]
    assert tags_of(app, c) == []
    again = runner.invoke(args=["estates", "import-tags", str(path)])
    assert "标签有变化的小区：0" in again.output and "未变：3" in again.output
    missing = tmp_path / "missing.csv"
    missing.write_text("code,tags\nSZ0001,新小区\n", encoding="utf-8")
    result = runner.invoke(args=["estates", "import-tags", str(missing)])
    assert result.exit_code == 2 and "缺少必需的列：estate_code" in result.output


def test_import_in_small_batches_with_a_code_repeated(app, tmp_path, make_estate):
    ids = [make_estate(code=f"BT{i:03d}") for i in range(5)]
    path = tmp_path / "tags.csv"
    rows = [f"BT{i:03d},批次{i}" for i in range(5)] + ["BT000,最后一次"]
    path.write_text("estate_code,tags\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["estates", "import-tags", str(path), "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert tags_of(app, ids[0]) == ["最后一次"] and tags_of(app, ids[4]) == ["批次4"]
