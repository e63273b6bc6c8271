"""Steward binding rules (community/services.py): signed expiring scenes, protection window,
append-only history, self-binding, code uses, one rating per visit, revoked codes and coverage."""
from datetime import timedelta

import sqlalchemy as sa

from core import create_app
from core.db import utcnow
from tests.conftest import bearer


def configure(request, app_config, **settings):
    """Apply settings before the app exists, then hand out fixtures that build it."""
    app_config.update(settings)
    return request.getfixturevalue


def history(client, admin, user_id) -> list[dict]:
    response = client.get(f"/api/v1/admin/residents/{user_id}/stewards", headers=admin.headers)
    assert response.status_code == 200
    return response.json["items"]


def stewards(client, token) -> list[int]:
    return [s["engineer"]["id"] for s in client.get("/api/v1/me/stewards", headers=bearer(token)).json["items"]]


def visits(app, **where) -> list:
    from community.stewards.models import Visit
    from core.extensions import db
    with app.app_context():
        stmt = sa.select(Visit).order_by(Visit.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(Visit, name) == value)
        return list(db.session.scalars(stmt))


def flip(scene: str, at: int) -> str:
    replacement = "A" if scene[at] != "A" else "B"
    return scene[:at] + replacement + scene[at + 1:]


# -- the scene: signed, opaque, expiring ----------------------------------------------------------

def test_scene_is_short_opaque_and_in_wechats_alphabet(make_estate, make_engineer, mint_code):
    import re
    estate = make_estate()
    engineer = make_engineer([estate])
    scenes = {mint_code(engineer, estate)["scene"] for _ in range(3)}
    assert len(scenes) == 3
    for scene in scenes:
        assert len(scene) <= 32
        assert re.fullmatch(r"[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+", scene)


def test_expired_scene_is_410_and_the_wx_code_is_not_spent(client, wechat, make_estate, make_engineer, mint_code,
                                                          monkeypatch):
    from community.stewards import services
    estate = make_estate()
    engineer = make_engineer([estate])
    scene = mint_code(engineer, estate)["scene"]  # BINDING_CODE_TTL_SECONDS = 7200
    now = utcnow()
    monkeypatch.setattr(services, "utcnow", lambda: now + timedelta(seconds=7200 - 60))
    code = wechat.code("oLate")
    assert client.post("/api/v1/bindings", json={"code": code, "scene": scene}).status_code == 200

    monkeypatch.setattr(services, "utcnow", lambda: now + timedelta(seconds=7200 + 2))
    calls = len(wechat.calls("sns/jscode2session"))
    code = wechat.code("oLater")
    response = client.post("/api/v1/bindings", json={"code": code, "scene": scene})
    assert response.status_code == 410
    assert response.json["error"]["code"] == "binding_code_expired"
    assert len(wechat.calls("sns/jscode2session")) == calls  # refused before the code was spent
    # The same wx.login code still logs in.
    assert client.post("/api/v1/auth/wechat-login", json={"code": code}).status_code == 200


def test_binding_code_ttl_follows_the_setting(request, app_config, wechat):
    use = configure(request, app_config, BINDING_CODE_TTL_SECONDS=60)
    estate = use("make_estate")()
    engineer = use("make_engineer")([estate])
    code = use("mint_code")(engineer, estate)
    from datetime import datetime
    expires_at = datetime.fromisoformat(code["expires_at"])
    assert timedelta(seconds=55) < expires_at - utcnow() <= timedelta(seconds=60)


def test_scene_minted_already_expired_is_410(request, app_config, wechat):
    use = configure(request, app_config, BINDING_CODE_TTL_SECONDS=-1)
    estate = use("make_estate")()
    engineer = use("make_engineer")([estate])
    scene = use("mint_code")(engineer, estate)["scene"]
    response = use("bind")(scene)
    assert response.status_code == 410
    assert response.json["error"]["code"] == "binding_code_expired"


def test_tampered_scene_is_400_and_the_wx_code_is_not_spent(client, wechat, make_estate, make_engineer, mint_code):
    estate = make_estate()
    engineer = make_engineer([estate])
    scene = mint_code(engineer, estate)["scene"]
    code = wechat.code("oTamper")
    calls = len(wechat.calls("sns/jscode2session"))
    for at in (0, 5, 9, 12, 13, 20, 27):  # nonce, expiry and signature bytes alike
        response = client.post("/api/v1/bindings", json={"code": code, "scene": flip(scene, at)})
        assert response.status_code == 400, at
        assert response.json["error"]["code"] == "binding_code_invalid"
    assert len(wechat.calls("sns/jscode2session")) == calls
    # The untouched scene with the very same wx.login code works.
    response = client.post("/api/v1/bindings", json={"code": code, "scene": scene})
    assert response.status_code == 200, response.json


