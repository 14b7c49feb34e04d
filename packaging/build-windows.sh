#!/usr/bin/env bash
# The Windows build, cross-compiled on Debian 12: a statically linked mcp-auth.exe (no
# DLL to ship beside it) and the unit-test executables, which run under Wine.
#
#   bash packaging/build-windows.sh            installs what it needs, then builds
#
# What it uses, and from where (ARCHITECTURE.md, "Windows"):
#   compiler  g++-mingw-w64-x86-64-posix (apt; the POSIX thread model gives std::thread)
#   OpenSSL   Debian's source package, Debian's patches applied, cross-built static
#             without what mcp-auth never reaches (packaging/lib/openssl-features.sh);
#             pinned in packaging/lib/debian-source.sh; built once into the tool cache
#   httplib   Debian's source package of cpp-httplib: the full header (the -dev package's
#             header holds declarations only, for Debian's compiled library)
#   headers   nlohmann/json, CLI11, doctest from the Debian -dev packages, through a folder
#             that links just them (no header of the Linux system reaches the compile)
#   Wine      wine64 (apt), the CMake emulator: CTest runs the .exe tests under it
#
# Environment: MCP_AUTH_TOOLS, the tool cache (default ${TMPDIR:-/tmp}/mcp-auth-tools);
# MCP_AUTH_WIN_BUILD, the build directory (default build-windows); JOBS (default nproc).
# The exe is $MCP_AUTH_WIN_BUILD/mcp-auth.exe.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tools=${MCP_AUTH_TOOLS:-${TMPDIR:-/tmp}/mcp-auth-tools}
build=${MCP_AUTH_WIN_BUILD:-$here/build-windows}
jobs=${JOBS:-$(nproc)}
say() { echo "build-windows: $*" >&2; }
sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

# --- packages ---
packages=(g++-mingw-w64-x86-64-posix wine64 cmake make nlohmann-json3-dev libcli11-dev
          doctest-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "apt-get install ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# --- sources: Debian's, Debian's patches applied (the pinned versions are in the library) ---
# shellcheck source=lib/debian-source.sh
. "$here/packaging/lib/debian-source.sh"
# shellcheck source=lib/openssl-features.sh
. "$here/packaging/lib/openssl-features.sh"
debian_source_enable
httplib_src=$(debian_source_fetch "$tools/src" cpp-httplib "$debian_httplib_pin")
openssl_src=$(debian_source_fetch "$tools/src" openssl "$debian_openssl_pin")
openssl_version=$(ls "$openssl_src"/.unpacked-* | sed 's/.*unpacked-//')
prefix=$tools/win64/openssl-$openssl_version

# --- OpenSSL, static, without what mcp-auth never reaches (once per configuration) ---
# Built outside the source tree, which the macOS check builds from too.
openssl_options=(mingw64 "${openssl_unused[@]}" --cross-compile-prefix=x86_64-w64-mingw32-)
stamp="$openssl_version ${openssl_options[*]}"
mkdir -p "$tools/win64"
exec 9>"$tools/win64/.lock-openssl"
flock 9  # one build of it at a time (parallel builds share the cache)
if [ ! -f "$prefix/lib/libssl.a" ] || [ "$(cat "$prefix/.configuration" 2>/dev/null)" != "$stamp" ]; then
  say "building OpenSSL $openssl_version for Windows (static) into $prefix"
  start=$SECONDS
  obj=$tools/win64/openssl-build
  rm -rf "$prefix" "$obj" && mkdir -p "$obj"
  (cd "$obj" && "$openssl_src/Configure" "${openssl_options[@]}" --prefix="$prefix" --libdir=lib \
      >configure.log 2>&1 &&
    make -s -j"$jobs" build_libs >make.log 2>&1 && make -s install_dev >>make.log 2>&1) ||
    { tail -n 30 "$obj"/*.log >&2; say "the OpenSSL build failed (logs in $obj)"; exit 1; }
  echo "$stamp" >"$prefix/.configuration"
  rm -rf "$obj"
  say "OpenSSL built in $((SECONDS - start)) s"
fi
exec 9>&-

# --- the header folder: the header-only dependencies and nothing else ---
headers=$tools/win64/headers
rm -rf "$headers" && mkdir -p "$headers"
for dep in nlohmann CLI doctest; do ln -s "/usr/include/$dep" "$headers/$dep"; done
ln -s "$httplib_src/httplib.h" "$headers/httplib.h"

# --- the licenses of what the exe contains, for the .zip (cpack -G ZIP) ---
licenses=$tools/win64/licenses
rm -rf "$licenses" && mkdir -p "$licenses"
cp "$openssl_src/LICENSE.txt" "$licenses/OpenSSL.txt"
cp "$httplib_src/LICENSE" "$licenses/cpp-httplib.txt"
cp /usr/share/doc/nlohmann-json3-dev/copyright "$licenses/nlohmann-json.txt"
cp /usr/share/doc/libcli11-dev/copyright "$licenses/CLI11.txt"

# --- Wine, CTest's emulator for the .exe tests (a private prefix, no dialogs) ---
wine=$here/packaging/windows/wine-run.sh

# --- configure and build ---
cmake -S "$here" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$here/packaging/windows/mingw-w64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DMCP_AUTH_WIN_PREFIX="$prefix" -DMCP_AUTH_WINE="$wine" \
  -DMCP_AUTH_HEADERS="$headers" -DCMAKE_MODULE_PATH=/usr/lib/cmake/doctest \
  -DOPENSSL_ROOT_DIR="$prefix" -DOPENSSL_USE_STATIC_LIBS=TRUE \
  -DMCP_AUTH_THIRD_PARTY_LICENSES="$licenses" >/dev/null
cmake --build "$build" -j"$jobs"
say "built $build/mcp-auth.exe ($(du -k "$build/mcp-auth.exe" | cut -f1) KB, OpenSSL $openssl_version)"
