#!/bin/sh
# Builds and runs the MongoDB client benchmark: ./run.sh [ops-per-phase] [in-flight]
# Prints the table and writes it to results/<UTC timestamp>.txt, with one SVG bar chart
# per phase (results/<timestamp>-<phase>.svg, copied to charts/latest-<phase>.svg).
set -e
cd "$(dirname "$0")"
mvn -B -q compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
TS=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p results charts
java -Xmx1g -DhttpSeconds="${HTTP_SECONDS:-8}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "target/classes:$(cat target/cp.txt)" peloton.bench.MongoBench "$@" | tee "results/$TS.txt"
# Phases start with "-- title"; each row is "name  N ops/s  C CPU s / 10k ops".
awk -v dir=results -v ts="$TS" '
  function flush(   i, best, f, slug) {
    if (n == 0) return
    best = 0
    for (i = 1; i <= n; i++) if (lab[i] ~ /^peloton/ && val[i] > best) best = val[i]
    slug = title; gsub(/[^a-z]+/, "-", slug); sub(/^-/, "", slug); sub(/-$/, "", slug)
    f = dir "/" ts "-" slug ".tsv"
    print "MongoDB client: " title ", " ts > f
    print "operations/s (more is better); client CPU per 10k operations" > f
    for (i = 1; i <= n; i++)
      printf "%s\t%s\t%s%s CPU s/10k\n", lab[i], val[i],
        (lab[i] !~ /^peloton/ && best > 0 ? sprintf("best peloton/this %.2f, ", best / val[i]) : ""), cpu[i] > f
    close(f); print f
    n = 0
  }
  /^-- / { flush(); title = substr($0, 4); next }
  / ops\/s / {
    i = index($0, " ops/s"); head = substr($0, 1, i - 1)
    m = split(head, w, " "); v = w[m]; name = head; sub(/[ ]+[0-9.]+$/, "", name)
    n++; lab[n] = name; val[n] = v; rest = substr($0, i + 6); split(rest, r, " "); cpu[n] = r[1]
  }
  END { flush() }' "results/$TS.txt" | while read -r tsv; do
  svg="${tsv%.tsv}.svg"
  awk -f ../svg-bars.awk "$tsv" >"$svg"
  phase=$(basename "$svg" .svg); phase=${phase#"$TS"-}
  cp "$svg" "charts/latest-$phase.svg"
done
