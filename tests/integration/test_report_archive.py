"""A signed report reaches the archive as DICOM Encapsulated PDF, in its study, without re-analysis."""

import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from archive import orthanc as archive
from reporting.models import ReportVersion
from reporting.reading import report_amend, report_sign
from tests.support.dicom import c_store, tiny_ct_study
from tests.support.orthanc_admin import admin_request
from tests.support.processes import wait_until
from tests.support.reading import images_viewed
from worklist.models import Study
from worklist.services import study_claim

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"


def test_signed_and_amended_reports_are_stored_in_orthanc(orthanc, celery_worker, radiologist, tmp_path: Path):
    c_store(tiny_ct_study(accession="ACC-REPORT", patient_name="Иванова^Мария"),
            host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT, called_aet=settings.ORTHANC_DICOM_AET)
    study = wait_until(lambda: Study.objects.filter(accession_number="ACC-REPORT", status="no_ai").first(),
                       timeout=30, what="the study")
    study_claim(study_id=study.pk, user=radiologist)
    images_viewed(study, radiologist)
    fields = {"impression": "No nodule.", "lungrads_category": "1"}
    first = report_sign(study_id=study.pk, user=radiologist, fields=fields)
    second = report_amend(study_id=study.pk, user=radiologist, fields={**fields, "impression": "No nodule. Emphysema."},
                          reason="emphysema added")

    def archived():
        versions = ReportVersion.objects.filter(pk__in=[first.pk, second.pk]).exclude(archive_instance_id="")
        return list(versions) if versions.count() == 2 else None

    versions = wait_until(archived, timeout=30, what="both report versions in Orthanc")
    for version in versions:
        tags = archive.get_json(f"instances/{version.archive_instance_id}/simplified-tags")
        assert tags["SOPClassUID"] == ENCAPSULATED_PDF
        assert tags["StudyInstanceUID"] == study.study_instance_uid
        assert tags["PatientName"] == "Иванова^Мария"
        assert tags["SeriesDescription"] == f"Signed report v{version.number}"
        dicom = tmp_path / f"report-v{version.number}.dcm"
        dicom.write_bytes(archive.get_binary(f"instances/{version.archive_instance_id}/file"))
        # Reading the PDF back is the operator's check; the application never asks for it.
        pdf = admin_request("GET", f"instances/{version.archive_instance_id}/pdf").content
        assert pdf.startswith(b"%PDF")
        check = subprocess.run(["dciodvfy", str(dicom)], capture_output=True, text=True)
        errors = [line for line in (check.stdout + check.stderr).splitlines() if line.startswith("Error")]
        assert not errors, errors

    # The report series is not an image series: it triggers no second analysis.
    # Synchronise on the ingester itself: the two report series are saved in the same transaction
    # that decides whether the study's images changed (worklist.ingest._save_study).
    wait_until(lambda: study.series.filter(modality="DOC").count() == 2, timeout=30,
               what="the report series to be ingested")
    study.refresh_from_db()
    assert study.analysis_generation == 1 and study.instance_count == 4
