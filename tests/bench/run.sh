#!/usr/bin/env bash
# The benchmark suite in one command: mcp-auth and mcp-remote (pinned in
# package-lock.json) side by side against the same local MCP server, JSON and
# SSE response modes, with a direct Streamable HTTP client as the floor.
#
#   bash tests/bench/run.sh            full run (about 3 minutes): results/ and RESULTS.md
#   bash tests/bench/run.sh --smoke    correctness only, a few calls per scenario (< 60 s), for CI
#
# Other arguments go to bench.mjs (see its header), e.g. --modes json or
# --no-update (leave RESULTS.md alone). MCP_AUTH_BIN picks another binary.
# It installs what it needs first: gnuplot-nox from apt (full runs only), the
# npm packages of tests/bench and of the test server (tests/integration), and,
# when build/mcp-auth is missing, the build dependencies and the build itself.
# The last line is `N passed, N failed` (correctness checks); the exit status
# is 0 only when none failed. Timings never fail the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/setup.sh"

smoke=0
for a in "$@"; do [ "$a" = --smoke ] && smoke=1; done

# A setup that fails is a failed run too: keep the promised last line.
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "0 passed, 1 failed"; fi' EXIT

# gnuplot draws the PNG of a full run; the smoke run draws nothing.
[ $smoke = 1 ] || command -v gnuplot >/dev/null || apt_install gnuplot-nox
bench_setup

trap - EXIT
cd "$here"
exec node bench.mjs "$@"
