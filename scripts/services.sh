#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on loopback; start them if they do not.
set -euo pipefail

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

if [ "${NEED_POSTGRES:-1}" = 1 ] && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "starting postgresql"
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi

for _ in $(seq 1 30); do
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 \
    && { [ "${NEED_POSTGRES:-1}" != 1 ] || pg_isready -h 127.0.0.1 -p 5432 -q; } && exit 0
  sleep 1
done
echo "services did not come up" >&2
exit 1
