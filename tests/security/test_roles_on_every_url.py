"""Every URL pattern, walked with every role (and no login), GET and POST, against a written policy.

A new URL without a line in ACCESS fails `test_every_url_has_a_written_policy`, so nobody adds
a view without deciding who may use it. "Refused" means 401/403, or a redirect (to the login page,
or away from a page a role may not see); 405 on a POST-only view says nothing either way.
"""

import pytest
from django.test import Client

from accounts.models import Role
from tests.security.urlwalk import fill, url_patterns
from tests.worklist.factories import make_study
from worklist.models import Series

A, R, M, C, IF = "anonymous", Role.RADIOLOGIST, Role.MANAGER, Role.CLINICIAN, Role.INTERFACE
EVERYONE = {A, R, M, C, IF}
WORKLIST = {R, M}
FHIR_READ = {R, M, C}
CATCH_ALL_FHIR = r"^fhir/(?P<resource_type>[A-Za-z]+)(?:/(?P<rest>.*))?$"

# Who may use each URL (GET and POST alike unless POST_ACCESS says otherwise).
ACCESS = {
    "admin": set(),  # staff only; no persona here is staff
    "api-series-geometry": WORKLIST, "api-series-pixels": WORKLIST, "api-series-overlays": WORKLIST,
    "api-study-priors": WORKLIST, "api-ai-agreement-mammography": {M},
    "api-worklist": WORKLIST, "api-study": WORKLIST, "api-study-claim": {R}, "api-study-release": WORKLIST,
    "api-findings": WORKLIST, "api-finding-review": {R}, "api-first-read": {R},
    "api-report": WORKLIST, "api-report-sign": {R}, "api-report-amend": {R}, "api-report-pdf": WORKLIST,
    "api-report-draft": {R}, "api-report-history": WORKLIST, "api-report-amendment": {R},
    "api-radiologist-supervisor": {M}, "api-reader-findings": {R}, "api-reader-finding": {R},
    "api-report-preview": {R}, "api-images-viewed": {R},
    "api-study-assign": {M}, "api-me": {R, M, C, IF}, "api-radiologists": WORKLIST, "api-alerts": WORKLIST,
    "api-alert-ack": WORKLIST, "api-urgency-classes": WORKLIST, "api-urgency-class": {M}, "api-orders-hl7": {M, IF},
    "api-ageing-policy": WORKLIST,  # GET; PATCH is manager-only (tests/triage/test_worklist_ageing.py)
    "manager-overview": {M}, "manager-ai": {M}, "manager-capacity": {M}, "manager-dose": {M},
    "manager-targets": {M}, "manager-audit": {M}, "manager-identity": {M},
    "api-identity-conflicts": {M}, "api-identity-resolve": {M},
    "stats-backlog": {M}, "stats-turnaround": {M}, "stats-breaches": {M}, "stats-volume": {M},
    "stats-workload": {M}, "stats-ai": {M}, "stats-ai-agreement": {M}, "stats-dose": {M},
    "stats-dose-outliers": {M}, "stats-dose-references": {M}, "stats-capacity-inputs": {M}, "stats-capacity": {M},
    "stats-target-changes": {M}, "stats-export-studies": {M},
    "clinician-lookup": {C}, "clinician-study": {C}, "clinician-key-image": {C}, "clinician-critical-ack": {C},
    "clinician-department-critical": WORKLIST, "clinician-links": {M}, "clinician-link-add": {M},
    "clinician-link-remove": {M},
    "api-clinician-studies": {C}, "api-clinician-study": {C}, "api-clinician-report-pdf": {C},
    "api-critical-results": {R, M, C}, "api-critical-ack": {C},
    "api-referrer-links": {M}, "api-referrer-link": {M}, "api-referrer-suggestions": {M}, "api-referrers-seen": {M},
    "fhir-metadata": EVERYONE,  # the FHIR CapabilityStatement is public by the standard
    "fhir-imagingstudy-search": FHIR_READ, "fhir-imagingstudy": FHIR_READ,
    "fhir-diagnosticreport-search": FHIR_READ, "fhir-diagnosticreport": FHIR_READ,
    CATCH_ALL_FHIR: EVERYONE,  # answers "unsupported resource type" to anyone, with no data
    "api-token": EVERYONE,  # exchanges a username and password for a token
    "api-schema": {R, M, C, IF}, "api-docs": {R, M, C, IF},
    "worklist": WORKLIST, "study": WORKLIST,
    "login": EVERYONE, "logout": EVERYONE,
    # OHIF and its DICOMweb endpoint: a clinician only her own patients' studies (404 otherwise).
    "ohif": {R, M, C}, "ohif/<path:rest>": {R, M, C}, "ohif-study": {R, M, C},
    "dicomweb-studies": {R, M, C}, "dicomweb-study": {R, M, C},
}
POST_ACCESS = {"api-findings": {R}}

