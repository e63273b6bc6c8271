"""Author names and role badges in every feed response, and the staff text policy: WeChat checks
staff text when it can; when it cannot, staff text is published and audited while a resident's is
held; every author is told what happened (API and engineer workbench)."""
import pytest
import sqlalchemy as sa

from tests.community.feed.test_feed import err, post, upload
from tests.community.stats.test_ranking_and_history import count_statements
from tests.conftest import csrf_token, flashes, html

TWO_HOURS = 7200
HELD = "已提交，审核通过后显示"


@pytest.fixture
def estate(make_estate):
    return make_estate()


@pytest.fixture
def join(client):
    def do(account, estate):
        r = client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate})
        assert r.status_code in (200, 201), r.json
        return account
    return do


@pytest.fixture
def resident(login, join, estate):
    return join(login(), estate)


def set_display_name(app, user_id: int, name: str) -> None:
    from core.accounts.models import User
    from core.extensions import db
    with app.app_context():
        db.session.get(User, user_id).display_name = name
        db.session.commit()


def feed_audit(app) -> list[tuple[str, str, dict]]:
    from core.extensions import db
    from core.models import AuditEntry
    with app.app_context():
        return [(a, o, after) for a, o, after in db.session.execute(
            sa.select(AuditEntry.action, AuditEntry.object_id, AuditEntry.after)
            .where(AuditEntry.action.like("feed.%")).order_by(AuditEntry.id))]


def verdict_of(app, model_name: str, item_id: int) -> tuple[str, str]:
    from community.feed import models
    from core.extensions import db
    with app.app_context():
        item = db.session.get(getattr(models, model_name), item_id)
        return item.status, item.security_verdict


def answer(client, who, post_id, text="电梯每 15 天维保一次"):
    return client.post(f"/api/v1/posts/{post_id}/answers", headers=who.headers, json={"text": text})


def comment(client, who, post_id, text="谢谢分享"):
    return client.post(f"/api/v1/posts/{post_id}/comments", headers=who.headers, json={"text": text})


def author(name, badge=None, label=None, id=None):
    return {"name": name, "badge": badge, "badge_label": label} | ({"id": id} if id is not None else {})


def shown(item) -> dict:
    return {k: item["author"][k] for k in ("name", "badge", "badge_label")}


# -- names and badges ---------------------------------------------------------------------------

def test_every_feed_response_shows_names_and_role_badges(app, client, estate, resident, login, join, make_engineer,
                                                         agent, admin, make_ambassador):
    engineer = make_engineer([estate], name="王建国")
    set_display_name(app, engineer.user_id, "小王爱钓鱼")  # an engineer is shown by the engineer's name
    ambassador = join(login(), estate)
    make_ambassador(level=1, user=ambassador)
    set_display_name(app, ambassador.user_id, "李阿姨")
    named = join(login(), estate)
    set_display_name(app, named.user_id, "张先生")
    set_display_name(app, agent.user_id, "客服小美")
    set_display_name(app, admin.user_id, "运营部")

    question = post(client, resident, estate, text="净水器滤芯多久换？")
    assert question.status_code == 201
    assert question.json["author"] == {"id": resident.user_id, "name": "邻居", "badge": None, "badge_label": None}
    share = post(client, ambassador, estate, kind="photo", text="新装的净水器", photo_ids=[upload(client, ambassador)])
    assert shown(share.json) == author("李阿姨", "ambassador", "服务代言人")
    notice = post(client, agent, estate, kind="announcement", text="周六停水")
    assert shown(notice.json) == author("客服小美", "agent", "客服")
    qid = question.json["id"]
    created = [answer(client, engineer, qid), answer(client, admin, qid, "物业已安排"), comment(client, named, qid),
               comment(client, ambassador, qid, "我家也是半年换一次")]
    assert [r.status_code for r in created] == [201] * 4
    assert [shown(r.json) for r in created] == [
        author("王建国", "engineer", "工程师"), author("运营部", "admin", "管理员"), author("张先生"),
        author("李阿姨", "ambassador", "服务代言人")]

    items = client.get(f"/api/v1/estates/{estate}/feed", headers=named.headers).json["items"]
    assert [(p["id"], shown(p)) for p in items] == [
        (notice.json["id"], author("客服小美", "agent", "客服")),
        (share.json["id"], author("李阿姨", "ambassador", "服务代言人")),
        (qid, author("邻居"))]
    assert all(p["author"]["id"] for p in items)
    detail = client.get(f"/api/v1/posts/{qid}", headers=named.headers).json
    assert shown(detail["post"]) == author("邻居")
    assert [(a["author"]["id"], shown(a)) for a in detail["answers"]] == [
        (engineer.user_id, author("王建国", "engineer", "工程师")), (admin.user_id, author("运营部", "admin", "管理员"))]
    assert [shown(c) for c in detail["comments"]] == [author("张先生"), author("李阿姨", "ambassador", "服务代言人")]


