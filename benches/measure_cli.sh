#!/usr/bin/env bash
# End-to-end measurements of the release binary for docs/performance.md:
# `thidua eval` CSV -> CSV over 10^4, 10^5, 10^6 generated units (the whole
# Bắc Giang 2024 plan and its 20 targets alone), the hand-written baseline
# on the same files, `thidua check` of generated plans of 1 000 to 10 000
# criteria, and REPL start-up with the Bắc Giang example loaded.
#
#   bash benches/measure_cli.sh [WORK_DIR]        (default /tmp/thidua-perf)
#
# Needs /usr/bin/time (GNU time) and, for the short commands, hyperfine.
# Environment: SIZES (default "10000 100000 1000000"); MEM_LIMIT_KB caps
# the address space of each eval run (default 16 GiB) so that a run that
# would exhaust the machine fails instead; TIME_LIMIT (default 900 s).
set -uo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/thidua-perf}
sizes=${SIZES:-"10000 100000 1000000"}
mem_limit_kb=${MEM_LIMIT_KB:-16777216}
time_limit=${TIME_LIMIT:-900}
mkdir -p "$work"

cargo build --release -q
bin=target/release/thidua
# The generator and the baseline are harness-less bench targets.
cargo bench --no-run -q --bench gen_data --bench baseline 2>/dev/null
exe() { ls -t target/release/deps/"$1"-* | grep -v '\.d$' | head -1; }
gen=$(exe gen_data)
baseline=$(exe baseline)

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
if git rev-parse --git-dir >/dev/null 2>&1; then
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet -- src || echo ' + uncommitted src changes')"
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

for n in $sizes; do
  [ -s "$work/bg_$n.csv" ] || "$gen" bac_giang "$n" "$work/bg_$n.csv"
done
for c in 1000 3000 10000; do
  [ -s "$work/plan_$c.thidua" ] || "$gen" plan "$c" 300 "$work/plan_$c.thidua"
done

# One timed run: wall seconds, user+sys seconds, max RSS in MiB, exit code.
measure() {
  local label=$1; shift
  local log="$work/time.log"
  ( ulimit -v "$mem_limit_kb"; timeout "$time_limit" /usr/bin/time -v "$@" ) >/dev/null 2>"$log"
  local rc=$?
  local wall user sys rss
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" |
    awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  user=$(sed -n 's/.*User time (seconds): //p' "$log")
  sys=$(sed -n 's/.*System time (seconds): //p' "$log")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  printf '| %s | %s | %s | %s | %s |\n' "$label" "${wall:-–}" \
    "$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN{print u+s}')" \
    "$(awk -v r="${rss:-0}" 'BEGIN{printf "%.0f", r/1024}')" "$rc"
}

echo
echo "| run | wall s | user+sys s | max RSS MiB | exit |"
echo "|---|---|---|---|---|"
for n in $sizes; do
  measure "eval bac_giang_2024, $n units" \
    "$bin" eval examples/bac_giang_2024/plan.thidua --data "$work/bg_$n.csv" --format csv --out "$work/out.csv"
  measure "eval 20 targets, $n units" \
    "$bin" eval benches/plans/bac_giang_20_targets.thidua --data "$work/bg_$n.csv" --format csv --out "$work/out.csv"
  measure "baseline 20 targets, $n units" \
    "$baseline" "$work/bg_$n.csv" "$work/out.csv"
done
for c in 1000 3000 10000; do
  measure "check, $c criteria" "$bin" check --color never "$work/plan_$c.thidua"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

if command -v hyperfine >/dev/null; then
  echo
  hyperfine -N --warmup 3 --runs 20 --style basic \
    "$bin check --color never $work/plan_10000.thidua" 2>&1 | grep -v '^$'
  hyperfine --warmup 5 --runs 50 --style basic \
    "echo :quit | $bin repl examples/bac_giang_2024/plan.thidua --data examples/bac_giang_2024/data.csv" 2>&1 | grep -v '^$'
else
  for _ in 1 2 3; do
    /usr/bin/time -f 'repl start-up: %e s' sh -c \
      "echo :quit | $bin repl examples/bac_giang_2024/plan.thidua --data examples/bac_giang_2024/data.csv"
  done
fi
