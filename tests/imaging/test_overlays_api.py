"""The SEG overlay API against the project's real Orthanc: segments on the right slices, roles, audit, cache."""

import random

import numpy as np
import pytest
from django.utils import timezone

from accounts.models import ReadingMode, Role
from archive import imaging, overlays
from archive.orthanc import orthanc_client, post_instance
from archive.overlays import rle_decode
from inference.synthetic.prostate_mri import prostate_masks
from tests.imaging.helpers import archive, dicom_bytes
from tests.imaging.seg_helpers import prostate_seg, prostate_t2
from worklist.models import AuditEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _fresh_caches():
    # Orthanc is emptied per test; nothing decoded in another test may leak in.
    imaging.geometry_cache_clear()
    overlays.seg_cache_clear()


@pytest.fixture(scope="module")
def prostate():
    return prostate_t2(seed=3)


def overlays_url(series) -> str:
    return f"/api/studies/{series.study_id}/series/{series.pk}/overlays/"


def stored_prostate(prostate):
    t2, truth = prostate
    shuffled = list(t2)
    random.Random(9).shuffle(shuffled)
    seg = prostate_seg(t2, truth, source_order=shuffled)
    study, series = archive(shuffled + [seg])
    return study, series, seg


def test_the_seg_comes_back_on_the_series_slices_in_viewer_order(orthanc, api_as, radiologist, prostate):
    t2, truth = prostate
    study, series, seg = stored_prostate(prostate)
    client = api_as(radiologist)
    geometry = client.get(f"/api/studies/{study.pk}/series/{series.pk}/geometry/").json()
    assert [s["sop_instance_uid"] for s in geometry["slices"]] == [ds.SOPInstanceUID for ds in t2]  # head first
    assert geometry["series_instance_uid"] == t2[0].SeriesInstanceUID

    response = client.get(overlays_url(series))
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "private, no-store"
    data = response.json()
    assert data["slice_ids"] == [s["id"] for s in geometry["slices"]]
    assert (data["rows"], data["columns"], data["encoding"]) == (128, 128, "rle-row-major-0-1")
    [found] = data["segmentations"]
    assert found["sop_instance_uid"] == seg.SOPInstanceUID and found["algorithm_name"] == "SynthProstateSeg"
    masks = prostate_masks(truth, "t2w")
    lesion = next(k for k in masks if k.startswith("lesion_"))
    for segment, key in zip(found["segments"], ["tz", "pz", lesion], strict=True):
        assert {s["index"] for s in segment["slices"]} == {k for k in range(len(t2)) if masks[key][k].any()}
        for s in segment["slices"]:
            np.testing.assert_array_equal(rle_decode(s["rle"], (128, 128)), masks[key][s["index"]])
    assert [s["colour"] for s in found["segments"]] == ["#40e0d0", "#3cb44b", "#ff0000"]

    # The SEG series itself, and a series the SEG does not cover, have no overlay.
    seg_series = study.series.get(modality="SEG")
    assert client.get(overlays_url(seg_series)).status_code == 422  # not an image series
    audit = AuditEvent.objects.filter(action="study.overlays", study=study)
    assert audit.count() == 2 and audit.first().user == radiologist


def test_a_series_without_a_seg_has_no_overlay(orthanc, api_as, manager, prostate):
    t2, _ = prostate
    _, series = archive(t2[:4])
    data = api_as(manager).get(overlays_url(series)).json()
    assert data["segmentations"] == [] and data["slice_count"] == 4


def test_clinicians_and_anonymous_users_get_no_overlays(orthanc, api_as, clinician, client, prostate):
    _, series, _ = stored_prostate(prostate)
    assert client.get(overlays_url(series)).status_code in (401, 403)
    assert api_as(clinician).get(overlays_url(series)).status_code == 403
    assert not AuditEvent.objects.filter(action="study.overlays").exists()


def test_a_second_reader_sees_the_seg_only_after_the_first_read(orthanc, api_as, make_user, prostate):
    study, series, _ = stored_prostate(prostate)
    reader = make_user("sam", Role.RADIOLOGIST, reading_mode=ReadingMode.SECOND_READER)
    response = api_as(reader).get(overlays_url(series))
    assert response.status_code == 409
    assert AuditEvent.objects.filter(action="study.overlays", user=reader).exists()  # the attempt is audited
    study.first_read_done_at = timezone.now()
    study.save(update_fields=["first_read_done_at"])
    assert len(api_as(reader).get(overlays_url(series)).json()["segmentations"]) == 1


def test_a_rerun_that_replaces_the_seg_is_served_fresh_not_from_the_cache(orthanc, api_as, radiologist, prostate):
    t2, truth = prostate
    study, series, seg = stored_prostate(prostate)
    client = api_as(radiologist)
    first = client.get(overlays_url(series)).json()["segmentations"][0]
    assert first["segments"][2]["slices"]  # the lesion
    # A re-run with the same deterministic UIDs finds no lesion: delete then store, as the AI does.
    rerun = prostate_seg(t2, truth, with_lesion=False)
    assert rerun.SOPInstanceUID == seg.SOPInstanceUID
    orthanc_id = post_instance(dicom_bytes(seg))["ID"]  # already stored: Orthanc answers with its id
    orthanc_client().delete(f"instances/{orthanc_id}")
    post_instance(dicom_bytes(rerun))
    second = client.get(overlays_url(series)).json()["segmentations"][0]
    assert second["segments"][2]["slices"] == []
    assert second["segments"][0]["slices"] == first["segments"][0]["slices"]
