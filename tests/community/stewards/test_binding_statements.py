"""The round trips of the binding flow (issue 15: its p99 under load is CPU and round trips per
flow, bench/binding.py): the SQL statements of the code request and of a new resident's binding
call are pinned, so a change that adds one fails here and says which. When a change removes
some, lower the numbers."""
from tests.community.stats.test_ranking_and_history import count_statements

# POST /api/v1/engineer/binding-codes: the caller's token (1), their engineer profile (1), the
# estate with the engineer's coverage of it (1), the INSERT of the code (1).
CODE_REQUEST = 4
# POST /api/v1/bindings by a new resident, without a rating (as bench/binding.py): the code with its
# engineer's coverage (1); the WeChat identity (1), the new user and its identity (2: no savepoint;
# a user created today has no binding of an earlier day for the trust watch to settle: no query);
# residency (2: estates.join_estate); the visit and the code's use (2); the binding (1); the
# console's bindings per day (1); first steward ever? (1); the first-binding coupon rule (1); the
# rank on the card (1: stats.rank_in); community.trust's watch (1), its burst count with the
# known-alive order check (1); the token (1). (Past the estate's burst limit, as in the bench's
# thousand bindings by one engineer, the trust watch's flag is one more.)
BINDING_REQUEST = 16


def test_the_binding_flow_takes_a_known_number_of_statements(app, client, wechat, make_estate, make_engineer,
                                                             mint_code, bind):
    estate = make_estate()
    engineer = make_engineer([estate])
    bind(mint_code(engineer, estate)["scene"])  # a first flow: the WeChat token, first-use work

    with count_statements(app) as statements:
        response = client.post("/api/v1/engineer/binding-codes", headers=engineer.headers,
                               json={"estate_id": estate})
    assert response.status_code == 201, response.json
    assert len(statements) <= CODE_REQUEST, "\n".join(statements)

    code = wechat.code()  # the fake's control, outside the count
    with count_statements(app) as statements:
        response = client.post("/api/v1/bindings", json={"code": code, "scene": response.json["scene"]})
    assert response.status_code == 200 and response.json["result"] == "created", response.json
    assert len(statements) <= BINDING_REQUEST, "\n".join(statements)
    # The region's bindings of the day come last, before the token alone: every binding in the
    # district shares that row and holds its lock until the commit, so concurrent bindings wait for
    # whatever follows it (with it in the middle, the bench's p99 under 4 clients was twice as long).
    shared = [i for i, statement in enumerate(statements) if "region_day_stats" in statement]
    assert len(shared) == 1, "\n".join(statements)
    assert all("api_tokens" in statement for statement in statements[shared[0] + 1:]), "\n".join(statements)
