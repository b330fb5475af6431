"""The application's Orthanc account may do what the application does, and nothing else.

Orthanc core makes every registered user an administrator; orthanc/access.lua narrows every
account but the operator's (ORTHANC_ADMIN_USERNAME). What the application needs (the change
feed, studies, series, instances, DICOMweb, storing results and reports) is proven by the
integration, archive and inference suites, which run as this account. Here: what it must not do.
"""

from __future__ import annotations

import pytest
import requests
from django.conf import settings
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from archive.orthanc import get_json, post_instance
from inference.dicom_results import MANUFACTURER, sr_bytes, store_replacing
from tests.support.dicom import c_store, tiny_ct_study
from tests.support.orthanc_admin import admin_request

pytestmark = [pytest.mark.integration]


def instances(study_id: str) -> list[str]:
    return [i["ID"] for i in admin_request("GET", f"studies/{study_id}/instances").json()]


def as_app(method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{settings.ORTHANC_URL}/{path}", timeout=30,
                            auth=(settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD), **kwargs)


@pytest.fixture
def stored_study(orthanc) -> tuple[str, list[Dataset]]:
    datasets = tiny_ct_study(slices=2, accession="ACC-LEAST")
    c_store(datasets, host=settings.ORTHANC_DICOM_HOST, port=settings.ORTHANC_DICOM_PORT,
            called_aet=settings.ORTHANC_DICOM_AET)
    (study_id,) = get_json("studies")
    return study_id, datasets


def result_like(source: Dataset, *, modality: str, manufacturer: str) -> Dataset:
    """An instance in the study that looks, to Orthanc, like an AI result (or not)."""
    ds = source.copy()
    ds.file_meta = source.file_meta.copy()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.Modality, ds.Manufacturer = modality, manufacturer
    return ds


REFUSED = [
    ("DELETE", "studies/{study}"),
    ("DELETE", "instances/{instance}"),
    ("POST", "tools/execute-script"),
    ("POST", "tools/reset"),
    ("POST", "tools/shutdown"),
    ("PUT", "modalities/x"),
    ("PUT", "tools/log-level"),
    ("POST", "studies/{study}/modify"),
    ("POST", "studies/{study}/anonymize"),
    ("POST", "modalities/x/store"),
    ("POST", "dicom-web/studies"),
    ("GET", "patients"),
    ("GET", "modalities"),
    ("GET", "app/explorer.html"),
]


@pytest.mark.parametrize(("method", "path"), REFUSED, ids=[f"{m} {p}" for m, p in REFUSED])
def test_the_application_account_is_refused_what_the_application_never_does(stored_study, method, path):
    study_id, _ = stored_study
    before = instances(study_id)
    body = '{"AET": "EVIL", "Host": "10.0.0.66", "Port": 104}' if method in ("PUT", "POST") else None
    answer = as_app(method, path.format(study=study_id, instance=before[0]), data=body)
    assert answer.status_code == 403
    # Nothing happened: the study and its images are whole, no modality was added, Orthanc runs.
    assert instances(study_id) == before and len(before) == 2
    assert "x" not in admin_request("GET", "modalities").json()


def test_the_operator_account_keeps_every_right(stored_study):
    study_id, _ = stored_study
    assert admin_request("PUT", "modalities/x", json={"AET": "X", "Host": "127.0.0.1", "Port": 104}).ok
    try:
        assert "x" in admin_request("GET", "modalities").json()
    finally:
        assert admin_request("DELETE", "modalities/x").ok
    assert admin_request("GET", "patients").ok
    assert admin_request("DELETE", f"studies/{study_id}").ok
    assert get_json("studies") == []


def test_the_application_replaces_its_own_results_but_cannot_delete_anything_else(stored_study):
    study_id, datasets = stored_study
    ours = result_like(datasets[0], modality="SR", manufacturer=MANUFACTURER)
    store_replacing(ours)
    store_replacing(ours)  # a re-run: the earlier copy is deleted, then stored again
    assert len(instances(study_id)) == 3

    # An SR someone else wrote, or an image that merely claims our manufacturer, stays.
    for other in (result_like(datasets[0], modality="SR", manufacturer="Another vendor"),
                  result_like(datasets[0], modality="CT", manufacturer=MANUFACTURER)):
        orthanc_id = post_instance(sr_bytes(other))["ID"]
        assert as_app("DELETE", f"instances/{orthanc_id}").status_code == 403
        assert get_json(f"instances/{orthanc_id}")["ID"] == orthanc_id
