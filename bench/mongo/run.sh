#!/bin/sh
# Builds and runs the MongoDB client benchmark: ./run.sh [ops-per-phase] [in-flight]
set -e
cd "$(dirname "$0")"
mvn -B -q compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
exec java -Xmx1g -DhttpSeconds="${HTTP_SECONDS:-8}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "target/classes:$(cat target/cp.txt)" peloton.bench.MongoBench "$@"
