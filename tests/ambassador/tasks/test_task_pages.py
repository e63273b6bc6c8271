"""The task console pages through the test client: real login, real forms, CSRF on."""
import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from ambassador.models import Level
from ambassador.tasks.models import Task, TaskSubmission
from core.db import utcnow
from core.extensions import db
from core.formatting import BUSINESS_TZ
from points import services as points
from tests.conftest import csrf_token, flashes, html, post_form

PAGES = ["/admin/ambassador/tasks", "/admin/ambassador/tasks/new", "/admin/ambassador/submissions"]


def local(dt: datetime) -> str:
    return dt.astimezone(BUSINESS_TZ).strftime("%Y-%m-%dT%H:%M")


def api_task(client, admin, **fields) -> int:
    body = {"title": "转发海报", "kind": "promotion", "points": 100,
            "deadline": (utcnow() + timedelta(days=7)).isoformat(), **fields}
    task_id = client.post("/api/v1/admin/ambassador/tasks", json=body, headers=admin.headers).json["id"]
    assert client.post(f"/api/v1/admin/ambassador/tasks/{task_id}/publish", headers=admin.headers).status_code == 200
    return task_id


def test_pages_need_an_admin_session(client, make_engineer, web_login):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location, path
    engineer = make_engineer()
    client.put("/api/v1/me/password", headers=engineer.headers, json=engineer.first_password("eng-pass-123"))
    web_login(engineer.employee_no, "eng-pass-123")
    for path in PAGES:
        assert client.get(path, headers={"Accept": "text/html"}).status_code == 403, path


def test_create_publish_edit_and_close_a_task_in_the_console(app, console, make_estate):
    estate = make_estate()
    with app.app_context():
        silver = db.session.scalar(sa.select(Level.id).where(Level.position == 2))
    deadline = utcnow() + timedelta(days=3)
    # Invalid first: the errors show on the form, nothing is saved.
    response = post_form(console, PAGES[1], PAGES[1], {
        "title": "", "kind": "content", "points": "-5", "deadline": local(deadline), "per_person_limit": "1",
        "audience_estate_ids": "abc"})
    assert response.status_code == 200
    page = html(response)
    assert "请填写标题" in page and "不能小于 0" in page and "请填写小区编号" in page
    past = post_form(console, PAGES[1], PAGES[1], {
        "title": "过去", "kind": "content", "points": "5", "deadline": local(utcnow() - timedelta(hours=1)),
        "per_person_limit": "1"})
    assert "须晚于当前时间" in html(past)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0

    response = post_form(console, PAGES[1], PAGES[1], [
        ("title", "拍摄安装视频"), ("description", "拍一段 30 秒视频"), ("kind", "content"), ("points", "80"),
        ("deadline", local(deadline)), ("total_limit", "10"), ("per_person_limit", "2"),
        ("proof_required", "link"), ("proof_required", "photos"), ("audience_level_ids", str(silver)),
        ("audience_estate_ids", f"{estate}"), ("audience_cities", "深圳市，广州市")], follow_redirects=True)
    assert "任务已保存为草稿" in flashes(response)
    with app.app_context():
        task = db.session.scalars(sa.select(Task)).one()
        assert (task.status, task.points, task.total_limit, task.per_person_limit) == ("draft", 80, 10, 2)
        assert task.proof_required == ["link", "photos"] and task.audience_level_ids == [silver]
        assert task.audience_estate_ids == [estate] and task.audience_cities == ["广州市", "深圳市"]
        assert task.deadline == deadline.replace(second=0, microsecond=0)
        task_id = task.id
    detail = f"/admin/ambassador/tasks/{task_id}"
    assert "拍摄安装视频" in html(console.get(detail)) and 'data-stat="reach"' in html(console.get(detail))

    response = post_form(console, detail, f"{detail}/publish", {}, follow_redirects=True)
    assert any("任务已发布" in f for f in flashes(response))
    # A published task's form has only the changeable fields; a shorter deadline is refused on the field.
    edit = html(console.get(f"{detail}/edit"))
    assert 'data-testid="locked-facts"' in edit and 'name="points"' not in edit
    response = post_form(console, f"{detail}/edit", f"{detail}/edit", {
        "title": "拍摄安装视频（新）", "deadline": local(deadline - timedelta(days=1)), "total_limit": "10",
        "per_person_limit": "2"})
    assert response.status_code == 200 and "发布后只能延后" in html(response)
    response = post_form(console, f"{detail}/edit", f"{detail}/edit", {
        "title": "拍摄安装视频（新）", "deadline": local(deadline + timedelta(days=1)), "total_limit": "20",
        "per_person_limit": "2", "points": "999"}, follow_redirects=True)
    assert "任务已保存" in flashes(response)
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert (task.title, task.total_limit, task.points) == ("拍摄安装视频（新）", 20, 80)

    response = post_form(console, detail, f"{detail}/close", {}, follow_redirects=True)
    assert any("任务已结束" in f for f in flashes(response))
    response = console.get(f"{detail}/edit", follow_redirects=True)
    assert "任务已结束，不能再修改" in flashes(response)
    listing = html(console.get("/admin/ambassador/tasks?status=closed"))
    assert "拍摄安装视频（新）" in listing and "已结束" in listing
    assert "拍摄安装视频" not in html(console.get("/admin/ambassador/tasks?status=draft"))


