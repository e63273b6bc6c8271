"""The invite: an ambassador's code and its mini-program code picture, fetched from (fake) WeChat
once and kept on the ambassador's row; refused for levels without `recruit`."""
import sqlalchemy as sa

from ambassador.models import Ambassador, Level


def _row(app, user_id) -> Ambassador:
    from core.extensions import db
    with app.app_context():
        row = db.session.scalars(sa.select(Ambassador).where(Ambassador.user_id == user_id)
                                 .options(sa.orm.undefer(Ambassador.invite_image))).one()
        db.session.expunge(row)
        return row


def test_invite_returns_code_scene_and_image_fetched_once(app, client, wechat, make_ambassador):
    ambassador = make_ambassador()
    code = _row(app, ambassador.user_id).invite_code
    response = client.get("/api/v1/ambassador/invite", headers=ambassador.headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["invite_code"] == code
    assert body["scene"] == f"i={code}" and len(body["scene"]) <= 32
    assert body["page"] == "pages/index/index"
    assert body["image_url"].endswith(f"/api/v1/invites/{code}/image")
    [call] = wechat.calls("wxa/getwxacodeunlimit")
    assert call["body"]["scene"] == f"i={code}" and call["body"]["page"] == "pages/index/index"
    row = _row(app, ambassador.user_id)
    assert row.invite_image and row.invite_image_type == "image/jpeg"

    # Asked again (and for the picture itself): served from the row, WeChat is not called again.
    assert client.get("/api/v1/ambassador/invite", headers=ambassador.headers).json == body
    image = client.get("/api/v1/ambassador/invite/image", headers=ambassador.headers)
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data == row.invite_image
    public = client.get(body["image_url"])
    assert public.status_code == 200 and public.data == row.invite_image
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 1


def test_public_image_needs_a_stored_picture_of_a_code_that_still_invites(app, client, wechat, make_ambassador):
    from core.extensions import db
    ambassador = make_ambassador()
    code = _row(app, ambassador.user_id).invite_code
    missing = client.get(f"/api/v1/invites/{code}/image")  # never fetched yet: no WeChat call from anonymous users
    assert missing.status_code == 404 and missing.json["error"]["code"] == "invite_not_found"
    assert wechat.calls("wxa/getwxacodeunlimit") == []
    assert client.get("/api/v1/invites/NOPE/image").status_code == 404
    assert client.get("/api/v1/ambassador/invite", headers=ambassador.headers).status_code == 200
    assert client.get(f"/api/v1/invites/{code}/image").status_code == 200
    with app.app_context():
        db.session.execute(sa.update(Ambassador).where(Ambassador.user_id == ambassador.user_id)
                           .values(status="suspended"))
        db.session.commit()
    gone = client.get(f"/api/v1/invites/{code}/image")
    assert gone.status_code == 404


def test_wechat_error_is_a_clear_502_and_nothing_is_cached(app, client, wechat, make_ambassador):
    ambassador = make_ambassador()
    wechat.fault("wxa/getwxacodeunlimit", errcode=40129)
    response = client.get("/api/v1/ambassador/invite", headers=ambassador.headers)
    assert response.status_code == 502, response.json
    assert response.json["error"]["code"] == "wechat_error"
    assert response.json["error"]["details"]["errcode"] == 40129
    row = _row(app, ambassador.user_id)
    assert row.invite_image is None and row.invite_image_type is None
    # The next call fetches again and keeps the picture.
    assert client.get("/api/v1/ambassador/invite", headers=ambassador.headers).status_code == 200
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 2
    assert _row(app, ambassador.user_id).invite_image


def test_wechat_busy_twice_is_unavailable(app, client, wechat, make_ambassador):
    ambassador = make_ambassador()
    wechat.fault("wxa/getwxacodeunlimit", count=2, errcode=-1)
    response = client.get("/api/v1/ambassador/invite/image", headers=ambassador.headers)
    assert response.status_code == 502 and response.json["error"]["code"] == "wechat_unavailable"
    assert _row(app, ambassador.user_id).invite_image is None


def test_invite_needs_an_active_ambassador_whose_level_may_recruit(app, client, wechat, login, make_ambassador):
    from core.extensions import db
    resident = login()
    response = client.get("/api/v1/ambassador/invite", headers=resident.headers)
    assert response.status_code == 403 and response.json["error"]["code"] == "not_an_ambassador"
    assert client.get("/api/v1/ambassador/invite").status_code == 401

    ambassador = make_ambassador(level=1)
    with app.app_context():
        db.session.execute(sa.update(Level).where(Level.position == 1).values(permissions=[]))
        db.session.commit()
    response = client.get("/api/v1/ambassador/invite", headers=ambassador.headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "permission_denied"
    assert response.json["error"]["details"]["permission"] == "recruit"
    assert client.get("/api/v1/ambassador/invite/image", headers=ambassador.headers).status_code == 403
    assert wechat.calls("wxa/getwxacodeunlimit") == []

    silver = make_ambassador(level=2)  # silver keeps recruit
    assert client.get("/api/v1/ambassador/invite", headers=silver.headers).status_code == 200

    with app.app_context():
        db.session.execute(sa.update(Ambassador).where(Ambassador.user_id == silver.user_id)
                           .values(status="suspended"))
        db.session.commit()
    response = client.get("/api/v1/ambassador/invite", headers=silver.headers)
    assert response.status_code == 403 and response.json["error"]["code"] == "not_an_ambassador"
