#!/usr/bin/env bash
# The benchmark suite in one command: mcp-auth and mcp-remote (pinned in
# package-lock.json) side by side against the same local MCP server, JSON and
# SSE response modes, with a direct Streamable HTTP client as the floor.
#
#   bash tests/bench/run.sh            full run (a few minutes): results/ + RESULTS.md
#   bash tests/bench/run.sh --smoke    correctness only, a few calls per scenario (< 60 s), for CI
#
# Other arguments go to bench.mjs (see its header), e.g. --modes json,
# --no-update (leave RESULTS.md alone). MCP_AUTH_BIN picks another binary.
# It installs what it needs first: gnuplot-nox from apt (full runs), the npm
# packages of tests/bench and of the test server (tests/integration), and,
# when build/mcp-auth is missing, the build dependencies and the build itself.
# The last line is `N passed, N failed` (correctness checks); the exit status
# is 0 only when none failed. Timings never fail the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

smoke=0
for a in "$@"; do [ "$a" = --smoke ] && smoke=1; done

say() { echo "bench: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# A bad setup is a failed run too: keep the promised last line.
trap 'rc=$?; if [ $rc -ne 0 ] && [ -z "${bench_ran:-}" ]; then echo "0 passed, 1 failed"; fi' EXIT

# gnuplot draws the PNG of a full run; the smoke run draws nothing.
if [ $smoke = 0 ] && ! command -v gnuplot >/dev/null; then
  say "apt-get install gnuplot-nox"
  as_root apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends gnuplot-nox >&2
fi

command -v node >/dev/null && command -v npm >/dev/null || { say "node and npm are needed (Node 20)"; exit 1; }

# npm packages, pinned by the lockfiles; installed again only when a lockfile changed.
npm_ci() {
  local dir=$1
  local stamp="$dir/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    say "npm ci in ${dir#"$root"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}
npm_ci "$here"                      # mcp-remote
npm_ci "$root/tests/integration"    # the SDK the test server is built on

# The binary under test.
if [ -n "${MCP_AUTH_BIN:-}" ]; then
  [ -x "$MCP_AUTH_BIN" ] || { say "MCP_AUTH_BIN=$MCP_AUTH_BIN is not an executable"; exit 1; }
elif [ ! -x "$root/build/mcp-auth" ]; then
  say "build/mcp-auth is missing: installing the build dependencies and building it"
  bash "$root/packaging/install-deps.sh" >&2
  bash "$root/packaging/build.sh" >&2
fi

bench_ran=1
cd "$here"
exec node bench.mjs "$@"
