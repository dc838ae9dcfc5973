"""Writes the shared cache refused are made on its next success, and its silence is not trusted
right after it failed or started empty.
"""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import connections

from core import shared_cache
from core.db.state import PIN_KEY, PRIMARY_ONLY, SINCE_KEY, identify, pin_user, request_scope
from core.models import Client
from core.testing import standby_delay, use_file_cache, wait_for_standby
from users.authentication import EPOCH_KEY, new_epoch
from users.tests.test_auth import token_queries

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

BROKEN = "/proc/no-cache-here"
# User ids no test database hands out: the cache outlives the database between runs.
NOBODY = 10**15


@pytest.fixture(autouse=True)
def _positions_held_for_long():
    cache.set(SINCE_KEY, 0.0, timeout=None)


def fetch_client_alias(user_id: int) -> str:
    with request_scope() as state:
        identify(user_id, also_read=(EPOCH_KEY,))
        Client.objects.filter(name="nobody").first()
        return state.read_aliases[-1]


def test_a_position_the_cache_refused_is_stored_on_its_next_success(settings):
    working = settings.CACHES["default"]
    use_file_cache(settings, "default", BROKEN)
    pin_user(NOBODY + 9, 12_345)  # the write went through; the cache did not take its position
    assert shared_cache.failed_within(1)
    settings.CACHES = {**settings.CACHES, "default": working}
    identify(NOBODY + 9, also_read=(EPOCH_KEY,))  # the next request that reaches the cache
    assert cache.get(PIN_KEY.format(user_id=NOBODY + 9)) == 12_345
    # Others may have read that user's rows from a standby meanwhile: silence is doubted anew.
    assert time.time() - cache.get(SINCE_KEY) < 5


@pytest.mark.embedded
def test_a_write_whose_position_the_cache_refused_is_read_back_anywhere(api, user_a, settings):
    """Another process cannot know of an owed position (it may hold an older one): the write
    waits for the standbys to replay it before it is answered."""
    client = api(user_a)
    cache.set(PIN_KEY.format(user_id=user_a.pk), 1, timeout=None)  # an old write's position
    working = settings.CACHES["default"]
    with standby_delay(1.5):
        use_file_cache(settings, "default", BROKEN)
        created = client.post("/api/issues", {"key": "OWED-1", "summary": "s"}, format="json")
        assert created.status_code == 201
        settings.CACHES = {**settings.CACHES, "default": working}
        shared_cache.reset()  # as another process: no failure seen, nothing owed
        assert client.get(f"/api/issues/{created.json()['id']}").status_code == 200


def test_positions_only_move_forward():
    pin_user(NOBODY + 10, 500)
    pin_user(NOBODY + 10, 400)  # an earlier write that finished later
    assert cache.get(PIN_KEY.format(user_id=NOBODY + 10)) == 500
    pin_user(NOBODY + 10, 600)
    assert cache.get(PIN_KEY.format(user_id=NOBODY + 10)) == 600


def test_a_token_epoch_the_cache_refused_is_written_on_its_next_success(settings):
    before = cache.get(EPOCH_KEY)
    working = settings.CACHES["default"]
    use_file_cache(settings, "default", BROKEN)
    new_epoch()  # a token was revoked while the cache was down
    settings.CACHES = {**settings.CACHES, "default": working}
    assert cache.get(EPOCH_KEY) == before
    identify(NOBODY + 11, also_read=(EPOCH_KEY,))
    assert cache.get(EPOCH_KEY) not in (None, before)


def test_after_a_cache_failure_remembered_tokens_are_looked_up_again(api, user_a, settings):
    settings.API_TOKEN_CACHE_SECONDS = 30
    client = api(user_a)
    assert token_queries(client)[0] == 200
    assert token_queries(client) == (200, [])  # remembered
    shared_cache.note_failure()  # a revocation may not have reached the epoch
    with connections["default"].cursor() as cursor:
        cursor.execute("DELETE FROM api_tokens WHERE user_id = %s", [user_a.pk])
    status, lookups = token_queries(client)
    assert status == 401 and len(lookups) == 1


def test_a_cache_that_holds_no_positions_yet_is_not_trusted_for_a_while(settings):
    settings.REPLICA_MAX_LAG_SECONDS = 0.5  # the window is the lag limit and a second
    wait_for_standby()
    assert fetch_client_alias(5) == "replica"
    cache.delete(SINCE_KEY)  # a new, restarted or emptied Redis
    assert fetch_client_alias(5) == "default"
    time.sleep(1.6)
    assert fetch_client_alias(5) == "replica"


def test_right_after_this_process_saw_the_cache_fail_silence_is_not_trusted(settings):
    settings.REPLICA_MAX_LAG_SECONDS = 0.5
    wait_for_standby()
    shared_cache.note_failure()
    assert fetch_client_alias(6) == "default"
    time.sleep(1.6)
    assert fetch_client_alias(6) == "replica"


def test_an_unreadable_cache_sends_an_identified_users_reads_to_the_primary(settings):
    use_file_cache(settings, "default", BROKEN)
    with request_scope() as state:
        assert identify(NOBODY + 12, also_read=(EPOCH_KEY,)) is None
        assert state.pin() == PRIMARY_ONLY
