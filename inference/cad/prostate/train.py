"""Train the prostate U-Net on generated biparametric MRI (synthetic data only).

Each generated study goes through the same path as inference (header-based series choice,
registration to the working grid), and its targets are the truth's zone and lesion masks on
that grid, as voxel fractions (3x3x3 supersampled) so the 0.5 level of the output lies on the
true boundary. Seeds: training 30_000_000+, validation 35_000_000+, test 40_000_000+ (evaluate.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from inference.cad.prostate.network import ProstateUNet, load_network, save_network

KEPT_SETTINGS = ("gland_level", "gland_level_errors", "lesion_floor", "lesion_floor_sensitivity_at_1fp",
                 "measure_level", "measure_level_errors_mm")

TRAIN_SEED_BASE = 30_000_000
VALIDATION_SEED_BASE = 35_000_000
TEST_SEED_BASE = 40_000_000
PATCH_XY = 48
PATCH_Z = 16  # of the working grid's 24+ slices (3 mm): the gland's 40-54 mm and some
SUPERSAMPLE = 3
GLAND_LEVELS = (0.5, 0.6, 0.7, 0.8)
LESION_FLOORS = (0.15, 0.3, 0.5)
MEASURE_LEVELS = (0.5, 0.6, 0.7, 0.8)


def split_seeds(split: str, seed: int, count: int) -> list[int]:
    base = {"train": TRAIN_SEED_BASE, "validation": VALIDATION_SEED_BASE, "test": TEST_SEED_BASE}[split]
    return [base + seed * 100_000 + i for i in range(count)]


def phantom_mix(count: int, hard_share: float) -> list[str]:
    """Which of `count` studies use the hard phantom: spread evenly, hard_share of them."""
    return ["hard" if int((i + 1) * hard_share) > int(i * hard_share) else "default" for i in range(count)]


def fractions_on_grid(truth: dict, grid) -> dict[str, np.ndarray]:
    """Share of each working voxel inside gland, PZ, TZ and any lesion (axis-aligned axial grids)."""
    from inference.synthetic.prostate_mri import prostate_masks

    f = SUPERSAMPLE
    step = grid.matrix  # columns k, j, i
    if not (np.allclose(step[:2, 0], 0) and np.allclose(step[[0, 2], 1], 0) and np.allclose(step[1:, 2], 0)):
        raise ValueError("fractions_on_grid needs an axial, axis-aligned grid")
    shift = -(f - 1) / (2 * f)
    first = grid.origin + step @ np.full(3, shift)
    geometry = {"shape_zyx": [n * f for n in grid.shape], "first_ipp": list(first),
                "pixel_spacing_mm": [step[1, 1] / f, step[0, 2] / f], "slice_step_mm": list(step[:, 0] / f)}
    fine = prostate_masks({**truth, "geometry": {"work": geometry}}, "work")
    nz, ny, nx = grid.shape

    def down(mask: np.ndarray) -> np.ndarray:
        return mask.reshape(nz, f, ny, f, nx, f).mean(axis=(1, 3, 5)).astype(np.float32)

    lesion = np.zeros_like(fine["gland"])
    for key, mask in fine.items():
        if key.startswith("lesion_"):
            lesion |= mask
    return {"pz": down(fine["pz"]), "tz": down(fine["tz"]), "lesion": down(lesion)}


@dataclass
class Sample:
    seed: int
    inputs: np.ndarray  # (3, z, y, x) float16
    zones: np.ndarray  # (3, z, y, x) float16 fractions: background, pz, tz
    lesion: np.ndarray  # (z, y, x) float16 fraction


def make_sample(seed: int, phantom: str = "default", vendor: str = "A", align_phase: bool = False) -> Sample:
    from inference.cad.prostate.model import case_from_datasets
    from inference.cad.prostate.registration import working_inputs
    from inference.cad.prostate.series import adc_in_um2_s
    from inference.synthetic.prostate_mri import generate_prostate_mri

    datasets, truth, _ = generate_prostate_mri(seed, phantom=phantom, vendor=vendor)
    case = case_from_datasets(datasets)
    inputs, grid = working_inputs(case.t2, adc_in_um2_s(case.adc), case.adc, case.high_b, align_phase=align_phase)
    frac = fractions_on_grid(truth, grid)
    zones = np.stack([1 - frac["pz"] - frac["tz"], frac["pz"], frac["tz"]])
    return Sample(seed=seed, inputs=inputs.astype(np.float16), zones=zones.astype(np.float16),
                  lesion=frac["lesion"].astype(np.float16))


def _cached_sample(args: tuple[int, str | None, str, str, bool]) -> Sample:
    seed, cache, phantom, vendor, align_phase = args
    name = f"{seed}.npz" if (phantom, vendor) == ("default", "A") else f"{seed}-{phantom}-{vendor}.npz"
    if align_phase:
        name = name.replace(".npz", "-aligned.npz")
    path = Path(cache) / name if cache else None
    if path is not None and path.exists():
        data = np.load(path)
        return Sample(seed=seed, inputs=data["inputs"], zones=data["zones"], lesion=data["lesion"])
    torch.set_num_threads(1)
    sample = make_sample(seed, phantom, vendor, align_phase)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, inputs=sample.inputs, zones=sample.zones, lesion=sample.lesion)
    return sample


def make_samples(seeds: list[int], *, workers: int, cache: Path | None, phantoms: list[str] | None = None,
                 vendor: str = "A", align_phase: bool = False) -> list[Sample]:
    phantoms = phantoms or ["default"] * len(seeds)
    jobs = [(s, str(cache) if cache else None, ph, vendor, align_phase) for s, ph in zip(seeds, phantoms, strict=True)]
    if workers <= 1:
        return [_cached_sample(j) for j in jobs]
    with get_context("spawn").Pool(workers) as pool:
        return pool.map(_cached_sample, jobs, chunksize=2)


def _batch(samples: list[Sample], rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random 16 x 48 x 48 patches holding most of the gland, mirrored left-right at random,
    with the MR channels' intensity scaled (no absolute scale in MR) and ADC left physical."""
    xs, zs, ls = [], [], []
    for s in samples:
        _, nz, ny, nx = s.inputs.shape
        gland = np.argwhere(s.zones[0] < 0.5)
        cz, cy, cx = gland.mean(0)
        z0 = int(np.clip(cz - PATCH_Z / 2 + rng.integers(-3, 4), 0, max(nz - PATCH_Z, 0)))
        y0 = int(np.clip(cy - PATCH_XY / 2 + rng.integers(-10, 11), 0, ny - PATCH_XY))
        x0 = int(np.clip(cx - PATCH_XY / 2 + rng.integers(-10, 11), 0, nx - PATCH_XY))
        window = (slice(z0, z0 + PATCH_Z), slice(y0, y0 + PATCH_XY), slice(x0, x0 + PATCH_XY))
        x = s.inputs[(slice(None), *window)].astype(np.float32)
        z = s.zones[(slice(None), *window)].astype(np.float32)
        lesion = s.lesion[window].astype(np.float32)
        x = x * np.array([rng.uniform(0.8, 1.25), 1.0, rng.uniform(0.8, 1.25)], np.float32)[:, None, None, None]
        if rng.random() < 0.5:
            x, z, lesion = x[..., ::-1], z[..., ::-1], lesion[..., ::-1]
        xs.append(x.copy())
        zs.append(z.copy())
        ls.append(lesion.copy())
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(zs)), torch.from_numpy(np.stack(ls))


