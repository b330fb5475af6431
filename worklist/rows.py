"""Worklist rows as JSON, one serialiser for the REST list and the websocket push.

A row depends only on its study and the claiming reader's name, so each process keeps the
serialised row under (id, updated_at in microseconds since the epoch, claimed_by username). Every
change saves the study and ``auto_now`` moves ``updated_at`` (the reconnect catch-up relies on the
same), so a changed study gets a new key and is serialised afresh: a stale row is never served, and nothing has to be
invalidated by hand. The few ``queryset.update()`` calls on Study touch only bookkeeping fields
that are not in the row (analysis_attempts, analysed_generation, status_changed_at).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from rest_framework.utils.encoders import JSONEncoder

from worklist.bounded_cache import BoundedCache

RowKey = tuple[int, int, str | None]

# ~600 bytes a row: 20,000 rows are ~12 MB per web process, a hundred first pages.
ROW_CACHE_SIZE = 20_000
_rows: BoundedCache[bytes] = BoundedCache(ROW_CACHE_SIZE)


def study_row_key(study) -> RowKey:
    from worklist.selectors import epoch_us

    return (study.pk, epoch_us(study.updated_at), study.claimed_by.username if study.claimed_by_id else None)


def study_row_json(study) -> bytes:
    """The row of ``study`` (claimed_by selected) as compact JSON, from the cache when unchanged."""
    key = study_row_key(study)
    row = _rows.get(key)
    if row is not None:
        return row
    from worklist.serializers import StudySerializer

    row = json.dumps(StudySerializer(study).data, cls=JSONEncoder, ensure_ascii=False,
                     separators=(",", ":")).encode()
    _rows.put(key, row)
    return row


def study_row(study) -> dict:
    """The row as plain JSON types (what the websocket pushes through the channel layer)."""
    return json.loads(study_row_json(study))


def study_rows_json(keys: Iterable[RowKey]) -> list[bytes]:
    """Rows for page keys (in order), reading only the studies whose row is not cached."""
    from worklist.models import Study

    keys = list(keys)
    rows: dict[int, bytes] = {key[0]: row for key, row in _rows.get_many(keys).items()}
    missing = [key[0] for key in keys if key[0] not in rows]
    if missing:
        for study in Study.objects.select_related("claimed_by").filter(pk__in=missing):
            rows[study.pk] = study_row_json(study)
    # A study deleted between the two reads drops out of the page rather than failing it.
    return [rows[key[0]] for key in keys if key[0] in rows]


# Whole pages, under their ETag (a digest of the page's count, path and row keys in order: see
# WorklistApi) and absolute URL (the next/previous links name the host). A page read again
# unchanged is sent as it was built, without looking at its rows; a changed study changes its row
# key, so its page has a new ETag and is built afresh. ~100 kB a page of 200 rows.
PAGE_CACHE_SIZE = 64
_pages: BoundedCache[bytes] = BoundedCache(PAGE_CACHE_SIZE)


def page_cached(key: tuple[str, str]) -> bytes | None:
    return _pages.get(key)


def page_remember(key: tuple[str, str], body: bytes) -> None:
    _pages.put(key, body)


def row_cache_clear() -> None:
    _rows.clear()
    _pages.clear()
