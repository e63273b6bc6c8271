"""Notes, tags and follow-ups: validation in Chinese, lengths, idempotent writes (Idempotency-Key,
tags and completion by nature), the engineer's follow-up list by status and due date."""
from __future__ import annotations

from datetime import datetime, timedelta

from core.formatting import BUSINESS_TZ

TODAY = datetime.now(BUSINESS_TZ).date()


def path(customer, tail=""):
    return f"/api/v1/engineer/customers/{customer.user_id}{tail}"


def test_notes_newest_first_with_their_author_and_limits(client, steward, admin, customer):
    first = client.post(path(customer, "/notes"), headers=steward.headers, json={"text": "  家里有老人，先联系女儿  "})
    assert first.status_code == 201
    assert first.json["text"] == "家里有老人，先联系女儿" and first.json["author"] == {"id": steward.user_id, "name": "王建国"}
    assert client.post(path(customer, "/notes"), headers=admin.headers, json={"text": "客户来电询问延保"}).status_code == 201
    notes = client.get(path(customer, "/notes"), headers=steward.headers).json["items"]
    assert [n["text"] for n in notes] == ["客户来电询问延保", "家里有老人，先联系女儿"]
    assert notes[0]["author"] == {"id": admin.user_id, "name": "admin1"}
    page = client.get(path(customer, "/notes"), headers=steward.headers, query_string={"limit": 1}).json
    rest = client.get(path(customer, "/notes"), headers=steward.headers,
                      query_string={"limit": 1, "cursor": page["next_cursor"]}).json
    assert [n["text"] for n in page["items"] + rest["items"]] == [n["text"] for n in notes] and not rest["next_cursor"]

    for body, message in (({"text": "   "}, "请填写备注"), ({"text": "长" * 1001}, "1000 个字"), ({}, "必填")):
        bad = client.post(path(customer, "/notes"), headers=steward.headers, json=body)
        assert bad.status_code == 422, bad.json
        assert message in str(bad.json["error"]["details"]["fields"]["text"]) or message in bad.json["error"]["message"]


def test_a_retried_note_is_written_once(client, steward, customer):
    headers = {**steward.headers, "Idempotency-Key": "note-1"}
    first = client.post(path(customer, "/notes"), headers=headers, json={"text": "约了周六上午"})
    again = client.post(path(customer, "/notes"), headers=headers, json={"text": "约了周六上午"})
    assert first.status_code == again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    reused = client.post(path(customer, "/notes"), headers=headers, json={"text": "另一条"})
    assert reused.status_code == 409 and reused.json["error"]["code"] == "idempotency_key_reused"
    assert len(client.get(path(customer, "/notes"), headers=steward.headers).json["items"]) == 1


def test_tags_are_a_set_with_limits(client, steward, customer):
    h = steward.headers
    assert client.post(path(customer, "/tags"), headers=h, json={"tag": "VIP"}).json["items"] == ["VIP"]
    assert client.post(path(customer, "/tags"), headers=h, json={"tag": " VIP "}).json["items"] == ["VIP"]
    added = client.post(path(customer, "/tags"), headers=h, json={"tag": "老人 独居"}).json
    assert added["items"] == ["VIP", "老人 独居"] and "有宠物" in added["suggested"]
    assert client.delete(path(customer, "/tags/老人 独居"), headers=h).json["items"] == ["VIP"]
    assert client.delete(path(customer, "/tags/老人 独居"), headers=h).json["items"] == ["VIP"]  # gone already: fine
    for tag, message in (("一二三四五六七八九十一二三四五六七", "16 个字"), ("a/b", "不能含有 /"), ("  ", "请填写标签")):
        bad = client.post(path(customer, "/tags"), headers=h, json={"tag": tag})
        assert bad.status_code == 422 and message in str(bad.json["error"]), bad.json
    for n in range(19):
        assert client.post(path(customer, "/tags"), headers=h, json={"tag": f"标签{n}"}).status_code == 200
    full = client.post(path(customer, "/tags"), headers=h, json={"tag": "再来一个"})
    assert full.status_code == 409 and full.json["error"]["code"] == "too_many_tags"
    assert full.json["error"]["message"] == "每位客户最多 20 个标签"


