"""The committed prostate model on a generated study: the gland is found, measured and a lesion scored."""

from __future__ import annotations

import numpy as np
import pytest

from inference.cad.base import StudyInfo
from inference.cad.prostate.evaluate import dice
from inference.cad.prostate.model import ProstateModel, case_from_datasets, headline
from inference.synthetic.prostate_mri import generate_prostate_mri, prostate_masks

# A seed outside the training (30 M+), validation (35 M+) and test (40 M+) ranges: one PZ lesion of 16.7 mm.
SEED = 1015

RESULT_KEYS = {"findings", "gland_volume_ml", "pz_volume_ml", "tz_volume_ml", "psa_ng_ml", "psa_density", "threshold"}
FINDING_KEYS = {"centre_mm", "diameter_mm", "type", "zone", "location", "probability", "volume_ml"}


@pytest.fixture(scope="module")
def model():
    return ProstateModel()


@pytest.fixture(scope="module")
def predicted(model):
    datasets, truth, _ = generate_prostate_mri(SEED, n_lesions=1)
    case = case_from_datasets(datasets)
    return truth, case, model.predict(case)


def test_the_gland_and_zones_are_segmented_on_the_t2_grid(predicted):
    truth, _, prediction = predicted
    masks = prostate_masks(truth, "t2w")
    labels = prediction.zones.labels
    assert labels.shape == masks["gland"].shape
    assert dice(labels > 0, masks["gland"]) >= 0.85
    assert dice(labels == 1, masks["pz"]) >= 0.6
    assert dice(labels == 2, masks["tz"]) >= 0.6
    assert prediction.gland_ml == pytest.approx(truth["anatomy"]["gland_volume_ml"], rel=0.10)


def test_the_lesion_is_found_in_its_zone_and_the_result_keeps_the_contract(predicted):
    truth, case, prediction = predicted
    [lesion] = truth["lesions"]
    result = prediction.result()
    assert set(result) == RESULT_KEYS
    assert result["findings"], "no lesion reported"
    assert all(set(f) == FINDING_KEYS for f in result["findings"])
    top = result["findings"][0]
    assert np.linalg.norm(np.subtract(top["centre_mm"], lesion["center_mm"])) <= lesion["diameter_mm"] / 2
    assert top["zone"] == "pz" and top["probability"] >= result["threshold"]
    assert result["psa_ng_ml"] == truth["psa_ng_ml"] == case.psa_ng_ml
    assert result["psa_density"] == pytest.approx(truth["psa_ng_ml"] / result["gland_volume_ml"], abs=0.002)
    assert "PZ lesion" in headline(prediction)


def test_the_model_applies_to_prostate_mr_studies_only(model):
    series = tuple({"orthanc_id": str(n), "modality": "MR", "description": "", "instance_count": 24,
                    "series_instance_uid": str(n)} for n in range(3))
    prostate = StudyInfo(study_id=1, orthanc_id="x", modality="MR", modalities=("MR",), body_part="PROSTATE",
                         study_description="", series=series)
    assert model.applies_to(prostate)
    assert not model.applies_to(StudyInfo(study_id=2, orthanc_id="y", modality="MR", modalities=("MR",),
                                          body_part="BRAIN", study_description="MRI HEAD", series=series))
    assert not model.applies_to(StudyInfo(study_id=3, orthanc_id="z", modality="MR", modalities=("MR",),
                                          body_part="PROSTATE", study_description="MRI PROSTATE", series=series[:1]))
