"""Throttles and lockouts.

* A valid token or customer link always works, however many wrong ones
  came from the same address; only further wrong ones get 429.
* The per-token and public throttles count atomically: many threads, and
  two processes sharing the cache, on one token at 60/min get exactly 60
  requests through. Run against the real backends: local memory (threads
  only: it is per process), the file-based cache (the one-machine
  default) and Redis at 127.0.0.1:6379 (under a key prefix of its own).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory, override_settings
from rest_framework.request import Request
from rest_framework.test import APIClient

from tests.helpers import Org
from tests.tickets.api_helpers import token_client
from tickets import services

RATE, LIMIT = "60/min", 60
THREADS, ATTEMPTS = 8, 30
REDIS_URL = "redis://127.0.0.1:6379/0"
PROJECT_DIR = Path(__file__).resolve().parents[2]


# --- a valid credential always works ----------------------------------------


def test_a_valid_token_works_after_many_wrong_ones_from_its_address(
    org: Org,
) -> None:
    from tickets.api.authentication import MAX_FAILURES

    address = "203.0.113.9"
    guesser = APIClient(REMOTE_ADDR=address)
    guesser.credentials(HTTP_AUTHORIZATION="Bearer bat_wrong")
    codes = [guesser.get("/api/v1/departments/").status_code for _ in range(30)]
    assert MAX_FAILURES == 30 and codes == [401] * 30
    throttled = guesser.get("/api/v1/departments/")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert 590 <= int(throttled["Retry-After"]) <= 601

    integration = token_client(org.agents["CS"])
    integration.defaults["REMOTE_ADDR"] = address  # the same (shared) address
    assert integration.get("/api/v1/departments/").status_code == 200
    assert integration.get("/api/v1/departments/").status_code == 200
    # ...while guessing from there stays throttled.
    assert guesser.get("/api/v1/departments/").status_code == 429


def ticket_with_link(org: Org) -> str:
    result = services.ticket_open(
        principal=org.agent("CS"), subject="S", customer_ref="C-1", channel="web"
    )
    return str(result.detail["customer_token"])


def test_a_valid_customer_link_opens_after_many_wrong_ones_from_its_address(
    org: Org,
) -> None:
    token = ticket_with_link(org)
    limit = django_settings.BATON_CUSTOMER_LINK_FAILURES
    assert limit == 20
    address = "203.0.113.7"
    page = Client(REMOTE_ADDR=address)
    codes = [page.get(f"/t/guess-{n}/").status_code for n in range(limit)]
    assert codes == [404] * 20
    blocked = page.get("/t/guess-again/")
    assert blocked.status_code == 429
    assert 590 <= int(blocked["Retry-After"]) <= 600

    assert page.get(f"/t/{token}/").status_code == 200
    replied = page.post(f"/t/{token}/", {"action": "reply", "body": "Still here"})
    assert replied.status_code == 302

    api = APIClient(REMOTE_ADDR=address)
    wrong = api.get("/api/v1/public/timeline/guess-again/")
    assert (wrong.status_code, wrong.json()["code"]) == (429, "throttled")
    assert api.get(f"/api/v1/public/timeline/{token}/").status_code == 200
    reply = api.post(
        f"/api/v1/public/timeline/{token}/replies/", {"body": "hi"}, format="json"
    )
    assert reply.status_code == 200


# --- atomic counting ----------------------------------------------------------


def api_request(ident: int) -> Request:
    """A DRF request authenticated by token ``ident`` from its own address
    (what the throttles see once authentication has run)."""
    from tickets.models import ApiToken

    request = Request(
        RequestFactory().get(
            "/api/v1/departments/", REMOTE_ADDR=f"198.51.100.{ident % 250}"
        )
    )
    request.user = AnonymousUser()
    request.auth = ApiToken(pk=ident)
    return request


def hammer(
    *,
    throttle: str,
    rate: str,
    threads: int,
    attempts: int,
    ident: int,
    ready: Any = None,
) -> int:
    """``threads`` threads each ask ``attempts`` times whether one token
    (or one address, for the public throttle) may make a request; returns
    how many were allowed. ``ready`` runs once every thread is waiting at
    the start line (the cross-process test synchronises there)."""
    from tickets.api.authentication import TokenRateThrottle
    from tickets.api.public_views import PublicThrottle

    base = {"token": TokenRateThrottle, "public": PublicThrottle}[throttle]
    throttle_class: Any = type("Hammered", (base,), {"rate": rate})
    request = api_request(ident)
    allowed = [0] * threads
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def run(index: int) -> None:
        start.wait()
        try:
            for _ in range(attempts):
                if throttle_class().allow_request(request, None):
                    allowed[index] += 1
        except BaseException as error:  # surfaced below, not lost in a thread
            errors.append(error)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    if ready is not None:
        ready()
    start.wait()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return sum(allowed)


def cache_config(kind: str, tmp_path: Path) -> dict[str, Any]:
    if kind == "locmem":
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"throttle-test-{uuid.uuid4().hex}",
        }
    if kind == "file":
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"baton-throttle-test-{uuid.uuid4().hex}",
    }


@pytest.fixture
def redis_cleanup() -> Iterator[list[str]]:
    """Deletes every key under the prefixes a test used (and only those)."""
    import redis

    prefixes: list[str] = []
    yield prefixes
    client = redis.Redis.from_url(REDIS_URL)
    for prefix in prefixes:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
    client.close()


@pytest.mark.parametrize("throttle", ["token", "public"])
@pytest.mark.parametrize("kind", ["locmem", "file", "redis"])
def test_many_threads_on_one_token_get_exactly_the_rate(
    kind: str, throttle: str, tmp_path: Path, redis_cleanup: list[str]
) -> None:
    config = cache_config(kind, tmp_path)
    if kind == "redis":
        redis_cleanup.append(config["KEY_PREFIX"])
    with override_settings(CACHES={"default": config}):
        allowed = hammer(
            throttle=throttle,
            rate=RATE,
            threads=THREADS,
            attempts=ATTEMPTS,
            ident=7,
        )
    assert THREADS * ATTEMPTS == 240
    assert allowed == LIMIT


CHILD = """
import json, sys
import django
django.setup()
from django.test.utils import override_settings
from tests.tickets.test_throttling import hammer
args = json.loads(sys.argv[1])

