"""Rate limits: a sliding window of per-window counters, in the throttle cache."""

from __future__ import annotations

import pickle
import time

import pytest
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.api.throttling import AnonymousThrottle
from core.testing import use_file_cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def throttle_at(settings):
    """``throttle_at(t)``: is a request at second ``t`` allowed (10 a minute)? and the throttle."""
    settings.API_THROTTLE_ANON = "10/minute"
    caches["throttle"].clear()
    request = Request(APIRequestFactory().get("/api/issues", REMOTE_ADDR="198.51.100.7"))

    def ask(t: float) -> tuple[bool, AnonymousThrottle]:
        throttle = AnonymousThrottle()
        throttle.timer = lambda: t
        return throttle.allow_request(request, None), throttle

    return ask


def allowed_between(throttle_at, start: float, end: float, step: float = 0.5) -> int:
    times = [start + step * n for n in range(int((end - start) / step))]
    return sum(throttle_at(t)[0] for t in times)


def test_a_full_window_refuses_until_the_next(throttle_at):
    assert allowed_between(throttle_at, 6000, 6010) == 10
    allowed, throttle = throttle_at(6015)
    assert not allowed
    # The rest of the minute, then until this minute's 10 weigh at most 9 (6 s into the next).
    assert throttle.wait() == pytest.approx(51)


def test_the_previous_window_weighs_by_its_overlap(throttle_at):
    assert allowed_between(throttle_at, 6000, 6005) == 10
    # Half-way through the next minute the previous one counts half: 5 more fit.
    assert sum(throttle_at(6090)[0] for _ in range(10)) == 5
    allowed, throttle = throttle_at(6090)
    # 5 + 1 + 10 x (1 - x) <= 10 from x = 0.6 of the minute on: 6 s later.
    assert not allowed and throttle.wait() == pytest.approx(6)
    # Two minutes on, nothing of that is within the period any more.
    assert allowed_between(throttle_at, 6240, 6250) == 10


def test_no_sixty_seconds_hold_more_than_the_limit_plus_the_weighting(throttle_at):
    # A steady caller, one request every 2 s for 10 minutes.
    times = [6000 + 2 * n for n in range(300)]
    granted = [t for t in times if throttle_at(t)[0]]
    worst = max(sum(1 for t in granted if start <= t < start + 60) for start in granted)
    assert 10 <= worst <= 20
    assert len(granted) >= 10 * 10 * 0.9


def test_each_caller_keeps_two_small_counters_whatever_the_limit(throttle_at):
    for n in range(40):
        throttle_at(6000 + n * 3)
    store = caches["throttle"]._cache
    assert 1 <= len(store) <= 3  # this window, the previous one, and one that expires
    assert all(len(value) < 20 for value in store.values())  # pickled small integers


def test_counters_in_a_file_cache_live_for_two_windows(settings, tmp_path):
    # The generic incr() of file and database caches rewrites an entry with the default
    # timeout (5 minutes): an hourly limit would forget its counts.
    use_file_cache(settings, "throttle", tmp_path)
    settings.API_THROTTLE_ANON = "3/hour"
    request = Request(APIRequestFactory().get("/api/issues", REMOTE_ADDR="198.51.100.8"))
    throttle = None
    for _ in range(3):
        throttle = AnonymousThrottle()
        assert throttle.allow_request(request, None)
    assert not AnonymousThrottle().allow_request(request, None)
    store = caches["throttle"]
    window = int(throttle.timer() // 3600)
    path = store._key_to_file(f"{throttle.get_cache_key(request, None)}:{window}")
    with open(path, "rb") as entry:
        expires = pickle.load(entry)
    assert expires - time.time() > 3600


def test_refused_requests_do_not_count_and_retry_after_is_when_one_fits(throttle_at):
    assert allowed_between(throttle_at, 6000, 6010) == 10
    for t in (6010, 6020, 6030, 6040, 6050, 6059):
        allowed, throttle = throttle_at(t)
        assert not allowed
    waited = 6059 + throttle.wait()
    assert not throttle_at(waited - 0.5)[0]
    assert throttle_at(waited + 0.01)[0]


def test_a_failing_cache_serves_requests_uncounted(settings, tmp_path, caplog):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    use_file_cache(settings, "throttle", not_a_folder)
    settings.API_THROTTLE_ANON = "1/minute"
    request = Request(APIRequestFactory().get("/api/issues", REMOTE_ADDR="198.51.100.9"))
    assert all(AnonymousThrottle().allow_request(request, None) for _ in range(3))
    assert "rate-limit cache unavailable" in caplog.text


def test_a_forged_forwarded_for_header_is_not_a_new_identity(api, settings):
    caches["throttle"].clear()
    settings.API_THROTTLE_ANON = "2/minute"
    statuses = [
        api().get("/api/issues", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_the_schema_and_the_docs_are_not_counted(api, settings):
    caches["throttle"].clear()
    settings.API_THROTTLE_ANON = "1/minute"
    anonymous = api()
    for path in ("/api/schema/", "/api/schema/?format=json", "/api/docs/", "/api/redoc/"):
        for _ in range(3):
            assert anonymous.get(path, REMOTE_ADDR="198.51.100.20").status_code == 200, path
    assert anonymous.get("/api/issues", REMOTE_ADDR="198.51.100.20").status_code == 401
    assert anonymous.get("/api/issues", REMOTE_ADDR="198.51.100.20").status_code == 429


def test_ipv6_callers_are_counted_by_their_64(api, settings):
    settings.API_THROTTLE_ANON = "2/hour"
    caches["throttle"].clear()
    client = api()
    answers = [
        client.get("/api/issues", REMOTE_ADDR=f"2001:db8::{host}").status_code for host in (1, 2, 3)
    ]
    assert answers == [401, 401, 429]
    assert client.get("/api/issues", REMOTE_ADDR="2001:db8:0:1::1").status_code == 401
