"""Nodule candidates: lung mask by thresholding, then a multi-scale blob filter inside it.

The detector is meant to over-detect (vessels, bifurcations): the network that follows
rejects most candidates. Work happens on a 1 mm isotropic copy of the lung's bounding box,
so the filter scales are in millimetres whatever the scanner's pixel spacing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from archive.volumes import Volume

DETECT_SPACING_MM = 1.0
LUNG_AIR_HU = -400
# Blob scales (Gaussian sigma, mm). A ball of radius r answers best near sigma = r / sqrt(3):
# these cover nodule diameters from about 3 to 30 mm.
FINE_SIGMAS_MM = (0.9, 1.25, 1.75, 2.45)
COARSE_SIGMAS_MM = (2.45, 3.4, 4.8, 6.7, 9.4)
# Intensities are clipped to [-1000, -400] HU before filtering: solid nodules and vessels then
# have the same contrast as ground-glass nodules (-620 to -450 HU), which would otherwise be
# outranked by every vessel.
CLIP_HU = (-1000.0, -400.0)
MIN_RESPONSE_HU = 40.0
MAX_CANDIDATES = 600
MIN_BLOBNESS = 0.12


@dataclass
class Candidate:
    centre_mm: np.ndarray  # patient LPS
    radius_mm: float  # from the blob scale
    response: float  # scale-normalised blob response, in HU
    blobness: float  # weakest / strongest Hessian curvature: 1 for a ball, 0 for a tube


@dataclass
class Resampled:
    """The lung box at 1 mm: hu[k, j, i] with index (k, j, i) of the source volume at offset + index * scale."""

    hu: np.ndarray  # float32
    lung: np.ndarray  # bool
    offset: np.ndarray  # source index of voxel (0, 0, 0)
    scale: np.ndarray  # source voxels per resampled voxel, per axis
    volume: Volume

    def to_lps(self, index_kji) -> np.ndarray:
        return self.volume.index_to_lps(self.offset + np.asarray(index_kji, dtype=float) * self.scale)

    def from_lps(self, points_mm) -> np.ndarray:
        return (self.volume.lps_to_index(points_mm) - self.offset) / self.scale


def lung_mask(hu: np.ndarray, voxel_mm3: float) -> np.ndarray:
    """Lungs on a coarse grid: air not connected to the outside, large enough, holes filled slice by slice.

    Filling holes brings nodules and vessels inside the lung into the mask; a small dilation
    keeps nodules that sit against the chest wall.
    """
    air = hu < LUNG_AIR_HU
    labels, count = ndimage.label(air)
    if count == 0:
        return air
    edge = np.unique(np.concatenate([labels[:, 0, :].ravel(), labels[:, -1, :].ravel(),
                                     labels[:, :, 0].ravel(), labels[:, :, -1].ravel()]))
    sizes = ndimage.sum_labels(air, labels, index=np.arange(count + 1)) * voxel_mm3
    keep = (sizes > 50_000)  # 50 mL: a lung, not a bowel gas bubble
    keep[edge] = False
    keep[0] = False
    mask = keep[labels]
    for k in range(mask.shape[0]):
        mask[k] = ndimage.binary_fill_holes(mask[k])
    return ndimage.binary_dilation(mask, iterations=1)


def resample_lungs(volume: Volume) -> Resampled | None:
    """Crop the volume to its lungs and resample that box to 1 mm voxels; None without lungs."""
    dz, dy, dx = volume.spacing
    step = np.maximum(1, np.round(np.array([2.5 / dz, 2.5 / dy, 2.5 / dx]))).astype(int)
    coarse = volume.hu[::step[0], ::step[1], ::step[2]]
    mask = lung_mask(coarse, float(np.prod(step * np.array(volume.spacing))))
    if not mask.any():
        return None
    where = np.argwhere(mask)
    margin = np.ceil(6.0 / (step * np.array(volume.spacing))).astype(int)
    lo = np.maximum((where.min(axis=0) - margin) * step, 0)
    hi = np.minimum((where.max(axis=0) + margin + 1) * step, volume.hu.shape)
    box = volume.hu[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    zoom = np.array(volume.spacing) / DETECT_SPACING_MM
    out_shape = np.maximum(1, np.round(np.array(box.shape) * zoom)).astype(int)
    scale = (np.array(box.shape) - 1) / np.maximum(out_shape - 1, 1)
    hu = _resample_linear(box, out_shape, scale)
    # The coarse mask, looked up at each resampled voxel's source position.
    grid = [np.minimum(((lo[a] + np.arange(out_shape[a]) * scale[a]) / step[a]).round().astype(int),
                       mask.shape[a] - 1) for a in range(3)]
    lung = mask[np.ix_(*grid)]
    return Resampled(hu=hu, lung=lung, offset=lo.astype(float), scale=scale, volume=volume)


def _resample_linear(box: np.ndarray, out_shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Separable linear interpolation, one axis at a time (cheaper than a 3-D map_coordinates)."""
    data = box.astype(np.float32)
    for axis in range(3):
        n = data.shape[axis]
        pos = np.arange(out_shape[axis]) * scale[axis]
        i0 = np.clip(np.floor(pos).astype(int), 0, n - 1)
        i1 = np.minimum(i0 + 1, n - 1)
        w = (pos - i0).astype(np.float32)
        shape = [1, 1, 1]
        shape[axis] = -1
        w = w.reshape(shape)
        data = np.take(data, i0, axis=axis) * (1 - w) + np.take(data, i1, axis=axis) * w
    return np.ascontiguousarray(data, dtype=np.float32)


