"""The targeting rule: every key validated with a Chinese message naming it, normalised, and
matched in SQL (the same on SQLite and PostgreSQL): each key selects exactly the estates it
should; keys combine with AND; `within` narrows; inactive estates never match."""
from __future__ import annotations

import math

import pytest

from core.errors import ValidationFailed
from tests.community.profiles.conftest import matched


def refused(rule) -> dict:
    from community.profiles import services
    with pytest.raises(ValidationFailed) as caught:
        services.validate_rule(rule)
    assert caught.value.message == "筛选规则有误"
    return caught.value.details["fields"]


def test_each_bad_key_is_named_with_a_chinese_message(ctx, estate):
    assert refused({"colour": "red"}) == {"colour": ["不支持的筛选条件：colour"]}
    assert refused({"households": {"min": 500, "max": 100}}) == {"households": ["户数的最小值不能大于最大值"]}
    assert refused({"households": {"min": 1.5}}) == {"households": ["户数的最小值应为整数"]}
    assert refused({"households": {}}) == {"households": ['户数应为 {"min": 整数, "max": 整数}，至少填写一个']}
    assert refused({"avg_rating": {"min": 6}}) == {"avg_rating": ["平均评分应在 1 到 5 之间"]}
    assert refused({"avg_rating": {"min": True}}) == {"avg_rating": ["平均评分的最小值应为数字"]}
    assert refused({"coverage": {"max": 1.2}}) == {"coverage": ["管家覆盖率应在 0 到 1 之间"]}
    assert refused({"orders_per_1000": {"min": -1}})["orders_per_1000"] == ["每千户服务单数应在 0 到 1,000,000 之间"]
    assert refused({"near": {"lat": 22.5, "lng": 113.9}}) == {
        "near": ['距离条件应为 {"lat": 纬度, "lng": 经度, "radius_km": 半径公里数}']}
    assert refused({"near": {"lat": 95, "lng": 113.9, "radius_km": 3}}) == {"near": ["纬度应在 -90 到 90 之间"]}
    assert refused({"near": {"lat": 22.5, "lng": 113.9, "radius_km": 80}}) == {"near": ["半径应大于 0、不超过 50 公里"]}
    assert refused({"cities": "深圳市"}) == {"cities": ['城市应为文字列表，例如 ["深圳市"]']}
    assert refused({"tags_any": ["一个非常非常非常非常非常长的标签名字"]}) == {
        "tags_any": ["标签（任一）每个最多 16 个字：一个非常非常非常非常非常长的标签名字"]}
    assert refused({"estate_ids": [1, "2"]}) == {"estate_ids": ["小区应为小区编号（正整数）的列表"]}
    known = estate()
    assert refused({"estate_ids": [known, 999999]}) == {"estate_ids": ["小区不存在：#999999"]}
    assert refused({"estate_ids": list(range(1, 1002))}) == {"estate_ids": ["指定小区最多 1,000 个"]}
    # several keys at fault: each is named
    assert set(refused({"households": {"min": -1}, "coverage": {"min": 2}, "x": 1})) == {"households", "coverage", "x"}
    with pytest.raises(ValidationFailed) as caught:
        from community.profiles import services
        services.validate_rule(["cities"])
    assert caught.value.details["fields"] == {"rule": ["筛选规则应为 JSON 对象"]}


def test_a_rule_is_normalised(ctx, estate):
    from community.profiles import services
    a, b = estate(), estate()
    rule = services.validate_rule({"tags_none": [], "cities": [" 深圳市", "深圳市", "广州  市"], "estate_ids": [b, a, b],
                                   "coverage": {"min": 0}, "households": {"min": 500.0}, "near": None})
    assert rule == {"estate_ids": sorted([a, b]), "cities": ["深圳市", "广州 市"], "households": {"min": 500},
                    "coverage": {"min": 0.0}}
    assert list(rule) == ["estate_ids", "cities", "households", "coverage"]
    assert services.validate_rule({}) == {}


def test_regions_households_ids_and_status(ctx, estate):
    from community.estates import services as estates
    from core.extensions import db
    sz = estate(city="深圳市", district="南山区", households=300)
    sz_ft = estate(city="深圳市", district="福田区", households=800)
    gz = estate(province="广东省", city="广州市", district="天河区", households=5000)
    hz = estate(province="浙江省", city="杭州市", district="西湖区", households=0)
    closed = estate(city="深圳市", district="南山区", households=900)
    estates.update_estate(estates.get_estate(closed), {"status": "inactive"}, actor=None)
    db.session.commit()
    assert matched({}) == {sz, sz_ft, gz, hz}
    assert matched({"provinces": ["广东省"]}) == {sz, sz_ft, gz}
    assert matched({"cities": ["深圳市", "杭州市"]}) == {sz, sz_ft, hz}
    assert matched({"districts": ["南山区"]}) == {sz}
    assert matched({"households": {"min": 800}}) == {sz_ft, gz}
    assert matched({"households": {"max": 800}}) == {sz, sz_ft, hz}
    assert matched({"households": {"min": 300, "max": 800}}) == {sz, sz_ft}
    assert matched({"estate_ids": [sz, gz, closed]}) == {sz, gz}
    assert matched({"provinces": ["广东省"], "households": {"max": 1000}}) == {sz, sz_ft}  # AND
    assert matched({"cities": ["深圳市"]}, within={"districts": ["福田区"]}) == {sz_ft}


