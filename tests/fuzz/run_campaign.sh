#!/usr/bin/env bash
# Fuzzes every libFuzzer target of a GRADCODE_FUZZ=ON build for a bounded time each.
#
#   tests/fuzz/run_campaign.sh <fuzz-build-dir> <seconds-per-target> [target ...]
#
# Targets come from <fuzz-build-dir>/tests/fuzz/fuzz_targets.txt (written by CMake: name, binary,
# seed corpus, -max_len); naming targets restricts the run to them. Each target fuzzes a scratch
# copy of its checked-in corpus (the source tree is never written), with -max_len from its
# source's `// fuzz-max-len:` line, a 10 s per-input timeout (a hang is a bug) and a 2 GiB memory
# limit (so is an unbounded allocation). Prints executions and executions/s per target (from
# libFuzzer's final "Done N runs in S second(s)" line). Exits non-zero when any target crashed,
# hit a sanitizer report, a property violation (abort), a timeout or the memory limit; the
# offending inputs are copied to <fuzz-build-dir>/fuzz-artifacts/<target>/ and the end of the log
# is printed. Reproduce one with `<binary> <input>` (or the replay build: `gradcode_fuzz_<target> <input>`).
#
# libFuzzer's entropic scheduler is off by default (FUZZ_ENTROPIC=1 turns it on): on these
# template-heavy targets its per-run feature bookkeeping took ~65 % of the time (perf), and
# without it the targets ran ~10× more inputs and reached more coverage in the same minute.
# The campaign is reproducible: libFuzzer's -seed is FUZZ_SEED (default 1), so a run explores the
# same inputs in the same order and a slower machine runs a prefix of a faster one's campaign —
# CI cannot fail on an input that the same commit's local campaign (same seed, as long or longer)
# never tried. FUZZ_SEED=0 picks a random seed each run: use it to explore (long runs, locally),
# and check in what it finds as a regress-* corpus input.
# Environment: FUZZ_JOBS_ARGS adds libFuzzer flags (e.g. "-jobs=2 -workers=2" or "-dict=...");
# KEEP_CORPUS=<dir> keeps each target's grown corpus in <dir>/<target> (to merge new seeds).
set -u

if [ $# -lt 2 ]; then
  echo "usage: $0 <fuzz-build-dir> <seconds-per-target> [target ...]" >&2
  exit 2
fi
build=$1
seconds=$2
shift 2
case $seconds in '' | *[!0-9]*) echo "seconds-per-target must be a whole number, got '$seconds'" >&2; exit 2 ;; esac
manifest=$build/tests/fuzz/fuzz_targets.txt
if [ ! -f "$manifest" ]; then
  echo "no $manifest: configure $build with -DGRADCODE_FUZZ=ON (the fuzz preset) and build gradcode_fuzzers" >&2
  exit 2
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/gradcode-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
artifacts_root=$build/fuzz-artifacts
status=0
ran=0
summary=""

while IFS=$'\t' read -r name binary corpus max_len; do
  [ -n "$name" ] || continue
  if [ $# -gt 0 ]; then
    wanted=0
    for t in "$@"; do [ "$t" = "$name" ] && wanted=1; done
    [ $wanted = 1 ] || continue
  fi
  ran=$((ran + 1))
  if [ ! -x "$binary" ]; then
    echo "== $name: $binary is not built (cmake --build $build --target gradcode_fuzzers)" >&2
    summary+=$(printf '%-16s %12s\n' "$name" "NOT BUILT")$'\n'
    status=1
    continue
  fi
  work=$scratch/$name
  mkdir -p "$work/corpus" "$work/artifacts"
  if [ -d "$corpus" ]; then
    cp -R "$corpus"/. "$work/corpus/"
  else
    echo "== $name: no seed corpus at $corpus (fuzzing from scratch)" >&2
  fi
  log=$work/log
  echo "== $name: fuzzing for ${seconds}s (-max_len=$max_len, -seed=${FUZZ_SEED:-1})"
  # shellcheck disable=SC2086  # FUZZ_JOBS_ARGS is a list of flags
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    "$binary" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
      -entropic="${FUZZ_ENTROPIC:-0}" -seed="${FUZZ_SEED:-1}" -print_final_stats=1 -artifact_prefix="$work/artifacts/" ${FUZZ_JOBS_ARGS:-} \
      "$work/corpus" >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -n 1 | awk '{print $2}')
  took=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -n 1 | awk '{print $5}')
  [ -n "$runs" ] || runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
  [ -n "$runs" ] || runs=0
  [ -n "$took" ] && [ "$took" -gt 0 ] || took=$seconds
  [ "$took" -gt 0 ] || took=1
  rate=$((runs / took))
  found=$(find "$work/artifacts" -type f | wc -l)
  if [ $rc -ne 0 ] || [ "$found" -gt 0 ] || grep -qE '==gradcode-fuzz==|runtime error:|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' "$log"; then
    status=1
    verdict="FAILED (exit $rc, $found artifact(s))"
    mkdir -p "$artifacts_root/$name"
    cp "$work/artifacts/"* "$artifacts_root/$name/" 2>/dev/null
    cp "$log" "$artifacts_root/$name/log.txt"
    echo "== $name: FAILED (exit $rc); inputs and log in $artifacts_root/$name/; end of the log:" >&2
    grep -E '==gradcode-fuzz==|runtime error:|ERROR:|SUMMARY:' "$log" | head -n 20 >&2
    tail -n 40 "$log" >&2
  else
    verdict="ok"
  fi
  if [ -n "${KEEP_CORPUS:-}" ]; then
    mkdir -p "$KEEP_CORPUS/$name"
    cp -R "$work/corpus"/. "$KEEP_CORPUS/$name/"
  fi
  summary+=$(printf '%-16s %12s runs in %4ss  %8s exec/s  %s' "$name" "$runs" "$took" "$rate" "$verdict")$'\n'
done <"$manifest"

if [ $ran = 0 ]; then
  echo "no fuzz target matched (manifest: $manifest)" >&2
  exit 2
fi
echo
echo "fuzz campaign, ${seconds}s per target:"
printf '%s' "$summary"
exit $status
