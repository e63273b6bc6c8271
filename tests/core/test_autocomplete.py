"""Console pickers: estates, users and engineers found by name prefix, code, phone or its last
digits (indexed), the JSON endpoints staff call, and the forms that use them instead of ids."""
import sqlalchemy as sa

from community.estates import services as estates
from core.accounts import services as accounts
from core.accounts.models import User
from core.errors import ValidationFailed
from core.extensions import db
from tests.conftest import ON_POSTGRES, csrf_token, flashes, html, post_form


def _user(name, phone=None, username=None, roles=frozenset({"resident"})):
    user = User(display_name=name, phone=phone, username=username, roles=roles)
    db.session.add(user)
    db.session.flush()
    return user


def test_users_by_name_prefix_and_phone_tail(ctx):
    zhang = _user("张伟", "13812345678")
    zhang2 = _user("张三丰", "13900005678")
    li = _user("李娜", "13700001111", username="lina")
    db.session.commit()

    assert {u.id for u in accounts.pick_users("张")} == {zhang.id, zhang2.id}
    assert [u.id for u in accounts.pick_users("张伟")] == [zhang.id]
    assert [u.id for u in accounts.pick_users("伟")] == []  # a prefix, not a substring
    assert {u.id for u in accounts.pick_users("5678")} == {zhang.id, zhang2.id}  # last 4 digits
    assert [u.id for u in accounts.pick_users("45678")] == [zhang.id]  # last 5 digits
    assert [u.id for u in accounts.pick_users("138 1234 5678")] == [zhang.id]  # whole number, spaced
    assert accounts.pick_users("567") == []  # fewer than 4 digits is no phone search
    assert [u.id for u in accounts.pick_users("lina")] == [li.id]

    # The users list: the same prefixes and tails, and ids as before.
    assert {u.id for u in accounts.search_users(q="5678").items} == {zhang.id, zhang2.id}
    assert {u.id for u in accounts.search_users(q="张").items} == {zhang.id, zhang2.id}
    assert [u.id for u in accounts.search_users(q=str(li.id)).items] == [li.id]

    # Typed text without the picker's script: an exact phone, or one match; else a Chinese refusal.
    assert accounts.resolve_user("13812345678").id == zhang.id
    assert accounts.resolve_user("李").id == li.id
    for text, words in (("张", "匹配到多位用户"), ("王", "没有找到")):
        try:
            accounts.resolve_user(text)
        except ValidationFailed as exc:
            assert words in exc.details["fields"]["user"][0]
        else:
            raise AssertionError(text)


def test_phone_tail_is_computed_by_the_database_and_follows_changes(ctx):
    user = _user("王五", "13811112222")
    db.session.commit()
    db.session.execute(sa.update(User).where(User.id == user.id).values(phone="13933334444"))  # not through the ORM
    db.session.commit()
    assert db.session.scalar(sa.select(User.phone_tail).where(User.id == user.id)) == "4444"
    assert [u.id for u in accounts.pick_users("4444")] == [user.id]
    assert accounts.pick_users("2222") == []


def test_estates_by_code_and_name_prefix(ctx, make_estate):
    sun = make_estate(name="阳光花园", code="SZ-0001")
    sun2 = make_estate(name="阳光水岸", code="SZ-0002")
    other = make_estate(name="碧水阳光", code="GZ-0001")
    assert {e.id for e in estates.pick_estates("阳光")} == {sun, sun2}
    assert [e.id for e in estates.pick_estates("GZ-0001")] == [other]
    assert estates.resolve_estate("SZ-0002").id == sun2
    assert estates.resolve_estate("阳光花园").id == sun
    try:
        estates.resolve_estate("阳光")
    except ValidationFailed as exc:
        assert "匹配到多个小区" in exc.details["fields"]["estate"][0]
    else:
        raise AssertionError("ambiguous")


def test_engineers_by_employee_no_name_and_phone(ctx):
    a, _ = estates.create_engineer({"name": "陈工", "phone": "13800001234", "employee_no": "E100"}, actor=None)
    b, _ = estates.create_engineer({"name": "陈明", "phone": "13900009234", "employee_no": "E200"}, actor=None)
    db.session.commit()
    assert {e.id for e in estates.pick_engineers("陈")} == {a.id, b.id}
    assert [e.id for e in estates.pick_engineers("E200")] == [b.id]
    assert [e.id for e in estates.pick_engineers("01234")] == [a.id]
    assert {e.id for e in estates.pick_engineers("1234")} == {a.id}
    assert estates.resolve_engineer("13900009234").id == b.id
    assert [e.id for e in estates.list_engineers(q="9234").items] == [b.id]


