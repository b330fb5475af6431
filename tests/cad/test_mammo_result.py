"""The result contract the viewer and the BI-RADS report read, and the worklist category/headline."""

from unittest import mock

import pytest
import torch

from inference.cad.base import ModelOutcome, StudyInfo
from inference.cad.envelope import OutsideEnvelope
from inference.cad.mammography import model as mammo
from inference.cad.mammography.images import four_views
from inference.cad.mammography.model import CasePrediction, Lesion, MammographyModel, ViewMark
from inference.cad.mammography.network import MammoNet, Mark
from inference.synthetic import generate_study


@pytest.fixture(scope="module")
def views():
    return four_views(generate_study("mammography", seed=17, matrix="small", n_lesions=1, density="b").datasets)


@pytest.fixture
def model(tmp_path):
    """A model whose weights file says threshold 0.5 (the network itself is not used here)."""
    path = tmp_path / "weights.pt"
    torch.save({"state_dict": MammoNet().state_dict(), "meta": {"threshold": 0.5, "density_cuts": [0.2, 0.45, 0.7]}},
               path)
    return MammographyModel(path)


def view_mark(view, probability, kind="mass", spiculated=0.9):
    return ViewMark(view=view, mark=Mark(kind=kind, probability=probability, row=100.0, col=50.0, diameter_mm=14.2,
                                         spiculated=spiculated), point_px=(310.5, 220.0), radius_px=40.6,
                    depth_mm=56.0)


def prediction(lesions):
    breasts = {b: max((les.probability for les in lesions if les.breast == b), default=0.0) for b in ("R", "L")}
    return CasePrediction(lesions=lesions, density="c", dense_fraction=0.55, breasts=breasts,
                          case_suspicion=max(breasts.values()))


def test_a_suspicious_case_is_birads_0_with_the_finding_in_the_headline(model, views):
    lesions = [Lesion("R", "mass", 0.91, [view_mark("RMLO", 0.8), view_mark("RCC", 0.9)]),
               Lesion("L", "calcification_cluster", 0.2, [view_mark("LCC", 0.2, kind="calcification_cluster")])]
    case = prediction(lesions)
    category, headline = model.summarise(case)
    assert category == "birads:0"
    assert headline == "R breast: spiculated mass 14 mm, suspicion 0.91 · density C"

    findings = model.findings(case, views)
    result = model.result(case, findings, views, sr_uid="1.2.3", timings={"fetch_seconds": 0.1,
                                                                            "predict_seconds": 0.2,
                                                                            "sr_seconds": 0.3})
    assert set(result) == {"findings", "density", "breasts", "case_suspicion", "threshold", "sr_sop_instance_uid",
                           "series_instance_uid", "timings"}
    # Only findings at or above the operating threshold are reported.
    [finding] = result["findings"]
    assert finding == {
        "lesion_id": 1, "type": "mass_spiculated", "breast": "R", "diameter_mm": 14.2, "probability": 0.91,
        "depth_mm": 56.0,
        "views": [  # in the standard order RCC, LCC, RMLO, LMLO
            {"view": "RCC", "series_instance_uid": views["RCC"].series_instance_uid,
             "sop_instance_uid": views["RCC"].sop_instance_uid, "point_px": [310.5, 220.0], "radius_px": 40.6},
            {"view": "RMLO", "series_instance_uid": views["RMLO"].series_instance_uid,
             "sop_instance_uid": views["RMLO"].sop_instance_uid, "point_px": [310.5, 220.0], "radius_px": 40.6},
        ],
    }
    assert result["density"] == "c"
    assert result["breasts"] == {"R": {"suspicion": 0.91}, "L": {"suspicion": 0.2}}
    assert result["case_suspicion"] == 0.91 and result["threshold"] == 0.5
    assert result["series_instance_uid"] == views["RCC"].series_instance_uid
    assert set(result["timings"]) == {"fetch_seconds", "predict_seconds", "sr_seconds"}


def test_a_case_below_the_threshold_is_birads_1_with_no_findings(model, views):
    case = prediction([Lesion("L", "mass", 0.3, [view_mark("LCC", 0.3, spiculated=0.1)])])
    assert model.summarise(case) == ("birads:1", "No suspicious finding · density C")
    assert model.findings(case, views) == []


def test_run_fetches_the_views_predicts_stores_the_sr_and_returns_the_outcome(model, views):
    case = prediction([Lesion("R", "mass", 0.91, [view_mark("RCC", 0.9), view_mark("RMLO", 0.8)])])
    study = StudyInfo(study_id=1, orthanc_id="x", modality="MG", modalities=("MG",), body_part="BREAST",
                      study_description="MAMMOGRAPHY SCREENING BILATERAL")
    with mock.patch.object(mammo, "fetch_views", return_value=views), \
            mock.patch.object(MammographyModel, "predict", return_value=case), \
            mock.patch("inference.cad.mammography.sr.sr_store", return_value="1.2.3.4") as store:
        outcome = model.run(study)
    assert isinstance(outcome, ModelOutcome)
    assert outcome.suspicion == 0.91 and outcome.category == "birads:0"
    assert outcome.result["sr_sop_instance_uid"] == "1.2.3.4"
    stored_findings, density = store.call_args.args[1:3]
    assert stored_findings == outcome.result["findings"] and density == "c"


def test_applies_to_mg_studies_and_refuses_one_without_the_four_views_naming_what_is_missing():
    model = MammographyModel("/nonexistent.pt")  # routing never loads weights
    series = ({"orthanc_id": "s1", "modality": "MG", "description": "", "instance_count": 4,
               "series_instance_uid": "1.2"},)
    mg = StudyInfo(study_id=1, orthanc_id="x", modality="MG", modalities=("MG",), body_part="BREAST",
                   study_description="", series=series)
    ct = StudyInfo(study_id=2, orthanc_id="y", modality="CT", modalities=("CT",), body_part="CHEST",
                   study_description="", series=())
    four = {"RCC": "a", "LCC": "b", "RMLO": "c", "LMLO": "d"}
    with mock.patch.object(mammo, "orthanc_views", return_value=four):
        assert model.applies_to(mg) and not model.applies_to(ct)
    with mock.patch.object(mammo, "orthanc_views", return_value={k: v for k, v in four.items() if k != "LMLO"}):
        assert model.applies_to(mg)  # routing is cheap; the views are checked before inference
        with pytest.raises(OutsideEnvelope) as caught:
            mammo.fetch_views(mg)
    assert caught.value.reason == ("this model needs the four standard views (RCC, LCC, RMLO, LMLO); "
                                   "missing LMLO")
