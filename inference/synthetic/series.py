"""Per-slice dataset builders for CT and MR series on a Grid."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from .headers import Order, Patient, add_image_dates, add_patient_study, add_pixels, add_series_equipment, file_dataset
from .volume import Grid

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"


@dataclass(frozen=True)
class StudyContext:
    """What every instance of a study shares."""

    kind: str
    patient: Patient
    order: Order
    study_uid: str
    study_id: str
    body_part: str
    uid: Callable[..., str]

    @property
    def when(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.order.study_datetime)


def series_template(ctx: StudyContext, *, sop_class: str, modality: str, series_number: int,
                    series_description: str, model: str, when: dt.datetime,
                    frame_of_reference_uid: str | None, series_uid: str | None = None) -> Dataset:
    """A dataset holding everything the instances of one series share."""
    ds = file_dataset(sop_class, "1.2")  # placeholder SOP instance, replaced per instance
    add_patient_study(ds, ctx.patient, ctx.order, study_uid=ctx.study_uid, study_id=ctx.study_id,
                      body_part=ctx.body_part)
    add_series_equipment(ds, modality=modality, series_uid=series_uid or ctx.uid("series", series_number),
                         series_number=series_number, series_description=series_description,
                         series_datetime=when, model=model, frame_of_reference_uid=frame_of_reference_uid)
    return ds


def instance_from(template: Dataset, sop_instance_uid: str) -> Dataset:
    """A new instance copying the template's elements (shallow for values, deep for sequences);
    far cheaper than setting each attribute again through pydicom's validation."""
    ds = file_dataset(str(template.SOPClassUID), sop_instance_uid)
    for elem in template:
        if elem.tag in ds:
            continue
        ds.add(copy.deepcopy(elem) if elem.VR == "SQ" else copy.copy(elem))
    return ds


def slice_datasets(ctx: StudyContext, grid: Grid, pixels: np.ndarray, *, sop_class: str, modality: str,
                   series_number: int, series_description: str, model: str, thickness: float,
                   frame_of_reference_uid: str, per_series: Callable[[Dataset], None],
                   per_slice: Callable[[Dataset, int], None] | None = None,
                   start_minutes: float = 0.0, instance_offset: int = 0,
                   series_uid: str | None = None, announce_count: bool = False) -> list[Dataset]:
    """One dataset per slice of `pixels` (k, rows, cols), geometry from `grid`.

    `announce_count` writes Images in Acquisition (0020,1002), the series' size, in every slice
    as some CT scanners do: the worklist then starts the analysis as the last slice is stored."""
    when = ctx.when + dt.timedelta(minutes=start_minutes)
    template = series_template(ctx, sop_class=sop_class, modality=modality, series_number=series_number,
                               series_description=series_description, model=model, when=when,
                               frame_of_reference_uid=frame_of_reference_uid, series_uid=series_uid)
    template.PatientPosition = "HFS"
    template.ImageOrientationPatient = grid.orientation()
    template.PixelSpacing = [round(v, 6) for v in grid.spacing]
    template.SliceThickness = round(thickness, 4)
    template.AcquisitionNumber = 1
    if announce_count:
        template.ImagesInAcquisition = pixels.shape[0]
    per_series(template)
    normal = np.cross(grid.row_dir, grid.col_dir)
    bits = per_image_bits(pixels)
    out = []
    for k in range(pixels.shape[0]):
        number = instance_offset + k + 1
        ds = instance_from(template, ctx.uid("instance", series_number, number))
        add_image_dates(ds, when + dt.timedelta(seconds=0.05 * k), number)
        position = grid.position(k)
        ds.ImagePositionPatient = [round(v, 4) for v in position]
        ds.SliceLocation = round(float(np.dot(position, normal)), 4)
        if per_slice is not None:
            per_slice(ds, k)
        add_pixels(ds, pixels[k], bits_stored=bits)
        out.append(ds)
    return out


def per_image_bits(pixels: np.ndarray) -> int:
    """12 bits when the data fit (the common CT/MR choice), otherwise 16."""
    if pixels.dtype.kind == "u" and int(pixels.max(initial=0)) < 4096:
        return 12
    return 16
