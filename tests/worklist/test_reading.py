"""The read: findings review, second-reader mode, prefilled Lung-RADS report, sign, amend."""

import pytest

from inference.models import AnalysisRun, AnalysisStatus
from reporting.models import CriticalResult, FindingReview
from reporting.reading import NotYourRead, ReadingError, report_prefill, report_sign
from tests.support.reading import images_viewed, ready_to_sign
from tests.worklist.factories import make_study
from worklist.models import ReadingState, Study
from worklist.services import study_claim

pytestmark = pytest.mark.django_db

LUNG_FINDINGS = {"findings": [
    {"centre_mm": [-60.0, 10.0, -120.0], "diameter_mm": 11.2, "type": "solid", "probability": 0.94},
    {"centre_mm": [70.0, 0.0, -90.0], "diameter_mm": 4.0, "type": "solid", "probability": 0.41},
]}


@pytest.fixture
def analysed_ct():
    study = make_study(study_description="CT CHEST LOW DOSE", status="analysed")
    run = AnalysisRun.objects.create(study=study, model_name="lung_nodule", model_version="1",
                                     status=AnalysisStatus.DONE, category="lungrads:4A", suspicion=0.94,
                                     result=LUNG_FINDINGS)
    return study, run


def sign_payload(**extra):
    return {"impression": "Suspicious nodule.", "lungrads_category": "4A", "findings_text": "Right upper lobe.",
            **extra}


def test_a_reader_accepts_one_finding_and_rejects_another(api_as, radiologist, analysed_ct):
    study, run = analysed_ct
    client = api_as(radiologist)
    assert client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-0/review/",
                       {"decision": "accepted"}).status_code == 409  # not claimed yet
    client.post(f"/api/studies/{study.pk}/claim/")
    assert client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-0/review/",
                       {"decision": "accepted"}).json()["decision"] == "accepted"
    assert client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-1/review/",
                       {"decision": "rejected"}).json()["decision"] == "rejected"
    assert client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-9/review/",
                       {"decision": "accepted"}).status_code == 409
    decisions = dict(FindingReview.objects.values_list("finding_index", "decision"))
    assert decisions == {0: "accepted", 1: "rejected"}


def test_an_edit_changes_size_and_type_and_a_missed_finding_can_be_added(api_as, radiologist, analysed_ct):
    study, run = analysed_ct
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    edited = client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-0/review/",
                         {"decision": "edited", "diameter_mm": 16.0, "finding_type": "solid"}).json()
    assert edited["diameter_mm"] == 16.0 and edited["decision"] == "edited"
    added = client.post(f"/api/studies/{study.pk}/findings/",
                        {"centre_mm": [1, 2, 3], "diameter_mm": 7, "finding_type": "ground_glass"}, format="json")
    assert added.status_code == 201 and added.json()["source"] == "reader"
    draft = report_prefill(Study.objects.get(pk=study.pk), radiologist)
    # Finding 1 is not reviewed and the images not viewed: the rules' suggestion, no category yet.
    assert draft["lungrads_suggested"] == "4B" and draft["lungrads_category"] == ""
    assert draft["notes"] == ["1 AI finding is not reviewed yet.", "The images have not been viewed yet."]
    client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-1/review/", {"decision": "rejected"})
    images_viewed(study, radiologist)
    draft = report_prefill(Study.objects.get(pk=study.pk), radiologist)
    assert draft["lungrads_category"] == "4B"  # the edited 16 mm solid nodule drives it
    assert "16.0 mm mean diameter (Lung-RADS v2022) solid nodule" in draft["findings_text"]
    assert "7.0 mm mean diameter (Lung-RADS v2022) ground-glass nodule" in draft["findings_text"]


def test_second_readers_see_marks_only_after_their_first_read(api_as, make_user, analysed_ct):
    study, run = analysed_ct
    reader = make_user("sam", "radiologist", reading_mode="second_reader")
    client = api_as(reader)
    client.post(f"/api/studies/{study.pk}/claim/")
    assert client.get(f"/api/studies/{study.pk}/findings/").status_code == 409
    assert client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-0/review/",
                       {"decision": "accepted"}).status_code == 409
    client.post(f"/api/studies/{study.pk}/first-read-done/")
    assert len(client.get(f"/api/studies/{study.pk}/findings/").json()) == 2


def test_the_report_is_prefilled_from_accepted_findings(api_as, radiologist, analysed_ct):
    study, run = analysed_ct
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-0/review/", {"decision": "accepted"})
    client.post(f"/api/studies/{study.pk}/findings/ai-{run.pk}-1/review/", {"decision": "rejected"})
    images_viewed(study, radiologist)
    draft = client.get(f"/api/studies/{study.pk}/report/").json()["draft"]
    assert draft["template"] == "lungrads" and draft["lungrads_category"] == "4A"
    assert "3 months" in draft["recommendation"]


