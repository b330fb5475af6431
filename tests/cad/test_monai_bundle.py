"""A MONAI bundle directory, named in an external-model manifest, end to end.

The bundle is built here from MONAI's own network class (monai.networks.nets.UNet) in the Model Zoo
layout (configs/metadata.json, configs/inference.json with network_def, models/model.pt) and
briefly trained (60 steps, a few seconds of CPU) to mark voxels brighter than about 200 HU: the
weights are not a clinical model, only enough to prove the plumbing: study in Orthanc -> MONAI's
ConfigParser builds the network -> inference -> findings on the worklist -> DICOM SR in Orthanc.
No download: nothing leaves the machine.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pydicom
import pytest
import torch

monai = pytest.importorskip("monai")

from archive.orthanc import get_binary, get_json, post_instance  # noqa: E402
from inference.cad import registry  # noqa: E402
from inference.cad.external import ExternalModel, ManifestError  # noqa: E402
from inference.models import AnalysisRun  # noqa: E402
from inference.services import study_analyse  # noqa: E402
from tests.cad.helpers import paint_ball, painted_volume, volume_datasets  # noqa: E402
from tests.worklist.factories import make_study  # noqa: E402
from worklist.models import Series, StudyStatus  # noqa: E402

NETWORK_DEF = {"_target_": "monai.networks.nets.UNet", "spatial_dims": 3, "in_channels": 1, "out_channels": 1,
               "channels": [8, 16], "strides": [2], "num_res_units": 1, "norm": None}
WINDOW = (-1000.0, 400.0)
BRIGHT = (200.0 - WINDOW[0]) / (WINDOW[1] - WINDOW[0])  # 200 HU on the [0, 1] input scale


def network_input(volume) -> np.ndarray:
    """What the pipeline feeds the network: 2 mm voxels, HU windowed to [0, 1] (as the manifest says)."""
    from scipy import ndimage

    data = ndimage.zoom(volume.hu.astype(np.float32), np.array(volume.spacing) / 2.0, order=1)
    return (np.clip(data, *WINDOW) - WINDOW[0]) / (WINDOW[1] - WINDOW[0])


def train_briefly(net: torch.nn.Module, steps: int = 80) -> None:
    """Painted chest-like volumes with one bright ball each; the target is 'brighter than 200 HU'."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    samples = []
    for n in range(4):
        volume = painted_volume(shape=(40, 96, 96), spacing=(1.0, 0.8, 0.8), seed=100 + n)
        centre = volume.index_to_lps([rng.uniform(12, 28), rng.uniform(30, 66), rng.uniform(30, 66)])
        paint_ball(volume, centre, rng.uniform(6, 16), rng.uniform(300, 800))
        samples.append(network_input(volume))
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    for step in range(steps):
        x = torch.tensor(samples[step % len(samples)][None, None], dtype=torch.float32)
        # Balls are a few hundred voxels of 64 000: weigh them up, or the network learns "nothing".
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), (x > BRIGHT).float(),
                                                                    pos_weight=torch.tensor(20.0))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    net.eval()


