#!/usr/bin/env bash
# HTTPS hello benchmark: Peloton vs Netty (SslHandler with the JDK's provider) vs nginx,
# on loopback, same run. Usage: bash bench/http/tls.sh   (knobs below; see README.md)
#   keep-alive over TLS:          wrk -t1 -cCONNS -dDURATIONs --latency https://...
#   a new connection per request: ab -n AB_N -c CONNS https://...  (a full handshake each)
#   heap per idle TLS connection: IDLE_N keep-alive connections held open (JVM servers only)
# The servers take turns ROUNDS times (a fresh JVM each turn) and each cell is the best turn by
# requests/s, its p99 from that same run: on a shared VM one slow window must not decide a row.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-5}
AB_N=${AB_N:-5000}
CONNS=${CONNS:-50}
IDLE_N=${IDLE_N:-2000}
ROUNDS=${ROUNDS:-2}
BASE_PORT=${BASE_PORT:-18443}
SERVERS=${SERVERS:-"peloton netty nginx"}
JVM_OPTS=${JVM_OPTS:-"-Xms512m -Xmx512m -XX:+UseParallelGC"}
export JVM_OPTS
BODY='<h1>Hello from Peloton</h1>'
log() { echo "[tls.sh $(date +%H:%M:%S)] $*" >&2; }

for t in wrk ab curl openssl jcmd; do command -v $t >/dev/null || { echo "needs $t" >&2; exit 2; }; done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

TS=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS="$HERE/results"; RAW="$RESULTS/$TS-tls-raw"; OUT="$RESULTS/$TS-tls.md"
mkdir -p "$RAW"
WORK=$(mktemp -d /tmp/peloton-bench-tls.XXXXXX)
CERTS="$WORK/certs"
bash "$ROOT/test/certs/make-test-certs.sh" "$CERTS" >/dev/null
log "building peers"
mvn -B -q -Dstyle.color=never -f "$HERE/peers/pom.xml" compile 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
PEERS_CP="$HERE/peers/target/classes:$(cat "$HERE/peers/target/classpath.txt")"

