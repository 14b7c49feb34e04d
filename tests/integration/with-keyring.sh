#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a private gnome-keyring,
# for tests of mcp-auth's keychain storage (libsecret / Secret Service).
#
#   with-keyring.sh [--locked | --no-keyring] [--] COMMAND [ARGS...]
#
# (default)     the "login" keyring exists and is unlocked (random password)
# --locked      the keyring exists but is locked (a store must fail, a lookup
#               finds nothing; there is no display, so nothing can prompt)
# --no-keyring  a session bus with no Secret Service provider at all (the bus
#               cannot auto-start one either)
#
# The command gets a fresh temporary HOME, XDG_{CONFIG,DATA,STATE,CACHE}_HOME
# and XDG_RUNTIME_DIR, the session's DBUS_SESSION_BUS_ADDRESS, no DISPLAY or
# WAYLAND_DISPLAY, and MCP_AUTH_TEST_KEYRING=unlocked|locked|none. Everything
# this script starts (bus, keyring daemon, command) is stopped when the
# command ends or when this script gets SIGTERM/SIGINT/SIGHUP, and the
# temporary directory is removed. Exit status: the command's; 125 when the
# session could not be set up.
# Needs: dbus-daemon (dbus-run-session), gnome-keyring, libsecret-tools (for --locked).

set -euo pipefail

die() { echo "with-keyring.sh: $*" >&2; exit 125; }

# -- inside the private bus --------------------------------------------------
if [[ "${1:-}" == "--inside-bus" ]]; then
  mode=$2
  shift 2
  daemon_pid=""
  cmd_pid=""
  cleanup() {
    trap - EXIT TERM INT HUP
    [[ -n "$cmd_pid" ]] && kill -TERM "$cmd_pid" 2>/dev/null || true
    [[ -n "$daemon_pid" ]] && kill -TERM "$daemon_pid" 2>/dev/null || true
    [[ -n "$daemon_pid" ]] && wait "$daemon_pid" 2>/dev/null || true
  }
  trap cleanup EXIT
  trap 'cleanup; exit 143' TERM
  trap 'cleanup; exit 130' INT
  trap 'cleanup; exit 129' HUP

  name_has_owner() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
  }

  if [[ "$mode" != none ]]; then
    password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
    # --foreground keeps the daemon our child, so we can stop it; with
    # --unlock it reads the password from stdin and creates the "login"
    # keyring with it the first time.
    gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>"$WITH_KEYRING_DIR/daemon.log" <<<"$password" &
    daemon_pid=$!
    for _ in $(seq 1 100); do
      name_has_owner org.freedesktop.secrets && break
      kill -0 "$daemon_pid" 2>/dev/null || die "gnome-keyring-daemon exited: $(cat "$WITH_KEYRING_DIR/daemon.log")"
      sleep 0.05
    done
    name_has_owner org.freedesktop.secrets || die "gnome-keyring-daemon did not register org.freedesktop.secrets"
    # Make sure the login collection exists (first store creates it), then
    # remove the probe item.
    printf probe | timeout 10 secret-tool store --label=with-keyring-probe with-keyring probe \
      || die "could not store a probe secret in the new keyring"
    timeout 10 secret-tool clear with-keyring probe || true
    if [[ "$mode" == locked ]]; then
      timeout 10 dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
        org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null \
        || die "could not lock the login keyring"
    fi
  fi

  export MCP_AUTH_TEST_KEYRING=$mode
  "$@" <&0 &  # <&0: a background job would otherwise get /dev/null as stdin
  cmd_pid=$!
  set +e
  wait "$cmd_pid"
  rc=$?
  set -e
  cmd_pid=""
  exit "$rc"
fi

# -- outside: temporary dirs and the private bus ------------------------------
mode=unlocked
while [[ $# -gt 0 ]]; do
  case "$1" in
    --locked) mode=locked; shift ;;
    --no-keyring) mode=none; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || die "usage: with-keyring.sh [--locked | --no-keyring] [--] COMMAND [ARGS...]"
for tool in dbus-run-session dbus-send gnome-keyring-daemon secret-tool; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install dbus-user-session gnome-keyring libsecret-tools)"
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/with-keyring.XXXXXX")
bus_pid=""
finish() {
  trap - EXIT TERM INT HUP
  if [[ -n "$bus_pid" ]]; then
    # The bus, the keyring daemon and the command share the process group
    # that `set -m` gave dbus-run-session (which does not pass signals on).
    kill -TERM -- "-$bus_pid" 2>/dev/null || true
    wait "$bus_pid" 2>/dev/null || true
    sleep 0.1
    kill -KILL -- "-$bus_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap finish EXIT
trap 'finish; exit 143' TERM
trap 'finish; exit 130' INT
trap 'finish; exit 129' HUP

mkdir -p "$dir/home" "$dir/config" "$dir/data" "$dir/state" "$dir/cache" "$dir/runtime"
chmod 700 "$dir/runtime"
# A session bus with no service directories: nothing is auto-started, so
# --no-keyring really has no Secret Service and the others only have ours.
cat >"$dir/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$dir/runtime</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF

# dbus-daemon complains on stderr about fd limits when run as root: keep its
# chatter in the temporary directory.
printf '#!/bin/sh\nexec dbus-daemon "$@" 2>>"%s/bus.log"\n' "$dir" >"$dir/dbus-daemon"
chmod +x "$dir/dbus-daemon"

export HOME="$dir/home" XDG_CONFIG_HOME="$dir/config" XDG_DATA_HOME="$dir/data" \
  XDG_STATE_HOME="$dir/state" XDG_CACHE_HOME="$dir/cache" XDG_RUNTIME_DIR="$dir/runtime" \
  WITH_KEYRING_DIR="$dir"
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL SSH_AUTH_SOCK

set +e
set -m # own process group, so finish() can stop everything at once
dbus-run-session --config-file="$dir/bus.conf" --dbus-daemon="$dir/dbus-daemon" -- "$0" --inside-bus "$mode" "$@" <&0 &
bus_pid=$!
set +m
wait "$bus_pid"
rc=$?
set -e
exit "$rc"
