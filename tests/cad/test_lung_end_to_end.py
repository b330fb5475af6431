"""A chest CT with a known solid nodule, end to end: C-STORE -> Orthanc -> Celery worker running
the lung model -> SR back in Orthanc (valid DICOM), finding in the database, urgency raised,
pushed over the websocket."""

from __future__ import annotations

import io
from datetime import datetime

import numpy as np
import pydicom
import pytest
from django.conf import settings

from archive.orthanc import get_binary, get_json
from inference.models import AnalysisRun
from inference.synthetic import generate_study
from tests.integration.helpers import collect_messages, open_worklist_socket, session_cookie
from tests.support import processes
from tests.support.dicom import c_store, dciodvfy_errors

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LUNG_MODEL = "inference.cad.lung_nodule.model:LungNoduleModel"
# Seed 1037 gives one free-standing solid nodule of 13.8 mm at this size; asserted below so a
# change in the generator shows up here rather than as a confusing detection failure.
SEED = 1037


@pytest.fixture
def lung_worker(orthanc, subprocess_env, service_logs):
    env = dict(subprocess_env, CAD_MODELS=LUNG_MODEL)
    worker = processes.celery_worker_process(env, service_logs).start()
    yield worker
    worker.stop()


def test_a_chest_ct_nodule_is_found_reported_in_dicom_and_raises_the_study(lung_worker, web_server, radiologist,
                                                                          tmp_path):
    study = generate_study("chest_ct", seed=SEED, matrix=256, slices=80, n_nodules=1, priority="ROUTINE",
                           patient_location="OUTPATIENT CLINIC")
    [nodule] = study.truth["lesions"]
    assert nodule["type"] == "solid" and 12 <= nodule["long_axis_mm"] <= 20
    uid = study.study_instance_uid
    with open_worklist_socket(web_server.url, session_cookie(radiologist)) as socket:
        c_store(study.datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
                called_aet=settings.ORTHANC_DICOM_AET)
        messages = collect_messages(
            socket, timeout=60,
            until=lambda ms: any(m["type"] == "study.updated" and m["study"]["study_instance_uid"] == uid
                                 and m["study"]["status"] in ("analysed", "ai_failed") for m in ms),
        )
    pushed = [m["study"] for m in messages if m["type"] == "study.updated" and m["study"]["study_instance_uid"] == uid]
    first, last = pushed[0], pushed[-1]
    assert last["status"] == "analysed", last["status_reason"]

    # The finding matches the ground truth.
    run = AnalysisRun.objects.get(study__study_instance_uid=uid, model_name="lung_nodule")
    assert run.status == "done"
    hits = [f for f in run.result["findings"]
            if np.linalg.norm(np.array(f["centre_mm"]) - nodule["center_mm"]) <= nodule["long_axis_mm"] / 2]
    assert len(hits) == 1, run.result["findings"]
    assert hits[0]["diameter_mm"] == pytest.approx(nodule["long_axis_mm"], abs=1.5)
    assert hits[0]["type"] == "solid"
    assert run.category in ("lungrads:4A", "lungrads:4B")
    assert run.result["series_instance_uid"] == study.datasets[0].SeriesInstanceUID

    # Urgency rose against the routine order, and the push said why.
    assert first["urgency_code"] == "routine"
    assert last["urgency_code"] in ("urgent", "ai_critical")
    assert datetime.fromisoformat(last["due_at"]) < datetime.fromisoformat(first["due_at"])
    assert last["ai_headline"] == run.headline and "Lung-RADS 4" in last["ai_headline"]

    # The SR is in the same study in Orthanc and an independent validator finds no error.
    orthanc_study = next(s for s in get_json("studies") if get_json(f"studies/{s}")["MainDicomTags"]
                         ["StudyInstanceUID"] == uid)
    sr_series = [s for s in get_json(f"studies/{orthanc_study}")["Series"]
                 if get_json(f"series/{s}")["MainDicomTags"].get("Modality") == "SR"]
    assert len(sr_series) == 1
    [instance] = get_json(f"series/{sr_series[0]}")["Instances"]
    raw = get_binary(f"instances/{instance}/file")
    sr = pydicom.dcmread(io.BytesIO(raw))
    assert sr.SOPInstanceUID == run.result["sr_sop_instance_uid"]
    assert dciodvfy_errors(raw, tmp_path) == []
