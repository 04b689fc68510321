#!/usr/bin/env bash
# Fuzzes every Jazzer target in turn, each for SECONDS (default 180), and prints each one's
# closing libFuzzer line (executions, coverage). New corpus entries stay in .cifuzz-corpus/
# (not committed); a finding is written under test/resources/peloton/.../*FuzzTestInputs/<target>/
# where plain `mvn test` replays it from then on. Usage: fuzz/run.sh [SECONDS] [Class#target ...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-180}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(HttpFuzzTest#requestParser HttpFuzzTest#responseParser HttpFuzzTest#chunkedDecoder
           MongoFuzzTest#bsonDecoder MongoFuzzTest#opMsgDecoder)
fi
mkdir -p target/fuzz-logs
mvn -B -q test-compile
status=0
for t in "${targets[@]}"; do
  log="target/fuzz-logs/${t/\#/.}.log"
  echo "== $t for ${secs}s (log: $log)"
  # arg.0 stands for libFuzzer's argv[0]; a hung input fails after 30 s (JUnit's timeout)
  if ! mvn -B test -Pfuzz -Dtest="$t" -Dsurefire.failIfNoSpecifiedTests=false \
      -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-max_total_time="$secs" \
      -Djunit.jupiter.execution.timeout.default=30s >"$log" 2>&1; then
    status=1
    echo "   FAILED: a finding (see the log and test/resources)"
  fi
  grep -aE '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | sed 's/^/   /' || true
  grep -aE 'Tests run:.*Fail' "$log" | tail -1 | sed 's/^/   /' || true
done
exit $status
