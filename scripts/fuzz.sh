#!/usr/bin/env bash
# Runs every libFuzzer target of a SIRA_FUZZ build for a set time (make fuzz).
#   scripts/fuzz.sh BUILD_DIR SECONDS
# Each target starts from its seed corpus (tests/fuzz/corpus/NAME, copied: the
# tree is never changed) and writes what it finds to BUILD_DIR/fuzz/artifacts/NAME.
# A crash, leak or hang in any target makes the run fail; copy the artifact
# into tests/fuzz/regressions/NAME (after fixing the cause) so `make test`
# replays it from then on.
set -uo pipefail
build=${1:?build folder}
seconds=${2:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
# libhdf5 1.10.8 keeps some allocations of failed opens until exit: not sira's (docs/robustness.md).
export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
printf '%-10s %12s %10s %s\n' target execs exec/s result
# FUZZ_TARGETS="hdf5 tiff" runs only those.
for bin in "$build"/fuzz/fuzz_*; do
  name=${bin##*/fuzz_}
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
  corpus="$build/fuzz/corpus/$name"
  artifacts="$build/fuzz/artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  cp -n "$src/tests/fuzz/corpus/$name/"* "$corpus/" 2>/dev/null
  log="$build/fuzz/$name.log"
  # -malloc_limit_mb: the HDF5 pre-flight's forked child inherits libFuzzer's malloc
  # hook, and libhdf5 in it may ask for 10 GB; the parent's real use is bounded by
  # -rss_limit_mb, sira's own single allocations by its sample budget.
  "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -malloc_limit_mb=65536 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  # slow-unit-*: inputs over 10 s, reported (not failures; under ASan the HDF5
  # pre-flight child is not memory-bounded, so libhdf5's own bombs run long there).
  found=$(ls "$artifacts" | grep -v '^slow-unit-' | wc -l)
  slow=$(ls "$artifacts" | grep -c '^slow-unit-')
  if [ "$rc" -eq 0 ] && [ "$found" -eq 0 ]; then result=ok; else result="FAILED (rc $rc, $found artifacts: $artifacts; log $log)"; status=1; fi
  [ "$slow" -gt 0 ] && result="$result, $slow slow inputs in $artifacts"
  printf '%-10s %12s %10s %s\n' "$name" "${execs:-?}" "${rate:-?}" "$result"
done
exit $status
