# Shared defaults for the demo and test scripts; every value can be overridden from the environment.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VAR_DIR="${VAR_DIR:-$ROOT/var}"
export ORTHANC_HTTP_PORT="${ORTHANC_HTTP_PORT:-8042}"
export ORTHANC_DICOM_PORT="${ORTHANC_DICOM_PORT:-4242}"
export ORTHANC_DICOM_HOST="${ORTHANC_DICOM_HOST:-127.0.0.1}"
export ORTHANC_DICOM_AET="${ORTHANC_DICOM_AET:-ORTHANC}"
export ORTHANC_URL="${ORTHANC_URL:-http://127.0.0.1:$ORTHANC_HTTP_PORT}"
export ORTHANC_USERNAME="${ORTHANC_USERNAME:-triage}"
export ORTHANC_PASSWORD="${ORTHANC_PASSWORD:-triage-demo-password}"
# The operator's Orthanc account: full rights. The application's account above is restricted
# to what the application does (orthanc/access.lua).
export ORTHANC_ADMIN_USERNAME="${ORTHANC_ADMIN_USERNAME:-orthanc-admin}"
export ORTHANC_ADMIN_PASSWORD="${ORTHANC_ADMIN_PASSWORD:-orthanc-admin-demo-password}"
# Who may send DICOM (scripts/orthanc.sh): "AET@host[:port],...". Nobody unless listed.
export DICOM_MODALITIES="${DICOM_MODALITIES:-}"
export ORTHANC_STORAGE="${ORTHANC_STORAGE:-$VAR_DIR/orthanc}"
export ORTHANC_STABLE_AGE="${ORTHANC_STABLE_AGE:-3}"
export ORTHANC_NAME="${ORTHANC_NAME:-triage-archive}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