def test_malformed_scene_is_refused_without_calling_wechat(client, wechat):
    for scene in ("x", "b=Ab3x9", "A" * 28, "%%%%", "A" * 33, "翠" * 28, "~" * 28, "AAAA" * 7 + "="):
        response = client.post("/api/v1/bindings", json={"code": wechat.code(), "scene": scene})
        assert response.status_code == 400, scene
        assert response.json["error"]["code"] == "binding_code_invalid"
    for scene in ("", "A" * 65):  # outside the schema's bounds
        response = client.post("/api/v1/bindings", json={"code": wechat.code(), "scene": scene})
        assert response.status_code == 422 and set(response.json["error"]["details"]["fields"]) == {"scene"}
    assert wechat.calls("sns/jscode2session") == []


def test_validly_signed_scene_that_was_never_minted_is_400(app, client, wechat, make_estate):
    from community.stewards import services
    with app.app_context():
        scene = services._sign_scene(utcnow() + timedelta(hours=1))
    response = client.post("/api/v1/bindings", json={"code": wechat.code(), "scene": scene})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "binding_code_invalid"
    assert wechat.calls("sns/jscode2session") == []


def test_scene_signed_with_another_secret_is_400(app_config, client, wechat, make_estate, make_engineer, mint_code):
    from community.stewards import services
    estate = make_estate()
    scene = mint_code(make_engineer([estate]), estate)["scene"]
    stranger = create_app({**app_config, "SECRET_KEY": "someone-elses-secret"})
    with stranger.app_context():
        forged = services._sign_scene(utcnow() + timedelta(hours=1))
        from core.extensions import db
        db.engine.dispose()
    assert forged != scene
    response = client.post("/api/v1/bindings", json={"code": wechat.code(), "scene": forged})
    assert response.status_code == 400 and response.json["error"]["code"] == "binding_code_invalid"


# -- the steward rules --------------------------------------------------------------------------

def test_protected_steward_is_kept_but_the_visit_and_estate_count(app, client, admin, make_estate, make_engineer,
                                                                  mint_code, bind):
    home, parents = make_estate(), make_estate()
    first, second = make_engineer([home]), make_engineer([parents])
    created = bind(mint_code(first, home)["scene"], openid="oKeep")
    assert created.json["result"] == "created"
    resident = created.json["user"]["id"]

    response = bind(mint_code(second, parents)["scene"], openid="oKeep")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["result"] == "kept"
    assert body["steward"]["engineer"]["id"] == first.engineer_id
    assert body["estate"]["id"] == parents
    assert body["visit"]["estate_id"] == parents
    assert stewards(client, body["token"]) == [first.engineer_id]
    estates = client.get("/api/v1/me/estates", headers=bearer(body["token"])).json["items"]
    assert sorted(e["estate"]["id"] for e in estates) == sorted([home, parents])
    assert [v.engineer_id for v in visits(app, resident_id=resident)] == [first.engineer_id, second.engineer_id]
    # History: one active binding, nothing ended.
    [only] = history(client, admin, resident)
    assert only["engineer"]["id"] == first.engineer_id and only["ended_at"] is None
    # The second engineer does not see the resident as a customer.
    assert client.get("/api/v1/engineer/customers", headers=second.headers).json["items"] == []
    response = client.get(f"/api/v1/engineer/customers/{resident}", headers=second.headers)
    assert response.status_code == 404


def test_without_protection_the_new_engineer_takes_over(request, app_config, wechat):
    use = configure(request, app_config, STEWARD_PROTECTION_DAYS=0)
    client, admin, make_estate = use("client"), use("admin"), use("make_estate")
    make_engineer, mint_code, bind = use("make_engineer"), use("mint_code"), use("bind")
    estate = make_estate()
    first, second = make_engineer([estate]), make_engineer([estate])
    resident = bind(mint_code(first, estate)["scene"], openid="oSwitch").json["user"]["id"]

    response = bind(mint_code(second, estate)["scene"], openid="oSwitch")
    assert response.status_code == 200
    assert response.json["result"] == "switched"
    assert response.json["steward"]["engineer"]["id"] == second.engineer_id
    assert stewards(client, response.json["token"]) == [second.engineer_id]

    new, old = history(client, admin, resident)  # newest first
    assert new["engineer"]["id"] == second.engineer_id
    assert new["start_reason"] == "takeover" and new["ended_at"] is None
    assert old["engineer"]["id"] == first.engineer_id
    assert old["end_reason"] == "takeover" and old["ended_at"] is not None
    assert old["start_reason"] == "scan"
    # Each engineer's customer list reflects it.
    assert client.get("/api/v1/engineer/customers", headers=first.headers).json["items"] == []
    assert [c["user_id"] for c in client.get("/api/v1/engineer/customers",
                                             headers=second.headers).json["items"]] == [resident]