def test_a_staff_role_wins_over_the_ambassador_badge_and_the_badge_is_what_the_author_was(
        app, client, estate, resident, make_engineer, make_ambassador, login, join):
    engineer = make_engineer([estate])
    make_ambassador(level=2, user=engineer)
    by_engineer = post(client, engineer, estate, kind="review", text="今天给 3 栋换了滤芯")
    assert shown(by_engineer.json)["badge"] == "engineer"
    ambassador = join(login(), estate)
    make_ambassador(level=1, user=ambassador)
    before = post(client, ambassador, estate, text="小区有推荐的清洗师傅吗").json
    from ambassador.models import Ambassador
    from core.extensions import db
    with app.app_context():  # the ambassador stops being one: what they wrote before keeps its badge
        db.session.execute(sa.update(Ambassador).where(Ambassador.user_id == ambassador.user_id)
                           .values(status="suspended"))
        db.session.commit()
    after = post(client, ambassador, estate, text="谢谢大家").json
    badges = {p["id"]: p["author"]["badge"] for p in
              client.get(f"/api/v1/estates/{estate}/feed", headers=resident.headers).json["items"]}
    assert badges == {by_engineer.json["id"]: "engineer", before["id"]: "ambassador", after["id"]: None}


def test_the_feed_with_badged_authors_stays_at_three_statements(app, client, estate, resident, make_engineer, agent,
                                                               login, join, make_ambassador):
    engineer = make_engineer([estate])
    ambassador = join(login(), estate)
    make_ambassador(level=1, user=ambassador)
    for who in (resident, engineer, ambassador, resident, engineer):
        assert post(client, who, estate, kind="review", text="服务不错").status_code == 201
    assert post(client, agent, estate, kind="announcement", text="停电通知").status_code == 201
    for limit in (1, 50):
        with count_statements(app) as statements:
            r = client.get(f"/api/v1/estates/{estate}/feed?limit={limit}", headers=resident.headers)
        assert r.status_code == 200 and len(r.json["items"]) == min(limit, 6)
        assert len(statements) <= 3, statements
    badges = [p["author"]["badge"] for p in r.json["items"]]
    assert badges == ["agent", "engineer", None, "ambassador", "engineer", None]


# -- the staff text policy: API -----------------------------------------------------------------

def test_staff_text_wechat_cannot_check_is_published_and_audited(app, client, wechat, estate, resident,
                                                                 make_engineer):
    question = post(client, resident, estate).json
    engineer = make_engineer([estate])
    wechat.advance(TWO_HOURS + 60)  # nobody opened the mini-program for two hours: WeChat answers 61010
    r = answer(client, engineer, question["id"])
    assert r.status_code == 201
    assert (r.json["status"], r.json["status_label"]) == ("published", "已发布")
    assert verdict_of(app, "Answer", r.json["id"]) == ("published", "unchecked")
    detail = client.get(f"/api/v1/posts/{question['id']}", headers=resident.headers).json
    assert [a["id"] for a in detail["answers"]] == [r.json["id"]] and detail["post"]["answers_count"] == 1
    # the same silence holds a resident's text
    held = post(client, resident, estate, text="小区停车位怎么申请")
    assert (held.json["status"], held.json["status_label"]) == ("held", HELD)
    # WeChat down: the engineer's comment is published, on the record too
    wechat.fault("wxa/msg_sec_check", count=2, errcode=-1)
    c = comment(client, engineer, question["id"], "有问题随时找我")
    assert (c.json["status"], c.json["status_label"]) == ("published", "已发布")
    assert [(a, o, after["why"]) for a, o, after in feed_audit(app)] == [
        ("feed.answer.publish_unchecked", str(r.json["id"]), "wechat_error(61010)"),
        ("feed.comment.publish_unchecked", str(c.json["id"]), "wechat_unavailable(-1)")]


