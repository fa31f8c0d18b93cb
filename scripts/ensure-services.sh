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
