"""Evaluation of the prostate model on generated studies (synthetic data only).

Per case: Dice of whole gland, PZ and TZ on the T2 grid against the truth masks; gland volume
error against the truth's ellipsoid volume; lesion marks for a FROC curve. A lesion mark is a
hit when its centre lies within the lesion's radius (at least 5 mm: one 3 mm slice and some)
of the true centre; a second mark on one lesion is neither a hit nor a false positive (as in
LUNA16); every other mark is a false positive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np

MIN_HIT_RADIUS_MM = 5.0


@dataclass
class CaseResult:
    seed: int
    dice: dict[str, float]
    volume_true_ml: float
    volume_pred_ml: float
    lesions: int
    marks: list[tuple[float, int]] = field(default_factory=list)  # (probability, lesion index or -1)
    diameters: list[tuple[float, float, float]] = field(default_factory=list)  # hits: (probability, found, true)
    seconds: float = 0.0
    psa_density: float | None = None

    def diameter_errors(self, threshold: float = 0.0) -> list[float]:
        """Measured minus true long axis (mm) of the lesions found at or above `threshold`."""
        return [found - true for p, found, true in self.diameters if p >= threshold]

    @property
    def volume_error(self) -> float:
        return abs(self.volume_pred_ml - self.volume_true_ml) / self.volume_true_ml


def dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int(np.sum(a & b)) / total


def diameters(lesions_found, truth_lesions: list[dict], marks) -> list[tuple[float, float, float]]:
    by_probability = {float(f.probability): f for f in lesions_found}
    return [(p, float(by_probability[p].diameter_mm), float(truth_lesions[i]["diameter_mm"]))
            for p, i in marks if i >= 0]


def match(lesions_found, truth_lesions: list[dict]) -> list[tuple[float, int]]:
    marks, taken = [], set()
    centres = np.array([t["center_mm"] for t in truth_lesions]) if truth_lesions else np.zeros((0, 3))
    radii = np.array([max(t["diameter_mm"] / 2, MIN_HIT_RADIUS_MM) for t in truth_lesions])
    for lesion in sorted(lesions_found, key=lambda f: -f.probability):
        index = -1
        if len(centres):
            distance = np.linalg.norm(centres - np.array(lesion.centre_mm), axis=1)
            inside = np.flatnonzero(distance <= radii)
            if len(inside):
                index = int(inside[np.argmin(distance[inside])])
                if index in taken:
                    continue
                taken.add(index)
        marks.append((float(lesion.probability), index))
    return marks


_MODEL = None


def _case(args: tuple) -> CaseResult:
    import torch

    from inference.cad.prostate.model import ProstateModel, case_from_datasets
    from inference.synthetic.prostate_mri import generate_prostate_mri, prostate_masks

    global _MODEL
    seed, weights, overrides = args
    torch.set_num_threads(1)
    if _MODEL is None or str(_MODEL.weights) != str(weights or _MODEL.weights):
        _MODEL = ProstateModel(weights)
    _MODEL.network()[1].update(overrides)  # validation only: trying a post-processing setting
    datasets, truth, _ = generate_prostate_mri(seed)
    case = case_from_datasets(datasets)
    del datasets
    started = time.perf_counter()
    prediction = _MODEL.predict(case)
    seconds = time.perf_counter() - started
    masks = prostate_masks(truth, "t2w")
    labels = prediction.zones.labels
    marks = match(prediction.lesions, truth["lesions"])
    return CaseResult(
        seed=seed,
        dice={"gland": dice(labels > 0, masks["gland"]), "pz": dice(labels == 1, masks["pz"]),
              "tz": dice(labels == 2, masks["tz"])},
        volume_true_ml=float(truth["anatomy"]["gland_volume_ml"]), volume_pred_ml=prediction.gland_ml,
        lesions=len(truth["lesions"]), marks=marks, diameters=diameters(prediction.lesions, truth["lesions"], marks),
        seconds=seconds, psa_density=prediction.psa_density,
    )


def run_cases(seeds: list[int], *, weights: str | None = None, workers: int = 2, log=None,
              overrides: dict | None = None) -> list[CaseResult]:
    jobs = [(s, weights, dict(overrides or {})) for s in seeds]
    if workers <= 1:
        results = []
        for n, job in enumerate(jobs, 1):
            results.append(_case(job))
            if log and n % 10 == 0:
                log(f"{n}/{len(jobs)} cases")
        return results
    with get_context("spawn").Pool(workers) as pool:
        return pool.map(_case, jobs, chunksize=2)


def froc(results: list[CaseResult]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, sensitivity, false positives per case) as the threshold falls past each mark."""
    marks = sorted(((p, i >= 0) for r in results for p, i in r.marks), key=lambda m: -m[0])
    total = max(sum(r.lesions for r in results), 1)
    hits = np.cumsum([hit for _, hit in marks])
    fps = np.cumsum([not hit for _, hit in marks])
    thresholds = np.array([p for p, _ in marks])
    return thresholds, hits / total, fps / max(len(results), 1)


