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
from inference.cad.lung_nodule.candidates import detect_candidates, resample_lungs
from inference.cad.lung_nodule.measure import measure_nodule
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
        """Measure the most probable candidates; drop a second finding on one nodule."""
        order = [int(i) for i in np.argsort(-probability) if probability[i] >= SCORE_FLOOR][:MAX_MEASURED]
        findings: list[Finding] = []
        for i in order:
            candidate = candidates[i]
            m = measure_nodule(volume, candidate.centre_mm, candidate.radius_mm)
            moved = m is not None and (np.linalg.norm(m.centre_mm - candidate.centre_mm)
                                       > max(candidate.radius_mm, 2.0))
            if m is None or moved:
                # Nothing measurable where the network looked: keep the detector's estimate.
                d = 2 * candidate.radius_mm
                finding = Finding(centre_mm=tuple(candidate.centre_mm), diameter_mm=d, kind="solid",
                                  probability=float(probability[i]), mean_diameter_mm=d, solid_mm=None)
            else:
                finding = Finding(centre_mm=tuple(m.centre_mm), diameter_mm=m.long_axis_mm, kind=m.kind,
                                  probability=float(probability[i]), mean_diameter_mm=m.mean_diameter_mm,
                                  solid_mm=m.solid_mm if m.kind == "part_solid" else None)
            # The same nodule found twice (two scales, two peaks): keep the more probable.
            if any(np.linalg.norm(np.subtract(finding.centre_mm, f.centre_mm))
                   < max(f.diameter_mm, finding.diameter_mm) / 2 for f in findings):
                continue
            findings.append(finding)
        return findings

    def predict(self, volume: Volume) -> Prediction:
        everything = self.predict_all(volume)
        threshold = self.threshold
        reported = [f for f in everything if f.probability >= threshold]
        suspicion = max((f.probability for f in everything), default=0.0)
        return Prediction(findings=reported, suspicion=round(float(suspicion), 4))

    def summarise(self, prediction: Prediction) -> tuple[str, str]:
        return lungrads_summary(prediction.findings)


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
