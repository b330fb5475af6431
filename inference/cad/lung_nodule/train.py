"""Train the false-positive reducer on generated chest CTs (CPU, minutes).

Scans come from inference.synthetic with seeds in a range of their own (see `training_seeds`),
never those of the evaluation set. Labels follow the evaluation's hit rule: a candidate is a
nodule when it lies within the nodule's radius of its centre.
"""

from __future__ import annotations

import logging
import math
import subprocess
import time
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch
from torch import nn

from inference.cad.lung_nodule.candidates import Candidate, detect_candidates, resample_lungs
from inference.cad.lung_nodule.network import MultiViewNet, candidate_features, extract_views
from inference.volumes import volume_from_datasets

logger = logging.getLogger(__name__)

TRAIN_SEED_BASE = 10_000_000  # evaluation seeds start at 20_000_000: the two sets never meet
MATRICES = (256, 384, 512)
MATRIX_SHARE = (0.3, 0.5, 0.2)
NEGATIVES_HARD = 150  # highest-ranked non-nodule candidates per scan, all kept
NEGATIVES_RANDOM = 150
POSITIVE_COPIES = 6


def training_seeds(seed: int, count: int) -> list[int]:
    return [TRAIN_SEED_BASE + seed * 100_000 + i for i in range(count)]


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


def scan_samples(scan_seed: int) -> dict:
    """Generate one scan, detect candidates, and cut labelled, augmented views."""
    from inference.synthetic import generate_study

    torch.set_num_threads(1)
    rng = np.random.default_rng(scan_seed)
    matrix = int(rng.choice(MATRICES, p=MATRIX_SHARE))
    protocol = str(rng.choice(["screening", "diagnostic"], p=[0.7, 0.3]))
    study = generate_study("chest_ct", seed=scan_seed, matrix=matrix, protocol=protocol,
                           n_nodules=int(rng.integers(2, 6)))
    volume = volume_from_datasets(study.datasets)
    lesions = [n for n in study.truth["lesions"] if n["long_axis_mm"] >= 3.0]
    del study
    res = resample_lungs(volume)
    candidates = detect_candidates(res) if res is not None else []
    labels = label_candidates(candidates, lesions)
    positives = np.flatnonzero(labels == 1)
    negatives = np.flatnonzero(labels == 0)
    hard, rest = negatives[:NEGATIVES_HARD], negatives[NEGATIVES_HARD:]
    chosen_neg = np.concatenate([hard, rng.choice(rest, size=min(NEGATIVES_RANDOM, len(rest)), replace=False)])
    chosen = np.concatenate([np.repeat(positives, POSITIVE_COPIES), chosen_neg]).astype(int)
    if len(chosen) == 0:
        return {"views": np.zeros((0, 6, 32, 32), np.float16), "scalars": np.zeros((0, 3), np.float32),
                "labels": np.zeros(0, np.float32), "seed": scan_seed, "nodules": len(lesions), "found": 0}
    centres = np.array([res.from_lps(candidates[i].centre_mm) for i in chosen])
    jitter = np.where(labels[chosen, None] == 1, rng.normal(0, 0.5, centres.shape), 0.0)
    views = extract_views(res.hu, centres + jitter, random_rotations(rng, len(chosen)))
    feats = candidate_features(np.array([candidates[i].radius_mm for i in chosen]),
                               np.array([candidates[i].response for i in chosen]),
                               np.array([candidates[i].blobness for i in chosen]))
    found = sum(1 for lesion in lesions if any(
        np.linalg.norm(c.centre_mm - np.array(lesion["center_mm"])) < max(lesion["long_axis_mm"] / 2, 1.5)
        for c in candidates))
    return {"views": views.astype(np.float16), "scalars": feats, "labels": (labels[chosen] == 1).astype(np.float32),
            "seed": scan_seed, "nodules": len(lesions), "found": found}


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


def _cached_scan_samples(args: tuple[int, str | None]) -> dict:
    """scan_samples, kept on disk when a cache folder is given (generated data, never committed)."""
    scan_seed, cache = args
    if cache is None:
        return scan_samples(scan_seed)
    path = Path(cache) / f"scan_{scan_seed}.npz"
    if path.exists():
        with np.load(path) as data:
            return {key: data[key] for key in data.files}
    sample = scan_samples(scan_seed)
    np.savez(path, **sample)
    return sample


def train_lung_nodule(*, seed: int, scans: int, out_path: Path, workers: int = 2, epochs: int = 12,
                      negative_share: float = 0.35, cache: Path | None = None, log=print) -> TrainingResult:
    started = time.monotonic()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    seeds = training_seeds(seed, scans)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    samples: list[dict] = []
    jobs = [(s, str(cache) if cache else None) for s in seeds]
    with get_context("spawn").Pool(workers) as pool:
        for n, sample in enumerate(pool.imap_unordered(_cached_scan_samples, jobs), 1):
            samples.append(sample)
            if n % 10 == 0:
                log(f"  {n}/{scans} scans prepared ({time.monotonic() - started:.0f} s)")
    views = torch.from_numpy(np.concatenate([s["views"] for s in samples]))
    scalars = torch.from_numpy(np.concatenate([s["scalars"] for s in samples]))
    labels = torch.from_numpy(np.concatenate([s["labels"] for s in samples]))
    nodules = sum(int(s["nodules"]) for s in samples)
    found = sum(int(s["found"]) for s in samples)
    log(f"{len(labels)} samples, {int(labels.sum())} positive views; detector recall on training scans "
        f"{found}/{nodules}")

    torch.set_num_threads(2)
    net = MultiViewNet()
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    pos = labels.sum().item()
    # Weight positives up to the share of negatives an epoch sees.
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(negative_share * (len(labels) - pos) / max(pos, 1.0)))
    batch = 128
    # Each epoch sees every positive view and a fresh share of the negatives: the CPU budget
    # goes to variety rather than to re-reading easy negatives.
    positive_idx = np.flatnonzero(labels.numpy() == 1)
    negative_idx = np.flatnonzero(labels.numpy() == 0)
    per_epoch = len(positive_idx) + int(negative_share * len(negative_idx))
    steps_per_epoch = math.ceil(per_epoch / batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=epochs * steps_per_epoch)
    for epoch in range(epochs):
        net.train()
        chosen = np.concatenate([positive_idx, rng.choice(negative_idx, per_epoch - len(positive_idx), replace=False)])
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
    meta = {
        "model": "lung_nodule", "train_seed": seed, "scans": scans, "scan_seeds": [seeds[0], seeds[-1]],
        "matrices": list(MATRICES), "generator_commit": generator_commit(), "epochs": epochs,
        "samples": int(len(labels)), "positive_views": int(pos), "detector_recall_train": [found, nodules],
        "train_seconds": round(time.monotonic() - started, 1),
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": net.state_dict(), "meta": meta}, out_path)
    return TrainingResult(path=out_path, meta=meta)
