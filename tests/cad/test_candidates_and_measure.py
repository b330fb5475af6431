"""The detector finds a painted nodule; the measurement recovers its size and type."""

import numpy as np
import pytest

from inference.cad.lung_nodule.candidates import detect_candidates, resample_lungs
from inference.cad.lung_nodule.measure import measure_nodule
from tests.cad.helpers import paint_ball, painted_volume


def test_candidate_detection_finds_a_painted_nodule_among_its_top_candidates():
    volume = painted_volume(seed=1)
    centre = volume.index_to_lps([30, 60, 80])
    paint_ball(volume, centre, 6.0, 40.0)

    res = resample_lungs(volume)
    candidates = detect_candidates(res)

    assert res is not None and res.lung.any()
    distances = [np.linalg.norm(c.centre_mm - centre) for c in candidates[:5]]
    assert min(distances) < 1.5, distances
    best = candidates[int(np.argmin(distances))]
    assert 1.5 < best.radius_mm < 6.0 and best.blobness > 0.5


@pytest.mark.parametrize("diameter", [4.0, 8.0, 14.0])
def test_diameter_of_a_painted_solid_ball(diameter):
    volume = painted_volume(seed=3)
    centre = volume.index_to_lps([34, 70, 70]) + np.array([0.3, -0.2, 0.4])
    paint_ball(volume, centre, diameter, 40.0)

    m = measure_nodule(volume, centre + np.array([0.8, 0.5, 0.0]), radius_hint_mm=diameter / 2 * 0.8)

    assert m is not None
    assert m.long_axis_mm == pytest.approx(diameter, abs=0.6)
    assert m.kind == "solid"
    assert np.linalg.norm(m.centre_mm - centre) < 0.5


def test_ground_glass_and_part_solid_are_told_apart_by_attenuation():
    volume = painted_volume(seed=4)
    ggn = volume.index_to_lps([20, 70, 45])
    part = volume.index_to_lps([45, 70, 95])
    paint_ball(volume, ggn, 10.0, -550.0)
    paint_ball(volume, part, 12.0, -550.0)
    paint_ball(volume, part, 6.0, -550.0 + 580.0)  # a solid core at about +30 HU

    ground_glass = measure_nodule(volume, ggn, 4.0)
    part_solid = measure_nodule(volume, part, 5.0)

    assert ground_glass.kind == "ground_glass"
    assert ground_glass.long_axis_mm == pytest.approx(10.0, abs=0.8)
    assert part_solid.kind == "part_solid"
    assert part_solid.long_axis_mm == pytest.approx(12.0, abs=0.8)
    assert part_solid.solid_mm == pytest.approx(6.0, abs=1.2)
