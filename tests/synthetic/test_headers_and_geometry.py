"""Headers a PACS expects, consistent volume geometry, unique UIDs and determinism, for every kind."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import shutil
import subprocess

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from inference.synthetic import STUDY_KINDS, generate_study
from inference.synthetic.headers import PRIORITIES, REFERRING_PHYSICIANS, make_patient

from .conftest import SMALL_KWARGS, small_study

COMMON_TAGS = [
    "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "PatientID", "PatientName",
    "PatientBirthDate", "PatientSex", "AccessionNumber", "ReferringPhysicianName", "RequestedProcedurePriority",
    "CurrentPatientLocation", "StudyDescription", "SeriesDescription", "BodyPartExamined", "Manufacturer",
    "ManufacturerModelName", "StudyDate", "StudyTime", "SeriesTime", "AcquisitionDateTime", "ContentDate",
    "Modality", "InstitutionName", "InstanceNumber", "SpecificCharacterSet", "Rows", "Columns", "PixelData",
]
KIND_TAGS = {
    "chest_ct": ["ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness",
                 "SliceLocation", "RescaleSlope", "RescaleIntercept", "CTDIvol", "KVP", "FrameOfReferenceUID"],
    "head_ct": ["ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness",
                "RescaleSlope", "RescaleIntercept", "FrameOfReferenceUID"],
    "prostate_mri": ["ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness",
                     "MagneticFieldStrength", "EchoTime", "RepetitionTime", "FrameOfReferenceUID"],
    "knee_mri": ["ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness",
                 "FrameOfReferenceUID"],
    "mammography": ["ImageLaterality", "ViewPosition", "ViewCodeSequence", "ImagerPixelSpacing",
                    "PresentationIntentType"],
    "chest_xr": ["ViewPosition", "ImagerPixelSpacing", "PresentationIntentType"],
}
BODY_PARTS = {"chest_ct": "CHEST", "chest_xr": "CHEST", "mammography": "BREAST", "prostate_mri": "PROSTATE",
              "head_ct": "HEAD", "knee_mri": "KNEE"}


def test_required_tags_present(any_study):
    for ds in any_study.datasets:
        for keyword in COMMON_TAGS + KIND_TAGS[any_study.kind]:
            assert keyword in ds and ds[keyword].value not in (None, ""), (any_study.kind, keyword)
        assert ds.BodyPartExamined == BODY_PARTS[any_study.kind]
        assert ds.RequestedProcedurePriority in PRIORITIES
        assert ds.ReferringPhysicianName in REFERRING_PHYSICIANS
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert ds.StudyInstanceUID == any_study.study_instance_uid
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID


def test_truth_records_order_and_patient(any_study):
    truth = json.loads(json.dumps(any_study.truth))  # must be JSON-serialisable
    ds = any_study.datasets[0]
    assert truth["kind"] == any_study.kind
    assert truth["order"]["accession_number"] == ds.AccessionNumber
    assert truth["order"]["priority"] == ds.RequestedProcedurePriority
    assert truth["order"]["patient_location"] == ds.CurrentPatientLocation
    assert truth["patient"]["patient_id"] == ds.PatientID
    assert truth["patient"]["name"] == str(ds.PatientName)


def test_uids_unique(any_study):
    sop = [ds.SOPInstanceUID for ds in any_study.datasets]
    assert len(set(sop)) == len(sop)
    series = {ds.SeriesInstanceUID for ds in any_study.datasets}
    assert any_study.study_instance_uid not in series and not series & set(sop)
    other = small_study(any_study.kind, seed=4)
    assert other.study_instance_uid != any_study.study_instance_uid
    assert not set(sop) & {ds.SOPInstanceUID for ds in other.datasets}


def _by_series(study) -> dict[str, list]:
    groups: dict[str, list] = {}
    for ds in study.datasets:
        key = ds.SeriesInstanceUID + "/" + str(ds.get("DiffusionBValue", ""))
        groups.setdefault(key, []).append(ds)
    return groups


@pytest.mark.parametrize("kind", ["chest_ct", "prostate_mri", "head_ct", "knee_mri"])
def test_volume_geometry_consistent(kind):
    if kind not in STUDY_KINDS:
        pytest.skip(f"{kind} not built")
    for stack in _by_series(small_study(kind)).values():
        numbers = [int(ds.InstanceNumber) for ds in stack]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        iop = np.array(stack[0].ImageOrientationPatient, dtype=float)
        row, col = iop[:3], iop[3:]
        assert abs(row @ col) < 1e-6 and abs(np.linalg.norm(row) - 1) < 1e-6 and abs(np.linalg.norm(col) - 1) < 1e-6
        normal = np.cross(row, col)
        along = np.array([np.array(ds.ImagePositionPatient, dtype=float) @ normal for ds in stack])
        steps = np.diff(along)
        assert np.allclose(np.abs(steps), float(stack[0].SpacingBetweenSlices if "SpacingBetweenSlices" in stack[0]
                                                 else stack[0].SliceThickness), atol=1e-3)
        assert np.all(np.sign(steps) == np.sign(steps[0]))
        for ds in stack:
            assert list(ds.ImageOrientationPatient) == list(stack[0].ImageOrientationPatient)
            assert list(ds.PixelSpacing) == list(stack[0].PixelSpacing)
            first = np.array(stack[0].ImagePositionPatient, dtype=float)
            in_plane = np.array(ds.ImagePositionPatient, dtype=float) - first
            assert abs(in_plane @ row) < 1e-3 and abs(in_plane @ col) < 1e-3
            if "SliceLocation" in ds:
                assert abs(float(ds.SliceLocation) - np.array(ds.ImagePositionPatient, dtype=float) @ normal) < 1e-3


def test_non_latin_names_round_trip():
    seen = set()
    template = small_study("chest_ct").datasets[0]
    for seed in range(60):
        rng = np.random.default_rng(seed)
        patient = make_patient(rng, dt.date(2024, 5, 1))
        if all(ord(c) < 128 for c in patient.name) or patient.name in seen:
            continue
        seen.add(patient.name)
        ds = copy.deepcopy(template)
        ds.PatientName = patient.name
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        back = pydicom.dcmread(io.BytesIO(buffer.getvalue()))
        assert back.SpecificCharacterSet == "ISO_IR 192"
        assert str(back.PatientName) == patient.name
    scripts = {"Han": "\u4e00", "Greek": "\u0370", "Cyrillic": "\u0400"}
    for script, start in scripts.items():
        assert any(any(start <= c < chr(ord(start) + 0x100 if script != "Han" else 0x9fff) for c in name)
                   for name in seen), f"no {script} name among 60 patients"


def test_same_seed_identical_and_different_seed_differs(any_study):
    kwargs = SMALL_KWARGS.get(any_study.kind, {})
    again = generate_study(any_study.kind, seed=3, **kwargs)
    assert again.truth == any_study.truth
    assert [ds.PixelData for ds in again.datasets] == [ds.PixelData for ds in any_study.datasets]
    assert [ds.SOPInstanceUID for ds in again.datasets] == [ds.SOPInstanceUID for ds in any_study.datasets]
    other = small_study(any_study.kind, seed=4)
    assert other.datasets[0].PixelData != any_study.datasets[0].PixelData
    assert other.truth != any_study.truth


@pytest.mark.slow
def test_dciodvfy_reports_no_errors(any_study, tmp_path):
    if shutil.which("dciodvfy") is None:
        pytest.skip("dciodvfy (Debian dicom3tools) not installed: cannot validate")
    firsts = {}
    for ds in any_study.datasets:
        firsts.setdefault(ds.SeriesInstanceUID, ds)
    for n, ds in enumerate(firsts.values()):
        path = tmp_path / f"{n}.dcm"
        ds.save_as(path, enforce_file_format=True)
        result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, check=False)
        errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")]
        assert not errors, (any_study.kind, ds.SeriesDescription, errors)


def test_a_simulated_day_rarely_gives_two_patients_the_same_name():
    import datetime as dt

    import numpy as np

    from inference.synthetic.headers import make_patient

    women = [make_patient(np.random.default_rng(seed), dt.date(2024, 1, 1), sex="F").name for seed in range(40)]
    assert len(set(women)) >= 30  # a fixed roster of 9 women's names gave at most 9
    assert all("^" in name for name in women)
