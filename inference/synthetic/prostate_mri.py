"""Prostate MRI (biparametric): axial T2-weighted, DWI at several b-values and an ADC map.

All series share the frame of reference and slice positions (3 mm, same z) so they register;
in-plane matrices differ as on a scanner. The gland is an ellipsoid, the transition zone an
ellipsoid shifted anteriorly inside it, the peripheral zone the rest; masks can be rebuilt from
the truth with `prostate_masks`.

Two options make harder or different studies; their defaults reproduce the original studies
value for value (extra randomness comes from streams of its own):
- `phantom="hard"` adds benign prostatic hyperplasia (BPH) nodules in the transition zone (the
  classic mimic: encapsulated, heterogeneous on T2, stromal ones dark on T2 with mildly restricted
  diffusion; benign in the truth, `benign_mimics`), susceptibility-like distortion of the
  diffusion series along its phase-encoding direction (anterior-posterior: a shift, a stretch and
  a pull near the rectum, with the signal pile-up it causes) and patient motion on T2 (phase-
  encoding lines, left-right, taken at displaced positions: blur and ghosts).
- `vendor` picks an acquisition profile (VENDORS): T2 noise, gain and contrast, DWI noise,
  b-values and the ADC the scanner reads, so a model trained on one profile can be tested on another.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from pydicom.dataset import Dataset

from .headers import (
    LOCATION_OUTPATIENT,
    default_study_datetime,
    make_order,
    make_patient,
    order_truth,
    patient_truth,
    uid_factory,
)
from .projection import code
from .series import MR_IMAGE_STORAGE, StudyContext, slice_datasets
from .volume import Grid, gaussian_noise

B_VALUES = (50, 400, 800, 1400)
PHANTOMS = ("default", "hard")
# Acquisition profiles. "A" is the original generator's; "B" another vendor's 3 T protocol:
# noisier, T2 brighter with compressed contrast, b-values to 1000, ADC read 12 % higher (a lower
# top b-value and a different diffusion calibration both raise measured ADC).
VENDORS = {
    "A": {"t2_noise": 12.0, "t2_gain": 1.0, "t2_contrast": 1.0, "dwi_noise": 6.0, "adc_scale": 1.0,
          "b_values": B_VALUES, "model": "SynthMR 3T"},
    "B": {"t2_noise": 22.0, "t2_gain": 1.6, "t2_contrast": 0.7, "dwi_noise": 9.0, "adc_scale": 1.12,
          "b_values": (50, 500, 1000), "model": "OtherMR 3T"},
}
T2_CONTRAST_REFERENCE = 400.0  # T2 signal left unchanged by a profile's contrast power
# Tissue (T2 signal, ADC in 10^-6 mm^2/s) - typical 3 T figures.
TISSUE = {
    "background": (0.0, 0.0), "fat": (700.0, 300.0), "muscle": (220.0, 1400.0), "pz": (620.0, 1750.0),
    "tz": (330.0, 1250.0), "lesion": (190.0, 750.0), "urine": (1100.0, 2900.0), "rectum": (260.0, 1300.0),
}


def _ellipsoid(x, y, z, c, r) -> np.ndarray:
    return ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2 < 1


def _coords(geometry: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Broadcast x, y, z (mm) of an axial series described in the truth."""
    nz, ny, nx = geometry["shape_zyx"]
    ox, oy, oz = geometry["first_ipp"]
    dy, dx = geometry["pixel_spacing_mm"]
    step = geometry["slice_step_mm"][2]
    x = (ox + np.arange(nx) * dx)[None, None, :]
    y = (oy + np.arange(ny) * dy)[None, :, None]
    z = (oz + np.arange(nz) * step)[:, None, None]
    return x, y, z


