"""Patient-data answers are never cached, and every page has a Content-Security-Policy that its
own markup keeps (no inline script or style) — issue 17."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from clinician.services import referrer_link
from tests.worklist.factories import make_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(radiologist, manager, clinician):
    referrer_link(user=clinician, referring_name="WHO^REFERRED", created_by=None)
    study = make_study(accession_number="ACC-HDR", referring_physician="WHO^REFERRED")
    clients = {}
    for user in (radiologist, manager, clinician):
        clients[user.role] = Client()
        clients[user.role].force_login(user)
    return study, clients


PATIENT_DATA = [
    ("radiologist", "/"), ("radiologist", "/studies/{study}/"), ("radiologist", "/api/worklist/"),
    ("radiologist", "/api/studies/{study}/"), ("radiologist", "/api/studies/{study}/findings/"),
    ("radiologist", "/api/alerts/"), ("manager", "/manager/"), ("manager", "/manager/identity/"),
    ("manager", "/api/stats/export/studies.csv"), ("manager", "/manager/audit/"),
    ("clinician", "/clinician/"), ("clinician", "/clinician/studies/{study}/"),
    ("clinician", "/api/clinician/studies/{study}/"), ("clinician", "/fhir/ImagingStudy/{study}"),
    ("clinician", "/fhir/ImagingStudy?patient=P1"),
]


@pytest.mark.parametrize(("role", "url"), PATIENT_DATA)
def test_patient_data_is_never_stored_by_a_cache(people, role, url):
    study, clients = people
    response = clients[role].get(url.format(study=study.pk))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "Content-Security-Policy" in response


PAGES = [("radiologist", "/"), ("radiologist", "/studies/{study}/"), ("manager", "/manager/"),
         ("manager", "/manager/ai/"), ("manager", "/manager/capacity/"), ("manager", "/manager/dose/"),
         ("manager", "/manager/targets/"), ("manager", "/manager/identity/"), ("manager", "/manager/audit/"),
         ("manager", "/clinician/links/"), ("clinician", "/clinician/"), ("clinician", "/clinician/studies/{study}/")]


@pytest.mark.parametrize(("role", "url"), PAGES)
def test_pages_keep_a_policy_without_inline_script(people, role, url):
    study, clients = people
    response = clients[role].get(url.format(study=study.pk))
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy and script_src.strip() == "'self'"
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> blocked by the policy"
    assert not re.search(r"<style\b|\sstyle=\"|\son[a-z]+=\"", html), "inline style or handler blocked by the policy"


def test_the_login_page_has_the_policy_and_static_files_stay_cacheable(client):
    login = client.get("/login/")
    assert "script-src 'self'" in login["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", login.content.decode())
    asset = re.search(r'<script[^>]*src="(/static/[^"]+)"', client.get("/login/").content.decode()
                      + '<script src="/static/frontend/worklist.js">').group(1)
    static = client.get(asset)
    assert static.status_code == 200 and "no-store" not in static.get("Cache-Control", "")


@pytest.mark.parametrize("url", ["/ohif/", "/ohif/viewer?StudyInstanceUIDs=1.2.3", "/ohif/studies/{study}/"])
def test_ohif_pages_have_a_policy_without_inline_script(people, url, settings, tmp_path):
    """OHIF's pages too (its own in-browser test fails on any violation of this policy): scripts only
    from this origin, never inline; eval allowed there only, as OHIF's SEG loader needs it."""
    (tmp_path / "app.bundle.0123abcd.js").write_text("")
    settings.OHIF_DIST = str(tmp_path)
    study, clients = people
    response = clients["radiologist"].get(url.format(study=study.pk), follow=True)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1).split()
    assert script_src == ["'self'", "'unsafe-eval'"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode()), "inline <script>"
