"""Train the false-positive reducer on generated chest CTs (CPU, minutes).

Scans come from inference.synthetic with seeds in a range of their own (see `training_seeds`),
never those of the evaluation set. Labels follow the evaluation's hit rule: a candidate is a
nodule when it lies within the nodule's radius of its centre.

One call does every round:
1. `scans` scans: detector-ranked and random negatives, augmented positives; a first network.
2. Hard-negative mining: `mine_scans` further scans (more nodules each) also keep the negatives
   the first network scored highest (its confident false positives: vessel crossings, pleural
   bumps); the final network is trained from scratch on both sets, mined negatives in every epoch.
3. Calibration: the whole pipeline (predict_all) on `calibration_scans` further scans from the
   training seed range, never trained on; the operating threshold is the one reaching
   `fp_per_scan` false positives per scan there, stored in the weights' metadata.
"""

from __future__ import annotations

import hashlib
import logging
import math
import subprocess
import tempfile
import time
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch
from torch import nn

from archive.volumes import volume_from_datasets
from inference.cad.lung_nodule.candidates import Candidate, detect_candidates, resample_lungs
from inference.cad.lung_nodule.network import MultiViewNet, candidate_features, extract_views, load_network, score

logger = logging.getLogger(__name__)

TRAIN_SEED_BASE = 10_000_000  # evaluation seeds start at 20_000_000: the two sets never meet
SAMPLES_VERSION = 2  # part of the cache file name: bump when scan_samples changes what it returns
MATRICES = (256, 384, 512)
MATRIX_SHARE = (0.3, 0.5, 0.2)
NEGATIVES_HARD = 150  # highest-ranked non-nodule candidates per scan, all kept
NEGATIVES_RANDOM = 150
NEGATIVES_MINED = 100  # on mining scans: the negatives the first network scored highest
POSITIVE_COPIES = 6
NODULES_PER_SCAN = (2, 6)  # integers drawn in [low, high)
# Mining scans carry more nodules: distinct positives are the scarce class (about 150 in 48
# scans), and generating a scan is what costs time.
NODULES_PER_SCAN_MINING = (3, 8)
CALIBRATION_MATRIX = 384
CALIBRATION_PROTOCOL = "screening"


def training_seeds(seed: int, count: int, start: int = 0) -> list[int]:
    return [TRAIN_SEED_BASE + seed * 100_000 + i for i in range(start, start + count)]


