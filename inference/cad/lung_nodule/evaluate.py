"""FROC and the LUNA16 competition performance metric (CPM) on generated chest CTs.

LUNA16 rules: reference nodules are those of 3 mm or more; a finding is a hit when its centre
lies within the nodule's radius (half its long axis) of the nodule's centre; every other finding
is a false positive. CPM is the mean sensitivity at 1/8, 1/4, 1/2, 1, 2, 4 and 8 false positives
per scan. One departure from LUNA16, on purpose: a second mark on a nodule already found counts
as a false positive (LUNA16 ignores it), because a reader shown a nodule split in three reads
three nodules, and ignoring such splits hid them.

Size error is reported by Lung-RADS band (3-6, 6-8, 8-15, >= 15 mm; solid and subsolid) on the
Lung-RADS v2022 mean diameter, and the Lung-RADS category of each nodule (from its own size and
type) is compared with the truth's. Several seeds are pooled; 95 % confidence intervals come from
a bootstrap over scans (percentile method, 1000 resamples).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np

EVAL_SEED_BASE = 20_000_000  # training uses 10_000_000+, validation 15_000_000+
VALIDATION_SEED_BASE = 15_000_000
FP_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
MIN_NODULE_MM = 3.0


def evaluation_seeds(seed: int, count: int, *, split: str = "test") -> list[int]:
    base = EVAL_SEED_BASE if split == "test" else VALIDATION_SEED_BASE
    return [base + seed * 100_000 + i for i in range(count)]


@dataclass
class ScanResult:
    seed: int
    nodules: list[dict]
    # (probability, matched nodule index, -1 for a false positive or -2 for a second mark on a nodule
    # already found, long-axis diameter, type, Lung-RADS mean diameter, solid component).
    marks: list[tuple] = field(default_factory=list)
    seconds: float = 0.0
    seed_group: int | None = None  # the --seeds value this scan was drawn from
    # Benign mimics in the scan (calcified granulomas) and the highest probability of a mark on each.
    mimics: list[dict] = field(default_factory=list)
    mimic_marks: list[float] = field(default_factory=list)


DUPLICATE = -2


def match(findings, nodules: list[dict]) -> list[tuple]:
    """Apply the LUNA16 hit rule to one scan's findings (any order); a second hit is a duplicate."""
    marks = []
    taken: set[int] = set()
    centres = np.array([n["center_mm"] for n in nodules]) if nodules else np.zeros((0, 3))
    radii = np.array([n["long_axis_mm"] / 2 for n in nodules])
    for f in sorted(findings, key=lambda f: -f.probability):
        index = -1
        if len(centres):
            dist = np.linalg.norm(centres - np.array(f.centre_mm), axis=1)
            inside = np.flatnonzero(dist <= radii)
            if len(inside):
                index = int(inside[np.argmin(dist[inside])])
                if index in taken:
                    index = DUPLICATE  # counted as a false positive (LUNA16 would ignore it)
                else:
                    taken.add(index)
        mean = f.mean_diameter_mm if f.mean_diameter_mm is not None else f.diameter_mm
        marks.append((float(f.probability), index, float(f.diameter_mm), f.kind, float(mean),
                      None if f.solid_mm is None else float(f.solid_mm)))
    return marks


_MODEL = None


def _scan(args: tuple) -> ScanResult:
    import torch

    from archive.volumes import volume_from_datasets
    from inference.cad.lung_nodule.model import LungNoduleModel
    from inference.synthetic import generate_study

    global _MODEL
    seed, matrix, protocol, weights, thickness = args[:5]
    granulomas = args[5] if len(args) > 5 else 0
    vendor = args[6] if len(args) > 6 else "A"
    phantom = args[7] if len(args) > 7 else "default"
    torch.set_num_threads(1)
    if _MODEL is None:
        _MODEL = LungNoduleModel(weights)
    study = generate_study("chest_ct", seed=seed, matrix=matrix, protocol=protocol, slice_thickness=thickness,
                           n_granulomas=granulomas, vendor=vendor,
                           phantom=phantom)
    mimics = study.truth.get("benign_mimics", [])
    nodules = [n for n in study.truth["lesions"] if n["long_axis_mm"] >= MIN_NODULE_MM]
    volume = volume_from_datasets(study.datasets)
    del study
    started = time.perf_counter()
    findings = _MODEL.predict_all(volume)
    seconds = time.perf_counter() - started
    mimic_marks = [max((f.probability for f in findings
                        if np.linalg.norm(np.subtract(f.centre_mm, g["center_mm"])) <= g["diameter_mm"] / 2 + 1.0),
                       default=0.0) for g in mimics]
    return ScanResult(seed=seed, nodules=nodules, marks=match(findings, nodules), seconds=seconds, mimics=mimics,
                      mimic_marks=mimic_marks)