def sensitivity_at_fp(results: list[CaseResult], fp_per_case: float) -> float:
    _, sensitivity, fps = froc(results)
    allowed = np.flatnonzero(fps <= fp_per_case)
    return float(sensitivity[allowed[-1]]) if len(allowed) else 0.0


def threshold_at(results: list[CaseResult], fp_per_case: float) -> float:
    """The lowest mark probability at which false positives per case stay within fp_per_case."""
    thresholds, _, fps = froc(results)
    allowed = np.flatnonzero(fps <= fp_per_case)
    return round(float(thresholds[allowed[-1]]), 4) if len(allowed) else 1.0


def at_threshold(results: list[CaseResult], threshold: float) -> tuple[float, float]:
    hits = sum(1 for r in results for p, i in r.marks if p >= threshold and i >= 0)
    fps = sum(1 for r in results for p, i in r.marks if p >= threshold and i < 0)
    return hits / max(sum(r.lesions for r in results), 1), fps / max(len(results), 1)


def _size_text(sizes: np.ndarray) -> str:
    if not len(sizes):
        return "none found"
    return (f"{np.median(sizes):+.1f} mm ({np.median(np.abs(sizes)):.1f} mm, "
            f"{np.percentile(np.abs(sizes), 90):.1f} mm)")


def markdown_table(results: list[CaseResult], threshold: float, *, command: str) -> str:
    def median_iqr(values) -> str:
        q1, med, q3 = np.percentile(values, [25, 50, 75])
        return f"{med:.3f} ({q1:.3f}–{q3:.3f})"

    errors = np.array([r.volume_error for r in results]) * 100
    sizes = np.array([d for r in results for d in r.diameter_errors(threshold)])
    sens_1fp = sensitivity_at_fp(results, 1.0)
    sens_op, fp_op = at_threshold(results, threshold)
    lesions = sum(r.lesions for r in results)
    normal = sum(1 for r in results if r.lesions == 0)
    rows = [
        f"Held-out **synthetic** studies: {len(results)} ({normal} without a lesion, {lesions} lesions), "
        f"seeds {results[0].seed}–{results[-1].seed}.",
        f"Command: `{command}`",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| Dice, whole gland: median (IQR) | {median_iqr([r.dice['gland'] for r in results])} |",
        f"| Dice, peripheral zone: median (IQR) | {median_iqr([r.dice['pz'] for r in results])} |",
        f"| Dice, transition zone: median (IQR) | {median_iqr([r.dice['tz'] for r in results])} |",
        f"| Gland volume error: median absolute % (90th percentile) | {np.median(errors):.1f} % "
        f"({np.percentile(errors, 90):.1f} %) |",
        f"| Lesion sensitivity at 1 false positive per case (FROC) | {sens_1fp:.3f} |",
        f"| Lesion sensitivity at the operating threshold {threshold:.3f} | {sens_op:.3f} "
        f"({fp_op:.2f} false positives per case) |",
        f"| Lesion long axis, measured − true, lesions found at the threshold (n = {len(sizes)}): median "
        f"(median absolute, 90th percentile absolute) | {_size_text(sizes)} |",
        f"| Median predict time per study (1 thread, evaluation process) | "
        f"{np.median([r.seconds for r in results]):.2f} s |",
    ]
    return "\n".join(rows)
