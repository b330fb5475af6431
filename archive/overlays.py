"""DICOM Segmentation (SEG) overlays for the viewer: which SEGs of a study cover a series, and their masks.

An AI model stores its segmentation (prostate zones, lesions...) as a DICOM SEG in the study. The
viewer shows it over the series whose images the SEG's frames reference (by SOP Instance UID), on
the same slices in the viewer's own slice order (imaging.order_slices), whatever order the series
or the SEG's frames were sent in.

A SEG is decoded once with highdicom and kept in memory keyed by its Orthanc id and the MD5 of
the stored file: the archive never changes an instance in place, and a re-run that replaces one
(same deterministic UIDs, delete then store) gives a new MD5, so a stale mask is never served.

On the wire each mask slice is a run-length list over the slice's rows x columns in row-major
order: alternating lengths of runs of 0 and of 1, starting with a (possibly empty) run of 0.
Empty slices are left out. A prostate gland on a 320x320 slice is ~100 numbers.

Decoding a 24-frame 320x320 SEG takes ~65 ms; the first SEG a server process reads costs ~0.9 s
more, once, while highdicom loads its tables of the DICOM standard (measured on this machine).
SEGs whose frames do not name their source images (DerivationImageSequence) are reported as
unreadable rather than matched by position.
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import highdicom as hd
import numpy as np
import pydicom
from pydicom.dataset import Dataset

from archive import imaging
from archive.orthanc import OrthancNotFound, get_binary, get_json

logger = logging.getLogger(__name__)

ENCODING = "rle-row-major-0-1"
SEG_CACHE_SIZE = 32
# Distinct, saturated colours for segments without a RecommendedDisplayCIELabValue; none is the
# amber of the viewer's marks.
PALETTE = ((230, 25, 75), (60, 180, 75), (67, 99, 216), (145, 30, 180), (70, 240, 240), (240, 50, 230),
           (245, 130, 49), (0, 128, 128), (170, 110, 40), (128, 0, 0))
IDENTITY = {"Accept-Encoding": "identity"}


@dataclass(frozen=True)
class SegmentInfo:
    number: int
    label: str
    property: str  # SegmentedPropertyType code meaning (SNOMED), e.g. "Prostate"
    property_code: str  # "SCT:41216001"
    category: str
    algorithm_type: str  # AUTOMATIC, SEMIAUTOMATIC or MANUAL
    algorithm_name: str
    colour: tuple[int, int, int]  # sRGB
    colour_source: str  # "recommended" (from the SEG) or "palette"

    def as_json(self) -> dict:
        return {"number": self.number, "label": self.label, "property": self.property,
                "property_code": self.property_code, "category": self.category,
                "algorithm_type": self.algorithm_type, "algorithm_name": self.algorithm_name,
                "colour": "#{:02x}{:02x}{:02x}".format(*self.colour), "colour_source": self.colour_source}


@dataclass
class DecodedSegmentation:
    sop_instance_uid: str
    series_instance_uid: str
    series_description: str
    algorithm_name: str
    content_label: str
    rows: int
    columns: int
    segments: list[SegmentInfo]
    # source SOP Instance UID -> segment number -> run lengths; only slices with pixels.
    masks: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    referenced: frozenset[str] = frozenset()  # every source SOP Instance UID the frames reference


# --- pure helpers (unit-tested without Orthanc) -------------------------------------------------


def rle_encode(mask: np.ndarray) -> list[int]:
    """A boolean image as alternating run lengths of 0 and 1, row-major, starting with 0s."""
    flat = np.ascontiguousarray(mask, dtype=bool).reshape(-1)
    if flat.size == 0:
        return []
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat[0]:
        runs.insert(0, 0)
    return runs


def rle_decode(runs: Sequence[int], shape: tuple[int, int]) -> np.ndarray:
    """Undo rle_encode (the viewer does the same in JavaScript)."""
    flat = np.zeros(shape[0] * shape[1], dtype=bool)
    position = 0
    for n, length in enumerate(runs):
        if n % 2:
            flat[position:position + length] = True
        position += length
    if position > flat.size:
        raise ValueError("run lengths exceed the image")
    return flat.reshape(shape)


def _code(item: Dataset | None) -> tuple[str, str]:
    if item is None:
        return "", ""
    meaning = str(getattr(item, "CodeMeaning", "") or "")
    value = str(getattr(item, "CodeValue", "") or getattr(item, "LongCodeValue", "") or "")
    scheme = str(getattr(item, "CodingSchemeDesignator", "") or "")
    return meaning, f"{scheme}:{value}" if value else ""


def _first(sequence) -> Dataset | None:
    return sequence[0] if sequence else None


def segment_colour(item: Dataset, number: int) -> tuple[tuple[int, int, int], str]:
    """The segment's RecommendedDisplayCIELabValue as sRGB, or a fixed palette colour by number."""
    lab = getattr(item, "RecommendedDisplayCIELabValue", None)
    if lab is not None and len(lab) == 3:
        try:
            # Clipped to sRGB: a recommended colour outside its gamut (a saturated blue) is still
            # the SEG's colour, not a reason to fall back to the palette.
            rgb = hd.color.CIELabColor.from_dicom_value(tuple(int(v) for v in lab)).to_rgb(clip=True)
            return tuple(int(min(255, max(0, round(c)))) for c in rgb), "recommended"
        except (TypeError, ValueError):
            pass  # out-of-range value: use the palette rather than refuse the SEG
    return PALETTE[(max(number, 1) - 1) % len(PALETTE)], "palette"


