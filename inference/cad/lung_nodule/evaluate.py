"""FROC and the LUNA16 competition performance metric (CPM) on generated chest CTs.

LUNA16 rules: reference nodules are those of 3 mm or more; a finding is a hit when its centre
lies within the nodule's radius (half its long axis) of the nodule's centre; several hits on one
nodule count once (the most probable), the others are neither hits nor false positives; every
other finding is a false positive. CPM is the mean sensitivity at 1/8, 1/4, 1/2, 1, 2, 4 and 8
false positives per scan.
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
    # (probability, matched nodule index or -1 for a false positive, measured diameter, type); hits on
    # an already-matched nodule are dropped.
    marks: list[tuple[float, int, float, str]] = field(default_factory=list)
    seconds: float = 0.0


def match(findings, nodules: list[dict]) -> list[tuple[float, int, float, str]]:
    """Apply the LUNA16 hit rule to one scan's findings (any order)."""
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
                    continue  # a second hit on one nodule: ignored, as in LUNA16
                taken.add(index)
        marks.append((float(f.probability), index, float(f.diameter_mm), f.kind))
    return marks


_MODEL = None


def _scan(args: tuple) -> ScanResult:
    import torch

    from archive.volumes import volume_from_datasets
    from inference.cad.lung_nodule.model import LungNoduleModel
    from inference.synthetic import generate_study

    global _MODEL
    seed, matrix, protocol, weights, thickness = args
    torch.set_num_threads(1)
    if _MODEL is None:
        _MODEL = LungNoduleModel(weights)
    study = generate_study("chest_ct", seed=seed, matrix=matrix, protocol=protocol, slice_thickness=thickness)
    nodules = [n for n in study.truth["lesions"] if n["long_axis_mm"] >= MIN_NODULE_MM]
    volume = volume_from_datasets(study.datasets)
    del study
    started = time.perf_counter()
    findings = _MODEL.predict_all(volume)
    seconds = time.perf_counter() - started
    return ScanResult(seed=seed, nodules=nodules, marks=match(findings, nodules), seconds=seconds)


def run_scans(seeds: list[int], *, matrix: int, protocol: str, weights: str | None, workers: int,
              log=print, slice_thickness: float | None = None) -> list[ScanResult]:
    results = []
    started = time.monotonic()
    with get_context("spawn").Pool(workers) as pool:
        for n, result in enumerate(pool.imap_unordered(_scan, [(s, matrix, protocol, weights, slice_thickness)
                                                                for s in seeds]), 1):
            results.append(result)
            if n % 10 == 0:
                log(f"  {n}/{len(seeds)} scans ({time.monotonic() - started:.0f} s)")
    return sorted(results, key=lambda r: r.seed)


def froc(results: list[ScanResult]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, sensitivity, false positives per scan), from the most probable mark down."""
    marks = sorted(((p, idx) for r in results for p, idx, _, _ in r.marks), key=lambda m: -m[0])
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
    }


def markdown_table(results: list[ScanResult], threshold: float, *, matrix: int, protocol: str, command: str,
                   slice_thickness: float | None = None) -> str:
    score, at = cpm(results)
    op = operating_point(results, threshold)
    # Diameter error over every nodule the model found at any threshold, too.
    all_errors = [abs(m[2] - r.nodules[m[1]]["long_axis_mm"]) for r in results for m in r.marks if m[1] >= 0]
    total = sum(len(r.nodules) for r in results)
    seconds = [r.seconds for r in results]
    lines = [
        f"Command: `{command}`  ",
        f"Held-out synthetic chest CTs: {len(results)} scans ({protocol} protocol, {matrix}×{matrix} matrix, "
        + (f"{slice_thickness:g} mm slices" if slice_thickness else "all slices at the generator's default spacing")
        + f"), {total} reference nodules ≥ {MIN_NODULE_MM:g} mm.",
        "",
        "| metric | value |",
        "| --- | --- |",
        *[f"| sensitivity at {rate:g} FP/scan | {s:.3f} |" for rate, s in zip(FP_RATES, at, strict=True)],
        f"| **CPM** (mean of the seven) | **{score:.3f}** |",
        f"| operating threshold (model card) | {threshold:.3f} |",
        f"| sensitivity / FP per scan at the threshold | {op['sensitivity']:.3f} / {op['fp_per_scan']:.2f} |",
        f"| **median long-axis diameter error**, nodules found at the threshold (n = {op['detected']}) "
        f"| **{op['median_diameter_error_mm']:.2f} mm** (90th percentile {op['p90_diameter_error_mm']:.2f} mm) |",
        f"| median diameter error, every nodule found (n = {len(all_errors)}) "
        f"| {float(np.median(all_errors)) if all_errors else float('nan'):.2f} mm |",
        f"| nodule type correct (solid / part-solid / ground-glass), at the threshold | {op['type_accuracy']:.3f} |",
        f"| predict() time per scan, median (1 thread per worker) | {np.median(seconds):.1f} s |",
    ]
    return "\n".join(lines)