def run_scans(seeds: list[int], *, matrix: int, protocol: str, weights: str | None, workers: int,
              log=print, slice_thickness: float | None = None, granulomas: int = 0,
              vendor: str = "A", phantom: str = "default") -> list[ScanResult]:
    results = []
    started = time.monotonic()
    with get_context("spawn").Pool(workers) as pool:
        for n, result in enumerate(pool.imap_unordered(_scan, [(s, matrix, protocol, weights, slice_thickness,
                                                                 granulomas, vendor, phantom) for s in seeds]), 1):
            results.append(result)
            if n % 10 == 0:
                log(f"  {n}/{len(seeds)} scans ({time.monotonic() - started:.0f} s)")
    return sorted(results, key=lambda r: r.seed)


def froc(results: list[ScanResult]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, sensitivity, false positives per scan), from the most probable mark down."""
    marks = sorted(((m[0], m[1]) for r in results for m in r.marks), key=lambda m: -m[0])
    total = sum(len(r.nodules) for r in results)
    scans = len(results)
    probs = np.array([m[0] for m in marks])
    hits = np.cumsum([m[1] >= 0 for m in marks])
    fps = np.cumsum([m[1] < 0 for m in marks])
    return probs, hits / max(total, 1), fps / max(scans, 1)


def cpm(results: list[ScanResult]) -> tuple[float, list[float]]:
    _, sensitivity, fp_rate = froc(results)
    at = []
    for rate in FP_RATES:
        ok = fp_rate <= rate
        at.append(float(sensitivity[ok].max()) if ok.any() else 0.0)
    return float(np.mean(at)), at


def threshold_at(results: list[ScanResult], fp_per_scan: float) -> float:
    """The lowest probability threshold that keeps false positives per scan at or below the rate."""
    probs, _, fp_rate = froc(results)
    ok = np.flatnonzero(fp_rate <= fp_per_scan)
    return float(probs[ok[-1]]) if len(ok) else 1.0


def operating_point(results: list[ScanResult], threshold: float) -> dict:
    total = sum(len(r.nodules) for r in results)
    hits = [(r, m) for r in results for m in r.marks if m[1] >= 0 and m[0] >= threshold]
    fps = sum(1 for r in results for m in r.marks if m[1] < 0 and m[0] >= threshold)
    duplicates = sum(1 for r in results for m in r.marks if m[1] == DUPLICATE and m[0] >= threshold)
    errors = [abs(m[2] - r.nodules[m[1]]["long_axis_mm"]) for r, m in hits]
    types = [m[3] == r.nodules[m[1]]["type"] for r, m in hits]
    return {
        "threshold": threshold,
        "sensitivity": len(hits) / max(total, 1),
        "fp_per_scan": fps / max(len(results), 1),
        "median_diameter_error_mm": float(np.median(errors)) if errors else float("nan"),
        "p90_diameter_error_mm": float(np.percentile(errors, 90)) if errors else float("nan"),
        "type_accuracy": float(np.mean(types)) if types else float("nan"),
        "detected": len(hits),
        "duplicates_per_scan": duplicates / max(len(results), 1),
    }


# --- Lung-RADS: size by band and category agreement per nodule -------------------------------

SIZE_BANDS = ((3.0, 6.0), (6.0, 8.0), (8.0, 15.0), (15.0, float("inf")))


def _truth_nodule(n: dict):
    from triage import lungrads

    return lungrads.Nodule(kind=n["type"], diameter_mm=float(n["mean_diameter_mm"]),
                           solid_mm=n.get("solid_part_mm"))


def _category(nodule) -> str:
    from triage import lungrads

    return lungrads.suggest([nodule], baseline=True).category


def per_nodule(results: list[ScanResult], threshold: float) -> list[dict]:
    """One row per reference nodule: truth and measured mean diameter, type, Lung-RADS categories.

    A nodule not found at the threshold gets the category "missed" (it would go unreported)."""
    from triage import lungrads

    rows = []
    for r in results:
        found = {m[1]: m for m in r.marks if m[1] >= 0 and m[0] >= threshold}
        for index, n in enumerate(r.nodules):
            truth = _truth_nodule(n)
            m = found.get(index)
            row = {"type": n["type"], "truth_mm": float(n["mean_diameter_mm"]), "truth_category": _category(truth),
                   "measured_mm": None, "category": "missed"}
            if m is not None:
                row["measured_mm"] = m[4]
                row["category"] = _category(lungrads.Nodule(kind=m[3], diameter_mm=m[4], solid_mm=m[5]))
            rows.append(row)
    return rows


def size_bands_table(rows: list[dict]) -> list[str]:
    lines = ["| truth mean diameter | type | nodules | found | median abs. error | 90th pct | measured < 10 mm |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for lo, hi in SIZE_BANDS:
        for group, kinds in (("solid", ("solid",)), ("subsolid", ("part_solid", "ground_glass"))):
            band = [r for r in rows if lo <= r["truth_mm"] < hi and r["type"] in kinds]
            found = [r for r in band if r["measured_mm"] is not None]
            errors = [abs(r["measured_mm"] - r["truth_mm"]) for r in found]
            under = sum(1 for r in found if r["measured_mm"] < 10.0) if lo >= 15 else None
            label = f"{lo:g}–{hi:g} mm" if hi != float("inf") else f"≥ {lo:g} mm"
            lines.append(f"| {label} | {group} | {len(band)} | {len(found)} | "
                         + (f"{np.median(errors):.2f} mm | {np.percentile(errors, 90):.2f} mm" if errors else "– | –")
                         + f" | {'–' if under is None else under} |")
    return lines


def category_agreement(rows: list[dict]) -> tuple[float, float]:
    """(agreement over every nodule, missed ones counting as disagreement; agreement over found ones)."""
    if not rows:
        return float("nan"), float("nan")
    found = [r for r in rows if r["category"] != "missed"]
    overall = float(np.mean([r["category"] == r["truth_category"] for r in rows]))
    among = float(np.mean([r["category"] == r["truth_category"] for r in found])) if found else float("nan")
    return overall, among


MIMIC_LABELS = {"calcified_granuloma": "calcified granulomas", "perifissural_nodule": "perifissural nodules",
                "vessel_bifurcation": "vessel bifurcations"}


def mimic_lines(results: list[ScanResult], threshold: float) -> list[str]:
    """Benign mimics the model marked at the threshold, one row per kind: each mark is a false positive
    (already counted in the FP rate), and, reported as a solid nodule, a wrong Lung-RADS contribution
    (benign calcification is category 1, a perifissural nodule 2)."""
    lines = []
    for kind in sorted({g["type"] for r in results for g in r.mimics}):
        def count(rs, kind=kind):
            pairs = [(g, p) for r in rs for g, p in zip(r.mimics, r.mimic_marks, strict=True) if g["type"] == kind]
            return sum(1 for _, p in pairs if p >= threshold), len(pairs)

        marked, total = count(results)
        ci = bootstrap_ci(results, lambda rs, count=count: count(rs)[0] / max(count(rs)[1], 1))
        label = MIMIC_LABELS.get(kind, kind)
        lines.append(f"| {label} (benign mimics) marked at the threshold | {marked} of {total} "
                     f"({marked / total:.3f}, 95 % CI {ci[0]:.3f}–{ci[1]:.3f}) |")
    return lines


def bootstrap_ci(results: list[ScanResult], statistic, *, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of statistic(results) over scans drawn with replacement."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        picked = [results[i] for i in rng.integers(0, len(results), len(results))]
        values.append(statistic(picked))
    # A resample can hold no nodule at all (a statistic over nodules is then undefined): skip those.
    return float(np.nanpercentile(values, 2.5)), float(np.nanpercentile(values, 97.5))


def markdown_table(results: list[ScanResult], threshold: float, *, matrix: int, protocol: str, command: str,
                   slice_thickness: float | None = None, seeds: list[int] | None = None, vendor: str = "A",
                   phantom: str = "default") -> str:
    """The held-out table: pooled figures with a 95 % bootstrap interval, one CPM per seed, size by
    band and Lung-RADS agreement per nodule."""
    score, at = cpm(results)
    op = operating_point(results, threshold)
    rows = per_nodule(results, threshold)
    agree_all, agree_found = category_agreement(rows)
    cpm_ci = bootstrap_ci(results, lambda rs: cpm(rs)[0])
    sens_ci = bootstrap_ci(results, lambda rs: operating_point(rs, threshold)["sensitivity"])
    fp_ci = bootstrap_ci(results, lambda rs: operating_point(rs, threshold)["fp_per_scan"])
    agree_ci = bootstrap_ci(results, lambda rs: category_agreement(per_nodule(rs, threshold))[0])
    total = sum(len(r.nodules) for r in results)
    seconds = [r.seconds for r in results]
    per_seed = []
    for seed in seeds or []:
        own = [r for r in results if r.seed_group == seed]
        if own:
            per_seed.append(f"{cpm(own)[0]:.3f} (seed {seed}, {len(own)} scans)")
    lines = [
        f"Command: `{command}`  ",
        f"Held-out synthetic chest CTs: {len(results)} scans ({protocol} protocol, {matrix}×{matrix} matrix, "
        + (f"{slice_thickness:g} mm slices" if slice_thickness else "the protocol's slice thickness")
        + f", acquisition profile {vendor}, phantom '{phantom}'), {total} reference nodules ≥ {MIN_NODULE_MM:g} mm. "
        "95 % CI: bootstrap over scans.",
        "",
        "| metric | value |",
        "| --- | --- |",
        *[f"| sensitivity at {rate:g} FP/scan | {s:.3f} |" for rate, s in zip(FP_RATES, at, strict=True)],
        f"| **CPM** (mean of the seven), pooled | **{score:.3f}** (95 % CI {cpm_ci[0]:.3f}–{cpm_ci[1]:.3f}) |",
        *([f"| CPM per seed | {'; '.join(per_seed)} |"] if per_seed else []),
        f"| operating threshold (model card) | {threshold:.3f} |",
        f"| sensitivity at the threshold | {op['sensitivity']:.3f} (95 % CI {sens_ci[0]:.3f}–{sens_ci[1]:.3f}) |",
        f"| false positives per scan at the threshold (second marks on a nodule included) "
        f"| {op['fp_per_scan']:.2f} (95 % CI {fp_ci[0]:.2f}–{fp_ci[1]:.2f}) |",
        f"| of which second marks on a nodule already found | {op['duplicates_per_scan']:.2f} per scan |",
        f"| Lung-RADS category per nodule = truth's (missed = wrong) | {agree_all:.3f} "
        f"(95 % CI {agree_ci[0]:.3f}–{agree_ci[1]:.3f}); among found: {agree_found:.3f} |",
        f"| median long-axis diameter error, found at the threshold (n = {op['detected']}) "
        f"| {op['median_diameter_error_mm']:.2f} mm (90th percentile {op['p90_diameter_error_mm']:.2f} mm) |",
        f"| nodule type correct (solid / part-solid / ground-glass), at the threshold | {op['type_accuracy']:.3f} |",
        f"| predict() time per scan, median (1 thread per worker) | {np.median(seconds):.1f} s |",
        *mimic_lines(results, threshold),
        "",
        "Lung-RADS mean diameter error by band, nodules found at the threshold:",
        "",
        *size_bands_table(rows),
    ]
    return "\n".join(lines)
