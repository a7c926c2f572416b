#!/usr/bin/env bash
# The whole test suite. When this machine allows it (root with apt-get), first installs the real
# servers and consumers the integration tests use (nginx, redis, PostgreSQL, Prometheus with
# promtool, openssl, tap.py, junitparser) and then requires them: a missing one fails, never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(ca-certificates openssl nginx-light redis-server postgresql prometheus)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  python3 -m pip install --quiet --disable-pip-version-check "tap.py[yaml]" junitparser
  export PRODCHECK_REQUIRE_SERVERS=1
else
  echo "note: not root with apt-get: tests whose server is missing will say so and skip" >&2
fi

cargo test --workspace --locked
