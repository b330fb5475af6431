"""Selectors of a study's report history: every signed version, who signed it, when and why."""

from django.db.models import QuerySet

from reporting.models import ReportVersion
from worklist.models import Study


def report_history(*, study: Study) -> QuerySet[ReportVersion]:
    """The signed versions, newest first (the one in force at the top)."""
    return ReportVersion.objects.filter(report__study=study).select_related("author", "report").order_by("-number")