def loss_fn(out: torch.Tensor, zones: torch.Tensor, lesion: torch.Tensor) -> torch.Tensor:
    """Soft-target cross-entropy + soft Dice for PZ and TZ; BCE + soft Dice for lesions."""
    log_p = F.log_softmax(out[:, :3], 1)
    ce = -(zones * log_p).sum(1).mean()
    p = log_p.exp()
    dims = (0, 2, 3, 4)
    dice = (2 * (p * zones).sum(dims) + 1) / (p.sum(dims) + zones.sum(dims) + 1)
    les_logit = out[:, 3]
    bce = F.binary_cross_entropy_with_logits(les_logit, lesion, pos_weight=torch.tensor(4.0))
    q = torch.sigmoid(les_logit)
    les_dice = (2 * (q * lesion).sum() + 1) / (q.sum() + lesion.sum() + 1)
    return ce + (1 - dice[1:]).mean() + bce + 0.5 * (1 - les_dice)


def validation_dice(net: ProstateUNet, samples: list[Sample]) -> tuple[float, float]:
    """Median gland Dice and lesion-voxel Dice on the validation grids (quick, no T2 upsampling)."""
    from inference.cad.prostate.network import probabilities

    gland, lesion_hits = [], [0.0, 0.0]
    for s in samples:
        zones, lesion = probabilities(net, s.inputs.astype(np.float32), mirror=False)
        pred, true = zones[0] < 0.5, s.zones[0].astype(np.float32) < 0.5
        gland.append(2 * np.sum(pred & true) / max(pred.sum() + true.sum(), 1))
        lt = s.lesion.astype(np.float32) >= 0.5
        lp = lesion >= 0.5
        lesion_hits[0] += 2 * np.sum(lp & lt)
        lesion_hits[1] += lp.sum() + lt.sum()
    return float(np.median(gland)), float(lesion_hits[0] / max(lesion_hits[1], 1))


