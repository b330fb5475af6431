"""ADC and high-b DWI onto the T2 grid by patient coordinates, and back from the working grid.

The three series share a frame of reference (one examination, no patient motion assumed), so
registration is resampling: each target voxel's LPS position is looked up in the source
volume. Echo-planar diffusion images are also distorted along their phase-encoding direction
(susceptibility: a shift and a stretch of up to several millimetres), which coordinates cannot
see; with `align_phase` the ADC and DWI are moved along that direction onto the T2 by the
shift and stretch that maximise their mutual information with it (phase_alignment).
The network reads a coarse working grid in the T2's orientation (3 mm slices, 2 mm in
plane, a 144 mm field centred on the T2's field); its maps go back to the full T2 grid for volumes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from archive.volumes import Volume, VolumeError

WORK_SPACING = (3.0, 2.0, 2.0)  # (slice, row, column) mm
WORK_INPLANE = 72  # voxels: 144 mm, the pelvis around a centred prostate
SLICE_MULTIPLE = 4  # the network pools the slice axis twice


@dataclass
class Grid:
    """A regular grid: LPS of index (k, j, i) = origin + matrix @ (k, j, i)."""

    shape: tuple[int, int, int]
    origin: np.ndarray
    matrix: np.ndarray  # columns: steps along k, j, i in mm

    @classmethod
    def of(cls, volume: Volume) -> Grid:
        return cls(shape=tuple(volume.hu.shape), origin=np.asarray(volume.origin, float), matrix=volume._matrix())

    def index_to_lps(self, index_kji) -> np.ndarray:
        return self.origin + np.asarray(index_kji, float) @ self.matrix.T

    def lps_to_index(self, points) -> np.ndarray:
        return (np.asarray(points, float) - self.origin) @ np.linalg.inv(self.matrix).T

    @property
    def voxel_ml(self) -> float:
        return abs(float(np.linalg.det(self.matrix))) / 1000.0

    @property
    def spacing(self) -> np.ndarray:
        return np.linalg.norm(self.matrix, axis=0)


def working_grid(t2: Volume) -> Grid:
    """The network's grid: the T2's axes, WORK_SPACING, centred on the T2 field, whole T2 slab."""
    t2_grid = Grid.of(t2)
    units = t2_grid.matrix / t2_grid.spacing  # unit vectors along k, j, i
    centre = t2_grid.index_to_lps((np.array(t2_grid.shape) - 1) / 2)
    extent = (t2_grid.shape[0] - 1) * t2_grid.spacing[0]
    slices = int(np.ceil(extent / WORK_SPACING[0] - 1e-6)) + 1
    slices = int(np.ceil(slices / SLICE_MULTIPLE) * SLICE_MULTIPLE)
    shape = (slices, WORK_INPLANE, WORK_INPLANE)
    matrix = units * np.array(WORK_SPACING)
    origin = centre - matrix @ ((np.array(shape) - 1) / 2)
    return Grid(shape=shape, origin=origin, matrix=matrix)


def resample(values: np.ndarray, source: Grid, target: Grid, *, order: int = 1, smooth: bool = True) -> np.ndarray:
    """`values` (on `source`) sampled at every voxel of `target` by patient position; 0 outside.

    When the target is coarser, the source is first smoothed (Gaussian, half the step ratio),
    so the sample is an average of the source voxels it covers rather than one noisy voxel.
    """
    values = np.asarray(values, np.float32)
    if smooth:
        ratio = target.spacing / source.spacing  # same axis order only when orientations agree
        sigma = np.where(ratio > 1.2, 0.5 * ratio, 0.0)
        if np.any(sigma > 0) and _same_axes(source, target):
            values = ndimage.gaussian_filter(values, sigma=sigma, mode="nearest", truncate=2.0)
    if _same_axes(source, target):
        # Axis-aligned: each target axis maps onto one source axis, an affine with a diagonal matrix.
        scale = target.spacing / source.spacing
        offset = source.lps_to_index(target.origin)
        return ndimage.affine_transform(values, scale, offset=offset, output_shape=target.shape, order=order,
                                        mode="constant", cval=0.0, prefilter=False)
    k, j, i = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in target.shape), indexing="ij")
    points = target.index_to_lps(np.stack([k, j, i], -1).reshape(-1, 3))
    coords = source.lps_to_index(points).T
    out = ndimage.map_coordinates(values, coords, order=order, mode="constant", cval=0.0, prefilter=False)
    return out.reshape(target.shape).astype(np.float32)


def _same_axes(a: Grid, b: Grid) -> bool:
    ua, ub = a.matrix / a.spacing, b.matrix / b.spacing
    return bool(np.allclose(ua, ub, atol=1e-3))


def check_same_frame(*volumes: Volume) -> None:
    """Refuse series from different frames of reference: their coordinates would not align."""
    frames = {v.frame_of_reference_uid for v in volumes if v.frame_of_reference_uid}
    if len(frames) > 1:
        raise VolumeError("T2w, ADC and DWI are in different frames of reference; they cannot be registered")


# Phase-direction alignment search (mm and relative stretch). The generator's hard phantom shifts
# by 1.5-5 mm and stretches by up to 8 %; scanners' EPI shifts at 3 T are of the same order.
ALIGN_SHIFTS_MM = np.arange(-8.0, 8.001, 0.5)
ALIGN_STRETCHES = np.arange(-0.12, 0.1201, 0.02)
ALIGN_BINS = 32


def phase_axis(dwi: Volume) -> int:
    """The working-grid axis (1 = rows j, 2 = columns i) the diffusion phase encoding runs along.

    DICOM InPlanePhaseEncodingDirection "COL" (the usual anterior-posterior for axial prostate
    DWI) moves pixels along a column, i.e. along j; "ROW" along i. Absent: COL is assumed.
    """
    header = getattr(dwi, "header", None)
    direction = str(header.get("InPlanePhaseEncodingDirection", "") if header is not None else "").upper()
    return 2 if direction == "ROW" else 1


def _quantise(values: np.ndarray, bins: int) -> np.ndarray:
    top = max(float(np.percentile(values, 99.5)), 1e-6)
    return np.clip((values / top * (bins - 1)).astype(np.int32), 0, bins - 1)


def _along(values: np.ndarray, axis: int, position: np.ndarray) -> np.ndarray:
    """`values` sampled at fractional index `position` (1-D) along `axis`, linearly; 0 outside."""
    n = values.shape[axis]
    lo = np.floor(position).astype(int)
    w = (position - lo).astype(np.float32)
    moved = np.moveaxis(values, axis, -1)
    lo_c, hi_c = np.clip(lo, 0, n - 1), np.clip(lo + 1, 0, n - 1)
    out = moved[..., lo_c] * (1 - w) + moved[..., hi_c] * w
    out[..., (position < 0) | (position > n - 1)] = 0.0
    return np.moveaxis(out, -1, axis)


def _sample_positions(n: int, step_mm: float, shift_mm: float, stretch: float) -> np.ndarray:
    """Index along the phase axis each working voxel takes its diffusion signal from: the EPI
    image shows the anatomy at y at y' = y + shift + stretch * (y - centre) (centre of the field)."""
    offset = (np.arange(n) - (n - 1) / 2) * step_mm
    return (n - 1) / 2 + (offset + shift_mm + stretch * offset) / step_mm


