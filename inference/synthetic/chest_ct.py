"""Chest CT (low-dose screening or diagnostic) with lungs, vessels, airways and nodules.

Coordinates are DICOM patient LPS in mm: x to the patient's left, y posterior, z superior.
Slice 0 is the most superior (head-first scan order); instance numbers follow the slices.
Static anatomy is drawn once as a 2-D template, the slice-dependent parts only inside their
bounding boxes, and noise is added once at the end, which keeps 300x512x512 under a few seconds.

`vendor` picks an acquisition profile (VENDORS). "A" is the original generator's and reproduces
its studies bit for bit; "B" is another vendor's low-dose protocol with a sharp reconstruction
kernel: 40 % of the dose (noise SD x 1.58), edges enhanced (unsharp mask, 1 mm, amount 0.8) and
the noise shifted to high spatial frequencies, as a sharp kernel does. It changes pixels and the
kernel, dose and scanner headers only: anatomy, nodules and mimics (the truth) are the same, and
it draws the same random numbers, so a scan differs between profiles only by its acquisition.

`phantom="hard"` adds benign findings from a random stream of their own (the default scan's
anatomy, nodules and granulomas are unchanged): both major (oblique) fissures as thin lines, one to
three perifissural nodules (lentiform solid nodules 3-9 mm flattened against a fissure: intrapulmonary
lymph nodes, benign; Lung-RADS v2022 category 2 however large, so a mark on one is a false positive)
and centrilobular emphysema (an upper-lobe-predominant scatter of -990 HU lucencies, 2-10 mm); then,
from a third stream (so those stay as they were), two to four vessel bifurcations at nodule scale
(branch points of the vascular tree whose junction is a 4-8 mm blob; benign mimics in the truth) and
breathing motion: below the hilum each slice shows the lungs displaced craniocaudally as they were when
the table passed (3-8 mm, one breath per 25-60 mm of table travel), so tissue is duplicated or missing
across slices; it spares the truth's nodules and mimics (within 3 mm, fading over 8 mm), which keep their
place and size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from .headers import (
    LOCATION_ED,
    LOCATION_INPATIENT,
    LOCATION_OUTPATIENT,
    LOCATION_SCREENING,
    default_study_datetime,
    make_order,
    make_patient,
    order_truth,
    patient_truth,
    uid_factory,
)
from .series import CT_IMAGE_STORAGE, StudyContext, slice_datasets
from .volume import Grid, gaussian_noise, paint_ellipsoid, paint_tube, rotation_about_z

HU_AIR = -1000
HU_FAT = -100
HU_MUSCLE = 45
HU_BLOOD = 40
HU_LIVER = 58
HU_LUNG = -860
HU_BONE_CORTEX = 900
HU_BONE_MARROW = 230

PROTOCOLS = {
    "screening": {
        "description": "CT LOW DOSE LUNG SCREENING",
        "series": "LDCT LUNG 1.0 B60f",
        "ctdi": (0.8, 2.2), "kvp": (100, 120), "thickness": 1.0, "kernel": "B60f",
        "locations": (LOCATION_SCREENING, LOCATION_OUTPATIENT),
    },
    "diagnostic": {
        "description": "CT CHEST WITHOUT CONTRAST",
        "series": "THORAX 1.25 LUNG",
        "ctdi": (6.0, 12.0), "kvp": (120, 120), "thickness": 1.25, "kernel": "LUNG",
        "locations": (LOCATION_ED, LOCATION_INPATIENT, LOCATION_OUTPATIENT),
    },
}

NODULE_TYPES = ("solid", "part_solid", "ground_glass")
PHANTOMS = ("default", "hard")

# Acquisition profiles; "A" leaves the protocol's kernel and dose as they are.
VENDORS = {
    "A": {"kernel": None, "dose_factor": 1.0, "sharpen": 0.0, "sharpen_sigma_mm": 0.0, "noise_highpass": 0.0,
          "model": "SynthCT 64"},
    "B": {"kernel": "FC52", "dose_factor": 0.4, "sharpen": 0.8, "sharpen_sigma_mm": 1.0, "noise_highpass": 1.5,
          "model": "OtherCT 128"},
}


@dataclass(frozen=True)
class Anatomy:
    body_a: float  # body half-width (x)
    body_b: float  # body half-depth (y)
    fat: float
    muscle: float
    z_apex: float
    z_base: float
    lung_x: float  # lung centre |x|
    lung_y: float
    lung_a: float
    lung_b: float
    dome_h: tuple[float, float]  # diaphragm dome height (right, left)
    med_w: float
    spine_y: float
    spine_r: float
    heart_c: tuple[float, float, float]
    heart_r: tuple[float, float, float]
    trachea_y: float

    @property
    def cav_a(self) -> float:
        return self.body_a - self.fat - self.muscle

    @property
    def cav_b(self) -> float:
        return self.body_b - self.fat - self.muscle

    @property
    def length(self) -> float:
        return self.z_apex - self.z_base

    @property
    def z_carina(self) -> float:
        return self.z_apex - 0.3 * self.length

    @property
    def z_hilum(self) -> float:
        return self.z_apex - 0.42 * self.length


def make_anatomy(rng: np.random.Generator) -> Anatomy:
    body_a = rng.uniform(150, 180)
    body_b = rng.uniform(100, 125)
    fat = rng.uniform(8, 22)
    muscle = rng.uniform(8, 14)
    cav_a, cav_b = body_a - fat - muscle, body_b - fat - muscle
    length = rng.uniform(230, 270)
    z_apex = rng.uniform(-60, -30)
    spine_r = rng.uniform(16, 19)
    spine_y = 0.72 * cav_b
    return Anatomy(
        body_a=body_a, body_b=body_b, fat=fat, muscle=muscle,
        z_apex=z_apex, z_base=z_apex - length,
        lung_x=0.5 * cav_a, lung_y=0.08 * cav_b, lung_a=0.52 * cav_a, lung_b=0.9 * cav_b,
        dome_h=(rng.uniform(55, 70), rng.uniform(45, 60)),
        med_w=rng.uniform(24, 32), spine_y=spine_y, spine_r=spine_r,
        heart_c=(0.18 * cav_a, -0.3 * cav_b, z_apex - length + rng.uniform(50, 65)),
        heart_r=(0.4 * cav_a, 0.5 * cav_b, rng.uniform(50, 60)),
        trachea_y=spine_y - spine_r - 22,
    )


def _lung_scale(an: Anatomy, z: np.ndarray | float) -> np.ndarray:
    """Cross-section scale: small at the apex, full from about a third of the way down."""
    t = (an.z_apex - np.asarray(z, dtype=np.float32)) / an.length
    s = 0.3 + 0.7 * np.sqrt(np.clip(t, 0, None) / 0.35)
    return np.where(t < 0, 0.0, np.minimum(s, 1.0)).astype(np.float32)


def _static_allowed(an: Anatomy, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Where lung may be at any level: inside the thoracic cavity, outside mediastinum and spine."""
    cavity = (x / an.cav_a) ** 2 + (y / an.cav_b) ** 2 < 1
    mediastinum = (x / an.med_w) ** 2 + ((y + 0.1 * an.cav_b) / an.cav_b) ** 2 < 1
    spine = x ** 2 + (y - an.spine_y) ** 2 < (an.spine_r + 5) ** 2
    return cavity & ~mediastinum & ~spine


