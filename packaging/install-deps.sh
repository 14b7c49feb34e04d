#!/usr/bin/env bash
# Installs every build and test dependency of mcp-auth on a fresh Debian 12 machine:
# the C++ libraries and tools from apt, the Node test bed from npm (pinned by
# tests/integration/package-lock.json). Safe to run again: it skips what is there.
# Extra Debian package names given as arguments are installed too (hardening.sh passes
# its clang toolchain this way).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

apt_packages=(
  build-essential cmake pkg-config scdoc
  libcpp-httplib-dev libssl-dev nlohmann-json3-dev libcli11-dev doctest-dev
  libsecret-1-dev gnome-keyring dbus-user-session libsecret-tools
  chromium
  "$@"
)
# Node 20 may come from elsewhere than apt (as on the CI image); use Debian's otherwise.
command -v node >/dev/null && command -v npm >/dev/null || apt_packages+=(nodejs npm)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: apt-get install ${missing[*]}" >&2
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Node test beds, pinned by their lockfiles (the conformance suite brings Node 22).
for node_dir in "$here/tests/integration" "$here/tests/conformance"; do
  stamp="$node_dir/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$node_dir/package-lock.json" -nt "$stamp" ]; then
    echo "install-deps: npm ci in ${node_dir#$here/}" >&2
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