def form_values(page: str) -> dict:
    """The values a browser would post back from the task form as rendered."""
    values = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page))
    for name, body in re.findall(r'<textarea[^>]*name="(\w+)"[^>]*>(.*?)</textarea>', page, re.S):
        values[name] = body.strip()
    selected = re.search(r'<select[^>]*name="kind".*?<option selected value="(\w+)"', page, re.S)
    if selected:
        values["kind"] = selected.group(1)
    values.pop("csrf_token", None)
    return values


def test_saving_an_unchanged_form_changes_nothing(app, console, make_estate):
    """The editor shows the stored values as they are entered: the deadline in Shanghai time and
    the audience lists comma-separated, so saving the form as shown keeps the task as it was."""
    estate = make_estate()
    deadline = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    task_id = console.post("/api/v1/admin/ambassador/tasks", headers=console.admin.headers, json={
        "title": "草稿任务", "description": "说明", "kind": "activity", "points": 30, "deadline": deadline.isoformat(),
        "audience_estate_ids": [estate], "audience_cities": ["深圳市", "广州市"], "total_limit": 5}).json["id"]
    edit = f"/admin/ambassador/tasks/{task_id}/edit"
    page = html(console.get(edit))
    assert f'value="{local(deadline)}"' in page and f'value="{estate}"' in page and 'value="广州市，深圳市"' in page
    values = form_values(page)
    response = post_form(console, edit, edit, {**values, "kind": "activity"}, follow_redirects=True)
    assert "任务已保存" in flashes(response), html(response)[:3000]
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert (task.deadline, task.audience_estate_ids, task.audience_cities, task.points, task.total_limit) == (
            deadline, [estate], ["广州市", "深圳市"], 30, 5)


def test_task_page_shows_statistics(app, console, make_ambassador):
    task = api_task(console, console.admin, points=10)
    ambassadors = [make_ambassador(level=3) for _ in range(2)]
    for account in ambassadors:
        console.post(f"/api/v1/ambassador/tasks/{task}/submissions", headers=account.headers, json={"text": "完成"})
    with app.app_context():
        first = db.session.scalars(sa.select(TaskSubmission.id).order_by(TaskSubmission.id)).first()
    console.post(f"/api/v1/admin/ambassador/submissions/{first}/approve", headers=console.admin.headers)
    page = html(console.get(f"/admin/ambassador/tasks/{task}"))
    stats = dict(re.findall(r'data-stat="(\w+)">(\d+)<', page))
    assert stats == {"reach": "2", "accepted": "2", "submitters": "2", "approved": "1", "rejected": "0",
                     "pending": "1", "points_paid": "12"}
    assert len(re.findall(r'data-testid="recent-row"', page)) == 2


