#!/usr/bin/env bash
# Slow request bodies: 100 connections each trickle a POST body one byte every 5 s.
# Peloton must cut them with 408 (minimum body rate, 240 bytes/s after a 5 s grace, by
# default) instead of keeping them for as long as the bytes keep coming.
# Usage: bash bench/http/slow-body.sh     (N=100 INTERVAL=5 LIMIT=40 PORT=18090)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
N=${N:-100}; INTERVAL=${INTERVAL:-5}; LIMIT=${LIMIT:-40}; PORT=${PORT:-18090}
JVM_OPTS=${JVM_OPTS:-"-Xms256m -Xmx256m -XX:+UseParallelGC"}
export JVM_OPTS
LOG=$(mktemp /tmp/peloton-slow-body.XXXXXX)
setsid "$HERE/peloton-hello.sh" "$PORT" >"$LOG" 2>&1 </dev/null &
SPID=$!
trap 'kill -TERM -- -$SPID 2>/dev/null || true; sleep 1; kill -KILL -- -$SPID 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 300); do curl -s -m 1 "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.2; done
echo "slow bodies: $N connections, one byte every ${INTERVAL} s, watched for at most ${LIMIT} s"
timeout $((LIMIT + 30)) python3 "$HERE/tools/slow_body.py" "$PORT" "$N" "$INTERVAL" "$LIMIT"
