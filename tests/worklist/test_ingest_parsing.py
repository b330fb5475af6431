"""Reading Orthanc's JSON into worklist fields: complete, tolerant of missing tags, non-ASCII intact."""

from datetime import UTC, datetime

from worklist.ingest import parse_dicom_datetime, parse_study_metadata


def orthanc_documents(**tag_overrides):
    study = {
        "ID": "orthanc-study-1",
        "LastUpdate": "20261125T101700",
        "MainDicomTags": {"StudyInstanceUID": "1.2.3", "AccessionNumber": "ACC9", "StudyDate": "20261125",
                          "StudyTime": "101500.123", "StudyDescription": "CT CHEST",
                          "ReferringPhysicianName": "Doe^Jane"},
        "PatientMainDicomTags": {"PatientID": "P1", "PatientName": "Ελένη^Παπαδοπούλου",
                                 "PatientBirthDate": "19590230", "PatientSex": "F"},
    }
    series = [
        {"ID": "s1", "Instances": ["a", "b", "c"],
         "MainDicomTags": {"SeriesInstanceUID": "1.2.3.1", "Modality": "CT", "SeriesNumber": "2",
                           "SeriesDescription": "Axial", "BodyPartExamined": "CHEST"}},
        {"ID": "s2", "Instances": ["d"],
         "MainDicomTags": {"SeriesInstanceUID": "1.2.3.2", "Modality": "SR", "SeriesNumber": "900"}},
    ]
    tags = {"RequestedProcedurePriority": "stat", "CurrentPatientLocation": "EMERGENCY DEPT",
            "BodyPartExamined": "CHEST"}
    tags.update(tag_overrides)
    return study, series, tags, "20261125T101612"


def test_it_reads_every_worklist_field():
    meta = parse_study_metadata(*orthanc_documents())
    assert meta.study_instance_uid == "1.2.3"
    assert meta.patient_name == "Ελένη^Παπαδοπούλου"
    assert meta.patient_birth_date is None  # 30 February is not a date: blank, not an error
    assert meta.accession_number == "ACC9"
    assert meta.requested_priority == "STAT"
    assert meta.patient_location == "EMERGENCY DEPT"
    assert meta.referring_physician == "Doe^Jane"
    assert meta.study_datetime == datetime(2026, 11, 25, 10, 15, tzinfo=UTC)
    assert meta.arrived_at == datetime(2026, 11, 25, 10, 16, 12, tzinfo=UTC)


def test_derived_objects_are_not_counted_as_images():
    meta = parse_study_metadata(*orthanc_documents())
    assert meta.modality == "CT"
    assert meta.modalities == "CT\\SR"
    assert meta.image_instance_count == 3
    assert [s.series_number for s in meta.series] == [2, 900]


def test_missing_order_fields_give_blanks_not_errors():
    study, series, _, _ = orthanc_documents()
    meta = parse_study_metadata(study, series, {}, None)
    assert meta.requested_priority == "" and meta.patient_location == ""
    assert meta.body_part == "CHEST"  # from the series when the instance lacks it
    assert meta.arrived_at == datetime(2026, 11, 25, 10, 17, tzinfo=UTC)  # falls back to LastUpdate


def test_dicom_dates_and_times_parse_leniently():
    assert parse_dicom_datetime("20260101", "0930") == datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
    assert parse_dicom_datetime("20260101", "") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_dicom_datetime("", "101010") is None
    assert parse_dicom_datetime("2026", "101010") is None


def test_ct_dose_comes_from_ctdivol_and_an_estimated_scan_length():
    study, series, tags, reception = orthanc_documents(CTDIvol="1.5", SliceThickness="1.0")
    meta = parse_study_metadata(study, series, tags, reception)
    assert meta.ctdi_vol_mgy == 1.5
    assert meta.dlp_mgy_cm == round(1.5 * 3 * 1.0 / 10, 1)  # three 1 mm images
    meta = parse_study_metadata(study, series, {}, reception)
    assert meta.ctdi_vol_mgy is None and meta.dlp_mgy_cm is None


def test_the_order_fields_are_read_from_an_image_not_from_a_result_stored_later(monkeypatch):
    # An AI SR or a report PDF joins the study after the images; its instance id may sort first, and
    # it carries no priority or location: reading it blanked the order's priority on re-ingestion.
    from archive import orthanc
    from worklist.ingest import NON_IMAGE_MODALITIES

    documents = {
        "studies/S": {"ID": "S", "MainDicomTags": {}},
        "studies/S/series": [
            {"ID": "sr", "MainDicomTags": {"Modality": "SR"}, "Instances": ["0-sr"]},
            {"ID": "ct", "MainDicomTags": {"Modality": "CT"}, "Instances": ["b-image", "a-image"]},
        ],
        "instances/a-image/simplified-tags": {"RequestedProcedurePriority": "STAT"},
        "instances/0-sr/simplified-tags": {},
    }
    asked = []
    monkeypatch.setattr(orthanc, "get_json", lambda path: asked.append(path) or documents[path])
    monkeypatch.setattr(orthanc, "get_binary", lambda path: b"20261126T080000")
    _, _, tags, reception = orthanc.study_documents("S", results_modalities=NON_IMAGE_MODALITIES)
    assert tags == {"RequestedProcedurePriority": "STAT"} and "instances/0-sr/simplified-tags" not in asked
    assert reception == "20261126T080000"
    # A study of results only (an SR sent on its own) is still read.
    documents["studies/S/series"] = documents["studies/S/series"][:1]
    assert orthanc.study_documents("S", results_modalities=NON_IMAGE_MODALITIES)[2] == {}
