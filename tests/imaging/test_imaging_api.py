"""The pixel proxy against the project's real Orthanc: roles, scoping, audit, values, refusals."""

import gzip
import json
import random
from urllib.parse import unquote

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import BasicTextSRStorage, ExplicitVRLittleEndian, generate_uid

from archive import imaging
from tests.imaging.helpers import archive, ct_series, planes_to_array
from worklist.models import AuditEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _fresh_geometry_cache():
    # Orthanc is emptied per test; a geometry remembered from another test must not leak in.
    imaging.geometry_cache_clear()


def geometry_url(series) -> str:
    return f"/api/studies/{series.study_id}/series/{series.pk}/geometry/"


def pixels_url(series, ids) -> str:
    return f"/api/studies/{series.study_id}/series/{series.pk}/pixels/?ids={','.join(ids)}"


def test_clinicians_and_anonymous_users_get_no_images(orthanc, api_as, clinician, client):
    _, series = archive(ct_series(3))
    for url in (geometry_url(series), pixels_url(series, ["x"])):
        assert client.get(url).status_code in (401, 403)
        assert api_as(clinician).get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="study.images").exists()


def test_a_series_is_only_reachable_through_its_own_study(orthanc, api_as, radiologist):
    _, series = archive(ct_series(3))
    other_study, _ = archive(ct_series(2))
    client = api_as(radiologist)
    assert client.get(f"/api/studies/{other_study.pk}/series/{series.pk}/geometry/").status_code == 404
    ids = [s["id"] for s in client.get(geometry_url(series)).json()["slices"]]
    assert client.get(f"/api/studies/{other_study.pk}/series/{series.pk}/pixels/?ids={ids[0]}").status_code == 404


def test_slices_of_another_series_cannot_be_fetched_through_this_one(orthanc, api_as, radiologist):
    _, series = archive(ct_series(3))
    _, other = archive(ct_series(2))
    client = api_as(radiologist)
    foreign = client.get(geometry_url(other)).json()["slices"][0]["id"]
    assert client.get(pixels_url(series, [foreign])).status_code == 404


def test_opening_a_series_is_audited_once_not_per_slice(orthanc, api_as, manager):
    study, series = archive(ct_series(4))
    client = api_as(manager)
    ids = [s["id"] for s in client.get(geometry_url(series)).json()["slices"]]
    assert client.get(pixels_url(series, ids[:2])).status_code == 200
    assert client.get(pixels_url(series, ids[2:])).status_code == 200
    events = AuditEvent.objects.filter(action="study.images")
    assert [(e.user, e.study_id) for e in events] == [(manager, study.pk)]
    assert str(series.pk) in events.get().detail


def test_geometry_orders_slices_by_position_whatever_the_arrival_order(orthanc, api_as, radiologist):
    datasets = ct_series(6, z_step=2.0)  # instance 1 is the lowest slice
    random.Random(7).shuffle(datasets)
    _, series = archive(datasets)
    geometry = api_as(radiologist).get(geometry_url(series)).json()
    zs = [s["position"][2] for s in geometry["slices"]]
    assert zs == [110.0, 108.0, 106.0, 104.0, 102.0, 100.0]  # head first
    assert [s["number"] for s in geometry["slices"]] == [6, 5, 4, 3, 2, 1]
    assert geometry["rows"] == 6 and geometry["columns"] == 8
    assert geometry["pixel_spacing"] == [0.7, 0.8]
    assert geometry["dtype"] == "int16" and geometry["units"] == "HU" and geometry["invert"] is False