def test_staff_text_wechat_can_check_is_checked_like_anyones(app, client, wechat, estate, resident, make_engineer):
    question = post(client, resident, estate).json
    engineer = make_engineer([estate])
    fine = answer(client, engineer, question["id"])
    assert (fine.json["status"], fine.json["status_label"]) == ("published", "已发布")
    assert verdict_of(app, "Answer", fine.json["id"]) == ("published", "pass")
    risky = answer(client, engineer, question["id"], "可以代开发票")
    assert risky.status_code == 409 and err(risky) == "content_risky"
    held = answer(client, engineer, question["id"], "详细情况加微信聊")
    assert held.status_code == 201 and (held.json["status"], held.json["status_label"]) == ("held", HELD)
    detail = client.get(f"/api/v1/posts/{question['id']}", headers=resident.headers).json
    assert [a["id"] for a in detail["answers"]] == [fine.json["id"]]  # the asker does not see the held one
    mine = client.get(f"/api/v1/posts/{question['id']}", headers=engineer.headers).json
    assert {a["id"]: a["status_label"] for a in mine["answers"]} == {fine.json["id"]: "已发布", held.json["id"]: HELD}
    assert feed_audit(app) == []  # nothing went unchecked


def test_console_staff_without_an_openid_publish_unchecked_and_on_the_record(app, client, wechat, estate, resident,
                                                                            admin, agent):
    notice = post(client, admin, estate, kind="announcement", text="周六上午停水")
    reply = comment(client, agent, notice.json["id"], "已通知物业")
    assert [(r.status_code, r.json["status"]) for r in (notice, reply)] == [(201, "published")] * 2
    assert wechat.calls("wxa/msg_sec_check") == []  # no openid: nothing WeChat could be asked
    assert [(a, o, after) for a, o, after in feed_audit(app)] == [
        ("feed.post.publish_unchecked", str(notice.json["id"]),
         {"status": "published", "security_verdict": "unchecked", "why": "no_openid"}),
        ("feed.comment.publish_unchecked", str(reply.json["id"]),
         {"status": "published", "security_verdict": "unchecked", "why": "no_openid"})]


def test_a_staff_photo_wechat_cannot_check_leaves_the_post_published(app, client, wechat, estate, resident,
                                                                     make_engineer):
    engineer = make_engineer([estate])
    photo = upload(client, engineer)
    wechat.fault("wxa/media_check_async", count=2, errcode=-1)
    created = post(client, engineer, estate, kind="photo", text="今日维修现场", photo_ids=[photo])
    assert created.status_code == 201 and created.json["status"] == "published"
    assert verdict_of(app, "Post", created.json["id"]) == ("published", "unchecked")
    assert [(a, after["why"]) for a, _, after in feed_audit(app)] == [
        ("feed.post.publish_unchecked", "wechat_unavailable(-1)")]
    assert [p["id"] for p in client.get(f"/api/v1/estates/{estate}/feed", headers=resident.headers).json["items"]] \
        == [created.json["id"]]


def test_moderators_list_held_and_unchecked_answers_and_comments(app, client, wechat, estate, resident,
                                                                 make_engineer, admin):
    question = post(client, resident, estate).json
    engineer = make_engineer([estate], name="赵师傅")
    held = answer(client, engineer, question["id"], "加微信细聊").json
    wechat.advance(TWO_HOURS + 60)
    unchecked = comment(client, engineer, question["id"], "周末上门").json
    page = client.get("/api/v1/admin/answers?status=held", headers=admin.headers).json
    assert [(a["id"], a["post_id"], shown(a)) for a in page["items"]] == [
        (held["id"], question["id"], author("赵师傅", "engineer", "工程师"))]
    page = client.get("/api/v1/admin/comments?status=unchecked", headers=admin.headers).json
    assert [c["id"] for c in page["items"]] == [unchecked["id"]]
    assert client.get("/api/v1/admin/comments?status=held", headers=admin.headers).json["items"] == []
    assert client.get("/api/v1/admin/answers", headers=resident.headers).status_code == 403
    r = client.post(f"/api/v1/admin/moderation/answer/{held['id']}", headers=admin.headers,
                    json={"action": "restore", "reason": "工程师正常沟通"})
    assert r.status_code == 204
    detail = client.get(f"/api/v1/posts/{question['id']}", headers=resident.headers).json
    assert [a["id"] for a in detail["answers"]] == [held["id"]] and detail["post"]["answers_count"] == 1


