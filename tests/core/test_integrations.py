"""Signed integration requests: every refusal (401, one error shape), the skew edges, replays,
and the purge of old signatures."""
import itertools
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core import integrations
from core.db import utcnow
from core.extensions import db
from core.models import IntegrationSignature

SECRET = "linli-dev-integration-secret"  # the default of core.config (tests do not override it)
URL = "/api/v1/integrations/orders"
# Default timestamps run ahead of the clock by a growing step (within the skew): two requests with
# the same body never get the same signature by landing in the same second.
_AHEAD = itertools.count()


def signed_post(client, body, *, timestamp=None, secret=SECRET, signature=None, headers=None, raw=None):
    """POST `body` (or the bytes `raw`) to the order integration, signed as a partner does."""
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    timestamp = str(int(time.time()) + next(_AHEAD) % 240 if timestamp is None else timestamp)
    sent = {"X-Linli-Timestamp": timestamp,
            "X-Linli-Signature": signature or integrations.sign(secret, timestamp, data),
            "Content-Type": "application/json", **(headers or {})}
    return client.post(URL, data=data, headers={k: v for k, v in sent.items() if v is not None})


def order_body(**fields):
    return {"external_id": f"T{time.time_ns()}", "status": "paid", "amount": "10.00",
            "paid_at": "2026-11-20T10:00:00+08:00", "resident": {"phone": "13800000000"}, "items": [], **fields}


def refused(response, code):
    assert response.status_code == 401, response.json
    assert set(response.json) == {"error"} and set(response.json["error"]) == {"code", "message", "details"}
    assert response.json["error"]["code"] == code, response.json


# -- verify(): the scheme itself ----------------------------------------------------------------

NOW = 1_800_000_000


def check(timestamp, signature=None, body=b"{}", now=NOW):
    signature = integrations.sign(SECRET, timestamp, body) if signature is None else signature
    return integrations.verify(timestamp, signature, body, secret=SECRET, max_skew=300, now=now)


def test_a_correct_signature_passes_and_comes_back_lower_case():
    expected = integrations.sign(SECRET, NOW, b'{"a":1}')
    assert check(str(NOW), expected.upper(), b'{"a":1}') == expected


@pytest.mark.parametrize("offset", [-300, 300, 0])
def test_exactly_the_allowed_skew_passes(offset):
    check(str(NOW + offset))


@pytest.mark.parametrize("offset", [-301, 301, -10**6])
def test_a_second_beyond_the_skew_is_refused(offset):
    with pytest.raises(integrations.SignatureRefused) as caught:
        check(str(NOW + offset))
    assert caught.value.code == "timestamp_out_of_window" and caught.value.status == 401


@pytest.mark.parametrize("timestamp", ["abc", "1.5e9", "1800000000.0", " 1800000000", "0x6b49d200", "12345678901234"])
def test_a_timestamp_that_is_not_integer_seconds_is_refused(timestamp):
    with pytest.raises(integrations.SignatureRefused) as caught:
        check(timestamp, signature="0" * 64)
    assert caught.value.code == "timestamp_invalid"


@pytest.mark.parametrize("timestamp, signature", [(None, "0" * 64), (str(NOW), None), ("", ""), (None, None)])
def test_missing_headers_are_refused(timestamp, signature):
    with pytest.raises(integrations.SignatureRefused) as caught:
        integrations.verify(timestamp, signature, b"{}", secret=SECRET, max_skew=300, now=NOW)
    assert caught.value.code == "signature_missing"


@pytest.mark.parametrize("how", ["other secret", "other body", "other timestamp", "not hex", "truncated"])
def test_a_wrong_signature_is_refused(how):
    good = integrations.sign(SECRET, NOW, b"{}")
    signature = {"other secret": integrations.sign("another-secret", NOW, b"{}"),
                 "other body": integrations.sign(SECRET, NOW, b"{ }"),
                 "other timestamp": integrations.sign(SECRET, NOW + 1, b"{}"),
                 "not hex": "z" + good[1:], "truncated": good[:-1]}[how]
    with pytest.raises(integrations.SignatureRefused) as caught:
        check(str(NOW), signature)
    assert caught.value.code == "signature_mismatch"