def _heart(an: Anatomy, x, y, z) -> np.ndarray:
    (hx, hy, hz), (ha, hb, hc) = an.heart_c, an.heart_r
    return ((x - hx) / ha) ** 2 + ((y - hy) / hb) ** 2 + ((z - hz) / hc) ** 2 < 1


def _lung_regions(an: Anatomy, x, y, z) -> tuple[np.ndarray, np.ndarray]:
    """(lung, below_diaphragm) for broadcast coordinates, without the static mask."""
    s = _lung_scale(an, z)
    lung = np.zeros(np.broadcast_shapes(np.shape(x), np.shape(y), np.shape(z)), dtype=bool)
    abdomen = np.zeros_like(lung)
    for side, dome in ((-1, an.dome_h[0]), (1, an.dome_h[1])):
        u2 = ((x - side * an.lung_x) / an.lung_a) ** 2
        v2 = ((y - an.lung_y) / an.lung_b) ** 2
        footprint = u2 + v2 < 1
        above = z > an.z_base + dome * np.clip(1 - u2 - v2, 0, 1)
        with np.errstate(divide="ignore"):
            inside = (u2 + v2) < s ** 2
        lung |= inside & above
        abdomen |= footprint & ~above
    return lung & ~_heart(an, x, y, z), abdomen


def in_lung(an: Anatomy, points: np.ndarray) -> np.ndarray:
    """Whether each (x, y, z) point lies in lung parenchyma."""
    p = np.atleast_2d(np.asarray(points, dtype=np.float32))
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    lung, _ = _lung_regions(an, x, y, z)
    return lung & _static_allowed(an, x, y)


def in_lung_point(an: Anatomy, p: np.ndarray) -> bool:
    """Scalar twin of in_lung (same formulas in plain floats): tree growth calls it thousands of times."""
    x, y, z = float(p[0]), float(p[1]), float(p[2])
    if (x / an.cav_a) ** 2 + (y / an.cav_b) ** 2 >= 1:
        return False
    if (x / an.med_w) ** 2 + ((y + 0.1 * an.cav_b) / an.cav_b) ** 2 < 1:
        return False
    if x ** 2 + (y - an.spine_y) ** 2 < (an.spine_r + 5) ** 2:
        return False
    (hx, hy, hz), (ha, hb, hc) = an.heart_c, an.heart_r
    if ((x - hx) / ha) ** 2 + ((y - hy) / hb) ** 2 + ((z - hz) / hc) ** 2 < 1:
        return False
    s = float(_lung_scale(an, z))
    for side, dome in ((-1, an.dome_h[0]), (1, an.dome_h[1])):
        u2 = ((x - side * an.lung_x) / an.lung_a) ** 2
        v2 = ((y - an.lung_y) / an.lung_b) ** 2
        if u2 + v2 < s * s and z > an.z_base + dome * min(max(1 - u2 - v2, 0.0), 1.0):
            return True
    return False


