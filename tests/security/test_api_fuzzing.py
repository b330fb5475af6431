"""Every API operation fuzzed from its OpenAPI schema (schemathesis): malformed JSON, wrong types
and out-of-range values must never give a server error.

The schema comes from drf-spectacular's generator and the requests go through the WSGI
application in-process, on the test database. Each case is sent as a radiologist, then (if
refused) as a manager, then as a clinician, so every operation is reached by a role allowed on it.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from accounts.models import Role
from accounts.tokens import api_token_issue
from tests.worklist.factories import make_study

ROLES = (Role.RADIOLOGIST, Role.MANAGER, Role.CLINICIAN)




def load_schema():
    from drf_spectacular.generators import SchemaGenerator

    from config.wsgi import application

    schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    schema.app = application
    return schema


@pytest.fixture
def keep_test_connection():
    # Django closes the connection after each request; inside a test transaction that closes the
    # test's own connection. Django's test Client disconnects the same signals.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(make_user, keep_test_connection):
    make_study(accession_number="ACC-FUZZ")  # something for the list and detail endpoints to find
    return {role: api_token_issue(make_user(f"fuzz-{role}", role))[0] for role in ROLES}


schema = load_schema()


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_no_api_operation_answers_with_a_server_error(case, tokens):
    for role in ROLES:
        response = case.call(headers={"Authorization": f"Token {tokens[role]}"})
        if response.status_code != 403:
            break
    assert response.status_code < 500, (case.method, case.formatted_path, case.body, case.query,
                                        response.status_code, response.text[:300])