def test_the_signature_is_over_timestamp_dot_raw_body():
    import hashlib
    import hmac
    body = '{"金额":"1.00"}'.encode()
    assert integrations.sign("s3cret", 1700000000, body) == hmac.new(
        b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()


# -- through the API ----------------------------------------------------------------------------

def test_each_refusal_answers_401_before_the_body_is_read(client):
    body = order_body()
    refused(client.post(URL, json=body), "signature_missing")
    refused(signed_post(client, body, headers={"X-Linli-Signature": None}), "signature_missing")
    refused(signed_post(client, body, timestamp="soon"), "timestamp_invalid")
    refused(signed_post(client, body, timestamp=int(time.time()) - 3600), "timestamp_out_of_window")
    refused(signed_post(client, body, secret="wrong-secret"), "signature_mismatch")
    # An invalid body under a wrong signature: the signature is judged first, no field errors leak.
    refused(signed_post(client, None, raw=b"not json", secret="wrong-secret"), "signature_mismatch")


def test_the_body_is_signed_as_sent_bytes(client):
    data = json.dumps(order_body(), ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    signature = integrations.sign(SECRET, timestamp, data)
    reformatted = json.dumps(json.loads(data), indent=2).encode()  # the same JSON, other bytes
    response = client.post(URL, data=reformatted, headers={
        "X-Linli-Timestamp": timestamp, "X-Linli-Signature": signature, "Content-Type": "application/json"})
    refused(response, "signature_mismatch")
    response = client.post(URL, data=data, headers={
        "X-Linli-Timestamp": timestamp, "X-Linli-Signature": signature, "Content-Type": "application/json"})
    assert response.status_code == 200, response.json


@pytest.mark.parametrize("offset, status", [(300, 200), (-300, 200), (301, 401), (-301, 401)])
def test_skew_edges_through_the_api(client, monkeypatch, offset, status):
    frozen = datetime(2026, 11, 26, 4, 0, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(integrations, "utcnow", lambda: frozen)
    response = signed_post(client, order_body(), timestamp=int(frozen.timestamp()) + offset)
    assert response.status_code == status, response.json
    if status == 401:
        assert response.json["error"]["code"] == "timestamp_out_of_window"
        assert response.json["error"]["details"]["skew_seconds"] == -offset


def test_a_replayed_signature_is_refused_even_for_a_new_body_id(client, app):
    body = order_body()
    data = json.dumps(body).encode()
    timestamp = str(int(time.time()))
    headers = {"X-Linli-Timestamp": timestamp, "X-Linli-Signature": integrations.sign(SECRET, timestamp, data),
               "Content-Type": "application/json"}
    assert client.post(URL, data=data, headers=headers).status_code == 200
    refused(client.post(URL, data=data, headers=headers), "signature_replayed")
    # Signed afresh (a new timestamp), the same order is accepted and is the same order.
    again = signed_post(client, body, timestamp=int(timestamp) + 1)
    assert again.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IntegrationSignature)) == 2


def test_a_request_refused_after_the_signature_check_leaves_no_signature(client, app):
    """A body error rolls the request back: the signature was never used, its retry is judged again."""
    data = json.dumps(order_body(amount="1.234")).encode()
    timestamp = str(int(time.time()))
    headers = {"X-Linli-Timestamp": timestamp, "X-Linli-Signature": integrations.sign(SECRET, timestamp, data),
               "Content-Type": "application/json"}
    first = client.post(URL, data=data, headers=headers)
    assert first.status_code == 422 and "amount" in first.json["error"]["details"]["fields"]
    assert client.post(URL, data=data, headers=headers).status_code == 422  # not "replayed"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IntegrationSignature)) == 0


def test_purge_forgets_signatures_only_after_twice_the_skew(ctx):
    now = utcnow()
    for name, age in (("a" * 64, 601), ("b" * 64, 659), ("c" * 64, 661), ("d" * 64, 5000)):
        db.session.add(IntegrationSignature(signature=name, seen_at=now - timedelta(seconds=age)))
    db.session.commit()
    assert integrations.purge_signatures() == 2
    db.session.commit()
    left = set(db.session.scalars(sa.select(IntegrationSignature.signature)))
    assert left == {"a" * 64, "b" * 64}


def test_the_purge_is_a_scheduled_job(app):
    from core.jobs import JOBS
    job = next(j for j in JOBS if j.name == "purge-integration-signatures")
    assert job.func is integrations.purge_signatures
