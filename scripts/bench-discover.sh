#!/usr/bin/env bash
# `prodcheck init --discover`: requests sent and wall time against the test service of
# tests/integration/discover_conventions.rs (nginx with limit_req 5r/s burst 10 in front of an
# axum app, a real Prometheus scraping it and a node_exporter stand-in), once per metric
# convention, one test at a time. Loopback only. The figures are what discovery prints:
# requests per host:port and its own wall time (the pace, not the CPU, sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo test --locked -p prodcheck --test integration discover_conventions:: \
  -- --nocapture --test-threads=1 2>&1) || { echo "$out"; exit 1; }
# With --nocapture the harness names the test, then its output (discovery's summary) follows.
echo "$out" | awk '
  /^test discover_conventions::/ { name = $2; sub(/^discover_conventions::/, "", name) }
  /^HTTP requests:/ { print name ": " $0 }
'
