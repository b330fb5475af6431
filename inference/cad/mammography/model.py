"""The mammography CAD model: four views -> centre-point detector -> CC/MLO linking -> scores.

predict(views) works on the four views as stored (any pixel size, either hanging); run(study)
fetches them from Orthanc by their DICOM headers, predicts, stores a TID 1500 SR with the marks
as image regions on the views, and returns the result the worklist and viewer read.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from inference.cad.base import ModelOutcome, StudyInfo
from inference.cad.mammography.images import (
    VIEW_NAMES,
    WORK_SPACING_MM,
    MammoView,
    dense_fraction,
    four_views,
    view_of,
    work_image,
)
from inference.cad.mammography.network import MammoNet, Mark, decode, load_network, predict_maps
from inference.cad.volume_model import call_with_time_limit, model_timeout_seconds

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "models" / "mammography" / "mammography.pt"
DEFAULT_THRESHOLD = 0.5
# Density cut points on the measured dense-area fraction; the trained weights carry fitted ones.
DEFAULT_DENSITY_CUTS = (0.22, 0.46, 0.70)
LINK_DEPTH_MM = 12.0  # same lesion in CC and MLO: distance from the chest wall within this
SPICULATED_RADIUS = 1.6  # spicules reach beyond the core: the mark circle covers them
TYPE_WORDS = {"mass_spiculated": "spiculated mass", "mass_circumscribed": "circumscribed mass",
              "calcification_cluster": "calcification cluster"}


@dataclass
class ViewMark:
    view: str
    mark: Mark
    point_px: tuple[float, float]  # (column, row) in the stored image
    radius_px: float
    depth_mm: float  # distance from the chest wall


@dataclass
class Lesion:
    breast: str
    kind: str  # mass | calcification_cluster (detector class)
    probability: float
    marks: list[ViewMark] = field(default_factory=list)

    @property
    def type(self) -> str:
        if self.kind != "mass":
            return self.kind
        spiculated = np.mean([m.mark.spiculated for m in self.marks])
        return "mass_spiculated" if spiculated >= 0.5 else "mass_circumscribed"

    @property
    def diameter_mm(self) -> float:
        return float(np.mean([m.mark.diameter_mm for m in self.marks]))

    @property
    def depth_mm(self) -> float:
        return float(np.mean([m.depth_mm for m in self.marks]))


@dataclass
class CasePrediction:
    lesions: list[Lesion]  # every lesion above the decoding floor, most probable first
    density: str
    dense_fraction: float
    breasts: dict[str, float]
    case_suspicion: float


def link_lesions(breast: str, marks: list[ViewMark]) -> list[Lesion]:
    """One lesion per CC/MLO pair of the same class at a similar distance from the chest wall.

    The most probable pairs are linked first; a mark with no partner stays a one-view lesion
    (a lesion can hide in dense tissue in one view).
    """
    cc = [m for m in marks if m.view == f"{breast}CC"]
    mlo = [m for m in marks if m.view == f"{breast}MLO"]
    pairs = sorted(
        ((a.mark.probability + b.mark.probability, i, j) for i, a in enumerate(cc) for j, b in enumerate(mlo)
         if a.mark.kind == b.mark.kind and abs(a.depth_mm - b.depth_mm) <= LINK_DEPTH_MM),
        key=lambda p: -p[0])
    used_cc: set[int] = set()
    used_mlo: set[int] = set()
    lesions = []
    for _, i, j in pairs:
        if i in used_cc or j in used_mlo:
            continue
        used_cc.add(i)
        used_mlo.add(j)
        a, b = cc[i], mlo[j]
        lesions.append(Lesion(breast=breast, kind=a.mark.kind, probability=lesion_probability(a, b), marks=[a, b]))
    for i, a in enumerate(cc):
        if i not in used_cc:
            lesions.append(Lesion(breast=breast, kind=a.mark.kind, probability=lesion_probability(a, None), marks=[a]))
    for j, b in enumerate(mlo):
        if j not in used_mlo:
            lesions.append(Lesion(breast=breast, kind=b.mark.kind, probability=lesion_probability(b, None), marks=[b]))
    return sorted(lesions, key=lambda les: -les.probability)


def lesion_probability(a: ViewMark, b: ViewMark | None) -> float:
    """The more confident view decides; a partner in the other view adds half its evidence."""
    if b is None:
        return a.mark.probability
    high, low = max(a.mark.probability, b.mark.probability), min(a.mark.probability, b.mark.probability)
    return float(1 - (1 - high) * (1 - 0.5 * low))


def density_category(fraction: float, cuts) -> str:
    return "abcd"[int(np.searchsorted(np.asarray(cuts, dtype=float), fraction, side="right"))]


class MammographyModel:
    name = "mammography"
    version = "1.0"

    def __init__(self, weights: Path | str | None = None) -> None:
        self.weights = Path(weights or DEFAULT_WEIGHTS)
        self._net: MammoNet | None = None
        self._meta: dict = {}
        self._lock = threading.Lock()

    # --- weights ---------------------------------------------------------------------------

    def network(self) -> tuple[MammoNet, dict]:
        """Weights load once per process, on first use (a worker without them still starts)."""
        with self._lock:
            if self._net is None:
                if not self.weights.exists():
                    raise FileNotFoundError(f"mammography weights not found at {self.weights}; "
                                            "run: python manage.py train_model mammography")
                self._net, self._meta = load_network(str(self.weights))
            return self._net, self._meta

    @property
    def threshold(self) -> float:
        return float(self.network()[1].get("threshold", DEFAULT_THRESHOLD))

    # --- prediction ------------------------------------------------------------------------

    def view_marks(self, views: dict[str, MammoView]) -> list[ViewMark]:
        net, _ = self.network()
        found = []
        for name in VIEW_NAMES:
            view = views[name]
            work = work_image(view)
            for mark in decode(predict_maps(net, work.channels)):
                col, row = work.to_stored(mark.row, mark.col)
                radius_mm = mark.diameter_mm / 2 * (SPICULATED_RADIUS if mark.spiculated >= 0.5 else 1.0)
                found.append(ViewMark(view=name, mark=mark, point_px=(round(col, 1), round(row, 1)),
                                      radius_px=round(radius_mm / view.spacing_mm, 1),
                                      depth_mm=(mark.col + 0.5) * work.factor * view.spacing_mm))
        return found

    def predict(self, views: dict[str, MammoView]) -> CasePrediction:
        _, meta = self.network()
        marks = self.view_marks(views)
        lesions = [les for breast in ("R", "L") for les in link_lesions(breast, [m for m in marks
                                                                                  if m.view[0] == breast])]
        lesions.sort(key=lambda les: -les.probability)
        breasts = {b: round(max((les.probability for les in lesions if les.breast == b), default=0.0), 4)
                   for b in ("R", "L")}
        fraction = float(np.mean([dense_fraction(views["RCC"]), dense_fraction(views["LCC"])]))
        density = density_category(fraction, meta.get("density_cuts", DEFAULT_DENSITY_CUTS))
        return CasePrediction(lesions=lesions, density=density, dense_fraction=round(fraction, 3),
                              breasts=breasts, case_suspicion=max(breasts.values()))

    def reported(self, prediction: CasePrediction) -> list[Lesion]:
        threshold = self.threshold
        return [les for les in prediction.lesions if les.probability >= threshold]

    def summarise(self, prediction: CasePrediction) -> tuple[str, str]:
        """(category, headline): BI-RADS 0 (recall) when anything reaches the operating threshold."""
        found = self.reported(prediction)
        density = f"density {prediction.density.upper()}"
        if not found:
            return "birads:1", f"No suspicious finding · {density}"
        top = found[0]
        more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        return "birads:0", (f"{top.breast} breast: {TYPE_WORDS[top.type]} {top.diameter_mm:.0f} mm, "
                            f"suspicion {top.probability:.2f}{more} · {density}")

    def findings(self, prediction: CasePrediction, views: dict[str, MammoView]) -> list[dict]:
        """The reported lesions in the result contract's shape (most probable first)."""
        out = []
        for number, lesion in enumerate(self.reported(prediction), start=1):
            out.append({
                "lesion_id": number, "type": lesion.type, "breast": lesion.breast,
                "diameter_mm": round(lesion.diameter_mm, 1), "probability": round(lesion.probability, 4),
                "depth_mm": round(lesion.depth_mm, 1),
                "views": [{"view": m.view, "series_instance_uid": views[m.view].series_instance_uid,
                           "sop_instance_uid": views[m.view].sop_instance_uid,
                           "point_px": [m.point_px[0], m.point_px[1]], "radius_px": m.radius_px}
                          for m in sorted(lesion.marks, key=lambda m: VIEW_NAMES.index(m.view))],
            })
        return out

    # --- routing and the pipeline entry ------------------------------------------------------

    def applies_to(self, study: StudyInfo) -> bool:
        modalities = {m.upper() for m in (study.modalities or (study.modality,))}
        if "MG" not in modalities:
            return False
        # Routing stays cheap: the four views are checked before inference (fetch_views), so a study
        # missing one is listed "No AI: ... missing LMLO" rather than "No AI for this study type".
        return sum(int(s.get("instance_count") or 0) for s in mg_series(study)) >= 1

    def run(self, study: StudyInfo) -> ModelOutcome:
        return call_with_time_limit(self._run, model_timeout_seconds(), study)

    def _run(self, study: StudyInfo) -> ModelOutcome:
        from inference.cad.mammography.sr import sr_store

        torch.set_num_threads(2)  # the two cores a worker is given
        started = time.perf_counter()
        views = fetch_views(study)
        fetched = time.perf_counter()
        prediction = self.predict(views)
        predicted = time.perf_counter()
        category, headline = self.summarise(prediction)
        findings = self.findings(prediction, views)
        sr_uid = sr_store(views, findings, prediction.density, model_name=self.name, model_version=self.version)
        stored = time.perf_counter()
        return ModelOutcome(suspicion=prediction.case_suspicion, category=category, headline=headline,
                            result=self.result(prediction, findings, views, sr_uid=sr_uid, timings={
                                "fetch_seconds": round(fetched - started, 3),
                                "predict_seconds": round(predicted - fetched, 3),
                                "sr_seconds": round(stored - predicted, 3)}))

    def result(self, prediction: CasePrediction, findings: list[dict], views: dict[str, MammoView], *,
               sr_uid: str, timings: dict) -> dict:
        return {
            "findings": findings,
            "density": prediction.density,
            "breasts": {b: {"suspicion": s} for b, s in prediction.breasts.items()},
            "case_suspicion": prediction.case_suspicion,
            "threshold": round(self.threshold, 4),
            "sr_sop_instance_uid": sr_uid,
            "series_instance_uid": views[VIEW_NAMES[0]].series_instance_uid,
            "timings": timings,
        }


