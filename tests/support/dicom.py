"""Small, honest DICOM for the skeleton's tests (the synthetic study generator makes the real ones)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE


def tiny_ct_study(
    *,
    slices: int = 4,
    patient_name: str = "TEST^PATIENT",
    patient_id: str = "PID-1",
    accession: str = "ACC-1",
    priority: str = "ROUTINE",
    location: str = "OUTPATIENT CLINIC",
    charset: str = "ISO_IR 192",
    study_uid: str | None = None,
) -> list[Dataset]:
    study_uid = study_uid or generate_uid()
    series_uid = generate_uid()
    frame_uid = generate_uid()
    datasets = []
    for index in range(slices):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SpecificCharacterSet = charset
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = patient_name, patient_id, "19600102", "F"
        ds.AccessionNumber, ds.StudyID = accession, "1"
        ds.Manufacturer = "Test modality"
        ds.Modality, ds.BodyPartExamined = "CT", "CHEST"
        ds.StudyDescription, ds.SeriesDescription = "CT CHEST LOW DOSE", "Axial 1.0"
        ds.ReferringPhysicianName = "WHO^REFERRED"
        ds.RequestedProcedurePriority = priority
        ds.CurrentPatientLocation = location
        ds.StudyDate, ds.StudyTime = "20261125", "101500"
        ds.SeriesNumber, ds.InstanceNumber = 1, index + 1
        ds.ImagePositionPatient = [-100.0, -100.0, -float(index)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [0.8, 0.8], 1.0
        ds.Rows = ds.Columns = 16
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        ds.PixelData = (np.full((16, 16), -1000 + index, dtype=np.int16)).tobytes()
        datasets.append(ds)
    return datasets


# The modalities the test Orthanc accepts C-STORE from (DICOM_MODALITIES, scripts/orthanc.sh): this
# helper's AE title, the simulator's (inference/synthetic/sender.py) and the bad-input sender's.
TEST_CALLING_AET = "TESTSCU"
TEST_MODALITIES = f"{TEST_CALLING_AET}@127.0.0.1,MODSIM@127.0.0.1,BADSCU@127.0.0.1"


def c_store(datasets: list[Dataset], *, host: str, port: int, called_aet: str = "ORTHANC",
            calling_aet: str = TEST_CALLING_AET, bind_host: str = "127.0.0.1") -> None:
    """Send datasets over DICOM C-STORE, as a modality would; raise if any is refused."""
    ae = AE(ae_title=calling_aet)
    for sop_class in {ds.SOPClassUID for ds in datasets}:
        ae.add_requested_context(sop_class, ExplicitVRLittleEndian)
    assoc = ae.associate(host, port, ae_title=called_aet, bind_address=(bind_host, 0))
    if not assoc.is_established:
        raise ConnectionError(f"association with {host}:{port} refused")
    try:
        for ds in datasets:
            status = assoc.send_c_store(ds)
            if not status or status.Status != 0x0000:
                raise RuntimeError(f"C-STORE failed: {status}")
    finally:
        assoc.release()


DCIODVFY = Path("/usr/bin/dciodvfy")


def dciodvfy_errors(dicom: Path | bytes, tmp_path: Path | None = None) -> list[str]:
    """The errors the independent validator (dicom3tools' dciodvfy) finds in a file or its bytes.

    Fails rather than skips when the validator is missing: `make test` installs it, and a check
    that quietly does not run is not a check."""
    if not DCIODVFY.exists():
        pytest.fail("dciodvfy not found at /usr/bin/dciodvfy: `make test` installs Debian's dicom3tools")
    if isinstance(dicom, bytes):
        if tmp_path is None:
            raise ValueError("bytes need a tmp_path to be written to")
        path = tmp_path / "validate.dcm"
        path.write_bytes(dicom)
    else:
        path = dicom
    report = subprocess.run([str(DCIODVFY), str(path)], capture_output=True, text=True)
    return [line for line in (report.stdout + report.stderr).splitlines() if line.startswith("Error")]


def content_items(dataset, found: list | None = None) -> list:
    """Every content item of an SR (or of one of its items), depth first."""
    found = [] if found is None else found
    for item in getattr(dataset, "ContentSequence", []):
        found.append(item)
        content_items(item, found)
    return found
