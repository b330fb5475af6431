"""The DICOM SR: one TID 1500 measurement group per finding, in mm, with the algorithm named."""

import pydicom
import pytest
from pydicom.sr.codedict import codes

from archive.volumes import volume_from_datasets
from inference.cad.base import Finding, Prediction
from inference.dicom_results import result_uids, sr_build
from inference.synthetic import generate_study
from tests.support.dicom import content_items, dciodvfy_errors


@pytest.fixture(scope="module")
def volume():
    study = generate_study("chest_ct", seed=5, matrix=64, slices=24)
    return volume_from_datasets(study.datasets)


def findings():
    return [
        Finding(centre_mm=(10.0, -20.0, -80.0), diameter_mm=12.4, kind="solid", probability=0.93,
                mean_diameter_mm=11.2),
        Finding(centre_mm=(-60.0, 5.0, -120.0), diameter_mm=7.1, kind="part_solid", probability=0.71,
                mean_diameter_mm=6.6, solid_mm=3.1),
    ]


def test_sr_has_one_group_per_finding_with_units_type_and_algorithm(volume, tmp_path):
    sr = sr_build(volume, Prediction(findings=findings(), suspicion=0.93), model_name="lung_nodule",
                  model_version="1.0")
    path = tmp_path / "sr.dcm"
    sr.save_as(path, enforce_file_format=True)
    ds = pydicom.dcmread(path)

    assert ds.Modality == "SR" and ds.StudyInstanceUID == volume.study_instance_uid
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    groups = [i for i in content_items(ds) if i.ConceptNameCodeSequence[0].CodeMeaning == "Measurement Group"]
    assert len(groups) == 2
    first = content_items(groups[0])
    long_axis = [i for i in first if i.ValueType == "NUM" and i.ConceptNameCodeSequence[0].CodeValue
                 == codes.SCT.LongAxis.value]
    value = long_axis[0].MeasuredValueSequence[0]
    assert float(value.NumericValue) == pytest.approx(12.4)
    assert value.MeasurementUnitsCodeSequence[0].CodeValue == "mm"
    assert value.MeasurementUnitsCodeSequence[0].CodingSchemeDesignator == "UCUM"
    probability = [i for i in first
                   if i.ValueType == "NUM" and i.ConceptNameCodeSequence[0].CodeMeaning == "Probability"]
    assert float(probability[0].MeasuredValueSequence[0].NumericValue) == pytest.approx(0.93)
    point = [i for i in first if i.ValueType == "SCOORD3D"][0]
    assert point.GraphicType == "POINT" and [float(v) for v in point.GraphicData] == [10.0, -20.0, -80.0]
    assert point.ReferencedFrameOfReferenceUID == volume.frame_of_reference_uid
    types = [i.ConceptCodeSequence[0].CodeMeaning for i in content_items(groups[1]) if i.ValueType == "CODE"
             and i.ConceptNameCodeSequence[0].CodeMeaning == "Nodule consistency"]
    assert types == ["Part-solid"]
    algorithm = [i.TextValue for i in first if i.ValueType == "TEXT"
                 and i.ConceptNameCodeSequence[0].CodeMeaning in ("Algorithm Name", "Algorithm Version")]
    assert "lung_nodule" in algorithm and "1.0" in algorithm
    # The source series is referenced, every slice of it.
    evidence = ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert evidence.SeriesInstanceUID == volume.series_instance_uid
    assert len(evidence.ReferencedSOPSequence) == len(volume.sop_instance_uids)

    assert dciodvfy_errors(path) == []


def test_sr_uids_are_the_same_for_the_same_study_model_and_version(volume):
    a = sr_build(volume, Prediction(findings=findings(), suspicion=0.9), model_name="lung_nodule", model_version="1.0")
    b = sr_build(volume, Prediction(findings=[], suspicion=0.1), model_name="lung_nodule", model_version="1.0")
    c = sr_build(volume, Prediction(findings=[], suspicion=0.1), model_name="lung_nodule", model_version="1.1")
    expected = result_uids(volume.study_instance_uid, "lung_nodule", "1.0")["instance"]
    assert a.SOPInstanceUID == b.SOPInstanceUID == expected
    assert a.SeriesInstanceUID == b.SeriesInstanceUID
    assert c.SOPInstanceUID != a.SOPInstanceUID


def test_a_negative_read_is_a_valid_sr_saying_no_nodule(volume, tmp_path):
    sr = sr_build(volume, Prediction(findings=[], suspicion=0.05), model_name="lung_nodule", model_version="1.0")
    path = tmp_path / "negative.dcm"
    sr.save_as(path, enforce_file_format=True)
    items = content_items(pydicom.dcmread(path))
    assert [i.ConceptCodeSequence[0].CodeMeaning for i in items if i.ValueType == "CODE"
            and i.ConceptNameCodeSequence[0].CodeMeaning == "Nodule"] == ["Absent"]
    assert dciodvfy_errors(path) == []
