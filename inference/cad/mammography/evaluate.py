"""Case- and lesion-level evaluation on generated four-view mammograms (synthetic data only).

Case level: ROC AUC of the case suspicion (cases with any lesion are positive), with a 95 %
bootstrap interval, and sensitivity at 90 % specificity. Lesion level: a reference lesion is
found when a reported lesion (probability at or above the operating threshold) puts a mark
inside the lesion's box on one of the views that show it; masses and calcification clusters
are counted separately, by density. A false-positive mark is a reported view mark inside no
reference box on its view.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np

TEST_SEED_BASE = 500_000_000  # training uses 300_000_000+, validation 400_000_000+
DENSITIES = "abcd"


def evaluation_seeds(seed: int, count: int, *, split: str = "test") -> list[int]:
    from inference.cad.mammography.train import VALIDATION_SEED_BASE

    base = TEST_SEED_BASE if split == "test" else VALIDATION_SEED_BASE
    return [base + seed * 100_000 + i for i in range(count)]


@dataclass
class CaseResult:
    seed: int
    density: str
    predicted_density: str
    suspicion: float
    truth: list[dict]  # reference lesions: type, breast, views {name: bbox_px}
    # (probability, type, breast, [(view, col, row)]) for every lesion above the decoding floor
    lesions: list[tuple[float, str, str, list[tuple[str, float, float]]]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def positive(self) -> bool:
        return bool(self.truth)


def _inside(box, col: float, row: float) -> bool:
    return box[0] <= col <= box[2] and box[1] <= row <= box[3]


_MODEL = None


def _case(args: tuple[int, str, str | None]) -> CaseResult:
    import torch

    from inference.cad.mammography.images import four_views
    from inference.cad.mammography.model import MammographyModel
    from inference.synthetic import generate_study

    global _MODEL
    seed, matrix, weights = args
    torch.set_num_threads(1)
    if _MODEL is None:
        _MODEL = MammographyModel(weights)
    study = generate_study("mammography", seed=seed, matrix=matrix)
    views = four_views(study.datasets)
    started = time.perf_counter()
    prediction = _MODEL.predict(views)
    seconds = time.perf_counter() - started
    truth = [{"type": les["type"], "breast": les["breast"], "size_mm": les["size_mm"],
              "views": {name: v["bbox_px"] for name, v in les["views"].items()}} for les in study.truth["lesions"]]
    lesions = [(float(les.probability), les.type, les.breast,
                [(m.view, float(m.point_px[0]), float(m.point_px[1])) for m in les.marks])
               for les in prediction.lesions]
    return CaseResult(seed=seed, density=study.truth["density"], predicted_density=prediction.density,
                      suspicion=float(prediction.case_suspicion), truth=truth, lesions=lesions, seconds=seconds)


def run_cases(seeds: list[int], *, matrix: str, weights: str | None, workers: int, log=print) -> list[CaseResult]:
    results = []
    started = time.monotonic()
    with get_context("spawn").Pool(workers) as pool:
        for n, result in enumerate(pool.imap_unordered(_case, [(s, matrix, weights) for s in seeds]), 1):
            results.append(result)
            if n % 25 == 0:
                log(f"  {n}/{len(seeds)} cases ({time.monotonic() - started:.0f} s)")
    return sorted(results, key=lambda r: r.seed)


# --- case level ---------------------------------------------------------------------------


def roc_auc(scores, labels) -> float:
    """Mann-Whitney form: the chance a random positive outscores a random negative (ties half)."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    pos, neg = scores[labels], scores[~labels]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def bootstrap_auc_ci(scores, labels, *, rounds: int = 1000, seed: int = 0) -> tuple[float, float]:
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        pick = rng.integers(0, len(scores), len(scores))
        if labels[pick].all() or not labels[pick].any():
            continue
        values.append(roc_auc(scores[pick], labels[pick]))
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def sensitivity_at_specificity(scores, labels, specificity: float = 0.9) -> float:
    """Sensitivity at the lowest threshold whose specificity is at least the target."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    neg = np.sort(scores[~labels])
    if not len(neg) or not labels.any():
        return float("nan")
    # Specificity >= target when at most floor((1 - target) * n) negatives score above the threshold.
    allowed = int(np.floor((1 - specificity) * len(neg) + 1e-9))
    threshold = neg[len(neg) - allowed - 1] if allowed < len(neg) else -np.inf
    return float((scores[labels] > threshold).mean())


def threshold_at_specificity(results: list[CaseResult], specificity: float) -> float:
    """The lowest case-suspicion threshold (a case is suspicious at >=) keeping the target specificity."""
    neg = np.sort([r.suspicion for r in results if not r.positive])
    allowed = int(np.floor((1 - specificity) * len(neg) + 1e-9))
    if allowed >= len(neg):
        return 0.0
    return float(np.nextafter(neg[len(neg) - allowed - 1], 1.0))


# --- lesion level -------------------------------------------------------------------------


def lesion_hits(result: CaseResult, threshold: float) -> tuple[list[bool], int]:
    """Per reference lesion: found at the threshold; and the number of false-positive view marks."""
    reported = [les for les in result.lesions if les[0] >= threshold]
    found = []
    for ref in result.truth:
        found.append(any(les[2] == ref["breast"] and any(view in ref["views"] and _inside(ref["views"][view], c, r)
                                                          for view, c, r in les[3]) for les in reported))
    fps = sum(1 for les in reported for view, c, r in les[3]
              if not any(view in ref["views"] and _inside(ref["views"][view], c, r) for ref in result.truth))
    return found, fps


def _rate(hits: list[bool]) -> str:
    return f"{np.mean(hits):.2f} ({sum(hits)}/{len(hits)})" if hits else "–"


def markdown_table(results: list[CaseResult], threshold: float, *, matrix: str, command: str) -> str:
    scores = [r.suspicion for r in results]
    labels = [r.positive for r in results]
    auc = roc_auc(scores, labels)
    low, high = bootstrap_auc_ci(scores, labels)
    suspicious = np.array(scores) >= threshold
    labels_arr = np.array(labels)
    rows = []
    fp_total = 0
    for group in ["all", *DENSITIES]:
        chosen = [r for r in results if group == "all" or r.density == group]
        if not chosen:
            continue
        mass, calc = [], []
        for r in chosen:
            found, fps = lesion_hits(r, threshold)
            if group == "all":
                fp_total += fps
            for ref, hit in zip(r.truth, found, strict=True):
                (calc if ref["type"] == "calcification_cluster" else mass).append(hit)
        s, y = [r.suspicion for r in chosen], [r.positive for r in chosen]
        pos, neg = sum(y), len(y) - sum(y)
        g_auc = roc_auc(s, y)
        g_sens = sensitivity_at_specificity(s, y, 0.9)
        label = "**all**" if group == "all" else group
        rows.append(f"| {label} | {len(chosen)} ({pos} / {neg}) | {g_auc:.3f} | {g_sens:.2f} | "
                    f"{_rate(mass)} | {_rate(calc)} |")
    confusion = {(t, p): 0 for t in DENSITIES for p in DENSITIES}
    for r in results:
        confusion[(r.density, r.predicted_density)] += 1
    accuracy = np.mean([r.density == r.predicted_density for r in results])
    seconds = [r.seconds for r in results]
    sens_op = float(suspicious[labels_arr].mean()) if labels_arr.any() else float("nan")
    spec_op = float((~suspicious[~labels_arr]).mean()) if (~labels_arr).any() else float("nan")
    lines = [
        f"Command: `{command}`  ",
        f"Held-out **synthetic** four-view mammograms (inference/synthetic/mammography.py): {len(results)} cases, "
        f"matrix \"{matrix}\", {sum(labels)} with lesions, {len(labels) - sum(labels)} normal.",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| **case-level ROC AUC** (95 % bootstrap CI) | **{auc:.3f}** ({low:.3f}–{high:.3f}) |",
        f"| sensitivity at 90 % specificity (this set's ROC) | {sensitivity_at_specificity(scores, labels, 0.9):.3f} |",
        f"| operating threshold (model card, set on validation cases) | {threshold:.3f} |",
        f"| sensitivity / specificity at the threshold (BI-RADS 0 rate {suspicious.mean():.2f}) "
        f"| {sens_op:.3f} / {spec_op:.3f} |",
        f"| false-positive marks per case at the threshold | {fp_total / max(len(results), 1):.2f} |",
        f"| density category accuracy | {accuracy:.3f} |",
        f"| predict() time per four-view case, median (1 thread per worker) | {np.median(seconds):.2f} s |",
        "",
        "By density (lesion-level sensitivity at the operating threshold; a lesion is found when a reported "
        "mark lies inside its box on a view):",
        "",
        "| density | cases (with lesions / normal) | case AUC | sensitivity at 90 % specificity "
        "| mass sensitivity (found/n) | calcification sensitivity (found/n) |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Density confusion (rows: reference, columns: model):",
        "",
        "| reference \\ model | a | b | c | d |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {t} | " + " | ".join(str(confusion[(t, p)]) for p in DENSITIES) + " |" for t in DENSITIES],
    ]
    return "\n".join(lines)
