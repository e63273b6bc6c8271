"""Cursor pagination: pages chain without overlap or gaps; bad limits and cursors are client errors."""
import base64
import json

from core.pagination import encode_cursor


def walk(client, url: str, headers: dict, limit: int) -> list[list[dict]]:
    """Follow next_cursor from the first page to the last; returns the pages."""
    pages, cursor = [], None
    sep = "&" if "?" in url else "?"
    while True:
        query = f"{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url + query, headers=headers)
        assert response.status_code == 200, response.json
        pages.append(response.json["items"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "pagination does not end"


def test_admin_estates_chain_across_pages(client, admin, make_estate):
    ids = [make_estate() for _ in range(7)]
    pages = walk(client, "/api/v1/admin/estates", admin.headers, limit=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    seen = [e["id"] for page in pages for e in page]
    assert seen == sorted(ids, reverse=True)  # newest first, no overlap, no gap


def test_exact_multiple_of_the_limit_ends_with_a_null_cursor(client, admin, make_estate):
    for _ in range(6):
        make_estate()
    pages = walk(client, "/api/v1/admin/estates", admin.headers, limit=3)
    assert [len(p) for p in pages] == [3, 3]


def test_rows_added_between_pages_do_not_shift_the_next_page(client, admin, make_estate):
    ids = [make_estate() for _ in range(5)]
    first = client.get("/api/v1/admin/estates?limit=2", headers=admin.headers).json
    assert [e["id"] for e in first["items"]] == sorted(ids, reverse=True)[:2]
    make_estate()  # newer than everything: an OFFSET scan would repeat a row on the next page
    second = client.get(f"/api/v1/admin/estates?limit=2&cursor={first['next_cursor']}", headers=admin.headers).json
    assert [e["id"] for e in second["items"]] == sorted(ids, reverse=True)[2:4]


def test_filters_hold_on_every_page(client, admin, make_estate):
    wanted = [make_estate(city="广州市") if i % 2 else make_estate(city="深圳市") for i in range(9)]
    guangzhou = [wanted[i] for i in range(9) if i % 2]
    pages = walk(client, "/api/v1/admin/estates?city=%E5%B9%BF%E5%B7%9E%E5%B8%82", admin.headers, limit=1)
    assert [e["id"] for page in pages for e in page] == sorted(guangzhou, reverse=True)


def test_engineer_customers_chain_across_pages(client, make_estate, make_engineer, mint_code, bind):
    estate = make_estate()
    engineer = make_engineer([estate])
    other = make_engineer([estate])
    scene = mint_code(engineer, estate)["scene"]
    residents = []
    for _ in range(7):
        response = bind(scene)
        assert response.status_code == 200, response.json
        residents.append(response.json["user"]["id"])
    assert bind(mint_code(other, estate)["scene"]).status_code == 200  # someone else's customer

    pages = walk(client, "/api/v1/engineer/customers", engineer.headers, limit=2)
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    seen = [c["user_id"] for page in pages for c in page]
    assert seen == list(reversed(residents))
    assert len(set(seen)) == 7


def test_limit_out_of_bounds_is_422(client, admin):
    for limit in ("0", "101", "-1", "abc"):
        response = client.get(f"/api/v1/admin/estates?limit={limit}", headers=admin.headers)
        assert response.status_code == 422, limit
        assert response.json["error"]["code"] == "validation_error"
        assert set(response.json["error"]["details"]["fields"]) == {"limit"}


def test_limit_bounds_are_inclusive(client, admin, make_estate):
    make_estate()
    make_estate()
    for limit in (1, 100):
        response = client.get(f"/api/v1/admin/estates?limit={limit}", headers=admin.headers)
        assert response.status_code == 200, limit
        assert len(response.json["items"]) == min(limit, 2)
        assert (response.json["next_cursor"] is None) == (limit >= 2)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


GARBAGE_CURSORS = {
    "not base64": "%%%not-base64",
    "random text": "zzz",
    "base64 of non-json": _b64(b"\xff\xfe\x00garbage"),
    "json object": _b64(json.dumps({"id": 1}).encode()),
    "wrong arity": encode_cursor([1, 2]),
    "empty list": encode_cursor([]),
    "float": encode_cursor([1.5]),
    "boolean": encode_cursor([True]),
    "null": encode_cursor([None]),
    "nested": encode_cursor([[1]]),
    # Well-formed cursors whose value cannot be an id: the database must never see them.
    "text for an integer key": encode_cursor(["abc"]),
    "integer beyond 64 bits": encode_cursor([10**30]),
    "negative beyond 64 bits": encode_cursor([-(10**30)]),
}


def test_garbage_cursor_is_400_invalid_cursor(client, admin, make_estate):
    make_estate()
    for name, cursor in GARBAGE_CURSORS.items():
        response = client.get("/api/v1/admin/estates", headers=admin.headers, query_string={"cursor": cursor})
        assert response.status_code == 400, (name, response.json)
        assert response.json["error"]["code"] == "invalid_cursor", name
        assert response.json["error"]["details"]["fields"] == {"cursor": ["分页游标无效"]}


def test_garbage_cursor_on_engineer_customers(client, make_estate, make_engineer):
    engineer = make_engineer([make_estate()])
    response = client.get("/api/v1/engineer/customers", headers=engineer.headers,
                          query_string={"cursor": encode_cursor(["x"])})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_cursor"


def test_pages_go_back_with_a_before_cursor_to_exactly_the_pages_seen(app, make_estate):
    """Forwards with `cursor`, backwards with `before`: the same pages in the same order, the
    first page without a way back, the last without a way on (ascending and descending)."""
    import sqlalchemy as sa

    from community.estates.models import Estate
    from core.pagination import paginate

    ids = [make_estate() for _ in range(7)]
    with app.app_context():
        for descending in (True, False):
            stmt = sa.select(Estate).where(Estate.id.in_(ids))
            forward, page = [], paginate(stmt, [Estate.id], limit=3, cursor=None, descending=descending)
            assert page.prev_cursor is None
            while True:
                forward.append([e.id for e in page.items])
                if page.next_cursor is None:
                    break
                page = paginate(stmt, [Estate.id], limit=3, cursor=page.next_cursor, descending=descending)
                assert page.prev_cursor is not None
            assert forward == [ids[::-1][:3], ids[::-1][3:6], ids[::-1][6:]] if descending else \
                [ids[:3], ids[3:6], ids[6:]]
            backward = [[e.id for e in page.items]]
            while page.prev_cursor:
                page = paginate(stmt, [Estate.id], limit=3, cursor=None, before=page.prev_cursor, descending=descending)
                assert page.next_cursor is not None  # the page we came from is after it
                backward.append([e.id for e in page.items])
            assert backward[::-1] == forward
