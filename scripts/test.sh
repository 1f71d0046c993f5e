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

step "Deno $(deno --version | head -1 | cut -d' ' -f2): deno test"
deno test -A --no-check "${files[@]}"

step "Bun $(bun --version): bun test"
bun test --timeout 120000 "${files[@]/#/./}"

step "Node $(node --version): node --test"
# The CLI processes these tests start run the sources compiled to JavaScript,
# as the npm package's bin runs them (tests/helpers/cli_run.ts): through tsx
# each would spend ~1.2 s compiling first.
cli_js=node_modules/.cache/mjpeg-test-cli
rm -rf "$cli_js"
tsc -p tsconfig.build.json --outDir "$cli_js" --declaration false
MJPEG_TEST_CLI_JS="$cli_js/src/cli.js" node --import tsx --test --test-concurrency=1 "${files[@]}"

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
