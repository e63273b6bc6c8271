"""A resident shares their review of a service order to the order's estate feed, once, through the
same content checks as a post; only while they still live there."""
import pytest
import sqlalchemy as sa

from tests.community.feed.test_feed import err, upload
from tests.conftest import ON_POSTGRES


@pytest.fixture
def estate(make_estate):
    return make_estate()


@pytest.fixture
def engineer(make_engineer, estate):
    return make_engineer([estate])


@pytest.fixture
def resident(client, login, estate):
    account = login()
    client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate})
    return account


@pytest.fixture
def completed_order(app, estate, engineer):
    """make(resident) -> the id of a completed order of that resident, served by the engineer."""
    def make(resident) -> int:
        from community.orders.models import ServiceOrder
        from core.db import utcnow
        from core.extensions import db
        with app.app_context():
            order = ServiceOrder(estate_id=estate, resident_id=resident.user_id, engineer_id=engineer.engineer_id,
                                 service_type="repair", status="completed", completed_at=utcnow())
            db.session.add(order)
            db.session.commit()
            return order.id
    return make


def review(client, resident, order_id, text="师傅很专业，半小时就修好了", photos=()):
    r = client.post(f"/api/v1/service-orders/{order_id}/review", headers=resident.headers,
                    json={"rating": 5, "text": text, "photos": list(photos)})
    assert r.status_code == 201, r.json
    return r.json


def share(client, who, order_id):
    return client.post(f"/api/v1/service-orders/{order_id}/review/share", headers=who.headers)


def posts_of_review(app) -> list[tuple]:
    from community.feed.models import Post
    from core.extensions import db
    with app.app_context():
        return db.session.execute(sa.select(Post.id, Post.kind, Post.review_id)).all()


def test_the_author_shares_a_review_once_with_its_text_and_photos(app, client, estate, resident, completed_order,
                                                                  login):
    order = completed_order(resident)
    photo = upload(client, resident)
    reviewed = review(client, resident, order, photos=[photo])
    first = share(client, resident, order)
    assert first.status_code == 201, first.json
    body = first.json
    assert (body["kind"], body["estate_id"], body["text"], body["photos"]) == (
        "review", estate, "师傅很专业，半小时就修好了", [f"http://linli.test/api/v1/uploads/{photo}"])
    assert body["review_id"] == reviewed["review"]["id"]
    assert (body["status"], body["status_label"]) == ("published", "已发布")
    assert body["author"] == {"id": resident.user_id, "name": "邻居", "badge": None, "badge_label": None}
    again = share(client, resident, order)
    assert again.status_code == 200 and again.json["id"] == body["id"]
    assert posts_of_review(app) == [(body["id"], "review", reviewed["review"]["id"])]
    neighbour = login()
    client.post("/api/v1/me/estates", headers=neighbour.headers, json={"estate_id": estate})
    items = client.get(f"/api/v1/estates/{estate}/feed", headers=neighbour.headers).json["items"]
    assert [(p["id"], p["review_id"]) for p in items] == [(body["id"], reviewed["review"]["id"])]


def test_only_the_reviews_author_shares_it(app, client, estate, resident, engineer, completed_order, login, admin):
    order = completed_order(resident)
    assert share(client, resident, order).status_code == 404  # not reviewed yet
    review(client, resident, order)
    neighbour = login()
    client.post("/api/v1/me/estates", headers=neighbour.headers, json={"estate_id": estate})
    for who in (neighbour, engineer, admin):
        r = share(client, who, order)
        assert r.status_code == 404 and err(r) == "review_not_found"
    assert share(client, resident, 999999).status_code == 404
    assert posts_of_review(app) == []


def test_a_resident_who_moved_out_cannot_share(app, client, estate, resident, completed_order):
    order = completed_order(resident)
    review(client, resident, order)
    assert client.delete(f"/api/v1/me/estates/{estate}", headers=resident.headers).status_code == 204
    r = share(client, resident, order)
    assert r.status_code == 403 and err(r) == "not_estate_resident"
    assert posts_of_review(app) == []


def test_a_shared_review_goes_through_the_content_checks(app, client, wechat, estate, resident, completed_order,
                                                         login, make_engineer):
    risky = completed_order(resident)
    review(client, resident, risky, text="想赌博的联系我")
    r = share(client, resident, risky)
    assert r.status_code == 409 and err(r) == "content_risky"
    assert posts_of_review(app) == []
    held = completed_order(resident)
    review(client, resident, held, text="服务好，私下交易更便宜")
    r = share(client, resident, held)
    assert r.status_code == 201 and (r.json["status"], r.json["status_label"]) == ("held", "已提交，审核通过后显示")
    neighbour = make_engineer([estate])
    assert client.get(f"/api/v1/estates/{estate}/feed", headers=neighbour.headers).json["items"] == []
    assert [c["body"]["scene"] for c in wechat.calls("wxa/msg_sec_check")] == [3, 3]  # checked as a post
    # a photo goes to WeChat's image check like any post's photo
    photo = upload(client, resident)
    with_photo = completed_order(resident)
    review(client, resident, with_photo, text="", photos=[photo])
    r = share(client, resident, with_photo)
    assert r.status_code == 201 and r.json["text"] == ""
    assert [c["body"]["media_url"].rsplit("/", 1)[1] for c in wechat.calls("wxa/media_check_async")] == [photo]
    # nothing to share
    empty = completed_order(resident)
    review(client, resident, empty, text="")
    r = share(client, resident, empty)
    assert r.status_code == 409 and err(r) == "review_empty"


@pytest.mark.skipif(not ON_POSTGRES, reason="row-level concurrency needs PostgreSQL")
def test_concurrent_shares_make_one_post(app, client, resident, completed_order):
    from tests.concurrency import http_race
    order = completed_order(resident)
    review(client, resident, order)
    results = http_race(app, [lambda c: c.post(f"/api/v1/service-orders/{order}/review/share",
                                               headers=resident.headers)] * 6)
    assert sorted(r.status_code for r in results) == [200] * 5 + [201]
    assert len({r.json["id"] for r in results}) == 1
    assert len(posts_of_review(app)) == 1


def test_the_order_page_learns_whether_the_review_was_shared(client, estate, resident, engineer, completed_order,
                                                             login):
    order = completed_order(resident)
    status = client.get(f"/api/v1/service-orders/{order}/review/share", headers=resident.headers)
    assert status.status_code == 404 and err(status) == "review_not_found"  # not reviewed yet
    review(client, resident, order)
    status = client.get(f"/api/v1/service-orders/{order}/review/share", headers=resident.headers)
    assert status.status_code == 200 and status.json == {"shared": False, "post": None}
    post = share(client, resident, order).json
    status = client.get(f"/api/v1/service-orders/{order}/review/share", headers=resident.headers).json
    assert status["shared"] is True
    assert (status["post"]["id"], status["post"]["status_label"]) == (post["id"], "已发布")
    for who in (login(), engineer):  # only the review's author asks
        r = client.get(f"/api/v1/service-orders/{order}/review/share", headers=who.headers)
        assert r.status_code == 404 and err(r) == "review_not_found"
