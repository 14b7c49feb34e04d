#!/usr/bin/env bash
# Compile-only checks of the keychain backends of the other platforms, from Linux:
#
#   packaging/check-platforms.sh
#
#   windows  src/adapters/store/windows_credentials.cpp with MinGW-w64 (g++-mingw-w64-x86-64-posix,
#            installed here when missing), -fsyntax-only with the project's warnings as
#            errors. Nothing is linked or run: the Windows tests belong on Windows.
#   macos    not checked: src/adapters/store/macos_keychain.cpp needs Apple's Security and
#            CoreFoundation headers, which exist only in Apple's SDK (no Debian package).
#            It is compiled by a build on macOS.
#
# The last line of the output is "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cxx=x86_64-w64-mingw32-g++-posix
passed=0 failed=0

if ! command -v "$cxx" >/dev/null; then
  echo "check-platforms: installing the MinGW-w64 cross compiler"
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++-mingw-w64-x86-64-posix; } >/dev/null 2>&1 ||
    { echo "check-platforms: could not install g++-mingw-w64-x86-64-posix (apt-get)" >&2; exit 1; }
fi

# Only the nlohmann/json headers from the host (header-only): a directory holding just a
# link to them, so no other Linux header can reach the Windows compile.
json_dir=$(mktemp -d /tmp/mcp-auth-check-platforms.XXXXXX)
trap 'rm -rf "$json_dir"' EXIT
ln -s /usr/include/nlohmann "$json_dir/nlohmann"

if "$cxx" -std=c++17 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I "$here/src" \
     -isystem "$json_dir" "$here/src/adapters/store/windows_credentials.cpp"; then
  echo "check-platforms: windows: src/adapters/store/windows_credentials.cpp compiles (MinGW-w64)"
  passed=$((passed + 1))
else
  echo "check-platforms: windows: src/adapters/store/windows_credentials.cpp does not compile (above)" >&2
  failed=$((failed + 1))
fi
echo "check-platforms: macos: not checked (needs Apple's SDK; compiled by a macOS build)"

echo "$passed passed, $failed failed"
((failed == 0))
