#!/usr/bin/env bash
# Sanitizer and fuzzing runs of mcp-auth:
#
#   packaging/hardening.sh [asan] [tsan] [fuzz]        (no argument: all three)
#
#   asan  ASan + UBSan build (Debug) in ./build-asan, then every test through CTest:
#         the unit tests and the integration tests, which drive that build's binary (the
#         conformance suite runs in the normal build only: under TSan its elicitation
#         scenario races the server's own GET-stream timing) (leaks
#         inside third-party libraries only: tests/fuzz/lsan.supp)
#   tsan  the same with ThreadSanitizer (RelWithDebInfo) in ./build-tsan, with the
#         suppressions of tests/fuzz/tsan.supp (third-party code only)
#   fuzz  the libFuzzer targets of tests/fuzz built with clang-14 in ./build-fuzz, each run
#         for FUZZ_SECONDS (default 60) on a temporary copy of its seed corpus
#
# A stage fails on a failing test, on any sanitizer report (also from a binary that the
# integration tests start: reports go to files, so none is lost in a child's stderr), on
# any fuzzer crash, leak or timeout, or when it does not build. Reports and crashing
# inputs are kept in a directory under /tmp printed at the end; new corpus entries are
# thrown away (the seed corpus in tests/fuzz/corpus is never written to).
#
# Environment: FUZZ_SECONDS (per target, default 60), FUZZ_JOBS (fuzzers run at once,
# default the number of CPUs), HARDENING_REPORTS (where reports go; default a new
# /tmp/mcp-auth-hardening.XXXXXX). The last line of the output is "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