def _template(an: Anatomy, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The slice-independent layers: body, fat, muscle, mediastinal fat, spine, aorta, table."""
    img = np.full(np.broadcast_shapes(x.shape, y.shape), HU_AIR, dtype=np.float32)
    body = (x / an.body_a) ** 2 + (y / an.body_b) ** 2 < 1
    inner = (x / (an.body_a - an.fat)) ** 2 + (y / (an.body_b - an.fat)) ** 2 < 1
    cavity = (x / an.cav_a) ** 2 + (y / an.cav_b) ** 2 < 1
    img[body] = HU_FAT
    img[inner] = HU_MUSCLE
    img[cavity] = HU_FAT + 10
    # Vertebral body, spinal canal, posterior arch and spinous process.
    r2 = x ** 2 + (y - an.spine_y) ** 2
    img[r2 < an.spine_r ** 2] = HU_BONE_CORTEX
    img[r2 < (an.spine_r - 2.5) ** 2] = HU_BONE_MARROW
    canal_y = an.spine_y + an.spine_r + 8
    arch = x ** 2 + (y - canal_y) ** 2
    img[arch < 13 ** 2] = HU_BONE_CORTEX - 200
    img[arch < 8 ** 2] = 15
    spinous = (x / 4) ** 2 + ((y - canal_y - 20) / 12) ** 2 < 1
    img[spinous] = HU_BONE_CORTEX - 200
    # Descending aorta left-anterior of the spine, oesophagus in front of the spine.
    img[(x - 24) ** 2 + (y - an.spine_y + 8) ** 2 < 12 ** 2] = HU_BLOOD
    oes = (x - 4) ** 2 + (y - an.spine_y + an.spine_r + 8) ** 2
    img[oes < 7 ** 2] = HU_MUSCLE
    img[oes < 2 ** 2] = HU_AIR
    # Scanner table below the patient.
    table_y = an.body_b + 12 + 0.0006 * x ** 2
    img[(y > table_y) & (y < table_y + 8) & (np.abs(x) < 220)] = 250
    return img


def _render_slices(an: Anatomy, grid: Grid, rng: np.random.Generator) -> np.ndarray:
    nz, ny, nx = grid.shape
    dy, dx = grid.spacing
    x = (grid.origin[0] + np.arange(nx, dtype=np.float32) * dx)[None, :]
    y = (grid.origin[1] + np.arange(ny, dtype=np.float32) * dy)[:, None]
    template = _template(an, x, y)
    allowed = _static_allowed(an, x, y)
    # Dependent lung is denser: a gentle anterior-posterior gradient.
    lung_hu = (HU_LUNG + 50 * (y - an.lung_y) / an.lung_b).astype(np.float32)
    lung_hu = np.broadcast_to(lung_hu, template.shape)
    rows = slice(max(0, int((an.lung_y - an.lung_b - grid.origin[1]) / dy)),
                 min(ny, int((an.lung_y + an.lung_b - grid.origin[1]) / dy) + 2))
    cols = slice(max(0, int((-an.cav_a - grid.origin[0]) / dx)), min(nx, int((an.cav_a - grid.origin[0]) / dx) + 2))
    xs, ys = x[:, cols], y[rows, :]
    vol = np.empty(grid.shape, dtype=np.int16)
    ok = allowed[rows, cols]
    abdomen_hu = np.broadcast_to(np.where(xs < 0, HU_LIVER, HU_LIVER - 12), ok.shape)
    lung_hu = lung_hu[rows, cols]
    rib_angles = np.linspace(0, 2 * np.pi, 18, endpoint=False) + rng.uniform(0, 0.3)
    rib_phase = rng.uniform(0, 1)
    for k in range(nz):
        z = np.float32(grid.position(k)[2])
        img = template.copy()
        sub = img[rows, cols]  # a view: writes land in img
        lung, abdomen = _lung_regions(an, xs, ys, z)
        abdomen &= ok
        sub[abdomen] = abdomen_hu[abdomen]
        sub[_heart(an, xs, ys, z)] = HU_BLOOD
        lung &= ok
        sub[lung] = lung_hu[lung]
        _draw_ribs(img, x, y, an, float(z), rib_angles, rib_phase, grid)
        vol[k] = np.rint(img).astype(np.int16)
    return vol


def _draw_ribs(img: np.ndarray, x: np.ndarray, y: np.ndarray, an: Anatomy, z: float,
               angles: np.ndarray, phase: float, grid: Grid) -> None:
    """Oblique ribs cut by an axial plane: small bone ovals on the chest wall."""
    if z < an.z_base - 20 or z > an.z_apex + 10:
        return
    dy, dx = grid.spacing
    for theta in angles:
        # The rib descends anteriorly, so whether it is cut depends on angle and level.
        if ((z / 28.0) + 0.35 * np.sin(theta) + phase) % 1.0 > 0.32:
            continue
        cx = (an.cav_a + 0.5 * an.muscle) * np.cos(theta)
        cy = (an.cav_b + 0.5 * an.muscle) * np.sin(theta)
        i0 = int((cx - 8 - grid.origin[0]) / dx)
        j0 = int((cy - 8 - grid.origin[1]) / dy)
        i1, j1 = int((cx + 8 - grid.origin[0]) / dx) + 1, int((cy + 8 - grid.origin[1]) / dy) + 1
        i0, j0 = max(i0, 0), max(j0, 0)
        if i1 <= i0 or j1 <= j0:
            continue
        xr, yr = x[:, i0:i1] - cx, y[j0:j1, :] - cy
        r2 = (xr / 6.0) ** 2 + (yr / 4.5) ** 2
        patch = img[j0:j1, i0:i1]
        patch[r2 < 1] = HU_BONE_CORTEX - 150
        patch[r2 < 0.4] = HU_BONE_MARROW + 100
# --- vessels and airways -------------------------------------------------------------------

Segment = tuple[np.ndarray, np.ndarray, float, float]


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # np.cross has a large fixed overhead for 3-vectors.
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _rotate(v: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues rotation of v about a unit axis."""
    return (v * np.cos(angle) + _cross(axis, v) * np.sin(angle)
            + axis * float(axis @ v) * (1 - np.cos(angle)))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) or 1.0)


def grow_tree(rng: np.random.Generator, an: Anatomy, start: np.ndarray, direction: np.ndarray,
              radius: float, *, min_radius: float = 0.4, max_segments: int = 150) -> list[Segment]:
    """A branching, tapering tree kept inside the lung, breadth first so a cap trims the finest."""
    hilum = np.asarray(start, dtype=float)
    queue = [(hilum, _unit(np.asarray(direction, dtype=float)), float(radius), 0)]
    segments: list[Segment] = []
    head = 0
    while head < len(queue) and len(segments) < max_segments:
        p0, d, r0, gen = queue[head]
        head += 1
        length = max(8.0, r0 * rng.uniform(8, 14))
        p1 = p0 + d * length
        if gen > 0:
            # A branch about to leave the lung bends back in or shortens, as real ones taper along the pleura.
            for attempt in range(6):
                if in_lung_point(an, p1):
                    break
                d = _unit(d + 0.6 * _unit(rng.standard_normal(3)) - 0.3 * _unit(p1 - hilum))
                p1 = p0 + d * length * (0.5 if attempt >= 3 else 1.0)
            else:
                continue
        r1 = r0 * 0.96
        segments.append((p0, p1, r0, r1))
        outward = _unit(p1 - hilum)
        normal = _unit(_cross(d, rng.standard_normal(3)))
        for angle, ratio in ((rng.uniform(0.15, 0.4), rng.uniform(0.86, 0.95)),
                             (-rng.uniform(0.45, 0.9), rng.uniform(0.6, 0.8))):
            rc = r1 * ratio
            if rc < min_radius:
                continue
            dc = _unit(_rotate(d, normal, angle) + 0.15 * outward)
            queue.append((p1, dc, rc, gen + 1))
    return segments


