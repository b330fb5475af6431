"""Clinician B gets nothing of clinician A's patients, on every surface, not even their existence.

Each check compares B's answer for A's object with the answer for an id that does not exist, and
a positive control shows A does get it (so an empty answer is not simply a broken endpoint).
"""

import re

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from reporting.models import CriticalResult
from tests.clinician.conftest import make_patient_study
from worklist.events import study_publish

UNKNOWN = 987654
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def same_response(first, second) -> None:
    assert first.status_code == second.status_code
    assert first.content == second.content
    assert first.get("Content-Type") == second.get("Content-Type")


@pytest.mark.django_db
class TestPages:
    def test_a_sees_their_study_page(self, clinician_a, signed_a):
        response = page_client(clinician_a).get(f"/clinician/studies/{signed_a.pk}/")
        assert response.status_code == 200
        assert "Müller, Anna" in response.content.decode()

    def test_b_gets_the_unknown_study_answer_for_as_study(self, clinician_b, signed_a):
        client = page_client(clinician_b)
        theirs, unknown = client.get(f"/clinician/studies/{signed_a.pk}/"), client.get(f"/clinician/studies/{UNKNOWN}/")
        assert theirs.status_code == 404
        same_response(theirs, unknown)
        for fragment in (client.get(f"/clinician/studies/{signed_a.pk}/?fragment=1"),):
            assert fragment.status_code == 404

    def test_b_finds_nothing_of_as_patient_by_name_id_or_accession(self, clinician_a, clinician_b, signed_a):
        a_sees = page_client(clinician_a).get("/clinician/", {"q": "PA-1"}).content.decode()
        assert "Müller, Anna" in a_sees
        client = page_client(clinician_b)
        for query in ("Müller", "PA-1", "ACC-A1"):
            found = client.get("/clinician/", {"q": query}).content.decode().replace(query, "<q>")
            nothing = client.get("/clinician/", {"q": "NOBODY-X"}).content.decode().replace("NOBODY-X", "<q>")
            assert CSRF.sub("", found) == CSRF.sub("", nothing)
            assert "Müller" not in found and "ACC-A1" not in found

    def test_b_cannot_acknowledge_as_critical_result(self, clinician_b, signed_a):
        critical = CriticalResult.objects.get(study=signed_a)
        client = page_client(clinician_b)
        theirs = client.post(f"/clinician/critical-results/{critical.pk}/acknowledge/")
        unknown = client.post(f"/clinician/critical-results/{UNKNOWN}/acknowledge/")
        assert theirs.status_code == 404
        same_response(theirs, unknown)
        critical.refresh_from_db()
        assert critical.acknowledged_at is None

    def test_other_roles_are_refused_the_clinician_pages(self, radiologist, manager, signed_a):
        for user in (radiologist, manager):
            assert page_client(user).get("/clinician/").status_code == 403
            assert page_client(user).get(f"/clinician/studies/{signed_a.pk}/").status_code == 403

    def test_anonymous_users_are_sent_to_log_in(self, signed_a):
        response = Client().get(f"/clinician/studies/{signed_a.pk}/")
        assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
