"""The few Orthanc REST calls the application makes, through orthanc-api-client.

Errors from the archive are turned into two kinds: `OrthancUnavailable` (try again later:
connection refused, time-out, 5xx) and `OrthancNotFound` (the resource is gone).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from orthanc_api_client import OrthancApiClient
from orthanc_api_client import exceptions as orthanc_errors


class OrthancUnavailable(Exception):
    """The archive could not be reached or answered with a server error; retry later."""


class OrthancNotFound(Exception):
    """The archive no longer has this resource (deleted after it was announced)."""


@functools.lru_cache(maxsize=4)
def _client(url: str, username: str, password: str) -> OrthancApiClient:
    return OrthancApiClient(url, user=username, pwd=password)


def orthanc_client() -> OrthancApiClient:
    return _client(settings.ORTHANC_URL, settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD)


def _call(fn: Callable[..., Any], endpoint: str, **kwargs) -> Any:
    kwargs.setdefault("timeout", settings.ORTHANC_TIMEOUT_SECONDS)
    try:
        return fn(endpoint, **kwargs)
    except orthanc_errors.ResourceNotFound as exc:
        raise OrthancNotFound(endpoint) from exc
    except orthanc_errors.HttpError as exc:
        if exc.http_status_code == 404:
            raise OrthancNotFound(endpoint) from exc
        if exc.http_status_code is None or exc.http_status_code >= 500:
            raise OrthancUnavailable(f"Orthanc answered {exc.http_status_code} for {endpoint}") from exc
        raise
    except (orthanc_errors.ConnectionError, orthanc_errors.TimeoutError) as exc:
        raise OrthancUnavailable(f"Orthanc unreachable at {settings.ORTHANC_URL}") from exc


def get_json(endpoint: str, **kwargs) -> Any:
    return _call(orthanc_client().get_json, endpoint, **kwargs)


def get_binary(endpoint: str, **kwargs) -> bytes:
    return _call(orthanc_client().get_binary, endpoint, **kwargs)


def post_instance(dicom_bytes: bytes) -> dict:
    """Store one DICOM instance (for example an AI result SR) in the archive."""
    response = _call(orthanc_client().post, "instances", data=dicom_bytes)
    return response.json()


def post_json(endpoint: str, payload: dict) -> dict:
    response = _call(orthanc_client().post, endpoint, json=payload)
    return response.json()


def changes_since(seq: int, *, limit: int = 100) -> tuple[list[dict], int, bool]:
    """One page of the change feed after `seq`: (changes, last seq, done)."""
    page = get_json(f"changes?since={int(seq)}&limit={int(limit)}")
    return page["Changes"], int(page["Last"]), bool(page["Done"])


def study_documents(orthanc_study_id: str, *, results_modalities: frozenset[str] = frozenset()
                    ) -> tuple[dict, list[dict], dict, str | None]:
    """What ingestion reads of a study: the study, its series, one instance's tags, its reception time.

    The instance is an image where there is one: results written into the study later (an AI SR or
    SEG, a report PDF; `results_modalities`) carry neither the order's priority nor the patient's
    location, nor the images' arrival time."""
    study = get_json(f"studies/{orthanc_study_id}")
    series = get_json(f"studies/{orthanc_study_id}/series")
    images = [s for s in series if str(s.get("MainDicomTags", {}).get("Modality", "")).upper()
              not in results_modalities]
    instances = [i for s in (images or series) for i in s.get("Instances", [])]
    first = sorted(instances)[0] if instances else None
    tags = get_json(f"instances/{first}/simplified-tags") if first else {}
    reception = None
    if first:
        try:
            reception = get_binary(f"instances/{first}/metadata/ReceptionDate").decode()
        except OrthancNotFound:
            reception = None
    return study, series, tags, reception
