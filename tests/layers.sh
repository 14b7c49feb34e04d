#!/usr/bin/env bash
# The dependency rule of ARCHITECTURE.md, checked on the includes: a layer includes only
# the layers below it. (The link graph enforces it too: unit_app links app without any
# adapter.) Prints every include that breaks the rule; exits 1 when there is one.
set -euo pipefail
src=$(cd "$(dirname "$0")/../src" && pwd)
# layer: the project folders it may include from (besides its own)
declare -A allowed=(
  [core]=""
  [ports]="core"
  [app]="core ports"
  [platform]="core ports"
  [adapters]="core ports platform"
  [cli]="core ports app platform adapters"
)
bad=0
for layer in "${!allowed[@]}"; do
  [ -d "$src/$layer" ] || { echo "layers: src/$layer is missing" >&2; bad=1; continue; }
  while IFS=: read -r file line text; do
    target=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$text")
    [ "$target" = "$layer" ] && continue
    if ! grep -qw -- "$target" <<<"${allowed[$layer]}"; then
      echo "layers: ${file#"$src"/}:$line: $layer may not include $target ($text)" >&2
      bad=1
    fi
  done < <(grep -rnE '^#include "[a-z_]+/' "$src/$layer" --include='*.h' --include='*.cpp' || true)
  # core is pure: no OS or HTTP headers either.
  if [ "$layer" = core ]; then
    if grep -rnE '^#include <(unistd|fcntl|poll|signal|pthread|windows|httplib|libsecret|sys/)' "$src/core"; then
      echo "layers: core includes an OS or HTTP header (above)" >&2
      bad=1
    fi
  fi
done
[ "$bad" = 0 ] && echo "layers: every include follows the dependency rule"
exit "$bad"
