#!/usr/bin/env bash
# The test command: installs dependencies, checks the formatting, builds (warnings are
# errors), runs every test through CTest (doctest unit tests per layer, the dependency
# rule, the Node integration tests that drive the real binary, the official MCP
# conformance suite with and without a client ID metadata document URL) and the
# benchmark smoke, the macOS compile-and-link check (Zig), the Windows build (mingw-w64)
# with its tests under Wine, then the hardening stages: the same suites
# under ASan+UBSan and TSan, and each libFuzzer target for FUZZ_SECONDS
# (packaging/hardening.sh).
#   MCP_AUTH_QUICK=1 bash packaging/test.sh   skips the hardening stages (for quick local runs)
# Extra arguments go to ctest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/packaging/install-deps.sh"
bash "$here/packaging/check-format.sh"
"$here/packaging/build.sh"
(cd "$here/build" && ctest --output-on-failure --timeout 600 -j"$(nproc)" "$@")
# The benchmark suite's correctness smoke (both proxies, every scenario, a few calls; no
# timing claims): keeps `bash tests/bench/run.sh` working.
bash "$here/tests/bench/run.sh" --smoke
# macOS: every portable source compiled and a Mach-O binary linked with Zig.
bash "$here/packaging/check-platforms.sh" macos
# Windows: the MinGW-w64 build, then its tests under Wine (the unit tests, the relay
# suites against the SDK servers, integration/wine).
bash "$here/packaging/build-windows.sh"
(cd "$here/build-windows" && ctest --output-on-failure --timeout 600 -j"$(nproc)")
# The Windows package: the exe, the docs, LICENSE and the linked libraries' licenses.
(cd "$here/build-windows" && rm -f mcp-auth-*.zip && cpack -G ZIP >/dev/null &&
  listing=$(cmake -E tar tf mcp-auth-*-windows-x86_64.zip) &&
  for f in mcp-auth.exe README.md LICENSE third-party-licenses/OpenSSL.txt; do
    grep -q "/$f\$" <<<"$listing" || { echo "test: the Windows .zip lacks $f" >&2; exit 1; }
  done)
if [ -z "${MCP_AUTH_QUICK:-}" ]; then
  FUZZ_SECONDS=${FUZZ_SECONDS:-45} bash "$here/packaging/hardening.sh"
fi