@dataclass
class TrainResult:
    path: Path
    meta: dict


def train_prostate(*, seed: int, cases: int, validation_cases: int, epochs: int, out_path: Path, workers: int = 2,
                   batch: int = 1, lr: float = 3e-3, base: int = 8, cache: Path | None = None,
                   fp_per_case: float = 0.25, hard_share: float = 0.0, vendor: str = "A",
                   init: Path | None = None, align_phase: bool = False, log=print) -> TrainResult:
    """`hard_share` of the training and of the validation studies use the hard phantom (BPH
    nodules, DWI distortion, T2 motion), the rest the default one; all use the `vendor` profile.
    With `init` the network starts from those weights (fine-tuning) and keeps their post-processing
    settings (gland level, lesion floor, measuring level); only the operating threshold is set
    again on the validation cases. With `align_phase` the ADC and DWI are moved onto the T2 along
    the diffusion phase direction before the network (registration.phase_alignment), in training
    and, through the weights' metadata, at inference."""
    started = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_seeds, val_seeds = split_seeds("train", seed, cases), split_seeds("validation", seed, validation_cases)
    val_phantoms = phantom_mix(validation_cases, hard_share)
    samples = make_samples(train_seeds, workers=workers, cache=cache, phantoms=phantom_mix(cases, hard_share),
                           vendor=vendor, align_phase=align_phase)
    validation = make_samples(val_seeds, workers=workers, cache=cache, phantoms=val_phantoms, vendor=vendor,
                              align_phase=align_phase)
    log(f"{len(samples)} training and {len(validation)} validation cases ready in "
        f"{time.perf_counter() - started:.0f} s")
    torch.set_num_threads(2)
    init_meta: dict = {}
    if init is not None:
        net, init_meta = load_network(str(init))
        net.train()
        base = int(init_meta.get("base", base))
    else:
        net = ProstateUNet(base=base)
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps_per_epoch = max(len(samples) // batch, 1)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=epochs * steps_per_epoch)
    best, best_state, history = -1.0, None, []
    for epoch in range(epochs):
        net.train()
        order = rng.permutation(len(samples))
        losses = []
        for step in range(steps_per_epoch):
            chosen = [samples[i] for i in order[step * batch:(step + 1) * batch]]
            x, zones, lesion = _batch(chosen, rng)
            loss = loss_fn(net(x), zones, lesion)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
        gland_dice, lesion_dice = validation_dice(net, validation)
        # Settings are chosen on validation only: the epoch with the best gland + lesion Dice is kept.
        score = gland_dice + lesion_dice
        history.append({"epoch": epoch + 1, "loss": round(float(np.mean(losses)), 4),
                        "val_gland_dice": round(gland_dice, 4), "val_lesion_dice": round(lesion_dice, 4)})
        log(f"epoch {epoch + 1}/{epochs}: loss {np.mean(losses):.3f}, validation gland Dice {gland_dice:.3f}, "
            f"lesion Dice {lesion_dice:.3f} ({time.perf_counter() - started:.0f} s)")
        if score > best:
            best, best_state = score, {k: v.detach().clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)
    meta = {"base": base, "seed": seed, "cases": cases, "validation_cases": validation_cases, "epochs": epochs,
            "history": history, "threshold": 0.5, "hard_share": hard_share, "vendor": vendor,
            "align_phase": align_phase}
    if init is not None:
        meta["fine_tuned_from"] = {"weights": Path(init).name, "seed": init_meta.get("seed"),
                                   "cases": init_meta.get("cases"), "epochs": init_meta.get("epochs")}
        meta.update({k: init_meta[k] for k in KEPT_SETTINGS if k in init_meta})
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    meta["train_seconds"] = round(time.perf_counter() - started, 1)
    save_network(net, out_path, meta)
    meta = calibrate(out_path, val_seeds, workers=workers, fp_per_case=fp_per_case,
                     rule=f"{validation_cases} validation cases (seed {seed}, hard share {hard_share:g}, "
                          f"vendor {vendor})", log=log, phantoms=val_phantoms, vendor=vendor,
                     threshold_only=init is not None)
    return TrainResult(path=out_path, meta=meta)


def calibrate(path: Path, val_seeds: list[int], *, workers: int, fp_per_case: float, rule: str, log=print,
              phantoms: list[str] | None = None, vendor: str = "A", threshold_only: bool = False) -> dict:
    """Post-processing settings, on validation cases only, through the whole predict path
    (registration, T2 upsampling, measurement), stored in the weights file's metadata:
    the gland level with the smallest median volume error; the lesion floor with the highest
    sensitivity at 1 FP/case; the lesion measuring level with the smallest median long-axis
    error of the lesions found; the operating threshold, the lowest giving at most fp_per_case
    false positives per validation case. The network weights are not touched. With
    `threshold_only` the stored settings are kept and only the threshold is set.
    """
    from inference.cad.prostate.evaluate import run_cases, sensitivity_at_fp, threshold_at
    from inference.cad.prostate.network import load_network

    net, meta = load_network(str(path))
    started = time.perf_counter()

    def tried(**overrides):
        return run_cases(val_seeds, weights=str(path), workers=workers, overrides=overrides,
                         phantom=phantoms or "default", vendor=vendor)

    if threshold_only:
        kept = {k: meta[k] for k in ("gland_level", "lesion_floor", "measure_level")}
        meta["threshold"] = threshold_at(tried(**kept), fp_per_case)
        meta["threshold_rule"] = f"{fp_per_case:g} FP/case on {rule}"
        meta["calibrate_seconds"] = round(time.perf_counter() - started, 1)
        save_network(net, path, meta)
        log(f"kept {kept}; operating threshold {meta['threshold']:.3f} ({meta['threshold_rule']})")
        return meta
    errors = {level: float(np.median([r.volume_error for r in tried(gland_level=level)])) for level in GLAND_LEVELS}
    meta["gland_level"] = min(errors, key=errors.get)
    meta["gland_level_errors"] = {str(k): round(v, 4) for k, v in errors.items()}
    log(f"gland level {meta['gland_level']} (median volume error on validation by level: {meta['gland_level_errors']})")
    sensitivity = {floor: sensitivity_at_fp(tried(gland_level=meta["gland_level"], lesion_floor=floor), 1.0)
                   for floor in LESION_FLOORS}
    meta["lesion_floor"] = max(LESION_FLOORS, key=lambda f: (sensitivity[f], -f))
    meta["lesion_floor_sensitivity_at_1fp"] = {str(k): round(v, 4) for k, v in sensitivity.items()}
    log(f"lesion floor {meta['lesion_floor']} (validation sensitivity at 1 FP/case by floor: "
        f"{meta['lesion_floor_sensitivity_at_1fp']})")
    by_level, diameter_errors = {}, {}
    for level in MEASURE_LEVELS:
        by_level[level] = tried(gland_level=meta["gland_level"], lesion_floor=meta["lesion_floor"],
                                measure_level=level)
        found = [abs(d) for r in by_level[level] for d in r.diameter_errors()]
        diameter_errors[level] = float(np.median(found)) if found else float("inf")
    meta["measure_level"] = min(MEASURE_LEVELS, key=lambda v: (diameter_errors[v], v))
    meta["measure_level_errors_mm"] = {str(k): round(v, 3) for k, v in diameter_errors.items()}
    log(f"lesion measuring level {meta['measure_level']} (median long-axis error on validation by level, mm: "
        f"{meta['measure_level_errors_mm']})")
    meta["threshold"] = threshold_at(by_level[meta["measure_level"]], fp_per_case)
    meta["threshold_rule"] = f"{fp_per_case:g} FP/case on {rule}"
    meta["calibrate_seconds"] = round(time.perf_counter() - started, 1)
    save_network(net, path, meta)
    log(f"operating threshold {meta['threshold']:.3f} ({meta['threshold_rule']})")
    return meta
