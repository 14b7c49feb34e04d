#!/usr/bin/env bash
# The test command: installs dependencies, builds, runs every test through CTest (doctest
# unit tests, the Node integration tests that drive the real binary, the official MCP
# conformance suite) and the benchmark smoke, then the hardening stages: the same suites under ASan+UBSan and
# TSan, and each libFuzzer target for FUZZ_SECONDS (packaging/hardening.sh).
#   MCP_AUTH_QUICK=1 bash packaging/test.sh   skips the hardening stages (for quick local runs)
# Extra arguments go to ctest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/packaging/install-deps.sh"
"$here/packaging/build.sh"
(cd "$here/build" && ctest --output-on-failure --timeout 600 -j"$(nproc)" "$@")
# The benchmark suite's correctness smoke (both proxies, every scenario, a few calls; no
# timing claims): keeps `bash tests/bench/run.sh` working.
bash "$here/tests/bench/run.sh" --smoke
if [ -z "${MCP_AUTH_QUICK:-}" ]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-45} bash "$here/packaging/hardening.sh"
fi
