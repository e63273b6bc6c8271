"""The feed page is written without marshmallow (core.schemas.fast_response): the fast writer
must give exactly what the documented schema gives, for every kind of item a page can hold."""
from community.feed import services
from community.feed.schemas import FeedPostSchema, dump_feed_post
from core.accounts.services import Principal
from core.pagination import page_schema
from tests.community.feed.test_feed import post, upload


def test_the_fast_feed_writer_matches_the_schema(app, client, make_estate, login, make_engineer, admin):
    estate = make_estate()
    resident, neighbour = login(), login()
    for who in (resident, neighbour):
        client.post("/api/v1/me/estates", headers=who.headers, json={"estate_id": estate})
    engineer = make_engineer([estate])
    # a question with an accepted answer by an engineer, a liked photo post, a held post (only
    # its author sees it) and a staff announcement
    question = post(client, resident, estate).json
    answer = client.post(f"/api/v1/posts/{question['id']}/answers", headers=engineer.headers,
                         json={"text": "电梯按规定每 15 天维保一次"}).json
    assert client.post(f"/api/v1/answers/{answer['id']}/accept", headers=resident.headers).status_code == 200
    photo = post(client, neighbour, estate, kind="photo", text="新换的滤芯", photo_ids=[upload(client, neighbour)]).json
    assert client.post(f"/api/v1/posts/{photo['id']}/like", headers=resident.headers).status_code in (200, 201)
    held = post(client, resident, estate, text="需要的加微信聊").json
    assert held["status"] == "held"
    assert post(client, admin, estate, kind="announcement", text="本周六停水").status_code == 201

    with app.test_request_context():
        from core.extensions import db

        who = Principal(resident.user_id, frozenset())
        items = services.feed(who, estate).items
        kinds = {(i["kind"], i["status"], i["accepted_answer"] is not None, bool(i["liked"]), bool(i["photos"]))
                 for i in items}
        assert len(items) == 4 and ("question", "published", True, False, False) in kinds
        assert ("photo", "published", False, True, True) in kinds and ("question", "held", False, False, False) in kinds
        for item in items:
            assert dump_feed_post(item) == FeedPostSchema().dump(item)
        db.session.rollback()

    # and through the API: the page the client gets is the schema's page
    response = client.get(f"/api/v1/estates/{estate}/feed?limit=2", headers=resident.headers)
    assert response.status_code == 200
    with app.test_request_context():
        page = services.feed(Principal(resident.user_id, frozenset()), estate, limit=2)
        assert response.json == page_schema(FeedPostSchema)().dump(page)
