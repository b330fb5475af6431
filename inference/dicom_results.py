"""AI results as standard DICOM: a TID 1500 Measurement Report in a Comprehensive 3D SR.

One measurement group per finding: its centre as a 3-D point in the image's frame of
reference, long-axis diameter in mm, detection probability, type (qualitative evaluation) and
the algorithm's name and version. The SR joins the study in Orthanc; its UIDs are derived
from (study, model, version), so a re-run replaces the previous SR instead of adding one.
"""

from __future__ import annotations

import io

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from inference.cad.base import Prediction
from inference.volumes import Volume
from worklist.orthanc import OrthancUnavailable, orthanc_client, post_instance

SR_SERIES_NUMBER = 9901
MANUFACTURER = "Open triage worklist"
# Private coding scheme for concepts DICOM does not code (a "99" prefix marks a local scheme).
LOCAL_SCHEME = "99TRIAGE"
NODULE_TYPE = hd.sr.CodedConcept("NODTYPE", LOCAL_SCHEME, "Nodule consistency")
TYPE_CODES = {
    "solid": hd.sr.CodedConcept("SOLID", LOCAL_SCHEME, "Solid"),
    "part_solid": hd.sr.CodedConcept("PARTSOLID", LOCAL_SCHEME, "Part-solid"),
    "ground_glass": hd.sr.CodedConcept("112120", "DCM", "Ground glass opacity"),
}
PROBABILITY = hd.sr.CodedConcept("122157", "DCM", "Probability")
NO_UNITS = hd.sr.CodedConcept("1", "UCUM", "no units")
MILLIMETRE = hd.sr.CodedConcept("mm", "UCUM", "millimeter")
CT_CHEST = hd.sr.CodedConcept("24627-2", "LN", "CT Chest")


def result_uids(study_instance_uid: str, model_name: str, model_version: str) -> dict[str, str]:
    """Series, instance and tracking UIDs that stay the same for the same study, model and version."""
    key = [study_instance_uid, model_name, model_version]
    return {
        "series": generate_uid(entropy_srcs=[*key, "sr-series"]),
        "instance": generate_uid(entropy_srcs=[*key, "sr-instance"]),
        "device": generate_uid(entropy_srcs=[model_name, "device"]),
    }


def _evidence(volume: Volume) -> list[Dataset]:
    """One header-only dataset per source slice, so the SR references the whole series."""
    header = volume.header
    if header is None:
        raise ValueError("the volume carries no source header to reference")
    evidence = []
    for uid in volume.sop_instance_uids:
        ds = Dataset()
        for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
                        "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName",
                        "SeriesInstanceUID", "SOPClassUID", "Modality", "SpecificCharacterSet"):
            if keyword in header:
                setattr(ds, keyword, header[keyword].value)
        for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID",
                        "StudyDate", "StudyTime", "ReferringPhysicianName"):
            if keyword not in ds:
                setattr(ds, keyword, "")  # type 2 in the SR: present, possibly empty
        ds.SOPInstanceUID = uid
        evidence.append(ds)
    return evidence


