#!/usr/bin/env bash
# HTTP hello-world load test: Peloton vs Netty (epoll), Undertow and nginx, on loopback.
# Usage: bash bench/http/run.sh        (knobs: see README.md or the defaults below)
# Servers run one at a time, in alternation, each warmed up first; the whole round
# is repeated ROUNDS times and the best run per cell is reported.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CMDLINE="$0${*:+ $*}"

DURATION=${DURATION:-10}          # seconds per wrk run
WARMUP=${WARMUP:-10}              # seconds of each wrk mode (keep-alive, pipelined) before measuring
AB_N=${AB_N:-100000}              # requests per ab run
AB_WARMUP=${AB_WARMUP:-20000}     # ab requests before measuring (warms the accept/close path)
SETTLE_GC=${SETTLE_GC:-1}         # 1: a full GC in each JVM server after its warm-up (see below)
PIN=${PIN:-0}                     # 1: load generators on CPU 0, servers on the other CPUs
WORKERS=${WORKERS:-}              # N: every server runs N loops (see below); empty: one per CPU
CONNS=${CONNS:-50}                # concurrent connections for wrk and ab
ROUNDS=${ROUNDS:-2}               # how many times the whole alternation runs
DEPTH=${PIPELINE_DEPTH:-16}       # requests per write in pipelined mode
PACE=${PACE_MS:-1}                # paced mode: ms each connection waits after a response
BASE_PORT=${BASE_PORT:-18080}     # peloton, netty, undertow, nginx on BASE_PORT+0..3
SERVERS=${SERVERS:-"peloton netty undertow nginx"}
SYSCALLS=${SYSCALLS:-0}           # 1: also count the servers' system calls per request (perf stat)
READY_TIMEOUT=${READY_TIMEOUT:-60}
# The same flags for every JVM server (peloton-hello.sh gets them as $JVM_OPTS).
JVM_OPTS=${JVM_OPTS:-"-Xms512m -Xmx512m -XX:+UseParallelGC"}
# WORKERS=N sizes every server for N cores: the JVMs see N processors (Peloton's reactors,
# Netty's and Undertow's loops, and the GC and JIT threads follow), nginx runs N workers.
# WORKERS=1 on a 2-CPU machine measures each server's own loop: with wrk on one CPU, every
# server's two loops otherwise take turns on the other, and the turns decide the tail.
NGINX_WORKERS=auto
if [ -n "$WORKERS" ]; then
  [ "$WORKERS" -ge 1 ] 2>/dev/null || { echo "WORKERS must be a positive number" >&2; exit 2; }
  JVM_OPTS="$JVM_OPTS -XX:ActiveProcessorCount=$WORKERS" NGINX_WORKERS=$WORKERS
fi
export JVM_OPTS PIPELINE_DEPTH=$DEPTH PACE_MS=$PACE

BODY='<h1>Hello from Peloton</h1>'
# PIN=1 keeps wrk and ab off the servers' cores for certain. Unpinned, the scheduler mostly
# does the same on its own (perf sched on 2026-12-02: wrk on one vCPU, the server's threads
# on the other 97-100% of the time) but may move them. Each server sizes itself to the CPUs
# it is given (Peloton's reactors and Netty's loops from the JVM's availableProcessors;
# nginx's "auto" counts the CPUs online, so it keeps its worker per core on fewer cores).
LOAD_PIN=() SERVER_PIN=()
if [ "$PIN" = 1 ]; then
  [ "$(nproc)" -ge 2 ] || { echo "PIN=1 needs at least 2 CPUs" >&2; exit 2; }
  LOAD_PIN=(taskset -c 0) SERVER_PIN=(taskset -c "1-$(($(nproc) - 1))")
fi
URL_HOST=127.0.0.1
MODES="keepalive ab pipelined paced"

log() { echo "[run.sh $(date +%H:%M:%S)] $*" >&2; }