def test_protection_lapses_after_the_window(app, client, admin, make_estate, make_engineer, mint_code, bind):
    from community.stewards.models import StewardBinding, Visit
    from core.extensions import db
    estate = make_estate()
    first, second = make_engineer([estate]), make_engineer([estate])
    resident = bind(mint_code(first, estate)["scene"], openid="oLapse").json["user"]["id"]
    # Nothing happened between them for 181 days (STEWARD_PROTECTION_DAYS = 180).
    long_ago = utcnow() - timedelta(days=181)
    with app.app_context():
        db.session.execute(sa.update(StewardBinding).values(started_at=long_ago))
        db.session.execute(sa.update(Visit).values(created_at=long_ago))
        db.session.commit()
    assert bind(mint_code(second, estate)["scene"], openid="oLapse").json["result"] == "switched"
    assert history(client, admin, resident)[1]["end_reason"] == "takeover"


def test_a_recent_visit_renews_the_protection(app, client, make_estate, make_engineer, mint_code, bind):
    from community.stewards.models import StewardBinding
    from core.extensions import db
    estate = make_estate()
    first, second = make_engineer([estate]), make_engineer([estate])
    bind(mint_code(first, estate)["scene"], openid="oRenew")
    with app.app_context():  # bound long ago, but the steward visited again last week (the visit row is recent)
        db.session.execute(sa.update(StewardBinding).values(started_at=utcnow() - timedelta(days=400)))
        db.session.commit()
    assert bind(mint_code(second, estate)["scene"], openid="oRenew").json["result"] == "kept"


