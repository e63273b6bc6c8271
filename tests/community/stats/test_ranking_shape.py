"""What the estate's ranking shows of each engineer: the mini-program's 工程师 tab lists them with
their photo."""
import io

from PIL import Image

from tests.conftest import bearer


def upload(client, who):
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (20, 120, 200)).save(out, "JPEG")
    r = client.post("/api/v1/uploads", headers=bearer(who.token), data={"file": (io.BytesIO(out.getvalue()), "a.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 201
    return r.json["id"]


def test_ranked_engineers_carry_their_photo(client, make_estate, make_engineer, login):
    estate = make_estate()
    with_photo, without = make_engineer([estate], name="王建国"), make_engineer([estate], name="李师傅")
    photo = upload(client, with_photo)
    assert client.put("/api/v1/engineer/me", headers=with_photo.headers, json={"photo": photo}).status_code == 200
    items = client.get(f"/api/v1/estates/{estate}/engineers", headers=login().headers).json["items"]
    by_id = {item["engineer"]["id"]: item["engineer"] for item in items}
    assert by_id[with_photo.engineer_id] == {"id": with_photo.engineer_id, "name": "王建国",
                                             "photo_url": f"http://linli.test/api/v1/uploads/{photo}"}
    assert by_id[without.engineer_id] == {"id": without.engineer_id, "name": "李师傅", "photo_url": None}
