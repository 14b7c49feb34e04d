#!/usr/bin/env bash
# The main job on a self-contained local default: install dependencies, build, then in a
# private D-Bus session with its own unlocked GNOME keyring (the real Secret Service):
# start a local OAuth authorization server (oidc-provider) and an OAuth-protected MCP
# server (the MCP SDK's), log in with `mcp-auth login` through a browser, let an MCP
# client call tools through mcp-auth, and show `mcp-auth status`.
#
# With a display and DEMO_REAL_BROWSER=1 your own browser opens (log in as
# dev@example.com / dev-password); otherwise a scripted browser fills in the login page.
# Extra arguments go to mcp-auth (e.g. --verbose).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" != "--inside" ]; then
  "$here/packaging/install-deps.sh"
  "$here/packaging/build.sh"
  exec bash "$here/tests/integration/with-keyring.sh" -- bash "$0" --inside "$@"
fi
shift

bin="$here/build/mcp-auth"
servers="$here/tests/servers"
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start() {  # name, then the server's command line; prints the port it listens on
  local name=$1; shift
  node "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do grep -q LISTENING "$work/$name.out" && break; sleep 0.1; done
  awk '/LISTENING/ {print $2}' "$work/$name.out"
}

as_port=$(start as "$servers/auth-server.mjs" --config standard --port 0 --quiet)
[ -n "$as_port" ] || { echo "demo: the authorization server did not start" >&2; cat "$work/as.err" >&2; exit 1; }
mcp_port=$(start mcp "$servers/protected-mcp-server.mjs" --issuer "http://127.0.0.1:$as_port" --port 0 --audit-log "$work/audit.log")
[ -n "$mcp_port" ] || { echo "demo: the MCP server did not start" >&2; cat "$work/mcp.err" >&2; exit 1; }
url="http://127.0.0.1:$mcp_port/mcp"
echo "demo: authorization server http://127.0.0.1:$as_port, MCP server $url"

if [ -z "${DEMO_REAL_BROWSER:-}" ]; then
  export MCP_AUTH_BROWSER="node $here/tests/integration/scripted-browser.mjs"
  echo "demo: using the scripted browser (logs in as dev@example.com)"
else
  echo "demo: your browser will open; log in as dev@example.com / dev-password"
fi

echo; echo "\$ mcp-auth login $url"
"$bin" login "$url" "$@"

echo; echo "demo: an MCP client calls search (granted) and extract (not granted to dev) through mcp-auth"
node "$here/tests/integration/demo-client.mjs" "$bin" "$url" \
  '[["search",{"query":"model context protocol"}],["extract",{"url":"https://example.com"}]]' "$@"

echo; echo "demo: the server's audit log names the caller:"
cat "$work/audit.log"

echo; echo "\$ mcp-auth status"
"$bin" status
