#!/usr/bin/env bash
# The whole test suite. As root with apt-get, first installs the real servers and consumers the
# integration tests use (nginx, redis, PostgreSQL, Prometheus with promtool, openssl, ssh-keygen, tap.py,
# junitparser, headless Chromium with Playwright and axe-core from PyPI). A test whose server is missing FAILS, naming
# the package to install. After cargo test, the HTML report is checked in the browser.
#
#   scripts/test.sh                          # what CI runs: nothing may be skipped
#   scripts/test.sh --allow-missing-servers  # a developer's laptop: tests without their server
#                                            # are skipped explicitly and listed at the end
set -euo pipefail
cd "$(dirname "$0")/.."

allow_missing=0
if [ "${1:-}" = "--allow-missing-servers" ]; then
  allow_missing=1
  shift
fi

packages=(ca-certificates openssl gnutls-bin nginx-light redis-server postgresql prometheus tinyproxy microsocks bsdutils openssh-client chromium-headless-shell)
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
  python3 -m pip install --quiet --disable-pip-version-check "tap.py[yaml]" junitparser "playwright==1.65.3" "axe-playwright-python==0.1.8"
elif [ "$allow_missing" = 0 ]; then
  echo "note: not root with apt-get: tests whose server is missing will fail and name the package" >&2
  echo "      (scripts/test.sh --allow-missing-servers skips them explicitly and lists them)" >&2
fi

skipped=target/tmp/prodcheck-skipped-tests.txt
rm -f "$skipped"
status=0
if [ "$allow_missing" = 1 ]; then
  PRODCHECK_ALLOW_MISSING_SERVERS=1 cargo test --workspace --locked "$@" || status=$?
else
  cargo test --workspace --locked "$@" || status=$?
fi
# The HTML report in a real browser (Debian's headless Chromium driven by Playwright), with the
# binary cargo test built; missing Chromium or Playwright fails unless --allow-missing-servers.
browser_args=(--binary "${CARGO_TARGET_DIR:-target}/debug/prodcheck")
if [ "$allow_missing" = 1 ]; then
  browser_args+=(--allow-missing)
fi
python3 tests/browser/html_report_test.py "${browser_args[@]}" || status=$?
if [ -s "$skipped" ]; then
  echo
  echo "Skipped because a real server or tool is missing (opted out with --allow-missing-servers):"
  sort "$skipped"
fi
exit "$status"
