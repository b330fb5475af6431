"""Registration by patient coordinates, volumes, PSA density and lesion measurement (no network)."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from archive.volumes import Volume
from inference.cad.prostate.analysis import (
    GlandFrame,
    Zones,
    find_lesions,
    location_text,
    long_axis_mm,
    parse_psa,
    psa_density,
    psa_from_header,
)
from inference.cad.prostate.registration import Grid, resample, working_grid


def _volume(shape, spacing, origin, values=None) -> Volume:
    data = np.zeros(shape, np.int16) if values is None else values
    return Volume(hu=data, spacing=spacing, origin=np.array(origin, float), row_dir=np.array([1.0, 0, 0]),
                  col_dir=np.array([0, 1.0, 0]), slice_step=np.array([0, 0, -spacing[0]]))


def _ball(grid: Grid, centre, radius) -> np.ndarray:
    index = np.indices(grid.shape).reshape(3, -1).T
    points = grid.index_to_lps(index)
    return (np.linalg.norm(points - centre, axis=1) <= radius).reshape(grid.shape)


def test_a_ball_lands_at_the_same_patient_position_on_another_grid():
    """An ADC-like coarse grid with its own field of view resampled onto a fine T2-like grid."""
    coarse = Grid.of(_volume((20, 64, 64), (3.0, 3.1, 3.1), (-99.0, -89.0, 28.5)))
    fine = Grid.of(_volume((20, 160, 160), (3.0, 1.0, 1.0), (-80.0, -70.0, 28.5)))
    centre = np.array([12.0, 6.0, -3.0])
    ball = _ball(coarse, centre, 12.0).astype(np.float32)
    moved = resample(ball, coarse, fine, smooth=False) >= 0.5
    found = fine.index_to_lps(np.argwhere(moved)).mean(0)
    assert np.linalg.norm(found - centre) < 1.5
    # And the same with a rotated source (no shared axes: the general path).
    rotated = Grid(shape=coarse.shape, origin=coarse.origin, matrix=coarse.matrix[:, [0, 2, 1]])
    ball_r = _ball(rotated, centre, 12.0).astype(np.float32)
    found_r = fine.index_to_lps(np.argwhere(resample(ball_r, rotated, fine) >= 0.5)).mean(0)
    assert np.linalg.norm(found_r - centre) < 1.5


def test_the_working_grid_covers_the_t2_slab_centred_on_its_field():
    t2 = _volume((24, 320, 320), (3.0, 0.5625, 0.5625), (-89.72, -79.72, 34.5))
    grid = working_grid(t2)
    assert grid.shape[0] % 4 == 0 and grid.shape[0] >= 24
    t2_grid = Grid.of(t2)
    t2_centre = t2_grid.index_to_lps((np.array(t2_grid.shape) - 1) / 2)
    assert np.allclose(grid.index_to_lps((np.array(grid.shape) - 1) / 2), t2_centre)


def test_volume_psa_and_psa_density():
    grid = Grid.of(_volume((30, 100, 100), (2.0, 1.0, 1.0), (-50.0, -50.0, 30.0)))
    labels = np.zeros(grid.shape, np.uint8)
    labels[5:15, 20:60, 20:60] = 1  # 10 x 40 x 40 voxels of 2 mm^3 = 32 mL
    labels[8:12, 30:50, 30:50] = 2  # 4 x 20 x 20 x 2 = 3.2 mL
    zones = Zones(labels=labels, grid=grid)
    assert zones.volume_ml() == pytest.approx(32.0)
    assert zones.volume_ml(2) == pytest.approx(3.2)
    assert zones.volume_ml(1) == pytest.approx(28.8)
    assert psa_density(8.0, 32.0) == pytest.approx(0.25)
    assert psa_density(None, 32.0) is None and psa_density(8.0, 0.0) is None


@pytest.mark.parametrize(("text", "value"), [
    ("Raised PSA. PSA 7.4 ng/mL", 7.4), ("psa: 12", 12.0), ("PSA 4,5 ng/ml rising", 4.5),
    ("PSA not known", None), ("", None), ("PSAD 0.2", None),
])
def test_psa_is_parsed_from_request_text(text, value):
    assert parse_psa(text) == value


def test_psa_is_read_from_the_request_attributes_as_well():
    ds = Dataset()
    request = Dataset()
    request.ReasonForTheRequestedProcedure = "Elevated PSA 9.1 ng/mL, biopsy naive"
    ds.RequestAttributesSequence = [request]
    assert psa_from_header(ds) == 9.1


def test_long_axis_of_an_ellipsoid_from_its_voxels():
    spacing = np.array([3.0, 0.5, 0.5])
    grid = Grid.of(_volume((20, 120, 120), tuple(spacing), (-30.0, -30.0, 30.0)))
    index = np.indices(grid.shape).reshape(3, -1).T
    points = grid.index_to_lps(index)
    inside = (points[:, 0] / 9) ** 2 + (points[:, 1] / 5) ** 2 + ((points[:, 2] - 0) / 6) ** 2 < 1
    assert long_axis_mm(points[inside], spacing) == pytest.approx(18.0, abs=1.0)


def test_sector_text_uses_patient_left_posterior_and_base():
    frame = GlandFrame(centre=np.array([0.0, 10.0, 0.0]), half_width=25.0, z_low=-20.0, z_high=20.0)
    assert location_text((15.0, 20.0, 0.0), "pz", frame) == "left mid PZ posterolateral"
    assert location_text((-3.0, 20.0, 16.0), "pz", frame) == "right base PZ posteromedial"
    assert location_text((-8.0, 2.0, -15.0), "tz", frame) == "right apex TZ anterior"


def test_lesions_are_found_measured_and_zoned_from_the_lesion_map():
    t2 = Grid.of(_volume((24, 160, 160), (3.0, 1.0, 1.0), (-80.0, -70.0, 34.5)))
    work = Grid.of(_volume((24, 80, 80), (3.0, 2.0, 2.0), (-79.5, -69.5, 34.5)))
    labels = np.zeros(t2.shape, np.uint8)
    labels[_ball(t2, np.array([0.0, 10.0, 0.0]), 25.0)] = 1
    labels[_ball(t2, np.array([0.0, 0.0, 0.0]), 12.0)] = 2
    zones = Zones(labels=labels, grid=t2)
    lesion_map = np.zeros(work.shape, np.float32)
    lesion_map[_ball(work, np.array([14.0, 22.0, -3.0]), 6.0)] = 0.9  # 12 mm, left posterior PZ
    lesion_map[_ball(work, np.array([-4.0, 0.0, 3.0]), 4.0)] = 0.4  # 8 mm, TZ, less probable
    found = find_lesions(lesion_map, work, zones)
    assert [round(f.probability, 2) for f in found] == [0.9, 0.4]
    first, second = found
    assert np.linalg.norm(np.subtract(first.centre_mm, [14.0, 22.0, -3.0])) < 1.5
    assert first.diameter_mm == pytest.approx(12.0, abs=2.0)
    assert first.zone == "pz" and first.location.startswith("left") and "PZ posterolateral" in first.location
    assert second.zone == "tz"
    assert first.mask.shape == t2.shape and first.volume_ml == pytest.approx(4 / 3 * np.pi * 6 ** 3 / 1000, rel=0.35)
