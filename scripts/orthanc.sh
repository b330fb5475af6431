#!/usr/bin/env bash
# Run the project's Orthanc (Debian package) in the foreground with orthanc/orthanc.json.
#
# DICOM_MODALITIES lists who may send DICOM: "AET@host[:port],..." (host as an IP address, the
# way the association arrives; port 104 if left out, used only if Orthanc ever sends to it).
# Orthanc refuses C-STORE (and C-ECHO) from any other AE title or host. Empty: nobody may send.
#
# ORTHANC_INDEX_DATABASE_URL, if set, puts Orthanc's index (patients, studies, series, instances,
# the change feed) in that PostgreSQL database, "postgresql://user:password@host:port/database"
# (special characters in the password percent-encoded), with Debian's orthanc-postgresql plugin;
# the DICOM files stay in ORTHANC_STORAGE. Empty (the default): the SQLite index in ORTHANC_STORAGE.
#
# ORTHANC_REMOTE_ACCESS=true lets other hosts reach the REST API, for the application running on
# other machines (docker-compose); authentication stays on and orthanc/access.lua still narrows the
# application's account. false (the default): loopback only.
set -euo pipefail
source "$(dirname "$0")/env.sh"

modalities_json() {
  local entries=() entry aet host port name json="" seen=" "
  IFS=',' read -r -a entries <<< "${DICOM_MODALITIES:-}"
  for entry in "${entries[@]}"; do
    entry="${entry#"${entry%%[![:space:]]*}"}" entry="${entry%"${entry##*[![:space:]]}"}"  # trim
    [[ -z "$entry" ]] && continue
    if [[ ! "$entry" =~ ^([A-Za-z0-9_.-]{1,16})@([A-Za-z0-9_.-]+)(:([0-9]{1,5}))?$ ]]; then
      echo "orthanc.sh: DICOM_MODALITIES entry '$entry' is not AET@host[:port]" >&2
      return 1
    fi
    aet="${BASH_REMATCH[1]}" host="${BASH_REMATCH[2]}" port="${BASH_REMATCH[4]:-104}"
    # Orthanc allows only letters, digits, dashes and underscores in a modality's name.
    name="${aet//./_}_${host//./_}"
    if [[ "$seen" == *" $name "* ]]; then
      echo "orthanc.sh: DICOM_MODALITIES lists $aet@$host twice" >&2
      return 1
    fi
    seen+="$name "
    # A modality may store and echo, nothing else (no C-FIND, C-MOVE, C-GET of other studies).
    json+="${json:+, }\"$name\" : { \"AET\" : \"$aet\", \"Host\" : \"$host\", \"Port\" : $port,"
    json+=" \"AllowEcho\" : true, \"AllowStore\" : true, \"AllowFind\" : false, \"AllowFindWorklist\" : false,"
    json+=" \"AllowMove\" : false, \"AllowGet\" : false, \"AllowNAction\" : false, \"AllowEventReport\" : false }"
  done
  echo "{ $json }"
}

if [[ -z "${ORTHANC_ADMIN_PASSWORD:-}" || "$ORTHANC_ADMIN_USERNAME" == "$ORTHANC_USERNAME" ]]; then
  echo "orthanc.sh: set ORTHANC_ADMIN_USERNAME (not the application's $ORTHANC_USERNAME) and ORTHANC_ADMIN_PASSWORD" >&2
  exit 1
fi
# The plugins orthanc/orthanc.json loads, and its "PostgreSQL" section.
index_json() {
  local url="${ORTHANC_INDEX_DATABASE_URL:-}" plugins="$PLUGIN_DIR/libOrthancDicomWeb.so"
  if [[ -z "$url" ]]; then
    ORTHANC_PLUGINS="[ \"$plugins\" ]"
    ORTHANC_POSTGRESQL='{ "EnableIndex" : false, "EnableStorage" : false }'
    return 0
  fi
  if [[ ! "$url" =~ ^postgres(ql)?://[^[:space:]\"\\]+$ ]]; then
    echo "orthanc.sh: ORTHANC_INDEX_DATABASE_URL is not postgresql://user:password@host:port/database" >&2
    return 1
  fi
  if [[ ! -e "$PLUGIN_DIR/libOrthancPostgreSQLIndex.so" ]]; then
    echo "orthanc.sh: ORTHANC_INDEX_DATABASE_URL is set but $PLUGIN_DIR/libOrthancPostgreSQLIndex.so is" \
      "missing (apt-get install orthanc-postgresql)" >&2
    return 1
  fi
  ORTHANC_PLUGINS="[ \"$plugins\", \"$PLUGIN_DIR/libOrthancPostgreSQLIndex.so\" ]"
  # The index only: DICOM files stay on disk. Lock: one Orthanc per index database. Retries: the
  # database may come up after Orthanc (docker-compose), 10 tries 5 s apart before Orthanc gives up.
  ORTHANC_POSTGRESQL="{ \"EnableIndex\" : true, \"EnableStorage\" : false, \"ConnectionUri\" : \"$url\","
  ORTHANC_POSTGRESQL+=" \"Lock\" : true, \"MaximumConnectionRetries\" : 10, \"ConnectionRetryInterval\" : 5 }"
}

PLUGIN_DIR=/usr/share/orthanc/plugins
ORTHANC_REMOTE_ACCESS="${ORTHANC_REMOTE_ACCESS:-false}"
if [[ "$ORTHANC_REMOTE_ACCESS" != true && "$ORTHANC_REMOTE_ACCESS" != false ]]; then
  echo "orthanc.sh: ORTHANC_REMOTE_ACCESS is true or false, not '$ORTHANC_REMOTE_ACCESS'" >&2
  exit 1
fi
ORTHANC_DICOM_MODALITIES="$(modalities_json)"
index_json
export ORTHANC_DICOM_MODALITIES ORTHANC_PLUGINS ORTHANC_POSTGRESQL ORTHANC_REMOTE_ACCESS
mkdir -p "$ORTHANC_STORAGE"
exec /usr/sbin/Orthanc "$ROOT/orthanc/orthanc.json"
