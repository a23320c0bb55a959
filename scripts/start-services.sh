#!/usr/bin/env bash
# Starts what the test suite needs and the machine may lack: PostgreSQL, MariaDB and Redis (already
# running on this kind of machine; started here if stopped) and a Docker engine (installed from
# Debian's packages when missing). moto and the Kubernetes API stand-in are started by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_up; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up && echo "postgresql: up" || { echo "postgresql: NOT reachable on 127.0.0.1:5432"; exit 1; }

if ! mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  for _ in $(seq 1 30); do mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1 && break; sleep 1; done
fi
mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1 && echo "mariadb: up" || { echo "mariadb: NOT reachable"; exit 1; }

if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 10); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi
redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && echo "redis: up" || { echo "redis: NOT reachable"; exit 1; }

# Debian's prometheus: the `prom` adapter's tests start their own, scraping itself for real series.
if ! command -v prometheus >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
    || echo "prometheus: could not be installed (the prom tests will fail)"
fi
# The package's own service is not needed (and would hold port 9090): the tests start their own.
command -v prometheus >/dev/null 2>&1 && echo "prometheus: installed ($(prometheus --version 2>&1 | head -1 | cut -d' ' -f3))"
# The alerts tests start their own Alertmanager (own config, own ports); only the binary is needed.
if ! command -v prometheus-alertmanager >/dev/null 2>&1; then
  if apt-cache policy prometheus-alertmanager 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager
  else
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      prometheus-alertmanager
  fi
fi
command -v prometheus-alertmanager >/dev/null && echo "alertmanager: installed" || { echo "alertmanager: NOT installed"; exit 1; }

if [ -f scripts/start-dockerd.sh ]; then
  bash scripts/start-dockerd.sh
fi
