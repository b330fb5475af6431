"""An authorising DICOMweb endpoint: QIDO-RS and WADO-RS of Orthanc's DICOMweb plugin, behind the
application's own login, so a browser viewer (OHIF) never talks to Orthanc or holds its credentials.

Mounted at the same path as the plugin's root (`/dicom-web/`), and every upstream request says who
the browser reached (`Forwarded: host=...;proto=...`, RFC 7239; the plugin builds every URL it
writes from it, since version 1.0). So the BulkDataURIs, RetrieveURLs and multipart
Content-Locations in Orthanc's answers already point at this endpoint, and bodies are passed
through untouched, chunk by chunk: a study is never held in memory.

Who may read which study is decided above this layer (the worklist and clinician apps know the
users and their patients): `settings.DICOMWEB_ACCESS` names that policy (`DicomwebAccess`), which
also writes the audit log. Refusals answer like the rest of the API: 403 for a role that may not
use DICOMweb at all, 404 "Not found." for a study that is unknown or not the user's.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from typing import Protocol
from urllib.parse import parse_qsl, urlencode

import requests
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.module_loading import import_string
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

logger = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
# Answer headers worth passing on; the rest (Orthanc's keep-alive, server) stay here.
PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition")
# A clinician's study search asks Orthanc for their own studies by UID, this many per request.
UID_BATCH = 50


class DicomwebAccess(Protocol):
    """What the layer above decides for this proxy (see `clinician.dicomweb_access`)."""

    def may_use(self, user) -> bool:
        """May this user use DICOMweb at all (a role that reads images)?"""

    def visible_study_uids(self, user) -> set[str] | None:
        """StudyInstanceUIDs this user may read, or None for every study in the archive."""

    def may_read_study(self, user, study_instance_uid: str) -> bool: ...

    def audit(self, request, *, action: str, study_instance_uid: str = "", detail: str = "") -> None: ...


@lru_cache(maxsize=1)
def _access_policy(path: str) -> DicomwebAccess:
    return import_string(path)()


def access_policy() -> DicomwebAccess:
    return _access_policy(settings.DICOMWEB_ACCESS)


# --- upstream ------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _session(username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.auth = (username, password)
    return session


class ArchiveUnavailable(Exception):
    pass


def upstream_url(path: str) -> str:
    return settings.ORTHANC_URL.rstrip("/") + settings.DICOMWEB_ROOT + path


def upstream_get(request, path: str, *, query: str | None = None) -> requests.Response:
    """GET `path` (below the DICOMweb root) from Orthanc, streamed, as the browser asked for it."""
    url = upstream_url(path)
    query = request.META.get("QUERY_STRING", "") if query is None else query
    if query:
        url += "?" + query
    headers = {
        "Accept": request.headers.get("Accept", "*/*"),
        # The plugin writes every URL in its answers from this: they point back at this endpoint.
        "Forwarded": f"host={request.get_host()};proto={request.scheme}",
    }
    try:
        answer = _session(settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD).get(
            url, headers=headers, stream=True, timeout=settings.ORTHANC_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise ArchiveUnavailable(str(exc)) from exc
    if answer.status_code in (401, 403) or answer.status_code >= 500:
        answer.close()
        logger.warning("Orthanc's DICOMweb answered %s for %s", answer.status_code, path)
        raise ArchiveUnavailable(f"Orthanc answered {answer.status_code}")
    return answer


def _chunks(answer: requests.Response) -> Iterator[bytes]:
    try:
        yield from answer.iter_content(CHUNK_BYTES)
    finally:
        answer.close()


async def _chunks_async(answer: requests.Response) -> AsyncIterator[bytes]:
    """The same chunks for an ASGI server, read one at a time in a worker thread.

    Django collects a synchronous iterator whole before an ASGI server sends any of it
    (StreamingHttpResponse.__aiter__), which would hold a whole study in memory."""
    source = answer.iter_content(CHUNK_BYTES)
    read = sync_to_async(next, thread_sensitive=False)
    try:
        while (chunk := await read(source, None)) is not None:
            yield chunk
    finally:
        await sync_to_async(answer.close, thread_sensitive=False)()


def relay(request, answer: requests.Response) -> StreamingHttpResponse | HttpResponse:
    """Orthanc's answer as this endpoint's, streamed; errors in the API's words."""
    if answer.status_code == 404:
        answer.close()
        return not_found()
    if answer.status_code >= 400:
        answer.close()
        return JsonResponse({"detail": f"The archive refused this DICOMweb request ({answer.status_code})."},
                            status=answer.status_code)
    asgi = isinstance(getattr(request, "_request", request), ASGIRequest)
    response = StreamingHttpResponse(_chunks_async(answer) if asgi else _chunks(answer), status=answer.status_code)
    for name in PASSED_HEADERS:
        if name in answer.headers:
            response[name] = answer.headers[name]
    response["Cache-Control"] = "private, no-store"
    return response


def not_found() -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def archive_unavailable() -> JsonResponse:
    return JsonResponse({"detail": "The image archive is unavailable; try again shortly."}, status=503,
                        headers={"Retry-After": "5"})


