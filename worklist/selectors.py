"""Reads of the worklist: filters and the priority order."""

from datetime import datetime

from django.db.models import F, Q, QuerySet

from worklist.models import ReadingState, Study


def worklist_order(queryset: QuerySet[Study]) -> QuerySet[Study]:
    # Earliest due time first; ties by AI suspicion (higher first), then arrival.
    return queryset.order_by(
        F("due_at").asc(nulls_last=True), F("ai_suspicion").desc(nulls_last=True), "arrived_at", "id"
    )


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
    studies = Study.objects.select_related("claimed_by")
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
    return worklist_order(studies)
