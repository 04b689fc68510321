#!/usr/bin/env bash
# Memory per idle keep-alive connection: Peloton's hello server and the Netty hello server
# (bench/http/peers), in the same run, with COUNTS (10000 and 100000) idle connections each
# (one request answered on each, then silent). Heap is the live heap after a full GC
# (jcmd GC.class_histogram's total) and RSS is VmRSS, each minus the server's own before the
# connections came, divided by the number of connections.
# Usage: bash bench/http/idle-memory.sh   (COUNTS="10000 100000" SERVERS="peloton netty")
# TLS=1: the same over TLS 1.3 (test certificates; Netty with the JDK provider), the clients
# being bench/http/peers' TlsIdleClient (one JVM holding N SSLSockets).
# Loopback only; the fd limit is raised (root: prlimit, or a ulimit the user may raise).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
COUNTS=${COUNTS:-"10000 100000"}
SERVERS=${SERVERS:-"peloton netty"}
TLS=${TLS:-0}
BASE_PORT=${BASE_PORT:-18180}
JVM_OPTS=${JVM_OPTS:-"-Xms2g -Xmx2g -XX:+UseParallelGC"}
export JVM_OPTS
MAXC=0; for c in $COUNTS; do [ "$c" -gt "$MAXC" ] && MAXC=$c; done
FDS=$((MAXC + 5000))
command -v jcmd >/dev/null || { echo "needs jcmd (the JDK)"; exit 2; }
[ "$(cat /proc/sys/fs/nr_open)" -ge "$FDS" ] || sysctl -qw fs.nr_open=$((FDS + 1000)) 2>/dev/null || true
# Raising the hard limit needs CAP_SYS_RESOURCE; without it, counts beyond the hard limit are
# reported as not measured.
ulimit -Hn "$FDS" 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
FD_MAX=$(ulimit -n)

mvn -B -q -Dstyle.color=never -f "$HERE/peers/pom.xml" compile 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
PEERS_CP="$HERE/peers/target/classes:$(cat "$HERE/peers/target/classpath.txt")"
WORK=$(mktemp -d /tmp/peloton-idle-mem.XXXXXX)
SPID=""
TLS_ARGS=(); SCHEME=http; CURL_TLS=()
if [ "$TLS" = 1 ]; then
  bash "$HERE/../../test/certs/make-test-certs.sh" "$WORK/certs" >/dev/null
  TLS_ARGS=("$WORK/certs/fullchain.pem" "$WORK/certs/server.key"); SCHEME=https
  CURL_TLS=(--cacert "$WORK/certs/ca.pem")
