"""Which series of a prostate MRI is the T2w, the DWI and the ADC map, from headers and content.

Series descriptions are free text that every site and scanner writes differently, so they are
never read here. The rules, in order:
- ADC: ImageType names ADC (DICOM's defined term for the apparent diffusion coefficient map, e.g.
  DERIVED\\PRIMARY\\ADC), or a derived diffusion image whose real-world value mapping is in
  mm²/s or µm²/s.
- DWI: a diffusion b-value in the header (DiffusionBValue, or inside MRDiffusionSequence), or
  DIFFUSION in ImageType. Of several b-values (in one series or in several) the highest is read.
- T2w: any other MR image with a long echo and repetition time (TE >= 70 ms, TR >= 1500 ms).
The pixel content is checked too: an ADC map must hold plausible diffusivities (median of the
tissue between 300 and 3500 µm²/s once scaled), see `adc_in_um2_s`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from archive.volumes import Volume, VolumeError, volume_from_datasets

T2_MIN_ECHO_MS = 70.0
T2_MIN_REPETITION_MS = 1500.0
_B_IN_TEXT = re.compile(r"\bb\s*=\s*(\d{1,4})\b", re.IGNORECASE)


def _image_type(ds: Dataset) -> list[str]:
    value = ds.get("ImageType", [])
    if isinstance(value, str):
        value = value.split("\\")
    return [str(v).upper() for v in value]


def diffusion_b_value(ds: Dataset) -> float | None:
    """The b-value (s/mm²) of one diffusion image, from the standard attributes only."""
    if ds.get("DiffusionBValue") not in (None, ""):
        return float(ds.DiffusionBValue)
    for item in ds.get("MRDiffusionSequence", []):
        if item.get("DiffusionBValue") not in (None, ""):
            return float(item.DiffusionBValue)
    return None


def _adc_units(ds: Dataset) -> bool:
    for mapping in ds.get("RealWorldValueMappingSequence", []):
        for unit in mapping.get("MeasurementUnitsCodeSequence", []):
            if str(unit.get("CodeValue", "")).lower() in ("um2/s", "mm2/s", "10-6.mm2/s", "10*-6.mm2/s"):
                return True
    return False


def series_role(ds: Dataset) -> str | None:
    """The role of one image header of a series: "t2w", "dwi", "adc" or None."""
    if str(ds.get("Modality", "")).upper() != "MR" or "PixelData" not in ds and "Rows" not in ds:
        return None
    image_type = _image_type(ds)
    if "ADC" in image_type or ("DERIVED" in image_type and _adc_units(ds)):
        return "adc"
    if diffusion_b_value(ds) is not None or "DIFFUSION" in image_type:
        return "dwi"
    echo = float(ds.get("EchoTime") or 0)
    repetition = float(ds.get("RepetitionTime") or 0)
    if echo >= T2_MIN_ECHO_MS and repetition >= T2_MIN_REPETITION_MS:
        return "t2w"
    return None


def _is_axial(ds: Dataset) -> bool:
    try:
        orientation = np.array([float(v) for v in ds.ImageOrientationPatient])
    except (AttributeError, TypeError, ValueError):
        return False
    return abs(np.cross(orientation[:3], orientation[3:])[2]) > 0.8


@dataclass
class SeriesChoice:
    """The chosen series' keys (Orthanc ids or series UIDs, whatever the caller keyed headers by)."""

    t2w: str
    adc: str
    dwi: list[str]  # every diffusion series: the highest b-value is picked once their slices are read


def choose_series(headers: dict[str, tuple[Dataset, int]]) -> SeriesChoice | None:
    """From one header and the image count per series, the T2w, ADC and DWI series; None if one is missing.

    Of several T2w series the axial one with the most images is read (sagittal and coronal T2
    are common in a prostate protocol); of several ADC maps the one with the most images.
    """
    roles: dict[str, list[tuple[str, Dataset, int]]] = {"t2w": [], "adc": [], "dwi": []}
    for key, (ds, count) in headers.items():
        role = series_role(ds)
        if role:
            roles[role].append((key, ds, count))
    if not roles["t2w"] or not roles["adc"] or not roles["dwi"]:
        return None
    t2w = max(roles["t2w"], key=lambda r: (_is_axial(r[1]), r[2]))[0]
    adc = max(roles["adc"], key=lambda r: (_is_axial(r[1]), r[2]))[0]
    return SeriesChoice(t2w=t2w, adc=adc, dwi=[r[0] for r in roles["dwi"]])