def random_rotations(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rotations about the patient axis with random flips: a nodule has no preferred orientation."""
    theta = rng.uniform(0, 2 * np.pi, n)
    c, s = np.cos(theta), np.sin(theta)
    rot = np.zeros((n, 3, 3))
    rot[:, 0, 0] = 1
    rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = c, -s, s, c
    flips = rng.choice([-1.0, 1.0], size=(n, 3))
    return rot * flips[:, None, :]


def label_candidates(candidates: list[Candidate], lesions: list[dict]) -> np.ndarray:
    """1 inside a nodule's radius, 0 far from any, -1 (ignored) in the rim just outside a nodule."""
    labels = np.zeros(len(candidates), dtype=np.int8)
    if not candidates or not lesions:
        return labels
    centres = np.array([c.centre_mm for c in candidates])
    for lesion in lesions:
        radius = max(lesion["long_axis_mm"] / 2, 1.5)
        dist = np.linalg.norm(centres - np.array(lesion["center_mm"]), axis=1)
        labels[(dist < 1.5 * radius) & (labels == 0)] = -1
        labels[dist < radius] = 1
    return labels


def scan_samples(scan_seed: int, mine_with: str | None = None) -> dict:
    """Generate one scan, detect candidates, and cut labelled, augmented views.

    With `mine_with` (a weights file) the scan carries more nodules and the negatives that
    network scores highest are kept as well, flagged `mined`.
    """
    from inference.synthetic import generate_study

    torch.set_num_threads(1)
    rng = np.random.default_rng(scan_seed)
    matrix = int(rng.choice(MATRICES, p=MATRIX_SHARE))
    protocol = str(rng.choice(["screening", "diagnostic"], p=[0.7, 0.3]))
    low, high = NODULES_PER_SCAN_MINING if mine_with else NODULES_PER_SCAN
    study = generate_study("chest_ct", seed=scan_seed, matrix=matrix, protocol=protocol,
                           n_nodules=int(rng.integers(low, high)))
    volume = volume_from_datasets(study.datasets)
    lesions = [n for n in study.truth["lesions"] if n["long_axis_mm"] >= 3.0]
    del study
    res = resample_lungs(volume)
    candidates = detect_candidates(res) if res is not None else []
    labels = label_candidates(candidates, lesions)
    positives = np.flatnonzero(labels == 1)
    negatives = np.flatnonzero(labels == 0)
    mined = np.zeros(0, dtype=int)
    if mine_with and len(negatives):
        net, _ = load_network(mine_with)
        centres = np.array([res.from_lps(candidates[i].centre_mm) for i in negatives])
        feats = candidate_features([candidates[i] for i in negatives])
        mined = negatives[np.argsort(-score(net, extract_views(res.hu, centres), feats))[:NEGATIVES_MINED]]
        negatives = np.setdiff1d(negatives, mined)  # sorted: stays in detector order
    hard, rest = negatives[:NEGATIVES_HARD], negatives[NEGATIVES_HARD:]
    chosen_neg = np.concatenate([mined, hard, rng.choice(rest, size=min(NEGATIVES_RANDOM, len(rest)), replace=False)])
    chosen = np.concatenate([np.repeat(positives, POSITIVE_COPIES), chosen_neg]).astype(int)
    found = sum(1 for lesion in lesions if any(
        np.linalg.norm(c.centre_mm - np.array(lesion["center_mm"])) < max(lesion["long_axis_mm"] / 2, 1.5)
        for c in candidates))
    if len(chosen) == 0:
        return {"views": np.zeros((0, 6, 32, 32), np.float16), "scalars": np.zeros((0, 3), np.float32),
                "labels": np.zeros(0, np.float32), "mined": np.zeros(0, bool), "seed": scan_seed,
                "nodules": len(lesions), "found": found}
    centres = np.array([res.from_lps(candidates[i].centre_mm) for i in chosen])
    jitter = np.where(labels[chosen, None] == 1, rng.normal(0, 0.5, centres.shape), 0.0)
    views = extract_views(res.hu, centres + jitter, random_rotations(rng, len(chosen)))
    feats = candidate_features([candidates[i] for i in chosen])
    is_mined = np.zeros(len(chosen), bool)
    first_negative = POSITIVE_COPIES * len(positives)
    is_mined[first_negative:first_negative + len(mined)] = True
    return {"views": views.astype(np.float16), "scalars": feats, "labels": (labels[chosen] == 1).astype(np.float32),
            "mined": is_mined, "seed": scan_seed, "nodules": len(lesions), "found": found}


@dataclass
class TrainingResult:
    path: Path
    meta: dict


def generator_commit() -> str:
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%h", "--", "inference/synthetic"],
                             capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[3])
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _cached_scan_samples(args: tuple[int, str | None, str | None, str]) -> dict:
    """scan_samples, kept on disk when a cache folder is given (generated data, never committed).

    Mined samples depend on the mining network: its file digest is part of the cache name.
    """
    scan_seed, cache, mine_with, digest = args
    if cache is None:
        return scan_samples(scan_seed, mine_with)
    tag = f"_mined_{digest}" if mine_with else ""
    path = Path(cache) / f"scan_v{SAMPLES_VERSION}_{scan_seed}{tag}.npz"
    if path.exists():
        with np.load(path) as data:
            return {key: data[key] for key in data.files}
    sample = scan_samples(scan_seed, mine_with)
    np.savez(path, **sample)
    return sample


def _prepare(jobs: list, workers: int, started: float, log) -> list[dict]:
    samples = []
    with get_context("spawn").Pool(workers) as pool:
        for n, sample in enumerate(pool.imap_unordered(_cached_scan_samples, jobs), 1):
            samples.append(sample)
            if n % 10 == 0 or n == len(jobs):
                log(f"  {n}/{len(jobs)} scans prepared ({time.monotonic() - started:.0f} s)")
    return sorted(samples, key=lambda s: int(s["seed"]))


def _fit(samples: list[dict], *, epochs: int, negative_share: float, rng: np.random.Generator, started: float,
         log) -> tuple[MultiViewNet, dict]:
    """Train from scratch: each epoch sees every positive, every mined negative and a fresh
    `negative_share` of the other negatives (the CPU budget goes to variety, not to easy negatives)."""
    views = torch.from_numpy(np.concatenate([s["views"] for s in samples]))
    scalars = torch.from_numpy(np.concatenate([s["scalars"] for s in samples]))
    labels = torch.from_numpy(np.concatenate([s["labels"] for s in samples]))
    mined = np.concatenate([s["mined"] for s in samples]).astype(bool)
    positive_idx = np.flatnonzero(labels.numpy() == 1)
    always_idx = np.flatnonzero((labels.numpy() == 0) & mined)
    negative_idx = np.flatnonzero((labels.numpy() == 0) & ~mined)
    fresh = int(negative_share * len(negative_idx))
    log(f"{len(labels)} samples: {len(positive_idx)} positive views, {len(always_idx)} mined negatives, "
        f"{len(negative_idx)} other negatives ({fresh} an epoch)")

    torch.set_num_threads(2)
    net = MultiViewNet()
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    # Weight positives up to the negatives an epoch sees.
    pos_weight = (len(always_idx) + fresh) / max(len(positive_idx), 1)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(float(pos_weight)))
    batch = 128
    per_epoch = len(positive_idx) + len(always_idx) + fresh
    steps_per_epoch = math.ceil(per_epoch / batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=epochs * steps_per_epoch)
    for epoch in range(epochs):
        net.train()
        chosen = np.concatenate([positive_idx, always_idx, rng.choice(negative_idx, fresh, replace=False)])
        order = torch.from_numpy(rng.permutation(chosen))
        total = 0.0
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            optimiser.zero_grad()
            loss = loss_fn(net(views[idx].float(), scalars[idx]), labels[idx])
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(idx)
        log(f"  epoch {epoch + 1}/{epochs}: loss {total / len(order):.4f} ({time.monotonic() - started:.0f} s)")
    net.eval()
    stats = {"samples": int(len(labels)), "positive_views": int(len(positive_idx)),
             "mined_negatives": int(len(always_idx)), "pos_weight": round(float(pos_weight), 3)}
    return net, stats