# ---- tools -----------------------------------------------------------------
need=()
command -v taskset >/dev/null || need+=(util-linux)
command -v wrk >/dev/null || need+=(wrk)
command -v ab >/dev/null || need+=(apache2-utils)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; }
  # Debian may start a system nginx on install; this harness runs its own.
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# ---- peers -----------------------------------------------------------------
log "building peers (mvn compile)"
# (sed drops the colour resets that mvn -q prints even with colour off)
mvn -B -q -Dstyle.color=never -f "$HERE/peers/pom.xml" compile 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
PEERS_CP="$HERE/peers/target/classes:$(cat "$HERE/peers/target/classpath.txt")"

# ---- bookkeeping -----------------------------------------------------------
TS=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS="$HERE/results"
OUT="$RESULTS/$TS.md"
RAW="$RESULTS/$TS-raw"
WORK=$(mktemp -d /tmp/peloton-bench-http.XXXXXX)
mkdir -p "$RAW"

STARTED=()  # pids (= process group ids, via setsid) of servers we started
LOADPID=""  # the load generator running now, if any
cleanup() {
  local pid
  [ -z "$LOADPID" ] || kill -TERM "$LOADPID" 2>/dev/null || true
  for pid in "${STARTED[@]:-}"; do
    [ -n "$pid" ] || continue
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${STARTED[@]:-}"; do
    [ -n "$pid" ] || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_of() {
  case $1 in
    peloton) echo $((BASE_PORT + 0)) ;; netty) echo $((BASE_PORT + 1)) ;;
    undertow) echo $((BASE_PORT + 2)) ;; nginx) echo $((BASE_PORT + 3)) ;;
    *) echo "unknown server $1" >&2; return 1 ;;
  esac
}

# Runs a load generator bounded by `timeout`, appending to file $2. It runs in the
# background and is waited for, so an INT/TERM to this script is handled at once.
load() {  # $1 timeout seconds, $2 output file, rest: command
  local t=$1 out=$2; shift 2
  timeout "$t" "${LOAD_PIN[@]}" "$@" >>"$out" 2>&1 </dev/null &
  LOADPID=$!
  wait "$LOADPID" || true
  LOADPID=""
}

port_busy() { (exec 3<>"/dev/tcp/$URL_HOST/$1") 2>/dev/null; }

# Starts server $1 in its own process group (setsid); sets SPID to its pid.
# Not called in \$(...), so the script can later wait for it and read its exit status.
# A JVM server also logs its GC pauses to $4, which the tables report per run.
start_server() {
  local name=$1 port=$2 log=$3 gclog=$4
  local jvm="$JVM_OPTS -Xlog:gc:file=$gclog"
  case $name in
    peloton)  JVM_OPTS=$jvm setsid "${SERVER_PIN[@]}" "$HERE/peloton-hello.sh" "$port" >"$log" 2>&1 </dev/null & ;;
    netty)    setsid "${SERVER_PIN[@]}" java $jvm -cp "$PEERS_CP" peloton.bench.NettyHello "$port" >"$log" 2>&1 </dev/null & ;;
    undertow) setsid "${SERVER_PIN[@]}" java $jvm -cp "$PEERS_CP" peloton.bench.UndertowHello "$port" >"$log" 2>&1 </dev/null & ;;
    nginx)
      mkdir -p "$WORK/nginx"
      sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$WORK/nginx|g" -e "s|^worker_processes auto;|worker_processes $NGINX_WORKERS;|" \
        "$HERE/nginx.conf.template" >"$WORK/nginx/nginx.conf"
      grep -q "^worker_processes $NGINX_WORKERS;" "$WORK/nginx/nginx.conf" \
        || { echo "nginx.conf.template has no 'worker_processes auto;' line for WORKERS" >&2; exit 2; }
      setsid "${SERVER_PIN[@]}" "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" >"$log" 2>&1 </dev/null & ;;
  esac
  SPID=$!
}

is_jvm() { [ "$1" != nginx ]; }

