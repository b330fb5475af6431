"""Identity links (exact match only, near matches suggested), orders counting, and the audit trail."""

import pytest
from django.test import Client

from accounts.models import Role
from clinician.selectors import clinician_studies, referrer_suggestions
from clinician.services import LinkError, referrer_link
from tests.clinician.conftest import make_patient_study
from worklist.models import AuditEvent, Order

pytestmark = pytest.mark.django_db


def test_a_near_match_is_suggested_but_not_linked(clinician_a):
    near = make_patient_study(patient_id="PN-1", accession_number="ACC-N1", referring_physician="Haddad^Sami")
    exact = make_patient_study(patient_id="PE-1", accession_number="ACC-E1", referring_physician="Dr. Haddad, Samir")
    visible = set(clinician_studies(clinician_a).values_list("pk", flat=True))
    assert exact.pk in visible and near.pk not in visible
    assert [s.key for s in referrer_suggestions(clinician_a)] == ["haddad^sami"]


def test_a_manager_links_a_suggestion_and_the_study_appears(client, manager, clinician_a):
    near = make_patient_study(patient_id="PN-2", accession_number="ACC-N2", referring_physician="HADDAD^SAMI")
    client.force_login(manager)
    page = client.get("/clinician/links/").content.decode()
    assert "haddad^sami" in page.lower()
    client.post("/clinician/links/add/", {"username": "clara", "referring_name": "HADDAD^SAMI"})
    assert near in clinician_studies(clinician_a)
    assert AuditEvent.objects.filter(user=manager, action="referrer.link").exists()


def test_an_order_naming_the_clinician_counts(clinician_a):
    study = make_patient_study(patient_id="PO-1", accession_number="ACC-O1", referring_physician="Someone^Else")
    assert study not in clinician_studies(clinician_a)
    Order.objects.create(accession_number="ACC-O1", patient_id="PO-1", referring_physician="Haddad^Samir")
    assert study in clinician_studies(clinician_a)


def test_ambiguous_or_wrong_links_are_refused(api_as, manager, clinician_a, radiologist):
    with pytest.raises(LinkError):
        referrer_link(user=clinician_a, referring_name="Samir Haddad", created_by=manager)
    with pytest.raises(LinkError):
        referrer_link(user=radiologist, referring_name="Haddad^Samir", created_by=manager)
    response = api_as(manager).post("/api/clinician/links/", {"username": "clara", "referring_name": "Samir Haddad"})
    assert response.status_code == 400


def test_only_managers_manage_links(api_as, clinician_a, radiologist):
    for user in (clinician_a, radiologist):
        assert api_as(user).get("/api/clinician/links/").status_code == 403
        assert api_as(user).post("/api/clinician/links/", {"username": "clara", "referring_name": "X^Y"}) \
            .status_code == 403


def test_the_demo_link_command(make_user):
    from django.core.management import call_command

    demo = make_user("clinician", Role.CLINICIAN)
    call_command("link_referrer", "clinician", "Haddad^Samir^^Dr")
    study = make_patient_study(patient_id="PD-1", accession_number="ACC-D1", referring_physician="Haddad^Samir^^Dr")
    assert study in clinician_studies(demo)


def test_every_view_of_patient_data_is_recorded(clinician_a, signed_a, api_as):
    client = Client(REMOTE_ADDR="10.1.2.3")
    client.force_login(clinician_a)
    client.get(f"/clinician/studies/{signed_a.pk}/")
    client.get("/clinician/", {"q": "PA-1"})
    client.get(f"/api/clinician/studies/{signed_a.pk}/report/v1.pdf")
    client.get(f"/fhir/ImagingStudy/{signed_a.pk}")
    client.get("/fhir/DiagnosticReport", {"patient": "PA-1"})
    actions = set(AuditEvent.objects.filter(user=clinician_a, study=signed_a, remote_addr="10.1.2.3")
                  .values_list("action", flat=True))
    assert actions >= {"clinician.study.view", "clinician.search", "clinician.report.pdf", "fhir.ImagingStudy.read",
                       "fhir.DiagnosticReport.search"}


def test_a_manager_searches_the_log_and_the_search_is_logged(client, manager, clinician_a, clinician_b, signed_a):
    viewer = Client()
    viewer.force_login(clinician_a)
    viewer.get(f"/clinician/studies/{signed_a.pk}/")
    client.force_login(manager)
    page = client.get("/manager/audit/", {"user": "clara", "patient_id": "PA-1", "action": "clinician.study"})
    body = page.content.decode()
    assert page.status_code == 200 and "clinician.study.view" in body and "ACC-A1" in body
    none = client.get("/manager/audit/", {"accession": "ACC-NONE"}).content.decode()
    assert "0 events" in none
    dated = client.get("/manager/audit/", {"user": "clara", "since": "2000-01-01", "until": "2000-01-02"})
    assert "0 events" in dated.content.decode()
    logged = AuditEvent.objects.filter(user=manager, action="audit.search").values_list("detail", flat=True)
    assert any("patient_id=PA-1" in d for d in logged) and len(logged) == 3


def test_only_managers_search_the_log(client, clinician_a, radiologist):
    for user in (clinician_a, radiologist):
        client.force_login(user)
        assert client.get("/manager/audit/").status_code == 403
