"""The committed weights find an obvious lesion where the generator put it, on both views, at
either detector matrix, and say nothing on a normal case."""

import pytest

from inference.cad.mammography.images import four_views
from inference.cad.mammography.model import MammographyModel
from inference.synthetic import generate_study


@pytest.fixture(scope="module")
def model():
    return MammographyModel()


def inside(box, point) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


@pytest.mark.parametrize("matrix", ["small", "standard"])
def test_a_spiculated_mass_is_found_linked_and_marked_inside_it_on_both_views(model, matrix):
    study = generate_study("mammography", seed=17, matrix=matrix, n_lesions=1, density="b")
    [lesion] = study.truth["lesions"]
    assert lesion["type"] == "mass_spiculated" and lesion["breast"] == "R"
    views = four_views(study.datasets)
    prediction = model.predict(views)
    finding = model.findings(prediction, views)[0]  # the most probable
    assert finding["breast"] == "R" and finding["type"] == "mass_spiculated"
    assert {m["view"] for m in finding["views"]} == {"RCC", "RMLO"}
    for mark in finding["views"]:
        assert inside(lesion["views"][mark["view"]]["bbox_px"], mark["point_px"])
    assert finding["diameter_mm"] == pytest.approx(lesion["size_mm"], rel=0.4)
    assert model.summarise(prediction)[0] == "birads:0"
    assert prediction.density == "b"


def test_a_calcification_cluster_is_found_in_the_left_breast(model):
    study = generate_study("mammography", seed=10, matrix="standard", n_lesions=1, density="c")
    [lesion] = study.truth["lesions"]
    assert lesion["type"] == "calcification_cluster" and lesion["breast"] == "L"
    views = four_views(study.datasets)
    findings = model.findings(model.predict(views), views)
    assert findings and findings[0]["type"] == "calcification_cluster" and findings[0]["breast"] == "L"
    assert any(inside(lesion["views"][m["view"]]["bbox_px"], m["point_px"]) for m in findings[0]["views"])


def test_a_normal_case_has_no_reported_finding(model):
    study = generate_study("mammography", seed=17, matrix="standard", n_lesions=0, density="c")
    views = four_views(study.datasets)
    prediction = model.predict(views)
    assert model.findings(prediction, views) == []
    assert model.summarise(prediction) == ("birads:1", "No suspicious finding · density C")
