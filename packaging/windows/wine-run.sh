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
# Wine starts the prefix's wineserver and its system processes (services.exe, explorer.exe,
# ...) on demand, from the first Windows process, and they inherit that process's stdio and
# keep it open until the server exits, a while after the last Windows process: a host that
# waits for the pipes to close (the SDK's StdioClientTransport waits 2 s, then kills)
# would wait for Wine, not for mcp-auth. So when no server runs, one is started here,
# lingering a minute after its last client, and booted by a first process whose stdio is
# /dev/null; concurrent callers wait for that under a lock.
(
  flock 9
  if /usr/lib/wine/wineserver64 -p60 </dev/null >/dev/null 2>&1 9>&-; then
    /usr/lib/wine/wine64 cmd.exe /c exit </dev/null >/dev/null 2>&1 9>&- || true
  fi
) 9>"$WINEPREFIX.lock"
exec /usr/lib/wine/wine64 "$@"
