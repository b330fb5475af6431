#!/usr/bin/env bash
# `make demo`: migrate, create demo accounts, then run every process under honcho. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
# Orthanc accepts DICOM only from listed modalities: the simulator (send_studies, AE title MODSIM)
# sends from this machine. Add a real modality as "MODSIM@127.0.0.1,CT1@192.0.2.10:104".
export DICOM_MODALITIES="${DICOM_MODALITIES:-MODSIM@127.0.0.1}"
mkdir -p "$VAR_DIR"

procfile="$VAR_DIR/Procfile.demo"
cp Procfile "$procfile"
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  # No Redis running: run one under honcho so Ctrl-C stops it too.
  echo 'redis: redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no' >> "$procfile"
fi

.venv/bin/python manage.py migrate --no-input
.venv/bin/python manage.py collectstatic --no-input >/dev/null
echo
echo "Demo accounts (synthetic data only):"
.venv/bin/python manage.py create_demo_users
# The demo clinician refers as one of the simulator's referring physicians.
.venv/bin/python manage.py link_referrer clinician 'Haddad^Samir^^Dr' >/dev/null
echo
echo "Open http://localhost:8000/ — Orthanc at $ORTHANC_URL (operator: $ORTHANC_ADMIN_USERNAME; the application's $ORTHANC_USERNAME is restricted)."
echo "DICOM accepted on port $ORTHANC_DICOM_PORT from: $DICOM_MODALITIES"
echo
exec .venv/bin/honcho -f "$procfile" -d . start
