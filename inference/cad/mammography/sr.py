"""Mammography AI results as a TID 1500 Measurement Report in a Comprehensive SR.

One planar-ROI measurement group per finding per view: the mark as a CIRCLE image region on
that view's source image, the lesion's diameter and probability, its finding type (SNOMED CT
"Mammographic breast mass" or "Calcification cluster"), margin for masses, the breast, and a
tracking identifier ("Lesion 1 (...)") shared by the CC and MLO groups of one lesion. Each group
has its own tracking UID: viewers (OHIF) merge groups with one UID into one measurement and would
draw the mark on one view only. Breast composition (density a-d) is a qualitative evaluation of
its own group. The SR carries the study's patient and study attributes. UIDs come from
result_uids, so a re-run of the same model version replaces the SR in Orthanc.
"""

from __future__ import annotations

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from inference.cad.mammography.images import VIEW_NAMES, MammoView
from inference.dicom_results import (
    LOCAL_SCHEME,
    MILLIMETRE,
    NO_UNITS,
    PROBABILITY,
    SR_SERIES_NUMBER,
    evidence_dataset,
    measurement_report_document,
    result_series_number,
    result_uids,
    store_replacing,
)

FINDING_TYPES = {
    "mass_spiculated": codes.SCT.MammographicBreastMass,
    "mass_circumscribed": codes.SCT.MammographicBreastMass,
    "calcification_cluster": codes.SCT.CalcificationCluster,
}
MARGIN = hd.sr.CodedConcept("MARGIN", LOCAL_SCHEME, "Mass margin")
MARGINS = {"mass_spiculated": codes.SCT.LesionWithSpiculatedMargin,
           "mass_circumscribed": codes.SCT.LesionWithCircumscribedMargin}
BREAST_SITES = {"R": codes.SCT.RightBreast, "L": codes.SCT.LeftBreast}
DENSITY_CODES = {
    "a": codes.SCT.AlmostEntirelyFatBreastComposition,
    "b": codes.SCT.ScatteredFibroglandularDensities,
    "c": codes.SCT.HeterogeneouslyDense,
    "d": codes.SCT.ExtremelyDense,
}
DIAMETER = codes.SCT.Diameter
PROCEDURE = codes.SCT.Mammography


def _evidence(views: dict[str, MammoView]) -> list[Dataset]:
    """A header-only copy of each view, so the SR references the four source images."""
    evidence = []
    for n, name in enumerate(VIEW_NAMES):
        header = views[name].header
        if header is None:
            raise ValueError(f"view {name} carries no source header to reference")
        evidence.append(evidence_dataset(header, str(header.SOPInstanceUID), first=n == 0))
    return evidence


def _circle(view: MammoView, mark: dict) -> hd.sr.ImageRegion:
    """The mark as a circle in SCOORD pixel coordinates (the top-left pixel's centre is 0.5, 0.5)."""
    rows, cols = view.pixels.shape
    col, row = (float(v) + 0.5 for v in mark["point_px"])
    col, row = min(max(col, 0.0), float(cols)), min(max(row, 0.0), float(rows))
    edge = min(col + max(float(mark["radius_px"]), 1.0), float(cols))
    if edge <= col:  # a mark on the last column: put the edge point on the other side
        edge = max(col - max(float(mark["radius_px"]), 1.0), 0.0)
    return hd.sr.ImageRegion(
        graphic_type=hd.sr.GraphicTypeValues.CIRCLE, graphic_data=np.array([[col, row], [edge, row]]),
        source_image=hd.sr.SourceImageForRegion(referenced_sop_class_uid=view.sop_class_uid,
                                                referenced_sop_instance_uid=view.sop_instance_uid))


def sr_build(views: dict[str, MammoView], findings: list[dict], density: str, *, model_name: str,
             model_version: str) -> hd.sr.ComprehensiveSR:
    first = views[VIEW_NAMES[0]].header
    uids = result_uids(str(first.StudyInstanceUID), model_name, model_version)
    algorithm = hd.sr.AlgorithmIdentification(name=model_name, version=model_version)
    groups: list = []
    for finding in findings:
        number = int(finding["lesion_id"])
        # One lesion seen in CC and MLO: one tracking identifier pairs the marks; one UID per view.
        identifier = f"Lesion {number} ({finding['type'].replace('_', ' ')})"
        for mark in finding["views"]:
            tracking_uid = generate_uid(entropy_srcs=[uids["instance"], "lesion", str(number), mark["view"]])
            measurements = [
                hd.sr.Measurement(name=DIAMETER, value=round(float(finding["diameter_mm"]), 2), unit=MILLIMETRE,
                                  algorithm_id=algorithm),
                hd.sr.Measurement(name=PROBABILITY, value=round(float(finding["probability"]), 4), unit=NO_UNITS,
                                  algorithm_id=algorithm),
            ]
            evaluations = []
            if finding["type"] in MARGINS:
                evaluations.append(hd.sr.QualitativeEvaluation(name=MARGIN, value=MARGINS[finding["type"]]))
            groups.append(hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=hd.sr.TrackingIdentifier(uid=tracking_uid, identifier=identifier),
                referenced_region=_circle(views[mark["view"]], mark),
                finding_type=FINDING_TYPES[finding["type"]],
                algorithm_id=algorithm,
                finding_sites=[hd.sr.FindingSite(anatomic_location=BREAST_SITES[finding["breast"]])],
                measurements=measurements,
                qualitative_evaluations=evaluations or None,
            ))
    # Breast composition for the case, and (for a negative read) no mass or cluster found.
    groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=generate_uid(entropy_srcs=[uids["instance"], "density"]), identifier="Breast composition"),
        finding_type=codes.SCT.BreastComposition, algorithm_id=algorithm,
        finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.BothBreasts)],
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(name=codes.DCM.BreastComposition,
                                                              value=DENSITY_CODES[density])],
    ))
    if not findings:
        groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(
                uid=generate_uid(entropy_srcs=[uids["instance"], "none"]), identifier="No suspicious finding"),
            finding_type=codes.SCT.MammographicBreastMass, algorithm_id=algorithm,
            finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.BothBreasts)],
            qualitative_evaluations=[hd.sr.QualitativeEvaluation(name=codes.SCT.MammographicBreastMass,
                                                                  value=codes.SCT.Absent)],
        ))
    return measurement_report_document(
        hd.sr.ComprehensiveSR, evidence=_evidence(views), groups=groups, procedure=PROCEDURE, uids=uids,
        model_name=model_name, model_version=model_version,
        series_number=result_series_number(SR_SERIES_NUMBER, [v.header for v in views.values()]))


def sr_store(views: dict[str, MammoView], findings: list[dict], density: str, *, model_name: str,
             model_version: str) -> str:
    """Store the SR in the study in Orthanc, replacing an earlier one; returns its SOPInstanceUID."""
    sr = sr_build(views, findings, density, model_name=model_name, model_version=model_version)
    store_replacing(sr)
    return str(sr.SOPInstanceUID)
