"""One gate for pages (accounts.decorators.role_required): every page URL goes through it, and a
refused user is told in words who the page is for and where their own start page is."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.decorators import role_required

pytestmark = pytest.mark.django_db

# Page URLs that decide access themselves, with the reason.
OWN_CHECK = {
    "ohif-study": "clinicians may open only their own patients' study: the selector decides, a 404 otherwise",
}
NOT_PAGES = ("api/", "fhir/", "admin/", "dicom-web/", "login/", "logout/", "static/", "healthz", "ws/")


def page_patterns(resolver=None, prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from page_patterns(pattern, route)
        elif isinstance(pattern, URLPattern) and not route.lstrip("^/").startswith(NOT_PAGES):
            yield route, pattern


def test_every_page_goes_through_the_one_gate():
    ungated = [route for route, pattern in page_patterns()
               if pattern.name not in OWN_CHECK and not getattr(pattern.callback, "allowed_roles", None)
               ]
    assert ungated == []


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_clinician_on_a_manager_page_is_told_who_it_is_for_and_where_to_go(clinician):
    response = logged_in(clinician).get("/manager/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "This page is for department managers." in text and 'href="/clinician/"' in text


def test_a_radiologist_on_a_clinician_page_is_sent_back_to_the_worklist(radiologist):
    response = logged_in(radiologist).get("/clinician/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "This page is for referring clinicians." in text and 'href="/"' in text


def test_the_site_root_takes_a_clinician_to_the_patient_lookup(clinician):
    response = logged_in(clinician).get("/")
    assert response.status_code == 302 and response["Location"] == "/clinician/"


def test_the_gate_refuses_before_the_view_runs(rf, clinician):
    ran = []

    @role_required("radiologist")
    def view(request):
        ran.append(request)

    request = rf.get("/x/")
    request.user = clinician
    assert view(request).status_code == 403 and ran == []
