"""Photos of feed posts go through WeChat's asynchronous image check; the verdict arrives at the
message-push endpoint (signed by WeChat's rules, plaintext or security mode)."""
import hashlib
import json
import secrets
import time

import pytest

from tests.community.feed.test_feed import post, upload

TOKEN = "linli-dev-push-token"


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def push(client, event: dict, *, token=TOKEN):
    ts, nonce = str(int(time.time())), secrets.token_hex(8)  # a nonce is taken once (core/wechat/push.py)
    return client.post(f"/wechat/push?signature={signature(token, ts, nonce)}&timestamp={ts}&nonce={nonce}",
                       data=json.dumps(event), content_type="application/json")


@pytest.fixture
def estate(make_estate):
    return make_estate()


@pytest.fixture
def resident(client, login, estate):
    account = login()
    client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate})
    return account


def events(wechat):
    return wechat.control("GET", "media-events")["events"]


def test_each_photo_is_checked_and_a_risky_verdict_takes_the_post_down(app, client, wechat, estate, resident,
                                                                      make_engineer):
    photos = [upload(client, resident), upload(client, resident)]
    wechat.control("POST", "media-verdicts", json={"risky": [photos[1]]})
    created = post(client, resident, estate, kind="photo", text="新装的净水器", photo_ids=photos)
    assert created.status_code == 201 and created.json["status"] == "published"
    sent = events(wechat)
    assert len(sent) == 2 and all(e["Event"] == "wxa_media_check" and e["FromUserName"] == resident.openid
                                  for e in sent)
    checks = wechat.calls("wxa/media_check_async")
    assert len(checks) == 2
    neighbour = make_engineer([estate])
    for event in sent:
        assert push(client, event).get_data(as_text=True) == "success"
    assert client.get(f"/api/v1/estates/{estate}/feed", headers=neighbour.headers).json["items"] == []
    # a repeated push (WeChat retries) changes nothing; an unknown trace id is ignored
    assert push(client, sent[1]).status_code == 200
    assert push(client, {**sent[0], "trace_id": "unknown"}).status_code == 200
    import sqlalchemy as sa

    from core.audit import AuditEntry
    from core.extensions import db
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.action == "feed.post.hide")).all()
    assert actions == ["feed.post.hide"]


def test_a_review_verdict_holds_the_post_and_pass_leaves_it(client, wechat, estate, resident, make_engineer):
    held_photo, fine_photo = upload(client, resident), upload(client, resident)
    wechat.control("POST", "media-verdicts", json={"review": [held_photo]})
    held = post(client, resident, estate, kind="photo", photo_ids=[held_photo]).json
    fine = post(client, resident, estate, kind="photo", photo_ids=[fine_photo]).json
    for event in events(wechat):
        push(client, event)
    neighbour = make_engineer([estate])
    visible = [p["id"] for p in client.get(f"/api/v1/estates/{estate}/feed", headers=neighbour.headers).json["items"]]
    assert visible == [fine["id"]]
    own = {p["id"]: p["status"] for p in client.get(f"/api/v1/estates/{estate}/feed", headers=resident.headers).json["items"]}
    assert own == {fine["id"]: "published", held["id"]: "held"}


def test_a_photo_wechat_cannot_check_holds_the_post(client, wechat, estate, resident):
    photo = upload(client, resident)
    wechat.fault("wxa/media_check_async", count=2, errcode=-1)
    created = post(client, resident, estate, kind="photo", photo_ids=[photo])
    assert created.status_code == 201 and created.json["status"] == "held"


def test_pushes_with_a_bad_signature_are_refused(client, wechat, estate, resident):
    photo = upload(client, resident)
    wechat.control("POST", "media-verdicts", json={"risky": [photo]})
    created = post(client, resident, estate, kind="photo", photo_ids=[photo]).json
    event = events(wechat)[0]
    assert push(client, event, token="wrong-token").status_code == 403
    assert client.get(f"/api/v1/posts/{created['id']}", headers=resident.headers).json["post"]["status"] == "published"
    assert client.post("/wechat/push", data="{}", content_type="application/json").status_code == 403


def test_url_verification_with_the_official_vector(app, client):
    app.config["WECHAT_PUSH_TOKEN"] = "AAAAA"
    r = client.get("/wechat/push?signature=f464b24fc39322e44b38aa78f5edd27bd1441696&timestamp=1714036504"
                   "&nonce=1514711492&echostr=4375120948345356249")
    assert r.status_code == 200 and r.get_data(as_text=True) == "4375120948345356249"
    r = client.get("/wechat/push?signature=0000&timestamp=1714036504&nonce=1514711492&echostr=1")
    assert r.status_code == 403


def test_security_mode_push_with_the_official_vector(app, client, monkeypatch):
    """The official encrypted vector (token AAAAA, EncodingAESKey A×43, appid wxba5fad812f8e6fb9)
    decrypts and is answered `success` (its debug_demo event has no handler)."""
    from core.wechat import push as push_endpoint
    monkeypatch.setattr(push_endpoint, "_now", lambda: 1714112445 + 10)  # the vector's own time
    app.config.update(WECHAT_PUSH_TOKEN="AAAAA", WECHAT_PUSH_AES_KEY="A" * 43, WECHAT_APPID="wxba5fad812f8e6fb9")
    body = {"ToUserName": "gh_97417a04a28d", "Encrypt": (
        "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6Js"
        "XUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8"
        "EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=")}
    query = ("signature=6c5c811b55cc85e0e1b54100749188c20beb3f5d&timestamp=1714112445&nonce=415670741"
             "&openid=o9AgO5Kd5ggOC-bXrbNODIiE3bGY&encrypt_type=aes")
    ok = client.post(f"/wechat/push?{query}&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b3",
                     data=json.dumps(body), content_type="application/json")
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "success"
    forged = client.post(f"/wechat/push?{query}&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b4",
                         data=json.dumps(body), content_type="application/json")
    assert forged.status_code == 403
    replayed = client.post(f"/wechat/push?{query}&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b3",
                           data=json.dumps(body), content_type="application/json")
    assert replayed.status_code == 403
