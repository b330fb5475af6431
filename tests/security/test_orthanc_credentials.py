"""The archive answers only with credentials, and only on loopback."""

import json
import re
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.support import processes

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


def test_orthanc_refuses_other_hosts_unless_remote_access_is_configured(orthanc_server):
    # The test Orthanc runs with the launcher's default (ORTHANC_REMOTE_ACCESS unset): loopback only.
    # tests/integration/test_orthanc_postgresql_index.py runs one with it on, as docker-compose does.
    url, auth = f"{settings.ORTHANC_URL}/system", (settings.ORTHANC_USERNAME, settings.ORTHANC_PASSWORD)
    assert processes.status_from("127.0.0.1", url, auth) == 200
    assert processes.status_from("127.0.0.2", url, auth) == 401


def test_orthanc_configuration_keeps_authentication_and_loopback_and_takes_secrets_from_the_environment():
    text = CONFIG.read_text()
    # Remote access is the launcher's ORTHANC_REMOTE_ACCESS, false unless set (scripts/orthanc.sh).
    assert '"RemoteAccessAllowed" : ${ORTHANC_REMOTE_ACCESS},' in text
    launcher = (CONFIG.parents[1] / "scripts" / "orthanc.sh").read_text()
    assert 'ORTHANC_REMOTE_ACCESS="${ORTHANC_REMOTE_ACCESS:-false}"' in launcher
    # Numbers are environment placeholders written bare (`"HttpPort" : ${ORTHANC_HTTP_PORT}`).
    text = re.sub(r":\s*\$\{\w+\}", ": 0", text)
    config = json.loads("\n".join(line for line in text.splitlines() if not line.strip().startswith("//")))
    assert config["AuthenticationEnabled"] is True
    # The application's account and the operator's; access.lua narrows every other than the operator's.
    assert config["RegisteredUsers"] == {"${ORTHANC_USERNAME}": "${ORTHANC_PASSWORD}",
                                         "${ORTHANC_ADMIN_USERNAME}": "${ORTHANC_ADMIN_PASSWORD}"}
    assert config["TriageAdminUser"] == "${ORTHANC_ADMIN_USERNAME}"
    assert config["LuaScripts"] == ["access.lua"]
    # Only the listed modalities (DICOM_MODALITIES), from their own host, may send or echo.
    assert config["DicomAlwaysAllowStore"] is False and config["DicomAlwaysAllowEcho"] is False
    assert config["DicomCheckModalityHost"] is True and config["DicomModalitiesInDatabase"] is False
