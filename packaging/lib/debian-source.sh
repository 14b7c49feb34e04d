# Debian's source packages, with Debian's patches applied, for the cross builds that need
# what no Debian binary package gives another OS: OpenSSL built for it, cpp-httplib's full
# header (the -dev package's header holds declarations only, for Debian's compiled library).
# Sourced by packaging/build-windows.sh and packaging/check-platforms.sh (bash):
#
#   . "$here/packaging/lib/debian-source.sh"
#   debian_source_enable                  once, before the first fetch
#   dir=$(debian_source_fetch ROOT PACKAGE PIN)
#
# debian_source_enable makes `apt-get source` work: a deb-src entry for bookworm main (the
# same archive and keyring as the binary entries; apt-get update after adding it), and
# dpkg-source (dpkg-dev). Root, or sudo.
#
# debian_source_fetch unpacks PACKAGE into ROOT/PACKAGE-UPSTREAM (once: a marker
# .unpacked-VERSION says which Debian version is there) and prints that directory. It takes
# the pinned version PIN, the one that was tested; Debian's archive keeps only the current
# version of a source package, so when it has moved on (a security update) it takes the
# current one and warns with both: a newer fix beats a failed build. Parallel callers with
# the same ROOT take turns (a lock in ROOT). Messages go to stderr, named after the script.

debian_source_say() {
  local name=${0##*/}
  echo "${name%.sh}: $*" >&2
}

debian_source_enable() {
  local list=/etc/apt/sources.list.d/mcp-auth-deb-src.sources sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  if ! apt-cache showsrc cpp-httplib 2>/dev/null | grep -q '^Package:'; then
    debian_source_say "adding a deb-src entry for bookworm ($list)"
    printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" "Suites: bookworm" \
      "Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
      "${sudo_cmd[@]}" tee "$list" >/dev/null &&
      "${sudo_cmd[@]}" apt-get update -q >/dev/null ||
      { debian_source_say "could not add the deb-src entry (apt-get update)"; return 1; }
  fi
  if ! command -v dpkg-source >/dev/null; then
    debian_source_say "apt-get install dpkg-dev (dpkg-source)"
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q \
      --no-install-recommends dpkg-dev >/dev/null ||
      { debian_source_say "could not install dpkg-dev"; return 1; }
  fi
}

debian_source_fetch() {
  local root=$1 package=$2 pin=$3 versions version
  versions=$(apt-cache showsrc "$package" 2>/dev/null | awk '/^Version:/ {print $2}')
  [ -n "$versions" ] ||
    { debian_source_say "no source package $package (debian_source_enable first)"; return 1; }
  if grep -qxF -- "$pin" <<<"$versions"; then
    version=$pin
  else
    version=$(sort -V <<<"$versions" | tail -1)
    debian_source_say "warning: $package $pin is no longer in the archive; building $version instead"
  fi
  local upstream=${version#*:}  # no epoch, no Debian revision, no +ds repack suffix
  upstream=${upstream%-*}
  local dir=$root/$package-${upstream%+ds}
  mkdir -p "$root" || return 1
  (
    flock 8 || exit 1
    [ -f "$dir/.unpacked-$version" ] && exit 0
    # Another version (or a half-unpacked one) goes: the marker names what is there.
    rm -rf "$root/$package"-[0-9]* "$root/download-$package"
    mkdir -p "$root/download-$package" && cd "$root/download-$package" &&
      apt-get source -qq --download-only "$package=$version" >/dev/null 2>&1 &&
      dpkg-source -x --no-check ./*.dsc "$dir" >/dev/null 2>&1 &&
      touch "$dir/.unpacked-$version" ||
      { debian_source_say "could not fetch and unpack the source of $package $version"; exit 1; }
    # dpkg-source leaves a copy of the upstream tarball beside the tree.
    rm -rf "$root/download-$package" "$root/${package}_"*
  ) 8>"$root/.lock-$package" || return 1
  echo "$dir"
}

# The versions that were tested (Debian 12).
debian_openssl_pin=3.0.20-1~deb12u2
debian_httplib_pin=0.11.4+ds-1+deb12u1