STARTED=()
cleanup() {
  for pid in "${STARTED[@]:-}"; do [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${STARTED[@]:-}"; do [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() {  # $1 name $2 port $3 log; sets SPID
  case $1 in
    peloton) setsid "$HERE/peloton-hello.sh" "$2" "$CERTS/fullchain.pem" "$CERTS/server.key" >"$3" 2>&1 </dev/null & ;;
    netty) setsid java $JVM_OPTS -cp "$PEERS_CP" peloton.bench.NettyHello "$2" "$CERTS/fullchain.pem" "$CERTS/server.key" >"$3" 2>&1 </dev/null & ;;
    nginx)
      mkdir -p "$WORK/nginx"
      sed -e "s|@PORT@|$2 ssl|g" -e "s|@DIR@|$WORK/nginx|g" \
          -e "s|^\(\s*\)location / {|\1ssl_certificate $CERTS/fullchain.pem;\n\1ssl_certificate_key $CERTS/server.key;\n\1ssl_protocols TLSv1.2 TLSv1.3;\n\1location / {|" \
          "$HERE/nginx.conf.template" >"$WORK/nginx/nginx.conf"
      setsid "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" >"$3" 2>&1 </dev/null & ;;
  esac
  SPID=$!
}
stop_server() {
  kill -TERM -- "-$1" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
wait_ready() {  # $1 pid $2 port
  local deadline=$((SECONDS + 90))
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$1" 2>/dev/null || return 1
    [ "$(curl -s -m 2 --cacert "$CERTS/ca.pem" "https://localhost:$2/" 2>/dev/null || true)" = "$BODY" ] && return 0
    sleep 0.3
  done
  return 2
}
parse_wrk() {
  awk 'function ms(v){ if (v ~ /us$/) {sub(/us$/,"",v); return v/1000} if (v ~ /ms$/) {sub(/ms$/,"",v); return v+0}
         if (v ~ /s$/) {sub(/s$/,"",v); return v*1000} return v+0 }
       /Latency Distribution/ {d=1; next} d && $1=="50%" {p50=ms($2)} d && $1=="99%" {p99=ms($2); d=0}
       /^Requests\/sec:/ {rps=$2} / requests in / {n=$1} /Socket errors:/ {gsub(/,/,""); e+=$4+$6+$8+$10}
       END { if (rps=="") print "- - - - -"; else printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, e, n }' "$1"
}
parse_ab() {
  awk '/^Complete requests:/ {n=$3} /^Failed requests:/ {e+=$3} /^Requests per second:/ {rps=$4} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
       END { if (rps=="") print "- - - - -"; else printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, e, n }' "$1"
}
heap_used_kb() {  # $1 java pid: used heap (KB) after a full GC
  jcmd "$1" GC.run >/dev/null 2>&1 || true
  jcmd "$1" GC.heap_info 2>/dev/null | awk '/total/ && /used/ { for (i=1;i<=NF;i++) if ($i=="used") { v=$(i+1); sub(/K,?$/,"",v); s+=v } } END { print s+0 }'
}

declare -A RES=()
LOAD_START=$(cat /proc/loadavg)
for round in $(seq 1 "$ROUNDS"); do
i=0
for s in $SERVERS; do
  port=$((BASE_PORT + i)); i=$((i + 1))
  log "round $round: starting $s on $port"
  start_server "$s" "$port" "$RAW/$s-server-r$round.log"; pid=$SPID; STARTED+=("$pid")
  if ! wait_ready "$pid" "$port"; then log "$s did not start"; RES[$s,ka,$round]="- - - - -"; RES[$s,ab,$round]="- - - - -"; stop_server "$pid"; continue; fi
  wrk -t1 -c"$CONNS" -d"${WARMUP}s" "https://localhost:$port/" >"$RAW/$s-warmup-r$round.txt" 2>&1 || true
  ab -n 1000 -c "$CONNS" "https://127.0.0.1:$port/" >>"$RAW/$s-warmup-r$round.txt" 2>&1 || true
  t0=$(group_ticks "$pid")
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "https://localhost:$port/" >"$RAW/$s-keepalive-r$round.txt" 2>&1 || true
  t1=$(group_ticks "$pid")
  read -r -a f <<<"$(parse_wrk "$RAW/$s-keepalive-r$round.txt")"
  RES[$s,ka,$round]="${f[0]} ${f[1]} ${f[2]} ${f[3]} $(cpu_us_per $((t1 - t0)) "${f[4]}")"
  log "$s keep-alive (rps p50 p99 errors cpu_us/req): ${RES[$s,ka,$round]}"
  t0=$(group_ticks "$pid")
  ab -n "$AB_N" -c "$CONNS" "https://127.0.0.1:$port/" >"$RAW/$s-handshakes-r$round.txt" 2>&1 || true
  t1=$(group_ticks "$pid")
  read -r -a f <<<"$(parse_ab "$RAW/$s-handshakes-r$round.txt")"
  RES[$s,ab,$round]="${f[0]} ${f[1]} ${f[2]} ${f[3]} $(cpu_us_per $((t1 - t0)) "${f[4]}")"
  log "$s new connection per request (rps p50 p99 errors cpu_us/conn): ${RES[$s,ab,$round]}"
  if [ "$s" != nginx ] && [ "$round" = 1 ]; then
    jpid=$(pgrep -g "$pid" java | head -1 || true)
    if [ -n "$jpid" ]; then
      h0=$(heap_used_kb "$jpid")
      fifo="$WORK/idle-$s"; mkfifo "$fifo"
      java -Xmx1g -cp "$PEERS_CP" peloton.bench.TlsIdleClient 127.0.0.1 "$port" "$IDLE_N" <"$fifo" >"$RAW/$s-idle.txt" 2>&1 &
      cpid=$!
      exec 7>"$fifo"
      deadline=$((SECONDS + 300))
      while ! grep -q '^ready' "$RAW/$s-idle.txt" && kill -0 "$cpid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
      if grep -q '^ready' "$RAW/$s-idle.txt"; then
        h1=$(heap_used_kb "$jpid")
        RES[$s,heap]=$(awk -v a="$h0" -v b="$h1" -v n="$IDLE_N" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')
      else
        RES[$s,heap]="-"
      fi
      exec 7>&-
      wait "$cpid" 2>/dev/null || true
      log "$s heap per idle TLS connection: ${RES[$s,heap]} bytes ($IDLE_N connections)"
    fi
  fi
  stop_server "$pid"
done
done
best() {  # $1 server $2 mode -> the round with the most requests/s: "rps p50 p99 errors cpu"
  local b="- - - - -" r rps top=-1
  for round in $(seq 1 "$ROUNDS"); do
    r=${RES[$1,$2,$round]:-- - - - -}; rps=${r%% *}
    [ "$rps" = - ] && continue
    if [ "$rps" -gt "$top" ]; then top=$rps; b=$r; fi
  done
  echo "$b"
}
for s in $SERVERS; do RES[$s,ka]=$(best "$s" ka); RES[$s,ab]=$(best "$s" ab); done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a=="-"||b=="-"||b==0) print "n/a"; else printf "%.2f", a/b }'; }
cell() { echo "$1" | awk -v k="$2" '{ print $k }'; }
{
  echo "# HTTPS hello benchmark, $TS"; echo
  echo "Command: \`bash bench/http/tls.sh\` with DURATION=$DURATION WARMUP=$WARMUP AB_N=$AB_N CONNS=$CONNS IDLE_N=$IDLE_N ROUNDS=$ROUNDS; JVM_OPTS \`$JVM_OPTS\`"; echo
  echo "TLS 1.3 (all three negotiate it), RSA 2048 certificate from test/certs/make-test-certs.sh; Netty uses SslProvider.JDK."
  echo "Cells: best of $ROUNDS round(s) by requests/s; p99 from that same run; heap from round 1."; echo
  hdr="| metric |"; sep="|---|"; for s in $SERVERS; do hdr+=" $s |"; sep+="---:|"; done
  echo "$hdr peloton/netty | peloton/nginx |"; echo "$sep---:|---:|"
  for m in "ka 1 keep-alive requests/s" "ka 3 keep-alive p99 (ms)" "ka 5 keep-alive server CPU per request (µs)" "ab 1 new connection per request: requests/s (= handshakes/s)" "ab 3 new connection p99 (ms)" "ab 5 new connection: server CPU per connection (µs)"; do
    set -- $m; key=$1; idx=$2; shift 2; row="| $* |"; declare -A V=()
    for s in $SERVERS; do v=$(cell "${RES[$s,$key]:-- - - - -}" "$idx"); V[$s]=$v; row+=" $v |"; done
    echo "$row $(ratio "${V[peloton]:--}" "${V[netty]:--}") | $(ratio "${V[peloton]:--}" "${V[nginx]:--}") |"
  done
  row="| heap per idle TLS keep-alive connection (bytes, $IDLE_N conns) |"
  for s in $SERVERS; do row+=" ${RES[$s,heap]:-n/a} |"; done
  echo "$row $(ratio "${RES[peloton,heap]:--}" "${RES[netty,heap]:--}") | n/a |"
  echo; echo "loadavg at start: $LOAD_START; at end: $(cat /proc/loadavg); nproc $(nproc)"
  java -version 2>&1 | head -1
  echo; echo "Raw outputs: results/$TS-tls-raw/"
} >"$OUT"
cat "$OUT"
log "wrote $OUT"
