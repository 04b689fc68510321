#!/usr/bin/env bash
# Start command for Peloton's hello server, used by bench/http/run.sh:
#   bench/http/peloton-hello.sh PORT [CERT KEY]     (with a PEM chain and key: HTTPS)
# Serves the original README's web example (Clojure routes, the 27-byte hello page)
# on 127.0.0.1:PORT in the foreground, with the JVM flags in $JVM_OPTS.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PORT=${1:?port}
CPFILE="$ROOT/target/bench-classpath.txt"
mvn -B -q -Dstyle.color=never -f "$ROOT/pom.xml" compile dependency:build-classpath \
  -Dmdep.outputFile="$CPFILE" -Dmdep.includeScope=runtime 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
exec java ${JVM_OPTS:-} -cp "$ROOT/target/classes:$ROOT/examples:$(cat "$CPFILE")" \
  clojure.main -m peloton.examples.hello-server "$PORT" "${@:2}"