def phase_alignment(t2_w: np.ndarray, adc_w: np.ndarray, high_w: np.ndarray, step_mm: float,
                    axis: int = 1) -> tuple[float, float]:
    """(shift mm, stretch) along `axis` that best lines ADC and high-b up with T2 on the working grid.

    Exhaustive search over ALIGN_SHIFTS_MM x ALIGN_STRETCHES of the summed mutual information
    (32-bin joint histograms) of T2 with each diffusion map: the contrasts differ (fat is bright
    on T2 and suppressed on DWI, a lesion is dark on T2 and bright on high-b), so a statistical
    dependence is measured rather than a correlation. Voxels where T2 is empty are left out.
    A global affine along one axis only: local distortion (a pull near rectal gas) stays.
    """
    body = t2_w > 0.02 * max(float(np.percentile(t2_w, 99)), 1e-6)
    t2_q = _quantise(t2_w, ALIGN_BINS)
    t2_flat = np.moveaxis(np.where(body, t2_q, -1), axis, -1)
    maps = [np.moveaxis(m, axis, -1) for m in (adc_w, high_w)]
    tops = [max(float(np.percentile(m, 99.5)), 1e-6) for m in maps]
    n = t2_w.shape[axis]
    inside = t2_flat >= 0

    def information(shift: float, stretch: float) -> float:
        position = _sample_positions(n, step_mm, shift, stretch)
        total = 0.0
        for m, top in zip(maps, tops, strict=True):
            moved = _along(m, m.ndim - 1, position)
            moved_q = np.clip((moved / top * (ALIGN_BINS - 1)).astype(np.int32), 0, ALIGN_BINS - 1)
            joint = np.bincount(t2_flat[inside] * ALIGN_BINS + moved_q[inside],
                                minlength=ALIGN_BINS * ALIGN_BINS).reshape(ALIGN_BINS, ALIGN_BINS).astype(float)
            joint /= joint.sum()
            pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
            nz = joint > 0
            total += float(np.sum(joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])))
        return total

    # Coarse to fine: every other shift and stretch first, then the neighbours of the best one.
    scores = {(float(s), round(float(a), 4)): information(s, a)
              for s in ALIGN_SHIFTS_MM[::2] for a in ALIGN_STRETCHES[::2]}
    best_s, best_a = max(scores, key=scores.get)
    ds, da = ALIGN_SHIFTS_MM[1] - ALIGN_SHIFTS_MM[0], ALIGN_STRETCHES[1] - ALIGN_STRETCHES[0]
    for s in ALIGN_SHIFTS_MM[np.abs(ALIGN_SHIFTS_MM - best_s) <= 2 * ds + 1e-9]:
        for a in ALIGN_STRETCHES[np.abs(ALIGN_STRETCHES - best_a) <= 2 * da + 1e-9]:
            key = (float(s), round(float(a), 4))
            if key not in scores:
                scores[key] = information(*key)
    shift, stretch = max(scores, key=scores.get)
    return shift, round(stretch, 4)


