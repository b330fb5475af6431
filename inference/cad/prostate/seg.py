"""The zones and lesions as a DICOM Segmentation (BINARY) on the T2 images, stored with the study.

Segments: 1 peripheral zone, 2 transition zone, then one per reported lesion (so the SR can
point at each lesion's own segment). UIDs derive from (study, model, version), so a re-run
replaces the previous SEG instead of adding one.
"""

from __future__ import annotations

import highdicom as hd
import numpy as np
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from inference.dicom_results import MANUFACTURER, result_series_number, store_replacing

SEG_SERIES_NUMBER = 9902
PZ_SEGMENT, TZ_SEGMENT, FIRST_LESION_SEGMENT = 1, 2, 3
# CIELab colours a viewer may use: PZ green, TZ blue, lesions red.
COLOURS = {PZ_SEGMENT: (60.0, -50.0, 40.0), TZ_SEGMENT: (50.0, 10.0, -60.0), "lesion": (55.0, 75.0, 50.0)}


def seg_uids(study_instance_uid: str, model_name: str, model_version: str) -> dict[str, str]:
    key = [study_instance_uid, model_name, model_version]
    return {"series": generate_uid(entropy_srcs=[*key, "seg-series"]),
            "instance": generate_uid(entropy_srcs=[*key, "seg-instance"])}


def lesion_tracking_uid(seg_instance_uid: str, number: int) -> str:
    return generate_uid(entropy_srcs=[seg_instance_uid, "lesion", str(number)])


def algorithm(model_name: str, model_version: str) -> hd.AlgorithmIdentificationSequence:
    return hd.AlgorithmIdentificationSequence(name=model_name, family=codes.cid7162.ArtificialIntelligence,
                                              version=model_version)


def seg_build(case, prediction, *, model_name: str, model_version: str) -> hd.seg.Segmentation:
    """The SEG of a ProstateCase and its ProstatePrediction (reported lesions only)."""
    uids = seg_uids(case.t2.study_instance_uid, model_name, model_version)
    algo = algorithm(model_name, model_version)
    prostate = [codes.SCT.Prostate]
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=PZ_SEGMENT, segment_label="Peripheral zone",
            segmented_property_category=codes.SCT.AnatomicalStructure,
            segmented_property_type=codes.SCT.PeripheralZoneOfTheProstate, algorithm_type="AUTOMATIC",
            algorithm_identification=algo, anatomic_regions=prostate,
            display_color=hd.color.CIELabColor(*COLOURS[PZ_SEGMENT])),
        hd.seg.SegmentDescription(
            segment_number=TZ_SEGMENT, segment_label="Transition zone",
            segmented_property_category=codes.SCT.AnatomicalStructure,
            segmented_property_type=codes.SCT.TransitionZoneOfTheProstate, algorithm_type="AUTOMATIC",
            algorithm_identification=algo, anatomic_regions=prostate,
            display_color=hd.color.CIELabColor(*COLOURS[TZ_SEGMENT])),
    ]
    labels = prediction.zones.labels
    planes = [labels == 1, labels == 2]
    for n, lesion in enumerate(prediction.reported, start=1):
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=FIRST_LESION_SEGMENT + n - 1, segment_label=f"Lesion {n} ({lesion.zone.upper()})",
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Lesion, algorithm_type="AUTOMATIC", algorithm_identification=algo,
            tracking_uid=lesion_tracking_uid(uids["instance"], n), tracking_id=f"Lesion {n}",
            anatomic_regions=[codes.SCT.PeripheralZoneOfTheProstate if lesion.zone == "pz"
                              else codes.SCT.TransitionZoneOfTheProstate],
            display_color=hd.color.CIELabColor(*COLOURS["lesion"])))
        planes.append(lesion.mask)
    pixels = np.stack(planes, axis=-1)  # (frames, rows, columns, segments), frames in T2 source order
    seg = hd.seg.Segmentation(
        source_images=case.t2_datasets, pixel_array=pixels, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions, series_instance_uid=uids["series"],
        series_number=result_series_number(SEG_SERIES_NUMBER, [case.t2.header, case.adc.header, case.high_b.header]),
        sop_instance_uid=uids["instance"], instance_number=1, manufacturer=MANUFACTURER,
        manufacturer_model_name=model_name, software_versions=model_version, device_serial_number="none",
        content_label="PROSTATE", content_description="AI prostate zones and lesions",
        omit_empty_frames=bool(pixels.any()),
    )
    seg.SeriesDescription = f"AI {model_name} {model_version} SEG"[:64]
    return seg


def seg_store(case, prediction, *, model_name: str, model_version: str) -> hd.seg.Segmentation:
    seg = seg_build(case, prediction, model_name=model_name, model_version=model_version)
    store_replacing(seg)
    return seg