# GC pauses logged in lines $2.. of GC log $1: "count/longest_ms" ("0/0.0" when none), or
# "-" when there is no such log.
gc_pauses() {
  [ -f "$1" ] || { echo "-"; return; }
  tail -n +"$2" "$1" | awk '/ Pause / { n++; v = $NF; sub(/ms$/, "", v); if (v + 0 > m) m = v + 0 }
    END { printf "%d/%.1f\n", n, m }'
}
gc_lines() { if [ -f "$1" ]; then echo $(($(wc -l <"$1") + 1)); else echo 1; fi; }

stop_server() {
  local pid=$1
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Waits (bounded) until the server answers 200 with the expected body.
# Returns 0 when ready, 1 when the process exited, 2 on timeout.
wait_ready() {
  local pid=$1 port=$2 deadline=$((SECONDS + READY_TIMEOUT)) body
  while [ $SECONDS -lt $deadline ]; do
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    body=$(curl -s -m 2 "http://$URL_HOST:$port/" 2>/dev/null || true)
    if [ "$body" = "$BODY" ]; then return 0; fi
    sleep 0.2
  done
  return 2
}

# ---- server CPU and system calls ---------------------------------------------------
. "$HERE/lib.sh"
group_pids() { pgrep -g "$1" | paste -sd, -; }
SYSCALL_NAMES="accept accept4 fcntl getsockname setsockopt getsockopt shutdown close read recvfrom write writev sendto epoll_wait epoll_ctl futex"
PERF_OK=0
if [ "$SYSCALLS" = 1 ]; then
  if command -v perf >/dev/null && perf stat -e syscalls:sys_enter_close -- true >/dev/null 2>&1; then
    PERF_OK=1
  else
    echo "SYSCALLS=1 needs perf with syscall tracepoints (Debian: linux-perf; root or perf_event_paranoid <= 1)" >&2
    exit 2
  fi
fi
PERFPID=""
perf_start() {  # $1 pgid $2 output file: counts the group's syscalls until perf_stop
  [ "$PERF_OK" = 1 ] || return 0
  local ev="" n
  for n in $SYSCALL_NAMES; do ev+="syscalls:sys_enter_$n,"; done
  perf stat -x, -e "${ev%,}" -p "$(group_pids "$1")" -o "$2" >/dev/null 2>&1 &
  PERFPID=$!
  sleep 0.3 # perf attaches before the load starts
}
perf_stop() {
  [ -n "$PERFPID" ] || return 0
  kill -INT "$PERFPID" 2>/dev/null || true
  wait "$PERFPID" 2>/dev/null || true
  PERFPID=""
}

# ---- parsing: each prints "rps p50_ms p99_ms errors" -------------------------
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /m$/)  { sub(/m$/, "", v);  return v * 60000 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v + 0
    }
    /Latency Distribution/ { dist = 1; next }
    dist && $1 == "50%" { p50 = ms($2) }
    dist && $1 == "99%" { p99 = ms($2); dist = 0 }
    /^Requests\/sec:/ { rps = $2 }
    / requests in / { n = $1 }
    /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { err += $NF }
    END {
      if (rps == "") { print "- - - - -"; exit }
      # wrk sometimes prints a 99th percentile of 0.00us (a histogram overflow): unknown, not 0.
      if (p99 == 0) { printf "%.0f %.3f - %d %d\n", rps, p50, err, n; exit }
      printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, err, n
    }' "$1"
}

parse_ab() {
  awk '
    /^Complete requests:/ { done = $3 }
    /^Failed requests:/ { err += $3 }
    /^Non-2xx responses:/ { err += $3 }
    /^Requests per second:/ { rps = $4 }
    $1 == "50%" { p50 = $2 }
    $1 == "99%" { p99 = $2 }
    END {
      if (rps == "") { print "- - - - -"; exit }
      printf "%.0f %.3f %.3f %d %d\n", rps, p50, p99, err, done
    }' "$1"
}

