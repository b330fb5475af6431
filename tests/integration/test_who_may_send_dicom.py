"""Only the modalities listed in DICOM_MODALITIES may send DICOM (scripts/orthanc.sh).

The test Orthanc lists TESTSCU, MODSIM and BADSCU at 127.0.0.1 (tests/support/dicom.py
TEST_MODALITIES). Real C-STOREs with pynetdicom; the refused ones must leave no trace in Orthanc
nor on the worklist.
"""

from __future__ import annotations

import subprocess

import pytest
from django.conf import settings

from archive.orthanc import get_json
from inference.synthetic import generate_study
from inference.synthetic.sender import SendFailed, store_study
from tests.support.dicom import c_store, tiny_ct_study
from tests.support.processes import ROOT, wait_until
from worklist.ingest import orthanc_changes_follow
from worklist.models import Study

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def send(datasets, **kwargs):
    c_store(datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
            called_aet=settings.ORTHANC_DICOM_AET, **kwargs)


def studies_in_orthanc() -> set[str]:
    return {get_json(f"studies/{sid}")["MainDicomTags"]["StudyInstanceUID"] for sid in get_json("studies")}


def ingested(study_uid: str) -> Study:
    def arrived():
        orthanc_changes_follow()
        return Study.objects.filter(study_instance_uid=study_uid).first()

    return wait_until(arrived, timeout=30, what=f"study {study_uid} to be ingested")


def test_a_listed_modality_from_its_host_is_stored_and_reaches_the_worklist(orthanc):
    study = tiny_ct_study(accession="ACC-KNOWN")
    send(study)  # TESTSCU from 127.0.0.1, as listed
    assert ingested(study[0].StudyInstanceUID).accession_number == "ACC-KNOWN"


def test_an_unknown_ae_title_or_a_listed_one_from_another_host_is_refused_and_leaves_no_trace(orthanc):
    stranger = tiny_ct_study(accession="ACC-STRANGER", patient_id="PID-S")
    with pytest.raises((ConnectionError, RuntimeError)):
        send(stranger, calling_aet="STRANGER")
    # TESTSCU is listed at 127.0.0.1; the same AE title from 127.0.0.2 is someone else.
    elsewhere = tiny_ct_study(accession="ACC-ELSEWHERE", patient_id="PID-E")
    with pytest.raises((ConnectionError, RuntimeError)):
        send(elsewhere, bind_host="127.0.0.2")
    # A listed sender afterwards: once its study is on the worklist, the feed has passed the
    # moment the refused ones would have arrived.
    known = tiny_ct_study(accession="ACC-AFTER", patient_id="PID-K")
    send(known)
    ingested(known[0].StudyInstanceUID)

    refused = {stranger[0].StudyInstanceUID, elsewhere[0].StudyInstanceUID}
    assert not refused & studies_in_orthanc()
    assert not Study.objects.filter(study_instance_uid__in=refused).exists()
    assert set(Study.objects.values_list("accession_number", flat=True)) == {"ACC-AFTER"}


def test_the_simulator_sends_as_its_registered_ae_title_and_no_other(orthanc):
    study = generate_study("chest_xr", seed=7)
    target = {"host": settings.ORTHANC_DICOM_HOST, "port": settings.ORTHANC_DICOM_PORT,
              "called_aet": settings.ORTHANC_DICOM_AET}
    with pytest.raises(SendFailed):
        store_study(study, calling_aet="NOTLISTED", timeout_s=10, **target)
    assert study.study_instance_uid not in studies_in_orthanc()
    assert store_study(study, **target) == len(study.datasets)  # MODSIM, as `make demo` lists it
    assert study.study_instance_uid in studies_in_orthanc()


@pytest.mark.parametrize("listing", ["CT1", "CT1@", "@127.0.0.1", "CT 1@127.0.0.1", "WAY-TOO-LONG-AE-TITLE@127.0.0.1",
                                     "CT1@127.0.0.1,CT1@127.0.0.1"])
def test_orthanc_is_not_started_with_a_listing_it_cannot_honour(listing, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DICOM_MODALITIES": listing, "ORTHANC_STORAGE": str(tmp_path),
           "ORTHANC_ADMIN_PASSWORD": "x", "ORTHANC_HTTP_PORT": "1", "ORTHANC_DICOM_PORT": "1"}
    run = subprocess.run([str(ROOT / "scripts" / "orthanc.sh")], env=env, capture_output=True, text=True, timeout=20)
    assert run.returncode == 1 and "DICOM_MODALITIES" in run.stderr