def test_a_radiologist_cannot_sign_a_study_claimed_by_another(radiologist, other_radiologist, analysed_ct):
    study, _ = analysed_ct
    study_claim(study_id=study.pk, user=radiologist)
    with pytest.raises(NotYourRead):
        report_sign(study_id=study.pk, user=other_radiologist, fields=sign_payload())


def test_signing_ends_the_read_and_an_amendment_keeps_the_first_version(api_as, radiologist, analysed_ct,
                                                                         django_capture_on_commit_callbacks):
    study, _ = analysed_ct
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    ready_to_sign(study, radiologist)
    assert client.post(f"/api/studies/{study.pk}/report/sign/", {"impression": ""}).status_code == 400
    assert client.post(f"/api/studies/{study.pk}/report/sign/",
                       sign_payload(lungrads_category="9")).status_code == 409
    signed = client.post(f"/api/studies/{study.pk}/report/sign/",
                         sign_payload(critical=True, critical_note="Call Dr Who")).json()
    assert signed["number"] == 1 and signed["critical"] and signed["reading_mode"] == "concurrent"
    study.refresh_from_db()
    assert study.reading_state == ReadingState.REPORTED and study.reported_at and study.claimed_by is None
    assert CriticalResult.objects.get(study=study).note == "Call Dr Who"
    assert client.post(f"/api/studies/{study.pk}/report/sign/", sign_payload()).status_code == 409

    assert client.post(f"/api/studies/{study.pk}/report/amend/", sign_payload()).status_code == 400  # no reason
    amended = client.post(f"/api/studies/{study.pk}/report/amend/",
                          sign_payload(impression="Nodule is 12 mm.", reason="size corrected")).json()
    assert amended["number"] == 2 and amended["amendment_reason"] == "size corrected"
    versions = client.get(f"/api/studies/{study.pk}/report/").json()["versions"]
    assert [v["fields"]["impression"] for v in versions] == ["Suspicious nodule.", "Nodule is 12 mm."]
    pdf = client.get(f"/api/studies/{study.pk}/report/v1.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_signing_with_a_critical_flag_needs_a_note(radiologist, analysed_ct):
    study, _ = analysed_ct
    study_claim(study_id=study.pk, user=radiologist)
    ready_to_sign(study, radiologist)
    with pytest.raises(ReadingError, match="needs a note"):
        report_sign(study_id=study.pk, user=radiologist, fields=sign_payload(), critical=True)
    assert not Study.objects.get(pk=study.pk).reported_at  # nothing half-signed


def test_managers_and_clinicians_cannot_sign(api_as, manager, clinician, analysed_ct):
    study, _ = analysed_ct
    for user in (manager, clinician):
        assert api_as(user).post(f"/api/studies/{study.pk}/report/sign/", sign_payload()).status_code == 403


def test_key_images_must_be_slices_of_the_study(api_as, radiologist, analysed_ct):
    from worklist.models import Series

    study, _ = analysed_ct
    series = Series.objects.create(study=study, series_instance_uid="1.2.3.4", orthanc_id="orth-series",
                                   modality="CT", instance_count=10)
    other = make_study()
    foreign = Series.objects.create(study=other, series_instance_uid="9.9.9", orthanc_id="orth-foreign",
                                    modality="CT", instance_count=10)
    client = api_as(radiologist)
    client.post(f"/api/studies/{study.pk}/claim/")
    ready_to_sign(study, radiologist)
    refused = client.post(f"/api/studies/{study.pk}/report/sign/",
                          sign_payload(key_images=[{"series_id": foreign.pk, "instance_id": "abc"}]), format="json")
    assert refused.status_code == 409 and "this study" in refused.json()["detail"]
    # An instance the archive cannot confirm as a slice of this series is refused too (the accepted
    # case, against a real Orthanc: tests/reporting/test_key_images.py).
    unchecked = client.post(f"/api/studies/{study.pk}/report/sign/",
                            sign_payload(key_images=[{"series_id": series.pk, "instance_id": "abc-123"}]),
                            format="json")
    assert unchecked.status_code == 409 and "key image" in unchecked.json()["detail"]


def test_managers_reassign_to_radiologists_only(api_as, manager, radiologist, clinician, analysed_ct):
    study, _ = analysed_ct
    client = api_as(manager)
    assert [r["username"] for r in client.get("/api/radiologists/").json()] == ["rosa"]
    assert client.post(f"/api/studies/{study.pk}/assign/", {"username": "clara"}).status_code == 400
    assigned = client.post(f"/api/studies/{study.pk}/assign/", {"username": "rosa"})
    assert assigned.status_code == 200 and assigned.json()["claimed_by"] == "rosa"
    assert api_as(radiologist).post(f"/api/studies/{study.pk}/assign/", {"username": "rosa"}).status_code == 403