class TestRestApi:
    def test_a_gets_their_study_and_pdf(self, api_as, clinician_a, signed_a):
        client = api_as(clinician_a)
        assert client.get(f"/api/clinician/studies/{signed_a.pk}/").json()["patient_id"] == "PA-1"
        pdf = client.get(f"/api/clinician/studies/{signed_a.pk}/report/v1.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    def test_b_gets_the_unknown_answer_for_as_study_and_pdf(self, api_as, clinician_b, signed_a):
        client = api_as(clinician_b)
        for path in ("/api/clinician/studies/{}/", "/api/clinician/studies/{}/report/v1.pdf"):
            theirs, unknown = client.get(path.format(signed_a.pk)), client.get(path.format(UNKNOWN))
            assert theirs.status_code == 404
            same_response(theirs, unknown)

    def test_b_searches_find_nothing_of_as(self, api_as, clinician_a, clinician_b, signed_a, signed_b):
        assert [s["patient_id"] for s in api_as(clinician_a).get("/api/clinician/studies/", {"q": "ACC-A1"}).json()] \
            == ["PA-1"]
        client = api_as(clinician_b)
        for query in ("Müller", "PA-1", "ACC-A1"):
            assert client.get("/api/clinician/studies/", {"q": query}).json() == []
        assert [s["patient_id"] for s in client.get("/api/clinician/studies/").json()] == ["PB-1"]

    def test_b_sees_only_their_own_critical_results(self, api_as, clinician_b, signed_a, signed_b):
        results = api_as(clinician_b).get("/api/clinician/critical-results/").json()
        assert [r["study_id"] for r in results] == [signed_b.pk]

    def test_b_cannot_acknowledge_as_critical_result(self, api_as, clinician_b, signed_a):
        critical = CriticalResult.objects.get(study=signed_a)
        client = api_as(clinician_b)
        theirs = client.post(f"/api/clinician/critical-results/{critical.pk}/acknowledge/")
        unknown = client.post(f"/api/clinician/critical-results/{UNKNOWN}/acknowledge/")
        assert theirs.status_code == 404
        same_response(theirs, unknown)
        critical.refresh_from_db()
        assert critical.acknowledged_at is None

    def test_a_clinician_without_a_link_sees_nothing(self, api_as, make_user, signed_a):
        from accounts.models import Role

        loner = make_user("lone", Role.CLINICIAN)
        assert api_as(loner).get("/api/clinician/studies/").json() == []
        assert api_as(loner).get(f"/api/clinician/studies/{signed_a.pk}/").status_code == 404

    def test_radiologists_use_the_worklist_api_not_the_clinician_one(self, api_as, radiologist, signed_a):
        assert api_as(radiologist).get(f"/api/clinician/studies/{signed_a.pk}/").status_code == 403


@pytest.mark.django_db
class TestFhirApi:
    def test_a_reads_their_resources(self, api_as, clinician_a, signed_a):
        client = api_as(clinician_a)
        assert client.get(f"/fhir/ImagingStudy/{signed_a.pk}").json()["resourceType"] == "ImagingStudy"
        assert client.get(f"/fhir/DiagnosticReport/{signed_a.report.pk}").json()["status"] == "final"
        bundle = client.get("/fhir/ImagingStudy", {"patient": "PA-1"}).json()
        assert bundle["total"] == 1

    def test_b_reads_get_the_unknown_outcome(self, api_as, clinician_b, signed_a):
        client = api_as(clinician_b)
        for path, own_id in (("/fhir/ImagingStudy/{}", signed_a.pk), ("/fhir/DiagnosticReport/{}", signed_a.report.pk)):
            theirs, unknown = client.get(path.format(own_id)), client.get(path.format(UNKNOWN))
            assert theirs.status_code == 404
            assert theirs.json()["resourceType"] == "OperationOutcome"
            same_response(theirs, unknown)

    @pytest.mark.parametrize("resource, params", [
        ("ImagingStudy", {"patient": "PA-1"}), ("ImagingStudy", {"patient": "Patient/PA-1"}),
        ("ImagingStudy", {"accession": "ACC-A1"}), ("ImagingStudy", {"identifier": "ACC-A1"}),
        ("DiagnosticReport", {"patient": "PA-1"}), ("DiagnosticReport", {"accession": "ACC-A1"}),
    ])
    def test_b_searches_return_an_empty_bundle(self, api_as, clinician_a, clinician_b, signed_a, resource, params):
        assert api_as(clinician_a).get(f"/fhir/{resource}", params).json()["total"] == 1
        client = api_as(clinician_b)
        theirs = client.get(f"/fhir/{resource}", params).json()
        unknown = client.get(f"/fhir/{resource}", {key: "NOPE" for key in params}).json()
        for bundle in (theirs, unknown):
            bundle.pop("link")
        assert theirs == unknown == {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}

    def test_anonymous_and_interface_accounts_are_refused(self, api_as, make_user, signed_a):
        from rest_framework.test import APIClient

        from accounts.models import Role

        anonymous = APIClient().get(f"/fhir/ImagingStudy/{signed_a.pk}")
        assert anonymous.status_code == 401 and anonymous.json()["resourceType"] == "OperationOutcome"
        ris = api_as(make_user("ris", Role.INTERFACE)).get(f"/fhir/ImagingStudy/{signed_a.pk}")
        assert ris.status_code == 403 and ris.json()["issue"][0]["code"] == "forbidden"


async def socket_for(user) -> WebsocketCommunicator:
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    headers = [(b"origin", b"http://localhost"), (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/clinician/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_websocket_tells_a_and_not_b_of_as_study(clinician_a, clinician_b, clean_redis):
    study = await database_sync_to_async(make_patient_study)(
        patient_id="PA-9", accession_number="ACC-A9", referring_physician="Haddad^Samir")
    socket_a, socket_b = await socket_for(clinician_a), await socket_for(clinician_b)
    await database_sync_to_async(study_publish)(study.pk)
    assert await socket_a.receive_json_from(timeout=5) == {"type": "study.changed", "study_id": study.pk}
    assert await socket_b.receive_nothing(timeout=1)
    await socket_a.disconnect()
    await socket_b.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_websocket_refuses_anonymous_and_interface_accounts(make_user):
    from accounts.models import Role

    communicator = WebsocketCommunicator(application, "/ws/clinician/", headers=[(b"origin", b"http://localhost")])
    connected, code = await communicator.connect()
    await communicator.disconnect()
    assert not connected and code == 4401
    ris = await database_sync_to_async(make_user)("ris", Role.INTERFACE)
    client = Client()
    await database_sync_to_async(client.force_login)(ris)
    communicator = WebsocketCommunicator(application, "/ws/clinician/", headers=[
        (b"origin", b"http://localhost"), (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())])
    connected, code = await communicator.connect()
    await communicator.disconnect()
    assert not connected and code == 4403
