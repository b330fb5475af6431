"""Evaluation of the prostate model on generated studies (synthetic data only).

Per case: Dice of whole gland, PZ and TZ on the T2 grid against the truth masks; gland volume
error against the truth's ellipsoid volume; lesion marks for a FROC curve. A lesion mark is a
hit when its centre lies within the lesion's radius (at least 5 mm: one 3 mm slice and some)
of the true centre; a second mark on one lesion is neither a hit nor a false positive (as in
LUNA16); every other mark is a false positive.

On the hard phantom each study also holds benign BPH nodules (the truth's `benign_mimics`): a mark
on one is a false positive (counted as any other) and is also reported apart, with the AUC of
lesion suspicion against benign nodules (each lesion scored by its best mark, each nodule by the
best mark on it, 0 when unmarked). Several seeds (`--seeds`) give one row each and their mean,
with a 95 % interval from a bootstrap over cases (cases redrawn within each seed, 1000 times).
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
    case_score: float = 0.0  # the study's suspicion: its most probable mark
    mimic_marks: list[float] = field(default_factory=list)  # per BPH nodule: best mark probability on it, or 0
    seed_group: int | None = None  # the --seeds value this case was drawn from

    @property
    def lesion_scores(self) -> list[float]:
        """Per true lesion, the probability of the mark that found it, or 0 when missed."""
        best = {i: p for p, i in self.marks if i >= 0}
        return [best.get(i, 0.0) for i in range(self.lesions)]

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


def mimic_marks(lesions_found, truth_lesions: list[dict], mimics: list[dict]) -> list[float]:
    """Per benign nodule, the highest probability of a mark whose centre lies on it (within its
    largest semi-axis, at least MIN_HIT_RADIUS_MM) and on no true lesion; 0 when none does."""
    def near(lesion, obj: dict) -> bool:
        reach = max(obj["diameter_mm"] / 2, MIN_HIT_RADIUS_MM)
        return float(np.linalg.norm(np.array(lesion.centre_mm) - np.array(obj["center_mm"]))) <= reach

    free = [f for f in lesions_found if not any(near(f, t) for t in truth_lesions)]
    return [max((float(f.probability) for f in free if near(f, m)), default=0.0) for m in mimics]


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
    seed, weights, overrides, phantom, vendor = args
    torch.set_num_threads(1)
    if _MODEL is None or str(_MODEL.weights) != str(weights or _MODEL.weights):
        _MODEL = ProstateModel(weights)
    _MODEL.network()[1].update(overrides)  # validation only: trying a post-processing setting
    datasets, truth, _ = generate_prostate_mri(seed, phantom=phantom, vendor=vendor)
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
        seconds=seconds, psa_density=prediction.psa_density, case_score=prediction.suspicion,
        mimic_marks=mimic_marks(prediction.lesions, truth["lesions"], truth.get("benign_mimics", [])),
    )


def run_cases(seeds: list[int], *, weights: str | None = None, workers: int = 2, log=None,
              overrides: dict | None = None, phantom: str | list[str] = "default",
              vendor: str = "A") -> list[CaseResult]:
    """One CaseResult per seed; `phantom` is one name for all or one per seed."""
    phantoms = [phantom] * len(seeds) if isinstance(phantom, str) else list(phantom)
    jobs = [(s, weights, dict(overrides or {}), ph, vendor) for s, ph in zip(seeds, phantoms, strict=True)]
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


def auc(positives: list[float], negatives: list[float]) -> float:
    """Probability that a positive scores above a negative (ties count half); NaN without both."""
    if not positives or not negatives:
        return float("nan")
    pos, neg = np.asarray(positives, float)[:, None], np.asarray(negatives, float)[None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


def case_auc(results: list[CaseResult]) -> float:
    """Studies with a lesion against studies without, by the study's suspicion."""
    return auc([r.case_score for r in results if r.lesions], [r.case_score for r in results if not r.lesions])


def mimic_auc(results: list[CaseResult]) -> float:
    """Lesion suspicion against benign nodules: each lesion by its best mark, each BPH nodule by the
    best mark on it (0 when missed or unmarked)."""
    return auc([s for r in results for s in r.lesion_scores], [m for r in results for m in r.mimic_marks])


