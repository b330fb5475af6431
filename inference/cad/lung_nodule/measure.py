"""Measure a nodule from the image: local segmentation, long-axis diameter, type.

The segmentation is a region grown from the candidate at an adaptive threshold halfway
between the surrounding lung and the nodule's own attenuation (the half-maximum edge, which
is where a partial-volume boundary lies). Two guards keep it on the nodule: a closing of the
surrounding lung air cuts it from the chest wall, and a ball around the nodule's deepest point
cuts off vessels. Sizes come from second moments, per axial slice (long and short axis on
the same slice, as Lung-RADS v2022 and Fleischner 2017 measure).
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
# Dense calcification: soft-tissue nodules stay below about 100 HU (partial volume only lowers them);
# calcified granulomas are 300 HU and more. Siegelman et al. (Radiology 1986) used 164 HU; 200 HU here
# keeps a margin for noise (a 10 mm solid nodule at noise SD 60 HU peaks near 80 HU). Measured on
# phantoms in tests/cad/test_nodule_measurement.py; a 3 mm granuloma of 300 HU stays below it.
CALCIFIED_HU = 200.0


@dataclass
class Measurement:
    centre_mm: np.ndarray
    long_axis_mm: float  # on the axial slice where the nodule is longest
    short_axis_mm: float  # perpendicular to it, on the same slice
    mean_diameter_mm: float  # Lung-RADS v2022: (long + short) / 2 on that slice, to 0.1 mm
    solid_mm: float  # the solid component's mean diameter, measured the same way (part-solid)
    kind: str  # solid | part_solid | ground_glass
    mean_hu: float
    voxels: int
    peak_hu: float = 0.0  # the 90th percentile of the lightly smoothed HU inside the nodule

    @property
    def calcified(self) -> bool:
        """Densely calcified (Lung-RADS v2022: benign calcification, category 1)."""
        return self.peak_hu >= CALCIFIED_HU


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


def _axial_axes_mm(region: np.ndarray, spacing: np.ndarray) -> tuple[float, float]:
    """(long, short) axis on the slice where the region's long axis is greatest (Lung-RADS v2022,
    Fleischner 2017: long and short axis measured on the same slice).

    Per slice, the ellipse with the same second moments (a filled ellipse of full axis L has
    variance L²/16 along it; each pixel adds its own width²/12), never shorter than the circle
    of the same area.
    """
    pixel = spacing[1:]
    best = (0.0, 0.0)
    for k in np.flatnonzero(region.any(axis=(1, 2))):
        points = np.argwhere(region[k]) * pixel
        area_diameter = 2 * np.sqrt(len(points) * float(np.prod(pixel)) / np.pi)
        if len(points) >= 3:
            cov = np.cov(points.T, bias=True) + np.diag(pixel ** 2 / 12)
            eig = np.sort(np.clip(np.linalg.eigvalsh(cov), 0, None))[::-1]
            long, short = max(4 * np.sqrt(eig[0]), area_diameter), 4 * np.sqrt(eig[1])
        else:
            long = short = area_diameter
        if long > best[0]:
            best = (float(long), float(min(short, long)))
    return best


MAX_HINT_MM = 16.0  # nodules up to about 30 mm (Lung-RADS v2022 counts larger ones as masses)


def measure_nodule_grown(volume: Volume, centre_mm: np.ndarray, radius_hint_mm: float) -> Measurement | None:
    """measure_nodule with the size hint grown until the nodule fits inside it.

    The lung envelope (an air closing with a ball of the hint's size) and the vessel-cutting ball
    both assume the nodule is no larger than the hint: a 20 mm nodule met with a 3 mm hint (a
    small blob candidate on its edge) came out as its rim, a few millimetres across. So while the
    measured nodule fills the hint, measure again with a larger one; and where nothing was found,
    try a larger hint once before giving up.
    """
    hint = float(np.clip(radius_hint_mm, 1.5, MAX_HINT_MM))
    best: Measurement | None = None
    for _ in range(5):
        m = measure_nodule(volume, centre_mm, hint)
        if m is None:
            if best is not None or hint >= MAX_HINT_MM:
                break
            hint = min(2.0 * hint, MAX_HINT_MM)
            continue
        best = m
        if m.long_axis_mm / 2 <= 0.8 * hint or hint >= MAX_HINT_MM:
            break
        hint = min(max(1.5 * hint, 0.75 * m.long_axis_mm), MAX_HINT_MM)
    return best


def measure_nodule(volume: Volume, centre_mm: np.ndarray, radius_hint_mm: float) -> Measurement | None:
    """Segment the nodule near `centre_mm` and measure it; None when nothing nodular is there."""
    spacing = np.array(volume.spacing)
    hint = float(np.clip(radius_hint_mm, 1.5, MAX_HINT_MM))
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
    voxel_mm3 = float(np.prod(spacing))
    equivalent = 2 * (3 * count * voxel_mm3 / (4 * np.pi)) ** (1 / 3)
    long_axis, short_axis = _axial_axes_mm(region, spacing)
    solid_region = region & (smooth > SOLID_HU)
    solid_count = int(solid_region.sum())
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
    solid_axes = _axial_axes_mm(solid_region, spacing) if kind == "part_solid" else (solid_mm, solid_mm)
    return Measurement(
        centre_mm=points_mm.mean(axis=0), long_axis_mm=long_axis, short_axis_mm=short_axis,
        mean_diameter_mm=round((long_axis + short_axis) / 2, 1),
        solid_mm=round(sum(solid_axes) / 2, 1) if kind != "ground_glass" else 0.0,
        kind=kind, mean_hu=float(hu[region].mean()), voxels=count,
        peak_hu=float(np.percentile(smooth[region], 90)),
    )