# Server errors the walk found in code this suite may not change; each is reported to its owner.
# (name, method) pairs allowed to answer 5xx in the walk: none now (the report PDF of a study
# without a report answered 500 until the walk found it).
KNOWN_SERVER_ERRORS: set[tuple[str, str]] = set()

ROUTES = dict((name, route) for route, name in url_patterns())


def test_every_url_has_a_written_policy():
    assert set(ROUTES) - set(ACCESS) == set(), "add these URLs to ACCESS with the roles that may use them"
    assert set(ACCESS) - set(ROUTES) == set(), "these URLs no longer exist"


# Forms that answer a successful POST with a redirect.
FORM_ACTIONS = {"clinician-link-add", "clinician-link-remove", "clinician-critical-ack"}


def refused(response, name: str, method: str) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code == 302 and name == "ohif-study":
        return not response["Location"].startswith("/ohif/viewer?")  # the page's answer is OHIF on the study
    if response.status_code == 302:
        # A redirect sends a role elsewhere (login, or a clinician to their own pages), except
        # a form's redirect after it did its work.
        return not (method == "post" and name in FORM_ACTIONS) or "/login/" in response["Location"]
    return False


@pytest.fixture
def people(make_user):
    return {A: None} | {role: make_user(f"walk-{role}", role) for role in (R, M, C, IF)}


@pytest.mark.django_db
def test_each_role_gets_only_what_the_policy_gives_it(people):
    # One walk (not one test per URL): about 700 requests, and one list of every problem.
    study = make_study(accession_number="ACC-WALK")
    series = Series.objects.create(study=study, series_instance_uid="1.2.826.0.1.9", orthanc_id="x", modality="CT")
    problems = []
    for name in sorted(ROUTES):
        problems += walk(name, fill(ROUTES[name], {"study_id": study.pk, "series_id": series.pk}), people)
    assert problems == []


def walk(name: str, path: str, people: dict) -> list[str]:
    problems = []
    for method in ("get", "post"):
        allowed = POST_ACCESS.get(name, ACCESS[name]) if method == "post" else ACCESS[name]
        for role, user in people.items():
            client = Client(raise_request_exception=False)
            if user is not None:
                client.force_login(user)
            response = getattr(client, method)(path)
            status = response.status_code
            if status >= 500 and status != 503 and (name, method) not in KNOWN_SERVER_ERRORS:
                problems.append(f"{method.upper()} {path} as {role}: {status}")
            if role not in allowed and not (refused(response, name, method) or status == 405):
                problems.append(f"{method.upper()} {path} as {role}: {status}, should be refused")
            if role in allowed and refused(response, name, method) and name != "logout":
                problems.append(f"{method.upper()} {path} as {role}: {status}, should be allowed")
    return problems


@pytest.mark.django_db
def test_the_pdf_of_a_report_that_does_not_exist_is_not_found(people):
    study = make_study(accession_number="ACC-WALK")
    client = Client(raise_request_exception=False)
    client.force_login(people[R])
    assert client.get(fill(ROUTES["api-report-pdf"], {"study_id": study.pk})).status_code == 404
