"""Studies no CAD here covers, so the worklist sees a real mix: chest radiograph, head CT, knee MRI.

They carry realistic headers and plausible pixels but no lesions.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from pydicom.dataset import Dataset

from .headers import (
    LOCATION_ED,
    LOCATION_ICU,
    LOCATION_INPATIENT,
    LOCATION_OUTPATIENT,
    default_study_datetime,
    make_order,
    make_patient,
    order_truth,
    patient_truth,
    uid_factory,
)
from .projection import DX_FOR_PRESENTATION, code, projection_instance
from .series import CT_IMAGE_STORAGE, MR_IMAGE_STORAGE, StudyContext, slice_datasets
from .volume import Grid, gaussian_noise


def _context(kind: str, seed: int, rng: np.random.Generator, description: str, body_part: str,
             locations: tuple[str, ...], priority, patient_location, study_datetime) -> StudyContext:
    when = study_datetime or default_study_datetime(rng)
    patient = make_patient(rng, when.date(), age_range=(18, 90))
    order = make_order(rng, study_description=description, study_datetime=when, priority=priority,
                       patient_location=patient_location, default_locations=locations)
    uid = uid_factory(kind, seed)
    return StudyContext(kind=kind, patient=patient, order=order, study_uid=uid("study"),
                        study_id=order.accession_number[-8:], body_part=body_part, uid=uid)


def _truth(ctx: StudyContext, seed: int, params: dict, datasets: list[Dataset]) -> dict:
    series: dict[str, dict] = {}
    for ds in datasets:
        entry = series.setdefault(ds.SeriesInstanceUID, {"series_instance_uid": ds.SeriesInstanceUID,
                                                         "description": ds.SeriesDescription,
                                                         "modality": ds.Modality, "instances": 0})
        entry["instances"] += 1
    return {"kind": ctx.kind, "seed": seed, "params": params, "study_instance_uid": ctx.study_uid,
            "patient": patient_truth(ctx.patient), "order": order_truth(ctx.order),
            "series": list(series.values()), "normal": None, "lesions": []}


def generate_chest_xr(seed: int, *, matrix: int = 1024, priority: str | None = None,
                      patient_location: str | None = None, study_datetime: dt.datetime | None = None):
    rng = np.random.default_rng(seed)
    ctx = _context("chest_xr", seed, rng, "XR CHEST PA", "CHEST",
                   (LOCATION_ED, LOCATION_INPATIENT, LOCATION_ICU, LOCATION_OUTPATIENT),
                   priority, patient_location, study_datetime)
    spacing = 430.0 / matrix
    c = (np.arange(matrix, dtype=np.float32) - matrix / 2) * spacing
    x, y = c[None, :], c[:, None]
    # Projection: soft tissue grey, lungs dark, mediastinum and spine bright (MONOCHROME2, bone white).
    img = np.full((matrix, matrix), 300, np.float32)
    img += 1500 * (((x / 175) ** 2 + (y / 230) ** 2) < 1)
    for side in (-1, 1):
        img -= 900 * ((((x - side * 80) / 70) ** 2 + ((y + 10) / 140) ** 2) < 1)
    img += 700 * ((np.abs(x) < 22) & (y > -220))  # spine and mediastinum
    img += 600 * ((((x - 30) / 65) ** 2 + ((y - 70) / 55) ** 2) < 1)  # heart
    for k in range(9):  # ribs as faint arcs
        img += 180 * (np.abs(y + 150 - 30 * k - 0.002 * x ** 2) < 5) * (np.abs(x) < 150)
    img += gaussian_noise(rng, img.shape) * 25
    pixels = np.clip(img, 0, 4095).astype(np.uint16)
    ds = projection_instance(ctx, pixels, sop_class=DX_FOR_PRESENTATION, modality="DX", series_number=1,
                             series_description="CHEST PA", model="SynthDR 1", instance_number=1,
                             spacing_mm=round(spacing, 6), start_minutes=1)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.ViewPosition = "PA"
    ds.ViewCodeSequence = [code("399348003", "SCT", "postero-anterior")]
    ds.ViewCodeSequence[0].ViewModifierCodeSequence = []
    ds.AnatomicRegionSequence = [code("43799004", "SCT", "Chest")]
    ds.PatientOrientation = ["R", "F"]
    ds.ImageLaterality = "U"
    ds.PositionerType = "NONE"
    ds.AcquisitionContextSequence = []
    ds.KVP = 120
    ds.ExposureTime = 10
    ds.XRayTubeCurrent = 250
    ds.Exposure = 3
    ds.DistanceSourceToDetector = 1800
    ds.WindowCenter, ds.WindowWidth = 1300, 2600
    return [ds], _truth(ctx, seed, {"matrix": matrix}, [ds]), ctx.study_uid


def generate_head_ct(seed: int, *, matrix: int = 512, slices: int = 40, priority: str | None = None,
                     patient_location: str | None = None, study_datetime: dt.datetime | None = None):
    rng = np.random.default_rng(seed)
    ctx = _context("head_ct", seed, rng, "CT HEAD WITHOUT CONTRAST", "HEAD",
                   (LOCATION_ED, LOCATION_ED, LOCATION_INPATIENT), priority, patient_location, study_datetime)
    thickness, fov = 4.0, 250.0
    spacing = fov / matrix
    grid = Grid(shape=(slices, matrix, matrix), origin=(-fov / 2 + spacing / 2, -fov / 2 + spacing / 2, 120.0),
                spacing=(spacing, spacing), slice_step=(0.0, 0.0, -thickness))
    c = (np.arange(matrix, dtype=np.float32) - matrix / 2) * spacing
    x, y = c[None, :], c[:, None]
    vol = np.empty(grid.shape, np.float32)
    for k in range(slices):
        z = grid.position(k)[2]
        s = float(np.sqrt(max(1 - ((z - 40) / 90) ** 2, 0.05)))  # the skull narrows toward the vertex
        r2 = (x / (75 * s)) ** 2 + (y / (92 * s)) ** 2
        img = np.full(r2.shape, -1000, np.float32)
        img[r2 < 1.12] = 30  # scalp
        img[r2 < 1.0] = 1200  # skull
        img[r2 < 0.86] = 38  # grey matter
        img[r2 < 0.6] = 28  # white matter
        ventricles = ((np.abs(x) - 10) / 6) ** 2 + (y / 25) ** 2 < 1
        img[ventricles & (abs(z - 40) < 25)] = 5
        vol[k] = img
    vol += gaussian_noise(rng, vol.shape) * 4
    stored = np.clip(vol + 1024.5, 0, 4095).astype(np.uint16)

    def per_series(ds: Dataset) -> None:
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.KVP = 120
        ds.ConvolutionKernel = "H30s"
        ds.WindowCenter, ds.WindowWidth = 40, 80
        ds.CTDIvol = 55.0
        ds.CTDIPhantomTypeCodeSequence = [code("113690", "DCM", "IEC Head Dosimetry Phantom")]

    datasets = slice_datasets(ctx, grid, stored, sop_class=CT_IMAGE_STORAGE, modality="CT", series_number=2,
                              series_description="HEAD 4mm", model="SynthCT 64", thickness=thickness,
                              frame_of_reference_uid=ctx.uid("for"), per_series=per_series, start_minutes=1)
    return datasets, _truth(ctx, seed, {"matrix": matrix, "slices": slices}, datasets), ctx.study_uid


def generate_knee_mri(seed: int, *, matrix: int = 256, slices: int = 24, priority: str | None = None,
                      patient_location: str | None = None, study_datetime: dt.datetime | None = None):
    rng = np.random.default_rng(seed)
    ctx = _context("knee_mri", seed, rng, "MRI KNEE RIGHT", "KNEE", (LOCATION_OUTPATIENT,), priority,
                   patient_location, study_datetime)
    thickness, fov = 3.5, 160.0
    spacing = fov / matrix
    # Sagittal: rows run anterior->posterior (+y), columns head->foot (-z); slices step along x.
    grid = Grid(shape=(slices, matrix, matrix), origin=(-(slices - 1) * thickness / 2, -fov / 2, fov / 2),
                spacing=(spacing, spacing), slice_step=(thickness, 0.0, 0.0),
                row_dir=(0.0, 1.0, 0.0), col_dir=(0.0, 0.0, -1.0))
    c = (np.arange(matrix, dtype=np.float32) - matrix / 2) * spacing
    ap, si = c[None, :], -c[:, None]
    vol = np.empty(grid.shape, np.float32)
    for k in range(slices):
        lateral = grid.position(k)[0]
        w = float(np.sqrt(max(1 - (lateral / 50) ** 2, 0.1)))
        img = np.where((ap / (60 * w)) ** 2 + (si / 90) ** 2 < 1, 250, 0).astype(np.float32)  # soft tissue
        femur = (ap / (28 * w)) ** 2 + ((si - 25) / 40) ** 2 < 1
        tibia = (ap / (26 * w)) ** 2 + ((si + 30) / 28) ** 2 < 1
        img[femur | tibia] = 420  # marrow is fatty: bright on PD
        cartilage = ((ap / (31 * w)) ** 2 + ((si - 25) / 43) ** 2 < 1) & ~femur & (si < 0)
        img[cartilage] = 330
        img[((ap + 45 * w) / 9) ** 2 + ((si - 5) / 18) ** 2 < 1] = 400  # patella
        vol[k] = img
    vol = np.abs(vol + gaussian_noise(rng, vol.shape) * 10)
    stored = np.clip(vol, 0, 4095).astype(np.uint16)

    def per_series(ds: Dataset) -> None:
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NONE"]
        ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions = "SE", "SK", ""
        ds.MRAcquisitionType, ds.SequenceName = "2D", "tse2d1_7"
        ds.EchoTime, ds.RepetitionTime, ds.EchoTrainLength = 30, 3000, 7
        ds.MagneticFieldStrength, ds.ImagingFrequency, ds.ImagedNucleus = 1.5, 63.9, "1H"
        ds.SpacingBetweenSlices = thickness
        ds.WindowCenter, ds.WindowWidth = 250, 500
        ds.Laterality = "R"

    datasets = slice_datasets(ctx, grid, stored, sop_class=MR_IMAGE_STORAGE, modality="MR", series_number=2,
                              series_description="PD TSE SAG", model="SynthMR 1.5T", thickness=thickness,
                              frame_of_reference_uid=ctx.uid("for"), per_series=per_series, start_minutes=2)
    return datasets, _truth(ctx, seed, {"matrix": matrix, "slices": slices}, datasets), ctx.study_uid
