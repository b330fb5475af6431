"""The lung model's envelope on the real stack: C-STORE -> Orthanc -> Celery worker -> worklist.

A study with a thin (1 mm) and a thick (5 mm, reconstructed from the thin one) series is read on
the thin one; a study with only 5 mm slices is not analysed and is listed "No AI: <reason>".
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from django.conf import settings
from pydicom.uid import generate_uid

from inference.models import AnalysisRun
from inference.synthetic import generate_study
from tests.support import processes
from tests.support.dicom import c_store
from tests.support.processes import wait_until
from worklist.models import Study

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LUNG_MODEL = "inference.cad.lung_nodule.model:LungNoduleModel"
SETTLED = ("analysed", "ai_failed", "no_ai")


def thick_from_thin(thin: list, every: int = 5) -> list:
    """A thick reconstruction of a thin series: the mean of `every` neighbouring slices, new UIDs."""
    series_uid = generate_uid()
    thin = sorted(thin, key=lambda ds: -float(ds.ImagePositionPatient[2]))
    out = []
    for n in range(len(thin) // every):
        group = thin[n * every:(n + 1) * every]
        ds = copy.deepcopy(group[0])
        pixels = np.mean([g.pixel_array.astype(np.float32) for g in group], axis=0)
        ds.PixelData = np.rint(pixels).astype(group[0].pixel_array.dtype).tobytes()
        ds.ImagePositionPatient = [*group[0].ImagePositionPatient[:2],
                                   round(float(np.mean([float(g.ImagePositionPatient[2]) for g in group])), 4)]
        ds.SliceLocation = ds.ImagePositionPatient[2]
        ds.SliceThickness = float(group[0].SliceThickness) * every
        ds.SeriesInstanceUID, ds.SeriesNumber, ds.SeriesDescription = series_uid, 3, "THORAX 5.0 B60f"
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = n + 1
        out.append(ds)
    return out


@pytest.fixture
def lung_worker(orthanc, subprocess_env, service_logs):
    env = dict(subprocess_env, CAD_MODELS=LUNG_MODEL)
    worker = processes.celery_worker_process(env, service_logs).start()
    yield worker
    worker.stop()


def test_the_thin_series_is_read_and_a_thick_only_study_gets_no_ai_with_the_reason(lung_worker):
    # Seed 1037: one solid nodule of 13.8 mm (tests/cad/test_lung_end_to_end.py).
    both = generate_study("chest_ct", seed=1037, matrix=256, slices=80, n_nodules=1)
    thin_uid = both.datasets[0].SeriesInstanceUID
    thick = thick_from_thin(both.datasets)
    thick_only = generate_study("chest_ct", seed=1038, matrix=256, slice_thickness=5.0, n_nodules=1)
    assert thick_only.truth["params"]["slice_thickness"] == 5.0
    # The thick series goes first, so arrival order cannot be what picks the thin one.
    c_store([*thick, *both.datasets], host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
            called_aet=settings.ORTHANC_DICOM_AET)
    c_store(thick_only.datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
            called_aet=settings.ORTHANC_DICOM_AET)
    uids = {both.study_instance_uid, thick_only.study_instance_uid}
    wait_until(lambda: Study.objects.filter(study_instance_uid__in=uids, status__in=SETTLED).count() == 2,
               timeout=180, interval=0.5, what="both studies to settle")

    read = Study.objects.get(study_instance_uid=both.study_instance_uid)
    assert read.series.count() == 2
    assert read.status == "analysed", read.status_reason
    run = AnalysisRun.objects.get(study=read, model_name="lung_nodule")
    assert run.status == "done" and run.result["series_instance_uid"] == thin_uid

    refused = Study.objects.get(study_instance_uid=thick_only.study_instance_uid)
    assert refused.status == "no_ai"
    assert refused.status_reason == "No AI: slices 5 mm thick; this model reads 0.5–1.25 mm"
    run = AnalysisRun.objects.get(study=refused, model_name="lung_nodule")
    assert run.status == "refused" and run.result == {} and run.suspicion is None
    assert refused.urgency_code != "ai_critical"