def segment_infos(ds: Dataset) -> list[SegmentInfo]:
    infos = []
    for item in getattr(ds, "SegmentSequence", []):
        number = int(item.SegmentNumber)
        colour, source = segment_colour(item, number)
        prop, prop_code = _code(_first(getattr(item, "SegmentedPropertyTypeCodeSequence", None)))
        category, _ = _code(_first(getattr(item, "SegmentedPropertyCategoryCodeSequence", None)))
        infos.append(SegmentInfo(
            number=number, label=str(getattr(item, "SegmentLabel", "") or prop or f"Segment {number}"),
            property=prop, property_code=prop_code, category=category,
            algorithm_type=str(getattr(item, "SegmentAlgorithmType", "") or ""),
            algorithm_name=str(getattr(item, "SegmentAlgorithmName", "") or ""),
            colour=colour, colour_source=source,
        ))
    return infos


def decode_segmentation(ds: Dataset) -> DecodedSegmentation:
    """A SEG dataset -> its segments and per-source-image masks (raises ValueError if unreadable)."""
    seg = hd.seg.Segmentation.from_dataset(ds, copy=False)
    infos = segment_infos(ds)
    referenced = [uid for _, _, uid in seg.get_source_image_uids()]
    masks: dict[str, dict[int, list[int]]] = {}
    frame_refs: set[str] = set()
    for frame in getattr(ds, "PerFrameFunctionalGroupsSequence", []):
        for derivation in getattr(frame, "DerivationImageSequence", []):
            for source in getattr(derivation, "SourceImageSequence", []):
                frame_refs.add(str(source.ReferencedSOPInstanceUID))
    wanted = [uid for uid in dict.fromkeys(referenced) if uid in frame_refs]
    if not wanted:
        raise ValueError("the SEG's frames reference no source image")
    numbers = [info.number for info in infos]
    # Frames that reference no segment pixels were omitted by the writer: they are empty, not missing.
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=wanted, segment_numbers=numbers, combine_segments=False,
        assert_missing_frames_are_empty=True, skip_overlap_checks=True,
    )
    fractional = str(getattr(ds, "SegmentationType", "")) == "FRACTIONAL"
    for i, uid in enumerate(wanted):
        for j, number in enumerate(numbers):
            plane = pixels[i, :, :, j]
            mask = plane >= 0.5 if fractional else plane > 0
            if mask.any():
                masks.setdefault(uid, {})[number] = rle_encode(mask)
    algorithms = [info.algorithm_name for info in infos if info.algorithm_name]
    return DecodedSegmentation(
        sop_instance_uid=str(ds.SOPInstanceUID), series_instance_uid=str(ds.SeriesInstanceUID),
        series_description=str(getattr(ds, "SeriesDescription", "") or ""),
        algorithm_name=algorithms[0] if algorithms else str(getattr(ds, "ManufacturerModelName", "") or ""),
        content_label=str(getattr(ds, "ContentLabel", "") or ""),
        rows=int(ds.Rows), columns=int(ds.Columns), segments=infos, masks=masks,
        referenced=frozenset(wanted),
    )


