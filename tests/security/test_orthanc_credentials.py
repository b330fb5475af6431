"""The archive answers only with credentials, and only on loopback."""

import json
import re
from pathlib import Path

import pytest
import requests
from django.conf import settings

pytestmark = [pytest.mark.integration]
CONFIG = Path(__file__).resolve().parents[2] / "orthanc" / "orthanc.json"


@pytest.mark.parametrize("path", ["system", "studies", "changes", "tools/find", "instances"])
def test_orthanc_refuses_requests_without_credentials(orthanc_server, path):
    url = f"{settings.ORTHANC_URL}/{path}"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, auth=(settings.ORTHANC_USERNAME, "wrong-password"), timeout=5).status_code == 401
    assert requests.get(url, auth=("nobody", settings.ORTHANC_PASSWORD), timeout=5).status_code == 401


def test_orthanc_answers_with_the_configured_credentials(orthanc_server):
    auth = (settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD)
    assert requests.get(f"{settings.ORTHANC_URL}/system", auth=auth, timeout=5).ok


def test_orthanc_configuration_keeps_authentication_and_loopback_and_takes_secrets_from_the_environment():
    text = CONFIG.read_text()
    # Numbers are environment placeholders written bare (`"HttpPort" : ${ORTHANC_HTTP_PORT}`).
    text = re.sub(r":\s*\$\{\w+\}", ": 0", text)
    config = json.loads("\n".join(line for line in text.splitlines() if not line.strip().startswith("//")))
    assert config["AuthenticationEnabled"] is True
    assert config["RemoteAccessAllowed"] is False
    # The application's account and the operator's; access.lua narrows every other than the operator's.
    assert config["RegisteredUsers"] == {"${ORTHANC_USERNAME}": "${ORTHANC_PASSWORD}",
                                         "${ORTHANC_ADMIN_USERNAME}": "${ORTHANC_ADMIN_PASSWORD}"}
    assert config["TriageAdminUser"] == "${ORTHANC_ADMIN_USERNAME}"
    assert config["LuaScripts"] == ["access.lua"]
    # Only the listed modalities (DICOM_MODALITIES), from their own host, may send or echo.
    assert config["DicomAlwaysAllowStore"] is False and config["DicomAlwaysAllowEcho"] is False
    assert config["DicomCheckModalityHost"] is True and config["DicomModalitiesInDatabase"] is False
