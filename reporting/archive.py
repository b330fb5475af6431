"""Signed reports go to the archive as DICOM Encapsulated PDF, in the study they report on."""

from __future__ import annotations

import base64
import logging

from django.utils import timezone
from pydicom.uid import generate_uid

from archive import orthanc
from reporting.models import ReportVersion
from reporting.pdf import report_pdf

logger = logging.getLogger(__name__)
REPORT_SERIES_NUMBER = 9000


def report_sop_instance_uid(version: ReportVersion) -> str:
    # Deterministic per version: a retried archiving stores the same instance, never a duplicate.
    return generate_uid(entropy_srcs=["triage-worklist-report", version.report.study.study_instance_uid,
                                      str(version.number)])


def report_archive(version_id: int) -> str:
    """Store the version's PDF in Orthanc (once); returns the Orthanc instance id."""
    version = ReportVersion.objects.select_related("report__study", "author").get(pk=version_id)
    if version.archive_instance_id:
        return version.archive_instance_id
    study = version.report.study
    pdf = report_pdf(version)
    now = timezone.now()
    payload = {
        "Parent": study.orthanc_id,
        "Tags": {
            "SOPInstanceUID": report_sop_instance_uid(version),
            "Modality": "DOC",
            "SeriesDescription": f"Signed report v{version.number}"[:64],
            "SeriesNumber": str(REPORT_SERIES_NUMBER + version.number),
            "InstanceNumber": "1",
            "DocumentTitle": ("Radiology report" if version.number == 1 else "Amended radiology report"),
            "ContentDate": now.strftime("%Y%m%d"),
            "ContentTime": now.strftime("%H%M%S"),
            "AcquisitionDateTime": "",
            # LOINC 18748-4: a diagnostic imaging report.
            "ConceptNameCodeSequence": [
                {"CodeValue": "18748-4", "CodingSchemeDesignator": "LN", "CodeMeaning": "Diagnostic imaging study"}
            ],
            "BurnedInAnnotation": "YES",  # the PDF carries the patient's identity
            "Manufacturer": "Triage worklist (synthetic data, not for clinical use)",
        },
        "Content": "data:application/pdf;base64," + base64.b64encode(pdf).decode(),
        "Force": True,
    }
    created = orthanc.post_json("tools/create-dicom", payload)
    instance_id = created["ID"]
    ReportVersion.objects.filter(pk=version_id).update(archive_instance_id=instance_id, archive_error="")
    logger.info("report version %s archived as Orthanc instance %s", version_id, instance_id)
    return instance_id


def reports_archive_pending() -> list[int]:
    """Versions signed but not yet in the archive (broker or Orthanc was down): their ids."""
    return list(ReportVersion.objects.filter(archive_instance_id="").values_list("pk", flat=True))
