"""Manager pages and /api/stats/... are for managers only; the API is in the OpenAPI schema."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = ["/manager/", "/manager/ai/", "/manager/capacity/", "/manager/dose/", "/manager/targets/"]
APIS = [
    "/api/stats/backlog/", "/api/stats/turnaround/?group=urgency", "/api/stats/turnaround/?group=day",
    "/api/stats/turnaround/?group=modality", "/api/stats/breaches/", "/api/stats/volume/?bucket=hour",
    "/api/stats/volume/?bucket=day", "/api/stats/workload/", "/api/stats/ai/", "/api/stats/ai/agreement/",
    "/api/stats/dose/", "/api/stats/dose/outliers/", "/api/stats/dose/reference-levels/",
    "/api/stats/capacity/inputs/", "/api/stats/target-changes/", "/api/stats/export/studies.csv",
]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", PAGES)
def test_pages_are_for_managers_only(url, manager, radiologist, clinician):
    response = logged_in(manager).get(url)
    assert response.status_code == 200
    assert b"vendor/chartjs/chart.umd" in response.content
    for user in (radiologist, clinician):
        refused = logged_in(user).get(url)
        assert refused.status_code == 403 and b"Not available for your role" in refused.content
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


@pytest.mark.parametrize("url", APIS)
def test_apis_are_for_managers_only(url, api_as, manager, radiologist, clinician):
    assert api_as(manager).get(url).status_code == 200
    for user in (radiologist, clinician):
        assert api_as(user).get(url).status_code == 403
    # Session authentication answers an anonymous request with 403 (no WWW-Authenticate challenge).
    assert Client().get(url).status_code in (401, 403)


def test_writes_are_for_managers_only(api_as, radiologist, clinician):
    for user in (radiologist, clinician):
        assert api_as(user).post("/api/stats/capacity/", {"days": 2}, format="json").status_code == 403
        assert api_as(user).post("/api/stats/dose/reference-levels/", {"protocol": "CT"},
                                 format="json").status_code == 403


def test_bad_parameters_are_refused(api_as, manager):
    client = api_as(manager)
    assert client.get("/api/stats/turnaround/", {"group": "weekday"}).status_code == 400
    assert client.get("/api/stats/volume/", {"bucket": "minute"}).status_code == 400
    assert client.get("/api/stats/backlog/", {"days": 0}).status_code in (200, 400)
    assert client.get("/api/stats/workload/", {"days": 9999}).status_code == 400


def test_every_stats_endpoint_is_in_the_openapi_schema(api_as, manager):
    response = api_as(manager).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    documented = {p for p in paths if p.startswith("/api/stats/")}
    expected = {url.split("?")[0] for url in APIS} | {"/api/stats/capacity/"}
    assert expected <= documented
    turnaround = paths["/api/stats/turnaround/"]["get"]
    assert {p["name"] for p in turnaround["parameters"]} >= {"group", "days", "until", "modality"}
    row = response.json()["components"]["schemas"]["TurnaroundRow"]["properties"]
    assert {"median_minutes", "p90_minutes", "within_target_share"} <= set(row)
