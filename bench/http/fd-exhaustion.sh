#!/usr/bin/env bash
# Out of file descriptors: the Peloton hello server runs with a descriptor limit of FD_LIMIT
# (256) while CLIENTS (1000) connections arrive. accept fails for most; the server must pause
# accepting instead of spinning, log a few rate-limited warnings instead of a flood, and accept
# again by itself once the clients leave.
# Usage: bash bench/http/fd-exhaustion.sh   (FD_LIMIT=256 CLIENTS=1000 HOLD=10 PORT=18091)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FD_LIMIT=${FD_LIMIT:-256}; CLIENTS=${CLIENTS:-1000}; HOLD=${HOLD:-10}; PORT=${PORT:-18091}
JVM_OPTS=${JVM_OPTS:-"-Xms256m -Xmx256m -XX:+UseParallelGC"}
export JVM_OPTS
command -v prlimit >/dev/null || { echo "needs prlimit (util-linux)"; exit 2; }
LOG=$(mktemp /tmp/peloton-fd.XXXXXX)
setsid "$HERE/peloton-hello.sh" "$PORT" >"$LOG" 2>&1 </dev/null &
SPID=$!
trap 'kill -TERM -- -$SPID 2>/dev/null || true; sleep 1; kill -KILL -- -$SPID 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 300); do curl -s -m 1 "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.2; done
JPID=$(pgrep -g "$SPID" -f java | head -1) # peloton-hello.sh execs java: the same pid
prlimit --pid "$JPID" --nofile="$FD_LIMIT:$FD_LIMIT"
echo "server pid $JPID, $(ls /proc/$JPID/fd | wc -l) descriptors open, limit $FD_LIMIT; $CLIENTS clients for $HOLD s"
ticks() { awk '{ print $14 + $15 }' "/proc/$JPID/stat"; }
lines0=$(wc -l <"$LOG"); bytes0=$(wc -c <"$LOG"); t0=$(ticks); s0=$(date +%s.%N)
timeout $((HOLD + 30)) python3 "$HERE/tools/many_clients.py" "$PORT" "$CLIENTS" "$HOLD"
t1=$(ticks); s1=$(date +%s.%N); lines1=$(wc -l <"$LOG"); bytes1=$(wc -c <"$LOG")
warnings=$(grep -c "accept failed" "$LOG" || true)
awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v s0="$s0" -v s1="$s1" \
  'BEGIN { printf "server CPU while exhausted: %.0f%% of one core\n", 100 * t / hz / (s1 - s0) }'
echo "log while exhausted: $((lines1 - lines0)) lines, $((bytes1 - bytes0)) bytes ($warnings accept warnings)"
grep "accept failed" "$LOG" | head -2 | cut -c1-220
ok=no
for _ in $(seq 1 50); do
  if [ "$(curl -s -m 2 "http://127.0.0.1:$PORT/")" = '<h1>Hello from Peloton</h1>' ]; then ok=yes; break; fi
  sleep 0.1
done
echo "serving again after the clients left: $ok"
[ "$ok" = yes ]
