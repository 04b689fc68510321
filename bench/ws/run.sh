#!/usr/bin/env bash
# WebSocket benchmark: Peloton's WebSocket server against Netty's and Vert.x's, on loopback, with
# the load client WsLoad (JDK NIO, none of the servers' code). Three measures per server:
#   echo    ECHO_CONNS sockets, each sending a MSG_SIZE-byte text message in a closed loop:
#           messages/s, round-trip p50/p99
#   fanout  FANOUT_CONNS sockets; one of them sends, the server sends each message to all,
#           FANOUT_WINDOW messages in flight: deliveries/s, p50/p99 time to reach every socket
#   idle    IDLE_CONNS open, silent sockets: live heap (after a full GC) and RSS per socket
# Servers run one at a time; echo and fanout are repeated ROUNDS times in alternation and the best
# run by rate is kept. Usage: bash bench/ws/run.sh   (knobs below; see README.md)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CMDLINE="$0${*:+ $*}"

SERVERS=${SERVERS:-"peloton netty vertx"}
DURATION=${DURATION:-8}             # measured seconds per echo / fanout run
WARMUP=${WARMUP:-4}                 # seconds of load before each measured interval
ROUNDS=${ROUNDS:-2}
MSG_SIZE=${MSG_SIZE:-64}
ECHO_CONNS=${ECHO_CONNS:-50}
FANOUT_CONNS=${FANOUT_CONNS:-1000}
FANOUT_WINDOW=${FANOUT_WINDOW:-4}
IDLE_CONNS=${IDLE_CONNS:-10000}     # 0 skips the idle measure
CLIENT_THREADS=${CLIENT_THREADS:-1}
BASE_PORT=${BASE_PORT:-18300}
READY_TIMEOUT=${READY_TIMEOUT:-60}
JVM_OPTS=${JVM_OPTS:-"-Xms1g -Xmx1g -XX:+UseParallelGC"}
CLIENT_OPTS=${CLIENT_OPTS:-"-Xms256m -Xmx256m -XX:+UseParallelGC"}
# Netty's leak detector samples buffers by default; its own benchmarks turn it off, so the Netty
# and Vert.x peers run with it off (Peloton has no such detector).
PEER_OPTS=${PEER_OPTS:-"-Dio.netty.leakDetection.level=disabled"}

log() { echo "[ws/run.sh $(date -u +%H:%M:%S)] $*" >&2; }
command -v jcmd >/dev/null || { echo "needs jcmd (a JDK)" >&2; exit 2; }

# Each side of IDLE_CONNS sockets needs that many descriptors: raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FD_MAX=$(ulimit -n)

log "building (mvn compile: java-src, the peers and the client)"
mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" compile 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
CP="$HERE/target/classes:$(cat "$HERE/target/classpath.txt")"

TS=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS="$HERE/results"
OUT="$RESULTS/$TS.md"
RAW="$RESULTS/$TS-raw"
mkdir -p "$RAW"
WORK=$(mktemp -d /tmp/peloton-bench-ws.XXXXXX)
SPID=""; CPID=""
stop_server() {
  [ -n "$SPID" ] || return 0
  kill -TERM -- "-$SPID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
  SPID=""
}
cleanup() {
  touch "$WORK/stop" 2>/dev/null || true
  [ -z "$CPID" ] || kill -TERM "$CPID" 2>/dev/null || true
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

class_of() { case $1 in peloton) echo PelotonWs ;; netty) echo NettyWs ;; vertx) echo VertxWs ;; *) echo "unknown server $1" >&2; exit 2 ;; esac; }
PORT=$BASE_PORT
start_server() {  # name tag -> sets SPID, JPID, PORT
  local s=$1 tag=$2
  PORT=$((PORT + 1))
  local extra=""; [ "$s" = peloton ] || extra=$PEER_OPTS
  setsid java $JVM_OPTS $extra -cp "$CP" "peloton.bench.ws.$(class_of "$s")" "$PORT" >"$RAW/$s-$tag.log" 2>&1 </dev/null &
  SPID=$!
  local t=$((READY_TIMEOUT * 10))
  for _ in $(seq 1 $t); do
    grep -q "listening" "$RAW/$s-$tag.log" 2>/dev/null && break
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "listening" "$RAW/$s-$tag.log" 2>/dev/null || { log "$s did not start: $(tail -3 "$RAW/$s-$tag.log")"; stop_server; return 1; }
  JPID=$(pgrep -g "$SPID" java | head -1 || true)
  [ -n "$JPID" ] || JPID=$SPID
}
load() {  # mode port key=value... -> prints WsLoad's lines
  timeout $((DURATION + WARMUP + 180)) java $CLIENT_OPTS -cp "$HERE/target/classes" peloton.bench.ws.WsLoad "$@" threads="$CLIENT_THREADS" || true
}
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2; exit }'; }

