#!/usr/bin/env bash
# Makes sure the real services the tests talk to are there: a Redis server on 127.0.0.1:6379.
# Installs Debian's redis-server when it is missing and starts one when none answers.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    as_root apt-get update -qq >/dev/null
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

# ---- Helm's engine for tests/helm (chart packaging) ----
# The chart tests lint and render with the Helm Go SDK that the helm-python-sdk wheel bundles: neither
# Debian nor PyPI packages the helm binary. Installed into the project's venv when it is missing.
venv_python="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python"
if [ -x "$venv_python" ]; then
    "$venv_python" -c "import helm_python" 2>/dev/null \
        || "$venv_python" -m pip install -q --disable-pip-version-check "helm-python-sdk==0.2.2" >/dev/null
    echo "helm engine: $("$venv_python" -c 'import helm_python; print(helm_python.helm_sdk_version())' 2>/dev/null)"
fi