def _save(net: MultiViewNet, meta: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": net.state_dict(), "meta": meta}, path)


def train_lung_nodule(*, seed: int, scans: int, out_path: Path, workers: int = 2, epochs: int = 6,
                      mine_scans: int = 0, final_epochs: int | None = None, calibration_scans: int = 0,
                      fp_per_scan: float = 1.0, negative_share: float = 0.35, cache: Path | None = None,
                      log=print) -> TrainingResult:
    from inference.cad.lung_nodule.evaluate import run_scans, threshold_at

    started = time.monotonic()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    seeds = training_seeds(seed, scans)
    mine_seeds = training_seeds(seed, mine_scans, start=scans)
    calibration_seeds = training_seeds(seed, calibration_scans, start=scans + mine_scans)
    if scans + mine_scans + calibration_scans > 100_000:
        raise ValueError("at most 100 000 scans per training seed")
    folder = str(cache) if cache is not None else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)

    log(f"round 1: {scans} scans")
    samples = _prepare([(s, folder, None, "") for s in seeds], workers, started, log)
    net, stats = _fit(samples, epochs=epochs, negative_share=negative_share, rng=rng, started=started, log=log)
    rounds = [{"scans": scans, "scan_seeds": [seeds[0], seeds[-1]], "epochs": epochs, **stats}]
    with tempfile.TemporaryDirectory() as tmp:
        if mine_scans:
            first = Path(tmp) / "round1.pt"
            _save(net, {}, first)
            digest = hashlib.sha256(first.read_bytes()).hexdigest()[:12]
            log(f"round 2: {mine_scans} mining scans (negatives the round-1 network scores highest)")
            samples += _prepare([(s, folder, str(first), digest) for s in mine_seeds], workers, started, log)
            final_epochs = final_epochs or epochs
            net, stats = _fit(samples, epochs=final_epochs, negative_share=negative_share, rng=rng,
                              started=started, log=log)
            rounds.append({"scans": mine_scans, "scan_seeds": [mine_seeds[0], mine_seeds[-1]],
                           "epochs": final_epochs, "round1_sha256_12": digest, **stats})
        nodules = sum(int(s["nodules"]) for s in samples)
        found = sum(int(s["found"]) for s in samples)
        log(f"detector recall on training scans {found}/{nodules}")
        meta = {
            "model": "lung_nodule", "train_seed": seed, "scans": scans + mine_scans, "rounds": rounds,
            "scan_seeds": [seeds[0], (mine_seeds or seeds)[-1]], "matrices": list(MATRICES),
            "generator_commit": generator_commit(), "epochs": rounds[-1]["epochs"],
            "samples": rounds[-1]["samples"], "positive_views": rounds[-1]["positive_views"],
            "detector_recall_train": [found, nodules], "negative_share": negative_share,
        }
        if calibration_scans:
            final = Path(tmp) / "final.pt"
            _save(net, meta, final)
            log(f"calibration: the whole pipeline on {calibration_scans} further scans "
                f"({CALIBRATION_PROTOCOL}, matrix {CALIBRATION_MATRIX})")
            results = run_scans(calibration_seeds, matrix=CALIBRATION_MATRIX, protocol=CALIBRATION_PROTOCOL,
                                weights=str(final), workers=workers, log=log)
            meta["threshold"] = threshold_at(results, fp_per_scan)
            meta["threshold_rule"] = (f"{fp_per_scan:g} FP/scan on {calibration_scans} calibration scans "
                                      f"(training seeds {calibration_seeds[0]}-{calibration_seeds[-1]}, "
                                      f"{CALIBRATION_PROTOCOL}, matrix {CALIBRATION_MATRIX}, not trained on)")
            log(f"threshold {meta['threshold']:.3f} ({meta['threshold_rule']})")
    meta["train_seconds"] = round(time.monotonic() - started, 1)
    _save(net, meta, out_path)
    return TrainingResult(path=out_path, meta=meta)
