"""The prostate SEG and SR built from a generated case pass dciodvfy and say what was measured."""

from __future__ import annotations

import highdicom as hd
import numpy as np
import pydicom
import pytest

from inference.cad.prostate.analysis import GlandFrame, Lesion, Zones, location_text
from inference.cad.prostate.model import ProstatePrediction, case_from_datasets, headline
from inference.cad.prostate.registration import Grid
from inference.cad.prostate.seg import FIRST_LESION_SEGMENT, seg_build, seg_uids
from inference.cad.prostate.sr import sr_build
from inference.synthetic.prostate_mri import generate_prostate_mri, prostate_masks
from tests.support.dicom import content_items, dciodvfy_errors


def _truth_prediction(case, truth, threshold=0.5) -> ProstatePrediction:
    """A prediction equal to the truth masks, so the writers are tested without the network."""
    masks = prostate_masks(truth, "t2w")
    labels = np.zeros(masks["gland"].shape, np.uint8)
    labels[masks["pz"]], labels[masks["tz"]] = 1, 2
    zones = Zones(labels=labels, grid=Grid.of(case.t2))
    frame = GlandFrame.of(zones)
    lesions = [Lesion(centre_mm=tuple(t["center_mm"]), diameter_mm=t["diameter_mm"], zone=t["zone"],
                      location=location_text(t["center_mm"], t["zone"], frame), probability=0.9 - 0.1 * n,
                      volume_ml=float(masks[f"lesion_{t['id']}"].sum() * zones.grid.voxel_ml),
                      mask=masks[f"lesion_{t['id']}"]) for n, t in enumerate(truth["lesions"])]
    return ProstatePrediction(zones=zones, lesions=lesions, threshold=threshold, psa_ng_ml=case.psa_ng_ml)


@pytest.fixture(scope="module")
def generated():
    seed = next(s for s in range(40, 80) if generate_prostate_mri(s, t2_matrix=96, n_lesions=2)[1]["psa_ng_ml"])
    datasets, truth, _ = generate_prostate_mri(seed, t2_matrix=128, n_lesions=2)
    assert len(truth["lesions"]) == 2
    case = case_from_datasets(datasets)
    return case, truth


def test_seg_has_zone_and_lesion_segments_on_the_t2_images_and_is_valid(generated, tmp_path):
    case, truth = generated
    prediction = _truth_prediction(case, truth)
    seg = seg_build(case, prediction, model_name="prostate", model_version="1.0")
    path = tmp_path / "seg.dcm"
    seg.save_as(path, enforce_file_format=True)
    assert dciodvfy_errors(path) == []
    ds = pydicom.dcmread(path)
    assert ds.Modality == "SEG" and ds.SegmentationType == "BINARY"
    assert ds.StudyInstanceUID == case.t2.study_instance_uid
    assert ds.SOPInstanceUID == seg_uids(case.t2.study_instance_uid, "prostate", "1.0")["instance"]
    types = [s.SegmentedPropertyTypeCodeSequence[0].CodeMeaning for s in ds.SegmentSequence]
    assert types == ["Peripheral zone of the prostate", "Transition zone of the prostate", "Lesion", "Lesion"]
    assert ds.SegmentSequence[0].SegmentAlgorithmType == "AUTOMATIC"
    assert ds.SegmentSequence[0].SegmentationAlgorithmIdentificationSequence[0].AlgorithmName == "prostate"
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == case.t2.series_instance_uid
    # The PZ frames hold as many pixels as the PZ mask (BINARY, frames only where the segment has pixels).
    hd_seg = hd.seg.Segmentation.from_dataset(ds)
    pz = hd_seg.get_pixels_by_source_instance(case.t2.sop_instance_uids, segment_numbers=[1],
                                              assert_missing_frames_are_empty=True)
    assert int(pz.sum()) == int((prediction.zones.labels == 1).sum())
    lesion = hd_seg.get_pixels_by_source_instance(case.t2.sop_instance_uids, segment_numbers=[FIRST_LESION_SEGMENT],
                                                  assert_missing_frames_are_empty=True)
    assert int(lesion.sum()) == int(prediction.reported[0].mask.sum())


def test_sr_has_volumes_psa_density_and_lesions_pointing_at_their_segments(generated, tmp_path):
    case, truth = generated
    prediction = _truth_prediction(case, truth)
    seg = seg_build(case, prediction, model_name="prostate", model_version="1.0")
    sr = sr_build(case, prediction, seg, model_name="prostate", model_version="1.0")
    path = tmp_path / "sr.dcm"
    sr.save_as(path, enforce_file_format=True)
    assert dciodvfy_errors(path) == []
    ds = pydicom.dcmread(path)
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    items = content_items(ds)
    numbers = {}
    for item in items:
        if item.ValueType == "NUM":
            numbers.setdefault(item.ConceptNameCodeSequence[0].CodeMeaning, []).append(
                float(item.MeasuredValueSequence[0].NumericValue))
    assert numbers["Volume"][0] == pytest.approx(prediction.gland_ml, abs=0.01)
    assert numbers["Volume"][1:3] == pytest.approx([prediction.zones.volume_ml(1), prediction.zones.volume_ml(2)],
                                                   abs=0.01)
    assert numbers["PSA density"] == [pytest.approx(prediction.psa_density, abs=1e-3)]
    assert sorted(numbers["Long axis"]) == pytest.approx(sorted(t["diameter_mm"] for t in truth["lesions"]), abs=0.01)
    assert numbers["Probability"] == pytest.approx([0.9, 0.8])
    segments = [item for item in items if item.ValueType == "IMAGE" and "ReferencedSegmentNumber"
                in item.ReferencedSOPSequence[0]]
    assert [s.ReferencedSOPSequence[0].ReferencedSegmentNumber for s in segments] == [1, 2, 3, 4]
    assert {s.ReferencedSOPSequence[0].ReferencedSOPInstanceUID for s in segments} == {seg.SOPInstanceUID}


def test_a_case_without_reported_lesion_is_valid_and_says_so(generated, tmp_path):
    case, truth = generated
    prediction = _truth_prediction(case, truth, threshold=0.95)  # both lesions below the threshold
    assert prediction.reported == [] and prediction.suspicion == pytest.approx(0.9)
    seg = seg_build(case, prediction, model_name="prostate", model_version="1.0")
    sr = sr_build(case, prediction, seg, model_name="prostate", model_version="1.0")
    for name, ds in (("seg", seg), ("sr", sr)):
        path = tmp_path / f"{name}.dcm"
        ds.save_as(path, enforce_file_format=True)
        assert dciodvfy_errors(path) == []
    assert len(seg.SegmentSequence) == 2
    assert headline(prediction).endswith("· no suspicious lesion")
    assert headline(prediction).startswith(f"Gland {prediction.gland_ml:.0f} mL, PSA density")
