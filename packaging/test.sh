#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test through CTest
# (doctest unit tests and the Node integration tests that drive the real binary).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/packaging/install-deps.sh"
"$here/packaging/build.sh"
cd "$here/build"
ctest --output-on-failure --timeout 300 "$@"
