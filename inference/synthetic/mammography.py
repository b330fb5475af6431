"""Screening mammography: the four standard views with masses and calcification clusters.

A lesion is defined once per breast in breast coordinates (distance from the chest wall,
medial-lateral and superior-inferior offsets) and projected into CC and MLO, so it lies at the
same depth from the chest wall in both views, as readers check. Images are drawn with the chest
wall at column 0 and flipped for the views hung with the chest wall on the right.
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
                 rows: int, cols: int, spacing: float) -> tuple[np.ndarray, list[dict]]:
    y = (np.arange(rows, dtype=np.float32)[:, None] - rows / 2) * spacing
    x = np.arange(cols, dtype=np.float32)[None, :] * spacing
    cy = 0.0 if view == "CC" else -0.08 * rows * spacing
    depth, half = shape["depth_mm"], shape["half_height_mm"] * (1.0 if view == "CC" else 1.15)
    r2 = (x / depth) ** 2 + ((y - cy) / half) ** 2
    breast = r2 < 1
    # Compressed thickness falls off toward the skin edge: tissue gets darker near the outline.
    thick = np.sqrt(np.clip(1 - r2, 0, 1))
    low = rng.standard_normal((rows // 16 + 2, cols // 16 + 2)).astype(np.float32)
    field = ndimage.zoom(ndimage.gaussian_filter(low, 1.5), 16, order=1)[:rows, :cols]
    fine = ndimage.gaussian_filter(rng.standard_normal((rows // 4 + 1, cols // 4 + 1)).astype(np.float32), 1.0)
    field += 0.35 * ndimage.zoom(fine, 4, order=1)[:rows, :cols]
    field -= 1.2 * np.sqrt(r2)  # glandular tissue gathers behind the nipple, centrally
    inside = field[breast]
    level = np.quantile(inside, 1 - DENSITY_FRACTION[density]) if inside.size else 0.0
    gland = np.clip((field - level) * 3, 0, 1) * breast
    img = np.where(breast, 900 + 700 * thick + 900 * gland * thick, 60).astype(np.float32)
    if view == "MLO":
        pect = x < shape["pectoral_mm"] * (1 - (y + rows * spacing / 2) / (0.55 * rows * spacing))
        img[pect & breast] = 2300
    records = []
    for lesion in lesions:
        lx, ly = _view_position(lesion, view, shape)
        ly += cy
        _draw_lesion(img, x, y, lx, ly, lesion, spacing)
        radius = lesion["size_mm"] / 2
        if lesion["type"] == "mass_spiculated":
            radius *= 1.6  # the spicules reach out beyond the core
        records.append({"x_mm": lx, "y_mm": ly, "radius_mm": radius})
    img += gaussian_noise(rng, img.shape) * 18
    return np.clip(img, 0, 4095).astype(np.uint16), records


def _draw_lesion(img: np.ndarray, x: np.ndarray, y: np.ndarray, lx: float, ly: float, lesion: dict,
                 spacing: float) -> None:
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
        patch += core * 650
    else:
        for _ in range(int(rng.integers(6, 16))):
            px, py = rng.uniform(-r, r, 2)
            if px * px + py * py > r * r:
                continue
            speck = rng.uniform(0.15, 0.35)
            patch += 2200 * np.exp(-((dx - px) ** 2 + (dy - py) ** 2) / (2 * max(speck, 0.6 * spacing) ** 2))


def generate_mammography(seed: int, *, matrix: str = "standard", density: str | None = None,
                         normal_share: float = 0.5, n_lesions: int | None = None,
                         priority: str | None = None, patient_location: str | None = None,
                         study_datetime: dt.datetime | None = None) -> tuple[list[Dataset], dict, str]:
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
    lesions = [_lesion(rng, str(rng.choice(("L", "R")))) for _ in range(n_lesions)]
    shapes = {side: _breast_shape(rng) for side in ("R", "L")}
    uid = uid_factory("mammography", seed)
    study_uid = uid("study")
    ctx = StudyContext(kind="mammography", patient=patient, order=order, study_uid=study_uid,
                       study_id=order.accession_number[-8:], body_part="BREAST", uid=uid)
    kvp = float(rng.integers(26, 33))
    datasets: list[Dataset] = []
    views_truth = []
    lesion_truth = [{"id": i + 1, "type": les["type"], "breast": les["breast"], "size_mm": les["size_mm"],
                     "depth_from_chest_wall_mm": round(les["depth_frac"] * shapes[les["breast"]]["depth_mm"], 2),
                     "views": {}} for i, les in enumerate(lesions)]
    for n, (side, view) in enumerate(VIEWS):
        mine = [les for les in lesions if les["breast"] == side]
        pixels, placed = _render_view(rng, view, shapes[side], density, mine, rows, cols, spacing)
        flip = side == "R"  # chest wall on the right for right-breast views
        if flip:
            pixels = pixels[:, ::-1]
        ds = projection_instance(ctx, np.ascontiguousarray(pixels), sop_class=MG_FOR_PRESENTATION,
                                 modality="MG", series_number=1 + n, series_description=f"{side} {view}",
                                 model="SynthMammo 3000", instance_number=1, spacing_mm=spacing,
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
            record = lesion_truth[lesions.index(les)]
            record["views"][f"{side}{view}"] = {
                "center_px": [round(col, 1), round(row, 1)],
                "center_mm": [round(col * spacing, 2), round(row * spacing, 2)],
                "bbox_px": [round(max(col - rad, 0), 1), round(max(row - rad, 0), 1),
                            round(min(col + rad, cols - 1), 1), round(min(row + rad, rows - 1), 1)],
            }
    truth = {
        "kind": "mammography", "seed": seed,
        "params": {"matrix": matrix, "normal_share": normal_share},
        "study_instance_uid": study_uid,
        "patient": patient_truth(patient), "order": order_truth(order),
        "density": density,
        "views": views_truth,
        "series": [{"series_instance_uid": v["series_instance_uid"], "description": v["view"], "modality": "MG",
                    "instances": 1} for v in views_truth],
        "normal": not lesions,
        "lesions": lesion_truth,
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
