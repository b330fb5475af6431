"""AI results as an ordinary image display (OHIF) reads them: marks it can draw, the study it belongs to.

IHE AI Results: a measurement a viewer can draw references an image and carries 2-D coordinates on
it. OHIF draws the first SCOORD of a TID 1410 group on the referenced image, lists the group under
its tracking identifier, and files the SR under the study by its study attributes.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from archive.volumes import volume_from_datasets
from inference.cad.base import Finding, Prediction
from inference.cad.mammography.images import four_views
from inference.cad.mammography.sr import sr_build as mammo_sr_build
from inference.dicom_results import sr_build
from inference.synthetic import generate_study
from tests.cad.test_mammo_sr import findings as mammo_findings
from tests.cad.test_prostate_dicom import _truth_prediction, generated  # noqa: F401 (module fixture)
from tests.support.dicom import content_items, dciodvfy_errors

STUDY_LEVEL = ("StudyInstanceUID", "StudyDescription", "AccessionNumber", "ReferringPhysicianName", "StudyID",
               "StudyDate", "PatientName", "PatientID", "PatientBirthDate", "PatientSex")


@pytest.fixture(scope="module")
def chest():
    study = generate_study("chest_ct", seed=5, matrix=64, slices=24)
    return study.datasets, volume_from_datasets(study.datasets)


def saved(ds, tmp_path, name="result.dcm"):
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    assert dciodvfy_errors(path) == []
    return pydicom.dcmread(path)


def groups_of(ds):
    return [i for i in content_items(ds) if i.ConceptNameCodeSequence[0].CodeMeaning == "Measurement Group"]


def first_scoord(group):
    """What OHIF draws: the first SCOORD or SCOORD3D directly in the group."""
    return next(i for i in group.ContentSequence if i.ValueType in ("SCOORD", "SCOORD3D"))


def assert_study_level_attributes(result, source):
    for keyword in STUDY_LEVEL:
        assert str(result.get(keyword, "")) == str(source.get(keyword, "")), keyword
    assert source.StudyDescription  # the generator writes one: the check above means something
    assert int(result.SeriesNumber) > int(source.SeriesNumber)


def test_a_nodule_without_end_points_is_a_circle_on_the_axial_image_through_its_centre(chest, tmp_path):
    datasets, volume = chest
    centre = volume.index_to_lps([10.2, 30.0, 20.0])  # slice 10, row 30, column 20
    finding = Finding(centre_mm=tuple(centre), diameter_mm=20.0, kind="solid", probability=0.9, mean_diameter_mm=18.0)
    ds = saved(sr_build(volume, Prediction(findings=[finding], suspicion=0.9), model_name="lung_nodule",
                        model_version="1.1"), tmp_path)

    [group] = groups_of(ds)
    scoord = first_scoord(group)
    assert scoord.ValueType == "SCOORD" and scoord.GraphicType == "CIRCLE"
    image = scoord.ContentSequence[0].ReferencedSOPSequence[0]
    assert image.ReferencedSOPInstanceUID == volume.sop_instance_uids[10]
    radius_px = 10.0 / volume.spacing[2]
    assert [float(v) for v in scoord.GraphicData] == pytest.approx([20.5, 30.5, 20.5 + radius_px, 30.5])
    # The centre in patient coordinates stays, after the image region.
    [centre_item] = [i for i in group.ContentSequence if i.ValueType == "SCOORD3D"]
    assert centre_item.GraphicType == "POINT"
    assert [float(v) for v in centre_item.GraphicData] == pytest.approx(list(centre), abs=1e-3)
    assert centre_item.ReferencedFrameOfReferenceUID == volume.frame_of_reference_uid
    axes = {i.ConceptNameCodeSequence[0].CodeMeaning: float(i.MeasuredValueSequence[0].NumericValue)
            for i in content_items(group) if i.ValueType == "NUM"}
    assert axes["Long axis"] == pytest.approx(20.0) and axes["Short axis"] == pytest.approx(16.0)
    assert_study_level_attributes(ds, datasets[0])


def test_a_nodule_with_measured_end_points_is_its_long_axis_line(chest, tmp_path):
    _, volume = chest
    ends = volume.index_to_lps([[12.0, 30.0, 18.0], [12.0, 34.0, 26.0]])
    finding = Finding(centre_mm=tuple(ends.mean(axis=0)), diameter_mm=float(np.linalg.norm(ends[1] - ends[0])),
                      kind="part_solid", probability=0.8, mean_diameter_mm=6.0, solid_mm=3.0)
    # The lung finding contract (docs/interfaces): end points and short axis from the measurement.
    finding.long_axis_endpoints_mm = ends.tolist()
    finding.short_axis_mm = 4.5
    ds = saved(sr_build(volume, Prediction(findings=[finding], suspicion=0.8), model_name="lung_nodule",
                        model_version="1.1"), tmp_path)

    scoord = first_scoord(groups_of(ds)[0])
    assert scoord.GraphicType == "POLYLINE"
    assert [float(v) for v in scoord.GraphicData] == pytest.approx([18.5, 30.5, 26.5, 34.5])
    assert scoord.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == volume.sop_instance_uids[12]
    short = [float(i.MeasuredValueSequence[0].NumericValue) for i in content_items(groups_of(ds)[0])
             if i.ValueType == "NUM" and i.ConceptNameCodeSequence[0].CodeMeaning == "Short axis"]
    assert short == [4.5]


def test_each_mammography_mark_is_its_own_measurement_on_its_own_view(tmp_path):
    views = four_views(generate_study("mammography", seed=17, matrix="small", n_lesions=1, density="b").datasets)
    ds = saved(mammo_sr_build(views, mammo_findings(views), "c", model_name="mammography", model_version="1.0"),
               tmp_path)
    marks = [g for g in groups_of(ds) if any(i.ValueType == "SCOORD" for i in g.ContentSequence)]
    drawn = {(first_scoord(g).ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID,
              next(i.UID for i in g.ContentSequence if i.ValueType == "UIDREF")) for g in marks}
    assert {sop for sop, _ in drawn} == {views[v].sop_instance_uid for v in ("RCC", "RMLO", "LCC")}
    assert len({uid for _, uid in drawn}) == 3  # one tracking UID per mark: none merged away
    assert_study_level_attributes(ds, views["RCC"].header)


def test_the_prostate_seg_and_sr_belong_to_the_study_and_follow_its_series(generated, tmp_path):  # noqa: F811
    from inference.cad.prostate.seg import seg_build
    from inference.cad.prostate.sr import sr_build as prostate_sr_build

    case, truth = generated
    prediction = _truth_prediction(case, truth)
    seg = seg_build(case, prediction, model_name="prostate", model_version="1.0")
    sr = prostate_sr_build(case, prediction, seg, model_name="prostate", model_version="1.0")
    seg_ds, sr_ds = saved(seg, tmp_path, "seg.dcm"), saved(sr, tmp_path, "sr.dcm")
    source = case.t2_datasets[0]
    assert_study_level_attributes(seg_ds, source)
    assert_study_level_attributes(sr_ds, source)
    images = max(int(h.SeriesNumber) for h in (case.t2.header, case.adc.header, case.high_b.header))
    assert images < int(seg_ds.SeriesNumber) < int(sr_ds.SeriesNumber)
