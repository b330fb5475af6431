"""Mammography views are told apart by their DICOM headers, and marks map back onto stored pixels."""

import copy

import numpy as np
import pytest

from inference.cad.mammography.images import (
    chest_wall_on_right,
    four_views,
    view_of,
    work_image,
)
from inference.synthetic import generate_study

SEED = 17  # one spiculated mass of 20 mm in the right breast, density b (asserted below)


@pytest.fixture(scope="module")
def study():
    study = generate_study("mammography", seed=SEED, matrix="small", n_lesions=1, density="b")
    [lesion] = study.truth["lesions"]
    assert lesion["type"] == "mass_spiculated" and lesion["breast"] == "R" and lesion["size_mm"] > 15
    return study


def test_each_view_is_named_from_laterality_and_view_code_not_the_series_description(study):
    names = []
    for ds in study.datasets:
        ds = copy.deepcopy(ds)
        ds.SeriesDescription = "L MLO"  # misleading on purpose: never read
        names.append(view_of(ds))
    assert names == [v["view"] for v in study.truth["views"]]


def test_view_position_is_used_when_the_view_code_sequence_is_missing(study):
    ds = copy.deepcopy(study.datasets[2])  # R MLO
    del ds.ViewCodeSequence
    assert view_of(ds) == "RMLO"
    ds.ViewPosition = "ML"  # a lateral view is not one of the four screening views
    assert view_of(ds) is None


def test_laterality_falls_back_to_the_series_laterality_and_is_required(study):
    ds = copy.deepcopy(study.datasets[1])  # L CC
    del ds.ImageLaterality
    assert view_of(ds) is None
    ds.Laterality = "L"
    assert view_of(ds) == "LCC"


def test_orthanc_simplified_tags_are_read_like_a_dataset():
    tags = {"ImageLaterality": "R", "ViewPosition": "CC", "ViewCodeSequence": [{"CodeValue": "399368009"}],
            "PatientOrientation": "A\\FR"}
    assert view_of(tags) == "RMLO"  # the view code wins over ViewPosition
    assert chest_wall_on_right(tags, "R") is False


def test_chest_wall_side_comes_from_patient_orientation(study):
    views = four_views(study.datasets)
    assert views["RCC"].chest_wall_right and views["RMLO"].chest_wall_right
    assert not views["LCC"].chest_wall_right and not views["LMLO"].chest_wall_right
    # A right breast hung the other way round (chest wall left) is read by its header, not its side.
    ds = copy.deepcopy(study.datasets[0])
    ds.PatientOrientation = ["A", "R"]
    assert chest_wall_on_right(ds, "R") is False
    del ds.PatientOrientation
    assert chest_wall_on_right(ds, "R") is True  # the usual hanging when nothing says otherwise


def test_a_case_without_all_four_views_is_refused(study):
    with pytest.raises(ValueError, match="LMLO"):
        four_views(study.datasets[:3])


def test_the_working_grid_maps_back_to_the_stored_pixel_and_puts_the_chest_wall_left(study):
    views = four_views(study.datasets)
    [lesion] = study.truth["lesions"]
    for name in ("RCC", "RMLO"):
        work = work_image(views[name])
        col, row = lesion["views"][name]["center_px"]
        wr, wc = work.to_work(col, row)
        back = work.to_stored(wr, wc)
        assert back == pytest.approx((col, row), abs=1e-6)
        # Chest wall at column 0 on the working grid: the breast fills the left edge, air the right.
        intensity = work.channels[0]
        mid = intensity.shape[0] // 2
        assert intensity[mid, 1] > intensity[mid, -2]
        # The mass is brighter than the tissue a little further out at the same row.
        r, c = int(round(wr)), int(round(wc))
        assert intensity[r, c] > np.median(intensity[r, c + 15:c + 25])