def overlay_for_slices(decoded: DecodedSegmentation, slices: Sequence[imaging.SliceRef], *, rows: int,
                       columns: int) -> dict | None:
    """One SEG's segments on a series' slices (viewer order), or None if it covers none of them."""
    index_of = {ref.sop_instance_uid: k for k, ref in enumerate(slices) if ref.sop_instance_uid}
    if not decoded.referenced & index_of.keys():
        return None
    if (decoded.rows, decoded.columns) != (rows, columns):
        # A SEG on another pixel grid (resampled) cannot be laid over these pixels one to one.
        return {"sop_instance_uid": decoded.sop_instance_uid, "error":
                f"the segmentation's grid ({decoded.rows}x{decoded.columns}) is not this series' ({rows}x{columns})"}
    segments = []
    for info in decoded.segments:
        on = [{"index": index_of[uid], "sop_instance_uid": uid, "rle": by_segment[info.number]}
              for uid, by_segment in decoded.masks.items() if uid in index_of and info.number in by_segment]
        segments.append({**info.as_json(), "slices": sorted(on, key=lambda s: s["index"])})
    return {"sop_instance_uid": decoded.sop_instance_uid, "series_instance_uid": decoded.series_instance_uid,
            "series_description": decoded.series_description, "algorithm_name": decoded.algorithm_name,
            "content_label": decoded.content_label, "segments": segments}


# --- Orthanc ------------------------------------------------------------------------------------

_seg_cache: OrderedDict[tuple[str, str], DecodedSegmentation] = OrderedDict()
_seg_lock = threading.Lock()


def seg_cache_clear() -> None:
    with _seg_lock:
        _seg_cache.clear()


def _seg_instance_ids(study_orthanc_id: str) -> list[str]:
    series = get_json(f"studies/{study_orthanc_id}/series", headers=IDENTITY)
    return [instance for s in series if str(s.get("MainDicomTags", {}).get("Modality", "")).upper() == "SEG"
            for instance in s.get("Instances", [])]


def _file_md5(instance_id: str) -> str:
    try:
        return get_binary(f"instances/{instance_id}/attachments/dicom/md5").decode().strip()
    except OrthancNotFound:
        return ""  # Orthanc configured without MD5s: the id alone is the key


def decoded_seg(instance_id: str) -> DecodedSegmentation:
    """The SEG stored as Orthanc instance `instance_id`, decoded (from the cache when unchanged)."""
    key = (instance_id, _file_md5(instance_id))
    with _seg_lock:
        if key in _seg_cache:
            _seg_cache.move_to_end(key)
            return _seg_cache[key]
    raw = get_binary(f"instances/{instance_id}/file", headers=IDENTITY)
    decoded = decode_segmentation(pydicom.dcmread(io.BytesIO(raw)))
    with _seg_lock:
        _seg_cache[key] = decoded
        while len(_seg_cache) > SEG_CACHE_SIZE:
            _seg_cache.popitem(last=False)
    return decoded


def series_overlays(series_orthanc_id: str, study_orthanc_id: str) -> dict:
    """The SEGs of the study that cover this series, with their masks in the viewer's slice order."""
    geometry = imaging.series_geometry(series_orthanc_id)
    segmentations, unreadable = [], []
    for instance_id in _seg_instance_ids(study_orthanc_id):
        try:
            decoded = decoded_seg(instance_id)
        except OrthancNotFound:
            continue  # deleted since the listing (a re-run replacing it)
        except (ValueError, AttributeError, KeyError, TypeError, NotImplementedError) as exc:
            # One malformed SEG must not hide the others, nor the images.
            logger.warning("SEG %s could not be read: %s", instance_id, exc)
            unreadable.append({"instance": instance_id, "reason": str(exc)[:200]})
            continue
        overlay = overlay_for_slices(decoded, geometry.slices, rows=geometry.rows, columns=geometry.columns)
        if overlay is not None:
            segmentations.append(overlay)
    return {"rows": geometry.rows, "columns": geometry.columns, "slice_count": len(geometry.slices),
            "slice_ids": [s.instance_id for s in geometry.slices], "encoding": ENCODING,
            "segmentations": segmentations, "unreadable": unreadable}
