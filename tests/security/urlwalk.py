"""Every URL pattern of the site, with its parameters filled in, for walking with each role."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

# Values for the path parameters; ids point at rows the walking test creates.
PARAMETER_VALUES = {
    "number": "1", "key": "f1", "code": "stat", "index": "0", "resource_id": "x", "resource_type": "Patient",
    "rest": "",
}

REGEX_EXAMPLES = {r"^fhir/(?P<resource_type>[A-Za-z]+)(?:/(?P<rest>.*))?$": "/fhir/Patient/1"}


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("admin/"):
                yield route, "admin", None
                continue
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.name or route, pattern


def url_patterns() -> list[tuple[str, str]]:
    """(route, name) for every pattern; the admin counts as one (it has its own staff check)."""
    return [(route, name) for route, name, _ in _walk(get_resolver().url_patterns)]


def fill(route: str, ids: dict[str, int]) -> str:
    """A concrete path for a route such as 'api/studies/<int:study_id>/' or a regex route."""
    values = {**PARAMETER_VALUES, **{k: str(v) for k, v in ids.items()}}
    # Ids not given point at row 1 (which may not exist: then "not found" is the right answer).
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "1"), route)
    if path.startswith("^"):  # regex routes: one example each
        return REGEX_EXAMPLES[route]
    return "/" + path
