"""The FHIR operations described in the OpenAPI schema (drf-spectacular), so that the schema's
readers and the schemathesis fuzz (tests/security/test_api_fuzzing.py) see them like every other
API (issue 17: FHIR had been left out of the schema and so out of the fuzz).

The search parameters come from `fhir.SEARCH_PARAMS`, the table the CapabilityStatement is built
from: one list, so the schema, /fhir/metadata and the views cannot disagree. The resource schemas
name the elements this server sends, not the whole of FHIR R4; tests validate the resources
themselves with the `fhir.resources` models (tests/clinician/test_fhir.py).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from clinician import fhir

TAG = "FHIR R4"
JSON_FORMATS = ("json", "application/json", "application/fhir+json")


def _resource(resource_type: str, required: list[str], properties: dict) -> dict:
    return {
        "type": "object",
        "required": ["resourceType", *required],
        "properties": {"resourceType": {"type": "string", "enum": [resource_type]}, **properties},
    }


_STRING = {"type": "string"}
_CODING = {"type": "object", "properties": {"system": _STRING, "code": _STRING, "display": _STRING}}
_REFERENCE = {"type": "object", "properties": {"reference": _STRING, "display": _STRING,
                                                "identifier": {"type": "object"}}}
_IDENTIFIERS = {"type": "array", "items": {"type": "object", "required": ["value"],
                                           "properties": {"system": _STRING, "value": _STRING}}}

OPERATION_OUTCOME = _resource("OperationOutcome", ["issue"], {
    "issue": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["severity", "code"],
        "properties": {"severity": _STRING, "code": _STRING, "diagnostics": _STRING},
    }},
})
IMAGING_STUDY = _resource("ImagingStudy", ["id", "status", "subject"], {
    "id": _STRING, "identifier": _IDENTIFIERS, "status": _STRING,
    "modality": {"type": "array", "items": _CODING}, "subject": _REFERENCE,
    "started": {"type": "string", "format": "date-time", "nullable": True},
    "numberOfSeries": {"type": "integer"}, "numberOfInstances": {"type": "integer"},
    "description": _STRING, "series": {"type": "array", "items": {"type": "object", "required": ["uid"]}},
})
DIAGNOSTIC_REPORT = _resource("DiagnosticReport", ["id", "status", "code", "subject"], {
    "id": _STRING, "identifier": _IDENTIFIERS, "status": {"type": "string", "enum": ["final", "amended"]},
    "category": {"type": "array"}, "code": {"type": "object"}, "subject": _REFERENCE,
    "effectiveDateTime": {"type": "string", "format": "date-time", "nullable": True},
    "issued": {"type": "string", "format": "date-time"}, "conclusion": _STRING,
    "imagingStudy": {"type": "array", "items": _REFERENCE},
    "presentedForm": {"type": "array", "items": {"type": "object", "properties": {
        "contentType": _STRING, "data": {"type": "string", "format": "byte"}, "size": {"type": "integer"}}}},
})
CAPABILITY_STATEMENT = _resource("CapabilityStatement", ["status", "kind", "fhirVersion", "format"], {
    "fhirVersion": {"type": "string", "enum": [fhir.FHIR_VERSION]}, "kind": _STRING, "status": _STRING,
    "format": {"type": "array", "items": _STRING}, "rest": {"type": "array"},
})


def _bundle(resource: dict) -> dict:
    return _resource("Bundle", ["type", "entry"], {
        "type": {"type": "string", "enum": ["searchset"]}, "total": {"type": "integer", "minimum": 0},
        "link": {"type": "array"},
        "entry": {"type": "array", "items": {"type": "object", "required": ["fullUrl", "resource"],
                                             "properties": {"fullUrl": _STRING, "resource": resource}}},
    })


def _outcome(description: str) -> OpenApiResponse:
    return OpenApiResponse(OPERATION_OUTCOME, description=f"OperationOutcome: {description}")


FORMAT = OpenApiParameter("_format", str, OpenApiParameter.QUERY, enum=list(JSON_FORMATS),
                          description="Only JSON is served; any other format is refused with 406.")
ERRORS = {
    401: _outcome("authentication required"),
    403: _outcome("the account's role may not read FHIR"),
    406: _outcome("a _format other than JSON"),
}


def read_schema(resource_type: str, resource: dict):
    return extend_schema(
        operation_id=f"fhir_{resource_type}_read", tags=[TAG], summary=f"Read one {resource_type}",
        description="A referring clinician reads only their own patients' resources; another's answers "
                    "exactly like an unknown id (404).",
        parameters=[
            OpenApiParameter("resource_id", str, OpenApiParameter.PATH,
                             description="Logical id: this server's ids are decimal numbers. Anything else, "
                                         "or an id that is not the caller's, is 404."),
            FORMAT,
        ],
        responses={200: OpenApiResponse(resource, description=resource_type),
                   404: _outcome("unknown, or not the caller's"), **ERRORS},
    )


def search_schema(resource_type: str, resource: dict, *, max_count: int):
    searched = [
        OpenApiParameter(name, str, OpenApiParameter.QUERY, description=f"{kind}: {doc}. A comma means OR.")
        for name, (kind, doc) in sorted(fhir.SEARCH_PARAMS[resource_type].items())
    ]
    count = OpenApiParameter("_count", {"type": "integer", "minimum": 0}, OpenApiParameter.QUERY,
                             description=f"Page size; larger values are served as {max_count}.")
    return extend_schema(
        operation_id=f"fhir_{resource_type}_search", tags=[TAG], summary=f"Search {resource_type}",
        description="A Bundle of the caller's matching resources (a clinician's own patients; the department "
                    "sees all). Unsupported parameters are refused, never ignored.",
        parameters=[*searched, count, FORMAT],
        responses={200: OpenApiResponse(_bundle(resource), description="Bundle (searchset)"),
                   400: _outcome("an unsupported search parameter or a _count that is not a number"), **ERRORS},
    )


capability_schema = extend_schema(
    operation_id="fhir_metadata", tags=[TAG], summary="CapabilityStatement",
    description="What this FHIR server offers; holds no patient data and needs no sign-in.",
    parameters=[FORMAT],
    responses={200: OpenApiResponse(CAPABILITY_STATEMENT, description="CapabilityStatement"),
               406: ERRORS[406]},
)