def ready():
    print("ready", flush=True)
    sys.stdin.readline()

with override_settings(CACHES={"default": args.pop("cache")}):
    print(hammer(ready=ready, **args), flush=True)
"""


@pytest.mark.parametrize("kind", ["file", "redis"])
def test_two_processes_sharing_the_cache_get_exactly_the_rate(
    kind: str, tmp_path: Path, redis_cleanup: list[str]
) -> None:
    config = cache_config(kind, tmp_path)
    if kind == "redis":
        redis_cleanup.append(config["KEY_PREFIX"])
    # The rate the probe used (600/min): at 60/min one process can take
    # the whole allowance before the other has started.
    args = {
        "cache": config,
        "throttle": "token",
        "rate": "600/min",
        "threads": THREADS,
        "attempts": 100,
        "ident": 11,
    }
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(args)],
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        # Both processes have their threads at the start line before
        # either begins, so their requests overlap.
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        allowed = [int(child.communicate(timeout=120)[0].strip()) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert all(child.returncode == 0 for child in children)
    assert sum(allowed) == 600  # of 2 x 8 x 100 = 1,600 attempts
    assert all(n > 0 for n in allowed), allowed  # both really took part


@pytest.mark.parametrize("kind", ["locmem", "file"])
def test_wait_is_the_time_left_in_the_window(kind: str, tmp_path: Path) -> None:
    from tickets.api.authentication import TokenRateThrottle

    class ThreePerMinute(TokenRateThrottle):
        rate = "3/min"

    request = api_request(3)
    start = time.time()
    with (
        override_settings(CACHES={"default": cache_config(kind, tmp_path)}),
        time_machine.travel(start, tick=False) as clock,
    ):
        assert [ThreePerMinute().allow_request(request, None) for _ in range(3)] == [
            True
        ] * 3
        throttle = ThreePerMinute()
        assert not throttle.allow_request(request, None)
        assert throttle.wait() == pytest.approx(60)
        clock.shift(timedelta(seconds=45))
        throttle = ThreePerMinute()
        assert not throttle.allow_request(request, None)
        assert throttle.wait() == pytest.approx(15)
        clock.shift(timedelta(seconds=16))  # a new window
        assert ThreePerMinute().allow_request(request, None)


def test_wait_comes_from_the_redis_counter(redis_cleanup: list[str]) -> None:
    from tickets.api.authentication import TokenRateThrottle

    class ThreePerMinute(TokenRateThrottle):
        rate = "3/min"

    config = cache_config("redis", Path())
    redis_cleanup.append(config["KEY_PREFIX"])
    request = api_request(3)
    with override_settings(CACHES={"default": config}):
        assert all(ThreePerMinute().allow_request(request, None) for _ in range(3))
        throttle = ThreePerMinute()
        assert not throttle.allow_request(request, None)
        wait = throttle.wait()
        assert wait is not None and 55 < wait <= 60