def _tree_roots(an: Anatomy, side: int) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Arterial roots at the hilum pointing to upper, middle and lower lung; veins lower down."""
    hx = side * (an.med_w + 6)
    hilum = np.array([hx, an.lung_y - 5, an.z_hilum])
    lateral = np.array([side, 0.0, 0.0])
    arteries = [
        (hilum, lateral * 0.5 + np.array([0, 0.1, 1.0]), 5.0),
        (hilum, lateral + np.array([0, -0.2, 0.1]), 4.5),
        (hilum, lateral * 0.6 + np.array([0, 0.4, -1.0]), 5.5),
    ]
    vein_root = np.array([hx, an.lung_y - 15, an.z_hilum - 30])
    veins = [
        (vein_root, lateral * 0.7 + np.array([0, 0.2, 0.8]), 4.5),
        (vein_root, lateral * 0.8 + np.array([0, 0.3, -0.8]), 5.0),
    ]
    return arteries + veins


def build_trees(rng: np.random.Generator, an: Anatomy) -> tuple[list[Segment], list[Segment]]:
    """(vessel segments, airway segments); bronchi run beside the arteries, veins alone."""
    vessels: list[Segment] = []
    airways: list[Segment] = []
    trachea_top = np.array([0.0, an.trachea_y, an.z_apex + 60])
    carina = np.array([0.0, an.trachea_y, an.z_carina])
    airways.append((trachea_top, carina, 8.5, 8.0))
    for side in (-1, 1):
        roots = _tree_roots(an, side)
        bronchus_end = np.array([side * (an.med_w + 4), an.lung_y + 2, an.z_hilum + 8])
        airways.append((carina, bronchus_end, 6.5, 5.5))
        for n, (start, direction, radius) in enumerate(roots):
            tree = grow_tree(rng, an, start, direction, radius)
            vessels.extend(tree)
            if n >= 3:
                continue
            shift_dir = np.array([0.0, 1.0, 0.0])
            for p0, p1, r0, r1 in tree:
                if r1 < 1.6:
                    continue
                d = _unit(p1 - p0)
                off = _unit(shift_dir - float(shift_dir @ d) * d) * (r0 * 2.0 + 0.8)
                start_pt = bronchus_end if np.allclose(p0, start) else p0 + off
                airways.append((start_pt, p1 + off, r0 * 0.9, r1 * 0.9))
    return vessels, airways


def paint_trees(vol: np.ndarray, grid: Grid, vessels: list[Segment], airways: list[Segment]) -> None:
    def in_lung_hu(old: np.ndarray) -> np.ndarray:
        return old < -400

    def not_bone(old: np.ndarray) -> np.ndarray:
        return old < 150

    for p0, p1, r0, r1 in vessels:
        paint_tube(vol, grid, p0, p1, r0, r1, HU_BLOOD, mode="max", allowed=in_lung_hu)
    # Walls first, then lumens, so a lumen is never covered by a neighbouring wall.
    for p0, p1, r0, r1 in airways:
        wall = max(0.6, 0.2 * r0)
        paint_tube(vol, grid, p0, p1, r0 + wall, r1 + wall, 20, mode="max", allowed=not_bone)
    for p0, p1, r0, r1 in airways:
        paint_tube(vol, grid, p0, p1, r0, r1, HU_AIR, mode="min", allowed=not_bone)


# --- nodules -------------------------------------------------------------------------------


def _nodule_size(rng: np.random.Generator, kind: str) -> tuple[float, float | None]:
    """Long-axis diameter (mm) skewed toward small nodules, and the solid part for part-solid."""
    if kind == "solid":
        d = 3.0 + rng.gamma(1.3, 4.5)
    elif kind == "ground_glass":
        d = 5.0 + rng.gamma(1.6, 6.0)
    else:
        d = 6.0 + rng.gamma(1.6, 5.0)
    d = float(np.clip(d, 3.0, 30.0))
    solid_part = float(np.clip(d * rng.uniform(0.25, 0.65), 2.0, d - 2.0)) if kind == "part_solid" else None
    return d, solid_part


def _surface_points(center: np.ndarray, radius: float) -> np.ndarray:
    dirs = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1],
                     [1, 1, 0], [-1, 1, 0], [1, -1, 0], [-1, -1, 0]], dtype=float)
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    return center + dirs * radius


def _distance_to_segments(point: np.ndarray, segs: np.ndarray) -> np.ndarray:
    """Distance from a point to each segment axis minus the segment radius (surface distance)."""
    p0, p1, r = segs[:, 0:3], segs[:, 3:6], segs[:, 6]
    d = p1 - p0
    t = np.clip(np.einsum("ij,ij->i", point - p0, d) / np.maximum(np.einsum("ij,ij->i", d, d), 1e-9), 0, 1)
    return np.linalg.norm(point - (p0 + t[:, None] * d), axis=1) - r


def place_nodule(rng: np.random.Generator, an: Anatomy, z_range: tuple[float, float], radius: float,
                 attached: str, seg_array: np.ndarray, taken: list[tuple[np.ndarray, float]]) -> np.ndarray | None:
    """A centre (mm) inside the lung meeting the attachment rule, or None after many tries."""
    z_lo, z_hi = z_range
    if z_hi - z_lo < 2 * radius + 4:
        return None
    for _ in range(400):
        side = rng.choice((-1, 1))
        z = rng.uniform(z_lo + radius + 2, z_hi - radius - 2)
        s = float(_lung_scale(an, z))
        if attached == "pleura":
            # Lateral, anterior or posterior chest wall: away from the mediastinum.
            theta = rng.uniform(-0.45 * np.pi, 0.45 * np.pi) if side > 0 else rng.uniform(0.55 * np.pi, 1.45 * np.pi)
            wall = np.array([side * an.lung_x + an.lung_a * s * np.cos(theta),
                             an.lung_y + an.lung_b * s * np.sin(theta), z])
            inward = _unit(np.array([side * an.lung_x, an.lung_y, z]) - wall)
            center = wall + inward * radius * 0.8
            if in_lung_point(an, wall - inward * 3.0) or not in_lung_point(an, wall + inward * 1.0):
                continue
        else:
            u, v = rng.uniform(-1, 1, 2)
            if u * u + v * v >= 1:
                continue
            center = np.array([side * an.lung_x + an.lung_a * s * u, an.lung_y + an.lung_b * s * v, z])
            if attached == "vessel":
                near = np.flatnonzero((seg_array[:, 6] >= 0.8) & (seg_array[:, 6] <= 3.0)
                                      & (np.abs(seg_array[:, 2] - z) < 15))
                if near.size == 0:
                    continue
                seg = seg_array[rng.choice(near)]
                axis_pt = seg[0:3] + rng.uniform(0.2, 0.8) * (seg[3:6] - seg[0:3])
                perp = _unit(np.cross(seg[3:6] - seg[0:3], rng.standard_normal(3)))
                center = axis_pt + perp * (radius + seg[6] - 0.5)
        if not in_lung_point(an, center):
            continue
        if not (z_lo + radius + 1 < center[2] < z_hi - radius - 1):
            continue
        if attached != "pleura" and not in_lung(an, _surface_points(center, radius + 2.0)).all():
            continue
        if attached == "none" and seg_array.size and _distance_to_segments(center, seg_array).min() < radius + 1.5:
            continue
        if any(np.linalg.norm(center - c) < radius + r + 6 for c, r in taken):
            continue
        return center
    return None


def make_nodules(rng: np.random.Generator, an: Anatomy, grid: Grid, vessels: list[Segment],
                 count: int) -> list[dict]:
    """Draw nodules and return their truth records (not yet painted)."""
    seg_array = np.array([[*p0, *p1, r0] for p0, p1, r0, _ in vessels]) if vessels else np.zeros((0, 7))
    z_first, z_last = grid.position(0)[2], grid.position(grid.shape[0] - 1)[2]
    z_range = (min(z_first, z_last), max(z_first, z_last))
    nodules: list[dict] = []
    taken: list[tuple[np.ndarray, float]] = []
    for _ in range(count):
        kind = str(rng.choice(NODULE_TYPES, p=(0.65, 0.12, 0.23)))
        attached = str(rng.choice(("none", "vessel", "pleura"), p=(0.6, 0.2, 0.2)))
        long_axis, solid_part = _nodule_size(rng, kind)
        a = long_axis / 2
        b = a * rng.uniform(0.75, 1.0)
        c = a * rng.uniform(0.8, 1.0)
        center = place_nodule(rng, an, z_range, a, attached, seg_array, taken)
        if center is None:
            continue
        taken.append((center, a))
        angle = rng.uniform(0, np.pi)
        index = grid.to_index(center)
        record = {
            "id": len(nodules) + 1,
            "type": kind,
            "attached_to": attached,
            "center_mm": [round(float(v), 2) for v in center],
            "center_voxel_zyx": [round(float(v), 2) for v in index],
            "long_axis_mm": round(2 * a, 2),
            "short_axis_mm": round(2 * b, 2),
            "craniocaudal_mm": round(2 * c, 2),
            # Lung-RADS v2022 uses the mean of long and short axis, rounded to 0.1 mm.
            "mean_diameter_mm": round(a + b, 1),
            "volume_mm3": round(4 / 3 * np.pi * a * b * c, 1),
            "axial_angle_rad": round(float(angle), 4),
            "solid_part_mm": round(solid_part, 2) if solid_part is not None else None,
            "hu": float(rng.uniform(15, 60)) if kind == "solid" else float(rng.uniform(-620, -450)),
            "solid_hu": float(rng.uniform(15, 55)) if kind == "part_solid" else None,
        }
        nodules.append(record)
    return nodules


def paint_nodules(vol: np.ndarray, grid: Grid, nodules: list[dict]) -> None:
    def not_bone(old: np.ndarray) -> np.ndarray:
        return old < 150

    for n in nodules:
        center = np.array(n["center_mm"])
        semi = np.array([n["long_axis_mm"], n["short_axis_mm"], n["craniocaudal_mm"]]) / 2
        rot = rotation_about_z(n["axial_angle_rad"])
        paint_ellipsoid(vol, grid, center, semi, rot, n["hu"], mode="max", allowed=not_bone)
        if n["type"] == "part_solid":
            r = n["solid_part_mm"] / 2
            paint_ellipsoid(vol, grid, center, np.array([r, r, r]), np.eye(3), n["solid_hu"], mode="max",
                            allowed=not_bone)


def make_granulomas(seed: int, an: Anatomy, grid: Grid, vessels: list[Segment], count: int,
                    taken: list[tuple[np.ndarray, float]]) -> list[dict]:
    """Calcified granulomas: benign mimics of small solid nodules (Lung-RADS v2022: benign
    calcification is category 1). Drawn from their own random stream, so adding them leaves every
    other structure of the scan, and every existing seed, unchanged."""
    rng = np.random.default_rng([seed, 7_000_001])
    seg_array = np.array([[*p0, *p1, r0] for p0, p1, r0, _ in vessels]) if vessels else np.zeros((0, 7))
    z_first, z_last = grid.position(0)[2], grid.position(grid.shape[0] - 1)[2]
    z_range = (min(z_first, z_last), max(z_first, z_last))
    out = []
    for _ in range(count):
        diameter = float(rng.uniform(3.0, 8.0))
        center = place_nodule(rng, an, z_range, diameter / 2, "none", seg_array, taken)
        if center is None:
            continue
        taken.append((center, diameter / 2))
        out.append({"type": "calcified_granuloma", "benign": True, "center_mm": [round(float(v), 2) for v in center],
                    "diameter_mm": round(diameter, 2), "hu": float(rng.uniform(300, 900))})
    return out


def _fissure(an: Anatomy, side: int) -> tuple[np.ndarray, np.ndarray]:
    """(point, unit normal) of one lung's major fissure: a plane along x, from the posterior lung high
    up (a quarter of the way down from the apex) to the anterior lung just above the diaphragm."""
    upper = np.array([side * an.lung_x, an.lung_y + 0.8 * an.lung_b, an.z_apex - 0.25 * an.length])
    lower = np.array([side * an.lung_x, an.lung_y - 0.8 * an.lung_b, an.z_base + 0.5 * max(an.dome_h)])
    along = _unit(lower - upper)
    return upper, _unit(_cross(np.array([1.0, 0.0, 0.0]), along))


def _parenchyma(old: np.ndarray) -> np.ndarray:
    """Lung parenchyma before noise (-910 to -810 HU): not vessels, airways, nodules or outside air."""
    return (old > -960) & (old < -700)


def paint_fissures(vol: np.ndarray, grid: Grid, an: Anatomy) -> None:
    """Each major fissure as a sheet 1 mm thick through the parenchyma, partial-volumed to -550 HU."""
    nz, ny, nx = grid.shape
    dy, dx = grid.spacing
    x = (grid.origin[0] + np.arange(nx, dtype=np.float32) * dx)[None, :]
    y = (grid.origin[1] + np.arange(ny, dtype=np.float32) * dy)[:, None]
    planes = [_fissure(an, side) for side in (-1, 1)]
    for k in range(nz):
        z = np.float32(grid.position(k)[2])
        sheet = np.zeros((ny, nx), dtype=np.float32)
        for side, (point, normal) in zip((-1, 1), planes, strict=True):
            dist = np.abs((y - point[1]) * np.float32(normal[1]) + (z - point[2]) * np.float32(normal[2]))
            weight = np.clip(1.0 - dist / np.float32(max(dy, 1.0)), 0.0, 1.0) * ((x * side) > 0)
            sheet = np.maximum(sheet, weight)
        if not sheet.any():
            continue
        img = vol[k]
        old = img.astype(np.float32)
        touch = (sheet > 0) & _parenchyma(old)
        img[touch] = np.rint(old[touch] + sheet[touch] * (-550.0 - old[touch])).astype(img.dtype)


def make_perifissural(rng: np.random.Generator, an: Anatomy, grid: Grid,
                      taken: list[tuple[np.ndarray, float]]) -> list[dict]:
    """One to three perifissural nodules: lentiform solid nodules lying on a fissure."""
    z_first, z_last = grid.position(0)[2], grid.position(grid.shape[0] - 1)[2]
    z_lo, z_hi = min(z_first, z_last), max(z_first, z_last)
    out = []
    for _ in range(int(rng.integers(1, 4))):
        long_axis = float(rng.uniform(3.0, 9.0))
        a = long_axis / 2
        for _attempt in range(300):
            side = int(rng.choice((-1, 1)))
            point, normal = _fissure(an, side)
            along = _unit(_cross(normal, np.array([1.0, 0.0, 0.0])))
            center = point + along * rng.uniform(0, 2 * an.lung_b) + np.array([rng.uniform(-0.8, 0.8) * an.lung_a,
                                                                                0.0, 0.0])
            if not (z_lo + a + 1 < center[2] < z_hi - a - 1) or not in_lung_point(an, center):
                continue
            if not in_lung(an, _surface_points(center, a + 2.0)).all():
                continue
            if any(np.linalg.norm(center - c) < a + r + 6 for c, r in taken):
                continue
            break
        else:
            continue
        taken.append((center, a))
        # Axes: two in the fissure plane (long and short), the thin one along its normal.
        in_plane = _unit(np.array([1.0, 0.0, 0.0]) * np.cos(rng.uniform(0, np.pi))
                         + along * np.sin(rng.uniform(0, np.pi)))
        rotation = np.stack([in_plane, _unit(_cross(normal, in_plane)), normal], axis=1)
        short_axis = long_axis * float(rng.uniform(0.6, 0.85))
        thickness = long_axis * float(rng.uniform(0.3, 0.45))
        out.append({"type": "perifissural_nodule", "benign": True, "center_mm": [round(float(v), 2) for v in center],
                    "diameter_mm": round(long_axis, 2), "long_axis_mm": round(long_axis, 2),
                    "short_axis_mm": round(short_axis, 2), "thickness_mm": round(thickness, 2),
                    "rotation": [[round(float(v), 5) for v in row] for row in rotation],
                    "hu": float(rng.uniform(20, 50))})
    return out


def make_emphysema(rng: np.random.Generator, an: Anatomy, grid: Grid) -> list[dict]:
    """Centrilobular emphysema: lucencies, more of them in the upper half of the lungs."""
    z_first, z_last = grid.position(0)[2], grid.position(grid.shape[0] - 1)[2]
    z_lo, z_hi = min(z_first, z_last), max(z_first, z_last)
    out = []
    severity = int(rng.integers(30, 120))
    while len(out) < severity:
        side = int(rng.choice((-1, 1)))
        t = rng.beta(1.3, 2.6)  # 0 at the apex, 1 at the base: upper-lobe predominant
        z = an.z_apex - t * an.length
        s = float(_lung_scale(an, z))
        u, v = rng.uniform(-1, 1, 2)
        if u * u + v * v >= 1 or not (z_lo < z < z_hi):
            continue
        center = np.array([side * an.lung_x + an.lung_a * s * u, an.lung_y + an.lung_b * s * v, z])
        if not in_lung_point(an, center):
            continue
        out.append({"center_mm": [round(float(c), 2) for c in center],
                    "diameter_mm": round(float(rng.uniform(2, 10)), 2)})
    return out


def make_bifurcations(rng: np.random.Generator, an: Anatomy, grid: Grid, vessels: list[Segment],
                      taken: list[tuple[np.ndarray, float]]) -> list[dict]:
    """Two to four vessel bifurcations at nodule scale: branch points of the vascular tree (a parent
    1.2-3 mm in radius ending where two children start, a Y) whose junction is a blob 4-8 mm across,
    the classic false positive of nodule CAD. Benign (Lung-RADS: not a nodule)."""
    z_first, z_last = grid.position(0)[2], grid.position(grid.shape[0] - 1)[2]
    z_lo, z_hi = min(z_first, z_last), max(z_first, z_last)
    starts: dict[tuple[float, float, float], int] = {}
    for p0, _p1, _r0, _r1 in vessels:
        key = tuple(np.round(p0, 3))
        starts[key] = starts.get(key, 0) + 1
    forks = [(p0, p1, r1) for p0, p1, _r0, r1 in vessels
             if 1.2 <= r1 <= 3.0 and starts.get(tuple(np.round(p1, 3)), 0) >= 2]
    out: list[dict] = []
    want = int(rng.integers(2, 5))
    for index in rng.permutation(len(forks)):
        if len(out) == want:
            break
        p0, p1, r1 = forks[int(index)]
        diameter = float(np.clip(2 * r1 * rng.uniform(1.3, 1.8), 4.0, 8.0))
        a = diameter / 2
        center = np.asarray(p1, dtype=float)
        if not (z_lo + a + 1 < center[2] < z_hi - a - 1) or not in_lung(an, _surface_points(center, a + 1.0)).all():
            continue
        if any(np.linalg.norm(center - c) < a + r + 6 for c, r in taken):
            continue
        taken.append((center, a))
        along = _unit(np.asarray(p1, dtype=float) - np.asarray(p0, dtype=float))
        side = _unit(_cross(along, np.array([0.0, 0.0, 1.0]) if abs(along[2]) < 0.9 else np.array([1.0, 0.0, 0.0])))
        rotation = np.stack([along, side, _cross(along, side)], axis=1)
        out.append({"type": "vessel_bifurcation", "benign": True, "center_mm": [round(float(v), 2) for v in center],
                    "diameter_mm": round(diameter, 2), "parent_radius_mm": round(float(r1), 2),
                    "short_axis_mm": round(diameter * float(rng.uniform(0.75, 0.95)), 2),
                    "rotation": [[round(float(v), 5) for v in row] for row in rotation]})
    return out


def make_motion(rng: np.random.Generator, an: Anatomy) -> dict:
    """Breathing during the helical acquisition: the lower lungs and the diaphragm move craniocaudally,
    sinusoidally with the table position (amplitude 3-8 mm, one breath per 25-60 mm of table travel)."""
    return {"model": "craniocaudal displacement of the lower lungs by slice position (helical breathing)",
            "amplitude_mm": round(float(rng.uniform(3.0, 8.0)), 2),
            "cycle_mm": round(float(rng.uniform(25.0, 60.0)), 2),
            "phase_rad": round(float(rng.uniform(0, 2 * np.pi)), 4),
            "z_top_mm": round(float(an.z_hilum), 2), "z_full_mm": round(float(an.z_base + 0.5 * max(an.dome_h)), 2)}


def apply_motion(vol: np.ndarray, grid: Grid, an: Anatomy, motion: dict, keep: list[tuple[np.ndarray, float]]) -> None:
    """Each slice below the hilum shows the lungs as they were displaced when the table passed it:
    resampled along z from the still volume by d(z) = A sin(2 pi z / cycle + phase) x w(z), w rising
    from 0 at the hilum to 1 at the diaphragm. As the displacement changes from slice to slice, tissue is
    duplicated on some slices and missing from others (vessels break up, the diaphragm edge repeats).
    Inside the thoracic cavity only (chest wall, spine and table stay), and not within 3 mm of a finding
    in `keep` (fading to full over 8 mm more), so the truth's nodules and mimics keep their place and size."""
    from scipy import ndimage

    nz, ny, nx = grid.shape
    dy, dx = grid.spacing
    step = float(grid.slice_step[2])
    x = (grid.origin[0] + np.arange(nx, dtype=np.float32) * dx)[None, :]
    y = (grid.origin[1] + np.arange(ny, dtype=np.float32) * dy)[:, None]
    inplane = ndimage.gaussian_filter(_static_allowed(an, x, y).astype(np.float32), 3.0 / dx)
    still = vol.copy()
    z_top, z_full = motion["z_top_mm"], motion["z_full_mm"]
    for k in range(nz):
        z = grid.position(k)[2]
        w = float(np.clip((z_top - z) / max(z_top - z_full, 1.0), 0.0, 1.0))
        if w == 0.0:
            continue
        shift = motion["amplitude_mm"] * np.sin(2 * np.pi * z / motion["cycle_mm"] + motion["phase_rad"]) * w
        field = inplane * np.float32(shift)
        for center, radius in keep:
            if abs(z - center[2]) >= radius + 11.0:
                continue
            dist = np.sqrt((x - np.float32(center[0])) ** 2 + (y - np.float32(center[1])) ** 2
                           + np.float32(z - center[2]) ** 2)
            field *= np.clip((dist - np.float32(radius + 3.0)) / 8.0, 0.0, 1.0)
        source = np.clip(k + field / np.float32(step), 0, nz - 1)  # z + shift, as a slice index
        k0 = np.floor(source).astype(np.intp)
        k1 = np.minimum(k0 + 1, nz - 1)
        frac = source - k0
        rows, cols = np.indices((ny, nx), sparse=True)
        mixed = still[k0, rows, cols] * (1 - frac) + still[k1, rows, cols] * frac
        vol[k] = np.rint(mixed).astype(vol.dtype)