# --- views ---------------------------------------------------------------------------------


class AnyAccept(BaseContentNegotiation):
    """DICOMweb clients ask for multipart/related or application/dicom+json: Orthanc answers them,
    not DRF's renderers (which would refuse those Accept headers with 406)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class DicomwebView(APIView):
    """The API's authentication (session or token); who may read what is the access policy's."""

    content_negotiation_class = AnyAccept
    permission_classes = []  # checked by refused(), so that a refusal is audited


def refused(request) -> JsonResponse | None:
    user = request.user
    if not (user and user.is_authenticated):
        return JsonResponse({"detail": "Authentication credentials were not provided."}, status=403)
    if not access_policy().may_use(user):
        access_policy().audit(request, action="dicomweb.refused", detail=f"role {user.role}: {request.path}")
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return None


class StudySearch(DicomwebView):
    """QIDO-RS /studies: a clinician's search only ever returns their own patients' studies."""

    @extend_schema(exclude=True)
    def get(self, request):
        if refusal := refused(request):
            return refusal
        policy = access_policy()
        visible = policy.visible_study_uids(request.user)
        try:
            if visible is None:
                answer = upstream_get(request, "studies")
                policy.audit(request, action="dicomweb.search", detail=request.META.get("QUERY_STRING", ""))
                return relay(request, answer)
            matches = _own_studies(request, visible)
        except ArchiveUnavailable:
            return archive_unavailable()
        policy.audit(request, action="dicomweb.search",
                     detail=f"{len(matches)} own: {request.META.get('QUERY_STRING', '')}")
        return JsonResponse(matches, safe=False, content_type="application/dicom+json",
                            headers={"Cache-Control": "private, no-store"})


def _own_studies(request, visible: set[str]) -> list[dict]:
    """Orthanc's matches among `visible` only: the query is sent with the user's UIDs (QIDO UID
    list matching), a few dozen at a time, and paged here."""
    params = [(k, v) for k, v in parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
              if k.lower() not in ("limit", "offset")]
    asked = {v for k, v in params if k in ("StudyInstanceUID", "0020000D")}
    params = [(k, v) for k, v in params if k not in ("StudyInstanceUID", "0020000D")]
    wanted = sorted(visible if not asked else visible & {u for a in asked for u in a.replace("\\", ",").split(",")})
    found: list[dict] = []
    for start in range(0, len(wanted), UID_BATCH):
        batch = wanted[start:start + UID_BATCH]
        answer = upstream_get(request, "studies", query=urlencode([*params, ("StudyInstanceUID", ",".join(batch))]))
        try:
            if answer.status_code == 200:
                found += [s for s in answer.json() if s.get("0020000D", {}).get("Value", [None])[0] in visible]
        finally:
            answer.close()
    offset, limit = _int_param(request, "offset", 0), _int_param(request, "limit", None)
    return found[offset:] if limit is None else found[offset:offset + limit]


def _int_param(request, name: str, default):
    try:
        return max(int(request.GET[name]), 0)
    except (KeyError, ValueError):
        return default


# What each path below a study is, for the audit log: searches and metadata are recorded at every
# request; pixel data (frames, bulk data, rendered images) once per series per AUDIT_WINDOW_SECONDS,
# as the canvas viewer records opening a series rather than each slice.
AUDIT_WINDOW_SECONDS = 600
KINDS = {"series": "search", "instances": "search", "metadata": "metadata", "frames": "pixels",
         "bulk": "pixels", "rendered": "pixels", "thumbnail": "pixels"}


class StudyResource(DicomwebView):
    """Everything below /studies/{StudyInstanceUID}: searches, metadata, retrieve, frames, bulk data,
    rendered images; the study is checked first, and Orthanc checks that the series and instance
    UIDs below it belong to it (404 otherwise)."""

    @extend_schema(exclude=True)
    def get(self, request, study: str, rest: str = ""):
        if refusal := refused(request):
            return refusal
        policy = access_policy()
        if not policy.may_read_study(request.user, study):
            policy.audit(request, action="dicomweb.refused", study_instance_uid=study, detail=request.path[:300])
            return not_found()
        parts = rest.strip("/").split("/") if rest.strip("/") else []
        kind = _kind(parts)
        try:
            answer = upstream_get(request, f"studies/{study}{'/' + '/'.join(parts) if parts else ''}")
        except ArchiveUnavailable:
            return archive_unavailable()
        series = parts[1] if len(parts) > 1 and parts[0] == "series" else ""
        if kind != "pixels" or cache.add(f"dicomweb-audit:{request.user.pk}:{study}:{series}", True,
                                         AUDIT_WINDOW_SECONDS):
            policy.audit(request, action=f"dicomweb.{kind}", study_instance_uid=study,
                         detail="/".join(parts[:4]) or "study")
        return relay(request, answer)


def _kind(parts: list[str]) -> str:
    for part in reversed(parts):
        if part in KINDS:
            return KINDS[part]
    return "retrieve"
