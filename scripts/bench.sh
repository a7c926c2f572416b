#!/usr/bin/env bash
# Reproducible benchmarks (see BENCHMARKS.md). Loopback only; BENCH_RUNS=N for more runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q --bin prodcheck --example delay_server
python3 scripts/bench.py
for extra in scripts/bench-tls.sh scripts/bench-rate-limit.sh scripts/bench-fleet.sh scripts/bench-discover.sh; do
  if [ -x "$extra" ]; then "$extra"; fi
done
