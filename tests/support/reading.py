"""Helpers for tests that sign reports: what a reader does on the page before signing."""

from pydicom.uid import generate_uid

from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import FindingDecision, FindingReview, ImageView
from worklist.models import Series, Study


def images_viewed(study: Study, user) -> Series:
    """The reader's viewer showed a series of the study (a series is made if the test study has none)."""
    series = study.series.first() or Series.objects.create(
        study=study, series_instance_uid=generate_uid(), orthanc_id=generate_uid()[-40:], modality=study.modality,
        instance_count=1)
    ImageView.objects.update_or_create(series=series, user=user, defaults={"study": study, "shown": True})
    return series


def all_findings_reviewed(study: Study, user, decision: str = FindingDecision.ACCEPTED) -> None:
    """Every AI finding of the study decided (accepted unless told otherwise)."""
    for run in AnalysisRun.objects.filter(study=study, status=AnalysisStatus.DONE):
        for index, _ in enumerate((run.result or {}).get("findings", [])):
            FindingReview.objects.get_or_create(analysis=run, finding_index=index, defaults={
                "study": study, "decision": decision, "reviewer": user})


def ready_to_sign(study: Study, user) -> None:
    images_viewed(study, user)
    all_findings_reviewed(study, user)
