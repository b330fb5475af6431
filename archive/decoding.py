"""Pixel decoding shared by the viewer's pixel proxy and CAD: every common transfer syntax, frames.

pydicom 3.0 decodes through the plugins pinned in requirements.txt (DICOM PS3.5 2024 Annex A):
JPEG baseline/extended and lossless process 14 through pylibjpeg-libjpeg, JPEG-LS through pyjpegls,
JPEG 2000 through pylibjpeg-openjpeg, RLE through pylibjpeg-rle; deflate and big endian are read
natively. Multi-frame instances (Enhanced CT/MR, US cine) carry each frame's geometry and rescale in
functional groups (PS3.3 C.7.6.16); `frame_attribute` reads them from a pydicom Dataset or from
Orthanc's simplified JSON alike, since both index sequences as lists of mappings.
"""

from __future__ import annotations

import io

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_color_lut
from pydicom.pixels import pixel_array as _pixel_array
from pydicom.uid import ExplicitVRLittleEndian

# Functional group sequence holding each attribute in Enhanced objects (PS3.3 C.7.6.16.2).
_GROUPS = {
    "ImagePositionPatient": "PlanePositionSequence",
    "ImageOrientationPatient": "PlaneOrientationSequence",
    "PixelSpacing": "PixelMeasuresSequence",
    "SliceThickness": "PixelMeasuresSequence",
    "RescaleSlope": "PixelValueTransformationSequence",
    "RescaleIntercept": "PixelValueTransformationSequence",
    "RescaleType": "PixelValueTransformationSequence",
    "WindowCenter": "FrameVOILUTSequence",
    "WindowWidth": "FrameVOILUTSequence",
    "WindowCenterWidthExplanation": "FrameVOILUTSequence",
}
_FRAME_ONLY = ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence", "PixelData",
               "NumberOfFrames", "FrameIncrementPointer")


def _first(items):
    try:
        return items[0] if items else None
    except (TypeError, IndexError, KeyError):
        return None


def frame_attribute(tags, index: int, keyword: str):
    """An attribute of frame `index`: per-frame group, then shared group, then the top level."""
    group = _GROUPS.get(keyword)
    if group:
        for container in (_first((tags.get("PerFrameFunctionalGroupsSequence") or [])[index:index + 1]),
                          _first(tags.get("SharedFunctionalGroupsSequence"))):
            item = _first(container.get(group)) if container is not None else None
            if item is not None and item.get(keyword) not in (None, ""):
                return item.get(keyword)
    return tags.get(keyword)


def frame_count(tags) -> int:
    try:
        return max(1, int(tags.get("NumberOfFrames") or 1))
    except (TypeError, ValueError):
        return 1


def is_colour(ds: Dataset) -> bool:
    return int(ds.get("SamplesPerPixel", 1) or 1) == 3 or ds.get("PhotometricInterpretation") == "PALETTE COLOR"


def to_rgb8(ds: Dataset, pixels: np.ndarray) -> np.ndarray:
    """Colour pixels (RGB, YBR already converted by pydicom, or palette indices) as uint8 (..., 3)."""
    if ds.get("PhotometricInterpretation") == "PALETTE COLOR":
        pixels = apply_color_lut(pixels, ds)
    if pixels.dtype != np.uint8:
        bits = int(ds.get("BitsStored", 8) or 8) if pixels.dtype.itemsize > 1 and ds.get(
            "PhotometricInterpretation") != "PALETTE COLOR" else 8 * pixels.dtype.itemsize
        pixels = (pixels.astype(np.uint32) >> max(0, bits - 8)).astype(np.uint8)
    return pixels


def read_frames(raw: bytes, indices: list[int] | None = None) -> tuple[Dataset, list[np.ndarray]]:
    """The dataset (pixels not loaded) and the decoded stored values of the frames asked (all if None).

    pydicom decodes one frame at a time, so one frame of a long cine costs one frame's decoding.
    """
    ds = pydicom.dcmread(io.BytesIO(raw))  # a deflated file can only be read whole
    if indices is None:
        indices = list(range(frame_count(ds)))
    frames = [_pixel_array(ds, index=i if frame_count(ds) > 1 else None) for i in indices]
    return ds, frames


def split_frames(ds: Dataset) -> list[Dataset]:
    """A multi-frame image as single-frame datasets (decoded, little endian) with each frame's geometry.

    CAD assembles volumes from single-frame slices; an Enhanced CT/MR is split into its frames so that
    the same code reads both. A single-frame dataset is returned as it is.
    """
    count = frame_count(ds)
    if count == 1 or "PixelData" not in ds:
        return [ds]
    pixels = ds.pixel_array
    out = []
    for index in range(count):
        frame = Dataset()
        frame.file_meta = FileMetaDataset()
        frame.file_meta.update(getattr(ds, "file_meta", Dataset()))
        frame.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        for element in ds:
            if element.keyword not in _FRAME_ONLY:
                frame.add(element)
        for keyword in _GROUPS:
            value = frame_attribute(ds, index, keyword)
            if value is not None:
                setattr(frame, keyword, value)
        if "PhotometricInterpretation" in ds and str(ds.PhotometricInterpretation).startswith("YBR"):
            frame.PhotometricInterpretation = "RGB"  # pydicom has converted YBR to RGB
        frame.InstanceNumber = index + 1
        frame.PixelData = np.ascontiguousarray(pixels[index]).astype(pixels.dtype.newbyteorder("<")).tobytes()
        out.append(frame)
    return out
