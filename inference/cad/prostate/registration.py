"""ADC and high-b DWI onto the T2 grid by patient coordinates, and back from the working grid.

The three series share a frame of reference (one examination, no patient motion assumed), so
registration is resampling: each target voxel's LPS position is looked up in the source
volume. The network reads a coarse working grid in the T2's orientation (3 mm slices, 2 mm in
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


def working_inputs(t2: Volume, adc_um2_s: np.ndarray, adc: Volume, high_b: Volume,
                   grid: Grid | None = None) -> tuple[np.ndarray, Grid]:
    """The network's input (3, z, y, x) on the working grid: T2, ADC and high-b, each normalised.

    MR signal has no absolute scale: T2 and high-b are divided by their 99th percentile in the
    field; ADC is physical (µm²/s) and divided by a fixed 3000.
    """
    check_same_frame(t2, adc, high_b)
    grid = grid or working_grid(t2)
    t2_w = resample(t2.hu, Grid.of(t2), grid)
    adc_w = resample(adc_um2_s, Grid.of(adc), grid)
    high_w = resample(high_b.hu, Grid.of(high_b), grid)
    channels = [t2_w / max(float(np.percentile(t2_w, 99)), 1.0), adc_w / 3000.0,
                high_w / max(float(np.percentile(high_w, 99)), 1.0)]
    return np.stack(channels).astype(np.float32), grid