# -- the staff text policy: the engineer workbench --------------------------------------------------

@pytest.fixture
def workbench(client, make_engineer, web_login, estate):
    """An engineer covering the estate, logged in to the web workbench."""
    engineer = make_engineer([estate])
    client.put("/api/v1/me/password", headers=engineer.headers, json=engineer.first_password("eng-pass-123"))
    web_login(engineer.employee_no, "eng-pass-123")
    return engineer


def answer_on_the_workbench(client, question_id, text):
    page = html(client.get("/engineer/questions"))
    return client.post(f"/engineer/questions/{question_id}/answer", data={"csrf_token": csrf_token(page), "text": text},
                       follow_redirects=True)


def test_the_workbench_says_published_when_wechat_cannot_check_an_engineer(app, client, wechat, estate, resident,
                                                                         workbench):
    question = post(client, resident, estate, text="热水器漏水怎么办？").json
    wechat.advance(TWO_HOURS + 60)  # the engineer works at the desk, not in the mini-program
    r = answer_on_the_workbench(client, question["id"], "先关进水阀，我明天上门")
    assert flashes(r) == ["回答已发布"]
    assert "热水器漏水怎么办？" not in html(r)  # answered: off the list
    detail = client.get(f"/api/v1/posts/{question['id']}", headers=resident.headers).json
    assert [(a["text"], a["author"]["badge"]) for a in detail["answers"]] == [("先关进水阀，我明天上门", "engineer")]
    assert [(a, after["why"]) for a, _, after in feed_audit(app)] == [
        ("feed.answer.publish_unchecked", "wechat_error(61010)")]


def test_the_workbench_never_says_published_for_a_held_answer(app, client, wechat, estate, resident, workbench,
                                                             make_admin, web_login):
    question = post(client, resident, estate, text="空调不制冷").json
    r = answer_on_the_workbench(client, question["id"], "需要检测，加微信发我照片")
    assert flashes(r) == [f"回答{HELD}"]
    page = html(r)
    assert "空调不制冷" in page and 'data-testid="answer-held"' in page  # still open, and marked as waiting
    assert client.get(f"/api/v1/posts/{question['id']}", headers=resident.headers).json["answers"] == []
    # the moderator finds the held answer in the console and restores it: the asker sees it
    client.post("/logout", data={"csrf_token": csrf_token(html(client.get("/engineer/questions")))})
    make_admin("mod-boss", "boss-pass-123")
    web_login("mod-boss", "boss-pass-123")
    page = html(client.get("/admin/moderation?kind=answer&status=held"))
    assert "需要检测，加微信发我照片" in page and "空调不制冷" in page
    assert '<span class="badge active">工程师</span>' in page
    r = client.post(f"/admin/moderation/answer/{_held_answer_id(app, question['id'])}",
                    data={"csrf_token": csrf_token(page), "action": "restore", "reason": "正常沟通"},
                    follow_redirects=True)
    assert flashes(r) == ["已恢复"]
    answers = client.get(f"/api/v1/posts/{question['id']}", headers=resident.headers).json["answers"]
    assert [a["text"] for a in answers] == ["需要检测，加微信发我照片"]
    assert client.get("/admin/moderation?kind=reply").status_code == 404


def _held_answer_id(app, post_id: int) -> int:
    from community.feed.models import Answer
    from core.extensions import db
    with app.app_context():
        return db.session.scalars(sa.select(Answer.id).where(Answer.post_id == post_id)).one()