def test_follow_ups_validate_their_date_and_text(client, steward, customer):
    h = steward.headers
    for body, field, message in (
            ({"due_on": (TODAY - timedelta(days=1)).isoformat(), "text": "回访"}, "due_on", "不能早于今天"),
            ({"due_on": (TODAY + timedelta(days=400)).isoformat(), "text": "回访"}, "due_on", "一年之内"),
            ({"due_on": "明天", "text": "回访"}, "due_on", "日期格式不对"),
            ({"due_on": TODAY.isoformat(), "text": " "}, "text", "请填写跟进内容"),
            ({"due_on": TODAY.isoformat(), "text": "长" * 501}, "text", "500 个字")):
        bad = client.post(path(customer, "/follow-ups"), headers=h, json=body)
        assert bad.status_code == 422, bad.json
        assert message in str(bad.json["error"]["details"]["fields"][field]), bad.json


def test_my_follow_ups_by_status_and_due_date(app, client, steward, make_customer, estate, customer):
    other = make_customer(steward, estate)
    h = steward.headers

    def add(who, days, text):
        response = client.post(path(who, "/follow-ups"), headers=h,
                               json={"due_on": (TODAY + timedelta(days=days)).isoformat(), "text": text})
        assert response.status_code == 201, response.json
        return response.json

    later, soon, today = add(customer, 10, "十天后"), add(other, 2, "两天后"), add(customer, 0, "今天")
    assert today["overdue"] is False and today["resident_name"] and today["done"] is False
    # one written for yesterday (straight to the table): overdue
    from community.book.models import FollowUp
    from core.extensions import db
    with app.app_context():
        db.session.add(FollowUp(resident_id=other.user_id, engineer_id=steward.engineer_id, author_id=steward.user_id,
                                due_on=TODAY - timedelta(days=1), text="昨天该做的"))
        db.session.commit()

    def texts(status, **query):
        return [f["text"] for f in client.get("/api/v1/engineer/follow-ups", headers=h,
                                              query_string={"status": status, **query}).json["items"]]

    assert texts("open") == ["昨天该做的", "今天", "两天后", "十天后"]
    assert texts("overdue") == ["昨天该做的"]
    assert texts("done") == []
    # done: once, a repeat answers the same; the list moves it
    done = client.post(f"/api/v1/engineer/follow-ups/{soon['id']}/done", headers=h)
    assert done.status_code == 200 and done.json["done"] and done.json["done_by_id"] == steward.user_id
    again = client.post(f"/api/v1/engineer/follow-ups/{soon['id']}/done", headers=h)
    assert again.status_code == 200 and again.json["done_at"] == done.json["done_at"]
    client.post(f"/api/v1/engineer/follow-ups/{later['id']}/done", headers=h)
    assert texts("open") == ["昨天该做的", "今天"]
    assert texts("done") == ["十天后", "两天后"]
    # pages by (due date, id)
    first = client.get("/api/v1/engineer/follow-ups", headers=h, query_string={"limit": 1}).json
    second = client.get("/api/v1/engineer/follow-ups", headers=h,
                        query_string={"limit": 1, "cursor": first["next_cursor"]}).json
    assert [f["text"] for f in first["items"] + second["items"]] == ["昨天该做的", "今天"]
    assert second["next_cursor"] is None
    bad = client.get("/api/v1/engineer/follow-ups", headers=h, query_string={"cursor": "bm9wZQ"})
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_cursor"
    assert client.get("/api/v1/engineer/follow-ups", headers=h, query_string={"status": "late"}).status_code == 422
    # the customer's own list: open by due date, then the done ones
    assert [f["text"] for f in client.get(path(customer, "/follow-ups"), headers=h).json["items"]] == ["今天", "十天后"]
    counts_page = client.get("/api/v1/engineer/follow-ups", headers=h, query_string={"status": "overdue"}).json
    assert counts_page["items"][0]["overdue"] is True


def test_follow_ups_of_someone_elses_customer_cannot_be_done(client, steward, make_engineer, estate, customer):
    follow_up = client.post(path(customer, "/follow-ups"), headers=steward.headers,
                            json={"due_on": TODAY.isoformat(), "text": "回访"}).json
    other = make_engineer([estate])
    response = client.post(f"/api/v1/engineer/follow-ups/{follow_up['id']}/done", headers=other.headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "follow_up_not_found"
    assert client.post("/api/v1/engineer/follow-ups/99999/done", headers=steward.headers).json["error"]["code"] == \
        "follow_up_not_found"