def paint_hard(vol: np.ndarray, grid: Grid, an: Anatomy, perifissural: list[dict], emphysema: list[dict]) -> None:
    paint_fissures(vol, grid, an)
    for e in emphysema:
        r = e["diameter_mm"] / 2
        paint_ellipsoid(vol, grid, np.array(e["center_mm"]), np.array([r, r, r]), np.eye(3), -990.0, mode="min",
                        allowed=_parenchyma)
    for n in perifissural:
        semi = np.array([n["long_axis_mm"], n["short_axis_mm"], n["thickness_mm"]]) / 2
        paint_ellipsoid(vol, grid, np.array(n["center_mm"]), semi, np.array(n["rotation"]), n["hu"], mode="max",
                        allowed=lambda old: old < 150)


# --- the study -----------------------------------------------------------------------------


def add_noise(vol: np.ndarray, rng: np.random.Generator, sd: float, *, intercept: int = -1024,
              bits: int = 12) -> np.ndarray:
    """Stored values (uint16) = HU - intercept + Gaussian noise, chunked to keep memory low."""
    out = np.empty(vol.shape, dtype=np.uint16)
    top = (1 << bits) - 1
    for k0 in range(0, vol.shape[0], 16):
        chunk = gaussian_noise(rng, vol[k0:k0 + 16].shape)
        chunk *= np.float32(sd)
        chunk += vol[k0:k0 + 16]
        chunk += np.float32(0.5 - intercept)  # +0.5 so the truncating cast rounds
        np.clip(chunk, 0, top, out=chunk)
        out[k0:k0 + 16] = chunk
    return out


