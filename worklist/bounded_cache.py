"""A thread-safe, size-bounded LRU map, optionally forgetting entries older than a maximum age.

The worklist keeps three per-process caches (serialised rows, page bytes, page keys); each
bounds its memory the same way, so they share this class rather than three hand-made copies.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    def __init__(self, size: int, *, max_age: float | None = None) -> None:
        self.size = size
        self.max_age = max_age  # seconds; None keeps entries until they are the least recently used
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if self.max_age is not None and time.monotonic() - item[0] > self.max_age:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def get_many(self, keys) -> dict:
        """The cached values of ``keys`` (those present), under one lock."""
        found = {}
        with self._lock:
            for key in keys:
                item = self._items.get(key)
                if item is not None and (self.max_age is None or time.monotonic() - item[0] <= self.max_age):
                    self._items.move_to_end(key)
                    found[key] = item[1]
        return found

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
