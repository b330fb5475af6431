"""A series from Orthanc as a numpy volume in Hounsfield units with its real geometry.

Debian's Orthanc 1.10.1 has no /numpy route, so each instance is fetched as a DICOM file and
decoded with pydicom, whatever its transfer syntax (archive.decoding); multi-frame instances
(Enhanced CT/MR) are split into their frames first. Slices are ordered by their position along
the slice normal (never by InstanceNumber, which scanners number either way), and the slice spacing comes from the
positions, not from SliceThickness, which can differ from the spacing.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pydicom
from django.conf import settings
from pydicom.dataset import Dataset

from archive.decoding import split_frames
from archive.orthanc import get_binary, get_json

logger = logging.getLogger(__name__)


class VolumeError(ValueError):
    """The series cannot be assembled into one regular volume (mixed sizes, no geometry, ...)."""


@dataclass
class Volume:
    """A stack of parallel slices: hu[k, j, i] = (slice, row, column), in HU as int16.

    Patient position (LPS, mm) of index (k, j, i) = origin + k * slice_step + j * dy * col_dir + i * dx * row_dir.
    """

    hu: np.ndarray
    spacing: tuple[float, float, float]  # (dz, dy, dx) in mm
    origin: np.ndarray  # ImagePositionPatient of slice 0
    row_dir: np.ndarray
    col_dir: np.ndarray
    slice_step: np.ndarray  # vector from slice k to slice k+1, in mm
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    frame_of_reference_uid: str = ""
    sop_instance_uids: list[str] = field(default_factory=list)  # one per slice, in volume order
    sop_class_uid: str = ""
    header: Dataset | None = None  # one source slice without pixels: patient and study attributes for results
    prefetched_slices: int = 0  # how many slices came decoded from the prefetch cache (archive.prefetch)

    def _matrix(self) -> np.ndarray:
        dz, dy, dx = self.spacing
        return np.stack([self.slice_step, self.col_dir * dy, self.row_dir * dx], axis=1)

    def index_to_lps(self, index_kji) -> np.ndarray:
        idx = np.asarray(index_kji, dtype=float)
        return self.origin + idx @ self._matrix().T

    def lps_to_index(self, points_mm) -> np.ndarray:
        pts = np.asarray(points_mm, dtype=float) - self.origin
        return pts @ np.linalg.inv(self._matrix()).T


def slice_hu(ds: Dataset) -> np.ndarray:
    """One slice in HU as int16; a header from the prefetch cache (archive.prefetch) carries it decoded."""
    decoded = getattr(ds, "_prefetched_hu", None)
    if decoded is not None:
        return decoded
    pixels = ds.pixel_array.astype(np.float32)
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    return np.clip(np.rint(pixels * slope + intercept), -32768, 32767).astype(np.int16)


def volume_from_datasets(datasets: Iterable[Dataset]) -> Volume:
    """Assemble slices (any order) into a Volume; pixel data is converted to HU one slice at a time."""
    datasets = [frame for ds in datasets for frame in split_frames(ds)]
    slices = [ds for ds in datasets if "PixelData" in ds or hasattr(ds, "_prefetched_hu")]
    if len(slices) < len(datasets):
        raise VolumeError(f"{len(datasets) - len(slices)} of {len(datasets)} images carry no pixel data")
    if len(slices) < 2:
        raise VolumeError("a volume needs at least two image slices")
    first = slices[0]
    try:
        orientation = np.array([float(v) for v in first.ImageOrientationPatient])
        [float(v) for v in first.ImagePositionPatient]
    except AttributeError as exc:
        raise VolumeError("slices lack ImageOrientationPatient / ImagePositionPatient") from exc
    row_dir, col_dir = orientation[:3], orientation[3:]
    normal = np.cross(row_dir, col_dir)
    shape = (int(first.Rows), int(first.Columns))
    for ds in slices:
        if (int(ds.Rows), int(ds.Columns)) != shape:
            raise VolumeError("slices of different sizes in one series")
        if not np.allclose([float(v) for v in ds.ImageOrientationPatient], orientation, atol=1e-3):
            raise VolumeError("slices with different orientations in one series")
    slices.sort(key=lambda ds: float(np.dot([float(v) for v in ds.ImagePositionPatient], normal)))
    positions = np.array([[float(v) for v in ds.ImagePositionPatient] for ds in slices])
    gaps = np.diff(positions @ normal)
    if np.any(gaps < 1e-3):
        raise VolumeError("two slices share a position (duplicate or multi-phase series)")
    step_len = float(np.median(gaps))
    if np.max(np.abs(gaps - step_len)) > 0.1 * step_len + 0.01:
        raise VolumeError("irregular slice spacing (missing slices?)")
    slice_step = (positions[-1] - positions[0]) / (len(slices) - 1)
    dy, dx = (float(v) for v in first.PixelSpacing)

    hu = np.empty((len(slices), *shape), dtype=np.int16)
    for k, ds in enumerate(slices):
        hu[k] = slice_hu(ds)
    # A new dataset holding every element but the pixels: Dataset.copy() is shallow, and deleting
    # PixelData from a copy deleted it from the caller's first slice too.
    header = Dataset()
    header.file_meta = getattr(first, "file_meta", Dataset())
    for element in first:
        if element.keyword != "PixelData":
            header.add(element)
    return Volume(
        hu=hu, spacing=(step_len, dy, dx), origin=positions[0], row_dir=row_dir, col_dir=col_dir,
        slice_step=slice_step, study_instance_uid=str(first.StudyInstanceUID),
        series_instance_uid=str(first.SeriesInstanceUID),
        frame_of_reference_uid=str(getattr(first, "FrameOfReferenceUID", "")),
        sop_instance_uids=[str(ds.SOPInstanceUID) for ds in slices], sop_class_uid=str(first.SOPClassUID),
        header=header,
    )


def _fetch_instance(instance_id: str) -> Dataset:
    return pydicom.dcmread(io.BytesIO(get_binary(f"instances/{instance_id}/file")))


def _refuse_if_too_large(instance_ids: list[str]) -> None:
    """Refuse a series whose volume would exceed MAX_VOLUME_VOXELS, before fetching any pixels."""
    tags = get_json(f"instances/{instance_ids[0]}/simplified-tags")
    rows, columns = int(tags.get("Rows") or 0), int(tags.get("Columns") or 0)
    frames = max(1, int(tags.get("NumberOfFrames") or 1))
    voxels = rows * columns * len(instance_ids) * frames
    if voxels > settings.MAX_VOLUME_VOXELS:
        raise VolumeError(f"series too large to analyse: {len(instance_ids)} images of {rows} x {columns} "
                          f"({voxels / 1e6:.1f} M voxels, limit {settings.MAX_VOLUME_VOXELS / 1e6:.1f} M)")


def series_volume(series_orthanc_id: str, *, workers: int = 4) -> Volume:
    """Fetch every instance of an Orthanc series and assemble its volume.

    Slices an inference worker decoded while the series arrived (archive.prefetch) are taken
    from its cache; the rest are fetched, a few parallel requests hiding the per-request latency.
    Orthanc errors propagate (OrthancUnavailable lets the task retry).
    """
    from archive.prefetch import cached_slices, series_forget

    instance_ids = get_json(f"series/{series_orthanc_id}")["Instances"]
    if instance_ids:
        _refuse_if_too_large(instance_ids)
    started = time.perf_counter()
    cached = cached_slices(series_orthanc_id, instance_ids)
    read = time.perf_counter()
    missing = [i for i in instance_ids if i not in cached]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        datasets = list(cached.values()) + list(pool.map(_fetch_instance, missing))
    fetched = time.perf_counter()
    volume = volume_from_datasets(datasets)
    volume.prefetched_slices = len(cached)
    series_forget(series_orthanc_id)  # read once; a re-analysis fetches again
    logger.info("series %s: %d slices from the prefetch cache (%.2f s), %d fetched (%.2f s), assembled in %.2f s",
                series_orthanc_id, len(cached), read - started, len(missing), fetched - read,
                time.perf_counter() - fetched)
    return volume
