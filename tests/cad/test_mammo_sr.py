"""The mammography SR: TID 1500, one image-region group per finding per view, density, valid DICOM."""

import pydicom
import pytest

from inference.cad.mammography.images import four_views
from inference.cad.mammography.sr import sr_build
from inference.dicom_results import result_uids
from inference.synthetic import generate_study
from tests.support.dicom import content_items, dciodvfy_errors


@pytest.fixture(scope="module")
def views():
    return four_views(generate_study("mammography", seed=17, matrix="small", n_lesions=1, density="b").datasets)


def findings(views):
    return [
        {"lesion_id": 1, "type": "mass_spiculated", "breast": "R", "diameter_mm": 14.2, "probability": 0.91,
         "depth_mm": 56.0, "views": [
             {"view": "RCC", "series_instance_uid": views["RCC"].series_instance_uid,
              "sop_instance_uid": views["RCC"].sop_instance_uid, "point_px": [310.5, 220.0], "radius_px": 40.0},
             {"view": "RMLO", "series_instance_uid": views["RMLO"].series_instance_uid,
              "sop_instance_uid": views["RMLO"].sop_instance_uid, "point_px": [300.0, 190.0], "radius_px": 40.0}]},
        {"lesion_id": 2, "type": "calcification_cluster", "breast": "L", "diameter_mm": 6.0, "probability": 0.7,
         "depth_mm": 40.0, "views": [
             {"view": "LCC", "series_instance_uid": views["LCC"].series_instance_uid,
              "sop_instance_uid": views["LCC"].sop_instance_uid, "point_px": [70.0, 200.0], "radius_px": 6.0}]},
    ]


def groups_of(ds):
    return [i for i in content_items(ds) if i.ConceptNameCodeSequence[0].CodeMeaning == "Measurement Group"]


def test_one_group_per_finding_per_view_with_a_circle_on_that_view(views, tmp_path):
    sr = sr_build(views, findings(views), "c", model_name="mammography", model_version="1.0")
    path = tmp_path / "sr.dcm"
    sr.save_as(path, enforce_file_format=True)
    ds = pydicom.dcmread(path)
    assert ds.Modality == "SR" and ds.StudyInstanceUID == views["RCC"].header.StudyInstanceUID
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "1500"

    groups = groups_of(ds)
    assert len(groups) == 4  # 2 views + 1 view + breast composition
    regions = []
    for group in groups[:3]:
        [scoord] = [i for i in content_items(group) if i.ValueType == "SCOORD"]
        image = scoord.ContentSequence[0].ReferencedSOPSequence[0]
        regions.append((image.ReferencedSOPInstanceUID, scoord.GraphicType, [float(v) for v in scoord.GraphicData]))
    assert regions[0] == (views["RCC"].sop_instance_uid, "CIRCLE", [311.0, 220.5, 351.0, 220.5])
    assert regions[1][0] == views["RMLO"].sop_instance_uid and regions[2][0] == views["LCC"].sop_instance_uid

    # The CC and MLO groups of one lesion share a tracking identifier; each group has its own UID
    # (a viewer merges groups of one UID into one mark, on one view).
    def tracking(group):
        return [i.TextValue for i in content_items(group) if i.ValueType == "TEXT"
                and i.ConceptNameCodeSequence[0].CodeMeaning == "Tracking Identifier"][0]
    assert tracking(groups[0]) == tracking(groups[1]) != tracking(groups[2])
    uids = [[i.UID for i in content_items(g) if i.ValueType == "UIDREF"][0] for g in groups]
    assert len(set(uids)) == len(uids)

    def coded(group, name):
        return [i.ConceptCodeSequence[0].CodeMeaning for i in content_items(group)
                if i.ValueType == "CODE" and i.ConceptNameCodeSequence[0].CodeMeaning == name]
    assert coded(groups[0], "Finding") == ["Mammographic breast mass"]
    assert coded(groups[0], "Mass margin") == ["Lesion with spiculated margin (finding)"]
    assert coded(groups[0], "Finding Site") == ["Right breast"]
    assert coded(groups[2], "Finding") == ["Calcification Cluster"]
    assert coded(groups[3], "Breast composition") == ["Heterogeneously dense"]

    numbers = {i.ConceptNameCodeSequence[0].CodeMeaning: float(i.MeasuredValueSequence[0].NumericValue)
               for i in content_items(groups[0]) if i.ValueType == "NUM"}
    assert numbers == {"Diameter": pytest.approx(14.2), "Probability": pytest.approx(0.91)}
    algorithm = [i.TextValue for i in content_items(groups[0]) if i.ValueType == "TEXT"]
    assert "mammography" in algorithm and "1.0" in algorithm

    # All four source images are referenced as evidence.
    evidence = ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence
    referenced = {sop.ReferencedSOPInstanceUID for series in evidence for sop in series.ReferencedSOPSequence}
    assert referenced == {v.sop_instance_uid for v in views.values()}
    assert dciodvfy_errors(path) == []


def test_a_negative_read_is_a_valid_sr_saying_no_mass_with_the_density(views, tmp_path):
    sr = sr_build(views, [], "a", model_name="mammography", model_version="1.0")
    path = tmp_path / "negative.dcm"
    sr.save_as(path, enforce_file_format=True)
    items = content_items(pydicom.dcmread(path))
    coded = {i.ConceptNameCodeSequence[0].CodeMeaning: i.ConceptCodeSequence[0].CodeMeaning for i in items
             if i.ValueType == "CODE"}
    assert coded["Mammographic breast mass"] == "Absent"
    assert coded["Breast composition"] == "Almost entirely fat breast composition (finding)"
    assert dciodvfy_errors(path) == []


def test_sr_uids_are_the_same_for_the_same_study_model_and_version(views):
    a = sr_build(views, findings(views), "c", model_name="mammography", model_version="1.0")
    b = sr_build(views, [], "b", model_name="mammography", model_version="1.0")
    c = sr_build(views, [], "b", model_name="mammography", model_version="1.1")
    expected = result_uids(str(views["RCC"].header.StudyInstanceUID), "mammography", "1.0")["instance"]
    assert a.SOPInstanceUID == b.SOPInstanceUID == expected
    assert a.SeriesInstanceUID == b.SeriesInstanceUID and c.SOPInstanceUID != a.SOPInstanceUID
