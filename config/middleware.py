"""Middleware of the whole site."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import patch_cache_control


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


# No inline script anywhere; the pages' own styles are files too. Same-origin websockets are
# 'self' (CSP Level 3).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; worker-src 'self' blob:; font-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# OHIF (under /ohif/): still no inline script and nothing from another origin, but 'unsafe-eval':
# its DICOM SEG loader (@cornerstonejs/adapters through dcmjs) builds arrays with scijs ndarray,
# which compiles each array class with `new Function` — without it OHIF cannot show our SEGs
# (measured: the only violations in tests/ohif/test_ohif_viewer.py were that eval, and the SEG
# never loaded). Its codecs are WebAssembly, its decoders run in blob: workers and fetch blob: and
# data: URLs, and React and its UI kit set style attributes. Our own pages keep the strict policy.
OHIF_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self' data: blob:; worker-src 'self' blob:; "
    "font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def security_headers(get_response):
    """Content-Security-Policy on every answer, and no caching of anything dynamic: pages, API,
    FHIR and DICOMweb answers carry patient data and must not stay in a shared workstation's or a
    proxy's cache. Static files are answered before this middleware (WhiteNoise) and stay cacheable."""

    def middleware(request):
        response = get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        policy = OHIF_CONTENT_SECURITY_POLICY if request.path.startswith("/ohif/") else CONTENT_SECURITY_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        return response

    return middleware


LOGIN_PATHS = ("/login/", "/api/auth/token/")


def login_address_limit(get_response):
    """Password spraying: django-axes locks a (username, address) pair; this refuses any login from
    an address whose failures across all usernames reach LOGIN_ADDRESS_FAILURE_LIMIT within the
    lockout period (axes' own AccessAttempt rows are the count, so every worker sees the same)."""

    def middleware(request):
        if request.method == "POST" and request.path in LOGIN_PATHS and settings.AXES_ENABLED:
            from datetime import timedelta

            from axes.models import AccessAttempt
            from django.db.models import Sum
            from django.utils import timezone

            since = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
            failures = (AccessAttempt.objects.filter(ip_address=request.META.get("REMOTE_ADDR"),
                                                     attempt_time__gte=since)
                        .aggregate(n=Sum("failures_since_start"))["n"] or 0)
            if failures >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
                return HttpResponse("Too many failed logins from this address; try again later.", status=429,
                                    content_type="text/plain")
        return get_response(request)

    return middleware
