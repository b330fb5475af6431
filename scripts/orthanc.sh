#!/usr/bin/env bash
# Run the project's Orthanc (Debian package) in the foreground with orthanc/orthanc.json.
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$ORTHANC_STORAGE"
exec /usr/sbin/Orthanc "$ROOT/orthanc/orthanc.json"