def prostate_masks(truth: dict, series: str = "t2w") -> dict[str, np.ndarray]:
    """Boolean masks (z, y, x) of gland, pz, tz, each lesion (`lesion_<id>`) and each benign BPH
    nodule (`bph_<id>`) on the grid of `series` (t2w, dwi or adc). On a distorted diffusion series
    the masks are where the image shows each structure, not where it lies."""
    x, y, z = _coords(truth["geometry"][series])
    if series in ("dwi", "adc") and truth.get("distortion"):
        y = _distorted_y(x, y, truth["distortion"])[0]
    anat = truth["anatomy"]
    gland = _ellipsoid(x, y, z, anat["gland_center_mm"], anat["gland_semi_axes_mm"])
    tz = gland & _ellipsoid(x, y, z, anat["tz_center_mm"], anat["tz_semi_axes_mm"])
    masks = {"gland": gland, "tz": tz, "pz": gland & ~tz}
    for les in truth["lesions"]:
        r = les["diameter_mm"] / 2
        masks[f"lesion_{les['id']}"] = _ellipsoid(x, y, z, les["center_mm"], (r, r, r))
    for nodule in truth.get("benign_mimics", []):
        masks[f"bph_{nodule['id']}"] = _ellipsoid(x, y, z, nodule["center_mm"], nodule["semi_axes_mm"])
    return masks


def _distorted_y(x, y, distortion: dict) -> tuple[np.ndarray, np.ndarray]:
    """Where along y (anterior-posterior, the DWI phase direction) each diffusion pixel takes its
    signal from, and the signal's pile-up factor (the Jacobian dy_source/dy): a shift, a stretch
    about the gland and a local pull at the rectal wall (air-tissue susceptibility)."""
    d = distortion
    gauss = np.exp(-((x - d["bump_center_mm"][0]) ** 2 + (y - d["bump_center_mm"][1]) ** 2)
                   / (2 * d["bump_width_mm"] ** 2))
    source = y + d["shift_mm"] + d["stretch"] * (y - d["stretch_center_mm"]) + d["bump_mm"] * gauss
    jacobian = 1 + d["stretch"] - d["bump_mm"] * gauss * (y - d["bump_center_mm"][1]) / d["bump_width_mm"] ** 2
    return source.astype(np.float32), np.clip(jacobian, 0.2, 5.0).astype(np.float32)

def _anatomy(rng: np.random.Generator) -> dict:
    a, b, c = rng.uniform(21, 30), rng.uniform(15, 22), rng.uniform(18, 27)
    center = [0.0, 10.0, 0.0]
    tz_r = [a * rng.uniform(0.55, 0.7), b * rng.uniform(0.5, 0.65), c * rng.uniform(0.6, 0.75)]
    tz_c = [0.0, center[1] - b + tz_r[1] + rng.uniform(1.0, 3.0), center[2] + rng.uniform(0, 3)]
    return {"gland_center_mm": center, "gland_semi_axes_mm": [a, b, c], "tz_center_mm": tz_c,
            "tz_semi_axes_mm": tz_r, "gland_volume_ml": round(4 / 3 * np.pi * a * b * c / 1000, 2)}


def _lesions(rng: np.random.Generator, anat: dict, count: int) -> list[dict]:
    out = []
    ga, gc = np.array(anat["gland_semi_axes_mm"]), np.array(anat["gland_center_mm"])
    tc, tr = np.array(anat["tz_center_mm"]), np.array(anat["tz_semi_axes_mm"])
    for n in range(count):
        zone = "pz" if rng.random() < 0.7 else "tz"
        d = float(rng.uniform(5, 22))
        for _ in range(500):
            p = gc + rng.uniform(-1, 1, 3) * ga
            in_gland = np.sum(((p - gc) / np.maximum(ga - d / 2, 1)) ** 2) < 1
            in_tz = np.sum(((p - tc) / tr) ** 2) < 1
            if in_gland and (in_tz == (zone == "tz")):
                break
        else:
            continue
        adc = float(rng.uniform(550, 950))
        out.append({"id": n + 1, "zone": zone, "center_mm": [round(float(v), 2) for v in p],
                    "diameter_mm": round(d, 2), "adc_um2_s": round(adc, 0)})
    return out


