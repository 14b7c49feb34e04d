#!/usr/bin/env bash
# The main job on a self-contained local default: install dependencies, build, start a
# local MCP server (the SDK's, Streamable HTTP), and let an MCP client call tools
# through mcp-auth. Extra arguments go to mcp-auth (e.g. --verbose).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/packaging/install-deps.sh"
"$here/packaging/build.sh"

ready=$(mktemp)
node "$here/tests/servers/mcp-server.mjs" --port 0 --mode sse >"$ready" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$ready"' EXIT
for _ in $(seq 100); do grep -q LISTENING "$ready" && break; sleep 0.1; done
port=$(awk '/LISTENING/ {print $2}' "$ready")
[ -n "$port" ] || { echo "demo: the local MCP server did not start" >&2; exit 1; }
echo "demo: local MCP server on http://127.0.0.1:$port/mcp"
node "$here/tests/integration/demo-client.mjs" "$here/build/mcp-auth" "http://127.0.0.1:$port/mcp" "$@"
