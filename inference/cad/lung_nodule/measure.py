"""Measure a nodule from the image: local segmentation, long-axis diameter, type.

The segmentation is a region grown from the candidate at an adaptive threshold halfway
between the surrounding lung and the nodule's own attenuation (the half-maximum edge, which
is where a partial-volume boundary lies). Two guards keep it on the nodule: a closing of the
surrounding lung air cuts it from the chest wall, and a ball around the nodule's deepest point
cuts off vessels. Sizes come from second moments: a solid ellipsoid with semi-axis a has
variance a^2 / 5 along that axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from archive.volumes import Volume

LUNG_FALLBACK_HU = -860.0
# Between ground glass (about -750 to -300 HU) and solid tissue: the solid part of a nodule.
SOLID_HU = -250.0
SOLID_SHARE = 0.8  # solid core diameter / nodule diameter at or above which a nodule is solid
GROUND_GLASS_SHARE = 0.2  # below this, a nodule is ground-glass
MIN_RIM_MM = 0.75


@dataclass
class Measurement:
    centre_mm: np.ndarray
    long_axis_mm: float
    short_axis_mm: float
    mean_diameter_mm: float  # Lung-RADS: mean of long and short axis
    solid_mm: float  # equivalent diameter of the solid component
    kind: str  # solid | part_solid | ground_glass
    mean_hu: float
    voxels: int


def _patch(volume: Volume, centre_mm: np.ndarray, half_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """HU box around a point (float32) and the source index of its first voxel."""
    centre = volume.lps_to_index(centre_mm)
    half = np.ceil(half_mm / np.array(volume.spacing)).astype(int)
    lo = np.maximum(np.round(centre).astype(int) - half, 0)
    hi = np.minimum(np.round(centre).astype(int) + half + 1, volume.hu.shape)
    return volume.hu[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].astype(np.float32), lo


def _component_at(mask: np.ndarray, seed: np.ndarray) -> np.ndarray:
    labels, _ = ndimage.label(mask)
    value = labels[tuple(seed)]
    return labels == value if value else np.zeros_like(mask)


def _nearest_true(mask: np.ndarray, seed: np.ndarray, spacing: np.ndarray, within_mm: float) -> np.ndarray | None:
    """The mask voxel nearest the seed, if one lies within `within_mm`."""
    points = np.argwhere(mask)
    if len(points) == 0:
        return None
    dist = np.linalg.norm((points - seed) * spacing, axis=1)
    best = int(dist.argmin())
    return points[best] if dist[best] <= within_mm else None


def _axes_mm(points_mm: np.ndarray) -> np.ndarray:
    """Full axis lengths (descending) of the ellipsoid with the same second moments."""
    if len(points_mm) < 4:
        return np.zeros(3)
    cov = np.cov(points_mm.T)
    eig = np.sort(np.clip(np.linalg.eigvalsh(cov), 0, None))[::-1]
    return 2 * np.sqrt(5 * eig)


def measure_nodule(volume: Volume, centre_mm: np.ndarray, radius_hint_mm: float) -> Measurement | None:
    """Segment the nodule near `centre_mm` and measure it; None when nothing nodular is there."""
    spacing = np.array(volume.spacing)
    hint = float(np.clip(radius_hint_mm, 1.5, 16.0))
    half = 2.2 * hint + 6.0
    hu, lo = _patch(volume, centre_mm, half)
    if min(hu.shape) < 3:
        return None
    sigma = 0.45 / spacing  # about half a millimetre: tames noise, keeps small nodules
    smooth = ndimage.gaussian_filter(hu, sigma)
    seed = np.clip(np.round(volume.lps_to_index(centre_mm)).astype(int) - lo, 0, np.array(hu.shape) - 1)

    lung_voxels = smooth[smooth < -650]
    background = float(np.median(lung_voxels)) if lung_voxels.size > 50 else LUNG_FALLBACK_HU

    # Lung envelope: air closed with a ball larger than the nodule, so the nodule is inside and the
    # chest wall and mediastinum are not. Distance transforms make the big ball cheap.
    air = smooth < background + 150
    radius = hint + 2.0
    dilated = ndimage.distance_transform_edt(~air, sampling=spacing) <= radius
    envelope = ndimage.distance_transform_edt(dilated, sampling=spacing) > radius
    envelope |= air

    # First pass at a low threshold finds everything nodular (ground glass included).
    low = background + 0.35 * (-600.0 - background) + 60.0
    start = _nearest_true((smooth > low) & envelope, seed, spacing, max(2.0, 0.6 * hint))
    if start is None:
        return None
    region = _component_at((smooth > low) & envelope, start)
    level = float(np.percentile(smooth[region], 60))
    threshold = (background + level) / 2
    inside = (smooth > threshold) & envelope
    start = _nearest_true(inside, seed, spacing, max(2.0, 0.6 * hint))
    if start is None:
        return None
    region = _component_at(inside, start)

    # Vessels leave a nodule thinner than it is: keep a ball around its deepest point, sized from
    # that depth (an ellipsoid's short semi-axis is at least 3/4 of the long one here).
    # The deepest point is looked for near the candidate only, or a thick vessel could win.
    depth = ndimage.distance_transform_edt(region, sampling=spacing)
    grid = np.indices(hu.shape).reshape(3, -1).T
    near = np.linalg.norm((grid - start) * spacing, axis=1).reshape(hu.shape) <= max(hint, 2.0)
    core = np.unravel_index(int(np.argmax(np.where(near, depth, 0))), depth.shape)
    inscribed = float(depth[core])
    dist = np.linalg.norm((grid - np.array(core)) * spacing, axis=1).reshape(hu.shape)
    region &= dist <= 1.45 * inscribed + 0.75 * float(spacing.max())
    region = _component_at(region, np.array(core))
    count = int(region.sum())
    if count < 3:
        return None

    points = np.argwhere(region) + lo
    points_mm = volume.index_to_lps(points)
    axes = _axes_mm(points_mm)
    voxel_mm3 = float(np.prod(spacing))
    equivalent = 2 * (3 * count * voxel_mm3 / (4 * np.pi)) ** (1 / 3)
    long_axis = float(max(axes[0], equivalent))
    short_axis = float(min(axes[1], long_axis)) if axes[1] > 0 else equivalent
    solid_count = int((region & (smooth > SOLID_HU)).sum())
    solid_mm = 2 * (3 * solid_count * voxel_mm3 / (4 * np.pi)) ** (1 / 3)
    share = solid_mm / equivalent
    # A small solid nodule's blurred edge looks like a thin rim of ground glass; a part-solid
    # nodule's ground-glass rim is a real layer, at least a millimetre or so thick.
    rim_mm = (equivalent - solid_mm) / 2
    if share < GROUND_GLASS_SHARE:
        kind = "ground_glass"
    elif share >= SOLID_SHARE or rim_mm < MIN_RIM_MM:
        kind = "solid"
    else:
        kind = "part_solid"
    return Measurement(
        centre_mm=points_mm.mean(axis=0), long_axis_mm=long_axis, short_axis_mm=short_axis,
        mean_diameter_mm=(long_axis + short_axis) / 2, solid_mm=float(solid_mm) if kind != "ground_glass" else 0.0,
        kind=kind, mean_hu=float(hu[region].mean()), voxels=count,
    )