# --- Orthanc --------------------------------------------------------------------------------


def mg_series(study: StudyInfo) -> list[dict]:
    return [s for s in study.series if (s.get("modality") or "").upper() == "MG"]


def orthanc_views(study: StudyInfo) -> dict[str, str]:
    """View name -> Orthanc instance id, from the headers Orthanc holds (no pixels fetched)."""
    from archive.orthanc import get_json

    found: dict[str, str] = {}
    for series in mg_series(study):
        tags = get_json(f"series/{series['orthanc_id']}/instances-tags", params={"simplify": ""})
        for instance_id, header in sorted(tags.items(), key=lambda kv: int(kv[1].get("InstanceNumber") or 0)):
            name = view_of(header)
            if name and name not in found:
                found[name] = instance_id
    return found


def fetch_views(study: StudyInfo) -> dict[str, MammoView]:
    """The four standard views' images; OutsideEnvelope naming the missing ones (the model reads a
    screening examination: both breasts, CC and MLO, BI-RADS 5th ed.)."""
    from archive.volumes import _fetch_instance
    from inference.cad.envelope import OutsideEnvelope

    chosen = orthanc_views(study)
    missing = [name for name in VIEW_NAMES if name not in chosen]
    if missing:
        raise OutsideEnvelope("this model needs the four standard views (RCC, LCC, RMLO, LMLO); "
                              f"missing {', '.join(missing)}")
    return four_views(_fetch_instance(chosen[name]) for name in VIEW_NAMES if name in chosen)


__all__ = ["WORK_SPACING_MM", "CasePrediction", "Lesion", "MammographyModel", "ViewMark", "link_lesions"]