LOAD_START=$(uptime)
log "load at start: $LOAD_START"
declare -A BEST   # BEST[server,mode] = the WsLoad line of the best run
ALL_RUNS=()
for round in $(seq 1 "$ROUNDS"); do
  for s in $SERVERS; do
    start_server "$s" "r$round" || continue
    for mode in echo fanout; do
      if [ "$mode" = echo ]; then conns=$ECHO_CONNS; else conns=$FANOUT_CONNS; fi
      line=$(load "$mode" port="$PORT" conns="$conns" size="$MSG_SIZE" window="$FANOUT_WINDOW" \
        seconds="$DURATION" warmup="$WARMUP" | tee -a "$RAW/$s-$mode.out" | head -1)
      log "round $round, $s, $mode: $line"
      ALL_RUNS+=("| $round | $s | $mode | ${line:-no output} |")
      case $line in mode=*) ;; *) continue ;; esac
      prev=${BEST[$s,$mode]:-}
      if [ -z "$prev" ] || awk -v a="$(field "$line" rate)" -v b="$(field "$prev" rate)" 'BEGIN { exit !(a > b) }'; then
        BEST[$s,$mode]=$line
      fi
    done
    stop_server
  done
done

# Idle sockets: a fresh server each; 100 sockets opened and closed first so the handshake path's
# one-time state is in the baseline, then IDLE_CONNS held while the server's live heap (the total
# of GC.class_histogram, which runs a full GC first; the same measure as bench/http/idle-memory.sh)
# and VmRSS are read again.
live_heap() { jcmd "$1" GC.class_histogram 2>/dev/null | awk '/^Total/ { print $3 }'; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
declare -A HEAP RSS
for s in $SERVERS; do
  HEAP[$s]="n/a"; RSS[$s]="n/a"
  [ "$IDLE_CONNS" -gt 0 ] || continue
  if [ "$IDLE_CONNS" -gt $((FD_MAX - 500)) ]; then
    log "idle $s: not measured, $IDLE_CONNS sockets need more than the fd limit $FD_MAX"
    continue
  fi
  start_server "$s" idle || continue
  java $CLIENT_OPTS -cp "$HERE/target/classes" peloton.bench.ws.WsLoad idle port="$PORT" conns=100 hold=0 >/dev/null 2>&1 || true
  sleep 1
  h0=$(live_heap "$JPID"); r0=$(rss_kb "$JPID")
  rm -f "$WORK/stop" "$WORK/idle.out"
  java $CLIENT_OPTS -cp "$HERE/target/classes" peloton.bench.ws.WsLoad idle port="$PORT" conns="$IDLE_CONNS" \
    stop="$WORK/stop" hold=600 threads="$CLIENT_THREADS" >"$WORK/idle.out" 2>&1 &
  CPID=$!
  for _ in $(seq 1 1800); do grep -q "^ready\|^failed" "$WORK/idle.out" 2>/dev/null && break; kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
  if grep -q "^ready" "$WORK/idle.out"; then
    sleep 1
    h1=$(live_heap "$JPID"); r1=$(rss_kb "$JPID")
    HEAP[$s]=$(awk -v a="$h0" -v b="$h1" -v n="$IDLE_CONNS" 'BEGIN { printf "%.2f", (b - a) / n / 1000 }')
    RSS[$s]=$(awk -v a="$r0" -v b="$r1" -v n="$IDLE_CONNS" 'BEGIN { printf "%.2f", (b - a) * 1.024 / n }')
    log "idle $s: heap ${HEAP[$s]} KB, RSS ${RSS[$s]} KB per socket (live heap $h0 -> $h1 B, RSS $r0 -> $r1 KiB; $(head -1 "$WORK/idle.out"))"
  else
    HEAP[$s]="failed"; RSS[$s]="failed"
    log "idle $s: $(head -3 "$WORK/idle.out")"
  fi
  cp "$WORK/idle.out" "$RAW/$s-idle.out"
  touch "$WORK/stop"; wait "$CPID" 2>/dev/null || true; CPID=""
  stop_server
done
LOAD_END=$(uptime)
log "load at end: $LOAD_END"

# ---- report ------------------------------------------------------------------------------------
cell() {  # server mode key
  local l=${BEST[$1,$2]:-}
  [ -n "$l" ] && field "$l" "$3" || echo "n/a"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }
PEERS=""; for s in $SERVERS; do [ "$s" = peloton ] || PEERS+=" $s"; done
row() {  # label values... (one per server, in SERVERS order): prints the row with peloton/peer ratios
  local label=$1; shift
  local -a v=("$@"); local out="| $label |" i=0 pel=""
  for s in $SERVERS; do out+=" ${v[$i]} |"; [ "$s" = peloton ] && pel=${v[$i]}; i=$((i + 1)); done
  i=0
  for s in $SERVERS; do [ "$s" = peloton ] || out+=" $(ratio "$pel" "${v[$i]}") |"; i=$((i + 1)); done
  echo "$out"
}
values() { local s; for s in $SERVERS; do cell "$s" "$1" "$2"; done; }
{
  echo "# bench/ws run $TS"
  echo
  hdr="| measure |"; sep="|---|"
  for s in $SERVERS; do hdr+=" $s |"; sep+="---:|"; done
  for p in $PEERS; do hdr+=" peloton/$p |"; sep+="---:|"; done
  echo "$hdr"; echo "$sep"
  mapfile -t v < <(values echo rate); row "echo messages/s ($ECHO_CONNS sockets, $MSG_SIZE B)" "${v[@]}"
  mapfile -t v < <(values echo p50_us); row "echo p50 µs" "${v[@]}"
  mapfile -t v < <(values echo p99_us); row "echo p99 µs" "${v[@]}"
  mapfile -t v < <(values fanout rate); row "fan-out deliveries/s ($FANOUT_CONNS sockets)" "${v[@]}"
  mapfile -t v < <(values fanout p50_us); row "fan-out p50 µs to reach all" "${v[@]}"
  mapfile -t v < <(values fanout p99_us); row "fan-out p99 µs to reach all" "${v[@]}"
  v=(); for s in $SERVERS; do v+=("${HEAP[$s]}"); done; row "idle heap KB per socket ($IDLE_CONNS)" "${v[@]}"
  v=(); for s in $SERVERS; do v+=("${RSS[$s]}"); done; row "idle RSS KB per socket ($IDLE_CONNS)" "${v[@]}"
  echo
  echo "Best of $ROUNDS runs by rate; p50/p99 from that run. Ratios are peloton/peer: above 1 is better"
  echo "for the rates, below 1 is better for latency and memory."
  echo
  echo "- load at start: \`$LOAD_START\`"
  echo "- load at end: \`$LOAD_END\`"
  echo "- command: \`$CMDLINE\`; SERVERS=\"$SERVERS\" DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS MSG_SIZE=$MSG_SIZE ECHO_CONNS=$ECHO_CONNS FANOUT_CONNS=$FANOUT_CONNS FANOUT_WINDOW=$FANOUT_WINDOW IDLE_CONNS=$IDLE_CONNS CLIENT_THREADS=$CLIENT_THREADS"
  echo "- JVM_OPTS \`$JVM_OPTS\` (every server), PEER_OPTS \`$PEER_OPTS\` (netty, vertx), CLIENT_OPTS \`$CLIENT_OPTS\`, fd limit $FD_MAX"
  echo "- $(uname -srm), nproc $(nproc), $(java -version 2>&1 | head -1)"
  echo
  echo "All runs (client_cpu: the client's CPU seconds per second, 1.00 = one core):"
  echo
  echo "| round | server | mode | WsLoad output |"
  echo "|---|---|---|---|"
  printf '%s\n' "${ALL_RUNS[@]:-}"
} >"$OUT"
cat "$OUT"

# ---- charts ------------------------------------------------------------------------------------
chart() {  # mode key unit title file
  local mode=$1 key=$2 unit=$3 title=$4 file=$5 s v note pel
  pel=$( [ "$mode" = idle ] && echo "${HEAP[peloton]:-}" || cell peloton "$mode" "$key")
  {
    echo "$title"; echo "$unit"
    for s in $SERVERS; do
      if [ "$mode" = idle ]; then v=${HEAP[$s]}; note="RSS ${RSS[$s]} KB"; else v=$(cell "$s" "$mode" "$key"); note="p99 $(cell "$s" "$mode" p99_us) µs"; [ "$mode" != fanout ] || note+=" to all"; fi
      [ "$s" = peloton ] || note+="; peloton/$s $(ratio "$pel" "$v")"
      case $v in ''|n/a|failed) v="-" ;; esac
      printf '%s\t%s\t%s\n' "$s" "$v" "$note"
    done
  } >"$WORK/$mode.tsv"
  awk -f "$HERE/../svg-bars.awk" "$WORK/$mode.tsv" >"$RESULTS/$TS-$file.svg"
  mkdir -p "$HERE/charts"; cp "$RESULTS/$TS-$file.svg" "$HERE/charts/latest-$file.svg"
}
LOADAVG=$(awk '{ print $1 }' /proc/loadavg)
chart echo rate "messages/s, $ECHO_CONNS sockets, $MSG_SIZE B text, closed loop (more is better)" "WebSocket echo ($TS, load $LOADAVG)" echo
chart fanout rate "deliveries/s, one sender, $FANOUT_CONNS sockets (more is better)" "WebSocket fan-out ($TS, load $LOADAVG)" fanout
[ "$IDLE_CONNS" -gt 0 ] && chart idle heap "live heap KB per idle socket, $IDLE_CONNS sockets (less is better)" "Idle WebSocket memory ($TS, load $LOADAVG)" idle
log "wrote $OUT and charts/latest-{echo,fanout,idle}.svg"
