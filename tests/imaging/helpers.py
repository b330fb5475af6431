"""Small DICOM series built in the test, and a way to put them in the archive and on the worklist."""

from __future__ import annotations

import io

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from archive.orthanc import post_instance
from worklist.ingest import study_ingest
from worklist.models import Series, Study


def ct_slice(pixels: np.ndarray, *, position: tuple[float, float, float], number: int, study_uid: str,
             series_uid: str, slope: float = 1.0, intercept: float = -1024.0,
             photometric: str = "MONOCHROME2", orientation=(1, 0, 0, 0, 1, 0)) -> Dataset:
    """One CT slice holding `pixels` as stored values (uint16 or int16 decides PixelRepresentation)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[study_uid])
    ds.PatientName, ds.PatientID = "IMAGING^TEST", "PID-IMG"
    ds.AccessionNumber = "ACC-IMG"
    ds.Modality, ds.BodyPartExamined = "CT", "CHEST"
    ds.StudyDate, ds.StudyTime = "20261125", "101500"
    ds.SeriesNumber, ds.InstanceNumber = 1, number
    ds.SeriesDescription = "Axial"
    ds.ImagePositionPatient = [float(v) for v in position]
    ds.ImageOrientationPatient = [float(v) for v in orientation]
    ds.PixelSpacing, ds.SliceThickness = [0.7, 0.8], 1.0
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    signed = pixels.dtype.kind == "i"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, int(signed)
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    ds.PixelData = np.ascontiguousarray(pixels, dtype="<i2" if signed else "<u2").tobytes()
    return ds


def ct_series(count: int = 5, *, shape=(6, 8), z_step: float = -2.5, study_uid: str | None = None,
              **kwargs) -> list[Dataset]:
    """`count` slices; slice k is filled with stored value 1000 + k and lies at z = 100 + k * z_step."""
    study_uid, series_uid = study_uid or generate_uid(), generate_uid()
    return [
        ct_slice(np.full(shape, 1000 + k, dtype=np.uint16), position=(-50.0, -60.0, 100.0 + k * z_step),
                 number=k + 1, study_uid=study_uid, series_uid=series_uid, **kwargs)
        for k in range(count)
    ]


def dicom_bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def archive(datasets: list[Dataset]) -> tuple[Study, Series]:
    """Store the datasets in Orthanc and save their study as ingestion would; returns the first series."""
    answer = {}
    for ds in datasets:
        answer = post_instance(dicom_bytes(ds))
    study = study_ingest(answer["ParentStudy"])
    assert study is not None
    return study, study.series.get(series_instance_uid=datasets[0].SeriesInstanceUID)


def planes_to_array(body: bytes, *, count: int, rows: int, columns: int, dtype: str) -> np.ndarray:
    """Undo the wire format: per slice a low-byte plane, then a high-byte plane."""
    n = rows * columns
    raw = np.frombuffer(body, dtype=np.uint8).reshape(count, 2, n)
    values = raw[:, 0].astype(np.uint16) | (raw[:, 1].astype(np.uint16) << 8)
    return values.view(dtype).reshape(count, rows, columns)