def add_noise_profile(vol: np.ndarray, rng: np.random.Generator, sd: float, profile: dict, spacing_mm: float, *,
                      intercept: int = -1024, bits: int = 12) -> np.ndarray:
    """add_noise under a sharp-kernel profile: in-plane edge enhancement of the image (unsharp mask)
    and the same Gaussian draws high-pass filtered (rescaled to the SD), so the noise is finer grained."""
    from scipy import ndimage

    out = np.empty(vol.shape, dtype=np.uint16)
    top = (1 << bits) - 1
    sigma_img = profile["sharpen_sigma_mm"] / spacing_mm
    sigma_noise = 0.8
    for k0 in range(0, vol.shape[0], 16):
        image = vol[k0:k0 + 16].astype(np.float32)
        if profile["sharpen"]:
            blurred = ndimage.gaussian_filter(image, (0, sigma_img, sigma_img))
            image += np.float32(profile["sharpen"]) * (image - blurred)
        noise = gaussian_noise(rng, image.shape)
        if profile["noise_highpass"]:
            smooth = ndimage.gaussian_filter(noise, (0, sigma_noise, sigma_noise))
            noise += np.float32(profile["noise_highpass"]) * (noise - smooth)
            noise /= np.float32(noise.std() or 1.0)
        image += noise * np.float32(sd)
        image += np.float32(0.5 - intercept)
        np.clip(image, 0, top, out=image)
        out[k0:k0 + 16] = image
    return out


