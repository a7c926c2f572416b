#!/usr/bin/env bash
# Fleet benchmark (issue 17, BENCHMARKS.md): 1,000 loopback TLS targets x (tls + http +
# security_headers) as one `prodcheck run --all-targets`, as scrapes of `prodcheck serve`,
# and as blackbox_exporter scrapes of the same 3,000 probes; wall, CPU and peak RSS of each.
#
# Usage: scripts/bench-fleet.sh            (TARGETS=1000 RUNS=3 SCRAPERS=8 by default)
#        TARGETS=1000,10000 scripts/bench-fleet.sh   (issue 27: both sizes, one table)
# Env:   PRODCHECK_BIN  use this binary instead of `cargo build --profile dist`
#        see scripts/bench-fleet.py for TARGETS, RUNS, SCRAPERS, FLEET_CONCURRENCY, PORT_BASE,
#        TLS_ENUMERATE
# Needs: nginx, prometheus-blackbox-exporter, openssl, time, python3 (on Debian/Ubuntu:
#        apt-get install nginx prometheus-blackbox-exporter openssl time python3); the script
#        stops and names the package when one is missing (it installs nothing itself).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PRODCHECK_BIN:-}" ]]; then
  # The shipped binary: the `dist` profile (fat LTO), several minutes longer to build.
  cargo build --profile dist --locked --quiet --bin prodcheck
  PRODCHECK_BIN="$PWD/${CARGO_TARGET_DIR:-target}/dist/prodcheck"
fi
export PRODCHECK_BIN
exec python3 scripts/bench-fleet.py