# Not called in $(...): a signal must reach this shell while the load runs.
# $4 and $5 (default DURATION and AB_N) are the seconds of a wrk mode and the ab requests:
# the warm-up runs the same commands, shorter.
run_mode() {  # $1 mode, $2 port, $3 raw output file, [$4 seconds, $5 ab requests]
  local mode=$1 port=$2 raw=$3 url="http://$URL_HOST:$2/" d=${4:-$DURATION} n=${5:-$AB_N}
  case $mode in
    keepalive)
      echo "# wrk -t1 -c$CONNS -d${d}s --latency $url" >"$raw"
      load $((d + 30)) "$raw" wrk -t1 -c"$CONNS" -d"${d}s" --latency "$url" ;;
    ab)
      echo "# ab -r -n $n -c $CONNS $url" >"$raw"
      load 600 "$raw" ab -r -n "$n" -c "$CONNS" "$url" ;;
    pipelined)
      echo "# wrk -t1 -c$CONNS -d${d}s --latency -s pipeline.lua $url  (PIPELINE_DEPTH=$DEPTH)" >"$raw"
      load $((d + 30)) "$raw" wrk -t1 -c"$CONNS" -d"${d}s" --latency -s "$HERE/pipeline.lua" "$url" ;;
    paced)
      echo "# wrk -t1 -c$CONNS -d${d}s --latency -s paced.lua $url  (PACE_MS=$PACE)" >"$raw"
      load $((d + 30)) "$raw" wrk -t1 -c"$CONNS" -d"${d}s" --latency -s "$HERE/paced.lua" "$url" ;;
  esac
}

# ---- the runs ----------------------------------------------------------------
declare -A RES=() NA=() NREQ=()
LOAD_START=$(cat /proc/loadavg)
for round in $(seq 1 "$ROUNDS"); do
  for s in $SERVERS; do
    [ -z "${NA[$s]:-}" ] || continue
    port=$(port_of "$s")
    if port_busy "$port"; then
      NA[$s]="port $port already in use"; log "$s: ${NA[$s]}"; continue
    fi
    slog="$RAW/$s-server-r$round.log"
    log "round $round: starting $s on $port"
    gclog="$RAW/$s-gc-r$round.log"
    start_server "$s" "$port" "$slog" "$gclog"; pid=$SPID
    STARTED+=("$pid")
    rc=0; wait_ready "$pid" "$port" || rc=$?
    if [ $rc -ne 0 ]; then
      if [ $rc -eq 1 ]; then
        ec=0; wait "$pid" 2>/dev/null || ec=$?
        NA[$s]="exited with status $ec: $(tail -c 200 "$slog" | tr '\n' ' ')"
      else
        NA[$s]="not ready within ${READY_TIMEOUT}s"
      fi
      log "$s: n/a (${NA[$s]})"
      stop_server "$pid"; continue
    fi
    [ "$round" -gt 1 ] || curl -s -i "http://$URL_HOST:$port/" >"$RAW/$s-response.txt" || true
    # Every mode's path is warmed (a JVM compiles the accept/close and pipelined paths only
    # when they run), then a JVM server gets one full GC: that moves its startup heap (for
    # Peloton, Clojure's namespaces, about 8 MB) into the old generation, where a server
    # running for hours has it. Without it, each young GC of the first minute or so copies
    # that heap between the survivor spaces again: 13-53 ms pauses on this VM, against about
    # 1 ms once it is tenured (-Xlog:gc), and those pauses are what the JVMs' p99.9 showed.
    # (paced mode runs keep-alive's code, which is warm by then)
    log "$s: warm-up: wrk ${WARMUP}s, ab $AB_WARMUP requests, pipelined wrk ${WARMUP}s"
    for m in keepalive ab pipelined; do
      run_mode "$m" "$port" "$RAW/$s-warmup-$m-r$round.txt" "$WARMUP" "$AB_WARMUP"
    done
    if is_jvm "$s" && [ "$SETTLE_GC" = 1 ]; then
      jcmd "$pid" GC.run >"$RAW/$s-gc-run-r$round.txt" 2>&1 || log "$s: jcmd GC.run failed"
    fi
    for m in $MODES; do
      g0=$(gc_lines "$gclog")
      t0=$(group_ticks "$pid")
      perf_start "$pid" "$RAW/$s-$m-r$round.perf"
      run_mode "$m" "$port" "$RAW/$s-$m-r$round.txt"
      perf_stop
      t1=$(group_ticks "$pid")
      gc=$(gc_pauses "$gclog" "$g0") # "-" for nginx, which writes no GC log
      if [ "$m" = ab ]; then r=$(parse_ab "$RAW/$s-$m-r$round.txt"); else r=$(parse_wrk "$RAW/$s-$m-r$round.txt"); fi
      # "rps p50 p99 errors requests" -> "rps p50 p99 errors cpu_us_per_request gc_pauses"
      read -r -a f <<<"$r"
      cpu=$(cpu_us_per $((t1 - t0)) "${f[4]}")
      RES[$s,$m,$round]="${f[0]} ${f[1]} ${f[2]} ${f[3]} $cpu $gc"
      NREQ[$s,$m,$round]=${f[4]}
      log "$s $m round $round: rps p50 p99 errors cpu_us/req gc_pauses = ${RES[$s,$m,$round]}"
    done
    stop_server "$pid"
  done