def test_pixels_arrive_in_hounsfield_units_in_the_order_asked(orthanc, api_as, radiologist):
    _, series = archive(ct_series(5, z_step=-2.5))  # stored 1000 + k at z = 100 - 2.5 k
    client = api_as(radiologist)
    ids = [s["id"] for s in client.get(geometry_url(series)).json()["slices"]]
    wanted = [ids[3], ids[0]]
    response = client.get(pixels_url(series, wanted), HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == "private, no-store"
    values = planes_to_array(gzip.decompress(response.content), count=2, rows=6, columns=8, dtype="int16")
    # Stored 1003 and 1000, intercept -1024.
    assert np.all(values[0] == -21) and np.all(values[1] == -24)


def test_pixels_are_sent_plain_to_a_client_without_gzip(orthanc, api_as, radiologist):
    _, series = archive(ct_series(2))
    client = api_as(radiologist)
    ids = [s["id"] for s in client.get(geometry_url(series)).json()["slices"]]
    response = client.get(pixels_url(series, ids[:1]))
    assert "Content-Encoding" not in response
    assert len(response.content) == 6 * 8 * 2


def test_monochrome1_is_flagged_for_inversion(orthanc, api_as, radiologist):
    _, series = archive(ct_series(2, photometric="MONOCHROME1"))
    assert api_as(radiologist).get(geometry_url(series)).json()["invert"] is True


def _pixels(client, series, ids) -> tuple:
    response = client.get(pixels_url(series, ids))
    assert response.status_code == 200
    errors = json.loads(unquote(response["X-Slice-Errors"])) if "X-Slice-Errors" in response else {}
    shown = [i for i in response["X-Slice-Ids"].split(",") if i]
    return response, shown, errors


def test_short_pixel_data_names_the_bad_slices_and_the_good_ones_still_load(orthanc, api_as, radiologist):
    datasets = ct_series(24, shape=(6, 8))
    short = {4, 11, 19}
    for k in short:
        datasets[k].PixelData = datasets[k].PixelData[:40]  # a transfer cut short
    _, series = archive(datasets)
    client = api_as(radiologist)
    slices = client.get(geometry_url(series)).json()["slices"]
    assert len(slices) == 24
    ids = [s["id"] for s in slices]
    shown, errors = [], {}
    for start in range(0, 24, 16):  # the viewer's requests, 16 slices at most
        response, part, part_errors = _pixels(client, series, ids[start:start + 16])
        values = planes_to_array(response.content, count=len(part), rows=6, columns=8, dtype="int16")
        for slice_id, pixels in zip(part, values, strict=True):
            number = next(s["number"] for s in slices if s["id"] == slice_id)
            assert np.all(pixels == 1000 + number - 1 - 1024)  # each good slice has its own values
        shown += part
        errors.update(part_errors)
    bad = {s["id"] for s in slices if s["number"] - 1 in short}
    assert set(errors) == bad and len(shown) == 21 and not set(shown) & bad
    assert all("pixel data" in reason.lower() for reason in errors.values())


def test_a_multi_frame_instance_is_shown_frame_by_frame(orthanc, api_as, radiologist):
    ds = ct_series(1)[0]
    ds.NumberOfFrames = 3
    ds.PixelData = np.stack([np.full((6, 8), 1000 + k, "<u2") for k in range(3)]).tobytes()
    _, series = archive([ds])
    client = api_as(radiologist)
    geometry = client.get(geometry_url(series)).json()
    ids = [s["id"] for s in geometry["slices"]]
    assert [s["frame"] for s in geometry["slices"]] == [0, 1, 2]
    assert [i.rsplit(":", 1)[1] for i in ids] == ["0", "1", "2"]
    response, shown, errors = _pixels(client, series, ids)
    assert shown == ids and not errors
    values = planes_to_array(response.content, count=3, rows=6, columns=8, dtype="int16")
    assert values[:, 0, 0].tolist() == [-24, -23, -22]


def test_an_rgb_series_is_sent_as_colour_planes(orthanc, api_as, radiologist):
    ds = ct_series(1)[0]
    ds.Modality = "US"
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 7
    ds.PixelData = rgb.tobytes()
    _, series = archive([ds])
    client = api_as(radiologist)
    geometry = client.get(geometry_url(series)).json()
    assert geometry["dtype"] == "rgb8"
    response, shown, errors = _pixels(client, series, [geometry["slices"][0]["id"]])
    planes = np.frombuffer(response.content, np.uint8).reshape(3, 6 * 8)
    assert planes[:, 0].tolist() == [200, 100, 7]


def test_a_structured_report_is_named_not_taken_for_an_image_without_size(orthanc, api_as, radiologist):
    images = ct_series(2)
    report = Dataset()
    report.file_meta = FileMetaDataset()
    report.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    report.SOPClassUID = report.file_meta.MediaStorageSOPClassUID = BasicTextSRStorage
    report.SOPInstanceUID = report.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    report.StudyInstanceUID, report.SeriesInstanceUID = images[0].StudyInstanceUID, generate_uid()
    report.PatientID, report.PatientName, report.Modality = images[0].PatientID, images[0].PatientName, "SR"
    study, _ = archive(images)
    archive([report])
    sr_series = study.series.get(series_instance_uid=report.SeriesInstanceUID)
    response = api_as(radiologist).get(geometry_url(sr_series))
    assert response.status_code == 422
    assert "a structured report (SR), not images" in response.json()["detail"]


def test_too_many_slices_in_one_request_are_refused(orthanc, api_as, radiologist):
    _, series = archive(ct_series(2))
    ids = ["x"] * (imaging.MAX_SLICES_PER_REQUEST + 1)
    assert api_as(radiologist).get(pixels_url(series, ids)).status_code == 422


def test_an_unreachable_archive_answers_503(orthanc, api_as, radiologist, settings):
    _, series = archive(ct_series(2))
    settings.ORTHANC_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    response = api_as(radiologist).get(geometry_url(series))
    assert response.status_code == 503


def test_a_diffusion_series_is_one_stack_per_b_value_each_labelled(orthanc, api_as, radiologist):
    datasets = []
    study_uid, series_uid = generate_uid(), generate_uid()
    for b in (800, 0, 1400):
        for ds in ct_series(3, z_step=3.0, study_uid=study_uid):
            ds.SeriesInstanceUID, ds.Modality, ds.DiffusionBValue = series_uid, "MR", b
            ds.InstanceNumber = len(datasets) + 1
            datasets.append(ds)
    random.Random(3).shuffle(datasets)
    _, series = archive(datasets)
    slices = api_as(radiologist).get(geometry_url(series)).json()["slices"]
    assert [s["label"] for s in slices] == ["b=0"] * 3 + ["b=800"] * 3 + ["b=1400"] * 3
    assert [s["position"][2] for s in slices] == [106.0, 103.0, 100.0] * 3  # head first in each stack


def test_a_series_without_repeated_positions_asks_no_b_values(orthanc, api_as, radiologist):
    _, series = archive(ct_series(4))
    assert {s["label"] for s in api_as(radiologist).get(geometry_url(series)).json()["slices"]} == {None}
