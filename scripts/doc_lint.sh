#!/usr/bin/env bash
# `deno doc --lint` on every entry point, each with the entries of the layers
# it builds on (their types appear in its signatures and are documented
# there): every public symbol has a doc comment and no public signature
# mentions an unexported type.
#
# One diagnostic is let through: mjpegApp returns Hono's own `Hono` class,
# which Deno 2.9 reports as a "private type" because it lives in another
# package (denoland/deno#27364, fixed upstream by denoland/deno#34339).
# Anything else fails.
set -euo pipefail
cd "$(dirname "$0")/.."
allowed="error[private-type-ref]: public type 'mjpegApp' references private type 'Hono'"
wire=src/wire/mod.ts client=src/client/mod.ts server=src/server/mod.ts
sources=src/sources/mod.ts hono=src/hono/mod.ts browser=src/browser/mod.ts cli=src/cli.ts
failed=0
lint() {
  local name=$1
  shift
  local out
  out=$(NO_COLOR=1 deno doc --lint "$@" 2>&1) || true
  local errors
  errors=$(grep '^error\[' <<<"$out" | grep -vxF "$allowed" || true)
  if [ -n "$errors" ]; then
    printf '%s\n' "$out"
    echo "deno doc --lint: $name has $(wc -l <<<"$errors") problem(s)"
    failed=1
  else
    echo "deno doc --lint $name: clean"
  fi
}
lint ./wire "$wire"
lint ./client "$client" "$wire"
lint ./server "$server" "$wire"
lint ./sources "$sources" "$client" "$wire"
lint ./hono "$hono" "$server" "$wire"
lint ./browser "$browser" "$wire"
lint ./cli "$cli"
lint . mod.ts "$wire" "$client" "$server" "$sources" "$hono"
exit "$failed"