def align_to_t2(adc_w: np.ndarray, high_w: np.ndarray, step_mm: float, shift_mm: float, stretch: float,
                axis: int = 1) -> tuple[np.ndarray, np.ndarray]:
    position = _sample_positions(adc_w.shape[axis], step_mm, shift_mm, stretch)
    return _along(adc_w, axis, position), _along(high_w, axis, position)


def working_inputs(t2: Volume, adc_um2_s: np.ndarray, adc: Volume, high_b: Volume,
                   grid: Grid | None = None, *, align_phase: bool = False) -> tuple[np.ndarray, Grid]:
    """The network's input (3, z, y, x) on the working grid: T2, ADC and high-b, each normalised.

    MR signal has no absolute scale: T2 and high-b are divided by their 99th percentile in the
    field; ADC is physical (µm²/s) and divided by a fixed 3000. With `align_phase`, ADC and
    high-b are first moved along the diffusion phase direction onto the T2 (phase_alignment).
    """
    check_same_frame(t2, adc, high_b)
    grid = grid or working_grid(t2)
    t2_w = resample(t2.hu, Grid.of(t2), grid)
    adc_w = resample(adc_um2_s, Grid.of(adc), grid)
    high_w = resample(high_b.hu, Grid.of(high_b), grid)
    if align_phase:
        axis = phase_axis(high_b)
        step = float(grid.spacing[axis])
        shift, stretch = phase_alignment(t2_w, adc_w, high_w, step, axis)
        adc_w, high_w = align_to_t2(adc_w, high_w, step, shift, stretch, axis)
    channels = [t2_w / max(float(np.percentile(t2_w, 99)), 1.0), adc_w / 3000.0,
                high_w / max(float(np.percentile(high_w, 99)), 1.0)]
    return np.stack(channels).astype(np.float32), grid
