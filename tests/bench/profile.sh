#!/usr/bin/env bash
# Profiles mcp-auth (only: the C++ relay) under the benchmark's scenarios, the
# way RESULTS.md's analysis was made. JSON response mode; every run goes
# through bench.mjs with --wrap-mcp-auth, so the workload is the benchmark's.
#
#   bash tests/bench/profile.sh [seq] [pipe] [large]     (default: all three)
#
# For seq and pipe: perf stat (CPU time and context switches per message),
# strace -c (system calls per message) and perf record (top functions, self
# time; and the system calls they spend it in). For large: heaptrack (what
# holds the heap at its peak) and the peak RSS with glibc's malloc told to
# keep a fixed 1 MiB mmap threshold (GLIBC_TUNABLES), which shows how much of
# the peak is freed memory that malloc keeps. Output: results/profile/, and a
# summary on stdout. Installs linux-perf, strace and heaptrack when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/setup.sh"

scenarios=("$@")
((${#scenarios[@]})) || scenarios=(seq pipe large)

apt_install linux-perf strace heaptrack
bench_setup
out="$here/results/profile"
mkdir -p "$out"
cd "$here"

# bench NAME SCENARIO WRAP: one benchmark run of mcp-auth (and the direct floor) under WRAP.
bench() {
  local name=$1 scenario=$2 wrap=$3
  node bench.mjs --clients mcp-auth,direct --modes json --scenarios "$scenario" --no-update \
    --out "$out/$name" ${wrap:+--wrap-mcp-auth "$wrap"} >"$out/$name.log" 2>&1 || {
    say "$name: the benchmark run failed, see $out/$name.log"; return 1; }
}

# requests NAME: how many requests mcp-auth relayed in that run.
requests() {
  node -e "const r=require('$out/$1/results.json');console.log(r.modes.json.warm['mcp-auth'].requests)"
}

for s in "${scenarios[@]}"; do
  case $s in
  seq | pipe)
    echo "== $s: mcp-auth in the '$s' scenario (JSON mode)"
    bench "$s-plain" "$s" ""
    grep -E "^ +json-.*(sequential echo|pipelined 5000)" "$out/$s-plain.log" | sed 's/^ *//'

    if [ "$s" = seq ]; then
      # The stdio hop any proxy pays: a reply-sized line to `cat` and back, 2,000 times.
      node --input-type=module -e '
        import { spawn } from "node:child_process";
        const p = spawn("cat", [], { stdio: ["pipe", "pipe", "inherit"] });
        let done; p.stdout.on("data", () => done());
        const lat = [];
        for (let i = 0; i < 2200; i++) {
          const t = performance.now();
          await new Promise((r) => { done = r; p.stdin.write(`{"result":{"content":[{"type":"text","text":"seq-${i}"}]},"jsonrpc":"2.0","id":${i}}\n`); });
          if (i >= 200) lat.push(performance.now() - t);
        }
        p.stdin.end(); lat.sort((a, b) => a - b);
        console.log(`stdio hop alone (a line through cat and back): p50 ${(lat[1000] * 1000).toFixed(0)} µs, p90 ${(lat[1800] * 1000).toFixed(0)} µs`);'
    fi
    bench "$s-perfstat" "$s" "perf stat -e task-clock,context-switches,cpu-migrations -o $out/$s-perfstat.txt --"
    n=$(requests "$s-perfstat")
    awk -v n="$n" '
      /task-clock/ { gsub(",", "", $1); printf "CPU time per message: %.1f µs (%d messages)\n", $1 * 1000 / n, n }
      /context-switches/ { gsub(",", "", $1); printf "context switches per message: %.2f\n", $1 / n }
      /seconds user/ { printf "user %.3f s, ", $1 } /seconds sys/ { printf "system %.3f s\n", $1 }' "$out/$s-perfstat.txt"

    bench "$s-strace" "$s" "strace -f -c -o $out/$s-strace.txt"
    n=$(requests "$s-strace")
    echo "system calls per message (strace -c -f, $n messages):"
    awk -v n="$n" '/^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $NF != "total" {
        if ($4 / n >= 0.5) printf "  %-10s %5.2f\n", $NF, $4 / n; total += $4 }
      END { printf "  %-10s %5.2f\n", "all", total / n }' "$out/$s-strace.txt"

    bench "$s-perf" "$s" "perf record -F 10000 -g -o $out/$s-perf.data --"
    echo "top functions, self time (perf record, share of mcp-auth's samples):"
    perf report -i "$out/$s-perf.data" --stdio --no-children --sort dso,symbol --percent-limit 1 2>/dev/null |
      grep -E '^ +[0-9.]+%' | sed -E 's/ +/ /g; s/std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >/std::string/g' |
      cut -c1-140 | head -15 | tee "$out/$s-perf-self.txt"
    echo "where the time goes, including callees (system calls and scheduling):"
    perf report -i "$out/$s-perf.data" --stdio --children --sort symbol 2>/dev/null |
      grep -E '^ +[0-9.]+% +[0-9.]+% +\[[k.]\] (__poll|__send|__GI___writev|__GI___libc_write|__x64_sys_futex|__libc_recv|__recv|schedule|malloc|cfree.*|__libc_read|read)$|^ +[0-9.]+% +[0-9.]+% +\[[k.]\] (__poll|__send|__GI___writev|__x64_sys_futex|schedule|malloc) ' |
      sed -E 's/ +/ /g; s/ - - *$//' | head -12 | tee "$out/$s-perf-children.txt"
    ;;
  large)
    echo "== large: mcp-auth relaying 5 MiB each way, 3 rounds (JSON mode)"
    rm -f "$out"/heaptrack-large*.zst
    bench "large-heaptrack" large "heaptrack -o $out/heaptrack-large"
    heaptrack_print -f "$out"/heaptrack-large*.zst --print-peaks 1 --print-allocators 0 --print-temporary 0 \
      --print-leaks 0 --peak-limit 6 >"$out/large-heaptrack.txt" 2>/dev/null || true
    grep -E "peak heap memory consumption|peak RSS" "$out/large-heaptrack.txt" || true
    echo "heap at its peak, by allocation site (heaptrack):"
    awk '/consumed over .* calls from:/ { getline a; getline b; getline c; getline d; getline e; getline f;
          gsub(/^ +/, "", a); gsub(/^ +/, "", c); gsub(/^ +/, "", e); sub(/\(.*$/, "", a); sub(/\(.*$/, "", c); sub(/\(.*$/, "", e)
          printf "  %s: %s <- %s <- %s\n", $1, a, c, e }' "$out/large-heaptrack.txt" | grep -E '^  [0-9.]+M' | head -8
    for t in default fixed; do
      wrap=""
      [ $t = fixed ] && wrap="env GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576"
      bench "large-rss-$t" seq,pipe,large "$wrap"
      peak=$(node -e "const r=require('$out/large-rss-$t/results.json').modes.json.warm['mcp-auth'];console.log((r.peakRssKiB/1024).toFixed(1)+' MiB (anonymous '+(r.peakAnonKiB/1024).toFixed(1)+' MiB)')")
      echo "peak RSS over seq + pipe + large, malloc mmap threshold $t: $peak"
    done
    ;;
  *) say "unknown scenario $s (seq, pipe or large)"; exit 2 ;;
  esac
  echo
done
echo "profile files: $out"
