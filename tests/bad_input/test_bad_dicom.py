"""Malformed DICOM sent to Orthanc: each study is listed with a clear, logged reason, and the
good study sent alongside is analysed as usual. The worker runs the real lung nodule model.
"""

import pytest
from django.conf import settings
from pynetdicom import AE

from tests.bad_input import studies
from tests.support import processes
from tests.support.processes import wait_until
from worklist.models import Study

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
SETTLED = ("analysed", "ai_failed", "no_ai")
LUNG_MODEL = "inference.cad.lung_nodule.model:LungNoduleModel"


def send(datasets) -> None:
    """C-STORE in each dataset's own transfer syntax (compressed ones included)."""
    ae = AE(ae_title="BADSCU")
    for sop_class, syntax in {(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID) for ds in datasets}:
        ae.add_requested_context(sop_class, syntax)
    assoc = ae.associate(settings.ORTHANC_DICOM_HOST, settings.ORTHANC_DICOM_PORT, ae_title=settings.ORTHANC_DICOM_AET)
    assert assoc.is_established
    try:
        for ds in datasets:
            status = assoc.send_c_store(ds)
            assert status and status.Status == 0, (ds.AccessionNumber, status)
    finally:
        assoc.release()


CASES = {
    "no_pixel_data": studies.no_pixel_data,
    "truncated_pixel_data": studies.truncated_pixel_data,
    "inconsistent_spacing": studies.inconsistent_spacing,
    "single_slice": studies.single_slice,
    "missing_patient_id": studies.missing_patient_id,
    "jpeg_ls": studies.jpeg_ls,
    "jpeg_2000": studies.jpeg_2000,
    "huge": studies.huge,
    "enhanced_multiframe": studies.enhanced_multiframe,
}

# What each study ends as: its status and (a piece of) the reason shown on the worklist.
EXPECTED = {
    "truncated_pixel_data": ("ai_failed", "number of bytes of pixel data is less than expected"),
    # A 5 mm jump halfway: outside the lung model's envelope, refused from the headers before any pixel.
    "inconsistent_spacing": ("no_ai", "No AI: slices missing: a 5 mm jump between two slices"),
    "single_slice": ("no_ai", "No AI for this study type"),
    "jpeg_ls": ("analysed", ""),
    "jpeg_2000": ("analysed", ""),
    # Refused before its pixels are fetched (the worker's limit is lowered below 400 x 32 x 32).
    "huge": ("ai_failed", "series too large to analyse: 400 images of 32 x 32"),
    "no_pixel_data": ("ai_failed", "images carry no pixel data"),
    # PatientID is type 2 in the SR written back: present and empty, as in the source.
    "missing_patient_id": ("analysed", ""),
    # One Enhanced CT instance counts as one image, below the lung model's 20, so no model applies.
    "enhanced_multiframe": ("no_ai", "No AI for this study type"),
}


def test_bad_dicom_is_listed_with_a_reason_and_disturbs_nothing(orthanc, subprocess_env, tmp_path):
    env = dict(subprocess_env, ANALYSIS_STALL_SECONDS="900", CAD_MODELS=LUNG_MODEL,
               MAX_VOLUME_VOXELS=str(300 * 32 * 32))
    worker = processes.celery_worker_process(env, tmp_path).start()
    sent = {name: make() for name, make in CASES.items()}
    control = studies.good("CONTROL")
    try:
        send(control)
        for datasets in sent.values():
            send(datasets)
        uids = {d[0].StudyInstanceUID for d in [*sent.values(), control]}
        wait_until(lambda: Study.objects.filter(study_instance_uid__in=uids, status__in=SETTLED).count() == len(uids),
                   timeout=180, interval=1, what="every study to settle")
    finally:
        worker.stop()
    log = (tmp_path / "worker.log").read_text(errors="replace")
    control_row = Study.objects.get(study_instance_uid=control[0].StudyInstanceUID)
    assert control_row.status == "analysed" and control_row.analysed_generation == 1
    for name, datasets in sent.items():
        # Listed once, whatever was wrong with it.
        [study] = Study.objects.filter(study_instance_uid=datasets[0].StudyInstanceUID)
        status, reason = EXPECTED[name]
        assert (study.status, reason in study.status_reason) == (status, True), (name, study.status_reason)
        if status == "ai_failed":
            assert f"failed on study {study.pk}" in log, f"{name}: failure not logged"
