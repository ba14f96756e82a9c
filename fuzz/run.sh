#!/bin/sh
# Fuzz one target for a fixed time on this machine:
#   fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags]
# Stable toolchain: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags.
# AddressSanitizer (cargo-fuzz's default) is kept on purpose: it is what
# turns a stack overflow into a report with a backtrace and a saved input
# (see README.md). New inputs go to fuzz/work/TARGET (ignored by git); the
# committed seeds in fuzz/corpus/TARGET are only read. Crashes land in
# fuzz/artifacts/TARGET, the log in fuzz/work/logs/TARGET.log.
set -eu
cd "$(dirname "$0")"
t=$1
secs=${2:-600}
shift; [ $# -gt 0 ] && shift
mkdir -p "work/$t" work/logs
RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run "$t" "work/$t" "corpus/$t" -- \
  -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "$@" \
  2>&1 | tee "work/logs/$t.log"
