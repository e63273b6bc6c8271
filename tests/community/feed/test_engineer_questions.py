"""The mini-program's 待回答 for engineers (GET /api/v1/engineer/questions): the questions of the
estates they cover that nobody answered, oldest first, a page at a time; the same list as the web
workbench's 小区问答."""
import pytest

from tests.community.feed.test_feed import post, upload


@pytest.fixture
def estates(make_estate):
    return make_estate(name="翠竹苑"), make_estate(name="碧水湾"), make_estate(name="别人的小区")


def _resident(client, login, app, estate, name):
    account = login()
    client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate})
    from core.accounts.models import User
    from core.extensions import db
    with app.app_context():
        db.session.get(User, account.user_id).display_name = name
        db.session.commit()
    return account


def _questions(client, engineer, **query):
    r = client.get("/api/v1/engineer/questions", headers=engineer.headers, query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def test_open_questions_of_my_estates_oldest_first(app, client, login, estates, make_engineer):
    mine, also_mine, not_mine = estates
    engineer = make_engineer([mine, also_mine])
    asker = _resident(client, login, app, mine, "陈阿姨")
    neighbour = _resident(client, login, app, also_mine, "")
    stranger = _resident(client, login, app, not_mine, "路人")
    photo = upload(client, asker)
    first = post(client, asker, mine, text="热水器漏水怎么办？", photo_ids=[photo]).json
    second = post(client, neighbour, also_mine, text="净水器滤芯多久换？").json
    post(client, stranger, not_mine, text="别的小区的提问")
    post(client, asker, mine, kind="photo", text="晒晒新装的空调")  # not a question
    page = _questions(client, engineer)
    assert page["next_cursor"] is None
    assert [(q["id"], q["estate_id"], q["estate_name"], q["text"]) for q in page["items"]] == [
        (first["id"], mine, "翠竹苑", "热水器漏水怎么办？"), (second["id"], also_mine, "碧水湾", "净水器滤芯多久换？")]
    shown = page["items"][0]
    assert shown["photos"] == [f"http://linli.test/api/v1/uploads/{photo}"]
    assert shown["author"] == {"id": asker.user_id, "name": "陈阿姨", "badge": None, "badge_label": None}
    assert page["items"][1]["author"]["name"] == "邻居"  # no display name
    assert shown["my_answer_held"] is False and shown["created_at"]
    # a page at a time, oldest first
    one = _questions(client, engineer, limit=1)
    assert [q["id"] for q in one["items"]] == [first["id"]]
    rest = _questions(client, engineer, limit=1, cursor=one["next_cursor"])
    assert [q["id"] for q in rest["items"]] == [second["id"]] and rest["next_cursor"] is None


def test_an_answer_takes_the_question_off_unless_it_is_held(app, client, login, estates, make_engineer):
    mine = estates[0]
    engineer = make_engineer([mine], name="王建国")
    asker = _resident(client, login, app, mine, "陈阿姨")
    question = post(client, asker, mine).json
    held = client.post(f"/api/v1/posts/{question['id']}/answers", headers=engineer.headers, json={"text": "加微信细聊"})
    assert held.status_code == 201 and held.json["status"] == "held"
    [waiting] = _questions(client, engineer)["items"]
    assert (waiting["id"], waiting["my_answer_held"]) == (question["id"], True)
    fine = client.post(f"/api/v1/posts/{question['id']}/answers", headers=engineer.headers,
                       json={"text": "关闭总阀后联系我上门"})
    assert fine.status_code == 201 and (fine.json["status"], fine.json["status_label"]) == ("published", "已发布")
    assert _questions(client, engineer)["items"] == []


def test_for_engineers_only(app, client, login, estates):
    resident = _resident(client, login, app, estates[0], "陈阿姨")
    r = client.get("/api/v1/engineer/questions", headers=resident.headers)
    assert r.status_code == 403
    assert client.get("/api/v1/engineer/questions").status_code == 401
