"""GET /api/studies/<id>/priors/ and GET /api/dashboard/ai-agreement/mammography/: roles, audit, isolation, figures."""

from datetime import UTC, date, datetime

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from inference.models import AnalysisRun, AnalysisStatus
from priors.models import PriorReport
from priors.services import mined_fields
from tests.worklist.factories import make_study
from worklist.models import AuditEvent

pytestmark = pytest.mark.django_db


def prior(patient_id, accession, day, text, source="imported", study=None):
    return PriorReport.objects.create(patient_id=patient_id, accession_number=accession, study_date=day, text=text,
                                      source=source, study=study, **mined_fields(text))


def mammogram(patient_id="P1", accession="NOW-1", when=datetime(2025, 6, 1, 9, tzinfo=UTC)):
    return make_study(modality="MG", body_part="BREAST", patient_id=patient_id, accession_number=accession,
                      study_datetime=when)


def ai_run(study, category, status=AnalysisStatus.DONE):
    return AnalysisRun.objects.create(study=study, model_name="mammography", model_version="1", status=status,
                                      category=category, suspicion=0.8 if category == "birads:0" else 0.1,
                                      headline="AI headline", finished_at=datetime.now(UTC))


@pytest.fixture
def patient_history():
    study = mammogram()
    ai_run(study, "birads:0")
    prior("P1", "OLD-2024", date(2024, 5, 1), "Scattered fibroglandular density. Benign calcifications left. "
          "BI-RADS 2.")
    prior("P1", "OLD-2023", date(2023, 5, 1), "ACR C. Focal asymmetry right breast. BI-RADS 3.")
    prior("P2", "OTHER-PATIENT", date(2024, 1, 1), "BI-RADS 5. Spiculated mass left.")
    prior("P1", "LATER", date(2026, 1, 1), "BI-RADS 1.")
    prior("P1", "NOW-1", date(2025, 6, 1), "BI-RADS 4A. Its own report.", source="signed", study=study)
    return study


def test_a_radiologist_sees_the_patients_earlier_reports_newest_first_with_evidence_and_the_ai(
        api_as, radiologist, patient_history):
    body = api_as(radiologist).get(f"/api/studies/{patient_history.pk}/priors/").json()
    assert [(p["accession_number"], p["birads"], p["density"]) for p in body["priors"]] == [
        ("OLD-2024", "2", "b"), ("OLD-2023", "3", "c")]
    newest = body["priors"][0]
    assert newest["study_date"] == "2024-05-01" and newest["source"] == "imported"
    assert newest["birads_evidence"]["text"] == "BI-RADS 2"
    assert newest["features"][0]["kind"] == "calcifications" and newest["features"][0]["laterality"] == "left"
    assert "Benign calcifications left" in newest["features"][0]["evidence"]["text"]
    assert body["ai"]["category"] == "birads:0" and body["ai"]["recall"] is True


def test_reading_priors_is_audited(api_as, manager, patient_history):
    assert api_as(manager).get(f"/api/studies/{patient_history.pk}/priors/").status_code == 200
    event = AuditEvent.objects.get(action="study.priors")
    assert (event.user, event.study, event.detail) == (manager, patient_history, "2 prior reports")


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.INTERFACE])
def test_other_roles_are_refused_the_priors(api_as, make_user, patient_history, role):
    response = api_as(make_user("someone", role)).get(f"/api/studies/{patient_history.pk}/priors/")
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="study.priors").exists()


def test_anonymous_requests_are_refused(patient_history):
    assert APIClient().get(f"/api/studies/{patient_history.pk}/priors/").status_code in (401, 403)
    assert APIClient().get("/api/dashboard/ai-agreement/mammography/").status_code in (401, 403)


def test_a_study_without_patient_id_shows_no_priors_of_anyone(api_as, radiologist, patient_history):
    anonymous_study = mammogram(patient_id="", accession="ANON-1")
    body = api_as(radiologist).get(f"/api/studies/{anonymous_study.pk}/priors/").json()
    assert body == {"study_id": anonymous_study.pk, "priors": [], "ai": None}


def test_an_unknown_study_is_not_found(api_as, radiologist):
    assert api_as(radiologist).get("/api/studies/999999/priors/").status_code == 404


# --- agreement ------------------------------------------------------------------------------------------


@pytest.fixture
def agreement_cases():
    """Known table: TP 3, FP 1, FN 1, TN 2; and one case for each reason not to count."""
    cases = [("birads:0", "BI-RADS 4A."), ("birads:0", "BI-RADS 3."), ("birads:0", "BI-RADS 2."),
             ("birads:1", "Assessment: Category 0 – incomplete."), ("birads:1", "BI-RADS 1."),
             ("birads:1", "ACR BI-RADS® 2 - benign."),
             ("birads:0", None), ("birads:1", "BI-RADS 6."), ("birads:0", "No category stated."),
             ("", "BI-RADS 2.")]
    for index, (category, text) in enumerate(cases):
        study = mammogram(patient_id=f"A{index}", accession=f"AGR-{index}")
        ai_run(study, category)
        if text:
            prior(study.patient_id, study.accession_number, date(2025, 6, 1), text, source="signed", study=study)
    # An imported report found by accession alone (no link to the study): AI recall, report 5 -> TP.
    imported = mammogram(patient_id="IMP", accession="AGR-IMPORTED")
    ai_run(imported, "birads:0")
    prior("IMP", "AGR-IMPORTED", date(2025, 6, 1), "BI-RADS 5.")
    # A failed run is not a result.
    ai_run(mammogram(patient_id="F", accession="AGR-FAILED"), "birads:0", status=AnalysisStatus.FAILED)


def test_agreement_figures_from_a_known_set(api_as, manager, agreement_cases):
    body = api_as(manager).get("/api/dashboard/ai-agreement/mammography/").json()
    assert body["table"] == {"ai_recall_report_recall": 3, "ai_recall_report_no_recall": 1,
                             "ai_no_recall_report_recall": 1, "ai_no_recall_report_no_recall": 2}
    assert body["n"] == 7
    assert body["sensitivity"] == pytest.approx(3 / 4)
    assert body["specificity"] == pytest.approx(2 / 3)
    assert body["agreement"] == pytest.approx(5 / 7)
    assert body["not_counted"] == {"no_report": 1, "no_category_mined": 1, "no_ai_category": 1, "birads_6": 1}
    assert AuditEvent.objects.filter(action="stats.ai_agreement_mammography", user=manager).exists()


def test_a_signed_report_counts_over_an_imported_one_for_the_same_study(api_as, manager):
    study = mammogram(patient_id="S", accession="BOTH")
    ai_run(study, "birads:0")
    prior("S", "BOTH", date(2025, 6, 1), "BI-RADS 1.", study=study)  # imported, linked
    prior("S", "BOTH", date(2025, 6, 1), "BI-RADS 4B.", source="signed", study=study)
    body = api_as(manager).get("/api/dashboard/ai-agreement/mammography/").json()
    assert body["table"]["ai_recall_report_recall"] == 1 and body["n"] == 1


def test_an_empty_department_has_no_figures(api_as, manager):
    body = api_as(manager).get("/api/dashboard/ai-agreement/mammography/").json()
    assert (body["n"], body["sensitivity"], body["specificity"], body["agreement"]) == (0, None, None, None)


@pytest.mark.parametrize("role", [Role.RADIOLOGIST, Role.CLINICIAN, Role.INTERFACE])
def test_only_managers_see_the_agreement(api_as, make_user, role):
    assert api_as(make_user("someone", role)).get("/api/dashboard/ai-agreement/mammography/").status_code == 403
