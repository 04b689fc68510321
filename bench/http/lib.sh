# Helpers shared by run.sh and tls.sh (sourced). A server runs in its own process group
# (started with setsid): its CPU is the user+system time of every process in the group.
TCK=$(getconf CLK_TCK)

group_ticks() {  # $1 pgid -> clock ticks used so far by the group's processes
  local t=0 p
  for p in $(pgrep -g "$1"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}

cpu_us_per() {  # $1 ticks used, $2 requests -> µs of server CPU per request, or -
  awk -v d="$1" -v n="$2" -v hz="$TCK" 'BEGIN { if (n + 0 > 0) printf "%.1f", d * 1e6 / hz / n; else print "-" }'
}
