"""The prostate measurements as a TID 1500 Measurement Report (Comprehensive 3D SR).

Groups: the gland (volume, and PSA and PSA density where the request gave a PSA); PZ and TZ,
each a volumetric ROI pointing at its SEG segment, with its volume; one per reported lesion,
pointing at the lesion's segment, with long axis, volume and the model's suspicion. No PI-RADS
score: the reader assigns it. UIDs derive from (study, model, version), as for the SEG.
"""

from __future__ import annotations

import highdicom as hd
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from inference.cad.prostate.seg import FIRST_LESION_SEGMENT, PZ_SEGMENT, TZ_SEGMENT
from inference.dicom_results import (
    LOCAL_SCHEME,
    MILLIMETRE,
    NO_UNITS,
    PROBABILITY,
    measurement_report_document,
    result_series_number,
    result_uids,
    store_replacing,
)

SR_SERIES_NUMBER = 9903
MILLILITRE = hd.sr.CodedConcept("ml", "UCUM", "milliliter")
NG_PER_ML = hd.sr.CodedConcept("ng/mL", "UCUM", "nanogram per milliliter")
NG_PER_ML_PER_ML = hd.sr.CodedConcept("ng/mL/mL", "UCUM", "nanogram per milliliter per milliliter")
PSA = hd.sr.CodedConcept("PSA", LOCAL_SCHEME, "Prostate specific antigen (from the request)")
PSA_DENSITY = hd.sr.CodedConcept("PSAD", LOCAL_SCHEME, "PSA density")
MP_MRI_PROSTATE = hd.sr.CodedConcept("719178004", "SCT", "Multiparametric MRI of prostate")
ZONE_SITE = {"pz": codes.SCT.PeripheralZoneOfTheProstate, "tz": codes.SCT.TransitionZoneOfTheProstate}


def _tracking(root: str, key: str, text: str) -> hd.sr.TrackingIdentifier:
    return hd.sr.TrackingIdentifier(uid=generate_uid(entropy_srcs=[root, key]), identifier=text[:64])


def sr_build(case, prediction, seg, *, model_name: str, model_version: str) -> hd.sr.Comprehensive3DSR:
    """The SR of a ProstateCase and its ProstatePrediction; `seg` is the SEG its ROIs point at."""
    uids = result_uids(case.t2.study_instance_uid, model_name, model_version)
    algo = hd.sr.AlgorithmIdentification(name=model_name, version=model_version)
    source_series = hd.sr.SourceSeriesForSegmentation(case.t2.series_instance_uid)

    def measure(name, value, unit):
        return hd.sr.Measurement(name=name, value=round(float(value), 3), unit=unit, algorithm_id=algo)

    def segment(number: int) -> hd.sr.ReferencedSegment:
        return hd.sr.ReferencedSegment(sop_class_uid=seg.SOPClassUID, sop_instance_uid=seg.SOPInstanceUID,
                                       segment_number=number, source_series=source_series)

    gland = [measure(codes.SCT.Volume, prediction.gland_ml, MILLILITRE)]
    if prediction.psa_ng_ml is not None:
        gland.append(measure(PSA, prediction.psa_ng_ml, NG_PER_ML))
    if prediction.psa_density is not None:
        gland.append(measure(PSA_DENSITY, prediction.psa_density, NG_PER_ML_PER_ML))
    groups = [hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=_tracking(uids["instance"], "gland", "Prostate gland"), finding_type=codes.SCT.Prostate,
        algorithm_id=algo, finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.Prostate)],
        measurements=gland)]
    for key, number, label in (("pz", PZ_SEGMENT, "Peripheral zone"), ("tz", TZ_SEGMENT, "Transition zone")):
        groups.append(hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=_tracking(uids["instance"], key, label), referenced_segment=segment(number),
            finding_type=ZONE_SITE[key], algorithm_id=algo,
            finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.Prostate)],
            measurements=[measure(codes.SCT.Volume, prediction.zones.volume_ml(number), MILLILITRE)]))
    for n, lesion in enumerate(prediction.reported, start=1):
        groups.append(hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=_tracking(uids["instance"], f"lesion-{n}", f"Lesion {n}: {lesion.location}"),
            referenced_segment=segment(FIRST_LESION_SEGMENT + n - 1), finding_type=codes.SCT.Lesion,
            algorithm_id=algo, finding_sites=[hd.sr.FindingSite(anatomic_location=ZONE_SITE[lesion.zone])],
            measurements=[measure(codes.SCT.LongAxis, lesion.diameter_mm, MILLIMETRE),
                          measure(codes.SCT.Volume, lesion.volume_ml, MILLILITRE),
                          measure(PROBABILITY, lesion.probability, NO_UNITS)]))
    return measurement_report_document(
        hd.sr.Comprehensive3DSR, evidence=[*case.t2_datasets, seg], groups=groups, procedure=MP_MRI_PROSTATE,
        uids=uids, model_name=model_name, model_version=model_version,
        series_number=result_series_number(
            SR_SERIES_NUMBER, [case.t2.header, case.adc.header, case.high_b.header, seg]))


def sr_store(case, prediction, seg, *, model_name: str, model_version: str) -> str:
    sr = sr_build(case, prediction, seg, model_name=model_name, model_version=model_version)
    store_replacing(sr)
    return str(sr.SOPInstanceUID)
