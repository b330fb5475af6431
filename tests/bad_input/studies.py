"""Malformed and awkward DICOM studies, built from the small honest CT of tests/support/dicom.py."""

from __future__ import annotations

import copy

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import EnhancedCTImageStorage, JPEG2000Lossless, JPEGLSLossless, generate_uid

from tests.support.dicom import tiny_ct_study

# 64 slices of 1 mm: the lung model's envelope needs 60 mm of coverage (inference/cad/lung_nodule/model.py).
SLICES, SIZE = 64, 32


def good(tag: str) -> list[Dataset]:
    study = tiny_ct_study(slices=SLICES, accession=f"BAD-{tag}"[:16], patient_id=f"PID-BAD-{tag}")
    for index, ds in enumerate(study):
        ds.Rows = ds.Columns = SIZE
        ds.PixelData = np.full((SIZE, SIZE), -1000 + index, dtype=np.int16).tobytes()
    return study


def no_pixel_data() -> list[Dataset]:
    study = good("NOPIXELS")
    for ds in study:
        del ds.PixelData
    return study


def truncated_pixel_data() -> list[Dataset]:
    study = good("TRUNCATED")
    for ds in study:
        ds.PixelData = ds.PixelData[: len(ds.PixelData) // 3]
    return study


def inconsistent_spacing() -> list[Dataset]:
    study = good("SPACING")
    for index, ds in enumerate(study):
        z = index * 1.0 + (4.0 if index >= SLICES // 2 else 0.0)  # a 5 mm gap halfway
        ds.ImagePositionPatient = [-100.0, -100.0, -z]
    return study


def single_slice() -> list[Dataset]:
    return good("SINGLE")[:1]


def missing_patient_id() -> list[Dataset]:
    study = good("NOPID")
    for ds in study:
        del ds.PatientID
    return study


def jpeg_ls() -> list[Dataset]:
    study = good("JPEGLS")
    for ds in study:
        ds.compress(JPEGLSLossless, encoding_plugin="pyjpegls")
    return study


def jpeg_2000() -> list[Dataset]:
    study = good("JPEG2K")
    for ds in study:
        ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")
    return study


def enhanced_multiframe() -> list[Dataset]:
    """One Enhanced CT instance holding every slice as a frame, positions in functional groups."""
    slices = good("ENHANCED")
    ds = copy.deepcopy(slices[0])
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = EnhancedCTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.NumberOfFrames = len(slices)
    for name in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness"):
        delattr(ds, name)
    shared = Dataset()
    orientation, measures = Dataset(), Dataset()
    orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    measures.PixelSpacing, measures.SliceThickness = [0.8, 0.8], 1.0
    shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = Sequence([orientation]), Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for source in slices:
        frame, position = Dataset(), Dataset()
        position.ImagePositionPatient = source.ImagePositionPatient
        frame.PlanePositionSequence = Sequence([position])
        frames.append(frame)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.PixelData = b"".join(s.PixelData for s in slices)
    return [ds]


def huge(slices: int = 400) -> list[Dataset]:
    """A long series (400 slices of 32x32: large in count, small on disk, so the test stays quick)."""
    study = tiny_ct_study(slices=slices, accession="BAD-HUGE", patient_id="PID-BAD-HUGE")
    for index, ds in enumerate(study):
        ds.Rows = ds.Columns = SIZE
        ds.PixelData = np.full((SIZE, SIZE), -1000 + index % 50, dtype=np.int16).tobytes()
    return study
