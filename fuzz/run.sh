#!/usr/bin/env bash
# Fuzzes every Jazzer target in turn, each for SECONDS (default 180), and prints each one's
# closing libFuzzer line (executions, coverage). New corpus entries stay in .cifuzz-corpus/
# (not committed); a finding is moved to test/resources/peloton/<pkg>/<Class>Inputs/<target>/,
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
  # libFuzzer's arguments: arg.0 stands for its argv[0]; an input that runs over 30 s is a
  # finding (a hang). JUnit's own timeout would cut the whole run instead, so none is set.
  # Jazzer's regex-injection sanitizer is off: BsonCodec compiles a BSON regex by design (its
  # first finding, an uncompilable one, is handled and replayed as a seed), and it would stop
  # every later run at that same call.
  if ! mvn -B test -Pfuzz -Dtest="$t" -Dsurefire.failIfNoSpecifiedTests=false \
      -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-max_total_time="$secs" \
      -Djazzer.internal.arg.2=-timeout=30 \
      -Djazzer.disabled_hooks=com.code_intelligence.jazzer.sanitizers.RegexInjection >"$log" 2>&1; then
    status=1
    echo "   FAILED: a finding (see the log and test/resources)"
  fi
  # Jazzer writes findings to the project root here (it looks for src/test/resources): move
  # them where `mvn test` replays them
  class=${t%%#*}
  method=${t#*#}
  case $class in HttpFuzzTest) pkg=http ;; MongoFuzzTest) pkg=mongo ;; *) pkg=unknown ;; esac
  inputs="test/resources/peloton/$pkg/${class}Inputs/$method"
  for f in crash-* timeout-* oom-* slow-unit-*; do
    [ -e "$f" ] || continue
    mkdir -p "$inputs"
    mv "$f" "$inputs/"
    echo "   finding: $inputs/$f"
  done
  grep -aE '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | sed 's/^/   /' || true
  grep -aE 'Tests run:.*Fail' "$log" | tail -1 | sed 's/^/   /' || true
done
exit $status
