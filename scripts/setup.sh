#!/usr/bin/env bash
# Install what is missing on a fresh Debian machine (run as root): system packages, then a .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v Orthanc >/dev/null 2>&1 || [ -x /usr/sbin/Orthanc ] || need+=(orthanc)
[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || need+=(orthanc-dicomweb)
# Orthanc's index in PostgreSQL (scripts/orthanc.sh, ORTHANC_INDEX_DATABASE_URL), as docker-compose.yml runs it.
[ -e /usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so ] || need+=(orthanc-postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v dciodvfy >/dev/null 2>&1 || need+=(dicom3tools)
# Report PDFs: Latin, Greek and Cyrillic names from DejaVu, Chinese ones from Droid's fallback font.
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ -e /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || need+=(fonts-droid-fallback)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ "${WITH_TEST_TOOLS:-0}" = 1 ]; then
  command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  # JPEG baseline/extended/lossless, JPEG-LS and RLE test files are encoded with DCMTK.
  command -v dcmcjpeg >/dev/null 2>&1 || need+=(dcmtk)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Reinstall only when requirements.txt changed since the last install.
stamp=.venv/.requirements.sha
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi

# Front-end libraries (Chart.js) from the npm registry, exactly as package-lock.json says.
npm_stamp=node_modules/.lock.sha
npm_want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_want" > "$npm_stamp"
fi
