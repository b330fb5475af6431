"""Ids, limits and dates at the edges answer 4xx or an empty result, never 500 (issue 17)."""

from __future__ import annotations

import pytest

from clinician.services import referrer_link
from tests.worklist.factories import make_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(api_as, clinician, radiologist, manager):
    referrer_link(user=clinician, referring_name="WHO^REFERRED", created_by=None)
    make_study(referring_physician="WHO^REFERRED")
    return {"clinician": api_as(clinician), "radiologist": api_as(radiologist), "manager": api_as(manager)}


@pytest.mark.parametrize("url", [
    "/fhir/ImagingStudy/²", "/fhir/ImagingStudy/" + "9" * 400, "/fhir/DiagnosticReport/²",
    "/fhir/DiagnosticReport/" + "1" * 30, "/fhir/ImagingStudy/١٢",
])
def test_fhir_ids_that_are_not_keys_are_not_found(reader, url):
    assert reader["clinician"].get(url).status_code == 404


@pytest.mark.parametrize("query", ["_id=²", "_id=" + "9" * 40, "_count=99999999999999999999", "_count=²"])
def test_fhir_search_parameters_at_the_edges(reader, query):
    response = reader["clinician"].get(f"/fhir/ImagingStudy?{query}")
    assert response.status_code in (200, 400), response.status_code


@pytest.mark.parametrize("count", ["99999999999999999999", "9" * 5000, "0" * 40 + "3"])
def test_fhir_count_beyond_the_page_size_is_served_as_the_page_size(reader, count):
    response = reader["clinician"].get("/fhir/ImagingStudy", {"_count": count})
    assert response.status_code == 200
    assert response.json()["resourceType"] == "Bundle"


@pytest.mark.parametrize("param", ["patient", "accession", "identifier", "_id", "_count"])
def test_fhir_search_values_with_nul_are_refused_as_an_operation_outcome(reader, param):
    response = reader["clinician"].get("/fhir/DiagnosticReport", {param: "P1\x00"})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("query", ["limit=99999999999999999999", "offset=99999999999999999999",
                                   "limit=99999999999999999999&offset=99999999999999999999", "limit=-1"])
def test_worklist_limit_and_offset_at_the_edges(reader, query):
    response = reader["radiologist"].get(f"/api/worklist/?{query}")
    assert response.status_code == 200
    assert len(response.json()["results"]) <= 1000


@pytest.mark.parametrize("url", ["/api/stats/volume/", "/api/stats/export/studies.csv", "/api/stats/turnaround/"])
@pytest.mark.parametrize("until", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_stats_windows_outside_the_calendar_are_refused(reader, url, until):
    assert reader["manager"].get(url, {"until": until}).status_code == 400


def test_referrer_suggestions_refuse_a_nul_username(reader):
    url = "/api/clinician/links/suggestions/"
    assert reader["manager"].get(url, {"username": "clara\x00"}).status_code == 400
    assert reader["manager"].get(url, {"username": "clara"}).status_code == 200