stages=("$@")
((${#stages[@]})) || stages=(asan tsan fuzz)
for s in "${stages[@]}"; do
  case "$s" in
    asan | tsan | fuzz) ;;
    *) echo "usage: hardening.sh [asan] [tsan] [fuzz]   (unknown stage \"$s\")" >&2; exit 2 ;;
  esac
done

# --- dependencies: the project's and the fuzzing toolchain
"$here/packaging/install-deps.sh" clang-14 libclang-rt-14-dev llvm-14 ||
  { echo "hardening: installing the dependencies failed" >&2; exit 1; }
# llvm-symbolizer for readable stacks (clang's runtimes look for it on the PATH).
export PATH="/usr/lib/llvm-14/bin:$PATH"

reports=${HARDENING_REPORTS:-$(mktemp -d /tmp/mcp-auth-hardening.XXXXXX)}
mkdir -p "$reports"
declare -A result seconds detail

say() { echo "hardening: $*"; }

# Prints the sanitizer reports left in $1 (files named <tool>.<pid>); echoes their number.
show_reports() {
  local dir=$1 n=0 f
  for f in "$dir"/*san.[0-9]*; do
    [ -f "$f" ] && grep -qE 'ERROR: |WARNING: ThreadSanitizer|runtime error' "$f" || continue
    n=$((n + 1))
    { echo "----- $f"; head -n 80 "$f"; } >&2
  done
  echo "$n"
}

# build_and_test STAGE DIR BUILD_TYPE SANITIZER: configure, build, run ctest with the
# sanitizer options already in the environment; sets result/detail for STAGE.
build_and_test() {
  local stage=$1 dir=$here/$2 type=$3 sanitizer=$4 logs=$reports/$1
  mkdir -p "$logs"
  say "$stage: building $dir ($type, MCP_AUTH_SANITIZE=$sanitizer)"
  if ! { cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DMCP_AUTH_SANITIZE="$sanitizer" \
           -DMCP_AUTH_FUZZ=OFF -DMCP_AUTH_BUILD_TESTS=ON &&
         cmake --build "$dir" -j"$jobs"; } >"$logs/build.log" 2>&1; then
    tail -n 40 "$logs/build.log"
    result[$stage]=FAIL detail[$stage]="the build failed (log: $logs/build.log)"
    return
  fi
  say "$stage: running ctest in $dir"
  local tests_ok=1 n
  (cd "$dir" && ctest --output-on-failure --timeout 600 -LE conformance) 2>&1 | tee "$logs/ctest.log" || tests_ok=0
  grep -q "100% tests passed" "$logs/ctest.log" || tests_ok=0
  n=$(show_reports "$logs")
  if ((n > 0)); then
    result[$stage]=FAIL detail[$stage]="$n sanitizer report(s) in $logs (shown above)"
    ((tests_ok)) || detail[$stage]+="; failing tests (log: $logs/ctest.log)"
  elif ((!tests_ok)); then
    result[$stage]=FAIL detail[$stage]="failing tests, no sanitizer report file (log: $logs/ctest.log)"
  else
    result[$stage]=PASS detail[$stage]="all tests passed, no sanitizer report"
  fi
}

stage_asan() {
  local logs=$reports/asan
  mkdir -p "$logs"
  # fast_unwind_on_malloc=0: GLib has no frame pointers, so only the slow unwinder gets the
  # allocation stacks past g_malloc that tests/fuzz/lsan.supp (third-party leaks) matches.
  ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:check_initialization_order=1:strict_string_checks=1:log_path=$logs/asan" \
  LSAN_OPTIONS="suppressions=$here/tests/fuzz/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan" \
    build_and_test asan build-asan Debug address
}

stage_tsan() {
  local logs=$reports/tsan
  mkdir -p "$logs"
  # atexit_sleep_ms=0: TSan otherwise sleeps 1 s in every exiting process, which breaks the
  # integration tests that require mcp-auth to exit within 1 s of stdin EOF or SIGTERM.
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:atexit_sleep_ms=0:suppressions=$here/tests/fuzz/tsan.supp:log_path=$logs/tsan" \
    build_and_test tsan build-tsan RelWithDebInfo thread
}

stage_fuzz() {
  local logs=$reports/fuzz dir=$here/build-fuzz secs=${FUZZ_SECONDS:-60} parallel=${FUZZ_JOBS:-$jobs}
  mkdir -p "$logs"
  say "fuzz: building the fuzzers in $dir (clang-14, ASan + UBSan + libFuzzer)"
  # -O1 -g without NDEBUG: library assertions stay on.
  if ! { cmake -S "$here" -B "$dir" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
           -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DMCP_AUTH_FUZZ=ON -DMCP_AUTH_SANITIZE=address \
           -DMCP_AUTH_BUILD_TESTS=OFF &&
         cmake --build "$dir" -j"$jobs" --target fuzzers; } >"$logs/build.log" 2>&1; then
    tail -n 40 "$logs/build.log"
    result[fuzz]=FAIL detail[fuzz]="the build failed (log: $logs/build.log)"
    return
  fi
  local work
  work=$(mktemp -d /tmp/mcp-auth-fuzz-corpus.XXXXXX)
  local targets=() t
  for t in "$here"/tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$t" .cpp)"); done
  run_one() {  # a fuzzer on a temporary copy of its seeds; crashing inputs go to $logs
    local t=$1
    mkdir -p "$work/$t"
    cp -r "$here/tests/fuzz/corpus/$t/." "$work/$t/" 2>/dev/null || true
    local dict=() ; [ -f "$here/tests/fuzz/$t.dict" ] && dict=(-dict="$here/tests/fuzz/$t.dict")
    ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
      "$dir/tests/fuzz/$t" -max_total_time="$secs" -max_len=8192 -len_control=0 -timeout=10 -rss_limit_mb=2560 \
      -print_final_stats=1 -artifact_prefix="$logs/$t-" "${dict[@]}" "$work/$t" >"$logs/$t.log" 2>&1
  }
  local pids=() names=() failed=()
  declare -A status
  for t in "${targets[@]}"; do
    while (($(jobs -rp | wc -l) >= parallel)); do wait -n; done
    say "fuzz: $t for ${secs}s"
    run_one "$t" &
    pids+=($!) names+=("$t")
  done
  local i
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then status[${names[$i]}]=ok; else status[${names[$i]}]=CRASH; failed+=("${names[$i]}"); fi
  done
  rm -rf "$work"
  for t in "${targets[@]}"; do
    local stats
    stats=$(grep -E '^#[0-9]+.*(DONE|pulse)' "$logs/$t.log" | tail -n 1)
    say "fuzz: $t ${status[$t]}: ${stats:-no stats}"
    if [ "${status[$t]}" != ok ]; then
      grep -E -A 30 'ERROR: |invariant violated|runtime error|deadly signal|==ERROR' "$logs/$t.log" | head -n 60
      ls "$logs/$t-"* 2>/dev/null | sed 's/^/  input: /'
    fi
  done
  if ((${#failed[@]})); then
    result[fuzz]=FAIL detail[fuzz]="crashes in ${failed[*]} (logs and inputs: $logs)"
  else
    result[fuzz]=PASS detail[fuzz]="${#targets[@]} fuzzers, ${secs}s each, no crash"
  fi
}

for s in "${stages[@]}"; do
  start=$SECONDS
  result[$s]=FAIL detail[$s]="did not finish"
  "stage_$s"
  seconds[$s]=$((SECONDS - start))
  say "$s: ${result[$s]} in ${seconds[$s]}s: ${detail[$s]}"
done

passed=0 failed=0
echo
echo "hardening summary (reports: $reports)"
for s in "${stages[@]}"; do
  printf '  %-5s %-4s %5ss  %s\n' "$s" "${result[$s]}" "${seconds[$s]}" "${detail[$s]}"
  if [ "${result[$s]}" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "$passed passed, $failed failed"
((failed == 0))