def test_rescanning_the_same_engineer_is_unchanged(client, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    engineer = make_engineer([estate])
    bind(mint_code(engineer, estate)["scene"], openid="oSame")
    again = bind(mint_code(engineer, estate)["scene"], openid="oSame")  # a new visit, a new code
    assert again.json["result"] == "unchanged"
    assert again.json["steward"]["engineer"]["id"] == engineer.engineer_id


def test_engineer_scanning_own_code_is_400_self_binding(app, client, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    engineer = make_engineer([estate])
    response = bind(mint_code(engineer, estate)["scene"], openid=engineer.openid)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "self_binding"
    assert "token" not in response.json
    # Nothing of the refused call stayed behind.
    assert client.get("/api/v1/me/estates", headers=engineer.headers).json["items"] == []
    assert visits(app) == []
    assert client.get("/api/v1/engineer/customers", headers=engineer.headers).json["items"] == []


def test_code_max_uses(request, app_config, wechat):
    use = configure(request, app_config, BINDING_CODE_MAX_USES=2)
    estate = use("make_estate")()
    engineer = use("make_engineer")([estate])
    scene = use("mint_code")(engineer, estate)["scene"]
    bind = use("bind")
    assert bind(scene, openid="oUse1").status_code == 200
    assert bind(scene, openid="oUse2").status_code == 200
    response = bind(scene, openid="oUse3")
    assert response.status_code == 410
    assert response.json["error"]["code"] == "binding_code_used_up"
    # A resident who already used it may repeat the call: that is not a new use.
    again = bind(scene, openid="oUse1")
    assert again.status_code == 200 and again.json["result"] == "unchanged"
    # The refused call left nothing behind: not even the account its login had just created.
    client = use("client")
    assert len(client.get("/api/v1/engineer/customers", headers=engineer.headers).json["items"]) == 2
    from core.accounts.models import WeChatIdentity
    from core.extensions import db
    with use("app").app_context():
        assert db.session.scalars(sa.select(WeChatIdentity).where(WeChatIdentity.openid == "oUse3")).all() == []
    # A fresh code serves the third resident.
    assert bind(use("mint_code")(engineer, estate)["scene"], openid="oUse3").status_code == 200


def test_rating_is_given_once(client, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    engineer = make_engineer([estate])
    scene = mint_code(engineer, estate)["scene"]
    first = bind(scene, openid="oRate", rating=4, comment="准时")
    assert first.json["visit"]["rating"] == 4 and first.json["visit"]["comment"] == "准时"
    again = bind(scene, openid="oRate", rating=1, comment="改差评")
    assert again.status_code == 200
    assert again.json["visit"]["id"] == first.json["visit"]["id"]
    assert again.json["visit"]["rating"] == 4 and again.json["visit"]["comment"] == "准时"
    detail = client.get(f"/api/v1/engineer/customers/{first.json['user']['id']}", headers=engineer.headers).json
    assert [(v["rating"], v["comment"]) for v in detail["visits"]] == [(4, "准时")]


def test_rating_may_be_added_later_but_not_changed(client, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    engineer = make_engineer([estate])
    scene = mint_code(engineer, estate)["scene"]
    assert bind(scene, openid="oLater").json["visit"]["rating"] is None
    assert bind(scene, openid="oLater", rating=5).json["visit"]["rating"] == 5
    assert bind(scene, openid="oLater", rating=2).json["visit"]["rating"] == 5


def test_rating_out_of_range_is_422(client, wechat, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    scene = mint_code(make_engineer([estate]), estate)["scene"]
    calls = len(wechat.calls("sns/jscode2session"))
    for rating in (0, 6, -1):
        response = bind(scene, rating=rating)
        assert response.status_code == 422, rating
        assert set(response.json["error"]["details"]["fields"]) == {"rating"}
    assert len(wechat.calls("sns/jscode2session")) == calls


def test_code_of_an_engineer_who_left_is_410(client, admin, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    engineer = make_engineer([estate])
    scene = mint_code(engineer, estate)["scene"]
    response = client.post(f"/api/v1/admin/engineers/{engineer.engineer_id}/deactivate", headers=admin.headers, json={})
    assert response.status_code == 200
    response = bind(scene, openid="oAfterLeave")
    assert response.status_code == 410
    assert response.json["error"]["code"] == "binding_code_revoked"


def test_code_for_an_estate_no_longer_covered_is_410(client, admin, make_estate, make_engineer, mint_code, bind):
    estate, other = make_estate(), make_estate()
    engineer = make_engineer([estate])
    scene = mint_code(engineer, estate)["scene"]
    response = client.put(f"/api/v1/admin/engineers/{engineer.engineer_id}/estates", headers=admin.headers,
                          json={"estate_ids": [other]})
    assert response.status_code == 200
    response = bind(scene)
    assert response.status_code == 410
    assert response.json["error"]["code"] == "binding_code_revoked"


# -- minting ------------------------------------------------------------------------------------

def test_minting_for_an_estate_not_covered_is_403(client, wechat, make_estate, make_engineer):
    covered, elsewhere = make_estate(), make_estate()
    engineer = make_engineer([covered])
    response = client.post("/api/v1/engineer/binding-codes", headers=engineer.headers, json={"estate_id": elsewhere})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "estate_not_covered"
    assert wechat.calls("wxa/getwxacodeunlimit") == []  # refused before asking WeChat


def test_minting_for_an_inactive_or_unknown_estate(client, admin, make_estate, make_engineer):
    estate = make_estate()
    engineer = make_engineer([estate])
    assert client.patch(f"/api/v1/admin/estates/{estate}", headers=admin.headers,
                        json={"status": "inactive"}).status_code == 200
    response = client.post("/api/v1/engineer/binding-codes", headers=engineer.headers, json={"estate_id": estate})
    assert response.status_code == 409 and response.json["error"]["code"] == "estate_inactive"
    response = client.post("/api/v1/engineer/binding-codes", headers=engineer.headers, json={"estate_id": 999999})
    assert response.status_code == 404 and response.json["error"]["code"] == "estate_not_found"


def test_minted_code_asks_wechat_for_the_bind_page_and_serves_the_image(client, wechat, make_estate, make_engineer,
                                                                        mint_code):
    estate = make_estate()
    code = mint_code(make_engineer([estate]), estate, visit_ref="WO-9")
    [call] = wechat.calls("wxa/getwxacodeunlimit")
    assert call["body"]["scene"] == code["scene"]
    assert call["body"]["page"] == "pages/bind/index"
    assert code["visit_ref"] == "WO-9" and code["estate"]["id"] == estate
    image = client.get(f"/api/v1/binding-codes/{code['scene']}/image")
    assert image.status_code == 200 and image.data[:2] == b"\xff\xd8"
    missing = client.get(f"/api/v1/binding-codes/{flip(code['scene'], 3)}/image")
    assert missing.status_code == 404


def test_the_binding_answer_carries_the_steward_card_with_the_rank_in_the_estate(client, make_estate, make_engineer,
                                                                                  mint_code, bind, login):
    """The bind page shows the card from this one answer: no second call before it appears."""
    estate = make_estate()
    first, second = make_engineer([estate]), make_engineer([estate])
    card = bind(mint_code(second, estate)["scene"]).json["steward"]
    # no orders yet: equal scores, the lower engineer id first
    assert (card["engineer"]["id"], card["rank"]) == (second.engineer_id, 2)
    assert card["engineer"]["photo_url"] is None and card["estate"]["id"] == estate
    assert bind(mint_code(first, estate)["scene"]).json["steward"]["rank"] == 1
