"""The lung nodule CAD model: candidates -> multi-view ConvNet -> measurement -> Lung-RADS.

predict(volume) works on any chest CT series in HU with real spacing; run(study) (from
VolumeCadModel) fetches the series from Orthanc, calls predict and stores the DICOM SR.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch

from archive.volumes import Volume
from inference.cad.base import Applicability, Finding, Prediction
from inference.cad.envelope import Envelope
from inference.cad.lung_nodule.candidates import detect_candidates, resample_lungs
from inference.cad.lung_nodule.measure import measure_nodule_grown
from inference.cad.lung_nodule.network import (
    MultiViewNet,
    candidate_features,
    extract_views,
    load_network,
    score,
    score_mirrored,
)
from inference.cad.volume_model import VolumeCadModel
from triage import lungrads

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "models" / "lung_nodule" / "lung_nodule.pt"
SCORE_FLOOR = 0.02  # below this a candidate is not even measured
MAX_MEASURED = 40
DEFAULT_THRESHOLD = 0.5


class LungNoduleModel(VolumeCadModel):
    name = "lung_nodule"
    version = "1.1"
    applicability = Applicability(
        modalities=("CT",), body_parts=("CHEST", "LUNG", "THORAX"),
        description_keywords=("CHEST", "LUNG", "THORAX", "THORACIC"), min_instances=20,
    )
    # Where the figures hold (docs/lung_nodule_evaluation.md, "Operating envelope"): thin contiguous
    # slices, the matrices 256-512 it was evaluated on at a 320-400 mm field of view, enough lung.
    envelope = Envelope(
        modalities=("CT",), slice_thickness_mm=(0.5, 1.25), min_coverage_mm=60.0,
        pixel_spacing_mm=(0.5, 1.6), kvp=(80.0, 140.0), contrast=None,
        preferred_kernels=("LUNG", "B6", "B7", "SHARP"),
        source="evaluate_model lung_nodule --slice-thickness / --matrix on generated chest CTs",
    )

    def __init__(self, weights: Path | str | None = None) -> None:
        self.weights = Path(weights or DEFAULT_WEIGHTS)
        self._net: MultiViewNet | None = None
        self._meta: dict = {}
        self._lock = threading.Lock()

    def network(self) -> tuple[MultiViewNet, dict]:
        """Weights load once per process, on first use (a worker without them still starts)."""
        with self._lock:
            if self._net is None:
                if not self.weights.exists():
                    raise FileNotFoundError(f"lung nodule weights not found at {self.weights}; "
                                            "run: python manage.py train_model lung_nodule")
                self._net, self._meta = load_network(str(self.weights))
            return self._net, self._meta

    @property
    def threshold(self) -> float:
        return float(self.network()[1].get("threshold", DEFAULT_THRESHOLD))

    def predict_all(self, volume: Volume) -> list[Finding]:
        """Every scored finding above a low floor, most probable first (for FROC curves)."""
        torch.set_num_threads(2)
        res = resample_lungs(volume)
        if res is None:
            return []
        candidates = detect_candidates(res)
        if not candidates:
            return []
        probability = self.score_candidates(res, candidates)
        return self.findings(volume, candidates, probability)

    def score_candidates(self, res, candidates) -> np.ndarray:
        net, _ = self.network()
        centres = np.array([res.from_lps(c.centre_mm) for c in candidates])
        views = extract_views(res.hu, centres)
        scalars = candidate_features(candidates)
        probability = score(net, views, scalars)
        # Only the most probable candidates are ever measured: re-score those on mirror images.
        top = np.argsort(-probability)[:MAX_MEASURED]
        mirrored = score_mirrored(net, views[top], scalars[top], probability[top])
        # The rest stay strictly below every re-scored one, so the measured set does not change.
        if len(mirrored):
            probability = np.minimum(probability, np.nextafter(mirrored.min(), np.float32(0)))
            probability[top] = mirrored
        return probability

    def findings(self, volume: Volume, candidates, probability: np.ndarray) -> list[Finding]:
        """Measure the most probable candidates; one finding per nodule, most probable first."""
        order = [int(i) for i in np.argsort(-probability) if probability[i] >= SCORE_FLOOR][:MAX_MEASURED]
        findings: list[Finding] = []
        calcified: list[np.ndarray] = []
        for i in order:
            candidate = candidates[i]
            m = measure_nodule_grown(volume, candidate.centre_mm, candidate.radius_mm)
            # The candidate must lie inside what was measured, or the segmentation found something else.
            moved = m is not None and (np.linalg.norm(m.centre_mm - candidate.centre_mm)
                                       > max(candidate.radius_mm, m.long_axis_mm / 2, 2.0))
            if m is not None and not moved and m.calcified:
                # Benign calcification (Lung-RADS v2022 category 1): not a nodule to report or rank.
                calcified.append(m.centre_mm)
                continue
            if m is None or moved:
                # Nothing measurable where the network looked: keep the detector's estimate.
                d = 2 * candidate.radius_mm
                findings.append(Finding(centre_mm=tuple(candidate.centre_mm), diameter_mm=d, kind="solid",
                                        probability=float(probability[i]), mean_diameter_mm=d, solid_mm=None))
            else:
                findings.append(Finding(centre_mm=tuple(m.centre_mm), diameter_mm=m.long_axis_mm, kind=m.kind,
                                        probability=float(probability[i]), mean_diameter_mm=m.mean_diameter_mm,
                                        solid_mm=m.solid_mm if m.kind == "part_solid" else None,
                                        short_axis_mm=m.short_axis_mm))
        # A fallback mark (nothing measurable) sitting on a calcified nodule is that nodule, too.
        findings = [f for f in findings if not any(np.linalg.norm(np.subtract(f.centre_mm, c)) <= 3.0
                                                   for c in calcified)]
        return merge_same_nodule(findings)

    def predict(self, volume: Volume) -> Prediction:
        everything = self.predict_all(volume)
        threshold = self.threshold
        reported = [f for f in everything if f.probability >= threshold]
        suspicion = max((f.probability for f in everything), default=0.0)
        return Prediction(findings=reported, suspicion=round(float(suspicion), 4))

    def summarise(self, prediction: Prediction) -> tuple[str, str]:
        return lungrads_summary(prediction.findings)


def merge_same_nodule(findings: list[Finding]) -> list[Finding]:
    """One finding per nodule: a finding overlapping a larger one is part of it.

    Several candidates sit on a large or ground-glass nodule (the blob filter answers at its
    centre and on its edge); the largest measurement is the nodule's, and it takes the highest
    probability of any mark on it. Order-independent, unlike keeping the first mark seen: a
    rim mark scored above the centre mark once replaced a 21.5 mm nodule by a 5 mm one.
    """
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda f: (-f.diameter_mm, -f.probability)):
        # A mark on a nodule's blurred edge measures a sliver centred just outside its radius.
        home = next((k for k in kept if np.linalg.norm(np.subtract(f.centre_mm, k.centre_mm))
                     <= (k.diameter_mm + f.diameter_mm) / 2), None)
        if home is None:
            kept.append(f)
        elif f.probability > home.probability:
            home.probability = f.probability
    return sorted(kept, key=lambda f: -f.probability)


def lungrads_nodules(findings: list[Finding]) -> list[lungrads.Nodule]:
    return [lungrads.Nodule(kind=f.kind, diameter_mm=float(f.mean_diameter_mm or f.diameter_mm),
                            solid_mm=f.solid_mm) for f in findings]


def lungrads_summary(findings: list[Finding]) -> tuple[str, str]:
    """Category ("lungrads:4A") and headline
    ("3 nodules, largest 11.2 mm mean diameter (Lung-RADS v2022) solid, Lung-RADS 4A").

    Sizes in the headline are Lung-RADS v2022 mean diameters to 0.1 mm, the numbers the category is
    based on, shown with that convention as the reading page and the report show them.
    """
    suggestion = lungrads.suggest(lungrads_nodules(findings), baseline=True)
    if not findings:
        return suggestion.as_category, f"No nodule ≥ 3 mm found, Lung-RADS {suggestion.category}"
    largest = max(findings, key=lambda f: f.mean_diameter_mm or f.diameter_mm)
    size = lungrads.round_mm(largest.mean_diameter_mm or largest.diameter_mm)
    kind = largest.kind.replace("_", "-")
    noun = "nodule" if len(findings) == 1 else "nodules"
    headline = (f"{len(findings)} {noun}, largest {size:.1f} mm mean diameter (Lung-RADS v2022) {kind}, "
                f"Lung-RADS {suggestion.category}")
    return suggestion.as_category, headline
