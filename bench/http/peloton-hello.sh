#!/usr/bin/env bash
# Start command for Peloton's hello server, used by bench/http/run.sh:
#   bench/http/peloton-hello.sh PORT
# It must serve 200, Content-Type text/html, body "<h1>Hello from Peloton</h1>" on
# 127.0.0.1:PORT in the foreground, with the JVM flags in $JVM_OPTS.
# Placeholder until the server exists: exit 3 makes run.sh report Peloton as n/a.
echo "peloton hello server not built yet" >&2
exit 3