def mimics_marked(results: list[CaseResult], threshold: float) -> float:
    """Share of benign nodules carrying a mark at or above threshold (NaN when there are none)."""
    marks = [m for r in results for m in r.mimic_marks]
    return float(np.mean([m >= threshold for m in marks])) if marks else float("nan")


def mean_over_seeds(groups: list[list[CaseResult]], statistic) -> float:
    values = [statistic(g) for g in groups]
    return float(np.nanmean(values)) if not all(np.isnan(values)) else float("nan")


def bootstrap_ci(groups: list[list[CaseResult]], statistic, *, resamples: int = 1000,
                 seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of the mean over seeds of statistic(cases of one seed), the cases
    of each seed drawn with replacement (so each seed keeps its own size)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        picked = [[g[i] for i in rng.integers(0, len(g), len(g))] for g in groups]
        values.append(mean_over_seeds(picked, statistic))
    if np.all(np.isnan(values)):
        return float("nan"), float("nan")
    return float(np.nanpercentile(values, 2.5)), float(np.nanpercentile(values, 97.5))


# The figures reported per seed and averaged over seeds: key, words, statistic(cases, threshold).
SEED_ROWS = (
    ("sensitivity_1fp", "Lesion sensitivity at 1 false positive per case (FROC)",
     lambda rs, t: sensitivity_at_fp(rs, 1.0)),
    ("gland_dice", "Dice, whole gland (median over cases)",
     lambda rs, t: float(np.median([r.dice["gland"] for r in rs]))),
    ("case_auc", "Case AUC (studies with a lesion against without, by the most suspicious mark)",
     lambda rs, t: case_auc(rs)),
    ("mimic_auc", "Lesion suspicion against benign BPH nodules: AUC", lambda rs, t: mimic_auc(rs)),
    ("mimics_marked_1fp", "BPH nodules marked, at the 1 FP/case point of the FROC",
     lambda rs, t: mimics_marked(rs, threshold_at(rs, 1.0))),
    ("mimics_marked_threshold", "BPH nodules marked, at the operating threshold", lambda rs, t: mimics_marked(rs, t)),
    ("sensitivity_threshold", "Lesion sensitivity at the operating threshold", lambda rs, t: at_threshold(rs, t)[0]),
    ("fp_threshold", "False positives per case at the operating threshold", lambda rs, t: at_threshold(rs, t)[1]),
)


def seed_figures(results: list[CaseResult], threshold: float) -> dict[str, float]:
    return {key: statistic(results, threshold) for key, _, statistic in SEED_ROWS}


def seeds_table(groups: dict[int, list[CaseResult]], threshold: float, *, command: str, phantom: str,
                vendor: str) -> str:
    """Per seed, the mean over seeds and its 95 % bootstrap interval (cases redrawn within seeds)."""
    seeds = list(groups)
    cases = [groups[s] for s in seeds]
    per_seed = {s: seed_figures(groups[s], threshold) for s in seeds}
    lesions = sum(r.lesions for g in cases for r in g)
    mimics = sum(len(r.mimic_marks) for g in cases for r in g)
    normal = sum(1 for g in cases for r in g if r.lesions == 0)

    def fmt(value: float) -> str:
        return "–" if np.isnan(value) else f"{value:.3f}"

    lines = [
        f"Command: `{command}`  ",
        f"Held-out **synthetic** prostate MRI, {phantom} phantom, vendor profile {vendor}: "
        f"{sum(len(g) for g in cases)} studies over {len(seeds)} seeds ({normal} without a lesion, {lesions} "
        f"lesions, {mimics} benign BPH nodules); operating threshold {threshold:.3f}. 95 % CI: bootstrap "
        "over cases within each seed (1000 resamples) of the mean over seeds.",
        "",
        "| measure | " + " | ".join(f"seed {s}" for s in seeds) + " | **mean over seeds** (95 % CI) |",
        "| --- | " + " | ".join("---" for _ in seeds) + " | --- |",
    ]
    for key, words, statistic in SEED_ROWS:
        mean = mean_over_seeds(cases, lambda g, statistic=statistic: statistic(g, threshold))
        low, high = bootstrap_ci(cases, lambda g, statistic=statistic: statistic(g, threshold))
        interval = "" if np.isnan(low) else f" ({fmt(low)}–{fmt(high)})"
        lines.append(f"| {words} | " + " | ".join(fmt(per_seed[s][key]) for s in seeds)
                     + f" | **{fmt(mean)}**{interval} |")
    return "\n".join(lines)
