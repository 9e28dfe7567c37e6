"""Redis down is not an outage: rate limits count in each process, the snapshot cache is skipped."""

import logging
import socket

import pytest

from portal.extensions import limiter
from tests.conftest import PASSWORD, login
from tests.factories import make_user

CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture
def app_without_redis(make_app):
    """An app whose Redis is configured but refuses connections, with rate limits on."""
    def make(url=CLOSED_PORT):
        return make_app(REDIS_URL=url, RATELIMIT_STORAGE_URI=url, RATELIMIT_ENABLED=True,
                        LOGIN_LIMIT_PER_ACCOUNT="3 per minute", REDIS_TIMEOUT=0.2,
                        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.2, "socket_timeout": 0.2})

    yield make
    limiter._storage_dead = False  # the limiter is one object for every app in this process


def test_sign_in_and_password_reset_work_and_are_still_limited(app_without_redis, caplog):
    app = app_without_redis()
    make_user(app, email="someone@example.com")
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        assert login(client, "someone@example.com", PASSWORD).status_code == 302
        assert "falling back to in-memory storage" in caplog.text
    other = app.test_client()
    assert other.post("/forgot-password", data={"email": "someone@example.com"}).status_code == 302
    assert other.post("/forgot-password", data={"email": "nobody@example.com"}).status_code == 302
    # the limits still hold, counted in this process
    for _ in range(3):
        assert login(other, "target@example.com", "guess").status_code == 422
    assert login(other, "target@example.com", "guess").status_code == 429


def test_the_snapshot_is_served_without_its_cache(app_without_redis, caplog):
    app = app_without_redis()
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="portal.redis"):
        assert client.get("/snapshot").status_code == 200
        assert "Redis is not answering" in caplog.text
    response = client.get("/snapshot.json")
    assert response.status_code == 200 and "tables" in response.json
    assert client.get("/institutes/").status_code == 200


def test_readyz_says_redis_is_down_and_stays_ready(app_without_redis):
    response = app_without_redis().test_client().get("/readyz")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("degraded\ndatabase: ok\n")
    assert "redis: down" in text and "rate limits count per process" in text


def test_readyz_says_when_redis_is_not_configured(make_app):
    response = make_app(REDIS_URL=None).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ready\ndatabase: ok\nredis: not configured\n"


def test_a_redis_that_never_answers_does_not_hold_requests(app_without_redis):
    """A Redis that accepts connections and then says nothing: each request waits at most the timeout,
    and after the first failure requests leave Redis alone."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # the kernel completes connections; nobody ever answers them
    try:
        app = app_without_redis(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        client = app.test_client()
        for number in range(5):
            assert client.get("/snapshot.json").status_code == 200
            assert login(client, f"someone{number}@example.com", "guess").status_code == 422
        # Counted, not timed: after the first wait ran out, the ten requests never dialled Redis again.
        silent.setblocking(False)
        dialled = 0
        while True:
            try:
                silent.accept()[0].close()
            except BlockingIOError:
                break
            dialled += 1
        assert 1 <= dialled <= 3  # a try or so per part that uses Redis, not one per request (20 and more)
    finally:
        silent.close()
