#!/usr/bin/env bash
# Runs a Windows executable under Wine, unattended: a private prefix in the tool cache
# (created on first use, about 8 s), no debug chatter, no Mono/Gecko install dialogs. The
# CMake emulator of the Windows build (packaging/build-windows.sh), so CTest runs the .exe
# tests through it; also what the Wine integration suites start mcp-auth.exe with.
#   packaging/windows/wine-run.sh program.exe [args...]
export WINEPREFIX=${WINEPREFIX:-${MCP_AUTH_TOOLS:-${TMPDIR:-/tmp}/mcp-auth-tools}/win64/wineprefix}
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
mkdir -p "$(dirname "$WINEPREFIX")"
exec /usr/lib/wine/wine64 "$@"
