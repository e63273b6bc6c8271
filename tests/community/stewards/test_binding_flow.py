"""Steward binding end to end over HTTP, against the fake WeChat server (real wechatpy calls)."""


def test_scan_binds_steward_and_estate(client, wechat, make_estate, make_engineer, mint_code, bind):
    estate = make_estate(name="翠竹苑")
    engineer = make_engineer([estate], name="王师傅")
    code = mint_code(engineer, estate, visit_ref="WO-1001")
    assert len(code["scene"]) <= 32
    image = client.get(code["image_url"].replace("http://linli.test", ""))
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data[:2] == b"\xff\xd8"

    response = bind(code["scene"], openid="oResident1", rating=5, comment="很专业")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["result"] == "created"
    assert body["steward"]["engineer"]["name"] == "王师傅"
    assert body["estate"]["name"] == "翠竹苑"
    assert body["visit"]["rating"] == 5
    headers = {"Authorization": f"Bearer {body['token']}"}

    stewards = client.get("/api/v1/me/stewards", headers=headers).json["items"]
    assert [s["engineer"]["id"] for s in stewards] == [engineer.engineer_id]
    estates = client.get("/api/v1/me/estates", headers=headers).json["items"]
    assert [e["estate"]["id"] for e in estates] == [estate]

    customers = client.get("/api/v1/engineer/customers", headers=engineer.headers).json
    assert [c["user_id"] for c in customers["items"]] == [body["user"]["id"]]

    # Repeating the call (a fresh wx.login code, same scene) duplicates nothing.
    again = bind(code["scene"], openid="oResident1")
    assert again.status_code == 200 and again.json["result"] == "unchanged"
    assert again.json["visit"]["id"] == body["visit"]["id"]
    assert len(client.get("/api/v1/engineer/customers", headers=engineer.headers).json["items"]) == 1
