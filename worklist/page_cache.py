"""Worklist pages cached between changes: a version token in Redis, replaced after every change.

A worklist page is a function of the studies (their rows and order) and of the claiming readers'
names. Every write to a study or a user replaces the token ``worklist:version`` in Redis with a new
random one (``worklist_version_bump``): when the change is made (so that the writing transaction's
own later reads miss the cache) and again once it has committed (so that every read that starts
after the commit misses it). A read takes the token first, then its page: from this process's
cache under (token, URL, reader when the page depends on the reader), or from the database, kept
under the token it read before querying. A page kept under a token therefore never predates a
change committed before that token was set: a read that starts after a change's commit (a writer's
own answer, a websocket push, which ``worklist.events.study_publish`` sends after bumping) gets a
page with that change.

The writes: ``post_save`` / ``post_delete`` of Study and User (every ``save()``, ``create()``,
``delete()``, cascades included: Django sends ``post_delete`` per object when a receiver exists),
and Study's ``update()``, ``bulk_create()`` and ``bulk_update()`` (``StudyQuerySet``), which send no
signal. Raw SQL on the study table must call ``worklist_version_bump_on_commit()`` itself.

When Redis cannot be read, no cached page is used (each read queries, as without the cache). A bump
that fails is logged; a page is then still rebuilt at least every PAGE_MAX_AGE seconds. Tokens are
random, never counters, so a Redis emptied or restarted cannot hand out a token that a process
still has pages under.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import transaction

from worklist.bounded_cache import BoundedCache

logger = logging.getLogger(__name__)

VERSION_KEY = "worklist:version"
PAGE_MAX_AGE = 10.0  # seconds: the bound on staleness should a bump be lost (Redis failing mid-change)
PAGES = 256  # per process; a page's entry is its ETag and count (its bytes are kept under the ETag)

_client: redis.Redis | None = None
_client_lock = threading.Lock()


def _redis() -> redis.Redis:
    """One connection pool per process (redis-py's client is thread-safe)."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    return _client


def worklist_version() -> str | None:
    """The current token; a new one when Redis has none. None when Redis cannot be read."""
    try:
        client = _redis()
        token = client.get(VERSION_KEY)
        if token is None:
            fresh = secrets.token_hex(8)
            client.set(VERSION_KEY, fresh, nx=True)
            token = client.get(VERSION_KEY)
    except redis.RedisError:
        logger.warning("worklist version unreadable; pages are read from the database", exc_info=True)
        return None
    return token.decode() if token is not None else None


def worklist_version_bump() -> None:
    try:
        _redis().set(VERSION_KEY, secrets.token_hex(8))
    except redis.RedisError:
        logger.error("worklist version not bumped: cached pages may be up to %ss old", PAGE_MAX_AGE, exc_info=True)


def worklist_version_bump_on_commit(using: str | None = None) -> None:
    """Bump now (the transaction's own reads) and after the commit (everyone else's)."""
    worklist_version_bump()
    transaction.on_commit(worklist_version_bump, using=using)


def changed(sender, using=None, **kwargs) -> None:
    """Receiver of post_save / post_delete for Study and User (connected in WorklistConfig.ready)."""
    worklist_version_bump_on_commit(using)


@dataclass(frozen=True)
class Page:
    etag: str
    count: int
    shown: int  # rows on the page
    keys_text: str | None  # the page's row keys (worklist.selectors.worklist_page_keys)


_pages: BoundedCache[Page] = BoundedCache(PAGES, max_age=PAGE_MAX_AGE)


def page_get(key: tuple) -> Page | None:
    return _pages.get(key)


def page_put(key: tuple, page: Page) -> None:
    _pages.put(key, page)


def page_cache_clear() -> None:
    _pages.clear()
