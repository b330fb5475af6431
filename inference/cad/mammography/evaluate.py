"""Case- and lesion-level evaluation on generated four-view mammograms (synthetic data only).

Case level: ROC AUC of the case suspicion (cases with any lesion are positive), with a 95 %
bootstrap interval, and sensitivity at 90 % specificity. Lesion level: a reference lesion is
found when a reported lesion (probability at or above the operating threshold) puts a mark
inside the lesion's box on one of the views that show it; masses and calcification clusters
are counted separately, by density. A false-positive mark is a reported view mark inside no
reference box on its view.

Hard phantoms (phantom="hard") carry benign mimics (cysts, fibroadenomas, focal asymmetry,
vascular, punctate and rim calcifications): a case is positive only when it holds a finding that
needs recall, so a case with benign mimics only is a negative case, and the recall rate among those
cases and the marks on the mimics are reported. Several seeds (--seeds) are pooled: each seed's
figures, their mean, and a 95 % interval from a bootstrap over the pooled cases.
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
    benign: list[dict] = field(default_factory=list)  # benign mimics: type, breast, views {name: bbox_px}
    seed_group: int | None = None  # the --seeds value this case was drawn from

    @property
    def positive(self) -> bool:
        return bool(self.truth)


def _inside(box, col: float, row: float) -> bool:
    return box[0] <= col <= box[2] and box[1] <= row <= box[3]


_MODEL = None


def _case(args: tuple) -> CaseResult:
    import torch

    from inference.cad.mammography.images import four_views
    from inference.cad.mammography.model import MammographyModel
    from inference.synthetic import generate_study

    global _MODEL
    seed, matrix, weights, phantom, vendor = args
    torch.set_num_threads(1)
    if _MODEL is None:
        _MODEL = MammographyModel(weights)
    study = generate_study("mammography", seed=seed, matrix=matrix, phantom=phantom, vendor=vendor)
    views = four_views(study.datasets)
    started = time.perf_counter()
    prediction = _MODEL.predict(views)
    seconds = time.perf_counter() - started
    truth, benign = ([{"type": les["type"], "breast": les["breast"], "size_mm": les["size_mm"],
                       "views": {name: v["bbox_px"] for name, v in les["views"].items()}} for les in study.truth[key]]
                     for key in ("lesions", "benign_findings"))
    lesions = [(float(les.probability), les.type, les.breast,
                [(m.view, float(m.point_px[0]), float(m.point_px[1])) for m in les.marks])
               for les in prediction.lesions]
    return CaseResult(seed=seed, density=study.truth["density"], predicted_density=prediction.density,
                      suspicion=float(prediction.case_suspicion), truth=truth, lesions=lesions, seconds=seconds,
                      benign=benign)


def run_cases(seeds: list[int], *, matrix: str, weights: str | None, workers: int, log=print,
              phantom: str = "default", vendor: str = "A") -> list[CaseResult]:
    results = []
    started = time.monotonic()
    jobs = [(s, matrix, weights, phantom, vendor) for s in seeds]
    with get_context("spawn").Pool(workers) as pool:
        for n, result in enumerate(pool.imap_unordered(_case, jobs), 1):
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



# --- benign mimics and several seeds ------------------------------------------------------


def mimic_marks(result: CaseResult, threshold: float) -> int:
    """Reported view marks (at the threshold) on a benign mimic and on no finding that needs recall."""
    reported = [les for les in result.lesions if les[0] >= threshold]
    return sum(1 for les in reported for view, c, r in les[3]
               if any(view in b["views"] and _inside(b["views"][view], c, r) for b in result.benign)
               and not any(view in ref["views"] and _inside(ref["views"][view], c, r) for ref in result.truth))


def case_figures(results: list[CaseResult], threshold: float) -> dict:
    """Case AUC, sensitivity / specificity at the threshold, recall rate among cases whose only
    findings are benign mimics, marks on mimics per case and per mimic."""
    scores = np.array([r.suspicion for r in results], float)
    labels = np.array([r.positive for r in results], bool)
    recalled = scores >= threshold
    benign_only = np.array([not r.positive and bool(r.benign) for r in results], bool)
    mimics = sum(len(r.benign) for r in results)
    marks = sum(mimic_marks(r, threshold) for r in results)
    return {
        "auc": roc_auc(scores, labels),
        "sensitivity": float(recalled[labels].mean()) if labels.any() else float("nan"),
        "specificity": float((~recalled[~labels]).mean()) if (~labels).any() else float("nan"),
        "recall_benign_only": float(recalled[benign_only].mean()) if benign_only.any() else float("nan"),
        "mimic_marks_per_case": marks / max(len(results), 1),
        "mimic_marks_per_mimic": marks / mimics if mimics else float("nan"),
        "cases": len(results), "positive": int(labels.sum()), "benign_only": int(benign_only.sum()),
        "mimics": mimics,
    }


SEED_FIGURES = (("auc", "case AUC"), ("sensitivity", "sensitivity at the threshold"),
                ("specificity", "specificity at the threshold"),
                ("recall_benign_only", "recall rate, cases with benign mimics only"),
                ("mimic_marks_per_case", "marks on benign mimics per case"))


def bootstrap_figures(results: list[CaseResult], threshold: float, *, rounds: int = 1000,
                      seed: int = 0) -> dict[str, tuple[float, float]]:
    """95 % percentile intervals of case_figures over cases drawn with replacement (pooled seeds)."""
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {key: [] for key, _ in SEED_FIGURES}
    for _ in range(rounds):
        picked = [results[i] for i in rng.integers(0, len(results), len(results))]
        figures = case_figures(picked, threshold)
        for key in draws:
            draws[key].append(figures[key])
    out = {}
    for key, values in draws.items():
        values = np.asarray(values, float)
        values = values[~np.isnan(values)]  # a resample without positives (or mimics) has no value
        out[key] = (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))) if values.size else (
            float("nan"), float("nan"))
    return out


def seeds_table(results: list[CaseResult], threshold: float, seeds: list[int]) -> list[str]:
    """One row per seed, the mean over seeds, and the pooled figure with its 95 % bootstrap CI."""
    per_seed = [(seed, case_figures([r for r in results if r.seed_group == seed], threshold)) for seed in seeds]
    pooled = case_figures(results, threshold)
    ci = bootstrap_figures(results, threshold)
    head = "| seed | cases (with recall findings / benign mimics only) | " + " | ".join(
        name for _, name in SEED_FIGURES) + " |"
    lines = [head, "| " + " | ".join(["---"] * (len(SEED_FIGURES) + 2)) + " |"]
    for seed, f in per_seed:
        lines.append(f"| {seed} | {f['cases']} ({f['positive']} / {f['benign_only']}) | "
                     + " | ".join(f"{f[key]:.3f}" for key, _ in SEED_FIGURES) + " |")
    mean = {key: float(np.nanmean([f[key] for _, f in per_seed])) for key, _ in SEED_FIGURES}
    lines.append(f"| **mean of {len(per_seed)} seeds** | {pooled['cases']} ({pooled['positive']} / "
                 f"{pooled['benign_only']}) | " + " | ".join(f"**{mean[key]:.3f}**" for key, _ in SEED_FIGURES) + " |")
    lines.append("| pooled, 95 % CI (bootstrap over cases) | | " + " | ".join(
        f"{pooled[key]:.3f} ({ci[key][0]:.3f}–{ci[key][1]:.3f})" for key, _ in SEED_FIGURES) + " |")
    return lines


def mimic_type_lines(results: list[CaseResult], threshold: float) -> list[str]:
    """Per benign mimic type: how many there were and how many carried a mark at the threshold."""
    counts: dict[str, list[int]] = {}
    for r in results:
        reported = [les for les in r.lesions if les[0] >= threshold]
        for b in r.benign:
            marked = any(view in b["views"] and _inside(b["views"][view], c, row)
                         for les in reported if les[2] == b["breast"] for view, c, row in les[3])
            counts.setdefault(b["type"], [0, 0])
            counts[b["type"]][0] += 1
            counts[b["type"]][1] += int(marked)
    if not counts:
        return []
    return ["| benign mimic | count | marked at the threshold |", "| --- | --- | --- |",
            *[f"| {kind} | {n} | {m} ({m / n:.2f}) |" for kind, (n, m) in sorted(counts.items())]]
