"""docker-compose.yml (untested here: no Docker engine) runs Orthanc the way the tests do: the
project's launcher and configuration, its index in a PostgreSQL service of its own."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    """The file as docker compose reads it, each ${VAR...} given the value "VAR-value" as from an .env."""
    text = (ROOT / "docker-compose.yml").read_text()
    return yaml.safe_load(re.sub(r"\$\{(\w+)(?::?[-?][^}]*)?\}", lambda m: f"{m[1]}-value", text))


def test_orthanc_runs_the_tested_launcher_with_the_project_configuration():
    orthanc = compose()["services"]["orthanc"]
    assert "orthanc-postgresql" in orthanc["command"]
    assert '&& exec bash /etc/triage/scripts/orthanc.sh"' in orthanc["command"]
    # scripts/env.sh takes the parent of scripts/ as ROOT: orthanc/orthanc.json and access.lua are the repository's.
    assert "./orthanc:/etc/triage/orthanc:ro" in orthanc["volumes"]
    assert "./scripts:/etc/triage/scripts:ro" in orthanc["volumes"]
    env = orthanc["environment"]
    assert env["DICOM_MODALITIES"] == "DICOM_MODALITIES-value"  # required from the operator, no default
    assert env["ORTHANC_ADMIN_USERNAME"] != env["ORTHANC_USERNAME"]
    # web and the workers reach Orthanc's REST API over the compose network, not loopback.
    assert env["ORTHANC_REMOTE_ACCESS"] == "true"
    assert not any(str(port).split(":")[-1] == env["ORTHANC_HTTP_PORT"] for port in orthanc["ports"])


def test_orthanc_keeps_its_index_in_a_postgresql_service_of_its_own():
    services = compose()["services"]
    orthanc = services["orthanc"]
    url = urlsplit(orthanc["environment"]["ORTHANC_INDEX_DATABASE_URL"])
    assert url.scheme == "postgresql"
    index = services[url.hostname]
    assert index["image"].startswith("postgres:") and url.hostname in orthanc["depends_on"]
    assert url.hostname != "postgres"  # not the application's database
    assert url.port == 5432 and url.username == index["environment"]["POSTGRES_USER"]
    assert url.path == "/" + index["environment"]["POSTGRES_DB"]
    assert url.password == index["environment"]["POSTGRES_PASSWORD"] == "ORTHANC_INDEX_PASSWORD-value"
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in index["volumes"])
