"""A DICOM SEG built with highdicom over a synthetic prostate T2 series, as an AI model would store it."""

from __future__ import annotations

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from inference.synthetic import generate_study
from inference.synthetic.prostate_mri import prostate_masks

ALGORITHM = hd.AlgorithmIdentificationSequence(name="SynthProstateSeg", family=codes.cid7162.ArtificialIntelligence,
                                               version="0.1")
# (label, SNOMED code, meaning, colour or None for the viewer's palette)
ZONES = {
    "tz": ("Transition zone", "399384005", "Transition zone of prostate", "turquoise"),
    "pz": ("Peripheral zone", "279706003", "Peripheral zone of prostate", None),
}
LESION = ("Lesion", "86049000", "Malignant neoplasm, primary", "red")


def prostate_t2(seed: int = 3, **kwargs) -> tuple[list[Dataset], dict]:
    """The T2 series of a small synthetic prostate MRI (slices in the generator's order) and the truth."""
    study = generate_study("prostate_mri", seed=seed, **{"t2_matrix": 128, "dwi_matrix": 32, "slices": 24,
                                                          "n_lesions": 1, **kwargs})
    t2_uid = next(s["series_instance_uid"] for s in study.truth["series"] if s["description"].startswith("T2"))
    return [ds for ds in study.datasets if ds.SeriesInstanceUID == t2_uid], study.truth


def segment(number: int, label: str, code_value: str, meaning: str, colour: str | None) -> hd.seg.SegmentDescription:
    return hd.seg.SegmentDescription(
        segment_number=number, segment_label=label,
        segmented_property_category=hd.sr.CodedConcept("91723000", "SCT", "Anatomical structure"),
        segmented_property_type=hd.sr.CodedConcept(code_value, "SCT", meaning),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC, algorithm_identification=ALGORITHM,
        display_color=hd.color.CIELabColor.from_string(colour) if colour else None,
    )


def prostate_seg(t2: list[Dataset], truth: dict, *, source_order: list[Dataset] | None = None,
                 with_lesion: bool = True) -> Dataset:
    """Segments 1 TZ, 2 PZ, 3 the first lesion, as masks on the T2 grid.

    The truth's masks follow the generator's slice order (t2 as generated); `source_order` lets the
    SEG list its source images in another order, to check that frames are matched by UID. The UIDs
    depend on the study only, as the AI's do, so a second SEG of the same study replaces the first.
    """
    masks = prostate_masks(truth, "t2w")
    lesion_key = next(k for k in masks if k.startswith("lesion_"))
    lesion = masks[lesion_key] if with_lesion else np.zeros_like(masks[lesion_key])
    stack = np.stack([masks["tz"], masks["pz"], lesion], axis=-1).astype(np.uint8)
    by_uid = {ds.SOPInstanceUID: k for k, ds in enumerate(t2)}
    order = source_order or t2
    stack = stack[[by_uid[ds.SOPInstanceUID] for ds in order]]
    descriptions = [segment(1, *ZONES["tz"]), segment(2, *ZONES["pz"]), segment(3, *LESION)]
    study_uid = t2[0].StudyInstanceUID
    return hd.seg.Segmentation(
        source_images=order, pixel_array=stack, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions, series_instance_uid=generate_uid(entropy_srcs=[study_uid, "seg-series"]),
        series_number=9902, sop_instance_uid=generate_uid(entropy_srcs=[study_uid, "seg-instance"]), instance_number=1,
        manufacturer="Open triage worklist", manufacturer_model_name="SynthProstateSeg", software_versions="0.1",
        device_serial_number="1", series_description="AI prostate zones",
    )
