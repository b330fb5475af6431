"""FHIR R4 read API for electronic health records: ImagingStudy and DiagnosticReport, read and search.

Same authorisation as the pages (clinician.selectors.studies_visible_to). An id that is unknown
and an id that is not the caller's get the same OperationOutcome; a search sees only what the
caller may see, so another clinician's patient yields an empty Bundle. Unsupported search
parameters are refused rather than ignored: ignoring a misspelt filter would return everything.
"""

from __future__ import annotations

import re

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.tokens import ExpiringTokenAuthentication
from clinician import fhir, fhir_openapi
from clinician.permissions import IsClinicianOrDepartment
from clinician.selectors import studies_visible_to
from worklist.audit import audited_read

MAX_COUNT = 200
JSON_FORMATS = set(fhir_openapi.JSON_FORMATS)


class FhirJsonRenderer(JSONRenderer):
    media_type = fhir.FHIR_CONTENT_TYPE
    format = "json"
    charset = "utf-8"


class FhirNegotiation(BaseContentNegotiation):
    """Always FHIR JSON: clients asking for application/json or */* get it too (XML is not offered)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class FhirError(exceptions.APIException):
    def __init__(self, status_code: int, code: str, diagnostics: str):
        super().__init__(diagnostics)
        self.status_code, self.fhir_code, self.diagnostics = status_code, code, diagnostics


def not_found(resource_type: str) -> FhirError:
    # The same words for "unknown" and "not yours", and no echo of the id: bodies are identical.
    return FhirError(404, "not-found", f"{resource_type} not found")


class FhirView(APIView):
    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [IsClinicianOrDepartment]
    renderer_classes = [FhirJsonRenderer]
    content_negotiation_class = FhirNegotiation
    resource_type = ""

    def initial(self, request, *args, **kwargs):
        requested = request.query_params.get("_format")
        if requested and requested not in JSON_FORMATS:
            raise FhirError(406, "not-supported", "only JSON is supported (_format=json)")
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, FhirError):
            response = Response(fhir.operation_outcome(exc.fhir_code, exc.diagnostics), status=exc.status_code)
        elif isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            response = Response(fhir.operation_outcome("login", "authentication required"), status=401)
            response["WWW-Authenticate"] = 'Token realm="fhir"'
        elif isinstance(exc, exceptions.PermissionDenied):
            response = Response(fhir.operation_outcome("forbidden", "not available for this account"), status=403)
        else:
            return super().handle_exception(exc)
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"  # patient data must not sit in shared caches
        return response

    def base_url(self, request) -> str:
        return request.build_absolute_uri("/fhir").rstrip("/")


def _values(raw: str) -> list[str]:
    # Token search: "system|value" or "value"; a comma means OR.
    return [part.split("|")[-1].strip() for part in raw.split(",") if part.split("|")[-1].strip()]


# A logical id here is a database key: ASCII digits that fit a bigint. str.isdigit() also accepts
# "²" and 30-digit numbers, which int() or the database then refused with a 500 (issue 17).
_ID = re.compile(r"[0-9]{1,18}")


def resource_pk(resource_id: str) -> int | None:
    return int(resource_id) if _ID.fullmatch(resource_id) else None


def _patient_ids(raw: str) -> list[str]:
    return [value.removeprefix("Patient/") for value in _values(raw)]


class FhirSearchView(FhirView):
    allowed = {"_format", "_count"}

    def search_params(self, request) -> dict[str, list[str]]:
        params = {key: request.query_params.get(key, "") for key in request.query_params}
        unknown = sorted(set(params) - set(fhir.SEARCH_PARAMS[self.resource_type]) - self.allowed)
        if unknown:
            raise FhirError(400, "not-supported", f"unsupported search parameter(s): {', '.join(unknown)}")
        # PostgreSQL text cannot hold NUL, and no identifier contains one: refuse it here rather than
        # let the database raise (a 500 the schemathesis fuzz found). DRF's CharField does the same.
        if any("\x00" in value for value in params.values()):
            raise FhirError(400, "invalid", "search parameters cannot contain NUL characters")
        return {key: value for key, value in params.items() if key not in self.allowed}

    def count(self, request) -> int:
        # FHIR lets a server return fewer than _count asks: any larger number is served as MAX_COUNT
        # (its digits are never handed to int(), which refuses over 4300 of them, nor to the database).
        raw = request.query_params.get("_count", str(MAX_COUNT))
        if not re.fullmatch(r"[0-9]+", raw):
            raise FhirError(400, "invalid", "_count must be a whole number (ASCII digits)")
        digits = raw.lstrip("0") or "0"
        return MAX_COUNT if len(digits) > len(str(MAX_COUNT)) else min(int(digits), MAX_COUNT)

    def filtered(self, request, studies):
        for name, raw in self.search_params(request).items():
            if name == "patient":
                studies = studies.filter(patient_id__in=_patient_ids(raw))
            elif name == "accession":
                studies = studies.filter(accession_number__in=_values(raw))
            elif name == "identifier":
                values = _values(raw)
                uids = [v.removeprefix("urn:oid:") for v in values if v.startswith("urn:oid:")]
                if self.resource_type == "ImagingStudy" and uids:
                    studies = studies.filter(study_instance_uid__in=uids)
                else:
                    studies = studies.filter(accession_number__in=values)
            elif name == "_id":
                ids = [pk for pk in map(resource_pk, _values(raw)) if pk is not None]
                studies = studies.filter(**{self.id_field + "__in": ids})
        return studies

    def bundle(self, request, resources: list[dict], studies) -> Response:
        request.audit.detail = request.get_full_path()[:300]
        request.audit.shown(studies)
        return Response(fhir.searchset(resources, self_url=request.build_absolute_uri(),
                                       base_url=self.base_url(request)))


class ImagingStudySearch(FhirSearchView):
    resource_type = "ImagingStudy"
    id_field = "pk"

    @fhir_openapi.search_schema("ImagingStudy", fhir_openapi.IMAGING_STUDY, max_count=MAX_COUNT)
    @audited_read("fhir.ImagingStudy.search")
    def get(self, request):
        studies = self.filtered(request, studies_visible_to(request.user))
        studies = list(studies.prefetch_related("series").order_by("-arrived_at", "-id")[:self.count(request)])
        return self.bundle(request, [fhir.imaging_study(s) for s in studies], studies)


class ImagingStudyRead(FhirView):
    resource_type = "ImagingStudy"

    @fhir_openapi.read_schema("ImagingStudy", fhir_openapi.IMAGING_STUDY)
    @audited_read("fhir.ImagingStudy.read")
    def get(self, request, resource_id: str):
        pk = resource_pk(resource_id)
        study = studies_visible_to(request.user).filter(pk=pk).prefetch_related("series").first() \
            if pk is not None else None
        if study is None:
            raise not_found(self.resource_type)
        request.audit.study = study
        return Response(fhir.imaging_study(study))


class DiagnosticReportSearch(FhirSearchView):
    resource_type = "DiagnosticReport"
    id_field = "report__pk"

    @fhir_openapi.search_schema("DiagnosticReport", fhir_openapi.DIAGNOSTIC_REPORT, max_count=MAX_COUNT)
    @audited_read("fhir.DiagnosticReport.search")
    def get(self, request):
        studies = self.filtered(request, studies_visible_to(request.user).filter(report__isnull=False))
        studies = list(studies.select_related("report").order_by("-reported_at", "-id")[:self.count(request)])
        return self.bundle(request, [fhir.diagnostic_report(s) for s in studies], studies)


class DiagnosticReportRead(FhirView):
    resource_type = "DiagnosticReport"

    @fhir_openapi.read_schema("DiagnosticReport", fhir_openapi.DIAGNOSTIC_REPORT)
    @audited_read("fhir.DiagnosticReport.read")
    def get(self, request, resource_id: str):
        pk = resource_pk(resource_id)
        study = studies_visible_to(request.user).filter(report__pk=pk).select_related("report") \
            .first() if pk is not None else None
        if study is None:
            raise not_found(self.resource_type)
        request.audit.study = study
        return Response(fhir.diagnostic_report(study))


class CapabilityStatementView(FhirView):
    permission_classes = [AllowAny]  # the server's description holds no patient data

    @fhir_openapi.capability_schema
    def get(self, request):
        from django.conf import settings

        version = getattr(settings, "SPECTACULAR_SETTINGS", {}).get("VERSION", "0")
        return Response(fhir.capability_statement(base_url=self.base_url(request), software_version=version,
                                                  date=timezone.now().date().isoformat()))


@extend_schema(exclude=True)  # a catch-all route, not an operation: any other type is 404
class UnknownResource(FhirView):
    permission_classes = [AllowAny]

    def get(self, request, resource_type: str, rest: str = ""):
        raise FhirError(404, "not-supported", "resource type not supported here; see /fhir/metadata")