def highest_b_volume(datasets: list[Dataset]) -> tuple[Volume, float]:
    """The slices with the highest b-value among DWI images (one or several series) as a volume.

    The trace-weighted image of each b-value is expected; separate diffusion directions at one
    position and b-value are not averaged here: the volume assembly refuses them (duplicate
    positions), an honest failure for a layout this model does not handle.
    """
    by_b: dict[float, list[Dataset]] = {}
    for ds in datasets:
        b = diffusion_b_value(ds)
        if b is None:
            match = _B_IN_TEXT.search(str(ds.get("ImageComments", "")))
            b = float(match.group(1)) if match else None
        if b is not None:
            by_b.setdefault(b, []).append(ds)
    if not by_b:
        raise VolumeError("diffusion images carry no b-value")
    # A b-value with too few slices (a few key images) is no volume; take the highest complete one.
    most = max(len(v) for v in by_b.values())
    b = max(b for b, v in by_b.items() if len(v) >= 0.8 * most)
    return volume_from_datasets(by_b[b]), b


def adc_in_um2_s(volume: Volume) -> np.ndarray:
    """ADC as float32 in µm²/s (10⁻⁶ mm²/s), whatever scale the scanner stored.

    Scanners store 10⁻⁶ mm²/s (most) or 10⁻³ mm²/s with a rescale; tissue ADC lies around
    700-3000 µm²/s, so the stored scale is recognised from the median of the non-zero voxels.
    """
    adc = volume.hu.astype(np.float32)
    tissue = adc[adc > 0]
    if not tissue.size:
        raise VolumeError("the ADC map is empty")
    median = float(np.median(tissue))
    if median < 10:  # 10^-3 mm^2/s
        adc = adc * 1000.0
        median *= 1000.0
    if not 300 <= median <= 3500:
        raise VolumeError(f"the ADC map's values (median {median:.0f}) are no diffusivity in µm²/s")
    return adc


# --- reading the chosen series from Orthanc ------------------------------------------------------


def orthanc_series_headers(series: list[dict]) -> dict[str, tuple[Dataset, int]]:
    """One header (no pixels) per MR series of a study, keyed by Orthanc series id."""
    from archive.orthanc import get_binary, get_json

    headers = {}
    for item in series:
        if (item.get("modality") or "").upper() != "MR" or int(item.get("instance_count") or 0) < 2:
            continue
        instances = get_json(f"series/{item['orthanc_id']}")["Instances"]
        if not instances:
            continue
        raw = get_binary(f"instances/{instances[len(instances) // 2]}/file")
        headers[item["orthanc_id"]] = (pydicom.dcmread(io.BytesIO(raw), stop_before_pixels=True), len(instances))
    return headers


def orthanc_series_datasets(series_orthanc_id: str) -> list[Dataset]:
    from concurrent.futures import ThreadPoolExecutor

    from archive.orthanc import get_binary, get_json

    def fetch(instance_id: str) -> Dataset:
        return pydicom.dcmread(io.BytesIO(get_binary(f"instances/{instance_id}/file")))

    instance_ids = get_json(f"series/{series_orthanc_id}")["Instances"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(fetch, instance_ids))


def group_by_series(datasets: list[Dataset]) -> dict[str, list[Dataset]]:
    out: dict[str, list[Dataset]] = {}
    for ds in datasets:
        out.setdefault(str(ds.SeriesInstanceUID), []).append(ds)
    return out


def headers_of(groups: dict[str, list[Dataset]]) -> dict[str, tuple[Dataset, int]]:
    """One header per series of in-memory datasets (tests, evaluation, bench), keyed by series UID."""
    return {uid: (items[len(items) // 2], len(items)) for uid, items in groups.items()}
