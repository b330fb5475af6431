"""Audited reads: every view that shows patient data declares it once, with `@audited_read(action)`.

The decorator writes the view's audit row after the view, for every answer the view gives (a
200, a 304 revalidation, a redirect into the viewer, and an attempt it answers itself, such as a
second reader's 409 for AI marks), naming the user, the address and the study. The study is the
URL's `study_id` unless the view names it on `request.audit` (a series' study, a FHIR resource's
study), where it may also add a detail or, for a list, the studies shown (one row each). A read
refused before the view answers (permission denied, 404 raised for an unknown or not-yours study)
leaves no read row: refusals that must be on record are audited where they are decided
(`clinician.dicomweb_access`).

Writes and decisions (sign, claim, link, acknowledge) are audited by their services with
`worklist.services.audit_record`, inside their transaction.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.http import HttpRequest
from rest_framework.request import Request

from worklist.models import AuditEvent, Study
from worklist.services import audit_event


@dataclass
class ReadAudit:
    """What the view may add to its audit while it runs: the study it showed (when not the URL's),
    a detail, or for a list the studies it showed (one row each)."""

    study: object | None = None
    detail: str = ""
    lists: list = field(default_factory=list)
    # A view that reports its Server-Timing hands its ServerTiming here: the audit write is then
    # timed as "audit" and counted in the view's total (the header is written again after it).
    timing: object | None = None

    def shown(self, studies, *, action: str | None = None, detail: str | None = None) -> None:
        """A list read: one row per study shown (under another action if the page shows two lists)."""
        self.lists.append((action, list(studies), detail))


def _request_of(args) -> HttpRequest | Request:
    # A function view's first argument, or a DRF method's second (after self).
    return next(a for a in args[:2] if isinstance(a, (HttpRequest, Request)))


def _rows(read: ReadAudit, action: str, request, url_study_id) -> list[AuditEvent]:
    user = request.user
    rows = [audit_event(user=user, action=list_action or action, study=study,
                        detail=read.detail if detail is None else detail, request=request)
            for list_action, studies, detail in read.lists for study in studies]
    if not rows:  # a read always leaves a row, an empty list too
        study_id = read.study.pk if read.study is not None else url_study_id
        rows = [audit_event(user=user, action=action, study_id=study_id, detail=read.detail, request=request)]
    return rows


def _write(rows: list[AuditEvent]) -> None:
    """The read's rows, durable before the answer leaves: one INSERT. A single row is one statement
    in autocommit (PostgreSQL commits it alone: one round trip, where bulk_create's transaction took
    three, BEGIN, INSERT and COMMIT); several rows go in one transaction."""
    if len(rows) == 1:
        rows[0].save(force_insert=True)
    else:
        AuditEvent.objects.bulk_create(rows)


def audited_read(action: str):
    """Decorate a page view or a DRF view method that reads patient data."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            request = _request_of(args)
            request.audit = read = ReadAudit()
            response = view(*args, **kwargs)
            study_id = kwargs.get("study_id")
            if study_id is not None and response.status_code >= 400 and not Study.objects.filter(pk=study_id).exists():
                study_id = None  # an error about an id that names no study
            if read.timing is None:
                _write(_rows(read, action, request, study_id))
            else:
                with read.timing("audit"):
                    _write(_rows(read, action, request, study_id))
                response["Server-Timing"] = read.timing.header()
            return response

        return wrapper

    return decorate
