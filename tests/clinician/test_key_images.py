"""Key images the radiologist chose reach the referring clinician, and only theirs."""

import pytest

from reporting.models import ReportVersion

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\nfake"


@pytest.fixture
def with_key_image(signed_a):
    version = ReportVersion.objects.get(report__study=signed_a)
    version.fields = {**version.fields, "key_images": [
        {"series_id": 1, "series_instance_uid": "1.2.3", "instance_id": "orthanc-inst-1", "sop_instance_uid": "1.2.3.4",
         "label": "slice 21/60"}]}
    version.save(update_fields=["fields"])
    return signed_a


def test_the_referrer_sees_the_key_image(client, clinician_a, with_key_image, monkeypatch):
    asked = []
    monkeypatch.setattr("archive.orthanc.get_binary", lambda endpoint: asked.append(endpoint) or PNG)
    client.force_login(clinician_a)
    page = client.get(f"/clinician/studies/{with_key_image.pk}/").content.decode()
    assert f"/clinician/studies/{with_key_image.pk}/key-images/0.png" in page and "slice 21/60" in page
    image = client.get(f"/clinician/studies/{with_key_image.pk}/key-images/0.png")
    assert image.status_code == 200 and image["Content-Type"] == "image/png" and image.content == PNG
    assert asked == ["instances/orthanc-inst-1/preview"]


def test_another_clinician_gets_the_same_404_as_for_nothing(client, clinician_b, with_key_image, monkeypatch):
    monkeypatch.setattr("archive.orthanc.get_binary", lambda endpoint: PNG)
    client.force_login(clinician_b)
    theirs = client.get(f"/clinician/studies/{with_key_image.pk}/key-images/0.png")
    unknown = client.get("/clinician/studies/999999/key-images/0.png")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.content == unknown.content
