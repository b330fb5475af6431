"""The operator's Orthanc account (ORTHANC_ADMIN_USERNAME): what tests do that the application may not.

The application's own account is restricted by orthanc/access.lua (no deletion of studies, no
configuration changes); emptying the archive between tests, or removing wrong images the way an
operator corrects the archive, goes through this account.
"""

from __future__ import annotations

import os

import requests
from django.conf import settings


def admin_auth() -> tuple[str, str]:
    return os.environ["ORTHANC_ADMIN_USERNAME"], os.environ["ORTHANC_ADMIN_PASSWORD"]


def admin_request(method: str, path: str, **kwargs) -> requests.Response:
    kwargs.setdefault("timeout", 30)
    return requests.request(method, f"{settings.ORTHANC_URL}/{path.lstrip('/')}", auth=admin_auth(), **kwargs)


def admin_delete(path: str) -> None:
    admin_request("DELETE", path).raise_for_status()
