"""Unsigned report drafts: saved as the reader types, restored wherever the study is reopened.

Only the radiologist who holds the read (`access_study_for_reading`) may read or write a draft: a
draft is part of a read in progress, and a colleague looking at the study must not see or overwrite
it. A draft is removed when the report (or an amendment) is signed.
"""

from __future__ import annotations

import json

from django.db import transaction

from reporting.models import ReportDraft
from reporting.reading import ReadingError, access_study_for_reading

# A report form is a few kilobytes; the cap keeps a runaway client from storing megabytes per keystroke.
MAX_DRAFT_BYTES = 64 * 1024


def draft_get(*, study_id: int, user) -> ReportDraft | None:
    """The reader's draft of this study, if any (its API view audits the read)."""
    study = access_study_for_reading(study_id=study_id, user=user, lock=False)
    return ReportDraft.objects.filter(study=study, author=user).first()


def draft_save(*, study_id: int, user, fields: dict) -> ReportDraft:
    if not isinstance(fields, dict):
        raise ReadingError("a draft is a set of report fields")
    if len(json.dumps(fields)) > MAX_DRAFT_BYTES:
        raise ReadingError(f"a draft may hold at most {MAX_DRAFT_BYTES // 1024} KB")
    with transaction.atomic():
        study = access_study_for_reading(study_id=study_id, user=user)
        draft, _ = ReportDraft.objects.update_or_create(study=study, author=user, defaults={"fields": fields})
    return draft


def drafts_discard(*, study) -> None:
    """Called when a report version is signed: what was drafted is now in the signed version."""
    ReportDraft.objects.filter(study=study).delete()