done

# ---- report ------------------------------------------------------------------
# Best run per cell = the round with the most requests/s; its p50/p99 are shown with it.
best_round() {  # $1 server $2 mode -> the round with the most requests/s, or 0
  local b=0 r bestrps=-1 rps
  for round in $(seq 1 "$ROUNDS"); do
    r=${RES[$1,$2,$round]:-"- - - - - -"}
    rps=${r%% *}
    [ "$rps" != "-" ] || continue
    if [ "$rps" -gt "$bestrps" ]; then bestrps=$rps; b=$round; fi
  done
  echo "$b"
}
best() {  # $1 server $2 mode -> "rps p50 p99 errors cpu gc" or "- - - - - -"
  local b; b=$(best_round "$1" "$2")
  if [ "$b" = 0 ]; then echo "- - - - - -"; else echo "${RES[$1,$2,$b]}"; fi
}

# System calls per request of each server's best round, from its perf stat file.
syscall_table() {  # $1 mode $2 title
  local mode=$1 header="| system call |" sep="|---|" s n row
  for s in $SERVERS; do header+=" $s |"; sep+="---:|"; done
  echo "### $2"; echo; echo "$header"; echo "$sep"
  declare -A C=()
  for s in $SERVERS; do
    local b; b=$(best_round "$s" "$mode")
    [ "$b" != 0 ] || continue
    local f="$RAW/$s-$mode-r$b.perf" req=${NREQ[$s,$mode,$b]}
    [ -s "$f" ] || continue
    while IFS=, read -r count _ event _; do
      n=${event#syscalls:sys_enter_}
      [ "$n" != "$event" ] || continue
      C[$s,$n]=$(awk -v c="$count" -v r="$req" 'BEGIN { if (c ~ /^[0-9]+$/ && r > 0) printf "%.2f", c / r; else print "-" }')
      C[$s,total]=$(awk -v t="${C[$s,total]:-0}" -v c="$count" -v r="$req" 'BEGIN { if (c ~ /^[0-9]+$/ && r > 0) t += c / r; printf "%.2f", t }')
    done <"$f"
  done
  for n in $SYSCALL_NAMES total; do
    row="| $n |"; local any=0
    for s in $SERVERS; do
      v=${C[$s,$n]:--}; row+=" $v |"
      [ "$v" = "-" ] || [ "$v" = "0.00" ] || any=1
    done
    [ "$any" = 0 ] || echo "$row"
  done
  echo
}

# The median over the rounds of field $3 (1: requests/s, 3: p99) of server $1 in mode $2, or
# "-": rounds of one run differ by up to 2x on this VM, and the best round's p99 is one draw.
median_of() {
  local round r fmt=%.3f
  [ "$3" != 1 ] || fmt=%.0f
  for round in $(seq 1 "$ROUNDS"); do
    r=${RES[$1,$2,$round]:-}
    [ -z "$r" ] || echo "$r" | awk -v i="$3" '$i != "-" { print $i }'
  done | sort -g | awk -v fmt="$fmt" '{ v[NR] = $1 }
    END { if (NR == 0) print "-"; else printf fmt "\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }

fmt_cell() {  # $1 server, $2 value, $3 errors
  if [ -n "${NA[$1]:-}" ]; then echo "n/a"; elif [ "$2" = "-" ]; then echo "failed";
  elif [ "${3:-0}" != "0" ] && [ "${3:-0}" != "-" ]; then echo "$2 (errors: $3)"; else echo "$2"; fi
}

table() {
  local mode=$1 title=$2 header="| metric |" sep="|---|" s
  for s in $SERVERS; do header+=" $s |"; sep+="---:|"; done
  header+=" peloton/netty | peloton/nginx |"; sep+="---:|---:|"
  echo "### $title"; echo; echo "$header"; echo "$sep"
  local idx label
  for idx in 1 2 3 5 6 m1 m3; do
    case $idx in 1) label="requests/s" ;; 2) label="p50 latency (ms)" ;; 3) label="p99 latency (ms)" ;;
      5) label="server CPU per request (µs)" ;; 6) label="GC pauses in the run (count/longest ms)" ;;
      m1) label="requests/s, median of $ROUNDS rounds" ;; m3) label="p99 latency (ms), median of $ROUNDS rounds" ;; esac
    local row="| $label |" v
    declare -A V=()
    for s in $SERVERS; do
      if [ "${idx#m}" != "$idx" ]; then
        v=$(median_of "$s" "$mode" "${idx#m}"); f=(- - - 0)
      else
        read -r -a f <<<"$(best "$s" "$mode")"
        v=${f[$((idx - 1))]}
      fi
      [ -z "${NA[$s]:-}" ] || v="-"
      V[$s]=$v
      # only a missing rate means the run failed; a missing p99 is wrk's histogram overflow
      if [ "${idx#m}" != 1 ] && [ "$v" = "-" ] && [ -z "${NA[$s]:-}" ]; then row+=" - |"
      else row+=" $(fmt_cell "$s" "$v" "${f[3]}") |"; fi
    done
    if [ "$idx" = 6 ]; then row+=" | |"; else
      row+=" $(ratio "${V[peloton]:--}" "${V[netty]:--}") | $(ratio "${V[peloton]:--}" "${V[nginx]:--}") |"
    fi
    echo "$row"
  done
  echo
}