def _bph_nodules(rng: np.random.Generator, anat: dict, lesions: list[dict]) -> list[dict]:
    """1-3 benign BPH nodules inside the transition zone, clear of the lesions. Stromal nodules
    (the mimic) are dark on T2 and restrict diffusion mildly (ADC 850-1150, lesions 550-950);
    glandular ones are bright on T2 with a high ADC. Each has a dark capsule and texture."""
    out = []
    tc, tr = np.array(anat["tz_center_mm"]), np.array(anat["tz_semi_axes_mm"])
    for n in range(int(rng.integers(1, 4))):
        d = float(rng.uniform(6, 16))
        semi = np.minimum(d / 2 * rng.uniform(0.85, 1.15, 3), tr * 0.8)
        for _ in range(500):
            p = tc + rng.uniform(-1, 1, 3) * tr
            inside = np.sum(((p - tc) / np.maximum(tr - semi.max(), 1)) ** 2) < 1
            clear = all(np.linalg.norm(p - np.array(o["center_mm"])) > o.get("diameter_mm", 0) / 2 + semi.max() + 1.5
                        for o in lesions + out)
            if inside and clear:
                break
        else:
            continue
        kind = "stromal" if rng.random() < 0.6 else "glandular"
        t2, adc = ((rng.uniform(230, 300), rng.uniform(850, 1150)) if kind == "stromal"
                   else (rng.uniform(500, 700), rng.uniform(1300, 1600)))
        out.append({"id": n + 1, "type": "bph_nodule", "subtype": kind, "benign": True, "clinically_significant": False,
                    "zone": "tz", "center_mm": [round(float(v), 2) for v in p],
                    "semi_axes_mm": [round(float(v), 2) for v in semi], "diameter_mm": round(float(2 * semi.max()), 2),
                    "t2": round(float(t2), 0), "adc_um2_s": round(float(adc), 0),
                    "capsule_mm": round(float(rng.uniform(1.0, 2.0)), 2),
                    "texture": {"wavelength_mm": [round(float(v), 2) for v in rng.uniform(3, 7, 3)],
                                "phase": [round(float(v), 3) for v in rng.uniform(0, 2 * np.pi, 3)],
                                "depth": round(float(rng.uniform(0.15, 0.35)), 3)}})
    return out


def _distortion(rng: np.random.Generator, anat: dict) -> dict:
    gc, ga = anat["gland_center_mm"], anat["gland_semi_axes_mm"]
    return {"phase_direction": "AP", "shift_mm": round(float(rng.uniform(1.5, 5.0) * rng.choice([-1, 1])), 2),
            "stretch": round(float(rng.uniform(-0.08, 0.08)), 3), "stretch_center_mm": gc[1],
            "bump_mm": round(float(rng.uniform(2.0, 6.0)), 2),
            "bump_center_mm": [0.0, round(float(gc[1] + ga[1] + 4), 2)],
            "bump_width_mm": round(float(rng.uniform(10, 18)), 2)}


def _motion(rng: np.random.Generator) -> dict:
    return {"phase_direction": "RL", "amplitude_mm": round(float(rng.uniform(0.5, 3.0)), 2),
            "period_lines": round(float(rng.uniform(6, 30)), 1), "jitter_mm": round(float(rng.uniform(0.1, 0.6)), 2),
            "seed": int(rng.integers(0, 2 ** 31))}