@pytest.fixture(scope="module")
def bundle_manifest(tmp_path_factory):
    from monai.bundle import ConfigParser

    root = tmp_path_factory.mktemp("monai")
    bundle = root / "bright_ball_unet"
    (bundle / "configs").mkdir(parents=True)
    (bundle / "models").mkdir()
    metadata = {
        "schema": "https://github.com/Project-MONAI/MONAI-extra-test-data/releases/download/0.8.1/meta_schema_20220324.json",
        "version": "0.1.0", "monai_version": monai.__version__, "pytorch_version": torch.__version__.split("+")[0],
        "name": "bright_ball_unet", "task": "Bright ball segmentation (test bundle, not a clinical model)",
        "description": "MONAI UNet briefly trained on generated volumes to mark voxels above about 200 HU.",
        "network_data_format": {
            "inputs": {"image": {"type": "image", "format": "hounsfield", "modality": "CT", "num_channels": 1,
                                 "spatial_shape": ["2*n", "2*n", "2*n"], "dtype": "float32",
                                 "value_range": [0, 1], "is_patch_data": False}},
            "outputs": {"pred": {"type": "image", "format": "segmentation", "num_channels": 1,
                                 "spatial_shape": ["2*n", "2*n", "2*n"], "dtype": "float32",
                                 "value_range": [0, 1], "is_patch_data": False}},
        },
    }
    (bundle / "configs" / "metadata.json").write_text(json.dumps(metadata, indent=1))
    (bundle / "configs" / "inference.json").write_text(json.dumps({"network_def": NETWORK_DEF}, indent=1))
    parser = ConfigParser()
    parser.read_config(str(bundle / "configs" / "inference.json"))
    torch.manual_seed(0)  # the initial weights too, or each run trains a different network
    net = parser.get_parsed_content("network_def")
    train_briefly(net)
    torch.save(net.state_dict(), bundle / "models" / "model.pt")
    manifest = {
        "name": "monai_bright_ball", "version": "0.1.0", "format": "monai_bundle", "bundle": "bright_ball_unet",
        "applies_to": {"modalities": ["CT"], "body_parts": ["CHEST"], "min_instances": 20},
        "envelope": {"modalities": ["CT"], "slice_thickness_mm": [0.5, 2.0]},
        "input": {"spacing_mm": [2.0, 2.0, 2.0], "window_hu": list(WINDOW), "divisible_by": 2},
        "output": {"convention": "heatmap", "finding_type": "solid", "activation": "sigmoid", "channel": 0},
        "thresholds": {"probability": 0.5},
        "reporting": "lungrads",
    }
    path = root / "monai_bright_ball.json"
    path.write_text(json.dumps(manifest, indent=1))
    return path


def ball_volume():
    volume = painted_volume(shape=(40, 100, 100), spacing=(1.0, 0.8, 0.8), seed=11)
    centre = volume.index_to_lps([20, 50, 45])
    paint_ball(volume, centre, 12.0, 500.0)
    return volume, centre


def test_the_bundle_is_built_by_monai_and_finds_the_bright_ball(bundle_manifest):
    model = ExternalModel(bundle_manifest)
    assert type(model.module).__module__.startswith("monai.networks")  # built from network_def by MONAI
    volume, centre = ball_volume()
    prediction = model.predict(volume)
    [finding] = prediction.findings
    assert np.linalg.norm(np.array(finding.centre_mm) - centre) < 2.5
    assert finding.diameter_mm == pytest.approx(12.0, abs=3.0)


def test_a_bundle_without_its_network_is_refused(bundle_manifest, tmp_path):
    manifest = json.loads(bundle_manifest.read_text())
    (tmp_path / "empty" / "configs").mkdir(parents=True)
    (tmp_path / "empty" / "configs" / "metadata.json").write_text("{}")
    manifest["bundle"] = "empty"
    path = tmp_path / "m.json"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match="needs models/model.ts"):
        ExternalModel(path)


@pytest.mark.integration
@pytest.mark.django_db
def test_a_monai_bundle_named_in_a_manifest_runs_end_to_end(orthanc, settings, bundle_manifest):
    volume, centre = ball_volume()
    datasets = volume_datasets(volume)
    for ds in datasets:
        ds.SliceThickness = 1.0
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        post_instance(buffer.getvalue())
    orthanc_study = get_json("studies")[0]
    orthanc_series = get_json(f"studies/{orthanc_study}")["Series"][0]

    settings.CAD_MODELS = []
    settings.EXTERNAL_MODEL_MANIFESTS = [str(bundle_manifest)]
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
    assert (run.model_name, run.model_version, run.status) == ("monai_bright_ball", "0.1.0", "done")
    [finding] = run.result["findings"]
    assert np.linalg.norm(np.array(finding["centre_mm"]) - centre) < 2.5
    assert run.category == "lungrads:4A"  # one 12 mm solid finding at baseline
    study.refresh_from_db()
    assert study.status == "analysed" and study.ai_headline == run.headline
    # The SR is in the same study in Orthanc and names the bundle's model as the algorithm.
    sr_series = [s for s in get_json(f"studies/{orthanc_study}")["Series"]
                 if get_json(f"series/{s}")["MainDicomTags"].get("Modality") == "SR"]
    [instance] = get_json(f"series/{sr_series[0]}")["Instances"]
    sr = pydicom.dcmread(io.BytesIO(get_binary(f"instances/{instance}/file")))
    assert sr.SOPInstanceUID == run.result["sr_sop_instance_uid"]
    texts = {str(element.value) for element in sr.iterall() if element.VR in ("LO", "SH", "ST", "LT", "UT")}
    assert "monai_bright_ball" in texts
