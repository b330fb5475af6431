"""A Redis cache backend whose connection pool is shared by every request of a process."""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property

_clients: dict[tuple, object] = {}
_lock = threading.Lock()


class SharedPoolRedisCache(RedisCache):
    """Django makes a cache object per request context (asgiref Local), and the stock backend a
    connection pool per object: under ASGI every request opened a new Redis connection. Here one
    client (one redis-py pool, thread-safe) serves all of them."""

    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]