from tests.ambassador.tasks.test_tasks import _upload  # noqa: E402


def test_review_queue_single_and_confirmed_bulk_decisions(app, console, make_ambassador):
    task = api_task(console, console.admin, total_limit=2, proof_required=["photos"])
    crowd = [make_ambassador() for _ in range(4)]
    ids, photos = [], []
    for account in crowd:
        photo = _upload(console, account)
        photos.append(photo)
        response = console.post(f"/api/v1/ambassador/tasks/{task}/submissions", headers=account.headers,
                                json={"photos": [photo, "https://cdn.example.com/1.png"]})
        ids.append(response.json["id"])
    queue = "/admin/ambassador/submissions"
    page = html(console.get(queue))
    assert [int(i) for i in re.findall(r'data-testid="submission-row" data-id="(\d+)"', page)] == ids  # oldest first
    assert f'src="/api/v1/uploads/{photos[0]}"' in page

    # One by one: reject needs a reason.
    response = post_form(console, queue, f"{queue}/{ids[0]}/reject", {"reason": "", "next": queue},
                         follow_redirects=True)
    assert "驳回必须填写原因" in flashes(response)
    response = post_form(console, queue, f"{queue}/{ids[0]}/reject", {"reason": "照片模糊", "next": queue},
                         follow_redirects=True)
    assert any("已驳回" in f for f in flashes(response))
    response = post_form(console, queue, f"{queue}/{ids[1]}/approve", {"next": queue}, follow_redirects=True)
    assert any("发放 100 积分" in f for f in flashes(response))

    # Bulk: the first POST only shows what will happen.
    bulk = [("ids", str(i)) for i in ids] + [("action", "approve"), ("next", queue)]
    response = post_form(console, queue, f"{queue}/bulk", bulk)
    confirm = html(response)
    assert response.status_code == 200 and "确认批量通过" in confirm and "确认通过 2 条" in confirm
    assert len(re.findall(r'data-testid="confirm-row"', confirm)) == 4 and "已被处理，将跳过" in confirm
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TaskSubmission).where(
            TaskSubmission.status == "pending")) == 2
    response = console.post(f"{queue}/bulk",
                            data=MultiDict([("csrf_token", csrf_token(confirm)), *bulk, ("confirmed", "1")]),
                            follow_redirects=True)
    messages = flashes(response)
    assert "已通过 1 条提交" in messages
    assert any("名额已满" in m and "已被处理" in m for m in messages), messages
    with app.app_context():
        statuses = [db.session.get(TaskSubmission, i).status for i in ids]
        assert statuses == ["rejected", "approved", "approved", "pending"]
        assert [points.balance(a.user_id).available for a in crowd] == [0, 100, 100, 0]

    # Bulk reject needs a reason, then confirms it.
    response = post_form(console, queue, f"{queue}/bulk", [("ids", str(ids[3])), ("action", "reject"),
                                                            ("next", queue)], follow_redirects=True)
    assert "批量驳回必须填写驳回原因" in flashes(response)
    reject = [("ids", str(ids[3])), ("action", "reject"), ("reason", "名额已满"), ("next", queue)]
    confirm = html(post_form(console, queue, f"{queue}/bulk", reject))
    assert 'data-testid="bulk-reason">名额已满<' in confirm
    response = console.post(f"{queue}/bulk",
                            data=MultiDict([("csrf_token", csrf_token(confirm)), *reject, ("confirmed", "1")]),
                            follow_redirects=True)
    assert "已驳回 1 条提交" in flashes(response)
    assert "没有“待审核”的提交" in html(console.get(queue))
    filtered = html(console.get(f"{queue}?status=all&task_id={task}"))
    assert len(re.findall(r'data-testid="submission-row"', filtered)) == 4 and "照片模糊" in filtered


def test_bulk_without_a_csrf_token_is_refused(console):
    response = console.post("/admin/ambassador/submissions/bulk", data={"ids": "1", "action": "approve"})
    assert response.status_code in (400, 403)
