"""A stalled WeChat cannot stall the site: inside a web request a WeChat call has
WECHAT_REQUEST_TIMEOUT in all and is not retried after a timeout, and the host's workers inside
WeChat calls are bounded (slots shared by every process, waited for briefly, else 503)."""
import concurrent.futures
import os
import time

import pytest

from core.wechat import gateway

REQUEST_TIMEOUT = 1
STALL = 3  # the fake holds its answers this long: longer than the request timeout
SLOT_WAIT = 0.3


@pytest.fixture(autouse=True)
def short_request_timeout(app_config):
    # The production pool sizes (the test suite's default config leaves the pools unbounded).
    app_config.update(WECHAT_REQUEST_TIMEOUT=REQUEST_TIMEOUT, WECHAT_MAX_CONCURRENT=2, WECHAT_MAX_CONCURRENT_TOTAL=3,
                      WECHAT_SLOT_WAIT_MS=int(SLOT_WAIT * 1000))


@pytest.fixture
def engineer_and_estate(make_estate, make_engineer, client):
    estate = make_estate()
    engineer = make_engineer([estate])
    assert mint(client, engineer, estate).status_code == 201  # the access token is fetched and stored
    return engineer, estate


def mint(client, engineer, estate):
    return client.post("/api/v1/engineer/binding-codes", headers=engineer.headers, json={"estate_id": estate})


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.parametrize("wechat_timeout", [10, REQUEST_TIMEOUT])
def test_a_stalled_call_in_a_web_request_gives_up_within_the_request_timeout_once(app, client, wechat,
                                                                                 engineer_and_estate, wechat_timeout):
    """WECHAT_TIMEOUT (the scheduler's) does not apply inside a request; a timeout is not retried."""
    app.config["WECHAT_TIMEOUT"] = wechat_timeout
    app.extensions.pop("linli.wechat", None)  # the client reads WECHAT_TIMEOUT when it is built
    engineer, estate = engineer_and_estate
    wechat.control("DELETE", "calls")
    wechat.fault("wxa/getwxacodeunlimit", count=2, delay=STALL)
    response, elapsed = timed(lambda: mint(client, engineer, estate))
    assert response.status_code == 502, response.json
    assert response.json["error"]["code"] == "wechat_unavailable"
    assert REQUEST_TIMEOUT - 0.1 < elapsed < REQUEST_TIMEOUT + 0.7  # about one timeout, not two
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 1


def test_outside_a_request_a_call_keeps_wechat_timeout(app, wechat, engineer_and_estate):
    """The scheduler's calls (no request) wait up to WECHAT_TIMEOUT and take no slot."""
    app.config["WECHAT_TIMEOUT"] = 5
    wechat.fault("wxa/getwxacodeunlimit", delay=REQUEST_TIMEOUT + 0.5)
    held = [gateway.take_slot(app.config["WECHAT_SLOT_DIR"], "all", app.config["WECHAT_MAX_CONCURRENT_TOTAL"])
            for _ in range(app.config["WECHAT_MAX_CONCURRENT_TOTAL"])]
    try:
        with app.app_context():
            assert gateway.unlimited_code_image("s=1", "pages/bind/index")[:2] == b"\xff\xd8"  # a JPEG
    finally:
        for fd in held:
            os.close(fd)


def test_a_slot_freed_during_the_wait_is_taken(app, client, wechat, engineer_and_estate):
    """A burst of healthy calls queues for a moment instead of failing."""
    engineer, estate = engineer_and_estate
    held = hold(app, "getwxacodeunlimit", app.config["WECHAT_MAX_CONCURRENT"])
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        later = pool.submit(lambda: (time.sleep(SLOT_WAIT / 3), release(held)))
        assert mint(client, engineer, estate).status_code == 201
        later.result()


def hold(app, pool: str, size: int) -> list[int]:
    """Take every slot of a pool, as other worker processes of the host inside WeChat calls would."""
    held = [gateway.take_slot(app.config["WECHAT_SLOT_DIR"], pool, size) for _ in range(size)]
    assert None not in held
    assert gateway.take_slot(app.config["WECHAT_SLOT_DIR"], pool, size) is None
    return held


def release(held: list[int]) -> None:
    for fd in held:
        os.close(fd)


def test_when_the_endpoints_slots_are_held_a_call_is_refused_after_the_short_wait(app, client, wechat,
                                                                                  engineer_and_estate):
    engineer, estate = engineer_and_estate
    wechat.control("DELETE", "calls")
    held = hold(app, "getwxacodeunlimit", app.config["WECHAT_MAX_CONCURRENT"])
    response, elapsed = timed(lambda: mint(client, engineer, estate))
    assert response.status_code == 503 and response.json["error"]["code"] == "wechat_busy"
    assert response.headers["Retry-After"] == str(REQUEST_TIMEOUT)
    assert SLOT_WAIT - 0.05 < elapsed < SLOT_WAIT + 0.5
    assert wechat.calls() == []  # WeChat was not asked
    # Another endpoint has its own slots: residents still log in.
    assert client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()}).status_code == 200
    release(held)
    assert mint(client, engineer, estate).status_code == 201


def test_when_all_wechat_slots_of_the_host_are_held_every_call_is_refused(app, client, wechat, engineer_and_estate):
    wechat.control("DELETE", "calls")
    held = hold(app, "all", app.config["WECHAT_MAX_CONCURRENT_TOTAL"])
    response = client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()})
    assert response.status_code == 503 and response.json["error"]["code"] == "wechat_busy"
    assert wechat.calls("sns/jscode2session") == []
    assert client.get("/healthz").status_code == 200
    release(held)
    assert client.post("/api/v1/auth/wechat-login", json={"code": wechat.code()}).status_code == 200


def test_concurrent_stalled_mints_hold_at_most_the_endpoints_slots(app, wechat, engineer_and_estate):
    """The finding: four binding-code mints during a WeChat hang. Two wait out the request timeout,
    the others are refused at once, and WeChat saw two calls."""
    engineer, estate = engineer_and_estate
    wechat.control("DELETE", "calls")
    wechat.fault("wxa/getwxacodeunlimit", count=10, delay=STALL)

    def one(_):
        return timed(lambda: mint(app.test_client(), engineer, estate))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(4)))
    by_status = sorted((r.status_code, elapsed) for r, elapsed in results)
    assert [status for status, _ in by_status] == [502, 502, 503, 503]
    assert all(elapsed < SLOT_WAIT + 0.5 for status, elapsed in by_status if status == 503)
    assert all(elapsed < REQUEST_TIMEOUT + 0.7 for status, elapsed in by_status if status == 502)
    assert len(wechat.calls("wxa/getwxacodeunlimit")) == 2