def sr_build(volume: Volume, prediction: Prediction, *, model_name: str, model_version: str) -> hd.sr.Comprehensive3DSR:
    uids = result_uids(volume.study_instance_uid, model_name, model_version)
    algorithm = hd.sr.AlgorithmIdentification(name=model_name, version=model_version)
    groups = []
    for number, finding in enumerate(prediction.findings, start=1):
        point = hd.sr.ImageRegion3D(
            graphic_type=hd.sr.GraphicTypeValues3D.POINT,
            graphic_data=np.array([finding.centre_mm], dtype=float),
            frame_of_reference_uid=volume.frame_of_reference_uid,
        )
        measurements = [
            hd.sr.Measurement(name=codes.SCT.LongAxis, value=round(float(finding.diameter_mm), 2), unit=MILLIMETRE,
                              algorithm_id=algorithm),
            hd.sr.Measurement(name=PROBABILITY, value=round(float(finding.probability), 4), unit=NO_UNITS,
                              algorithm_id=algorithm),
        ]
        if finding.mean_diameter_mm is not None:
            short = max(2 * finding.mean_diameter_mm - finding.diameter_mm, 0.0)
            measurements.insert(1, hd.sr.Measurement(name=codes.SCT.ShortAxis, value=round(float(short), 2),
                                                     unit=MILLIMETRE, algorithm_id=algorithm))
        evaluations = []
        if finding.kind in TYPE_CODES:
            evaluations.append(hd.sr.QualitativeEvaluation(name=NODULE_TYPE, value=TYPE_CODES[finding.kind]))
        groups.append(hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(
                uid=generate_uid(entropy_srcs=[uids["instance"], str(number)]), identifier=f"Nodule {number}"),
            referenced_region=point,
            finding_type=codes.SCT.Nodule,
            algorithm_id=algorithm,
            finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.Lung)],
            measurements=measurements,
            qualitative_evaluations=evaluations or None,
        ))
    if not groups:
        # TID 1500 needs a group: a negative read is stated as "nodule: absent", by this algorithm.
        groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(
                uid=generate_uid(entropy_srcs=[uids["instance"], "none"]), identifier="No nodule"),
            finding_type=codes.SCT.Nodule, algorithm_id=algorithm,
            finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.Lung)],
            qualitative_evaluations=[hd.sr.QualitativeEvaluation(name=codes.SCT.Nodule, value=codes.SCT.Absent)],
        ))
    return measurement_report_document(
        hd.sr.Comprehensive3DSR, evidence=_evidence(volume), groups=groups, procedure=CT_CHEST, uids=uids,
        model_name=model_name, model_version=model_version)


def measurement_report_document(sr_class, *, evidence: list, groups: list, procedure, uids: dict[str, str],
                                model_name: str, model_version: str, series_number: int = SR_SERIES_NUMBER):
    """The TID 1500 Measurement Report every built-in model writes: observed by the model as a
    device, with UIDs from `result_uids`, so a re-run of the same version replaces it."""
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=uids["device"], name=model_name, manufacturer_name=MANUFACTURER, model_name=model_version),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=procedure,
        imaging_measurements=groups,
    )
    sr = sr_class(
        evidence=evidence, content=report[0], series_instance_uid=uids["series"],
        series_number=series_number, sop_instance_uid=uids["instance"], instance_number=1,
        manufacturer=MANUFACTURER, is_complete=True, is_final=False, is_verified=False,
    )
    sr.SeriesDescription = f"AI {model_name} {model_version}"[:64]
    return sr


def sr_bytes(sr: Dataset) -> bytes:
    buffer = io.BytesIO()
    sr.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def store_replacing(ds: Dataset) -> None:
    """Post a result instance to Orthanc, replacing an earlier one with the same UID.

    Orthanc keeps the first copy of a SOP instance (OverwriteInstances is off), so an instance
    with the same UID (an earlier run of the same model version) is deleted and stored again.
    """
    payload = sr_bytes(ds)
    answer = post_instance(payload)
    if answer.get("Status") == "AlreadyStored":
        try:
            orthanc_client().delete(f"instances/{answer['ID']}")
        except Exception as exc:  # noqa: BLE001 - the client raises its own types; the task retries
            raise OrthancUnavailable(f"could not replace the previous {ds.get('Modality', 'result')}: {exc}") from exc
        post_instance(payload)


def sr_store(volume: Volume, prediction: Prediction, *, model_name: str, model_version: str) -> str:
    """Write the SR into the study in Orthanc, replacing an earlier one; returns its SOPInstanceUID."""
    sr = sr_build(volume, prediction, model_name=model_name, model_version=model_version)
    store_replacing(sr)
    return str(sr.SOPInstanceUID)
