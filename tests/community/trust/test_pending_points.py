"""Binding points wait for a sign of life (docs/community.md "Fake households"): each sign
releases them, a session on the binding's own day does not, and they lapse after the period."""
from datetime import timedelta

import sqlalchemy as sa

from core.db import utcnow
from tests.community.trust.conftest import age_binding, balance, flags, watch


def test_binding_points_wait_and_the_answer_says_so(app, rated_binding):
    bound = rated_binding()
    assert bound.answer["points"] == {"granted": 20, "refused": None, "pending": True}
    summary = balance(app, bound.user_id)
    assert (summary.available, summary.pending) == (0, 20)
    assert watch(app, bound.binding_id).status == "pending"
    assert flags(app) == []  # a normal binding earns no flag


def test_a_completed_order_releases_them(app, client, rated_binding, engineer, estate):
    from community.orders import services as orders
    from core.accounts.models import User
    from core.extensions import db

    bound = rated_binding()
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == bound.user_id).values(phone="13700001111"))
        orders.import_one({"external_id": "SVC-LIFE-1", "estate_id": estate, "engineer_employee_no": engineer.employee_no,
                           "resident_phone": "13700001111", "service_type": "repair",
                           "requested_at": "2024-03-01T10:00:00+08:00", "completed_at": "2024-03-01T12:00:00+08:00"})
        db.session.commit()
    summary = balance(app, bound.user_id)
    assert (summary.available, summary.pending) == (20, 0)
    assert (watch(app, bound.binding_id).status, watch(app, bound.binding_id).life_sign) == ("alive", "order")


def test_a_product_the_resident_registers_releases_them(app, client, rated_binding):
    from community.products import services as products
    from core.extensions import db

    with app.app_context():
        products.create_product_model({"code": "RO-1", "name": "净水器", "category": "water_purifier",
                                       "warranty_months": 12}, None)
        db.session.commit()
    bound = rated_binding()
    response = client.post("/api/v1/me/products", headers=bound.headers, json={"model_code": "RO-1", "serial": "SN-1"})
    assert response.status_code in (200, 201), response.json
    assert balance(app, bound.user_id).available == 20
    assert watch(app, bound.binding_id).life_sign == "product"


def test_a_product_the_steward_registers_is_no_sign_of_life(app, client, rated_binding, engineer):
    from community.products import services as products
    from core.extensions import db

    with app.app_context():
        products.create_product_model({"code": "RO-2", "name": "净水器", "category": "water_purifier",
                                       "warranty_months": 12}, None)
        db.session.commit()
    bound = rated_binding()
    response = client.post(f"/api/v1/engineer/customers/{bound.user_id}/products", headers=engineer.headers,
                           json={"model_code": "RO-2", "serial": "SN-2"})
    assert response.status_code in (200, 201), response.json
    assert balance(app, bound.user_id).pending == 20 and watch(app, bound.binding_id).status == "pending"


def test_a_session_on_another_day_releases_them_but_not_one_the_same_day(app, client, rated_binding):
    bound = rated_binding()
    assert client.get("/api/v1/me", headers=bound.headers).status_code == 200  # the same day
    assert balance(app, bound.user_id).pending == 20
    age_binding(app, bound.binding_id, days=1)  # the binding was yesterday (Asia/Shanghai)
    assert client.get("/api/v1/me", headers=bound.headers).status_code == 200
    assert balance(app, bound.user_id).available == 20
    assert watch(app, bound.binding_id).life_sign == "session"


def test_a_wechat_login_on_another_day_releases_them(app, client, wechat, rated_binding):
    bound = rated_binding()
    age_binding(app, bound.binding_id, days=2)
    assert client.post("/api/v1/auth/wechat-login", json={"code": wechat.code(bound.openid)}).status_code == 200
    assert balance(app, bound.user_id).available == 20


def test_a_phone_confirmed_through_wechat_releases_them(app, client, wechat, rated_binding):
    bound = rated_binding()
    code = wechat.control("POST", "phone-codes", json={"phone": "13911112222"})["code"]
    assert client.post("/api/v1/me/phone", headers=bound.headers, json={"code": code}).status_code == 200
    assert balance(app, bound.user_id).available == 20
    assert watch(app, bound.binding_id).life_sign == "phone"


def test_a_resident_known_before_the_binding_is_paid_at_once(app, client, login, bind, mint_code, engineer, estate):
    from core.accounts.models import User
    from core.extensions import db

    known = login()
    with app.app_context():  # their account is from an earlier day: the scan is a second session
        db.session.execute(sa.update(User).where(User.id == known.user_id).values(
            created_at=utcnow() - timedelta(days=3)))
        db.session.commit()
    response = bind(mint_code(engineer, estate)["scene"], openid=known.openid, rating=3)
    assert response.json["points"] == {"granted": 20, "refused": None, "pending": False}
    assert balance(app, known.user_id).available == 20


def test_points_lapse_after_the_period_and_the_binding_is_flagged(app, client, wechat, rated_binding):
    from community.trust import services
    from core.extensions import db

    bound = rated_binding()
    with app.app_context():
        assert app.config["BINDING_POINTS_LAPSE_DAYS"] == 30
        assert services.lapse_due(now=utcnow() + timedelta(days=29)) == 0
        assert services.lapse_due(now=utcnow() + timedelta(days=30, minutes=1)) == 1
        db.session.commit()
    assert (balance(app, bound.user_id).pending, balance(app, bound.user_id).available) == (0, 0)
    assert watch(app, bound.binding_id).status == "lapsed"
    assert flags(app) == [(bound.binding_id, "never_returned", "open")]
    # a sign of life after the lapse pays nothing
    code = wechat.control("POST", "phone-codes", json={"phone": "13911113333"})["code"]
    client.post("/api/v1/me/phone", headers=bound.headers, json={"code": code})
    assert balance(app, bound.user_id).available == 0
    with app.app_context():
        assert services.lapse_due(now=utcnow() + timedelta(days=60)) == 0  # settled once


def test_the_lapse_job_runs_in_batches(app, rated_binding):
    from community.trust import jobs
    from community.trust.models import BindingWatch
    from core.extensions import db

    bound = rated_binding()
    with app.app_context():
        db.session.execute(sa.update(BindingWatch).values(lapse_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        assert jobs.lapse_binding_points() == 1
    assert watch(app, bound.binding_id).status == "lapsed"


def test_a_rating_added_after_a_sign_of_life_is_paid_at_once(app, client, wechat, bind, mint_code, engineer, estate):
    scene = mint_code(engineer, estate)["scene"]
    first = bind(scene, openid="oLater", rating=None).json  # bound, not rated: nothing promised
    assert first["points"] == {"granted": 0, "refused": None, "pending": False}
    code = wechat.control("POST", "phone-codes", json={"phone": "13944445555"})["code"]
    client.post("/api/v1/me/phone", headers={"Authorization": f"Bearer {first['token']}"}, json={"code": code})
    again = bind(scene, openid="oLater", rating=4).json  # the same binding, rated now
    assert again["result"] == "unchanged" and again["points"] == {"granted": 20, "refused": None, "pending": False}
    assert balance(app, first["user"]["id"]).available == 20
