"""OHIF served by the application: the viewer's page, its files, and who may open which study in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import Role
from clinician.services import referrer_link
from tests.worklist.factories import make_study
from worklist.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def clara(make_user):
    user = make_user("clara", Role.CLINICIAN)
    referrer_link(user=user, referring_name="Haddad^Samir", created_by=None)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_viewer_page_starts_ohif_from_this_application_with_our_configuration(radiologist):
    page = client_for(radiologist).get("/ohif/viewer", {"StudyInstanceUIDs": "1.2.3"})
    assert page.status_code == 200
    html = page.content.decode()
    assert '<script defer src="/app.bundle.' in html and "/static/frontend/ohif-config" in html
    assert "https://" not in html  # nothing from another server


def test_ohif_files_are_served_at_the_site_root_but_not_its_demo_page_and_configuration():
    client = Client()
    assert client.get("/app.bundle.css").status_code == 200
    wasm = next(Path(settings.OHIF_DIST).glob("*.wasm")).name  # a codec, as a worker asks for it
    answer = client.get("/" + wasm)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/wasm"
    for left_out in ("/index.html", "/app-config.js", "/sw.js"):
        assert client.get(left_out).status_code == 404, left_out
    assert client.get("/login").status_code == 301  # other paths still reach the application


def test_a_radiologist_opens_any_study_in_ohif_and_it_is_audited(radiologist):
    study = make_study(referring_physician="CHEN^WEI")
    answer = client_for(radiologist).get(f"/ohif/studies/{study.pk}/")
    assert answer.status_code == 302
    assert answer["Location"] == f"/ohif/viewer?StudyInstanceUIDs={study.study_instance_uid}"
    assert AuditEvent.objects.filter(user=radiologist, action="page.ohif", study=study).count() == 1


def test_a_clinician_opens_only_her_own_patients_study_in_ohif(clara):
    own = make_study(patient_id="PA-1", referring_physician="HADDAD^SAMIR")
    other = make_study(patient_id="PB-1", referring_physician="CHEN^WEI")
    client = client_for(clara)
    assert client.get(f"/ohif/studies/{own.pk}/").status_code == 302
    assert client.get(f"/ohif/studies/{other.pk}/").status_code == 404
    assert client.get("/ohif/").status_code == 200  # her study list: DICOMweb shows her own only
    assert not AuditEvent.objects.filter(action="page.ohif", study=other).exists()


def test_accounts_without_images_and_anonymous_browsers_do_not_get_ohif(make_user):
    study = make_study()
    ris = client_for(make_user("ris", Role.INTERFACE))
    assert ris.get("/ohif/").status_code == 403
    assert ris.get(f"/ohif/studies/{study.pk}/").status_code == 403
    assert Client().get("/ohif/viewer").status_code == 302  # to the login page
