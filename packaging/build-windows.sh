#!/usr/bin/env bash
# The Windows build, cross-compiled on Debian 12: a statically linked mcp-auth.exe (no
# DLL to ship beside it) and the unit-test executables, which run under Wine.
#
#   bash packaging/build-windows.sh            installs what it needs, then builds
#
# What it uses, and from where (ARCHITECTURE.md, "Windows"):
#   compiler  g++-mingw-w64-x86-64-posix (apt; the POSIX thread model gives std::thread)
#   OpenSSL   Debian's source package, Debian's patches applied, cross-built static
#             (pinned below; built once into the tool cache)
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
tools=${MCP_AUTH_TOOLS:-${TMPDIR:-/tmp}/mcp-auth-tools}/win64
build=${MCP_AUTH_WIN_BUILD:-$here/build-windows}
jobs=${JOBS:-$(nproc)}
# The OpenSSL that was tested. Debian's archive keeps only the current version of a
# source package: when it has moved on (a security update), the current 3.0.x is built
# instead and a warning names both: a newer fix beats a failed build.
openssl_pin=3.0.20-1~deb12u2
httplib_pin=0.11.4+ds-1+deb12u1

say() { echo "build-windows: $*" >&2; }
sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

# --- packages ---
packages=(g++-mingw-w64-x86-64-posix wine64 dpkg-dev cmake make nlohmann-json3-dev libcli11-dev
          doctest-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# `apt-get source` needs a deb-src entry: the same archive and keyring as the binary one.
src_list=/etc/apt/sources.list.d/mcp-auth-deb-src.sources
if ! apt-cache showsrc cpp-httplib 2>/dev/null | grep -q '^Package:'; then
  say "adding a deb-src entry for bookworm ($src_list)"
  printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" "Suites: bookworm" \
    "Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
    "${sudo_cmd[@]}" tee "$src_list" >/dev/null
  missing+=(update-only)
fi
if ((${#missing[@]})); then
  say "apt-get install ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -q >/dev/null
  real=()
  for p in "${missing[@]}"; do [ "$p" = update-only ] || real+=("$p"); done
  ((${#real[@]} == 0)) ||
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends \
      "${real[@]}" >/dev/null
fi

# --- sources (Debian's patches applied by dpkg-source) ---
mkdir -p "$tools"
exec 9>"$tools/.lock"
flock 9  # one build of the tool cache at a time (parallel builds share it)

# fetch PACKAGE PIN: unpacks the pinned version (else the archive's current one) into
# $tools/src and prints the directory.
fetch() {
  local package=$1 pin=$2 version
  version=$(apt-cache showsrc "$package" | awk '/^Version:/ {print $2}' | sort -V | tail -1)
  if apt-cache showsrc "$package" | grep -qx "Version: $pin"; then
    version=$pin
  else
    say "warning: $package $pin is no longer in the archive; building $version instead"
  fi
  local upstream=${version#*:}
  upstream=${upstream%-*}
  local dir=$tools/src/$package-${upstream%+ds}
  if [ ! -f "$dir/.unpacked-$version" ]; then
    rm -rf "$tools/src/$package"*
    mkdir -p "$tools/src/download"
    (cd "$tools/src/download" && rm -f ./* && apt-get source -qq --download-only "$package=$version" 2>/dev/null &&
      dpkg-source -x --no-check ./*.dsc "$dir" >/dev/null)
    touch "$dir/.unpacked-$version"
  fi
  echo "$dir"
}

httplib_src=$(fetch cpp-httplib "$httplib_pin")
openssl_src=$(fetch openssl "$openssl_pin")
openssl_version=$(ls "$openssl_src"/.unpacked-* | sed 's/.*unpacked-//')
prefix=$tools/openssl-$openssl_version

# --- OpenSSL, static (about 3.5 min on 2 cores, once) ---
if [ ! -f "$prefix/lib/libssl.a" ]; then
  say "building OpenSSL $openssl_version for Windows (static) into $prefix"
  start=$SECONDS
  (cd "$openssl_src" &&
    { [ ! -f Makefile ] || make -s clean >/dev/null 2>&1 || true; } &&
    ./Configure mingw64 no-shared no-tests --cross-compile-prefix=x86_64-w64-mingw32- \
      --prefix="$prefix" --libdir=lib >/dev/null &&
    make -s -j"$jobs" build_libs >/dev/null 2>&1 && make -s install_dev >/dev/null) ||
    { say "the OpenSSL build failed (run make in $openssl_src to see why)"; exit 1; }
  say "OpenSSL built in $((SECONDS - start)) s"
fi

# --- the header folder: the header-only dependencies and nothing else ---
headers=$tools/headers
rm -rf "$headers" && mkdir -p "$headers"
for dep in nlohmann CLI doctest; do ln -s "/usr/include/$dep" "$headers/$dep"; done
ln -s "$httplib_src/httplib.h" "$headers/httplib.h"

# --- Wine, for CTest and doctest's test discovery (a private prefix, no dialogs) ---
wine=$here/packaging/windows/wine-run.sh

# --- configure and build ---
cmake -S "$here" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$here/packaging/windows/mingw-w64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DMCP_AUTH_WIN_PREFIX="$prefix" -DMCP_AUTH_WINE="$wine" \
  -DMCP_AUTH_HEADERS="$headers" -DCMAKE_MODULE_PATH=/usr/lib/cmake/doctest \
  -DOPENSSL_ROOT_DIR="$prefix" -DOPENSSL_USE_STATIC_LIBS=TRUE >/dev/null
cmake --build "$build" -j"$jobs"
say "built $build/mcp-auth.exe ($(du -k "$build/mcp-auth.exe" | cut -f1) KB, OpenSSL $openssl_version)"