def _hessian_eigenvalues(blurred: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending) of the Hessian of a blurred image at integer points, by central differences."""
    shape = np.array(blurred.shape)
    idx = np.clip(idx, 1, shape - 2)

    def at(dz: int, dy: int, dx: int) -> np.ndarray:
        return blurred[idx[:, 0] + dz, idx[:, 1] + dy, idx[:, 2] + dx]

    centre = at(0, 0, 0)
    h = np.empty((len(idx), 3, 3), dtype=np.float64)
    unit = np.eye(3, dtype=int)
    for a in range(3):
        h[:, a, a] = at(*unit[a]) - 2 * centre + at(*-unit[a])
        for b in range(a + 1, 3):
            e = unit[a] + unit[b]
            f = unit[a] - unit[b]
            h[:, a, b] = h[:, b, a] = (at(*e) + at(*-e) - at(*f) - at(*-f)) / 4
    return np.linalg.eigvalsh(h)


def _blob_peaks(image: np.ndarray, lung: np.ndarray, sigmas_vox: tuple[float, ...], voxel_mm: float
                ) -> list[tuple[np.ndarray, float, float, float]]:
    """Local maxima of the difference-of-Gaussians scale space inside the lung mask.

    DoG between sigma and k*sigma approximates the scale-normalised Laplacian of Gaussian
    times (k - 1), so dividing by (k - 1) makes responses comparable across scales.
    Returns (index, sigma in mm, response, blobness) where blobness is the ratio of the
    weakest to the strongest Hessian curvature: near 1 for a ball, near 0 for a vessel.
    """
    best = np.full(image.shape, -np.inf, dtype=np.float32)
    best_scale = np.zeros(image.shape, dtype=np.int8)
    previous = ndimage.gaussian_filter(image, sigmas_vox[0], mode="nearest", truncate=3.0)
    blurred_at: list[np.ndarray] = []
    for a in range(len(sigmas_vox) - 1):
        current = ndimage.gaussian_filter(image, sigmas_vox[a + 1], mode="nearest", truncate=3.0)
        k = sigmas_vox[a + 1] / sigmas_vox[a]
        dog = (previous - current) / np.float32(k - 1)
        better = dog > best
        best[better] = dog[better]
        best_scale[better] = a
        blurred_at.append(previous)
        previous = current
    peaks = (best > MIN_RESPONSE_HU) & lung
    peaks &= best == ndimage.maximum_filter(best, size=3)
    idx = np.argwhere(peaks)
    if len(idx) == 0:
        return []
    scales = best_scale[tuple(idx.T)]
    blobness = np.zeros(len(idx))
    for a in np.unique(scales):
        chosen = scales == a
        eig = _hessian_eigenvalues(blurred_at[a], idx[chosen])
        # A bright blob curves down in every direction: all eigenvalues negative.
        blobness[chosen] = np.clip(-eig[:, 2], 0, None) / np.maximum(-eig[:, 0], 1e-6)
    sigma_mm = np.sqrt(np.array(sigmas_vox[:-1]) * np.array(sigmas_vox[1:]))[scales] * voxel_mm
    response = best[tuple(idx.T)]
    return [(idx[n].astype(float), float(sigma_mm[n]), float(response[n]), float(blobness[n]))
            for n in range(len(idx))]


def detect_candidates(res: Resampled, *, max_candidates: int = MAX_CANDIDATES) -> list[Candidate]:
    """Blob candidates in the lungs, strongest first, one per blob."""
    image = np.clip(res.hu, *CLIP_HU)
    found = _blob_peaks(image, res.lung, tuple(s / DETECT_SPACING_MM for s in FINE_SIGMAS_MM), DETECT_SPACING_MM)
    # Large scales on a 2 mm copy: eight times fewer voxels for the widest filters.
    half = ndimage.zoom(ndimage.gaussian_filter(image, 0.8), 0.5, order=1)
    half_lung = res.lung[::2, ::2, ::2][: half.shape[0], : half.shape[1], : half.shape[2]]
    half_lung = np.pad(half_lung, [(0, half.shape[a] - half_lung.shape[a]) for a in range(3)])
    zoom_back = (np.array(image.shape) - 1) / np.maximum(np.array(half.shape) - 1, 1)
    for index, sigma_mm, response, blobness in _blob_peaks(half, half_lung,
                                                           tuple(s / 2.0 for s in COARSE_SIGMAS_MM), 2.0):
        found.append((index * zoom_back, sigma_mm, response, blobness))
    # Vessels answer the blob filter as strongly as nodules; ranking by response times
    # blobness puts round things first, so the cap rarely drops a nodule.
    found = [f for f in found if f[3] >= MIN_BLOBNESS]
    found.sort(key=lambda f: -f[2] * min(f[3], 1.0))
    found = found[: 3 * max_candidates]
    kept: list[Candidate] = []
    centres = np.zeros((0, 3))
    radii = np.zeros(0)
    for index, sigma_mm, response, blobness in found:
        radius = sigma_mm * np.sqrt(3.0)
        centre = res.to_lps(index)
        if len(kept):
            dist = np.linalg.norm(centres - centre, axis=1)
            if np.any(dist < np.minimum(radii, radius)):
                continue  # a stronger blob already sits on this one
        kept.append(Candidate(centre_mm=centre, radius_mm=float(radius), response=response, blobness=blobness))
        centres = np.vstack([centres, centre])
        radii = np.append(radii, radius)
        if len(kept) >= max_candidates:
            break
    return kept
