"""The per-process caches of rows and pages: bounded in size, and pages bounded in age."""

from worklist import bounded_cache, page_cache
from worklist.bounded_cache import BoundedCache


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_least_recently_used_entry_goes_first():
    cache = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" used: "b" is now the oldest
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_get_many_returns_what_is_cached_and_counts_as_use():
    cache = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get_many(["a", "x"]) == {"a": 1}
    cache.put("c", 3)
    assert cache.get_many(["a", "b", "c"]) == {"a": 1, "c": 3}


def test_entries_older_than_max_age_are_forgotten(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(bounded_cache.time, "monotonic", clock)
    cache = BoundedCache(10, max_age=5.0)
    cache.put("a", 1)
    clock.now += 5.0
    assert cache.get("a") == 1
    assert cache.get_many(["a"]) == {"a": 1}
    clock.now += 0.1
    assert cache.get_many(["a"]) == {}
    assert cache.get("a") is None
    assert len(cache) == 0


def test_a_cached_worklist_page_is_at_most_page_max_age_old(monkeypatch):
    """The bound on staleness should a version bump be lost (worklist/page_cache.py)."""
    clock = Clock()
    monkeypatch.setattr(bounded_cache.time, "monotonic", clock)
    page_cache.page_cache_clear()
    page = page_cache.Page(etag='"e"', count=1, shown=1, keys_text="[]")
    page_cache.page_put(("token", "key"), page)
    clock.now += page_cache.PAGE_MAX_AGE
    assert page_cache.page_get(("token", "key")) == page
    clock.now += 0.01
    assert page_cache.page_get(("token", "key")) is None
