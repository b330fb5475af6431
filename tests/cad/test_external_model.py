"""An external TorchScript model named by a manifest runs through the same pipeline as built-ins."""

import io
import json

import numpy as np
import pytest
import torch

from archive.orthanc import get_json, post_instance
from inference.cad import registry
from inference.models import AnalysisRun
from inference.services import study_analyse
from tests.cad.helpers import paint_ball, painted_volume, volume_datasets
from tests.worklist.factories import make_study
from worklist.models import Series, StudyStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


class BrightSpots(torch.nn.Module):
    """Probability that a voxel is brighter than about 260 HU (inputs are [-1000, 400] HU scaled to [0, 1])."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid((x - 0.9) * 60.0)[0, 0]


def write_model(tmp_path, **overrides):
    torch.jit.script(BrightSpots()).save(str(tmp_path / "bright.pt"))
    manifest = {
        "name": "bright_spots", "version": "0.1", "format": "torchscript", "weights": "bright.pt",
        "applies_to": {"modalities": ["CT"], "body_parts": ["CHEST"], "min_instances": 20},
        "input": {"spacing_mm": [2.0, 2.0, 2.0], "window_hu": [-1000, 400]},
        "output": {"convention": "heatmap", "finding_type": "solid"},
        "thresholds": {"probability": 0.5},
        "reporting": "lungrads",
    }
    manifest.update(overrides)
    path = tmp_path / "bright.json"
    path.write_text(json.dumps(manifest))
    return path


def store(datasets) -> str:
    for ds in datasets:
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        post_instance(buffer.getvalue())
    return get_json("studies")[0]


def test_a_manifest_model_loads_and_its_findings_land(orthanc, settings, tmp_path):
    volume = painted_volume(shape=(40, 100, 100), spacing=(1.0, 0.8, 0.8))
    centre = volume.index_to_lps([20, 50, 45])
    paint_ball(volume, centre, 12.0, 400.0)
    datasets = volume_datasets(volume)
    orthanc_study = store(datasets)
    orthanc_series = get_json(f"studies/{orthanc_study}")["Series"][0]

    settings.CAD_MODELS = []
    settings.EXTERNAL_MODEL_MANIFESTS = [str(write_model(tmp_path))]
    registry.registered_models.cache_clear()
    try:
        study = make_study(status=StudyStatus.QUEUED, analysis_generation=1, orthanc_id=orthanc_study,
                           study_instance_uid=volume.study_instance_uid)
        Series.objects.create(study=study, series_instance_uid=volume.series_instance_uid, orthanc_id=orthanc_series,
                              modality="CT", instance_count=len(datasets))
        assert study_analyse(study.pk) == "done: analysed"
    finally:
        registry.registered_models.cache_clear()

    run = AnalysisRun.objects.get(study=study)
    assert (run.model_name, run.model_version, run.status) == ("bright_spots", "0.1", "done")
    [finding] = run.result["findings"]
    assert np.linalg.norm(np.array(finding["centre_mm"]) - centre) < 2.0
    assert finding["diameter_mm"] == pytest.approx(12.0, abs=2.5)
    assert run.category == "lungrads:4A"  # a 12 mm solid finding at baseline
    study.refresh_from_db()
    assert study.ai_headline == run.headline
    assert run.headline.startswith("1 nodule, largest 1")
    assert run.headline.endswith(" mm mean diameter (Lung-RADS v2022) solid, Lung-RADS 4A")
    # Its SR went into the same study.
    series = get_json(f"studies/{orthanc_study}")["Series"]
    modalities = {get_json(f"series/{s}")["MainDicomTags"].get("Modality") for s in series}
    assert modalities == {"CT", "SR"}


def test_a_manifest_without_weights_is_refused(tmp_path):
    from inference.cad.external import ExternalModel, ManifestError

    path = write_model(tmp_path, weights="missing.pt")
    with pytest.raises(ManifestError, match="not found"):
        ExternalModel(path)
