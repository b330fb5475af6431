"""Training the mammography detector on generated four-view cases.

Seeds: training cases 300_000_000+, validation (threshold) 400_000_000+, test 500_000_000+
(evaluate.py), each offset by seed * 100_000, so the three never overlap for seeds below 1000.
Mostly "small" matrix cases (0.56 mm pixels, fast to generate) plus a share of "standard"
(0.28 mm) cases, so the network meets both detectors' texture on its 1.12 mm working grid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from inference.cad.mammography.images import VIEW_NAMES, dense_fraction, four_views, work_image
from inference.cad.mammography.network import OUTPUT_STRIDE, MammoNet

TRAIN_SEED_BASE = 300_000_000
VALIDATION_SEED_BASE = 400_000_000
CROP = 96  # working pixels (10.8 cm)


def case_seeds(base: int, seed: int, count: int, start: int = 0) -> list[int]:
    return [base + seed * 100_000 + start + i for i in range(count)]


def view_targets(truth: dict, view_name: str, work) -> list[tuple[float, float, int, float, float]]:
    """(row, col) on the working grid, class index, diameter mm, spiculated (0/1) for one view."""
    targets = []
    for lesion in truth["lesions"]:
        where = lesion["views"].get(view_name)
        if where is None:
            continue
        row, col = work.to_work(*where["center_px"])
        # Architectural distortion (hard phantom) is learned as a mass with spicules and no core.
        kind = 1 if lesion["type"] == "calcification_cluster" else 0
        spiculated = lesion["type"] in ("mass_spiculated", "architectural_distortion")
        targets.append((row, col, kind, float(lesion["size_mm"]), float(spiculated)))
    return targets


def case_samples(args: tuple) -> dict:
    """One generated case as the network's inputs (float16) with its targets and density measure.

    Benign mimics (hard phantom) have no target: the detector learns them as background.
    """
    from inference.synthetic import generate_study

    seed, matrix, normal_share, *rest = args
    phantom = rest[0] if rest else "default"
    study = generate_study("mammography", seed=seed, matrix=matrix, normal_share=normal_share, phantom=phantom)
    views = four_views(study.datasets)
    samples = []
    for name in VIEW_NAMES:
        work = work_image(views[name])
        mimics = [(*work.to_work(*b["views"][name]["center_px"]), float(b["size_mm"]))
                  for b in study.truth.get("benign_findings", []) if name in b["views"]]
        samples.append({"channels": work.channels.astype(np.float16), "targets": view_targets(study.truth, name, work),
                        "mimics": mimics})
    fraction = float(np.mean([dense_fraction(views["RCC"]), dense_fraction(views["LCC"])]))
    return {"seed": seed, "views": samples, "density": study.truth["density"], "dense_fraction": fraction}


def prepare(jobs: list[tuple], workers: int, log) -> list[dict]:
    started = time.monotonic()
    out = []
    with get_context("spawn").Pool(workers) as pool:
        for n, case in enumerate(pool.imap(case_samples, jobs, chunksize=4), 1):
            out.append(case)
            if n % 100 == 0:
                log(f"  {n}/{len(jobs)} cases prepared ({time.monotonic() - started:.0f} s)")
    return out


def _phantom(index: int, hard_share: float) -> str:
    """Spread the hard-phantom cases evenly through the list (index-based, reproducible)."""
    return "hard" if int((index + 1) * hard_share) > int(index * hard_share) else "default"


def _crop(channels: np.ndarray, targets, rng: np.random.Generator, centre=None, mimics=()):
    """A CROP x CROP window (edge-padded), its heatmap/size/margin targets on the output grid and
    the benign-mimic heatmap (mimics: (row, col, diameter mm))."""
    _, rows, cols = channels.shape
    if centre is None:
        r0 = int(rng.integers(-CROP // 4, max(rows - 3 * CROP // 4, 1)))
        c0 = int(rng.integers(-CROP // 8, max(cols - CROP // 2, 1)))
    else:
        r0 = int(centre[0] - CROP / 2 + rng.integers(-CROP // 3, CROP // 3 + 1))
        c0 = int(centre[1] - CROP / 2 + rng.integers(-CROP // 3, CROP // 3 + 1))
    padded = np.pad(channels, ((0, 0), (CROP, CROP), (CROP, CROP)), mode="edge")
    window = padded[:, r0 + CROP:r0 + 2 * CROP, c0 + CROP:c0 + 2 * CROP].astype(np.float32)
    cells = CROP // OUTPUT_STRIDE
    heat = np.zeros((2, cells, cells), np.float32)
    size = np.zeros((cells, cells), np.float32)
    spic = np.zeros((cells, cells), np.float32)
    weight = np.zeros((2, cells, cells), np.float32)  # where size / margin are learned
    benign = np.zeros((1, cells, cells), np.float32)
    yy, xx = np.mgrid[0:cells, 0:cells]
    for row, col, diameter in mimics:
        ir = int(round((row - r0 + 0.5) / OUTPUT_STRIDE - 0.5))
        ic = int(round((col - c0 + 0.5) / OUTPUT_STRIDE - 0.5))
        if -3 <= ir < cells + 3 and -3 <= ic < cells + 3:
            sigma = max(1.0, diameter / (2.24 * OUTPUT_STRIDE) / 2.5)
            benign[0] = np.maximum(benign[0], np.exp(-((yy - ir) ** 2 + (xx - ic) ** 2) / (2 * sigma**2)))
    for row, col, kind, diameter, spiculated in targets:
        cr, cc = (row - r0 + 0.5) / OUTPUT_STRIDE - 0.5, (col - c0 + 0.5) / OUTPUT_STRIDE - 0.5
        ir, ic = int(round(cr)), int(round(cc))
        if not (-3 <= ir < cells + 3 and -3 <= ic < cells + 3):
            continue
        sigma = max(1.0, diameter / (2.24 * OUTPUT_STRIDE) / 2.5)
        g = np.exp(-((yy - ir) ** 2 + (xx - ic) ** 2) / (2 * sigma**2))
        heat[kind] = np.maximum(heat[kind], g)
        near = (np.abs(yy - ir) <= 1) & (np.abs(xx - ic) <= 1)
        size[near] = np.log(diameter)
        weight[0][near] = 1.0
        if kind == 0:
            spic[near] = spiculated
            weight[1][near] = 1.0
    return window, heat, size, spic, weight, benign


def _batch(cases: list[dict], rng: np.random.Generator, n: int, positive_share: float):
    items = []
    for _ in range(n):
        case = cases[int(rng.integers(len(cases)))]
        view = case["views"][int(rng.integers(4))]
        centre = None
        if view["targets"] and rng.random() < positive_share:
            t = view["targets"][int(rng.integers(len(view["targets"])))]
            centre = (t[0], t[1])
        elif view.get("mimics") and rng.random() < 0.5:
            # Hard negatives: a crop centred on a benign mimic, which has no target.
            centre = view["mimics"][int(rng.integers(len(view["mimics"])))][:2]
        parts = _crop(view["channels"], view["targets"], rng, centre, view.get("mimics", ()))
        if rng.random() < 0.5:  # up-down mirror: a breast is no different upside down here
            parts = tuple(a[..., ::-1, :] for a in parts)
        items.append(parts)
    return [torch.from_numpy(np.ascontiguousarray(np.stack(parts))) for parts in zip(*items, strict=True)]


def focal_loss(logits: torch.Tensor, heat: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss: 1 at centres, Gaussian-weighted negatives around them."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = heat.ge(0.999).float()
    pos_loss = -(torch.log(p) * (1 - p) ** 2 * pos).sum()
    neg_loss = -(torch.log(1 - p) * p**2 * (1 - heat) ** 4 * (1 - pos)).sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1.0)


def fit(cases: list[dict], *, steps: int, batch: int, seed: int, log, started: float, init: Path | None = None,
        max_lr: float = 2e-3, width: int = 24, benign: bool = False) -> MammoNet:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = MammoNet(width=width, benign=benign)
    if init is not None:  # fine-tuning: start from trained weights
        state = torch.load(init, map_location="cpu", weights_only=True)["state_dict"]
        if benign and state["head.weight"].shape[0] == 4:  # a benign output added: it starts untrained
            own = net.state_dict()
            for key in ("head.weight", "head.bias"):
                own[key][:4] = state[key]
                state[key] = own[key]
        net.load_state_dict(state)
    optimiser = torch.optim.AdamW(net.parameters(), lr=max_lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=max_lr, total_steps=steps, pct_start=0.1)
    net.train()
    running = []
    for step in range(1, steps + 1):
        x, heat, size, spic, weight, benign_heat = _batch(cases, rng, batch, positive_share=0.6)
        out = net(x)
        loss = focal_loss(out[:, :2], heat)
        if benign:  # the benign-mimic heatmap, learned like the lesion ones
            loss = loss + focal_loss(out[:, 4:5], benign_heat)
        w_size, w_spic = weight[:, 0], weight[:, 1]
        loss = loss + (F.l1_loss(out[:, 2], size, reduction="none") * w_size).sum() / w_size.sum().clamp(min=1)
        loss = loss + 0.5 * (F.binary_cross_entropy_with_logits(out[:, 3], spic, reduction="none") * w_spic
                             ).sum() / w_spic.sum().clamp(min=1)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        running.append(loss.item())
        if step % 100 == 0:
            log(f"  step {step}/{steps}: loss {np.mean(running[-100:]):.3f} ({time.monotonic() - started:.0f} s)")
    net.eval()
    return net


def fit_density_cuts(fractions: list[float], categories: list[str]) -> list[float]:
    """Cut points between adjacent categories: the midpoint of the gap between their medians' sides."""
    cuts = []
    for low, high in zip("abc", "bcd", strict=True):
        a = np.array([f for f, c in zip(fractions, categories, strict=True) if c == low])
        b = np.array([f for f, c in zip(fractions, categories, strict=True) if c == high])
        if not len(a) or not len(b):
            raise ValueError(f"no training cases of density {low} or {high} to fit the cut point on")
        # Minimise misclassified training cases, tie-broken toward the middle of the gap.
        candidates = np.unique(np.concatenate([a, b]))
        errors = np.array([(a > t).sum() + (b <= t).sum() for t in candidates])
        best = candidates[errors == errors.min()]
        t = float(np.median(best))
        upper = b[b > t].min() if (b > t).any() else t
        cuts.append(round(float((t + upper) / 2), 4))
    return cuts


