"""Which view an image is (from its DICOM header) and the network's input made from it.

A view is identified by ImageLaterality (or Laterality) and the ViewCodeSequence code (or
ViewPosition), never by the series description. The chest wall side is read from
PatientOrientation: a row that runs toward posterior (P) ends at the chest wall, so the chest
wall is on the right and the image is mirrored before the network sees it. Every view is
brought to one canonical layout (chest wall at column 0) and one working pixel size, so a
model trained on one detector matrix reads another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from scipy import ndimage

VIEW_NAMES = ("RCC", "LCC", "RMLO", "LMLO")
# SNOMED CT view codes (CID 4014): cranio-caudal and medio-lateral oblique.
VIEW_CODE_VALUES = {"399162004": "CC", "399368009": "MLO"}
WORK_SPACING_MM = 1.12  # the network's pixel: masses of 6-25 mm are 5-22 pixels
HIGHPASS_SIGMA_MM = 1.0  # calcification specks are 0.15-0.35 mm: far below this
INTENSITY_SCALE = 1000.0


def _get(header: Any, keyword: str):
    """A value from a pydicom Dataset or from Orthanc's simplified tags (a dict)."""
    if isinstance(header, Dataset):
        return header.get(keyword)
    return header.get(keyword) if isinstance(header, dict) else None


def _first_code(header: Any, keyword: str) -> str:
    items = _get(header, keyword)
    if not items:
        return ""
    first = items[0]
    value = first.get("CodeValue") if isinstance(first, (dict, Dataset)) else None
    return str(value or "")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or (hasattr(value, "__iter__") and not isinstance(value, str)):
        return "\\".join(str(v) for v in value)
    return str(value)


def view_of(header: Any) -> str | None:
    """'RCC', 'LCC', 'RMLO' or 'LMLO' from the header, or None when it is none of the four."""
    laterality = (_text(_get(header, "ImageLaterality")) or _text(_get(header, "Laterality"))).strip().upper()
    if laterality not in ("R", "L"):
        return None
    position = VIEW_CODE_VALUES.get(_first_code(header, "ViewCodeSequence"))
    if position is None:
        position = _text(_get(header, "ViewPosition")).strip().upper()
    if position not in ("CC", "MLO"):
        return None
    return laterality + position


def chest_wall_on_right(header: Any, laterality: str) -> bool:
    """Whether the chest wall is at the last column, as stored.

    PatientOrientation's first value is the direction along a row: toward posterior (P) means
    the row ends at the chest wall. Without it, the usual hanging (right breast facing left,
    chest wall on the right) is assumed.
    """
    orientation = _get(header, "PatientOrientation")
    if isinstance(orientation, str):
        orientation = orientation.split("\\")
    if orientation:
        along_row = str(orientation[0]).strip().upper()
        if along_row.startswith("P"):
            return True
        if along_row.startswith("A"):
            return False
    return laterality == "R"


def pixel_spacing_mm(header: Any) -> float:
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = _get(header, keyword)
        if value:
            values = value.split("\\") if isinstance(value, str) else list(value)
            return float(values[0])
    raise ValueError("the mammogram has no pixel spacing")


@dataclass
class MammoView:
    """One of the four views, its stored pixels and what is needed to map marks back onto them."""

    name: str  # RCC, LCC, RMLO, LMLO
    pixels: np.ndarray  # as stored (rows, columns)
    spacing_mm: float
    chest_wall_right: bool
    sop_instance_uid: str = ""
    series_instance_uid: str = ""
    sop_class_uid: str = ""
    header: Dataset | None = field(default=None, repr=False)

    @property
    def breast(self) -> str:
        return self.name[0]

    @property
    def position(self) -> str:
        return self.name[1:]

    def canonical(self) -> np.ndarray:
        """Chest wall at column 0, as the network is trained."""
        return self.pixels[:, ::-1] if self.chest_wall_right else self.pixels


def view_from_dataset(ds: Dataset) -> MammoView | None:
    name = view_of(ds)
    if name is None or "PixelData" not in ds:
        return None
    pixels = ds.pixel_array.astype(np.float32)
    slope, intercept = float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0)
    pixels = pixels * slope + intercept
    if str(ds.get("PhotometricInterpretation", "MONOCHROME2")) == "MONOCHROME1":
        pixels = pixels.max() - pixels  # dense tissue bright, as the network learned
    return MammoView(name=name, pixels=pixels, spacing_mm=pixel_spacing_mm(ds),
                     chest_wall_right=chest_wall_on_right(ds, name[0]), sop_instance_uid=str(ds.SOPInstanceUID),
                     series_instance_uid=str(ds.SeriesInstanceUID), sop_class_uid=str(ds.SOPClassUID), header=ds)


