"""AI results as standard DICOM: a TID 1500 Measurement Report in a Comprehensive 3D SR.

One planar-ROI measurement group (TID 1410) per finding: a 2-D SCOORD on the axial image through
the nodule (its long axis as a line where the measurement found the end points, else a circle of
the long-axis diameter round the centre), so that an ordinary image display draws it (IHE AI
Results); its centre as a 3-D point in the frame of reference; long and short axis in mm,
detection probability, type (qualitative evaluation) and the algorithm's name and version. The
SR carries the source study's patient and study attributes (StudyDescription included) and a
series number after the images'. It joins the study in Orthanc; its UIDs are derived from
(study, model, version), so a re-run replaces the previous SR instead of adding one.
"""

from __future__ import annotations

import io

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from archive.orthanc import OrthancUnavailable, orthanc_client, post_instance
from archive.volumes import Volume
from inference.cad.base import Finding, Prediction

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
CENTRE = codes.DCM.Center


def result_uids(study_instance_uid: str, model_name: str, model_version: str) -> dict[str, str]:
    """Series, instance and tracking UIDs that stay the same for the same study, model and version."""
    key = [study_instance_uid, model_name, model_version]
    return {
        "series": generate_uid(entropy_srcs=[*key, "sr-series"]),
        "instance": generate_uid(entropy_srcs=[*key, "sr-instance"]),
        "device": generate_uid(entropy_srcs=[model_name, "device"]),
    }


EVIDENCE_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
                     "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName", "SeriesInstanceUID",
                     "SOPClassUID", "Modality", "SpecificCharacterSet")
TYPE_2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID", "StudyDate",
          "StudyTime", "ReferringPhysicianName")


def evidence_dataset(header: Dataset, sop_instance_uid: str, *, first: bool) -> Dataset:
    """A header-only dataset standing for one source image in an SR's evidence.

    highdicom copies the patient and study modules from the first one, so that one keeps every
    attribute of the source header (StudyDescription, IssuerOfPatientID, PatientAge, ...); the
    others carry only what a reference needs."""
    ds = Dataset()
    for element in header if first else (header[k] for k in EVIDENCE_KEYWORDS if k in header):
        if element.keyword not in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
            ds.add(element)
    for keyword in TYPE_2:
        if keyword not in ds:
            setattr(ds, keyword, "")  # type 2 in the SR: present, possibly empty
    ds.SOPInstanceUID = sop_instance_uid
    return ds


def result_series_number(base: int, source_headers) -> int:
    """`base` (99xx), or just after the source images' series if they are numbered higher."""
    numbers = [int(h.SeriesNumber) for h in source_headers if h is not None and h.get("SeriesNumber") is not None]
    return max([base, *(n + 1 for n in numbers)])


def _evidence(volume: Volume) -> list[Dataset]:
    """One header-only dataset per source slice, so the SR references the whole series."""
    header = volume.header
    if header is None:
        raise ValueError("the volume carries no source header to reference")
    return [evidence_dataset(header, uid, first=n == 0) for n, uid in enumerate(volume.sop_instance_uids)]


def _pixel_point(volume: Volume, point_mm) -> tuple[float, float, float]:
    """(slice index, column, row) of a patient point, columns and rows in SCOORD pixel coordinates
    (PS3.3 C.18.6.1.2: the top left corner of the top left pixel is 0, 0, so its centre is 0.5, 0.5)."""
    k, j, i = volume.lps_to_index(point_mm)
    return float(k), float(i) + 0.5, float(j) + 0.5


def nodule_region(volume: Volume, finding: Finding) -> hd.sr.ImageRegion:
    """The finding on the axial image it was measured on: the long axis as a line when the
    measurement gave its end points (lung finding contract), else a circle of the long-axis
    diameter round the centre on the nearest slice."""
    rows, columns = volume.hu.shape[1:]
    endpoints = getattr(finding, "long_axis_endpoints_mm", None)
    if endpoints is not None and len(endpoints) == 2:
        (k1, x1, y1), (k2, x2, y2) = (_pixel_point(volume, p) for p in endpoints)
        k = (k1 + k2) / 2
        graphic_type, data = hd.sr.GraphicTypeValues.POLYLINE, [[x1, y1], [x2, y2]]
    else:
        k, x, y = _pixel_point(volume, finding.centre_mm)
        radius = max(float(finding.diameter_mm) / 2 / volume.spacing[2], 1.0)
        edge = x + radius if x + radius <= columns else x - radius
        graphic_type, data = hd.sr.GraphicTypeValues.CIRCLE, [[x, y], [edge, y]]
    data = np.clip(np.array(data, dtype=float), 0.0, [float(columns), float(rows)])
    index = min(max(int(round(k)), 0), len(volume.sop_instance_uids) - 1)
    return hd.sr.ImageRegion(
        graphic_type=graphic_type, graphic_data=data,
        source_image=hd.sr.SourceImageForRegion(referenced_sop_class_uid=volume.sop_class_uid,
                                                referenced_sop_instance_uid=volume.sop_instance_uids[index]))


def _centre_point(volume: Volume, finding: Finding) -> hd.sr.Scoord3DContentItem:
    return hd.sr.Scoord3DContentItem(
        name=CENTRE, graphic_type=hd.sr.GraphicTypeValues3D.POINT,
        graphic_data=np.array([finding.centre_mm], dtype=float),
        frame_of_reference_uid=volume.frame_of_reference_uid, relationship_type=hd.sr.RelationshipTypeValues.CONTAINS)


def sr_build(volume: Volume, prediction: Prediction, *, model_name: str, model_version: str) -> hd.sr.Comprehensive3DSR:
    uids = result_uids(volume.study_instance_uid, model_name, model_version)
    algorithm = hd.sr.AlgorithmIdentification(name=model_name, version=model_version)
    groups = []
    for number, finding in enumerate(prediction.findings, start=1):
        measurements = [
            hd.sr.Measurement(name=codes.SCT.LongAxis, value=round(float(finding.diameter_mm), 2), unit=MILLIMETRE,
                              algorithm_id=algorithm),
            hd.sr.Measurement(name=PROBABILITY, value=round(float(finding.probability), 4), unit=NO_UNITS,
                              algorithm_id=algorithm),
        ]
        short = getattr(finding, "short_axis_mm", None)
        if short is None and finding.mean_diameter_mm is not None:
            short = max(2 * finding.mean_diameter_mm - finding.diameter_mm, 0.0)
        if short is not None:
            measurements.insert(1, hd.sr.Measurement(name=codes.SCT.ShortAxis, value=round(float(short), 2),
                                                     unit=MILLIMETRE, algorithm_id=algorithm))
        evaluations = []
        if finding.kind in TYPE_CODES:
            evaluations.append(hd.sr.QualitativeEvaluation(name=NODULE_TYPE, value=TYPE_CODES[finding.kind]))
        group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(
                uid=generate_uid(entropy_srcs=[uids["instance"], str(number)]), identifier=f"Nodule {number}"),
            referenced_region=nodule_region(volume, finding),
            finding_type=codes.SCT.Nodule,
            algorithm_id=algorithm,
            finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.Lung)],
            measurements=measurements,
            qualitative_evaluations=evaluations or None,
        )
        # The centre in patient coordinates too, after the image region (a viewer draws the first
        # spatial coordinate of a TID 1410 group; this one survives any re-slicing of the volume).
        group[0].ContentSequence.append(_centre_point(volume, finding))
        groups.append(group)
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
        model_name=model_name, model_version=model_version,
        series_number=result_series_number(SR_SERIES_NUMBER, [volume.header]))


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