def test_figures_from_the_profile(ctx, estate, month_stats, bindings):
    from community.profiles import services
    from core.extensions import db
    first, _end = services.profile_months()
    good, busy, empty, fresh = estate(households=1000), estate(households=200), estate(households=0), estate()
    month_stats(good, first, orders=30, complaints=1, ratings_count=10, ratings_sum=48)  # 4.8, 30 and 1 per 1,000
    month_stats(busy, first, orders=10, complaints=2, ratings_count=4, ratings_sum=14)  # 3.5, 50 and 10 per 1,000
    bindings(good, 500)  # 50 %
    bindings(busy, 20, ended=30)  # 10 %
    services.refresh_profiles([good, busy, empty])  # `fresh` never refreshed: no figures, never matched by them
    db.session.commit()
    assert matched({"avg_rating": {"min": 4.5}}) == {good}
    assert matched({"avg_rating": {"max": 4}}) == {busy}  # without ratings: fails any rating bound
    assert matched({"orders_per_1000": {"min": 40}}) == {busy}
    assert matched({"orders_per_1000": {"max": 40}}) == {good}  # 0 households: no per-1,000 figure
    assert matched({"complaints_per_1000": {"max": 2}}) == {good}
    assert matched({"coverage": {"min": 0.2, "max": 0.6}}) == {good}
    assert matched({"coverage": {"max": 0.2}}) == {busy}
    assert matched({}) == {good, busy, empty, fresh}
    assert services.count_matching({"coverage": {"min": 0.01}}) == 2


def test_tags_any_all_and_none(ctx, estate):
    from community.profiles import services
    from core.extensions import db
    new_villa, new, old, plain = estate(), estate(), estate(), estate()
    services.set_estate_tags(new_villa, ["新小区", "别墅"], None)
    services.set_estate_tags(new, ["新小区"], None)
    services.set_estate_tags(old, ["老旧小区", "学区房"], None)
    db.session.commit()
    assert matched({"tags_any": ["别墅", "学区房"]}) == {new_villa, old}
    assert matched({"tags_all": ["新小区", "别墅"]}) == {new_villa}
    assert matched({"tags_none": ["老旧小区"]}) == {new_villa, new, plain}
    assert matched({"tags_any": ["新小区"], "tags_none": ["别墅"]}) == {new}
    assert matched({"tags_any": ["无此标签"]}) == set()


def test_near_uses_the_equirectangular_distance_within_a_bounding_box(ctx, estate):
    from community.estates.services import distance_m
    lat0, lng0 = 22.5400, 113.9300
    per_degree_lat = 111_195.0  # metres

    def at(north_m: float, east_m: float) -> tuple[float, float]:
        lat = lat0 + north_m / per_degree_lat
        return round(lat, 6), round(lng0 + east_m / (per_degree_lat * math.cos(math.radians(lat0))), 6)

    places = {"in_north": at(4900, 0), "out_north": at(5100, 0), "in_diagonal": at(3500, 3500),
              "out_diagonal": at(3600, 3600), "centre": at(0, 0), "far": at(40000, 0)}
    ids = {name: estate(lat=lat, lng=lng) for name, (lat, lng) in places.items()}
    estate()  # no coordinates: never near anything
    found = matched({"near": {"lat": lat0, "lng": lng0, "radius_km": 5}})
    assert found == {ids["in_north"], ids["in_diagonal"], ids["centre"]}
    for name, (lat, lng) in places.items():  # the SQL agrees with the great circle at the edge
        assert (ids[name] in found) == (distance_m(lat0, lng0, lat, lng) <= 5000), name
    assert matched({"near": {"lat": lat0, "lng": lng0, "radius_km": 50}}) == set(ids.values())
    assert matched({"near": {"lat": lat0, "lng": lng0, "radius_km": 5}}, within={"estate_ids": [ids["centre"]]}) == {
        ids["centre"]}


def test_preview_counts_and_lists_the_first_estates_by_id(ctx, estate):
    from community.profiles import services
    ids = [estate(city="佛山市", name=f"佛山{i}") for i in range(5)]
    estate(city="东莞市")
    view = services.preview({"cities": ["佛山市"]}, limit=3)
    assert view["count"] == 5
    assert [e["id"] for e in view["estates"]] == ids[:3]
    assert view["estates"][0]["name"] == "佛山0" and view["estates"][0]["city"] == "佛山市"


def test_rule_preview_api_and_its_422(client, admin, agent, make_estate):
    a = make_estate(city="珠海市")
    r = client.post("/api/v1/admin/estate-rules/preview", headers=agent.headers,
                    json={"rule": {"cities": ["珠海市 "]}, "limit": 10})
    assert r.status_code == 200, r.json
    assert r.json["count"] == 1 and r.json["estates"][0]["id"] == a and r.json["rule"] == {"cities": ["珠海市"]}
    r = client.post("/api/v1/admin/estate-rules/preview", headers=admin.headers,
                    json={"rule": {"households": {"min": 9, "max": 1}}})
    assert r.status_code == 422
    assert r.json["error"]["code"] == "validation_error"
    assert r.json["error"]["details"]["fields"] == {"households": ["户数的最小值不能大于最大值"]}
