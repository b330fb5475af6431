"""Middleware of the whole site."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse


def body_size_limit(get_response):
    """413 for a request whose declared body is over DATA_UPLOAD_MAX_MEMORY_SIZE, before any view
    or parser reads it. (The ASGI handler has already spooled the body to a temporary file, so
    memory is not the risk; parsers working through a huge body are.)"""

    def middleware(request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("invalid Content-Length", status=400, content_type="text/plain")
        if limit is not None and length > limit:
            return HttpResponse(f"request body over {limit} bytes", status=413, content_type="text/plain")
        return get_response(request)

    return middleware