def apply_motion(image: np.ndarray, motion: dict, spacing_mm: float) -> np.ndarray:
    """Each phase-encoding line (k-space column, left-right) acquired with the patient displaced
    by a breathing-like sine plus jitter: periodic displacement gives ghosts, jitter blurs."""
    rng = np.random.default_rng(motion["seed"])
    nz, _, nx = image.shape
    fx = np.fft.fftfreq(nx)  # cycles per pixel
    order = np.argsort(np.argsort(fx))  # lines acquired from -k to +k
    phase0 = rng.uniform(0, 2 * np.pi, (nz, 1, 1))
    shift_mm = (motion["amplitude_mm"] * np.sin(2 * np.pi * order[None, None, :] / motion["period_lines"] + phase0)
                + rng.normal(0, motion["jitter_mm"], (nz, 1, nx)))
    k = np.fft.fft2(image.astype(np.float64), axes=(1, 2))
    k *= np.exp(-2j * np.pi * fx[None, None, :] * shift_mm / spacing_mm)
    return np.abs(np.fft.ifft2(k, axes=(1, 2))).astype(np.float32)


def _texture(x, y, z, texture: dict) -> np.ndarray:
    (lx, ly, lz), (px, py, pz) = texture["wavelength_mm"], texture["phase"]
    return (np.sin(2 * np.pi * x / lx + px) * np.sin(2 * np.pi * y / ly + py) * np.sin(2 * np.pi * z / lz + pz))


def _psa(rng: np.random.Generator, anat: dict, lesions: list[dict], known_share: float) -> float | None:
    """Serum PSA in ng/mL: about 0.1 per mL of gland (benign) plus more with cancer; None when not given."""
    if rng.random() >= known_share:
        return None
    benign = anat["gland_volume_ml"] * rng.uniform(0.05, 0.15)
    cancer = sum(rng.uniform(0.5, 1.5) * (les["diameter_mm"] / 10) ** 2 for les in lesions)
    return round(float(benign + cancer), 1)


def _tissue_maps(x, y, z, anat: dict, lesions: list[dict],
                 nodules: list[dict] = ()) -> tuple[np.ndarray, np.ndarray]:
    """T2 signal and true ADC on a grid (BPH nodules painted before lesions, which win)."""
    shape = np.broadcast_shapes(x.shape, y.shape, z.shape)
    t2 = np.zeros(shape, np.float32)
    adc = np.zeros(shape, np.float32)

    def put(mask, tissue, t2v=None, adcv=None):
        s, d = TISSUE[tissue]
        t2[mask] = s if t2v is None else t2v
        adc[mask] = d if adcv is None else adcv

    gc, ga = anat["gland_center_mm"], anat["gland_semi_axes_mm"]
    put(np.broadcast_to(((x / 150) ** 2 + ((y - 10) / 110) ** 2) < 1, shape), "fat")
    for side in (-1, 1):  # obturator internus and femoral heads
        put(np.broadcast_to(((x - side * 60) / 14) ** 2 + ((y - 5) / 40) ** 2 < 1, shape), "muscle")
        put(np.broadcast_to(((x - side * 95) ** 2 + (y + 5) ** 2) < 25 ** 2, shape), "fat", 520, 400)
    put(np.broadcast_to((x ** 2 + (y - gc[1] - ga[1] - 16) ** 2) < 15 ** 2, shape), "rectum")
    put(_ellipsoid(x, y, z, [0, gc[1] - 5, gc[2] + ga[2] + 25], [45, 35, 30]), "urine")
    gland = _ellipsoid(x, y, z, gc, ga)
    put(gland, "pz")
    put(gland & _ellipsoid(x, y, z, anat["tz_center_mm"], anat["tz_semi_axes_mm"]), "tz")
    for nodule in nodules:
        semi = np.array(nodule["semi_axes_mm"])
        put(_ellipsoid(x, y, z, nodule["center_mm"], semi), "tz", t2v=150.0)  # the capsule
        core = _ellipsoid(x, y, z, nodule["center_mm"], np.maximum(semi - nodule["capsule_mm"], 0.5))
        texture = np.broadcast_to(_texture(x, y, z, nodule["texture"]), shape)[core]
        t2[core] = nodule["t2"] * (1 + nodule["texture"]["depth"] * texture)
        adc[core] = nodule["adc_um2_s"] * (1 + 0.1 * texture)
    for les in lesions:
        r = les["diameter_mm"] / 2
        put(_ellipsoid(x, y, z, les["center_mm"], (r, r, r)), "lesion", adcv=les["adc_um2_s"])
    return t2, adc


