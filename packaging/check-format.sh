#!/usr/bin/env bash
# Checks that the project's C++ follows .clang-format (clang-format 14, Debian's). Prints
# the files that do not and how to fix them; exit 1 when there is one.
#   bash packaging/check-format.sh          check
#   bash packaging/check-format.sh --fix    reformat in place
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
format=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$format" ]; then
  "$here/packaging/install-deps.sh" clang-format-14 >/dev/null
  format=$(command -v clang-format-14)
fi
mapfile -t files < <(git ls-files -co --exclude-standard 'src/*.cpp' 'src/*.h' 'tests/unit/*.cpp' \
  'tests/unit/*.h' 'tests/fuzz/*.cpp' 'tests/fuzz/*.h')
if [ "${1:-}" = --fix ]; then
  for f in "${files[@]}"; do [ -f "$f" ] && "$format" -i "$f"; done
  echo "check-format: reformatted ${#files[@]} files"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue  # deleted, not yet committed
  "$format" --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  printf 'check-format: not formatted: %s\n' "${bad[@]}" >&2
  echo "check-format: run \`bash packaging/check-format.sh --fix\` (clang-format -i)" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files follow .clang-format"