{
  echo "# HTTP hello benchmark, $TS"
  echo
  echo "Command: \`$CMDLINE\` with DURATION=$DURATION WARMUP=$WARMUP AB_WARMUP=$AB_WARMUP AB_N=$AB_N CONNS=$CONNS ROUNDS=$ROUNDS PIPELINE_DEPTH=$DEPTH SETTLE_GC=$SETTLE_GC PIN=$PIN WORKERS=${WORKERS:-per CPU} SERVERS=\"$SERVERS\""
  echo
  if [ "$PIN" = 1 ]; then echo "Pinned: load generators on CPU 0 (\`${LOAD_PIN[*]}\`), servers on \`${SERVER_PIN[*]}\`."
  else echo "Not pinned: load generators and servers share all $(nproc) CPUs."; fi
  echo
  echo "JVM_OPTS (all JVM servers): \`$JVM_OPTS\`"
  echo
  echo "Cells: best of $ROUNDS round(s) by requests/s; p50/p99 come from that same run. The median rows take every round (the mean of the middle two for an even count)."
  echo "Ratios are peloton divided by peer: above 1 is better for requests/s, below 1 is better for latency and CPU."
  echo "Server CPU per request: user+system time of all the server's processes during the run, over the requests it answered."
  echo "GC pauses: the JVM servers' pauses logged during the run (-Xlog:gc), after the warm-up$([ "$SETTLE_GC" = 1 ] && echo " and one full GC (jcmd GC.run)")."
  echo
  table keepalive "wrk keep-alive: \`wrk -t1 -c$CONNS -d${DURATION}s --latency\`"
  table ab "ab, no keep-alive (HTTP/1.0, one connection per request): \`ab -r -n $AB_N -c $CONNS\` (ab's percentiles are whole milliseconds)"
  table pipelined "wrk pipelined, $DEPTH requests per write: \`wrk -t1 -c$CONNS -d${DURATION}s --latency -s pipeline.lua\` (latency is per batch of $DEPTH)"
  table paced "wrk keep-alive at a pace, each connection waiting ${PACE} ms after each response: \`wrk -t1 -c$CONNS -d${DURATION}s --latency -s paced.lua\` (about the same load offered to every server, below what saturates wrk: compare the latencies)"
  if [ "$PERF_OK" = 1 ]; then
    syscall_table keepalive "System calls per request, keep-alive (perf stat, the same best rounds)"
    syscall_table ab "System calls per request, no keep-alive: one connection each (perf stat, the same best rounds)"
  fi
  if [ ${#NA[@]} -gt 0 ]; then
    echo "### Not measured"; echo
    for s in "${!NA[@]}"; do echo "- $s: ${NA[$s]}"; done
    echo
  fi
  echo "### All runs (rps p50_ms p99_ms errors cpu_us_per_request gc_pauses)"; echo
  for s in $SERVERS; do for m in $MODES; do for round in $(seq 1 "$ROUNDS"); do
    [ -z "${RES[$s,$m,$round]:-}" ] || echo "- $s $m round $round: ${RES[$s,$m,$round]}"
  done; done; done
  echo
  echo "### Machine"; echo
  echo '```'
  echo "uname -a: $(uname -a)"
  echo "nproc: $(nproc)"
  echo "loadavg at start: $LOAD_START"
  echo "loadavg at end: $(cat /proc/loadavg)"
  java -version 2>&1
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "ab: $(ab -V 2>&1 | head -1)"
  echo "nginx: $("$NGINX" -v 2>&1)"
  echo '```'
  echo
  echo "Raw outputs: results/$TS-raw/"
} >"$OUT"

# ---- charts: one SVG bar chart per mode, servers side by side, ratios labelled ----------
CHARTS="$HERE/charts"
mkdir -p "$CHARTS"
mode_title() {
  case $1 in
    keepalive) echo "keep-alive: wrk -t1 -c$CONNS" ;;
    ab) echo "no keep-alive: ab -c $CONNS (a new connection per request)" ;;
    pipelined) echo "pipelined: wrk -t1 -c$CONNS, $DEPTH requests per write" ;;
    paced) echo "paced keep-alive: wrk -t1 -c$CONNS, ${PACE} ms between a response and the next request" ;;
  esac
}
for m in $MODES; do
  # Paced mode offers every server the same load, so its chart shows the p99 instead.
  vi=0; [ "$m" != paced ] || vi=2
  read -r -a pf <<<"$(best peloton "$m")"
  {
    echo "$(mode_title "$m"), $TS"
    if [ "$m" = paced ]; then echo "p99 latency in ms, best of $ROUNDS round(s) by requests/s (less is better)"
    else echo "requests/s, best of $ROUNDS round(s) (more is better); p99 latency from the same run"; fi
    for s in $SERVERS; do
      read -r -a f <<<"$(best "$s" "$m")"
      v=${f[$vi]}; [ -z "${NA[$s]:-}" ] || v="-"
      if [ "$v" = "-" ]; then note="${NA[$s]:+not run}"
      elif [ "$m" = paced ]; then note="${f[0]} req/s"; else note="p99 ${f[2]} ms"; fi
      if [ "$s" != peloton ] && [ "$v" != "-" ] && [ "${pf[$vi]}" != "-" ]; then
        note="peloton/$s $(ratio "${pf[$vi]}" "$v"), $note"
      fi
      printf '%s\t%s\t%s\n' "$s" "$v" "$note"
    done
  } >"$RAW/chart-$m.tsv"
  awk -f "$HERE/../svg-bars.awk" "$RAW/chart-$m.tsv" >"$RESULTS/$TS-$m.svg"
  cp "$RESULTS/$TS-$m.svg" "$CHARTS/latest-$m.svg"
done

cat "$OUT"
log "wrote $OUT and the charts $RESULTS/$TS-{$(echo $MODES | tr ' ' ,)}.svg (copied to charts/latest-*.svg)"
