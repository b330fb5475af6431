"""Reads of the worklist: filters and the priority order."""

import json
from datetime import UTC, datetime, timedelta

from django.db import connections
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from accounts.models import ReadingMode
from triage.priority import ORDER_FIELDS
from worklist.models import IdentityState, ReadingState, Study


def worklist_order(queryset: QuerySet[Study]) -> QuerySet[Study]:
    """The worklist order as stored by triage: ``triage.priority.ORDER_FIELDS`` (tier, the
    earlier of due time and age ceiling, AI suspicion, arrival, id), missing values last.
    ``triage.priority.study_sort_key`` is the same order in Python."""
    return queryset.order_by(*(
        F(name[1:]).desc(nulls_last=True) if name.startswith("-") else F(name).asc(nulls_last=True)
        for name in ORDER_FIELDS
    ))


def worklist_studies(
    *,
    user,
    status: str | None = None,
    modality: str | None = None,
    urgency: str | None = None,
    queue: str | None = None,
    reading_state: str | None = None,
    include_reported: bool = False,
    mine: bool = False,
    search: str | None = None,
    updated_since: datetime | None = None,
) -> QuerySet[Study]:
    """The studies of a worklist read. ``user`` counts only for ``mine``: WorklistApi caches pages
    per reader for ``mine`` alone (worklist.page_cache); a filter that depends on the reader must be
    added to that key."""
    # A held arrival merged into another study after a correction in the archive has no images of its own.
    studies = Study.objects.select_related("claimed_by").exclude(identity_state=IdentityState.MERGED)
    if updated_since is not None:
        # Catch-up after a reconnect must also return studies that left the open worklist.
        studies = studies.filter(updated_at__gt=updated_since)
    elif reading_state:
        studies = studies.filter(reading_state=reading_state)
    elif not include_reported:
        studies = studies.exclude(reading_state=ReadingState.REPORTED)
    if status:
        studies = studies.filter(status=status)
    if modality:
        studies = studies.filter(modality__iexact=modality)
    if urgency:
        studies = studies.filter(urgency_code=urgency)
    if queue:
        studies = studies.filter(reading_queue=queue)
    if mine:
        studies = studies.filter(claimed_by=user)
    if search:
        studies = studies.filter(
            Q(patient_name__icontains=search) | Q(patient_id__iexact=search) | Q(accession_number__iexact=search)
        )
    if reading_state == ReadingState.REPORTED and updated_since is None:
        # Reported studies have left the priority order: the latest signed first.
        return studies.order_by(F("reported_at").desc(nulls_last=True), "-pk")
    return worklist_order(studies)


def worklist_page_keys(studies: QuerySet[Study], *, limit: int, offset: int) -> tuple[str | None, int]:
    """A page's row keys (worklist.rows.RowKey: id, updated_at in microseconds since the epoch,
    claimed_by username) as one JSON text, ``[[id, us, username], ...]`` in page order, and the
    total count; None for an empty page.

    On PostgreSQL the database builds that text (json_agg) in the same statement that counts
    (COUNT(*) OVER () over all matching rows before LIMIT), so a read gets one row back instead
    of 200, from one snapshot: the text is the page's identity (its ETag and the key of the page
    cache, worklist.rows.page_cached)."""
    page = studies.values_list("pk", "updated_at", "claimed_by__username").annotate(
        total=Window(expression=Count("*")),
        # The page's own order, numbered, so that the aggregate keeps it (same sort as ORDER BY).
        position=Window(expression=RowNumber(), order_by=list(studies.query.order_by)),
    )[offset:offset + limit]
    connection = connections[studies.db]
    if connection.vendor == "postgresql":
        sql, params = page.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT max(p.total), json_agg(json_build_array("
                "p.id, (extract(epoch FROM p.updated_at) * 1000000)::bigint, p.username) ORDER BY p.position)::text "
                f"FROM ({sql}) AS p (id, updated_at, username, total, position)", params)
            total, text = cursor.fetchone()
    else:
        rows = list(page)
        total = rows[0][3] if rows else None
        text = json.dumps([[pk, epoch_us(at), username] for pk, at, username, *_ in rows]) if rows else None
    if text is None:
        return None, (studies.count() if offset else 0)
    return text, total


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(at: datetime) -> int:
    """Microseconds since the epoch, exactly (as PostgreSQL's extract(epoch) * 1e6 gives them)."""
    return (at - EPOCH) // timedelta(microseconds=1)


def marks_visible(study: Study, user) -> bool:
    """Second readers see the AI's marks only after declaring their unaided read done."""
    return user.reading_mode != ReadingMode.SECOND_READER or study.first_read_done_at is not None
