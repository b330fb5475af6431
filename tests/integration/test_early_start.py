"""Issue 19: a study complete by its own header counts is analysed before Orthanc calls it stable,
and StableStudy stays the path for everything else, so nothing is ever lost.

These tests run their own Orthanc whose StableAge (20 s) is long beside the follower's poll
(0.5 s) and a tiny study's analysis: a StableStudy change in the feed is the proof that a study
waited for it, its absence the proof that it did not. Real Orthanc, real Celery worker with beat, real PostgreSQL.
"""

from __future__ import annotations

import os
import shutil

import pytest
import requests
from django.conf import settings

from tests.support import processes
from tests.support.dicom import TEST_MODALITIES, c_store, tiny_ct_study
from tests.support.processes import wait_until
from worklist.ingest import CURSOR_NAME
from worklist.models import IngestCursor, PendingStudy, Study

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STABLE_AGE = 20


@pytest.fixture(scope="module")
def slow_orthanc(tmp_path_factory, service_logs):
    """An Orthanc of our own that calls a study stable only 20 s after its last image."""
    http, dicom = processes.free_port(), processes.free_port()
    storage = tmp_path_factory.mktemp("orthanc-early-start")
    env = {**os.environ, "ORTHANC_HTTP_PORT": str(http), "ORTHANC_DICOM_PORT": str(dicom),
           "ORTHANC_STORAGE": str(storage), "ORTHANC_STABLE_AGE": str(STABLE_AGE),
           "ORTHANC_NAME": "triage-early-start", "DICOM_MODALITIES": TEST_MODALITIES}
    server = processes.orthanc_process(env, service_logs, "orthanc-early-start.log").start()
    server.url, server.dicom_port = f"http://127.0.0.1:{http}", dicom
    auth = (settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD)
    try:
        processes.wait_until(lambda: processes.orthanc_ready(server.url, auth), timeout=30, what="Orthanc")
        yield server
    finally:
        server.stop()
        shutil.rmtree(storage, ignore_errors=True)


@pytest.fixture
def worker(slow_orthanc, subprocess_env, service_logs, tmp_path):
    """One worker that follows the change feed (beat) and analyses, on the slow Orthanc."""
    env = {**subprocess_env, "ORTHANC_URL": slow_orthanc.url, "ORTHANC_HTTP_PORT": slow_orthanc.url.rsplit(":", 1)[1],
           "ORTHANC_DICOM_PORT": str(slow_orthanc.dicom_port), "ORTHANC_STABLE_AGE": str(STABLE_AGE),
           "PREFETCH_DIR": str(tmp_path / "prefetch")}
    process = processes.celery_worker_process(env, service_logs).start()
    # Its follower has read the change feed once (the cursor exists): studies sent from now on are
    # seen within a poll, not after the worker's start-up, which may outlast StableAge under load.
    wait_until(lambda: IngestCursor.objects.filter(name=CURSOR_NAME).exists(), timeout=60,
               what="the worker's first pass over the change feed")
    yield process
    process.stop()


def send(orthanc, datasets) -> None:
    c_store(datasets, host="127.0.0.1", port=orthanc.dicom_port, called_aet=settings.ORTHANC_DICOM_AET)


def counted(study, count: int | None = None):
    """The study's slices announcing, as some CT scanners do, how many images the series holds."""
    for ds in study:
        ds.ImagesInAcquisition = len(study) if count is None else count
    return study


def stable_studies(orthanc) -> set[str]:
    """Orthanc ids of the studies Orthanc has announced as stable so far."""
    auth = (settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD)
    page = requests.get(f"{orthanc.url}/changes", params={"since": 0, "limit": 10000}, auth=auth, timeout=10).json()
    return {c["ID"] for c in page["Changes"] if c["ChangeType"] == "StableStudy"}


def first_seen(uid: str, *, condition=lambda study: True, timeout: float = 60) -> Study:
    """The study's row as soon as it exists and meets `condition` (polled every 0.1 s)."""
    def found() -> Study | None:
        study = Study.objects.filter(study_instance_uid=uid).first()
        return study if study is not None and condition(study) else None

    return wait_until(found, timeout=timeout, interval=0.1, what=f"study {uid}")


def pending_gone(orthanc_id: str) -> bool:
    return not PendingStudy.objects.filter(orthanc_id=orthanc_id).exists()


def test_a_study_whose_headers_count_its_images_is_analysed_before_it_is_stable(slow_orthanc, worker):
    study = counted(tiny_ct_study(accession="ACC-EARLY-1", patient_id="PID-EARLY-1"))
    send(slow_orthanc, study)

    analysed = first_seen(study[0].StudyInstanceUID, condition=lambda s: s.analysed_generation >= 1)

    assert analysed.orthanc_id not in stable_studies(slow_orthanc), "it waited for StableStudy"
    assert analysed.status == "no_ai" and analysed.instance_count == 4
    assert analysed.images_arriving, "analysed before it was stable, yet not marked as possibly still arriving"
    # Orthanc's own word still comes, and changes nothing but the mark: analysed once.
    wait_until(lambda: pending_gone(analysed.orthanc_id), timeout=STABLE_AGE + 40, what="StableStudy read")
    settled = first_seen(study[0].StudyInstanceUID, condition=lambda s: not s.images_arriving)
    assert settled.analysed_generation == 1


@pytest.mark.parametrize("case, announce", [
    (2, lambda study: study),  # no ImagesInAcquisition: nothing to complete early
    (3, lambda study: counted(study, count=9)),  # 4 came, 9 announced: never complete by its count
], ids=["without-counts", "count-too-high"])
def test_a_study_not_complete_by_its_counts_waits_for_orthanc_to_call_it_stable(slow_orthanc, worker, case,
                                                                                 announce):
    study = announce(tiny_ct_study(accession=f"ACC-EARLY-{case}", patient_id=f"PID-EARLY-{case}"))
    send(slow_orthanc, study)

    ingested = first_seen(study[0].StudyInstanceUID, timeout=STABLE_AGE + 40)

    assert ingested.orthanc_id in stable_studies(slow_orthanc), "ingested before Orthanc called it stable"
    assert not ingested.images_arriving
    done = first_seen(study[0].StudyInstanceUID, condition=lambda s: s.analysed_generation >= 1)
    assert done.status == "no_ai" and done.instance_count == 4


def test_an_image_after_the_early_analysis_has_the_study_analysed_again(slow_orthanc, worker):
    study = counted(tiny_ct_study(slices=5, accession="ACC-EARLY-4", patient_id="PID-EARLY-4"), count=4)
    send(slow_orthanc, study[:4])
    early = first_seen(study[0].StudyInstanceUID, condition=lambda s: s.analysed_generation >= 1)
    assert early.orthanc_id not in stable_studies(slow_orthanc)
    assert early.instance_count == 4 and early.images_arriving

    send(slow_orthanc, study[4:])  # the late image: the count said 4

    again = first_seen(study[0].StudyInstanceUID, condition=lambda s: s.analysed_generation >= 2,
                       timeout=STABLE_AGE + 40)
    assert again.instance_count == 5 and again.analysis_generation == 2
    assert not again.images_arriving  # re-read at StableStudy: the study is complete now
    assert again.status == "no_ai"
