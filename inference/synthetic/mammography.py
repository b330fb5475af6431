"""Screening mammography: the four standard views with masses and calcification clusters.

A lesion is defined once per breast in breast coordinates (distance from the chest wall,
medial-lateral and superior-inferior offsets) and projected into CC and MLO, so it lies at the
same depth from the chest wall in both views, as readers check. Images are drawn with the chest
wall at column 0 and flipped for the views hung with the chest wall on the right.

Two phantoms. "default" (the one every earlier figure was measured on): smooth glandular texture,
one noise level, and only findings that need recall. "hard": parenchyma with a power-law
(1/f^beta, beta about 3) spectrum, exposure (noise and contrast) varying per case, and benign
mimics beside the suspicious findings: cysts, fibroadenomas, focal asymmetry, vascular, punctate
and rim calcifications. Suspicious findings in the hard phantom are irregular and spiculated
masses, calcification clusters and architectural distortion. Every object in the truth says
whether it is malignant (needs recall); a case whose only findings are benign is a negative case.
A vendor profile (detector noise, processing curve, edge enhancement) can be applied to either.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from pydicom.dataset import Dataset
from scipy import ndimage

from .headers import (
    LOCATION_OUTPATIENT,
    LOCATION_SCREENING,
    default_study_datetime,
    make_order,
    make_patient,
    order_truth,
    patient_truth,
    uid_factory,
)
from .projection import MG_FOR_PRESENTATION, code, projection_instance
from .series import StudyContext
from .volume import gaussian_noise

MATRICES = {"standard": ((1024, 832), 0.28), "small": ((512, 416), 0.56)}
DENSITY_FRACTION = {"a": 0.12, "b": 0.35, "c": 0.6, "d": 0.85}  # BI-RADS 5th ed. categories a-d
VIEWS = (("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO"))
VIEW_CODES = {"CC": ("399162004", "cranio-caudal"), "MLO": ("399368009", "medio-lateral oblique")}
# Row direction then column direction, as hung: R views chest wall right, L views chest wall left.
ORIENTATION = {("R", "CC"): ["P", "L"], ("L", "CC"): ["A", "R"], ("R", "MLO"): ["P", "FL"], ("L", "MLO"): ["A", "FR"]}
LESION_TYPES = ("mass_circumscribed", "mass_spiculated", "calcification_cluster")
PHANTOMS = ("default", "hard")
# Suspicious (recall) findings of the hard phantom: circumscribed masses there are benign.
HARD_LESION_TYPES = ("mass_irregular", "mass_spiculated", "calcification_cluster", "architectural_distortion")
HARD_LESION_P = (0.3, 0.25, 0.3, 0.15)
BENIGN_TYPES = ("cyst", "fibroadenoma", "focal_asymmetry", "calcification_vascular", "calcification_punctate",
                "calcification_rim")
BENIGN_SIZE_MM = {"cyst": (6, 20), "fibroadenoma": (8, 25), "focal_asymmetry": (15, 35),
                  "calcification_vascular": (30, 70), "calcification_punctate": (25, 45),
                  "calcification_rim": (3, 8)}
POWER_LAW_BETA = 3.0
# Acquisition profiles: detector noise (times the case's), processing gamma (on 0-4095) and
# unsharp-mask gain (2 mm). "A" is the profile every default figure was measured on.
VENDORS = {"A": {"noise": 1.0, "gamma": 1.0, "unsharp": 0.0, "model": "SynthMammo 3000"},
           "B": {"noise": 1.7, "gamma": 0.6, "unsharp": 0.8, "model": "SynthMammo Vista"}}


def _breast_shape(rng: np.random.Generator) -> dict:
    return {"depth_mm": float(rng.uniform(85, 140)), "half_height_mm": float(rng.uniform(75, 110)),
            "pectoral_mm": float(rng.uniform(40, 70)), "thickness_mm": float(rng.uniform(35, 70))}


def _lesion(rng: np.random.Generator, breast: str) -> dict:
    kind = str(rng.choice(LESION_TYPES, p=(0.35, 0.3, 0.35)))
    size = float(rng.uniform(6, 25)) if kind.startswith("mass") else float(rng.uniform(4, 12))
    return {"type": kind, "breast": breast, "size_mm": round(size, 2),
            # Breast coordinates: depth from chest wall (fraction), medial(-)/lateral(+), inferior(-)/superior(+).
            "depth_frac": float(rng.uniform(0.25, 0.75)), "ml": float(rng.uniform(-0.6, 0.6)),
            "si": float(rng.uniform(-0.6, 0.6)), "seed": int(rng.integers(2**31))}


def _hard_lesion(rng: np.random.Generator, breast: str) -> dict:
    kind = str(rng.choice(HARD_LESION_TYPES, p=HARD_LESION_P))
    size = {"calcification_cluster": (4, 12), "architectural_distortion": (15, 30)}.get(kind, (6, 25))
    return {"type": kind, "breast": breast, "size_mm": round(float(rng.uniform(*size)), 2),
            "depth_frac": float(rng.uniform(0.25, 0.75)), "ml": float(rng.uniform(-0.6, 0.6)),
            "si": float(rng.uniform(-0.6, 0.6)), "seed": int(rng.integers(2**31)), "malignant": True}


def _benign(rng: np.random.Generator, breast: str, kind: str | None = None) -> dict:
    kind = kind or str(rng.choice(BENIGN_TYPES, p=(0.2, 0.2, 0.15, 0.15, 0.15, 0.15)))
    return {"type": kind, "breast": breast, "size_mm": round(float(rng.uniform(*BENIGN_SIZE_MM[kind])), 2),
            "depth_frac": float(rng.uniform(0.2, 0.8)), "ml": float(rng.uniform(-0.65, 0.65)),
            "si": float(rng.uniform(-0.65, 0.65)), "seed": int(rng.integers(2**31)), "malignant": False}


def power_law_texture(rng: np.random.Generator, rows: int, cols: int, beta: float = POWER_LAW_BETA) -> np.ndarray:
    """Unit-variance noise whose power spectrum falls as 1/f^beta (mammographic parenchyma: beta about 3)."""
    fy = np.fft.fftfreq(rows)[:, None]
    fx = np.fft.rfftfreq(cols)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    amplitude = f ** (-beta / 2)
    amplitude[0, 0] = 0.0
    spectrum = amplitude * (rng.standard_normal(f.shape) + 1j * rng.standard_normal(f.shape))
    field = np.fft.irfft2(spectrum, s=(rows, cols))
    return (field / field.std()).astype(np.float32)


def _view_position(lesion: dict, view: str, shape: dict) -> tuple[float, float]:
    """(x from chest wall, y from the breast's centre line) in mm in the canonical image."""
    depth = lesion["depth_frac"] * shape["depth_mm"]
    height = shape["half_height_mm"] * np.sqrt(1 - lesion["depth_frac"] ** 2) * 0.8
    if view == "CC":
        offset = lesion["ml"]  # lateral up on a CC image
    else:
        offset = (lesion["si"] + 0.5 * lesion["ml"]) / 1.5  # oblique projection mixes both
    return depth, -offset * height


def _render_view(rng: np.random.Generator, view: str, shape: dict, density: str, lesions: list[dict],
                 rows: int, cols: int, spacing: float, exposure: dict | None = None,
                 vendor: dict | None = None) -> tuple[np.ndarray, list[dict]]:
    """One view; exposure (hard phantom: texture rng, noise, contrast) and vendor are None by default."""
    y = (np.arange(rows, dtype=np.float32)[:, None] - rows / 2) * spacing
    x = np.arange(cols, dtype=np.float32)[None, :] * spacing
    cy = 0.0 if view == "CC" else -0.08 * rows * spacing
    depth, half = shape["depth_mm"], shape["half_height_mm"] * (1.0 if view == "CC" else 1.15)
    r2 = (x / depth) ** 2 + ((y - cy) / half) ** 2
    breast = r2 < 1
    # Compressed thickness falls off toward the skin edge: tissue gets darker near the outline.
    thick = np.sqrt(np.clip(1 - r2, 0, 1))
    contrast = 1.0 if exposure is None else exposure["contrast"]
    if exposure is None:
        low = rng.standard_normal((rows // 16 + 2, cols // 16 + 2)).astype(np.float32)
        field = ndimage.zoom(ndimage.gaussian_filter(low, 1.5), 16, order=1)[:rows, :cols]
        fine = ndimage.gaussian_filter(rng.standard_normal((rows // 4 + 1, cols // 4 + 1)).astype(np.float32), 1.0)
        field += 0.35 * ndimage.zoom(fine, 4, order=1)[:rows, :cols]
    else:
        # Parenchyma with a power-law spectrum: structure at every scale, as in real breasts.
        field = 0.5 * power_law_texture(exposure["rng"], rows, cols)
    field -= 1.2 * np.sqrt(r2)  # glandular tissue gathers behind the nipple, centrally
    inside = field[breast]
    level = np.quantile(inside, 1 - DENSITY_FRACTION[density]) if inside.size else 0.0
    gland = np.clip((field - level) * 3, 0, 1) * breast
    if exposure is None:
        img = np.where(breast, 900 + 700 * thick + 900 * gland * thick, 60).astype(np.float32)
    else:
        texture = power_law_texture(exposure["rng"], rows, cols)
        tissue = 900 * gland + 110 * texture * (0.35 + gland)
        img = np.where(breast, 900 + 700 * thick + contrast * tissue * thick, 60).astype(np.float32)
    if view == "MLO":
        pect = x < shape["pectoral_mm"] * (1 - (y + rows * spacing / 2) / (0.55 * rows * spacing))
        img[pect & breast] = 2300
    records = []
    for lesion in lesions:
        lx, ly = _view_position(lesion, view, shape)
        ly += cy
        _draw_lesion(img, x, y, lx, ly, lesion, spacing, contrast)
        radius = lesion["size_mm"] / 2
        if lesion["type"] == "mass_spiculated":
            radius *= 1.6  # the spicules reach out beyond the core
        records.append({"x_mm": lx, "y_mm": ly, "radius_mm": radius})
    if exposure is None and vendor is None:
        img += gaussian_noise(rng, img.shape) * 18
        return np.clip(img, 0, 4095).astype(np.uint16), records
    sigma = (18.0 if exposure is None else exposure["noise"]) * (1.0 if vendor is None else vendor["noise"])
    img += gaussian_noise(rng, img.shape) * sigma
    if vendor is not None:
        img = apply_vendor_processing(img, vendor, spacing)
    return np.clip(img, 0, 4095).astype(np.uint16), records


def apply_vendor_processing(img: np.ndarray, vendor: dict, spacing: float) -> np.ndarray:
    """A "for presentation" processing curve: gamma on the 0-4095 range, then unsharp masking."""
    out = np.clip(img, 0, 4095)
    if vendor["gamma"] != 1.0:
        out = 4095.0 * (out / 4095.0) ** vendor["gamma"]
    if vendor["unsharp"]:
        out = out + vendor["unsharp"] * (out - ndimage.gaussian_filter(out, 2.0 / spacing))
    return out.astype(np.float32)


def _draw_lesion(img: np.ndarray, x: np.ndarray, y: np.ndarray, lx: float, ly: float, lesion: dict,
                 spacing: float, contrast: float = 1.0) -> None:
    rng = np.random.default_rng(lesion["seed"])  # same look in both views
    r = lesion["size_mm"] / 2
    reach = r * 2.2
    j0 = max(0, int((ly - reach - y[0, 0]) / spacing))
    j1 = min(img.shape[0], int((ly + reach - y[0, 0]) / spacing) + 1)
    i0 = max(0, int((lx - reach) / spacing))
    i1 = min(img.shape[1], int((lx + reach) / spacing) + 1)
    dx, dy = x[:, i0:i1] - lx, y[j0:j1, :] - ly
    patch = img[j0:j1, i0:i1]
    dist = np.sqrt(dx * dx + dy * dy)
    if lesion["type"] in HARD_ONLY_DRAW:
        patch += contrast * HARD_ONLY_DRAW[lesion["type"]](rng, dx, dy, dist, r, spacing)
        return
    if lesion["type"].startswith("mass"):
        aspect = rng.uniform(0.75, 1.0)
        d_ell = np.sqrt(dx * dx + (dy / aspect) ** 2)
        core = np.clip((r - d_ell) / spacing + 0.5, 0, 1)
        if lesion["type"] == "mass_spiculated":
            angle = np.arctan2(dy, dx)
            for theta in rng.uniform(-np.pi, np.pi, int(rng.integers(8, 16))):
                length = r * rng.uniform(1.4, 2.1)
                off = np.abs(np.sin(angle - theta)) * dist
                along = np.cos(angle - theta) * dist
                width = 0.6 * (1 - np.clip(along / length, 0, 1))
                core = np.maximum(core, ((off < width + 0.2) & (along > 0) & (along < length)) * 0.7)
        patch += core * 650 * contrast
    else:
        for _ in range(int(rng.integers(6, 16))):
            px, py = rng.uniform(-r, r, 2)
            if px * px + py * py > r * r:
                continue
            speck = rng.uniform(0.15, 0.35)
            patch += 2200 * np.exp(-((dx - px) ** 2 + (dy - py) ** 2) / (2 * max(speck, 0.6 * spacing) ** 2))


def _speck(dx, dy, px, py, sigma, spacing):
    sigma = max(sigma, 0.6 * spacing)
    return np.exp(-((dx - px) ** 2 + (dy - py) ** 2) / (2 * sigma**2))


def _draw_irregular(rng, dx, dy, dist, r, spacing):
    """Malignant: an irregular outline (several harmonics) with an indistinct, blurred margin."""
    angle = np.arctan2(dy, dx)
    outline = np.ones_like(angle)
    for k in rng.integers(3, 9, 3):
        outline += rng.uniform(0.08, 0.18) * np.cos(k * angle + rng.uniform(0, 2 * np.pi))
    margin = rng.uniform(1.0, 2.0)  # mm over which the edge fades
    core = np.clip((r * outline - dist) / margin + 0.5, 0, 1)
    return core * rng.uniform(550, 700)


def _draw_distortion(rng, dx, dy, dist, r, spacing):
    """Malignant: thin lines radiating from a point, with no central mass."""
    angle = np.arctan2(dy, dx)
    out = np.zeros_like(dist)
    for theta in rng.uniform(-np.pi, np.pi, int(rng.integers(10, 18))):
        length = r * rng.uniform(0.7, 1.0)
        off = np.abs(np.sin(angle - theta)) * dist
        along = np.cos(angle - theta) * dist
        width = 0.25 + 0.35 * (1 - np.clip(along / length, 0, 1))
        out = np.maximum(out, np.clip(1 - off / width, 0, 1) * ((along > 0) & (along < length)))
    return out * rng.uniform(300, 420)


def _draw_cyst(rng, dx, dy, dist, r, spacing):
    """Benign: round, sharply circumscribed, homogeneous."""
    aspect = rng.uniform(0.88, 1.0)
    d = np.sqrt(dx * dx + (dy / aspect) ** 2)
    return np.clip((r - d) / spacing + 0.5, 0, 1) * rng.uniform(450, 650)


def _draw_fibroadenoma(rng, dx, dy, dist, r, spacing):
    """Benign: oval, gently lobulated (two to four lobes), circumscribed."""
    theta = rng.uniform(0, np.pi)
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = (-dx * np.sin(theta) + dy * np.cos(theta)) / rng.uniform(0.5, 0.75)
    angle = np.arctan2(v, u)
    outline = r * (1 + rng.uniform(0.05, 0.12) * np.cos(int(rng.integers(2, 5)) * angle + rng.uniform(0, 6.3)))
    return np.clip((outline - np.sqrt(u * u + v * v)) / spacing + 0.5, 0, 1) * rng.uniform(400, 600)


def _draw_asymmetry(rng, dx, dy, dist, r, spacing):
    """Benign focal asymmetry: a soft, low-contrast area of tissue with fat interspersed."""
    aspect = rng.uniform(0.5, 0.9)
    d = np.sqrt(dx * dx + (dy / aspect) ** 2)
    blob = np.exp(-(d**2) / (2 * (0.5 * r) ** 2))
    fat = ndimage.gaussian_filter(rng.standard_normal(dist.shape).astype(np.float32), 1.5 / spacing)
    fat /= max(float(fat.std()), 1e-6)
    return blob * np.clip(0.7 + 0.4 * fat, 0, 1.2) * rng.uniform(200, 320)


def _draw_vascular(rng, dx, dy, dist, r, spacing):
    """Benign vascular calcification: two parallel thin lines (tram-track) along a gently curved vessel."""
    theta = rng.uniform(0, np.pi)
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = -dx * np.sin(theta) + dy * np.cos(theta) - rng.uniform(-0.012, 0.012) * u * u
    half = rng.uniform(0.6, 1.0)  # half the vessel's width, mm
    sigma = max(0.2, 0.6 * spacing)
    lines = np.exp(-((v - half) ** 2) / (2 * sigma**2)) + np.exp(-((v + half) ** 2) / (2 * sigma**2))
    # Intermittent, as calcified vessel walls are.
    gaps = (np.sin(u * rng.uniform(0.3, 0.6) + rng.uniform(0, 6.3)) > -0.4) & (np.abs(u) < r)
    return lines * gaps * rng.uniform(1100, 1700)


def _draw_punctate(rng, dx, dy, dist, r, spacing):
    """Benign scattered punctate calcifications: a few round specks spread widely, not clustered."""
    out = np.zeros_like(dist)
    for _ in range(int(rng.integers(5, 11))):
        px, py = rng.uniform(-r, r, 2)
        out += _speck(dx, dy, px, py, rng.uniform(0.3, 0.5), spacing)
    return out * rng.uniform(1400, 2000)


def _draw_rim(rng, dx, dy, dist, r, spacing):
    """Benign rim (eggshell) calcification: a thin bright ring around a lucent centre."""
    sigma = max(0.25, 0.6 * spacing)
    ring = np.exp(-((dist - r) ** 2) / (2 * sigma**2))
    return ring * rng.uniform(1300, 1900) + (dist < r) * 80


HARD_ONLY_DRAW = {"mass_irregular": _draw_irregular, "architectural_distortion": _draw_distortion,
                  "cyst": _draw_cyst, "fibroadenoma": _draw_fibroadenoma, "focal_asymmetry": _draw_asymmetry,
                  "calcification_vascular": _draw_vascular, "calcification_punctate": _draw_punctate,
                  "calcification_rim": _draw_rim}


def generate_mammography(seed: int, *, matrix: str = "standard", density: str | None = None,
                         normal_share: float = 0.5, n_lesions: int | None = None,
                         priority: str | None = None, patient_location: str | None = None,
                         study_datetime: dt.datetime | None = None, phantom: str = "default",
                         vendor: str = "A", n_benign: int | None = None,
                         benign_types: tuple[str, ...] | None = None) -> tuple[list[Dataset], dict, str]:
    """A four-view screening case. phantom="hard" adds benign mimics, power-law parenchyma and
    per-case exposure; vendor="B" another acquisition profile; n_benign / benign_types force the
    mimics (hard phantom). The default phantom and vendor "A" draw exactly what they always drew."""
    if phantom not in PHANTOMS:
        raise ValueError(f"phantom is one of {', '.join(PHANTOMS)}")
    if vendor not in VENDORS:
        raise ValueError(f"vendor is one of {', '.join(VENDORS)}")
    (rows, cols), spacing = MATRICES[matrix]
    rng = np.random.default_rng(seed)
    when = study_datetime or default_study_datetime(rng)
    patient = make_patient(rng, when.date(), sex="F", age_range=(45, 75))
    order = make_order(rng, study_description="MAMMOGRAPHY SCREENING BILATERAL", study_datetime=when,
                       priority=priority, patient_location=patient_location,
                       default_locations=(LOCATION_SCREENING, LOCATION_OUTPATIENT))
    density = density or str(rng.choice(list(DENSITY_FRACTION), p=(0.1, 0.4, 0.4, 0.1)))
    if n_lesions is None:
        n_lesions = 0 if rng.random() < normal_share else int(rng.integers(1, 3))
    hard = phantom == "hard"
    if hard:
        lesions = [_hard_lesion(rng, str(rng.choice(("L", "R")))) for _ in range(n_lesions)]
    else:
        lesions = [_lesion(rng, str(rng.choice(("L", "R")))) for _ in range(n_lesions)]
    shapes = {side: _breast_shape(rng) for side in ("R", "L")}
    benign: list[dict] = []
    exposure = None
    if hard:
        # Streams of their own, so the hard phantom's extras never shift what the shared stream draws,
        # and the mimics never shift the texture and exposure: a case with and without them differs
        # only by them.
        extra = np.random.default_rng([seed, 20])
        if n_benign is None:
            n_benign = int(extra.integers(1, 4)) if extra.random() < 0.8 else 0
        kinds = list(benign_types) if benign_types else [None] * n_benign
        benign = [_benign(extra, str(extra.choice(("L", "R"))), kinds[i % len(kinds)])
                  for i in range(max(n_benign, len(kinds)))]
        texture = np.random.default_rng([seed, 21])
        exposure = {"rng": texture, "noise": round(float(texture.uniform(12, 40)), 1),
                    "contrast": round(float(texture.uniform(0.75, 1.2)), 3)}
    profile = None if vendor == "A" else VENDORS[vendor]
    objects = lesions + benign
    uid = uid_factory("mammography", seed)
    study_uid = uid("study")
    ctx = StudyContext(kind="mammography", patient=patient, order=order, study_uid=study_uid,
                       study_id=order.accession_number[-8:], body_part="BREAST", uid=uid)
    kvp = float(rng.integers(26, 33))
    datasets: list[Dataset] = []
    views_truth = []
    object_truth = [{"id": i + 1, "type": les["type"], "breast": les["breast"], "size_mm": les["size_mm"],
                     "depth_from_chest_wall_mm": round(les["depth_frac"] * shapes[les["breast"]]["depth_mm"], 2),
                     "malignant": les.get("malignant", True), "views": {}} for i, les in enumerate(objects)]
    for n, (side, view) in enumerate(VIEWS):
        mine = [les for les in objects if les["breast"] == side]
        pixels, placed = _render_view(rng, view, shapes[side], density, mine, rows, cols, spacing, exposure,
                                      profile)
        flip = side == "R"  # chest wall on the right for right-breast views
        if flip:
            pixels = pixels[:, ::-1]
        ds = projection_instance(ctx, np.ascontiguousarray(pixels), sop_class=MG_FOR_PRESENTATION,
                                 modality="MG", series_number=1 + n, series_description=f"{side} {view}",
                                 model=VENDORS[vendor]["model"], instance_number=1, spacing_mm=spacing,
                                 start_minutes=n)
        _mammo_attributes(ds, side, view, shapes[side], kvp)
        datasets.append(ds)
        views_truth.append({"view": f"{side}{view}", "sop_instance_uid": ds.SOPInstanceUID,
                            "series_instance_uid": ds.SeriesInstanceUID, "rows": rows, "columns": cols,
                            "pixel_spacing_mm": spacing, "chest_wall_side": "right" if flip else "left"})
        for les, where in zip(mine, placed, strict=True):
            col = float(where["x_mm"] / spacing)
            if flip:
                col = cols - 1 - col
            row = float(where["y_mm"] / spacing + rows / 2)
            rad = where["radius_mm"] / spacing
            record = object_truth[next(i for i, o in enumerate(objects) if o is les)]
            record["views"][f"{side}{view}"] = {
                "center_px": [round(col, 1), round(row, 1)],
                "center_mm": [round(col * spacing, 2), round(row * spacing, 2)],
                "bbox_px": [round(max(col - rad, 0), 1), round(max(row - rad, 0), 1),
                            round(min(col + rad, cols - 1), 1), round(min(row + rad, rows - 1), 1)],
            }
    truth = {
        "kind": "mammography", "seed": seed,
        "params": {"matrix": matrix, "normal_share": normal_share, "phantom": phantom, "vendor": vendor,
                   **({"noise": exposure["noise"], "contrast": exposure["contrast"]} if exposure else {})},
        "study_instance_uid": study_uid,
        "patient": patient_truth(patient), "order": order_truth(order),
        "density": density,
        "views": views_truth,
        "series": [{"series_instance_uid": v["series_instance_uid"], "description": v["view"], "modality": "MG",
                    "instances": 1} for v in views_truth],
        # "lesions" are the findings that need recall (BI-RADS 0); benign mimics never make a case positive.
        "normal": not lesions,
        "lesions": [o for o in object_truth if o["malignant"]],
        "benign_findings": [o for o in object_truth if not o["malignant"]],
    }
    return datasets, truth, study_uid


def _mammo_attributes(ds: Dataset, side: str, view: str, shape: dict, kvp: float) -> None:
    ds.ImageType = ["ORIGINAL", "PRIMARY", ""]
    ds.ImageLaterality = side
    ds.ViewPosition = view
    ds.PatientOrientation = ORIENTATION[(side, view)]
    ds.ViewCodeSequence = [code(*VIEW_CODES[view][:1], "SCT", VIEW_CODES[view][1])]
    ds.ViewCodeSequence[0].ViewModifierCodeSequence = []
    ds.AnatomicRegionSequence = [code("76752008", "SCT", "Breast")]
    ds.PositionerType = "MAMMOGRAPHIC"
    ds.OrganExposed = "BREAST"
    ds.BreastImplantPresent = "NO"
    ds.PartialView = "NO"
    ds.KVP = kvp
    ds.ExposureTime = 1000
    ds.XRayTubeCurrent = 100
    ds.Exposure = 100
    ds.BodyPartThickness = round(shape["thickness_mm"], 1)
    ds.CompressionForce = 100
    ds.DistanceSourceToDetector = 660
    ds.DistanceSourceToPatient = 640
    ds.EstimatedRadiographicMagnificationFactor = round(660 / 640, 4)
    ds.AcquisitionContextSequence = []
    ds.AnodeTargetMaterial = "TUNGSTEN"
    ds.FilterMaterial = "RHODIUM"
    ds.FocalSpots = 0.3
    ds.PositionerPrimaryAngle = 0 if view == "CC" else (45 if side == "R" else -45)
    ds.WindowCenter = 1900
    ds.WindowWidth = 2600