fi
cleanup() {
  touch "$WORK/stop" 2>/dev/null || true
  exec 7>&- 2>/dev/null || true
  if [ -n "$SPID" ]; then kill -TERM -- "-$SPID" 2>/dev/null || true; sleep 1; kill -KILL -- "-$SPID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

live_heap() { jcmd "$1" GC.class_histogram 2>/dev/null | awk '/^Total/ { print $3 }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

declare -A HEAP RSS
for count in $COUNTS; do
  for s in $SERVERS; do
    if [ "$count" -gt $((FD_MAX - 2000)) ]; then
      HEAP[$s,$count]="n/a"; RSS[$s,$count]="n/a"
      echo "[idle-memory] $s, $count: not measured, the fd limit is $FD_MAX and cannot be raised here (needs CAP_SYS_RESOURCE)" >&2
      continue
    fi
    port=$BASE_PORT; BASE_PORT=$((BASE_PORT + 1))
    case $s in
      peloton) JVM_OPTS="$JVM_OPTS -Dpeloton.idle-timeout=600" setsid "$HERE/peloton-hello.sh" "$port" "${TLS_ARGS[@]}" >"$WORK/$s.log" 2>&1 </dev/null & ;;
      netty) setsid java $JVM_OPTS -cp "$PEERS_CP" peloton.bench.NettyHello "$port" "${TLS_ARGS[@]}" >"$WORK/$s.log" 2>&1 </dev/null & ;;
    esac
    SPID=$!
    for _ in $(seq 1 600); do curl -sf -m 1 "${CURL_TLS[@]}" "$SCHEME://localhost:$port/" >/dev/null 2>&1 && break; sleep 0.2; done
    JPID=$(pgrep -g "$SPID" java | head -1)
    curl -s "${CURL_TLS[@]}" "$SCHEME://localhost:$port/" >/dev/null
    h0=$(live_heap "$JPID"); r0=$(rss_kb "$JPID")
    rm -f "$WORK/stop" "$WORK/clients.out"
    if [ "$TLS" = 1 ]; then
      rm -f "$WORK/hold"; mkfifo "$WORK/hold"
      timeout 900 java -Xmx2g -cp "$PEERS_CP" peloton.bench.TlsIdleClient 127.0.0.1 "$port" "$count" <"$WORK/hold" >"$WORK/clients.out" 2>&1 &
      CPID=$!
      exec 7>"$WORK/hold" # held open: the client keeps its connections until this closes
    else
      timeout 900 python3 "$HERE/tools/idle_clients.py" "$port" "$count" "$WORK/stop" 600 >"$WORK/clients.out" 2>&1 &
      CPID=$!
    fi
    # until the clients say ready or failed, or exit without saying (a traceback)
    for _ in $(seq 1 3000); do
      grep -q "^ready\|^failed" "$WORK/clients.out" 2>/dev/null && break
      kill -0 "$CPID" 2>/dev/null || break
      sleep 0.2
    done
    if grep -q "^ready" "$WORK/clients.out"; then
      h1=$(live_heap "$JPID"); r1=$(rss_kb "$JPID")
      HEAP[$s,$count]=$(awk -v a="$h0" -v b="$h1" -v n="$count" 'BEGIN { printf "%.2f", (b - a) / n / 1000 }')
      RSS[$s,$count]=$(awk -v a="$r0" -v b="$r1" -v n="$count" 'BEGIN { printf "%.2f", (b - a) * 1.024 / n }')
      echo "[idle-memory] $s, $count idle connections: heap ${HEAP[$s,$count]} KB, RSS ${RSS[$s,$count]} KB per connection ($(head -1 "$WORK/clients.out"))" >&2
    else
      HEAP[$s,$count]="failed"; RSS[$s,$count]="failed"
      echo "[idle-memory] $s, $count: $(cat "$WORK/clients.out")" >&2
    fi
    touch "$WORK/stop"; [ "$TLS" = 1 ] && exec 7>&-; wait "$CPID" 2>/dev/null || true
    kill -TERM -- "-$SPID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; SPID=""
  done
done

[ "$TLS" = 1 ] && TITLE="idle TLS 1.3 keep-alive connection" || TITLE="idle keep-alive connection"
echo "### Memory per $TITLE ($(date -u +%Y-%m-%dT%H:%MZ), JVM_OPTS \`$JVM_OPTS\`)"
echo
hdr="| connections |"; sep="|---:|"
for s in $SERVERS; do hdr+=" $s heap KB | $s RSS KB |"; sep+="---:|---:|"; done
echo "$hdr peloton/netty heap |"; echo "$sep---:|"
for count in $COUNTS; do
  row="| $count |"
  for s in $SERVERS; do row+=" ${HEAP[$s,$count]} | ${RSS[$s,$count]} |"; done
  row+=" $(awk -v a="${HEAP[peloton,$count]:-x}" -v b="${HEAP[netty,$count]:-x}" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2f", a / b; else print "n/a" }') |"
  echo "$row"
done
echo
echo "fd limit: $FD_MAX per process; n/a = more connections than that limit allows here. loadavg at the end: $(cat /proc/loadavg), nproc $(nproc)."
