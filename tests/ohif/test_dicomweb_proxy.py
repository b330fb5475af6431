"""The DICOMweb endpoint (archive.dicomweb) in front of a real Orthanc: who reads what, and what leaks.

Personas: Rosa (radiologist) reads any study; Clara (clinician, referrer Haddad^Samir) only her
patient's; Bruno's patient (referrer Chen^Wei) is in the same archive; an interface account has no
images at all.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from django.conf import settings
from django.test import Client, override_settings

from accounts.models import Role
from archive import dicomweb
from clinician.services import referrer_link
from tests.support.dicom import c_store, tiny_ct_study
from tests.worklist.factories import make_study
from worklist.models import AuditEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

FRAMES_ACCEPT = "multipart/related; type=application/octet-stream; transfer-syntax=*"


def _stored(patient_id: str, name: str, referrer: str):
    datasets = tiny_ct_study(patient_id=patient_id, patient_name=name, accession=f"ACC-{patient_id}")
    for ds in datasets:
        ds.ReferringPhysicianName = referrer
    c_store(datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
            called_aet=settings.ORTHANC_DICOM_AET)
    first = datasets[0]
    make_study(study_instance_uid=first.StudyInstanceUID, patient_id=patient_id, patient_name=name,
               referring_physician=referrer, accession_number=f"ACC-{patient_id}")
    return datasets


@pytest.fixture
def archive(orthanc):
    """Two patients' studies in Orthanc and on the worklist: Clara's (A) and Bruno's (B)."""
    return {"a": _stored("PA-1", "MULLER^ANNA", "HADDAD^SAMIR"), "b": _stored("PB-1", "BROWN^BEA", "CHEN^WEI")}


@pytest.fixture
def clara(make_user):
    user = make_user("clara", Role.CLINICIAN)
    referrer_link(user=user, referring_name="Haddad^Samir", created_by=None)
    return user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> bytes:
    return b"".join(response) if response.streaming else response.content


def study_uids(response) -> set[str]:
    return {s["0020000D"]["Value"][0] for s in json.loads(body(response))}


def test_a_radiologist_searches_and_reads_any_study_and_orthanc_stays_hidden(archive, radiologist):
    a = archive["a"][0]
    client = client_for(radiologist)

    found = client.get("/dicom-web/studies")
    assert found.status_code == 200 and found["Content-Type"].startswith("application/dicom+json")
    assert study_uids(found) == {a.StudyInstanceUID, archive["b"][0].StudyInstanceUID}

    metadata = client.get(f"/dicom-web/studies/{a.StudyInstanceUID}/series/{a.SeriesInstanceUID}/metadata")
    assert metadata.status_code == 200
    text = body(metadata).decode()
    instances = json.loads(text)
    assert len(instances) == len(archive["a"])
    # Every URL in the answer points at this endpoint; Orthanc's address and port appear nowhere.
    bulk = instances[0]["7FE00010"]["BulkDataURI"]
    assert bulk.startswith(f"http://testserver/dicom-web/studies/{a.StudyInstanceUID}/series/")
    assert settings.ORTHANC_URL not in text and ":" + settings.ORTHANC_URL.rsplit(":", 1)[1] not in text

    frame_url = f"/dicom-web/studies/{a.StudyInstanceUID}/series/{a.SeriesInstanceUID}/instances/{a.SOPInstanceUID}"
    for _ in range(2):
        frame = client.get(frame_url + "/frames/1", HTTP_ACCEPT=FRAMES_ACCEPT)
        assert frame.status_code == 200 and frame["Content-Type"].startswith("multipart/related")
        payload = body(frame)
        assert a.PixelData in payload  # the stored pixels, untouched
        assert settings.ORTHANC_URL.encode() not in payload
    assert "Authorization" not in frame and "WWW-Authenticate" not in frame

    bulk_answer = client.get(bulk.removeprefix("http://testserver"))
    assert bulk_answer.status_code == 200 and a.PixelData in body(bulk_answer)

    actions = list(AuditEvent.objects.filter(user=radiologist).order_by("id")
                   .values_list("action", "study__patient_id"))
    assert actions == [("dicomweb.search", None), ("dicomweb.metadata", "PA-1"), ("dicomweb.pixels", "PA-1")]


def test_a_clinician_finds_and_reads_only_her_own_patients_study(archive, clara):
    a, b = archive["a"][0], archive["b"][0]
    client = client_for(clara)

    assert study_uids(client.get("/dicom-web/studies")) == {a.StudyInstanceUID}
    assert study_uids(client.get("/dicom-web/studies", {"PatientName": "BROWN*"})) == set()
    assert study_uids(client.get("/dicom-web/studies", {"StudyInstanceUID": b.StudyInstanceUID})) == set()
    own = client.get(f"/dicom-web/studies/{a.StudyInstanceUID}/metadata")
    assert own.status_code == 200 and len(json.loads(body(own))) == len(archive["a"])

    # Another patient's study: the same answer as an unknown one, and the attempt is in the audit log.
    for path in ("metadata", f"series/{b.SeriesInstanceUID}/instances/{b.SOPInstanceUID}/frames/1", "series"):
        refused = client.get(f"/dicom-web/studies/{b.StudyInstanceUID}/{path}", HTTP_ACCEPT=FRAMES_ACCEPT)
        assert (refused.status_code, json.loads(refused.content)) == (404, {"detail": "Not found."})
    refusals = AuditEvent.objects.filter(user=clara, action="dicomweb.refused")
    assert refusals.count() == 3 and {e.study.patient_id for e in refusals} == {"PB-1"}
    # Nor through her own study's path: Orthanc finds no such series in that study.
    smuggled = client.get(f"/dicom-web/studies/{a.StudyInstanceUID}/series/{b.SeriesInstanceUID}/metadata")
    assert smuggled.status_code == 404


def test_an_account_without_images_and_an_anonymous_browser_are_refused(archive, make_user):
    a = archive["a"][0]
    ris = client_for(make_user("ris", Role.INTERFACE))
    for client in (ris, Client()):
        assert client.get("/dicom-web/studies").status_code == 403
        assert client.get(f"/dicom-web/studies/{a.StudyInstanceUID}/metadata").status_code == 403
    assert AuditEvent.objects.filter(action="dicomweb.refused", user__username="ris").count() == 2


@pytest.mark.django_db
@override_settings(ORTHANC_URL="http://127.0.0.1:9")
def test_an_unreachable_archive_is_a_503_in_words(radiologist):
    answer = client_for(radiologist).get("/dicom-web/studies/1.2.3/metadata")
    assert answer.status_code == 503 and answer["Retry-After"] == "5"
    assert json.loads(answer.content) == {"detail": "The image archive is unavailable; try again shortly."}


class _Upstream:
    """An upstream answer whose body is produced on demand, to see when the proxy reads it."""

    def __init__(self):
        self.read = 0
        self.closed = False

    def iter_content(self, size):
        for n in range(3):
            self.read += 1
            yield bytes([n]) * 4

    def close(self):
        self.closed = True


def test_under_asgi_the_body_is_read_from_orthanc_chunk_by_chunk():
    upstream = _Upstream()

    async def first_chunk():
        chunks = dicomweb._chunks_async(upstream)
        first = await chunks.__anext__()
        seen = upstream.read
        await chunks.aclose()
        return first, seen

    first, seen = asyncio.run(first_chunk())
    assert first == b"\x00" * 4 and seen == 1  # not the whole body before the first chunk leaves
    assert upstream.closed
