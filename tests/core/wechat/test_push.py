"""WeChat's message push takes an event only when it is fresh and new: `timestamp` within
WECHAT_PUSH_MAX_SKEW_SECONDS, each (timestamp, nonce) once, in every process; plaintext mode
(whose signature does not cover the body) only without an EncodingAESKey and outside production."""
import hashlib
import json
import secrets
import time

import pytest

from core import signals

TOKEN = "linli-dev-push-token"
EVENT = {"ToUserName": "gh_fake0000001", "MsgType": "event", "Event": "linli_test_event", "n": 1}


def signed_query(timestamp: int | str, nonce: str, token: str = TOKEN) -> str:
    timestamp = str(timestamp)
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return f"signature={signature}&timestamp={timestamp}&nonce={nonce}"


def push(client, timestamp=None, nonce=None, event=EVENT):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return client.post(f"/wechat/push?{signed_query(timestamp, nonce or secrets.token_hex(8))}",
                       data=json.dumps(event), content_type="application/json")


@pytest.fixture
def received():
    """The events a receiver of `linli_test_event` was given."""
    events = []

    def receiver(sender, event):
        events.append(event)

    signals.wechat_event.connect(receiver, sender="linli_test_event")
    yield events
    signals.wechat_event.disconnect(receiver, sender="linli_test_event")


def test_a_fresh_signed_push_is_taken(client, received):
    response = push(client)
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"
    assert received == [EVENT]


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_outside_the_window_is_refused(client, received, offset):
    assert push(client, timestamp=int(time.time()) + offset).status_code == 403
    assert received == []


def test_a_timestamp_that_is_not_a_number_is_refused(client, received):
    assert push(client, timestamp="yesterday").status_code == 403
    assert received == []


def test_the_window_is_a_setting(app, client, received):
    app.config["WECHAT_PUSH_MAX_SKEW_SECONDS"] = 30
    assert push(client, timestamp=int(time.time()) - 60).status_code == 403
    assert push(client, timestamp=int(time.time()) - 10).status_code == 200


def test_a_replayed_nonce_is_refused_and_not_processed(client, received):
    timestamp, nonce = int(time.time()), secrets.token_hex(8)
    assert push(client, timestamp, nonce).status_code == 200
    replay = push(client, timestamp, nonce)
    assert replay.status_code == 403
    assert received == [EVENT]
    assert push(client, timestamp, secrets.token_hex(8)).status_code == 200  # another nonce is another push
    assert len(received) == 2


def test_a_replay_to_another_process_is_refused(app_config, app, client, received):
    from core import create_app
    from core.extensions import db

    timestamp, nonce = int(time.time()), secrets.token_hex(8)
    assert push(client, timestamp, nonce).status_code == 200
    other = create_app(dict(app_config))  # another worker: the same database
    try:
        assert push(other.test_client(), timestamp, nonce).status_code == 403
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
    assert received == [EVENT]


def test_a_push_whose_handling_failed_is_taken_when_wechat_retries_it(client):
    calls = []

    def failing(sender, event):
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("the receiver failed")

    signals.wechat_event.connect(failing, sender="linli_test_event")
    try:
        timestamp, nonce = int(time.time()), secrets.token_hex(8)
        with pytest.raises(RuntimeError):  # the test app propagates it; a server answers 500
            push(client, timestamp, nonce)
        assert push(client, timestamp, nonce).status_code == 200  # the nonce was rolled back with the failure
        assert len(calls) == 2
    finally:
        signals.wechat_event.disconnect(failing, sender="linli_test_event")


def test_expired_nonces_are_forgotten(app, client, received, monkeypatch):
    import sqlalchemy as sa

    from core.extensions import db
    from core.wechat import push as endpoint
    from core.wechat.models import WeChatKV

    assert push(client).status_code == 200
    later = time.time() + 2 * app.config["WECHAT_PUSH_MAX_SKEW_SECONDS"]
    monkeypatch.setattr(endpoint, "_now", lambda: later)
    assert push(client, timestamp=int(later)).status_code == 200
    with app.app_context():
        keys = db.session.scalars(sa.select(WeChatKV.key).where(WeChatKV.key.startswith("push-nonce:"))).all()
    assert [key.split(":")[1] for key in keys] == [str(int(later))]  # the first one was deleted


@pytest.mark.parametrize("config", [{"WECHAT_PUSH_AES_KEY": "A" * 43}, {"LINLI_ENV": "production"}])
def test_plaintext_mode_is_refused_with_an_aes_key_or_in_production(app, client, received, config):
    app.config.update(config)
    assert push(client).status_code == 403
    assert received == []
