#!/usr/bin/env bash
# The whole test suite: the same tests on Deno, Bun and Node, then the static
# checks JSR and the type checker apply. Each part announces its runtime so a
# reader of the log can see all three passed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
# A test file list shared by all three runners, so none silently skips a file.
mapfile -t files < <(ls tests/*.test.ts | sort)
if [ -n "${TEST_FILTER:-}" ]; then mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -E "$TEST_FILTER"); fi

step() { printf '\n==== %s ====\n' "$*"; }

# Files whose checks bound a rate, a latency or memory, or that drive
# Chromium, proxies or qemu, run one at a time with the machine to
# themselves; the rest mostly wait on timers and on the processes they
# start, and run two files at a time (each runner's own parallelism: Deno
# and Bun workers, node --test processes), which takes minutes off CI.
alone='reliability_(load|soak|attacks_server|attacks_viewers|fuzz|client)|server_(slow_viewer|proxies|tls|browser)|browser_|cli_binaries|package_install'
mapfile -t serial < <(printf '%s\n' "${files[@]}" | grep -E "$alone" || true)
mapfile -t paired < <(printf '%s\n' "${files[@]}" | grep -vE "$alone" || true)
echo "${#serial[@]} files one at a time, ${#paired[@]} two at a time"

step "Deno $(deno --version | head -1 | cut -d' ' -f2): deno test"
[ ${#serial[@]} -eq 0 ] || deno test -A --no-check "${serial[@]}"
[ ${#paired[@]} -eq 0 ] || DENO_JOBS=2 deno test -A --no-check --parallel "${paired[@]}"

step "Bun $(bun --version): bun test"
[ ${#serial[@]} -eq 0 ] || bun test --timeout 120000 "${serial[@]/#/./}"
[ ${#paired[@]} -eq 0 ] || bun test --timeout 120000 --parallel=2 "${paired[@]/#/./}"

step "Node $(node --version): node --test"
# The CLI processes these tests start run the sources compiled to JavaScript,
# as the npm package's bin runs them (tests/helpers/cli_run.ts): through tsx
# each would spend ~1.2 s compiling first.
cli_js=node_modules/.cache/mjpeg-test-cli
rm -rf "$cli_js"
tsc -p tsconfig.build.json --outDir "$cli_js" --declaration false
export MJPEG_TEST_CLI_JS="$cli_js/src/cli.js"
[ ${#serial[@]} -eq 0 ] || node --import tsx --test --test-concurrency=1 "${serial[@]}"
[ ${#paired[@]} -eq 0 ] || node --import tsx --test --test-concurrency=2 "${paired[@]}"

step "type-check (tsc)"
tsc -p tsconfig.json

step "deno lint"
deno lint

step "deno doc --lint (every entry point)"
bash scripts/doc_lint.sh

step "deno fmt --check"
deno fmt --check

step "deno publish --dry-run"
deno publish --dry-run --allow-dirty

step "all checks passed on Deno, Bun and Node"