def four_views(datasets) -> dict[str, MammoView]:
    """The four standard views of a case; the first image of each view is used."""
    views: dict[str, MammoView] = {}
    for ds in datasets:
        name = view_of(ds)
        if name is None or name in views:
            continue
        view = view_from_dataset(ds)
        if view is not None:
            views[name] = view
    missing = [name for name in VIEW_NAMES if name not in views]
    if missing:
        raise ValueError(f"not a four-view mammogram: missing {', '.join(missing)}")
    return views


@dataclass
class WorkImage:
    """The network input of one view and the map from its grid back to stored pixels."""

    channels: np.ndarray  # (2, H, W) float32: intensity, max-pooled high-pass
    factor: float  # stored pixels per working pixel
    stored_shape: tuple[int, int]
    chest_wall_right: bool

    def to_stored(self, row: float, col: float) -> tuple[float, float]:
        """A working-grid position -> (column, row) in the stored image."""
        srow = (row + 0.5) * self.factor - 0.5
        ccol = (col + 0.5) * self.factor - 0.5
        scol = self.stored_shape[1] - 1 - ccol if self.chest_wall_right else ccol
        return float(scol), float(srow)

    def to_work(self, col: float, row: float) -> tuple[float, float]:
        """A stored (column, row) -> (row, col) on the working grid."""
        ccol = self.stored_shape[1] - 1 - col if self.chest_wall_right else col
        return (row + 0.5) / self.factor - 0.5, (ccol + 0.5) / self.factor - 0.5


def _block(image: np.ndarray, k: int, how: str) -> np.ndarray:
    rows, cols = (image.shape[0] // k) * k, (image.shape[1] // k) * k
    blocks = image[:rows, :cols].reshape(rows // k, k, cols // k, k)
    return blocks.mean(axis=(1, 3)) if how == "mean" else blocks.max(axis=(1, 3))


def work_image(view: MammoView) -> WorkImage:
    """Intensity (block mean) and high-pass (block max) on the working grid, chest wall left.

    The high-pass channel is taken at the stored resolution and max-pooled, so a speck of a
    few tenths of a millimetre keeps its full contrast on the coarse grid.
    """
    image = np.ascontiguousarray(view.canonical(), dtype=np.float32)
    highpass = image - ndimage.gaussian_filter(image, HIGHPASS_SIGMA_MM / view.spacing_mm)
    ratio = WORK_SPACING_MM / view.spacing_mm
    k = max(1, int(round(ratio)))
    intensity, peaks = _block(image, k, "mean"), _block(np.maximum(highpass, 0), k, "max")
    factor = float(k)
    if abs(ratio - k) / ratio > 0.02:
        # A pixel size that is not a whole fraction of the working one: resample the rest of the way.
        zoom = k / ratio
        intensity = ndimage.zoom(intensity, zoom, order=1)
        peaks = ndimage.zoom(peaks, zoom, order=1)
        factor = ratio
    channels = np.stack([intensity / INTENSITY_SCALE - 1.5, np.minimum(peaks / INTENSITY_SCALE, 3.0)])
    return WorkImage(channels=channels.astype(np.float32), factor=factor, stored_shape=view.pixels.shape,
                     chest_wall_right=view.chest_wall_right)


def dense_fraction(view: MammoView) -> float:
    """Share of the breast area that is fibroglandular, on a CC view (no pectoral muscle).

    The breast outline gives its compressed-thickness profile (thickest at the chest wall,
    thinning to the skin line); tissue brighter than fat of that thickness is counted dense.
    """
    image = view.canonical().astype(np.float32)
    k = max(1, int(round(2.24 / view.spacing_mm)))
    small = _block(image, k, "mean")
    spacing = view.spacing_mm * k
    breast = small > 400
    if breast.sum() < 50:
        return 0.0
    rows, cols = np.nonzero(breast)
    depth = (cols.max() + 1) * spacing
    at_wall = rows[cols <= 2]
    centre = (at_wall.min() + at_wall.max()) / 2 if at_wall.size else rows.mean()
    half = max((at_wall.max() - at_wall.min() + 1) * spacing / 2, spacing) if at_wall.size else depth
    y = (np.arange(small.shape[0])[:, None] - centre) * spacing
    x = (np.arange(small.shape[1])[None, :] + 0.5) * spacing
    thick = np.sqrt(np.clip(1 - (x / depth) ** 2 - (y / half) ** 2, 0, 1))
    # Only the inner breast: the thickness model is least sure near the skin line.
    inner = breast & (thick > 0.3)
    if not inner.any():
        return 0.0
    # Fat level: a low quantile, since even an extremely dense breast keeps some fat.
    fat = np.quantile(small[inner] - 700 * thick[inner], 0.03)
    residual = small[inner] - fat - 700 * thick[inner]
    return float(np.mean(residual > 120 * thick[inner] + 40))