def generate_chest_ct(seed: int, *, matrix: int = 512, slices: int | None = None, protocol: str = "screening",
                      normal_share: float = 0.3, n_nodules: int | None = None,
                      slice_thickness: float | None = None, priority: str | None = None,
                      patient_location: str | None = None, study_datetime: dt.datetime | None = None,
                      n_granulomas: int = 0, vendor: str = "A",
                      phantom: str = "default") -> tuple[list[Dataset], dict, str]:
    """Datasets, truth and study UID of one chest CT."""
    if phantom not in PHANTOMS:
        raise ValueError(f"phantom must be one of {PHANTOMS}, not {phantom!r}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {sorted(PROTOCOLS)}")
    if vendor not in VENDORS:
        raise ValueError(f"vendor must be one of {tuple(VENDORS)}, not {vendor!r}")
    proto = PROTOCOLS[protocol]
    profile = VENDORS[vendor]
    kernel = profile["kernel"] or proto["kernel"]
    rng = np.random.default_rng(seed)
    when = study_datetime or default_study_datetime(rng)
    patient = make_patient(rng, when.date(), age_range=(50, 80) if protocol == "screening" else (25, 90))
    order = make_order(rng, study_description=proto["description"], study_datetime=when, priority=priority,
                       patient_location=patient_location, default_locations=proto["locations"])
    an = make_anatomy(rng)

    # Reconstruction field of view fits the body, so pixel spacing lands in 0.6-0.8 mm at 512.
    fov = float(np.clip(2 * an.body_a + 45, 320, 400))
    spacing = fov / matrix
    thickness = float(slice_thickness or proto["thickness"])
    z_top, z_bottom = an.z_apex + 15, an.z_base - 20
    if slices is None:
        slices = int(np.ceil((z_top - z_bottom) / thickness)) + 1
    else:
        mid = (z_top + z_bottom) / 2
        z_top = mid + (slices - 1) * thickness / 2
    origin = (-fov / 2 + spacing / 2, -fov / 2 + spacing / 2 + 10.0, round(z_top, 3))
    grid = Grid(shape=(slices, matrix, matrix), origin=origin, spacing=(spacing, spacing),
                slice_step=(0.0, 0.0, -thickness))

    vol = _render_slices(an, grid, rng)
    vessels, airways = build_trees(rng, an)
    paint_trees(vol, grid, vessels, airways)
    if n_nodules is None:
        n_nodules = 0 if rng.random() < normal_share else int(min(1 + rng.geometric(0.55) - 1, 5))
    nodules = make_nodules(rng, an, grid, vessels, n_nodules)
    paint_nodules(vol, grid, nodules)
    taken = [(np.array(n["center_mm"]), n["long_axis_mm"] / 2) for n in nodules]
    mimics = make_granulomas(seed, an, grid, vessels, n_granulomas, taken) if n_granulomas else []
    for g in mimics:
        r = g["diameter_mm"] / 2
        paint_ellipsoid(vol, grid, np.array(g["center_mm"]), np.array([r, r, r]), np.eye(3), g["hu"], mode="max",
                        allowed=lambda old: old < 150)
    emphysema: list[dict] = []
    motion: dict | None = None
    if phantom == "hard":
        hard = np.random.default_rng([seed, 7_000_002])
        perifissural = make_perifissural(hard, an, grid, taken)
        emphysema = make_emphysema(hard, an, grid)
        paint_hard(vol, grid, an, perifissural, emphysema)
        # Bifurcations and motion from a third stream: the hard phantom's fissures, perifissural
        # nodules and emphysema above are drawn as they were before these existed.
        extra = np.random.default_rng([seed, 7_000_003])
        bifurcations = make_bifurcations(extra, an, grid, vessels, taken)
        for b in bifurcations:
            semi = np.array([b["diameter_mm"], b["short_axis_mm"], b["short_axis_mm"]]) / 2
            paint_ellipsoid(vol, grid, np.array(b["center_mm"]), semi, np.array(b["rotation"]), HU_BLOOD,
                            mode="max", allowed=lambda old: old < 150)
        mimics = mimics + perifissural + bifurcations
        motion = make_motion(extra, an)
        keep = [(np.array(n["center_mm"]), n["long_axis_mm"] / 2) for n in nodules]
        keep += [(np.array(m["center_mm"]), m["diameter_mm"] / 2) for m in mimics]
        apply_motion(vol, grid, an, motion, keep)

    ctdi = float(rng.uniform(*proto["ctdi"])) * profile["dose_factor"]
    kvp = float(rng.integers(proto["kvp"][0] // 10, proto["kvp"][1] // 10 + 1) * 10)
    noise_sd = 60.0 / np.sqrt(ctdi)
    scan_cm = slices * thickness / 10
    dlp = ctdi * (scan_cm + 2.0)  # helical over-ranging adds about 2 cm
    if vendor == "A":
        stored = add_noise(vol, rng, noise_sd)
    else:
        stored = add_noise_profile(vol, rng, noise_sd, profile, spacing)
    del vol

    uid = uid_factory("chest_ct", seed)
    study_uid = uid("study")
    ctx = StudyContext(kind="chest_ct", patient=patient, order=order, study_uid=study_uid,
                       study_id=order.accession_number[-8:], body_part="CHEST", uid=uid)
    mas = ctdi / 0.07 * (120 / kvp) ** 2

    def per_series(ds: Dataset) -> None:
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        ds.RescaleType = "HU"
        ds.KVP = kvp
        ds.DataCollectionDiameter = 500
        ds.ReconstructionDiameter = round(fov, 2)
        ds.GantryDetectorTilt = 0
        ds.TableHeight = 150
        ds.RotationDirection = "CW"
        ds.ExposureTime = 500
        ds.XRayTubeCurrent = int(round(mas / 0.5))
        ds.Exposure = int(round(mas))
        ds.FilterType = "BODY"
        ds.ConvolutionKernel = kernel
        ds.SpiralPitchFactor = 1.0
        ds.CTDIvol = round(ctdi, 2)
        phantom = Dataset()
        phantom.CodeValue = "113691"
        phantom.CodingSchemeDesignator = "DCM"
        phantom.CodeMeaning = "IEC Body Dosimetry Phantom"
        ds.CTDIPhantomTypeCodeSequence = [phantom]
        ds.WindowCenter = [-600, 40]
        ds.WindowWidth = [1500, 400]
        ds.WindowCenterWidthExplanation = ["LUNG", "MEDIASTINUM"]
        ds.ImageComments = f"Synthetic. Exam DLP {dlp:.1f} mGy*cm"

    datasets = slice_datasets(ctx, grid, stored, sop_class=CT_IMAGE_STORAGE, modality="CT", series_number=2,
                              series_description=proto["series"], model=profile["model"], thickness=thickness,
                              frame_of_reference_uid=uid("for"), per_series=per_series, start_minutes=2,
                              announce_count=True)
    truth = {
        "kind": "chest_ct",
        "seed": seed,
        "params": {"matrix": matrix, "slices": slices, "protocol": protocol, "normal_share": normal_share,
                   "slice_thickness": thickness, "vendor": vendor,
                   "phantom": phantom},
        "study_instance_uid": study_uid,
        "patient": patient_truth(patient),
        "order": order_truth(order),
        "series": [{"series_instance_uid": datasets[0].SeriesInstanceUID, "description": proto["series"],
                    "modality": "CT", "instances": len(datasets)}],
        "geometry": {
            "shape_zyx": list(grid.shape),
            "pixel_spacing_mm": [round(spacing, 6)] * 2,
            "slice_spacing_mm": thickness,
            "slice_thickness_mm": thickness,
            "first_ipp": [float(v) for v in datasets[0].ImagePositionPatient],
            "slice_step_mm": list(grid.slice_step),
            "orientation": grid.orientation(),
        },
        "dose": {"ctdivol_mgy": round(ctdi, 2), "dlp_mgy_cm": round(dlp, 1), "kvp": kvp, "kernel": kernel,
                 "noise_sd_hu": round(float(noise_sd), 1)},
        "normal": not nodules,
        "lesions": nodules,
        "benign_mimics": mimics,
        "emphysema": {"lucencies": len(emphysema), "regions": emphysema} if phantom == "hard" else None,
        "motion": motion,
    }
    return datasets, truth, study_uid
