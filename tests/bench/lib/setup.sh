# Sourced by run.sh and profile.sh: installs what the benchmark needs on a
# fresh Debian 12 machine, skipping what is there. Expects $here (tests/bench)
# and $root (the repository).

say() { echo "bench: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# apt_install PACKAGE... : installs the packages that are missing.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  say "apt-get install ${missing[*]}"
  as_root apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

# npm packages, pinned by the lockfiles; installed again only when a lockfile changed.
npm_ci() {
  local dir=$1
  local stamp="$dir/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    say "npm ci in ${dir#"$root"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

# Node, the npm packages (mcp-remote here; the SDK the test server uses in
# tests/integration) and the mcp-auth binary (built when missing).
bench_setup() {
  command -v node >/dev/null && command -v npm >/dev/null || { say "node and npm are needed (Node 20)"; return 1; }
  npm_ci "$here"
  npm_ci "$root/tests/integration"
  if [ -n "${MCP_AUTH_BIN:-}" ]; then
    [ -x "$MCP_AUTH_BIN" ] || { say "MCP_AUTH_BIN=$MCP_AUTH_BIN is not an executable"; return 1; }
  elif [ ! -x "$root/build/mcp-auth" ]; then
    say "build/mcp-auth is missing: installing the build dependencies and building it"
    bash "$root/packaging/install-deps.sh" >&2
    bash "$root/packaging/build.sh" >&2
  fi
}
