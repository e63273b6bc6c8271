"""What the mini-program's engineer pages read from stewards: 我的客户 searched by name or phone
digits, each customer's last visit by this engineer, and how many households a fresh binding code
takes."""
from datetime import datetime

import sqlalchemy as sa

from core.accounts.models import User
from core.extensions import db
from tests.community.stewards.test_handover import complete_handovers


def _name(app, user_id: int, name: str, phone: str | None = None) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        user.display_name, user.phone = name, phone
        db.session.commit()


def _customers(client, engineer, **query) -> list[dict]:
    response = client.get("/api/v1/engineer/customers", headers=engineer.headers, query_string=query)
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_search_by_name_or_phone_digits(app, client, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    engineer = make_engineer([estate])
    ids = [bind(mint_code(engineer, estate)["scene"]).json["user"]["id"] for _ in range(3)]
    _name(app, ids[0], "张三丰", "13800001111")
    _name(app, ids[1], "张无忌", "13900002222")
    _name(app, ids[2], "Amy_Li%", "13700003333")
    names = lambda **q: [c["display_name"] for c in _customers(client, engineer, **q)]  # noqa: E731
    assert names(q="张") == ["张无忌", "张三丰"]
    assert names(q="  三丰 ") == ["张三丰"]
    assert names(q="2222") == ["张无忌"]  # the last four digits of the masked number
    assert names(q="139-0000") == ["张无忌"]  # dashes and spaces dropped
    assert names(q="amy") == ["Amy_Li%"]  # any case
    assert names(q="_") == ["Amy_Li%"] and names(q="%") == ["Amy_Li%"]  # LIKE wildcards are literal
    assert names(q="111") == []  # three digits are a name search, not a phone one
    assert names(q="王") == []
    # the phone stays masked in the list
    assert _customers(client, engineer, q="2222")[0]["phone"] == "139****2222"


def test_search_pages_and_filters_by_estate(app, client, make_estate, make_engineer, mint_code, bind):
    a, b = make_estate(), make_estate()
    engineer = make_engineer([a, b])
    in_a = [bind(mint_code(engineer, a)["scene"]).json["user"]["id"] for _ in range(3)]
    in_b = bind(mint_code(engineer, b)["scene"]).json["user"]["id"]
    for n, user_id in enumerate([*in_a, in_b]):
        _name(app, user_id, f"李{n}")
    first = client.get("/api/v1/engineer/customers", headers=engineer.headers, query_string={"q": "李", "limit": 2}).json
    assert [c["user_id"] for c in first["items"]] == [in_b, in_a[2]]
    rest = client.get("/api/v1/engineer/customers", headers=engineer.headers,
                      query_string={"q": "李", "limit": 2, "cursor": first["next_cursor"]}).json
    assert [c["user_id"] for c in rest["items"]] == [in_a[1], in_a[0]] and rest["next_cursor"] is None
    assert [c["user_id"] for c in _customers(client, engineer, q="李", estate_id=b)] == [in_b]
    too_long = client.get("/api/v1/engineer/customers", headers=engineer.headers, query_string={"q": "长" * 65})
    assert too_long.status_code == 422


def test_each_customer_carries_the_engineers_last_visit(app, client, admin, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    engineer, other = make_engineer([estate]), make_engineer([estate])
    first = bind(mint_code(engineer, estate)["scene"], openid="o_cust_visit_1").json["user"]["id"]
    again = mint_code(engineer, estate)
    bind(again["scene"], openid="o_cust_visit_1")
    assert _customers(client, engineer)[0]["last_visit_at"] is not None
    with app.app_context():
        from community.stewards.models import Visit
        visits = db.session.scalars(sa.select(Visit).where(Visit.resident_id == first).order_by(Visit.id)).all()
        assert len(visits) == 2
        latest = max(v.created_at for v in visits)
    shown = _customers(client, engineer)
    assert [c["user_id"] for c in shown] == [first]
    assert datetime.fromisoformat(shown[0]["last_visit_at"]) == latest
    # customers handed over to another engineer: that engineer has not visited them yet
    moved = client.post(f"/api/v1/admin/engineers/{engineer.engineer_id}/reassign", headers=admin.headers,
                        json={"to_engineer_id": other.engineer_id})
    assert moved.status_code == 200 and moved.json["moved"] == 1
    complete_handovers(app)
    taken = _customers(client, other)
    assert [(c["user_id"], c["last_visit_at"]) for c in taken] == [(first, None)]


def test_a_fresh_code_says_how_many_households_may_use_it(app, make_estate, make_engineer, mint_code):
    estate = make_estate()
    code = mint_code(make_engineer([estate]), estate)
    assert code["uses_left"] == app.config["BINDING_CODE_MAX_USES"] == 10
