"""A model that runs past MODEL_TIMEOUT_SECONDS leaves the study listed, marked "AI failed"."""

import time

import pytest

from inference.cad import registry
from inference.cad.base import Applicability, Prediction
from inference.cad.volume_model import VolumeCadModel
from inference.models import AnalysisRun
from inference.services import study_analyse
from tests.cad.helpers import painted_volume
from tests.worklist.factories import make_study
from worklist.models import Series, StudyStatus

pytestmark = pytest.mark.django_db


class SleepsInPredict(VolumeCadModel):
    name, version = "slow_model", "0.1"
    applicability = Applicability(modalities=("CT",), min_instances=1)

    def load_volume(self, series):
        return painted_volume(shape=(4, 8, 8))

    def predict(self, volume):
        time.sleep(3)
        return Prediction(findings=[], suspicion=0.0)


def test_a_model_over_its_time_limit_fails_open_with_the_reason(settings):
    settings.CAD_MODELS = ["tests.cad.test_time_limit:SleepsInPredict"]
    settings.MODEL_TIMEOUT_SECONDS = 0.3
    registry.registered_models.cache_clear()
    try:
        study = make_study(status=StudyStatus.QUEUED, analysis_generation=1)
        Series.objects.create(study=study, series_instance_uid="1.2.3.4", orthanc_id="series-1", modality="CT",
                              instance_count=4)
        registry.registered_models()  # the registry's first call imports torch (seconds): not the model's time
        started = time.monotonic()
        assert study_analyse(study.pk) == "done: ai_failed"
        assert time.monotonic() - started < 2.5  # released at the limit, not when the model returns
    finally:
        registry.registered_models.cache_clear()
    study.refresh_from_db()
    assert study.status == StudyStatus.AI_FAILED
    assert study.status_reason == "slow_model: ModelTimeout: model did not finish within the 0.3 s time limit"
    assert study.due_at is not None  # still on the worklist with its clinical priority
    assert AnalysisRun.objects.get(study=study).status == "failed"
