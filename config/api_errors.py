"""One place where domain errors become HTTP answers (HackSoft's approach, ../shared/STYLE.md).

A service raises an error that says, in the reader's words, why the action cannot be done; the
error class declares its HTTP status (`http_status`) and, when the page needs more than the text,
`api_data()`. Views call the service and let the error through; this handler answers it. Anything
without `http_status` goes to DRF's own handler (and an unexpected error stays a 500, logged).
"""

from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    status = getattr(exc, "http_status", None)
    if isinstance(status, int):
        data = exc.api_data() if hasattr(exc, "api_data") else {"detail": str(exc)}
        return Response(data, status=status)
    return drf_exception_handler(exc, context)
