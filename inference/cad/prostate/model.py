"""The prostate MRI model: T2w + ADC + high-b DWI -> zones, gland volume, PSA density, lesions.

run(study) picks the series by their headers (series.py), registers ADC and DWI to the T2 by
patient coordinates (registration.py), runs a compact 3-D U-Net on a coarse grid (network.py),
measures on the T2 grid (analysis.py) and stores a DICOM SEG and a TID 1500 SR in the study.
The AI scores suspicion only; PI-RADS categories are the reader's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from pydicom.dataset import Dataset

from archive.volumes import Volume, VolumeError, volume_from_datasets
from inference.cad.base import ModelOutcome, StudyInfo
from inference.cad.envelope import Envelope, OutsideEnvelope, SeriesFacts
from inference.cad.prostate.analysis import (
    CANDIDATE_FLOOR,
    Lesion,
    Zones,
    find_lesions,
    psa_density,
    psa_from_header,
    zones_on_t2,
)
from inference.cad.prostate.network import ProstateUNet, load_network, probabilities
from inference.cad.prostate.registration import Grid, working_inputs
from inference.cad.prostate.series import (
    adc_in_um2_s,
    choose_series,
    group_by_series,
    headers_of,
    highest_b_volume,
    orthanc_series_datasets,
    orthanc_series_headers,
    series_role,
)
from inference.cad.volume_model import call_with_time_limit, model_timeout_seconds

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "models" / "prostate" / "prostate.pt"
DEFAULT_THRESHOLD = 0.5


@dataclass
class ProstateCase:
    """The three registered series of one examination, read from Orthanc or from files."""

    t2: Volume
    adc: Volume
    high_b: Volume
    b_value: float
    psa_ng_ml: float | None
    t2_datasets: list[Dataset] = field(default_factory=list, repr=False)  # source images for the SEG

    @property
    def series_uids(self) -> dict[str, str]:
        return {"t2w": self.t2.series_instance_uid, "adc": self.adc.series_instance_uid,
                "dwi": self.high_b.series_instance_uid}


def case_from_series(t2_datasets: list[Dataset], adc_datasets: list[Dataset],
                     dwi_datasets: list[Dataset]) -> ProstateCase:
    t2 = volume_from_datasets(t2_datasets)
    adc = volume_from_datasets(adc_datasets)
    high_b, b_value = highest_b_volume(dwi_datasets)
    order = {uid: n for n, uid in enumerate(t2.sop_instance_uids)}
    t2_sorted = sorted(t2_datasets, key=lambda ds: order[str(ds.SOPInstanceUID)])  # the SEG's source images
    return ProstateCase(t2=t2, adc=adc, high_b=high_b, b_value=b_value, psa_ng_ml=psa_from_header(t2.header),
                        t2_datasets=t2_sorted)


def case_from_datasets(datasets: list[Dataset]) -> ProstateCase:
    """A case from the images of one study in memory (tests, evaluation, bench): same identification."""
    groups = group_by_series(datasets)
    choice = choose_series(headers_of(groups))
    if choice is None:
        raise VolumeError("no T2-weighted, ADC and diffusion series found in the study")
    return case_from_series(groups[choice.t2w], groups[choice.adc], [ds for key in choice.dwi for ds in groups[key]])


@dataclass
class ProstatePrediction:
    zones: Zones
    lesions: list[Lesion]  # every candidate, most probable first
    threshold: float
    psa_ng_ml: float | None
    timings: dict = field(default_factory=dict)

    @property
    def reported(self) -> list[Lesion]:
        return [lesion for lesion in self.lesions if lesion.probability >= self.threshold]

    @property
    def gland_ml(self) -> float:
        return self.zones.volume_ml()

    @property
    def psa_density(self) -> float | None:
        return psa_density(self.psa_ng_ml, self.gland_ml)

    @property
    def suspicion(self) -> float:
        return round(float(max((lesion.probability for lesion in self.lesions), default=0.0)), 4)

    def result(self) -> dict:
        return {
            "findings": [lesion.as_dict() for lesion in self.reported],
            "gland_volume_ml": round(self.gland_ml, 1), "pz_volume_ml": round(self.zones.volume_ml(1), 1),
            "tz_volume_ml": round(self.zones.volume_ml(2), 1), "psa_ng_ml": self.psa_ng_ml,
            "psa_density": self.psa_density, "threshold": round(self.threshold, 4),
        }


def headline(prediction: ProstatePrediction) -> str:
    """"Gland 42 mL, PSA density 0.18 · PZ lesion 12 mm, suspicion 0.88" (no PI-RADS: the reader scores)."""
    gland = f"Gland {prediction.gland_ml:.0f} mL"
    if prediction.psa_density is not None:
        gland += f", PSA density {prediction.psa_density:.2f}"
    reported = prediction.reported
    if not reported:
        return f"{gland} · no suspicious lesion"
    top = reported[0]
    text = f"{gland} · {top.zone.upper()} lesion {top.diameter_mm:.0f} mm, suspicion {top.probability:.2f}"
    if len(reported) > 1:
        text += f" (+{len(reported) - 1} more)"
    return text


def refuse_if_too_large(headers: dict[str, tuple[Dataset, int]], keys: list[str]) -> None:
    """Refuse series beyond MAX_VOLUME_VOXELS before any pixel is fetched (as archive.volumes does)."""
    from django.conf import settings

    limit = settings.MAX_VOLUME_VOXELS
    for key in keys:
        ds, count = headers[key]
        voxels = int(ds.get("Rows") or 0) * int(ds.get("Columns") or 0) * count
        if voxels > limit:
            raise VolumeError(f"series too large to analyse: {count} images of {ds.get('Rows')} x {ds.get('Columns')} "
                              f"({voxels / 1e6:.1f} M voxels, limit {limit / 1e6:.1f} M)")


# PI-RADS v2.1 (2019) technical requirements, narrowed to what the model was validated on (the
# generator's 3 T, 3 mm axial slices, b up to 1400 s/mm²): docs/prostate_evaluation.md.
T2_ENVELOPE = Envelope(modalities=("MR",), slice_thickness_mm=(2.0, 4.0), min_slices=12,
                       pixel_spacing_mm=(0.3, 1.0), field_strength_t=(2.9, 3.1),
                       source="generated prostate MRI: 3 T, 3 mm slices (PI-RADS v2.1: ≤ 3 mm, no gap)")
DWI_ENVELOPE = Envelope(modalities=("MR",), slice_thickness_mm=(2.0, 5.0), min_slices=12,
                        pixel_spacing_mm=(0.8, 2.5), field_strength_t=(2.9, 3.1))
MIN_HIGH_B = 800.0  # PI-RADS v2.1: high b ≥ 1400 s/mm² preferred; the model was trained on 800-1400
ROLE_WORDS = {"t2w": "axial T2-weighted", "dwi": "diffusion-weighted (DWI)", "adc": "ADC map"}


def _header_facts(ds: Dataset, count: int) -> SeriesFacts:
    spacing = [float(v) for v in ds.get("PixelSpacing") or []]
    field, thickness = ds.get("MagneticFieldStrength"), ds.get("SliceThickness")
    return SeriesFacts(modality=str(ds.get("Modality", "")).upper(), slices=count,
                       slice_thickness_mm=float(thickness) if thickness not in (None, "") else None,
                       pixel_spacing_mm=max(spacing) if spacing else None,
                       field_strength_t=float(field) if field not in (None, "") else None)


def prostate_envelope_check(headers: dict[str, tuple[Dataset, int]], choice) -> None:
    """OutsideEnvelope when a sequence is missing or its acquisition lies outside what was validated."""
    if choice is None:
        found = {series_role(ds) for ds, _ in headers.values()}
        missing = [words for role, words in ROLE_WORDS.items() if role not in found]
        raise OutsideEnvelope(f"no {' or '.join(missing)} series found; this model needs axial T2-weighted, "
                              "diffusion (high b-value) and ADC series (PI-RADS v2.1)")
    reasons = [f"T2: {r}" for r in T2_ENVELOPE.refusals(_header_facts(*headers[choice.t2w]))]
    for key in choice.dwi:
        reasons += [f"DWI: {r}" for r in DWI_ENVELOPE.refusals(_header_facts(*headers[key]))]
    if reasons:
        raise OutsideEnvelope("; ".join(dict.fromkeys(reasons)))


class ProstateModel:
    name = "prostate"
    version = "1.1"  # 1.1: diffusion aligned to T2, trained on the half-hard mix (MODEL_CARD)

    def __init__(self, weights: Path | str | None = None) -> None:
        self.weights = Path(weights or DEFAULT_WEIGHTS)
        self._net: ProstateUNet | None = None
        self._meta: dict = {}
        self._lock = threading.Lock()

    # --- routing ---------------------------------------------------------------------------

    def applies_to(self, study: StudyInfo) -> bool:
        """An MR of the prostate with at least three MR series (T2w, DWI, ADC are told apart in run()).

        Reading the headers needs Orthanc; routing stays cheap and a study without the three
        series fails in run() with a reason the reader sees.
        """
        modalities = {m.upper() for m in (study.modalities or (study.modality,))}
        if "MR" not in modalities:
            return False
        prostate = (study.body_part or "").upper() == "PROSTATE" or "PROSTAT" in (study.study_description or "").upper()
        volumes = [s for s in study.series
                   if (s.get("modality") or "").upper() == "MR" and int(s.get("instance_count") or 0) >= 8]
        return prostate and len(volumes) >= 3

    # --- the network -----------------------------------------------------------------------

    def network(self) -> tuple[ProstateUNet, dict]:
        with self._lock:
            if self._net is None:
                if not self.weights.exists():
                    raise FileNotFoundError(f"prostate weights not found at {self.weights}; "
                                            "run: python manage.py train_model prostate")
                self._net, self._meta = load_network(str(self.weights))
            return self._net, self._meta

    @property
    def threshold(self) -> float:
        return float(self.network()[1].get("threshold", DEFAULT_THRESHOLD))

    @property
    def gland_level(self) -> float:
        return float(self.network()[1].get("gland_level", 0.5))

    @property
    def lesion_floor(self) -> float:
        return float(self.network()[1].get("lesion_floor", CANDIDATE_FLOOR))

    def predict(self, case: ProstateCase) -> ProstatePrediction:
        torch.set_num_threads(2)
        net, _ = self.network()
        started = time.perf_counter()
        # Weights trained on phase-aligned diffusion (metadata align_phase) get it at inference too.
        inputs, work = working_inputs(case.t2, adc_in_um2_s(case.adc), case.adc, case.high_b,
                                      align_phase=bool(self.network()[1].get("align_phase", False)))
        registered = time.perf_counter()
        zone_prob, lesion_prob = probabilities(net, inputs)
        inferred = time.perf_counter()
        zones = zones_on_t2(zone_prob, work, Grid.of(case.t2), gland_level=self.gland_level)
        lesions = find_lesions(lesion_prob, work, zones, floor=self.lesion_floor,
                               measure_level=float(self.network()[1].get("measure_level", 0.5)))
        measured = time.perf_counter()
        return ProstatePrediction(zones=zones, lesions=lesions, threshold=self.threshold, psa_ng_ml=case.psa_ng_ml,
                                  timings={"register_seconds": round(registered - started, 3),
                                           "network_seconds": round(inferred - registered, 3),
                                           "measure_seconds": round(measured - inferred, 3)})

    # --- the pipeline entry ----------------------------------------------------------------

    def load_case(self, study: StudyInfo) -> ProstateCase:
        headers = orthanc_series_headers(list(study.series))
        choice = choose_series(headers)
        prostate_envelope_check(headers, choice)
        refuse_if_too_large(headers, [choice.t2w, choice.adc, *choice.dwi])
        dwi = [ds for key in choice.dwi for ds in orthanc_series_datasets(key)]
        case = case_from_series(orthanc_series_datasets(choice.t2w), orthanc_series_datasets(choice.adc), dwi)
        # The b-values are known once every diffusion image is read (one series may hold several).
        if case.b_value < MIN_HIGH_B:
            raise OutsideEnvelope(f"highest b-value {case.b_value:g} s/mm²; this model needs at least {MIN_HIGH_B:g}")
        return case

    def run(self, study: StudyInfo) -> ModelOutcome:
        return call_with_time_limit(self._run, model_timeout_seconds(), study)

    def _run(self, study: StudyInfo) -> ModelOutcome:
        from inference.cad.prostate.seg import seg_store
        from inference.cad.prostate.sr import sr_store

        started = time.perf_counter()
        case = self.load_case(study)
        fetched = time.perf_counter()
        prediction = self.predict(case)
        predicted = time.perf_counter()
        seg = seg_store(case, prediction, model_name=self.name, model_version=self.version)
        sr_uid = sr_store(case, prediction, seg, model_name=self.name, model_version=self.version)
        stored = time.perf_counter()
        result = prediction.result()
        result.update({
            "series_instance_uid": case.t2.series_instance_uid, "series": case.series_uids,
            "seg_sop_instance_uid": str(seg.SOPInstanceUID), "seg_series_instance_uid": str(seg.SeriesInstanceUID),
            "sr_sop_instance_uid": sr_uid,
            "timings": {"fetch_seconds": round(fetched - started, 3), "predict_seconds": round(predicted - fetched, 3),
                        **prediction.timings, "dicom_seconds": round(stored - predicted, 3)},
        })
        return ModelOutcome(suspicion=prediction.suspicion, category="", headline=headline(prediction), result=result)