def test_autocomplete_endpoints_are_for_staff_only(console, client, make_estate, make_admin, web_login, app):
    make_estate(name="阳光花园", code="SZ-0001")
    with app.app_context():
        estates.create_engineer({"name": "陈工", "phone": "13800001234", "employee_no": "E100"}, actor=None)
        db.session.commit()
    body = console.get("/admin/api/autocomplete/estates?q=阳光").json
    assert [i["label"] for i in body["items"]] == ["阳光花园"] and "SZ-0001" in body["items"][0]["detail"]
    body = console.get("/admin/api/autocomplete/engineers?q=1234").json
    assert body["items"][0]["label"] == "陈工" and "138****1234" in body["items"][0]["detail"]
    body = console.get("/admin/api/autocomplete/users?q=boss").json
    assert body["items"][0]["id"] == console.admin.user_id
    assert console.get("/admin/api/autocomplete/users?q=").json == {"items": []}

    make_admin("helper", "helper-pass-1", roles={"agent"})
    agent = app.test_client()
    token = csrf_token(html(agent.get("/login")))
    agent.post("/login", data={"csrf_token": token, "username": "helper", "password": "helper-pass-1"})
    assert agent.get("/admin/api/autocomplete/estates?q=阳光").status_code == 200
    assert app.test_client().get("/admin/api/autocomplete/estates?q=阳光").status_code == 302  # to the login page


def test_prefix_search_uses_an_index(ctx):
    """No scan of the big tables: each condition is answered from an index."""
    from community.estates.models import Engineer, Estate
    from core.db import starts_with

    queries = [sa.select(Estate.id).where(starts_with(Estate.name, "阳光")).limit(10),
               sa.select(User.id).where(starts_with(User.display_name, "张")).limit(10),
               sa.select(User.id).where(accounts.phone_match(User.phone, User.phone_tail, "5678")).limit(10),
               sa.select(Engineer.id).where(starts_with(Engineer.name, "陈")).limit(10),
               sa.select(Engineer.id).where(accounts.phone_match(Engineer.phone, Engineer.phone_tail, "12345")).limit(10)]
    for query in queries:
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        if ON_POSTGRES:
            db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(db.session.execute(sa.text("EXPLAIN " + sql)).scalars())
            assert "Index" in plan and "Seq Scan" not in plan, plan
        else:
            plan = " ".join(row[-1] for row in db.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))
            assert "USING" in plan and "INDEX" in plan, plan
    db.session.rollback()


def test_level_override_picks_the_ambassador_by_phone(console, make_ambassador, app):
    amb = make_ambassador(level=1)
    with app.app_context():
        user = db.session.get(User, amb.user_id)
        user.phone = "13566667777"
        db.session.commit()
    page = console.get("/admin/ambassador/levels/override?user=6667777")  # typed, no script: resolved by the server
    assert 'data-testid="ambassador-level"' in html(page)
    assert 'name="user_id" value="%d"' % amb.user_id in html(page)
    assert "用户 ID" not in html(page)
    missing = console.get("/admin/ambassador/levels/override?user=00000000")
    assert any("没有找到" in f for f in flashes(missing))


def test_reassign_form_picks_the_receiving_engineer(console, client, make_engineer, make_estate, app):
    estate = make_estate()
    leaving, taking = make_engineer([estate], name="离开的"), make_engineer([estate], name="接手的")
    page = f"/admin/engineers/{leaving.engineer_id}"
    text = html(console.get(page))
    assert 'data-autocomplete="engineers"' in text and 'name="target_id"' in text
    response = post_form(console, page, f"{page}/reassign", {"target": "接手的", "target_id": str(taking.engineer_id),
                                                             "estate_id": "", "action": "reassign"})
    assert response.status_code == 302
    after = html(console.get(page))
    assert 'class="flash success"' in after and 'class="flash error"' not in after
    response = post_form(console, page, f"{page}/reassign", {"target": taking.employee_no, "estate_id": "",
                                                             "action": "reassign"})  # no script: the employee number
    after = html(console.get(page))
    assert 'class="flash error"' not in after and "没有找到" not in after
    post_form(console, page, f"{page}/reassign", {"target": "没有这个人", "estate_id": "", "action": "reassign"})
    assert any("没有找到工程师" in f for f in flashes(console.get(page)))


def test_estate_filters_take_a_name_or_code(console, make_estate):
    make_estate(name="阳光花园", code="SZ-0001")
    page = console.get("/admin/care/queue?estate=SZ-0001")
    assert page.status_code == 200 and 'value="阳光花园"' in html(page)
    page = console.get("/admin/ambassador/ambassadors?estate=不存在的小区")
    assert any("没有找到小区" in f for f in flashes(page))
