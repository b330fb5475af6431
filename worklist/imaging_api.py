"""The viewer's pixel proxy: Orthanc stays behind the application and its authentication."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ReadsWorklist
from archive import imaging, overlays
from archive.orthanc import OrthancNotFound, OrthancUnavailable
from worklist.audit import audited_read
from worklist.models import Series
from worklist.selectors import marks_visible


def _series_of_study(study_id: int, series_id: int) -> Series:
    # A series is only reachable through its own study, so ids cannot be mixed across patients.
    return get_object_or_404(Series.objects.select_related("study"), pk=series_id, study_id=study_id)


def _archive_error(exc: Exception) -> Response:
    if isinstance(exc, imaging.ImagingUnsupported):
        return Response({"detail": str(exc)}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, OrthancUnavailable):
        return Response({"detail": "The image archive is unavailable; try again shortly."},
                        status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    return Response({"detail": "These images are no longer in the archive."}, status=status.HTTP_404_NOT_FOUND)


class SeriesGeometryApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, 422: OpenApiResponse(description="Images this viewer cannot show")},
        summary="A series' slices in reading order, their positions and pixel format (for the viewer)",
    )
    @audited_read("study.images")
    def get(self, request, study_id: int, series_id: int):
        series = _series_of_study(study_id, series_id)
        request.audit.detail = f"series {series.pk} {series.series_instance_uid}"
        try:
            geometry = imaging.series_geometry(series.orthanc_id)
        except (imaging.ImagingUnsupported, OrthancUnavailable, OrthancNotFound) as exc:
            return _archive_error(exc)
        data = geometry.as_json()
        data.pop("series_orthanc_id")
        data.update(series_id=series.pk, series_instance_uid=series.series_instance_uid,
                    description=series.description, max_slices_per_request=imaging.MAX_SLICES_PER_REQUEST)
        return Response(data, headers={"Cache-Control": "private, no-store"})


class SeriesPixelsApi(APIView):
    permission_classes = [ReadsWorklist]

    class QuerySerializer(serializers.Serializer):
        ids = serializers.CharField(max_length=64 * imaging.MAX_SLICES_PER_REQUEST,
                                    help_text="Comma-separated slice ids from the geometry, in the order wanted")

    @extend_schema(
        parameters=[QuerySerializer, OpenApiParameter("Accept-Encoding", str, OpenApiParameter.HEADER)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                   422: OpenApiResponse(description="Images this viewer cannot show")},
        summary="Rescaled 16-bit pixels of a few slices: per slice its low-byte plane, then its high-byte plane",
        description=(
            "Colour series (dtype rgb8) send per slice an R, a G and a B byte plane. Slices that cannot be "
            "decoded are left out of the body and named in X-Slice-Errors (percent-encoded JSON, slice id -> "
            "reason); X-Slice-Ids lists the slices the body holds, in order."
        ),
    )
    @audited_read("study.pixels")
    def get(self, request, study_id: int, series_id: int):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ids = [part for part in query.validated_data["ids"].split(",") if part]
        series = _series_of_study(study_id, series_id)
        request.audit.detail = f"series {series.pk}: {len(ids)} slices"
        try:
            result = imaging.series_pixels(series.orthanc_id, ids)
        except imaging.SliceNotInSeries as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        except (imaging.ImagingUnsupported, OrthancUnavailable, OrthancNotFound) as exc:
            return _archive_error(exc)
        geometry, body = result.geometry, result.body
        response = HttpResponse(content_type="application/octet-stream")
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            body = imaging.gzip_bytes(body)
            response["Content-Encoding"] = "gzip"
        response.content = body
        response["Vary"] = "Accept-Encoding, Cookie, Authorization"
        # Patient images must not be left in a shared workstation's disk cache.
        response["Cache-Control"] = "private, no-store"
        response["X-Pixel-Format"] = f"{geometry.dtype};planes;{geometry.rows}x{geometry.columns}"
        response["X-Slice-Count"] = str(len(result.decoded))
        response["X-Slice-Ids"] = ",".join(result.decoded)
        if result.errors:
            response["X-Slice-Errors"] = result.errors_header()
        return response


class SeriesOverlaysApi(APIView):
    permission_classes = [ReadsWorklist]

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT,
                   409: OpenApiResponse(description="Second-reader mode: AI output is shown after the first read"),
                   422: OpenApiResponse(description="Images this viewer cannot show")},
        summary="The study's DICOM SEGs over this series: segments, colours and per-slice run-length masks",
        description=(
            "Masks are per slice in the geometry's slice order (`index`), as alternating run lengths of 0 "
            "and 1 over rows x columns in row-major order, starting with 0s; slices without pixels are left out."
        ),
    )
    @audited_read("study.overlays")
    def get(self, request, study_id: int, series_id: int):
        series = _series_of_study(study_id, series_id)
        request.audit.detail = f"series {series.pk} {series.series_instance_uid}"
        # Segmentations are AI output, hidden from a second reader like the AI's marks.
        if not marks_visible(series.study, request.user):
            return Response({"detail": "second-reader mode: AI output is shown after the first read"},
                            status=status.HTTP_409_CONFLICT)
        try:
            data = overlays.series_overlays(series.orthanc_id, series.study.orthanc_id)
        except (imaging.ImagingUnsupported, OrthancUnavailable, OrthancNotFound) as exc:
            return _archive_error(exc)
        data.update(series_id=series.pk, series_instance_uid=series.series_instance_uid)
        return Response(data, headers={"Cache-Control": "private, no-store"})
