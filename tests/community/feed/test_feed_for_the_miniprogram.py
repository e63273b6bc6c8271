"""What the mini-program's estate page and post page need from the feed: a question's accepted
answer under it in the feed (still three statements), taking back a like, and whether the caller
may accept an answer."""
import pytest

from tests.community.feed.test_feed import err, post
from tests.community.stats.test_ranking_and_history import count_statements


@pytest.fixture
def estate(make_estate):
    return make_estate()


@pytest.fixture
def resident(client, login, estate):
    account = login()
    client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate})
    return account


def answer(client, who, post_id, text):
    r = client.post(f"/api/v1/posts/{post_id}/answers", headers=who.headers, json={"text": text})
    assert r.status_code == 201, r.json
    return r.json


def test_the_feed_shows_a_questions_accepted_answer_with_its_author(app, client, estate, resident, make_engineer,
                                                                    admin):
    question = post(client, resident, estate).json
    other = post(client, resident, estate, text="小区快递柜在哪里？").json
    review = post(client, resident, estate, kind="review", text="师傅很专业").json
    engineer = make_engineer([estate], name="王建国")
    first = answer(client, engineer, question["id"], "电梯按规定每 15 天维保一次")
    answer(client, engineer, other["id"], "在 3 号楼下")
    feed = {p["id"]: p for p in client.get(f"/api/v1/estates/{estate}/feed", headers=resident.headers).json["items"]}
    assert feed[question["id"]]["accepted_answer"] is None  # answered, not accepted
    assert client.post(f"/api/v1/answers/{first['id']}/accept", headers=resident.headers).status_code == 200
    feed = {p["id"]: p for p in client.get(f"/api/v1/estates/{estate}/feed", headers=resident.headers).json["items"]}
    assert feed[question["id"]]["accepted_answer"] == {
        "id": first["id"], "text": "电梯按规定每 15 天维保一次",
        "author": {"id": engineer.user_id, "name": "王建国", "badge": "engineer", "badge_label": "工程师"}}
    assert feed[other["id"]]["accepted_answer"] is None and feed[review["id"]]["accepted_answer"] is None
    # a hidden accepted answer is not shown under the question any more
    assert client.post(f"/api/v1/admin/moderation/answer/{first['id']}", headers=admin.headers,
                       json={"action": "hide", "reason": "误导"}).status_code == 204
    feed = {p["id"]: p for p in client.get(f"/api/v1/estates/{estate}/feed", headers=resident.headers).json["items"]}
    assert feed[question["id"]]["accepted_answer"] is None
    with count_statements(app) as statements:
        assert client.get(f"/api/v1/estates/{estate}/feed?limit=50", headers=resident.headers).status_code == 200
    assert len(statements) <= 3, statements


def test_a_like_can_be_taken_back_once(client, estate, resident, make_engineer, login):
    item = post(client, resident, estate).json
    engineer = make_engineer([estate])
    url = f"/api/v1/posts/{item['id']}/like"
    assert client.post(url, headers=resident.headers).json == {"post_id": item["id"], "likes_count": 1,
                                                               "liked": True, "created": True}
    client.post(url, headers=engineer.headers)
    removed = [client.delete(url, headers=resident.headers).json for _ in range(2)]
    assert removed == [{"post_id": item["id"], "likes_count": 1, "liked": False, "removed": True},
                       {"post_id": item["id"], "likes_count": 1, "liked": False, "removed": False}]
    detail = client.get(f"/api/v1/posts/{item['id']}", headers=resident.headers).json
    assert detail["liked"] is False and detail["post"]["likes_count"] == 1
    assert client.post(url, headers=resident.headers).json["created"] is True  # liked again
    outsider = client.delete(url, headers=login().headers)
    assert outsider.status_code == 404 and err(outsider) == "post_not_found"


def test_only_the_asker_may_accept(client, estate, resident, make_engineer, login):
    question = post(client, resident, estate).json
    engineer = make_engineer([estate])
    neighbour = login()
    client.post("/api/v1/me/estates", headers=neighbour.headers, json={"estate_id": estate})
    flags = {name: client.get(f"/api/v1/posts/{question['id']}", headers=who.headers).json
             for name, who in (("asker", resident), ("engineer", engineer), ("neighbour", neighbour))}
    assert {name: (d["can_accept"], d["can_answer"]) for name, d in flags.items()} == {
        "asker": (True, False), "engineer": (False, True), "neighbour": (False, False)}
    review = post(client, resident, estate, kind="review", text="师傅很专业").json
    assert client.get(f"/api/v1/posts/{review['id']}", headers=resident.headers).json["can_accept"] is False


def test_accepting_answers_with_the_authors_name_and_field_errors_are_chinese(client, estate, resident,
                                                                              make_engineer):
    question = post(client, resident, estate).json
    engineer = make_engineer([estate], name="王建国")
    first = answer(client, engineer, question["id"], "每 15 天一次")
    for _ in range(2):  # accepting again answers the same
        accepted = client.post(f"/api/v1/answers/{first['id']}/accept", headers=resident.headers).json
        assert accepted["accepted"] is True and accepted["author"]["name"] == "王建国"
    empty = client.post(f"/api/v1/posts/{question['id']}/answers", headers=engineer.headers, json={"text": ""})
    assert empty.status_code == 422 and empty.json["error"]["details"]["fields"] == {"text": ["回答须为 1–2000 字"]}
    missing = client.post(f"/api/v1/posts/{question['id']}/comments", headers=resident.headers, json={})
    assert missing.json["error"]["details"]["fields"] == {"text": ["请填写评论"]}
    long = client.post(f"/api/v1/posts/{question['id']}/comments", headers=resident.headers, json={"text": "长" * 501})
    assert long.json["error"]["details"]["fields"] == {"text": ["评论须为 1–500 字"]}
    too_many = post(client, resident, estate, photo_ids=[f"p{i}.jpg" for i in range(10)])
    assert too_many.status_code == 422 and too_many.json["error"]["details"]["fields"] == {"photo_ids": ["最多 9 张照片"]}
