#!/usr/bin/env bash
# Same-port start race: two processes start a Peloton server (2 reactors) on
# the same port at the same instant, TRIALS times (one fresh port per trial). A taken port
# must be an error: in every trial exactly one of the two may get it.
# Usage: bash bench/http/same-port.sh     (TRIALS=200 INTERVAL_MS=150 BASE_PORT=21000)
# Bounded: TRIALS * INTERVAL_MS plus JVM start-up, and a hard timeout on each process.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TRIALS=${TRIALS:-200}
INTERVAL_MS=${INTERVAL_MS:-150}
BASE_PORT=${BASE_PORT:-21000}
CPFILE="$ROOT/target/bench-classpath.txt"
mvn -B -q -Dstyle.color=never -f "$ROOT/pom.xml" compile dependency:build-classpath \
  -Dmdep.outputFile="$CPFILE" -Dmdep.includeScope=runtime 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
CP="$ROOT/target/classes:$(cat "$CPFILE")"
WORK=$(mktemp -d /tmp/peloton-same-port.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# Both start at the same wall-clock instant, after both JVMs had time to compile PortRace.
START=$(( $(date +%s%3N) + 8000 ))
LIMIT=$(( TRIALS * INTERVAL_MS / 1000 + 60 ))
for side in a b; do
  timeout "$LIMIT" java -Xmx128m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" \
    "$HERE/tools/PortRace.java" "$TRIALS" "$BASE_PORT" "$START" "$INTERVAL_MS" >"$WORK/$side.txt" 2>"$WORK/$side.err" &
done
wait
# Per trial: both held the port at overlapping times (the bug), one held it while the other was
# refused, both held it one after the other (the two did not start together: a lagging
# machine), or neither.
read -r one both after none < <(awk '
  FNR == NR { a[$1] = $2; af[$1] = $3; at[$1] = $4; next }
  { b[$1] = $2; bf[$1] = $3; bt[$1] = $4 }
  END {
    for (i in a) {
      if (a[i] == "ok" && b[i] == "ok") {
        if (af[i] < bt[i] && bf[i] < at[i]) both++; else after++
      } else if (a[i] == "ok" || b[i] == "ok") one++; else none++
    }
    printf "%d %d %d %d\n", one, both, after, none
  }' "$WORK/a.txt" "$WORK/b.txt")
echo "same-port start race, $TRIALS trials ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, loadavg $(cut -d' ' -f1-3 /proc/loadavg)):"
echo "  one server held the port, the other was refused: $one"
echo "  both held it at the same time (the bug):         $both"
echo "  both held it, one after the other (no race):     $after"
echo "  neither got it:                                  $none"
if [ -s "$WORK/a.err" ]; then echo "stderr of a:"; head -5 "$WORK/a.err"; fi
[ "$both" -eq 0 ] && [ "$none" -eq 0 ]
