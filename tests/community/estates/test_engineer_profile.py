"""An engineer's own profile: PUT /api/v1/engineer/me (introduction and photo)."""
import io

import pytest
import sqlalchemy as sa
from PIL import Image

from community.estates.models import Engineer
from core.extensions import db
from core.models import AuditEntry

URL = "/api/v1/engineer/me"


def upload(client, who) -> str:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), (200, 200, 30)).save(out, "JPEG")
    response = client.post("/api/v1/uploads", headers=who.headers, data={"file": (io.BytesIO(out.getvalue()), "p.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    return response.json["id"]


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    return response.json["error"]


@pytest.fixture
def engineer(make_estate, make_engineer):
    return make_engineer([make_estate()])


def test_a_new_engineer_has_no_photo_and_no_intro(client, engineer):
    response = client.get(URL, headers=engineer.headers)
    assert response.status_code == 200
    assert response.json["photo_url"] is None and response.json["intro"] == ""


def test_intro_and_photo_are_set_checked_and_shown(client, engineer, admin, wechat, app):
    photo = upload(client, engineer)
    response = client.put(URL, headers=engineer.headers, json={"intro": "  十年空调维修经验，\n周末也可以上门。 ",
                                                                "photo": photo})
    assert response.status_code == 200, response.json
    assert response.json["intro"] == "十年空调维修经验，\n周末也可以上门。"
    assert response.json["photo_url"] == f"http://linli.test/api/v1/uploads/{photo}"
    assert client.get(URL, headers=engineer.headers).json == response.json
    detail = client.get(f"/api/v1/admin/engineers/{engineer.engineer_id}", headers=admin.headers).json
    assert detail["intro"] == response.json["intro"] and detail["photo_url"] == response.json["photo_url"]
    [check] = wechat.calls("wxa/msg_sec_check")
    assert check["body"]["scene"] == 1 and check["body"]["openid"] == engineer.openid
    assert check["body"]["content"] == "十年空调维修经验，\n周末也可以上门。"
    with app.app_context():
        [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "engineer.profile.update"))
        assert entry.actor_id == engineer.user_id and entry.object_id == str(engineer.engineer_id)


def test_only_what_is_sent_changes_and_empty_or_null_removes(client, engineer, wechat, app):
    photo = upload(client, engineer)
    client.put(URL, headers=engineer.headers, json={"intro": "你好", "photo": photo})
    response = client.put(URL, headers=engineer.headers, json={"intro": "你好"})
    assert response.json["photo_url"] == f"http://linli.test/api/v1/uploads/{photo}"
    assert len(wechat.calls("wxa/msg_sec_check")) == 1  # unchanged: not asked again
    response = client.put(URL, headers=engineer.headers, json={"photo": None})
    assert response.json["photo_url"] is None and response.json["intro"] == "你好"
    response = client.put(URL, headers=engineer.headers, json={"intro": "   "})
    assert response.json["intro"] == ""
    assert len(wechat.calls("wxa/msg_sec_check")) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "engineer.profile.update")) == 3  # the repeat changed nothing


def test_intro_up_to_500_characters(client, engineer):
    assert client.put(URL, headers=engineer.headers, json={"intro": "修" * 500}).status_code == 200
    for intro in ("修" * 501, "修" * 2001, "a\x00b"):
        err = error(client.put(URL, headers=engineer.headers, json={"intro": intro}), 422, "validation_error")
        assert list(err["details"]["fields"]) == ["intro"]
    assert client.get(URL, headers=engineer.headers).json["intro"] == "修" * 500


def test_someone_elses_photo_is_422(client, engineer, login):
    other = upload(client, login())
    err = error(client.put(URL, headers=engineer.headers, json={"photo": other, "intro": "你好"}), 422,
                "validation_error")
    assert list(err["details"]["fields"]) == ["photo"]
    body = client.get(URL, headers=engineer.headers).json
    assert body["photo_url"] is None and body["intro"] == ""


def test_a_risky_intro_is_refused(client, engineer):
    client.put(URL, headers=engineer.headers, json={"intro": "专业维修"})
    err = error(client.put(URL, headers=engineer.headers, json={"intro": "代开发票，专业维修"}), 409, "content_risky")
    assert "简介" in err["message"]
    assert client.get(URL, headers=engineer.headers).json["intro"] == "专业维修"


def test_an_intro_wechat_cannot_check_or_wants_reviewed_is_kept(client, engineer, wechat):
    wechat.fault("wxa/msg_sec_check", count=2, status=502)
    response = client.put(URL, headers=engineer.headers, json={"intro": "专业维修"})
    assert response.status_code == 200 and response.json["intro"] == "专业维修"
    assert len(wechat.calls("wxa/msg_sec_check")) == 2  # asked, and once more after the first failure
    assert client.put(URL, headers=engineer.headers, json={"intro": "有事加微信"}).json["intro"] == "有事加微信"


def test_only_working_engineers(client, login, engineer, app):
    error(client.put(URL, headers=login().headers, json={"intro": "x"}), 403, "forbidden")
    with app.app_context():
        db.session.get(Engineer, engineer.engineer_id).status = "left"
        db.session.commit()
    error(client.put(URL, headers=engineer.headers, json={"intro": "x"}), 403, "not_engineer")
    assert client.put(URL, json={"intro": "x"}).status_code == 401
