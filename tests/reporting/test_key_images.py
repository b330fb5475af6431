"""Key images are checked against the archive: a slice of another study is never signed into this one."""

import pytest

from archive import orthanc as archive
from reporting.models import ReportVersion
from tests.reporting.stored import stored_ct
from tests.support.reading import images_viewed

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def sign(client, study, key_images):
    return client.post(f"/api/studies/{study.pk}/report/sign/",
                       {"impression": "No nodule.", "lungrads_category": "1", "key_images": key_images}, format="json")


def test_a_slice_of_study_2_cannot_be_signed_as_a_key_image_of_study_1(orthanc, api_as, radiologist):
    one, one_series, one_instances = stored_ct("PID-A", "ACC-KEY-1")
    two, _, two_instances = stored_ct("PID-B", "ACC-KEY-2")
    client = api_as(radiologist)
    client.post(f"/api/studies/{one.pk}/claim/")
    images_viewed(one, radiologist)  # the signing guard: the reader has seen study 1's images
    # Study 1's own series named, study 2's slice given: the archive says whose slice it is.
    refused = sign(client, one, [{"series_id": one_series.pk, "instance_id": two_instances[2], "label": "slice 3"}])
    assert refused.status_code == 409 and "slice of this study" in refused.json()["detail"]
    assert not ReportVersion.objects.filter(report__study=one).exists()

    signed = sign(client, one, [{"series_id": one_series.pk, "instance_id": one_instances[2], "label": "slice 3"}])
    assert signed.status_code == 201, signed.content
    key_image = signed.json()["fields"]["key_images"][0]
    uid = archive.get_json(f"instances/{one_instances[2]}")["MainDicomTags"]["SOPInstanceUID"]
    assert key_image["instance_id"] == one_instances[2] and key_image["sop_instance_uid"] == uid
    assert two.pk != one.pk
