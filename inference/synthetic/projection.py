"""Shared header modules for projection radiography (DX and MG, For Presentation)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from pydicom.dataset import Dataset

from .headers import add_image_dates, add_pixels
from .series import StudyContext, series_template

DX_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.1"
MG_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.2"


def code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def projection_instance(ctx: StudyContext, pixels: np.ndarray, *, sop_class: str, modality: str,
                        series_number: int, series_description: str, model: str, instance_number: int,
                        spacing_mm: float, start_minutes: float, series_uid: str | None = None) -> Dataset:
    """One For Presentation projection image with the DX modules filled in."""
    when = ctx.when + dt.timedelta(minutes=start_minutes)
    template = series_template(ctx, sop_class=sop_class, modality=modality, series_number=series_number,
                               series_description=series_description, model=model, when=when,
                               frame_of_reference_uid=None, series_uid=series_uid)
    ds = template
    ds.SOPInstanceUID = ctx.uid("instance", series_number, instance_number)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    add_image_dates(ds, when, instance_number)
    ds.ImageType = ["ORIGINAL", "PRIMARY", ""]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = 1
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    ds.RescaleType = "US"
    ds.PresentationLUTShape = "IDENTITY"
    ds.LossyImageCompression = "00"
    ds.BurnedInAnnotation = "NO"
    ds.DetectorType = "DIRECT"
    ds.ImagerPixelSpacing = [spacing_mm, spacing_mm]
    ds.PixelSpacing = [spacing_mm, spacing_mm]
    ds.PixelSpacingCalibrationType = "GEOMETRY"
    ds.PixelSpacingCalibrationDescription = "Synthetic: detector plane"
    ds.DetectorConditionsNominalFlag = "YES"
    ds.QualityControlImage = "NO"
    ds.AcquisitionDeviceProcessingDescription = "SYNTHETIC PROCESSING"
    ds.WindowCenter = 2048
    ds.WindowWidth = 4096
    # No VOILUTFunction: absent means LINEAR (PS3.3 C.11.2.1.3). Present, OHIF 3.13's image loader
    # reads its first letter ("L", a string indexed as if it were a list) and draws the image black.
    add_pixels(ds, pixels, bits_stored=12)
    return ds
