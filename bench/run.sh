#!/usr/bin/env bash
# npm run bench: every benchmark, on Deno and Bun (and Node where noted).
# Not part of the tests. Each script prints a markdown table; README quotes them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), node $(node --version), deno $(deno --version | head -1 | cut -d' ' -f2), bun $(bun --version)"
only="${1:-}"
run() { # run NAME COMMAND...: runs one benchmark unless a filter excludes it
  local name="$1"; shift
  if [ -n "$only" ] && [[ "$name" != *"$only"* ]]; then return; fi
  printf '\n## %s\n\n' "$name"
  "$@"
}
# One line per benchmark below (name, then the command).
run "wire: decoder and encoder throughput (Deno)" deno run -A bench/wire_bench.ts
run "wire: decoder and encoder throughput (Bun)" bun bench/wire_bench.ts
run "wire: decoder and encoder throughput (Node)" node --import tsx bench/wire_bench.ts
run "sources: test pattern cost (Deno)" deno run -A bench/sources_test_pattern.ts
run "sources: test pattern cost (Bun)" bun bench/sources_test_pattern.ts
run "sources: test pattern cost (Node)" node --import tsx bench/sources_test_pattern.ts
run "client: MjpegClient throughput and memory (Deno, Bun, Node)" node --import tsx bench/client_throughput.ts
run "client: against curl and ffmpeg on one server, http and https (Deno, Bun, Node)" node --import tsx bench/client_vs_curl.ts 5 3 40000 http,https
run "client: bare sockets of each runtime against curl, the reader's floor (Deno, Bun, Node)" node --import tsx bench/client_socket_floor.ts 5 3
run "client: per-frame cost without a network (Deno)" deno run -A bench/client_in_memory.ts
run "client: per-frame cost without a network (Bun)" bun bench/client_in_memory.ts
run "client: per-frame cost without a network (Node)" node --import tsx bench/client_in_memory.ts
run "binaries: size and start-up of npm run build:binaries (x64, arm64 under qemu)" bun bench/binary_startup.ts
run "browser: <mjpeg-view> against <img>, memory over 10 minutes in Chromium (Bun server)" bun bench/browser_memory.ts --duration="${BROWSER_MEMORY_SECONDS:-600}"
run "server: fan-out to 10-1000 viewers (Bun, Deno, Node)" bun bench/fanout_run.ts bun,deno,deno-semi2,node 10,100,500,1000 10
run "server: fan-out during a camera outage, keepalive and offline card (Bun, Deno, Node)" bun bench/fanout_run.ts bun,deno,node 500,1000 10 outage
run "server: fan-out during a camera outage, keepalive and card off (Bun, Deno, Node)" bun bench/fanout_run.ts bun,deno,node 500,1000 10 outage-quiet
run "reliability: decoder fuzzer, 1,000,000 inputs (Deno)" deno run -A bench/fuzz.ts
run "reliability: decoder fuzzer, 1,000,000 inputs (Bun)" bun bench/fuzz.ts
run "reliability: 2000 viewers that never read (Deno, Bun, Node)" bun bench/stalled_viewers.ts deno,bun,node 2000 20 -- --viewer-timeout 0
run "reliability: churn, 20,000 joins by 1000 viewers at once (Bun)" bun bench/churn.ts
run "reliability: churn, 20,000 joins by 1000 viewers at once (Deno)" deno run -A bench/churn.ts
run "reliability: churn, 20,000 joins by 1000 viewers at once (Node)" node --import tsx bench/churn.ts
run "reliability: a 100 Continue flood next to a healthy stream (Deno, Bun, Node)" node --import tsx bench/hostile_upstream.ts deno,bun,node none,storm 8
# The soak runs an hour with `npm run soak`; here SOAK_SECONDS (default 10 minutes).
run "reliability: soak, 50 viewers at 30 fps (Bun)" bun bench/soak.ts --duration="${SOAK_SECONDS:-600}"
