"""FHIR is outside the OpenAPI schema (schemathesis never reached it): fuzz its routes here with
Hypothesis — any text as an id, any value for every search parameter and _count — and require
that no answer is a server error (issue 17: `/fhir/ImagingStudy/²` and very long ids gave 500)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinician import fhir
from clinician.services import referrer_link
from tests.worklist.factories import make_study

pytestmark = pytest.mark.django_db

RESOURCES = sorted(fhir.SEARCH_PARAMS)
values = st.one_of(st.text(max_size=40), st.integers().map(str), st.text(alphabet="0123456789²³¹١٢", max_size=40))


@pytest.fixture
def clinician_client(api_as, clinician):
    referrer_link(user=clinician, referring_name="WHO^REFERRED", created_by=None)
    make_study(referring_physician="WHO^REFERRED", patient_id="P1", accession_number="ACC-F")
    return api_as(clinician)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resource=st.sampled_from(RESOURCES), resource_id=values)
def test_any_resource_id_is_answered_without_a_server_error(clinician_client, resource, resource_id):
    response = clinician_client.get(f"/fhir/{resource}/{quote(resource_id, safe='')}")
    assert response.status_code < 500, (resource, resource_id, response.status_code)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resource=st.sampled_from(RESOURCES), data=st.data())
def test_any_search_is_answered_without_a_server_error(clinician_client, resource, data):
    names = sorted(fhir.SEARCH_PARAMS[resource]) + ["_count", "_format", "unknown"]
    params = data.draw(st.dictionaries(st.sampled_from(names), values, max_size=4))
    response = clinician_client.get(f"/fhir/{resource}?{urlencode(params)}")
    assert response.status_code < 500, (resource, params, response.status_code)
