"""From the network's maps to what a reader uses: zone masks, volumes, PSA density and lesions.

Everything here is plain numpy on the T2 grid, so it is tested without a network or Orthanc.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from pydicom.dataset import Dataset
from scipy import ndimage

from inference.cad.prostate.registration import Grid, resample

CANDIDATE_FLOOR = 0.15  # default lesion-map level candidate regions are cut at (a region's score is its maximum)
MAX_CANDIDATES = 10
_PSA = re.compile(r"\bPSA\b\D{0,12}?(\d{1,4}(?:[.,]\d+)?)\s*(ng\s*/\s*ml|µg\s*/\s*l|ug\s*/\s*l)?", re.IGNORECASE)
PSA_TEXT_ATTRIBUTES = ("AdditionalPatientHistory", "ReasonForTheRequestedProcedure", "RequestedProcedureComments",
                       "ImageComments", "StudyComments")


# --- PSA ------------------------------------------------------------------------------------------


def parse_psa(text: str) -> float | None:
    """The PSA value in ng/mL written in free text ("PSA 7.4 ng/mL", "psa: 12"), or None."""
    match = _PSA.search(text or "")
    if not match:
        return None
    value = float(match.group(1).replace(",", "."))
    return value if 0 < value < 1000 else None


def psa_from_header(ds: Dataset | None) -> float | None:
    """PSA from the request text the RIS copies into the images (first attribute that has one)."""
    if ds is None:
        return None
    texts = [str(ds.get(k, "")) for k in PSA_TEXT_ATTRIBUTES]
    for item in ds.get("RequestAttributesSequence", []):
        texts += [str(item.get(k, "")) for k in PSA_TEXT_ATTRIBUTES]
    for text in texts:
        value = parse_psa(text)
        if value is not None:
            return value
    return None


def psa_density(psa_ng_ml: float | None, gland_ml: float) -> float | None:
    """PSA density in ng/mL per mL of gland; None without a PSA or a measurable gland."""
    if psa_ng_ml is None or gland_ml <= 0:
        return None
    return round(psa_ng_ml / gland_ml, 3)


# --- zones -------------------------------------------------------------------------------------------


@dataclass
class Zones:
    """Zone labels on the T2 grid (0 outside, 1 PZ, 2 TZ) and their volumes."""

    labels: np.ndarray
    grid: Grid

    def volume_ml(self, label: int | None = None) -> float:
        count = int(np.count_nonzero(self.labels)) if label is None else int(np.count_nonzero(self.labels == label))
        return round(count * self.grid.voxel_ml, 2)


def zones_on_t2(zone_prob: np.ndarray, work: Grid, t2: Grid, *, gland_level: float = 0.5) -> Zones:
    """Zone probabilities (3, ...) on the working grid -> labels on the T2 grid.

    The gland is where P(PZ) + P(TZ) >= gland_level (set on validation cases, stored with the weights).
    """
    pz = resample(zone_prob[1], work, t2, smooth=False)
    tz = resample(zone_prob[2], work, t2, smooth=False)
    labels = np.zeros(t2.shape, np.uint8)
    gland = (pz + tz) >= gland_level
    labels[gland & (pz >= tz)] = 1
    labels[gland & (tz > pz)] = 2
    return Zones(labels=labels, grid=t2)


# --- lesions -----------------------------------------------------------------------------------------


@dataclass
class Lesion:
    centre_mm: tuple[float, float, float]  # LPS
    diameter_mm: float  # long axis
    zone: str  # pz | tz
    location: str  # PI-RADS-style sector text
    probability: float
    volume_ml: float
    mask: np.ndarray | None = field(default=None, repr=False)  # on the T2 grid, for the SEG

    def as_dict(self) -> dict:
        return {"centre_mm": [round(float(v), 2) for v in self.centre_mm], "diameter_mm": round(self.diameter_mm, 1),
                "type": "lesion", "zone": self.zone, "location": self.location,
                "probability": round(float(self.probability), 4), "volume_ml": round(self.volume_ml, 3)}


def long_axis_mm(points_mm: np.ndarray, voxel_mm: np.ndarray) -> float:
    """Long-axis diameter of a solid region from its voxel centres (mm).

    For a solid ellipsoid the variance along a semi-axis a is a²/5, so the diameter is
    2·sqrt(5·λmax); this holds at sub-voxel precision where extreme-point distances do not.
    A region of a voxel or two is given its voxel size.
    """
    if len(points_mm) < 4:
        return float(np.max(voxel_mm))
    eigen = np.linalg.eigvalsh(np.cov(points_mm.T))
    # A voxel's own extent adds variance s²/12 along each axis; remove it before the ellipsoid rule.
    return float(max(2 * np.sqrt(max(5 * (eigen[-1] - np.min(voxel_mm) ** 2 / 12), 0.0)), np.max(voxel_mm)))


@dataclass
class GlandFrame:
    """Where the gland is (LPS mm), to name a lesion's sector."""

    centre: np.ndarray
    half_width: float  # left-right
    z_low: float
    z_high: float

    @classmethod
    def of(cls, zones: Zones) -> GlandFrame | None:
        index = np.argwhere(zones.labels > 0)
        if not len(index):
            return None
        points = zones.grid.index_to_lps(index)
        return cls(centre=points.mean(0), half_width=float(np.ptp(points[:, 0]) / 2 or 1.0),
                   z_low=float(points[:, 2].min()), z_high=float(points[:, 2].max()))


