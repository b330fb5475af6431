"""A model's operating envelope: the acquisitions it was trained and validated on, checked before inference.

A series outside the envelope is never analysed: the study is listed "No AI: <reason>" in words a
radiologist reads at a glance ("slices 5 mm thick; this model reads 0.5–2.5 mm"). Of several series
inside it, the best is read (thinnest slices, then the preferred reconstruction kernel, then the
most images). The facts come from the DICOM headers only (Orthanc's instances-tags, no pixels):
SliceThickness (0018,0050), ImagePositionPatient (0020,0032) for spacing, gaps and coverage,
PixelSpacing (0028,0030), KVP (0018,0060), ConvolutionKernel (0018,1210), ContrastBolusAgent
(0018,0010), MagneticFieldStrength (0018,0087) — DICOM PS3.3 2024.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


class OutsideEnvelope(Exception):
    """No series of the study lies inside the model's envelope; the message says why, in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _floats(value) -> list[float]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split("\\")
    if not isinstance(value, (list, tuple)):
        value = [value]
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError):
        return []


def _first_float(value) -> float | None:
    values = _floats(value)
    return values[0] if values else None


def _mm(value: float) -> str:
    """1.25 -> "1.25", 5.0 -> "5", 4.9999 -> "5": two decimals at most, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class SeriesFacts:
    """What the envelope is checked on, for one series."""

    modality: str = ""
    slices: int = 0
    slice_thickness_mm: float | None = None
    slice_spacing_mm: float | None = None  # median distance between neighbouring slice positions
    largest_step_mm: float | None = None  # the widest distance between neighbours (a missing slice shows here)
    coverage_mm: float | None = None  # first to last slice position
    pixel_spacing_mm: float | None = None  # the larger of row and column spacing
    kvp: float | None = None
    kernel: str = ""
    contrast: bool = False
    field_strength_t: float | None = None
    mixed_geometry: bool = False  # several orientations or pixel spacings in one series


def series_facts(headers: Iterable[dict], modality: str = "") -> SeriesFacts:
    """Facts of one series from its instances' simplified tags (Orthanc `instances-tags?simplify`)."""
    headers = [h for h in headers if isinstance(h, dict)]
    if not headers:
        return SeriesFacts(modality=modality)
    first = headers[len(headers) // 2]
    orientations = {tuple(np.round(_floats(h.get("ImageOrientationPatient")), 3)) for h in headers}
    spacings = {tuple(np.round(_floats(h.get("PixelSpacing")), 4)) for h in headers}
    orientation = _floats(first.get("ImageOrientationPatient"))
    positions = [_floats(h.get("ImagePositionPatient")) for h in headers]
    spacing = step = coverage = None
    if len(orientation) == 6 and all(len(p) == 3 for p in positions) and len(positions) >= 2:
        normal = np.cross(orientation[:3], orientation[3:])
        along = np.sort(np.array(positions) @ normal)
        steps = np.diff(along)
        spacing, step = float(np.median(steps)), float(steps.max())
        coverage = float(along[-1] - along[0])
    pixel = _floats(first.get("PixelSpacing"))
    agent = str(first.get("ContrastBolusAgent") or "").strip().upper()
    return SeriesFacts(
        modality=str(first.get("Modality") or modality).upper(),
        slices=len(headers),
        slice_thickness_mm=_first_float(first.get("SliceThickness")),
        slice_spacing_mm=spacing,
        largest_step_mm=step,
        coverage_mm=coverage,
        pixel_spacing_mm=max(pixel) if pixel else None,
        kvp=_first_float(first.get("KVP")),
        kernel=" ".join(str(v) for v in (first.get("ConvolutionKernel") or [])) if isinstance(
            first.get("ConvolutionKernel"), list) else str(first.get("ConvolutionKernel") or ""),
        contrast=bool(agent) and agent not in ("NONE", "NO", "N/A"),
        field_strength_t=_first_float(first.get("MagneticFieldStrength")),
        mixed_geometry=len(orientations) > 1 or len(spacings) > 1,
    )


@dataclass(frozen=True)
class Envelope:
    """The acquisition range a model was trained and validated on. None means "not checked"."""

    modalities: tuple[str, ...] = ("CT",)
    slice_thickness_mm: tuple[float, float] | None = None
    min_slices: int = 0
    min_coverage_mm: float | None = None
    pixel_spacing_mm: tuple[float, float] | None = None
    kvp: tuple[float, float] | None = None
    field_strength_t: tuple[float, float] | None = None
    contrast: bool | None = None  # False: unenhanced only; True: enhanced only; None: either
    # Kernels the model prefers when several series qualify (substrings, upper case); others are read too.
    preferred_kernels: tuple[str, ...] = ()
    # Where the limits come from (shown in the model card).
    source: str = ""

    def refusals(self, facts: SeriesFacts) -> list[str]:
        """Why this series is outside the envelope, in words; empty when it is inside."""
        out: list[str] = []
        if self.modalities and facts.modality and facts.modality not in self.modalities:
            out.append(f"{facts.modality} images; this model reads {'/'.join(self.modalities)}")
        if facts.mixed_geometry:
            out.append("the series mixes image orientations or pixel sizes")
        if self.min_slices and facts.slices < self.min_slices:
            out.append(f"{facts.slices} images; this model needs at least {self.min_slices}")
        if self.slice_thickness_mm:
            lo, hi = self.slice_thickness_mm
            thickness = facts.slice_thickness_mm
            if thickness is None:
                out.append("slice thickness not stated in the images")
            elif not lo <= thickness <= hi:
                out.append(f"slices {_mm(thickness)} mm thick; this model reads {_mm(lo)}–{_mm(hi)} mm")
            elif facts.slice_spacing_mm is not None and facts.slice_spacing_mm > thickness * 1.05 + 0.05:
                gap = facts.slice_spacing_mm - thickness
                out.append(f"gaps of {_mm(gap)} mm between slices ({_mm(thickness)} mm slices every "
                           f"{_mm(facts.slice_spacing_mm)} mm); this model needs contiguous slices")
            elif (facts.largest_step_mm is not None and facts.slice_spacing_mm
                  and facts.largest_step_mm > 1.5 * facts.slice_spacing_mm + 0.05):
                out.append(f"slices missing: a {_mm(facts.largest_step_mm)} mm jump between two slices")
        if self.min_coverage_mm is not None and facts.coverage_mm is not None \
                and facts.coverage_mm < self.min_coverage_mm:
            out.append(f"the series covers {_mm(facts.coverage_mm)} mm; this model needs at least "
                       f"{_mm(self.min_coverage_mm)} mm")
        if self.pixel_spacing_mm and facts.pixel_spacing_mm is not None:
            lo, hi = self.pixel_spacing_mm
            if not lo <= facts.pixel_spacing_mm <= hi:
                out.append(f"pixels {facts.pixel_spacing_mm:.2f} mm; this model reads {lo:g}–{hi:g} mm")
        if self.kvp and facts.kvp is not None and not self.kvp[0] <= facts.kvp <= self.kvp[1]:
            out.append(f"tube voltage {facts.kvp:g} kVp; this model reads {self.kvp[0]:g}–{self.kvp[1]:g} kVp")
        if self.field_strength_t and facts.field_strength_t is not None \
                and not self.field_strength_t[0] <= facts.field_strength_t <= self.field_strength_t[1]:
            lo, hi = self.field_strength_t
            out.append(f"field strength {facts.field_strength_t:g} T; this model reads {lo:g}–{hi:g} T")
        if self.contrast is False and facts.contrast:
            out.append("contrast-enhanced; this model reads unenhanced scans")
        if self.contrast is True and not facts.contrast:
            out.append("no contrast agent recorded; this model reads enhanced scans")
        return out

    def rank(self, facts: SeriesFacts) -> tuple:
        """Sort key, best first: thinnest slices, a preferred kernel, then the most images."""
        kernel = (facts.kernel or "").upper()
        preferred = any(word in kernel for word in self.preferred_kernels) if self.preferred_kernels else True
        return (facts.slice_thickness_mm if facts.slice_thickness_mm is not None else 99.0,
                0 if preferred else 1, -facts.slices)

    def describe(self) -> dict:
        """The envelope as plain data (model cards, the API)."""
        return {k: v for k, v in {
            "modalities": list(self.modalities),
            "slice_thickness_mm": list(self.slice_thickness_mm) if self.slice_thickness_mm else None,
            "min_slices": self.min_slices or None,
            "min_coverage_mm": self.min_coverage_mm,
            "pixel_spacing_mm": list(self.pixel_spacing_mm) if self.pixel_spacing_mm else None,
            "kvp": list(self.kvp) if self.kvp else None,
            "field_strength_t": list(self.field_strength_t) if self.field_strength_t else None,
            "contrast": self.contrast,
            "preferred_kernels": list(self.preferred_kernels) or None,
            "source": self.source or None,
        }.items() if v is not None}


def series_choose(candidates: list[tuple[dict, SeriesFacts]], envelope: Envelope) -> dict:
    """The best series inside the envelope; OutsideEnvelope with the reasons when there is none.

    With several series outside, the reason given is that of the series closest to the envelope
    (fewest reasons, then the thinnest), so the reader learns what a re-reconstruction would need.
    """
    if not candidates:
        raise OutsideEnvelope("no image series this model can read")
    judged = [(series, facts, envelope.refusals(facts)) for series, facts in candidates]
    inside = [(series, facts) for series, facts, reasons in judged if not reasons]
    if inside:
        return min(inside, key=lambda item: envelope.rank(item[1]))[0]
    _, _, reasons = min(judged, key=lambda item: (len(item[2]), envelope.rank(item[1])))
    suffix = f" (the closest of {len(judged)} series)" if len(judged) > 1 else ""
    raise OutsideEnvelope("; ".join(reasons) + suffix)