@dataclass
class TrainResult:
    path: Path
    meta: dict


def train_mammography(*, seed: int, small_cases: int, standard_cases: int, steps: int, batch: int,
                      validation_cases: int, specificity: float, out_path: Path, workers: int = 2,
                      hard_share: float = 0.0, init: Path | None = None, max_lr: float = 2e-3,
                      width: int = 24, benign: bool = False, validation_hard_share: float | None = None,
                      log=print) -> TrainResult:
    from inference.cad.mammography.evaluate import run_cases, threshold_at_specificity

    started = time.monotonic()
    torch.set_num_threads(2)
    jobs = [(s, "small", 0.25, _phantom(i, hard_share)) for i, s in enumerate(case_seeds(TRAIN_SEED_BASE, seed,
                                                                                         small_cases))]
    jobs += [(s, "standard", 0.25, _phantom(i, hard_share))
             for i, s in enumerate(case_seeds(TRAIN_SEED_BASE, seed, standard_cases, start=50_000))]
    hard = sum(job[3] == "hard" for job in jobs)
    log(f"preparing {len(jobs)} training cases ({small_cases} small, {standard_cases} standard; {hard} hard phantom)")
    cases = prepare(jobs, workers, log)
    cuts = fit_density_cuts([c["dense_fraction"] for c in cases], [c["density"] for c in cases])
    log(f"density cut points {cuts} ({time.monotonic() - started:.0f} s)")
    net = fit(cases, steps=steps, batch=batch, seed=seed, log=log, started=started, init=init, max_lr=max_lr,
              width=width, benign=benign)
    del cases
    meta = {"width": width, "benign_channel": benign, "density_cuts": cuts, "threshold": 0.5, "seed": seed,
            "small_cases": small_cases, "standard_cases": standard_cases, "steps": steps, "batch": batch, "crop": CROP,
            "hard_share": hard_share, "init": str(init.name) if init else None, "max_lr": max_lr}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": net.state_dict(), "meta": meta}, out_path)
    if validation_cases:
        # The operating threshold: the case suspicion reaching the target specificity on validation
        # cases (never trained on, never the test set), read at the deployed (standard) matrix.
        # With hard phantoms in training, the validation cases hold the same share of them unless
        # validation_hard_share sets the mix the threshold is meant for.
        seeds = case_seeds(VALIDATION_SEED_BASE, seed, validation_cases)
        share = hard_share if validation_hard_share is None else validation_hard_share
        n_hard = int(round(share * len(seeds)))
        results = run_cases(seeds[:n_hard], matrix="standard", weights=str(out_path), workers=workers, log=log,
                            phantom="hard") if n_hard else []
        results += run_cases(seeds[n_hard:], matrix="standard", weights=str(out_path), workers=workers, log=log)
        meta["threshold"] = round(float(threshold_at_specificity(results, specificity)), 6)
        meta["threshold_rule"] = (f"{specificity:.0%} case-level specificity on {validation_cases} validation "
                                  f"cases (seeds {seeds[0]}-{seeds[-1]}, standard matrix"
                                  + (f", {n_hard} of them hard phantoms)" if n_hard else ")"))
        log(f"threshold {meta['threshold']:.3f} ({meta['threshold_rule']})")
    meta["train_seconds"] = round(time.monotonic() - started, 1)
    torch.save({"state_dict": net.state_dict(), "meta": meta}, out_path)
    return TrainResult(path=out_path, meta=meta)