def location_text(centre_mm, zone: str, frame: GlandFrame | None) -> str:
    """A PI-RADS v2.1 sector in words: side, level, zone and part ("left mid PZ posterolateral").

    LPS: +x is the patient's left, +y posterior, +z superior (base above apex).
    """
    zone_text = zone.upper()
    if frame is None:
        return zone_text
    x, y, z = (float(v) for v in centre_mm)
    dx = x - frame.centre[0]
    side = "midline" if abs(dx) < 2.0 else ("left" if dx > 0 else "right")
    third = (frame.z_high - frame.z_low) / 3 or 1.0
    level = "base" if z > frame.z_high - third else ("apex" if z < frame.z_low + third else "mid")
    anterior = y < frame.centre[1]
    if zone == "pz":
        part = "anterior" if anterior else ("posterolateral" if abs(dx) > 0.35 * frame.half_width
                                            else "posteromedial")
    else:
        part = "anterior" if anterior else "posterior"
    return f"{side} {level} {zone_text} {part}"


def find_lesions(lesion_prob: np.ndarray, work: Grid, zones: Zones, *, floor: float = CANDIDATE_FLOOR,
                 measure_level: float = 0.5, keep: int = MAX_CANDIDATES) -> list[Lesion]:
    """Lesion candidates, most probable first: connected regions of the lesion map in the gland.

    A region's score is its highest probability. It is outlined on the T2 grid at the measuring
    level (the upsampled map is blurred, so 0.5 overstates the size), never below half its
    maximum nor the floor it was cut at, and never above 95 % of its maximum. Floor and level
    are set on validation cases (stored with the weights): too low a floor and neighbouring
    lesions and their blurred surroundings merge into one region.
    """
    gland_work = resample((zones.labels > 0).astype(np.float32), zones.grid, work) >= 0.25
    gland_work = ndimage.binary_dilation(gland_work, iterations=1)
    regions, count = ndimage.label((lesion_prob >= floor) & gland_work)
    if not count:
        return []
    scores = ndimage.maximum(lesion_prob, regions, index=np.arange(1, count + 1))
    order = np.argsort(-np.asarray(scores))[:keep]
    frame = GlandFrame.of(zones)
    t2 = zones.grid
    slices = ndimage.find_objects(regions)
    found: list[Lesion] = []
    for n in order:
        score = float(scores[n])
        box = slices[n]
        # The region's box on the working grid, a voxel wider, as a box of T2 voxels.
        lo = np.array([max(s.start - 1, 0) for s in box], float)
        hi = np.array([min(s.stop, dim - 1) for s, dim in zip(box, work.shape, strict=True)], float)
        corners = np.array([[a, b, c] for a in (lo[0], hi[0]) for b in (lo[1], hi[1]) for c in (lo[2], hi[2])])
        t2_index = t2.lps_to_index(work.index_to_lps(corners))
        t_lo = np.clip(np.floor(t2_index.min(0)).astype(int), 0, np.array(t2.shape) - 1)
        t_hi = np.clip(np.ceil(t2_index.max(0)).astype(int) + 1, 1, np.array(t2.shape))
        sub = Grid(shape=tuple(int(v) for v in t_hi - t_lo), origin=t2.index_to_lps(t_lo), matrix=t2.matrix)
        only = np.where(regions == n + 1, lesion_prob, 0.0).astype(np.float32)
        local = resample(only, work, sub, smooth=False)
        mask_local = local >= min(max(score / 2, floor, measure_level), 0.95 * score)
        parts, nparts = ndimage.label(mask_local)
        if nparts > 1:
            mask_local = parts == (1 + int(np.argmax(ndimage.sum(mask_local, parts, range(1, nparts + 1)))))
        index = np.argwhere(mask_local)
        if not len(index):
            index = np.argwhere(local >= local.max())
            mask_local = local >= local.max()
        points = sub.index_to_lps(index)
        centre = points.mean(0)
        labels = zones.labels[t_lo[0]:t_hi[0], t_lo[1]:t_hi[1], t_lo[2]:t_hi[2]][mask_local]
        zone = "tz" if np.count_nonzero(labels == 2) > np.count_nonzero(labels == 1) else "pz"
        mask = np.zeros(t2.shape, bool)
        mask[t_lo[0]:t_hi[0], t_lo[1]:t_hi[1], t_lo[2]:t_hi[2]] = mask_local
        found.append(Lesion(centre_mm=tuple(float(v) for v in centre), diameter_mm=long_axis_mm(points, t2.spacing),
                            zone=zone, location=location_text(centre, zone, frame), probability=score,
                            volume_ml=float(len(index) * t2.voxel_ml), mask=mask))
    return found
