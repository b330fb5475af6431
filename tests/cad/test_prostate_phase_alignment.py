"""ADC and DWI moved onto the T2 along the diffusion phase direction (registration.phase_alignment)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from inference.cad.prostate import model as model_module
from inference.cad.prostate.evaluate import dice
from inference.cad.prostate.model import ProstateModel, case_from_datasets
from inference.cad.prostate.registration import (
    Grid,
    align_to_t2,
    phase_alignment,
    phase_axis,
    resample,
    working_grid,
    working_inputs,
)
from inference.cad.prostate.series import adc_in_um2_s
from inference.synthetic.prostate_mri import generate_prostate_mri, prostate_masks


@functools.cache
def prepared(seed: int, phantom: str):
    datasets, truth, _ = generate_prostate_mri(seed, phantom=phantom)
    case = case_from_datasets(datasets)
    grid = working_grid(case.t2)
    t2_w = resample(case.t2.hu, Grid.of(case.t2), grid)
    adc_w = resample(adc_in_um2_s(case.adc), Grid.of(case.adc), grid)
    high_w = resample(case.high_b.hu, Grid.of(case.high_b), grid)
    return case, truth, grid, t2_w, adc_w, high_w


@pytest.mark.parametrize("seed", [30_000_002, 30_000_005])  # training seeds: AP shifts of +3.2 and +3.4 mm
def test_the_distorted_gland_on_adc_lines_up_with_the_t2_gland_after_alignment(seed):
    case, truth, grid, t2_w, adc_w, high_w = prepared(seed, "hard")
    axis = phase_axis(case.high_b)
    assert axis == 1  # no InPlanePhaseEncodingDirection: COL (anterior-posterior, rows of the grid)
    step = float(grid.spacing[axis])
    shift, stretch = phase_alignment(t2_w, adc_w, high_w, step, axis)
    # Where the ADC image shows the gland (distorted) and where the T2 shows it, on the working grid.
    shown = resample(prostate_masks(truth, "adc")["gland"].astype(np.float32), Grid.of(case.adc), grid, smooth=False)
    on_t2 = resample(prostate_masks(truth, "t2w")["gland"].astype(np.float32), Grid.of(case.t2), grid, smooth=False)
    moved, _ = align_to_t2(shown, shown, step, shift, stretch, axis)
    before, after = dice(shown > 0.5, on_t2 > 0.5), dice(moved > 0.5, on_t2 > 0.5)
    # The generator's image shows the anatomy at y + shift: the estimate moves the other way.
    assert np.sign(shift) == -np.sign(truth["distortion"]["shift_mm"])
    assert after > before + 0.03
    assert after > 0.93


def test_an_undistorted_study_is_left_where_it_is():
    case, _, grid, t2_w, adc_w, high_w = prepared(30_000_002, "default")
    shift, stretch = phase_alignment(t2_w, adc_w, high_w, float(grid.spacing[1]), 1)
    assert abs(shift) <= 0.5 and abs(stretch) <= 0.02


def test_without_align_phase_the_inputs_are_the_coordinate_registration_only():
    case, _, grid, t2_w, adc_w, high_w = prepared(30_000_002, "hard")
    plain, _ = working_inputs(case.t2, adc_in_um2_s(case.adc), case.adc, case.high_b)
    aligned, _ = working_inputs(case.t2, adc_in_um2_s(case.adc), case.adc, case.high_b, align_phase=True)
    np.testing.assert_allclose(plain[1], adc_w / 3000.0, rtol=1e-6)
    np.testing.assert_array_equal(aligned[0], plain[0])  # T2 untouched
    assert not np.allclose(aligned[1], plain[1])


@pytest.mark.parametrize("align", [False, True])
def test_the_model_aligns_when_its_weights_were_trained_so(align, monkeypatch):
    """Unit test: the weights' metadata (align_phase) decides, so training and inference agree."""
    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs.get("align_phase", False))
        raise RuntimeError("stop after registration")

    monkeypatch.setattr(model_module, "working_inputs", spy)
    model = ProstateModel()
    model._net, model._meta = object(), {"align_phase": align}
    case, *_ = prepared(30_000_002, "hard")
    with pytest.raises(RuntimeError, match="stop after registration"):
        model.predict(case)
    assert seen == [align]
