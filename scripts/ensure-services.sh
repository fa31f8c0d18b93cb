#!/usr/bin/env bash
# Makes sure the real services the tests talk to are there: a Redis server on 127.0.0.1:6379.
# Installs Debian's redis-server when it is missing and starts one when none answers.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
    # One `apt-get update` per run, however many packages are missing.
    [ -n "$apt_updated" ] || { as_root apt-get update -qq >/dev/null; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

redis_answers() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }

if ! redis_answers; then
    command -v redis-server >/dev/null || apt_install redis-server
    mkdir -p /tmp/genesis-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /tmp/genesis-redis --logfile /tmp/genesis-redis/redis.log
    for _ in $(seq 50); do redis_answers && break; sleep 0.1; done
    redis_answers || { echo "redis-server did not start" >&2; exit 1; }
fi
echo "redis: 127.0.0.1:6379 answers"

# ---- promtool and prometheus for tests/dashboards (rule unit tests, live queries) ----
# Debian's prometheus package brings both. The tests start their own server on a free port, so no
# daemon may start here: without recommends (no node exporter), and with a policy-rc.d that forbids
# service starts while installing when the machine has none.
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod 755 /usr/sbin/policy-rc.d
        trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt_install --no-install-recommends prometheus
fi
echo "prometheus: $(prometheus --version 2>&1 | head -n 1)"

# ---- Helm's engine for tests/helm (chart packaging) ----
# The chart tests lint and render with the Helm Go SDK that the helm-python-sdk wheel bundles: neither
# Debian nor PyPI packages the helm binary. Installed into the project's venv when it is missing.
venv_python="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python"
if [ -x "$venv_python" ]; then
    "$venv_python" -c "import helm_python" 2>/dev/null \
        || "$venv_python" -m pip install -q --disable-pip-version-check "helm-python-sdk==0.2.2" >/dev/null
    echo "helm engine: $("$venv_python" -c 'import helm_python; print(helm_python.helm_sdk_version())' 2>/dev/null)"
fi

# ---- The request-path benchmark (make bench, make bench-smoke): nginx as the upstream, wrk as the load ----
# Debian's packages; nginx is only ever started by the benchmark itself, on a free port (the package's own
# service is not started where there is no init system, and is never relied on).
bench_missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || bench_missing+=(nginx-light)
command -v wrk >/dev/null || bench_missing+=(wrk)
command -v taskset >/dev/null || bench_missing+=(util-linux)
if [ "${#bench_missing[@]}" -gt 0 ]; then
    apt_install "${bench_missing[@]}"
fi
echo "benchmark tools: nginx, wrk"