def _grid(fov: float, matrix: int, z0: float, slices: int, thickness: float) -> Grid:
    spacing = fov / matrix
    return Grid(shape=(slices, matrix, matrix), origin=(-fov / 2 + spacing / 2, -fov / 2 + spacing / 2 + 10, z0),
                spacing=(spacing, spacing), slice_step=(0.0, 0.0, -thickness))


def _axes(grid: Grid):
    nz, ny, nx = grid.shape
    dy, dx = grid.spacing
    x = (grid.origin[0] + np.arange(nx, dtype=np.float32) * dx)[None, None, :]
    y = (grid.origin[1] + np.arange(ny, dtype=np.float32) * dy)[None, :, None]
    z = (grid.origin[2] + np.arange(nz, dtype=np.float32) * grid.slice_step[2])[:, None, None]
    return x, y, z


def generate_prostate_mri(seed: int, *, t2_matrix: int = 320, dwi_matrix: int = 128, slices: int = 24,
                          normal_share: float = 0.35, n_lesions: int | None = None,
                          priority: str | None = None, patient_location: str | None = None,
                          study_datetime: dt.datetime | None = None,
                          psa_known_share: float = 0.8, phantom: str = "default",
                          vendor: str = "A") -> tuple[list[Dataset], dict, str]:
    if phantom not in PHANTOMS:
        raise ValueError(f"phantom must be one of {PHANTOMS}, not {phantom!r}")
    if vendor not in VENDORS:
        raise ValueError(f"vendor must be one of {tuple(VENDORS)}, not {vendor!r}")
    profile = VENDORS[vendor]
    b_values = tuple(profile["b_values"])
    rng = np.random.default_rng(seed)
    when = study_datetime or default_study_datetime(rng)
    patient = make_patient(rng, when.date(), sex="M", age_range=(50, 80))
    order = make_order(rng, study_description="MRI PROSTATE", study_datetime=when, priority=priority,
                       patient_location=patient_location, default_locations=(LOCATION_OUTPATIENT,))
    anat = _anatomy(rng)
    if n_lesions is None:
        n_lesions = 0 if rng.random() < normal_share else int(rng.integers(1, 3))
    lesions = _lesions(rng, anat, n_lesions)
    for les in lesions:
        les.update(benign=False, clinically_significant=True)
    # The hard phantom's additions draw from a stream of their own: its anatomy and lesions are the default's.
    hard = np.random.default_rng([seed, 7301]) if phantom == "hard" else None
    nodules = _bph_nodules(hard, anat, lesions) if hard else []
    distortion = _distortion(hard, anat) if hard else None
    motion = _motion(hard) if hard else None
    thickness = 3.0
    z0 = (slices - 1) * thickness / 2
    t2_grid = _grid(180.0, t2_matrix, z0, slices, thickness)
    dwi_grid = _grid(200.0, dwi_matrix, z0, slices, thickness)

    t2_sig, _ = _tissue_maps(*_axes(t2_grid), anat, lesions, nodules)
    if profile["t2_contrast"] != 1.0 or profile["t2_gain"] != 1.0:
        ref = T2_CONTRAST_REFERENCE
        t2_sig = (profile["t2_gain"] * ref * (t2_sig / ref) ** profile["t2_contrast"]).astype(np.float32)
    if motion:
        t2_sig = apply_motion(t2_sig, motion, t2_grid.spacing[1])
    t2 = np.abs(t2_sig + gaussian_noise(rng, t2_sig.shape) * profile["t2_noise"])
    dx, dy, dz = _axes(dwi_grid)
    jacobian = 1.0
    if distortion:
        dy, jacobian = _distorted_y(dx, dy, distortion)
    s0, adc_true = _tissue_maps(dx, dy, dz, anat, lesions, nodules)
    adc_true = adc_true * np.float32(profile["adc_scale"])
    s0 = s0 * 0.8 + 150 * (s0 > 0)  # DWI S0 is less T2 weighted
    s0[(adc_true > 0) & (adc_true <= 400)] *= 0.08  # DWI is fat suppressed
    s0 = s0 * jacobian  # a compressed region piles its signal up, a stretched one thins out
    dwi = []
    for b in b_values:
        clean = s0 * np.exp(-b * adc_true * 1e-6)
        # Magnitude images carry Rician noise.
        noise = profile["dwi_noise"]
        noisy = np.hypot(clean + gaussian_noise(rng, clean.shape) * noise, gaussian_noise(rng, clean.shape) * noise)
        dwi.append(noisy.astype(np.float32))
    # ADC by log-linear fit over the b-values, as the scanner computes it; masked where there is no signal.
    bs = np.array(b_values, dtype=np.float32)
    logs = np.log(np.maximum(np.stack(dwi), 1.0))
    bc = bs - bs.mean()
    slope = np.tensordot(bc, logs - logs.mean(axis=0), axes=1) / float(bc @ bc)
    adc = np.where(dwi[0] > 60, np.clip(-slope * 1e6, 0, 4000), 0)

    uid = uid_factory("prostate_mri", seed)
    study_uid = uid("study")
    ctx = StudyContext(kind="prostate_mri", patient=patient, order=order, study_uid=study_uid,
                       study_id=order.accession_number[-8:], body_part="PROSTATE", uid=uid)
    for_uid = uid("for")

    def mr_common(ds: Dataset, *, te: float, tr: float, sequence: str, name: str) -> None:
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
        ds.ScanningSequence = sequence
        ds.SequenceVariant = "SK"
        ds.ScanOptions = ""
        ds.MRAcquisitionType = "2D"
        ds.SequenceName = name
        ds.EchoTime = te
        ds.RepetitionTime = tr
        ds.EchoTrainLength = 1
        ds.MagneticFieldStrength = 3.0
        ds.ImagingFrequency = 127.7
        ds.ImagedNucleus = "1H"
        ds.SpacingBetweenSlices = thickness
        ds.AnatomicRegionSequence = [code("41216001", "SCT", "Prostate")]

    def t2_series(ds: Dataset) -> None:
        mr_common(ds, te=104, tr=4500, sequence="SE", name="tse2d1_25")
        ds.WindowCenter, ds.WindowWidth = 450, 900

    datasets = slice_datasets(ctx, t2_grid, np.rint(np.clip(t2, 0, 4095)).astype(np.uint16), sop_class=MR_IMAGE_STORAGE,
                              modality="MR", series_number=3, series_description="T2 TSE AX", model=profile["model"],
                              thickness=thickness, frame_of_reference_uid=for_uid, per_series=t2_series,
                              start_minutes=4)
    dwi_uid = uid("series", 5)
    stacked = np.rint(np.clip(np.concatenate(dwi), 0, 4095)).astype(np.uint16)

    def dwi_series(ds: Dataset) -> None:
        mr_common(ds, te=72, tr=5000, sequence="EP", name="ep_b")
        ds.WindowCenter, ds.WindowWidth = 200, 400

    def dwi_slice(ds: Dataset, k: int) -> None:
        b = b_values[k // slices]
        ds.DiffusionBValue = b
        ds.ImageComments = f"b={b}"
        ds.ImagePositionPatient = [round(v, 4) for v in dwi_grid.position(k % slices)]
        ds.SliceLocation = round(dwi_grid.position(k % slices)[2], 4)

    dwi_stack_grid = Grid(shape=(len(b_values) * slices, dwi_matrix, dwi_matrix), origin=dwi_grid.origin,
                          spacing=dwi_grid.spacing, slice_step=dwi_grid.slice_step)
    datasets += slice_datasets(ctx, dwi_stack_grid, stacked, sop_class=MR_IMAGE_STORAGE, modality="MR",
                               series_number=5, series_description=f"DWI EPI AX b{b_values[0]}-{b_values[-1]}",
                               model=profile["model"],
                               thickness=thickness, frame_of_reference_uid=for_uid, per_series=dwi_series,
                               per_slice=dwi_slice, start_minutes=9, series_uid=dwi_uid)

    def adc_series(ds: Dataset) -> None:
        mr_common(ds, te=72, tr=5000, sequence="EP", name="ep_b_adc")
        ds.ImageType = ["DERIVED", "PRIMARY", "ADC", "NONE"]
        ds.WindowCenter, ds.WindowWidth = 1400, 2800
        mapping = Dataset()
        mapping.RealWorldValueFirstValueMapped = 0
        mapping.RealWorldValueLastValueMapped = 4095
        mapping.RealWorldValueIntercept = 0.0
        mapping.RealWorldValueSlope = 1.0
        mapping.LUTExplanation = "ADC"
        mapping.LUTLabel = "ADC"
        mapping.MeasurementUnitsCodeSequence = [code("um2/s", "UCUM", "um2/s")]
        ds.RealWorldValueMappingSequence = [mapping]

    datasets += slice_datasets(ctx, dwi_grid, np.rint(adc).astype(np.uint16), sop_class=MR_IMAGE_STORAGE,
                               modality="MR", series_number=6, series_description="ADC (10^-6 mm2/s)",
                               model=profile["model"], thickness=thickness, frame_of_reference_uid=for_uid,
                               per_series=adc_series, start_minutes=12)

    def geo(grid: Grid) -> dict:
        return {"shape_zyx": list(grid.shape), "pixel_spacing_mm": list(grid.spacing),
                "first_ipp": grid.position(0), "slice_step_mm": list(grid.slice_step),
                "slice_thickness_mm": thickness}

    # The referral's PSA, where the request carries one, as the RIS puts it into the images'
    # AdditionalPatientHistory. A separate stream, so adding it changed no other value of a seed.
    psa = _psa(np.random.default_rng([seed, 5061]), anat, lesions, psa_known_share)
    if psa is not None:
        for ds in datasets:
            ds.AdditionalPatientHistory = f"Raised PSA. PSA {psa:.1f} ng/mL"

    series = {}
    for ds in datasets:
        entry = series.setdefault(ds.SeriesInstanceUID, {"series_instance_uid": ds.SeriesInstanceUID,
                                                         "description": ds.SeriesDescription, "modality": "MR",
                                                         "instances": 0})
        entry["instances"] += 1
    truth = {
        "kind": "prostate_mri", "seed": seed,
        "params": {"t2_matrix": t2_matrix, "dwi_matrix": dwi_matrix, "slices": slices, "normal_share": normal_share,
                   "phantom": phantom, "vendor": vendor},
        "study_instance_uid": study_uid,
        "patient": patient_truth(patient), "order": order_truth(order),
        "series": list(series.values()),
        "b_values": list(b_values),
        "geometry": {"t2w": geo(t2_grid), "dwi": geo(dwi_grid), "adc": geo(dwi_grid)},
        "anatomy": anat,
        "psa_ng_ml": psa,
        "normal": not lesions,
        "lesions": lesions,  # every one clinically significant cancer (benign False)
        "benign_mimics": nodules,  # BPH nodules, all benign
        "distortion": distortion,  # of the DWI and ADC series, or None
        "motion": motion,  # on the T2 series, or None
    }
    return datasets, truth, study_uid
