"""The ranking is written without marshmallow (core.schemas.fast_response): the fast writer must
give exactly what the documented RankingSchema gives, for ranked, unranked, invited and
photographed engineers; an unknown estate is still a 404 and an uncovered one an empty list."""
from community.stats import services
from community.stats.schemas import RankingSchema, dump_ranked_engineer
from tests.community.stats.test_ranking_and_history import _import, _iso
from tests.community.stats.test_ranking_shape import upload


def test_the_fast_ranking_writer_matches_the_schema(app, client, tmp_path, make_estate, make_engineer, login):
    estate = make_estate()
    rated, busy, newcomer = (make_engineer([estate]) for _ in range(3))
    rows = [f"R{i},{estate},{rated.employee_no},,repair,{_iso(40 + i)},{_iso(39 + i)},{4 + i % 2},{1 if i == 0 else 0}"
            for i in range(7)]
    rows += [f"B{i},{estate},{busy.employee_no},,install,{_iso(10 + i)},{_iso(9 + i)},,0" for i in range(5)]
    assert _import(app, tmp_path, rows).exit_code == 0
    photo = upload(client, newcomer)
    assert client.put("/api/v1/engineer/me", headers=newcomer.headers, json={"photo": photo}).status_code == 200
    resident = login()
    response = client.get(f"/api/v1/estates/{estate}/engineers", headers=resident.headers)
    assert response.status_code == 200

    with app.test_request_context():
        items = services.ranking(estate)
        # a rated engineer with a complaint, an unrated busy one, and one without history (first
        # service unknown, average rating null) with a photo
        assert {i["engineer"]["id"] for i in items} == {rated.engineer_id, busy.engineer_id, newcomer.engineer_id}
        assert any(i["first_service_at"] is None and i["components"]["avg_rating"] is None for i in items)
        assert any(i["components"]["complaints"] == 1 for i in items)
        for item in items:
            assert dump_ranked_engineer(item) == RankingSchema().fields["items"].inner.schema.dump(item)
        expected = RankingSchema().dump({"estate_id": estate, "window_days": app.config["RANKING_WINDOW_DAYS"],
                                         "items": items})
    assert response.json == expected


def test_unknown_and_uncovered_estates(client, make_estate, login):
    resident = login()
    assert client.get("/api/v1/estates/987654/engineers", headers=resident.headers).status_code == 404
    empty = make_estate()
    r = client.get(f"/api/v1/estates/{empty}/engineers", headers=resident.headers)
    assert r.status_code == 200 and r.json["items"] == [] and r.json["estate_id"] == empty
