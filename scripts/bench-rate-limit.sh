#!/usr/bin/env bash
# Burst rate of the `rate_limit` probe on loopback, next to wrk, against the same trivial
# never-throttling nginx in the same run; prints the medians and their ratio.
#
# Usage: scripts/bench-rate-limit.sh [RUNS]        (default 5 runs)
# Env:   PRODCHECK_BIN   use this binary instead of `cargo build --release`
#        REQUESTS        requests per probe burst (default 10000, the validation cap)
#        CONCURRENCY     in-flight requests for both clients (default 8, the probe's default)
#        WRK_SECONDS     duration of each wrk run (default 3)
# Needs: nginx (apt-get install nginx-light), wrk (apt-get install wrk), python3.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${1:-5}"
REQUESTS="${REQUESTS:-10000}"
CONCURRENCY="${CONCURRENCY:-8}"
WRK_SECONDS="${WRK_SECONDS:-3}"

for tool in nginx wrk python3; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
  command -v "$tool" >/dev/null 2>&1 || { echo "missing: $tool" >&2; exit 2; }
done

if [[ -z "${PRODCHECK_BIN:-}" ]]; then
  cargo build --release --locked --quiet --bin prodcheck
  PRODCHECK_BIN="${CARGO_TARGET_DIR:-target}/release/prodcheck"
fi

# A trivial server: nginx answering 200 from memory, one worker, its own prefix.
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  keepalive_requests 100000;
  server { listen 127.0.0.1:$port; location / { return 200 "ok\n"; } }
}
EOF
nginx -p "$dir" -c "$dir/nginx.conf" &
nginx_pid=$!
cleanup() { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.05
done
url="http://127.0.0.1:$port/"

probe_rates=()
wrk_rates=()
for run in $(seq "$RUNS"); do
  # The probe is never throttled here, so it sends exactly REQUESTS and exits 1 (fail).
  json="$("$PRODCHECK_BIN" probe rate_limit "url=$url" "max_requests=$REQUESTS" \
    "concurrency=$CONCURRENCY" --timeout 120s --report json || true)"
  probe="$(python3 -c 'import json,sys; e=json.load(sys.stdin)["items"][0]["evidence"]; assert e["sent"]==e["answered"], e; print(e["requests_per_second"])' <<<"$json")"
  wrk_out="$(wrk -t2 -c"$CONCURRENCY" -d"${WRK_SECONDS}s" "$url")"
  w="$(awk '/^Requests\/sec:/ {print $2}' <<<"$wrk_out")"
  probe_rates+=("$probe")
  wrk_rates+=("$w")
  printf 'run %d: probe %s req/s, wrk %s req/s\n' "$run" "$probe" "$w"
done

python3 - "${probe_rates[*]}" "${wrk_rates[*]}" "$REQUESTS" "$CONCURRENCY" <<'EOF'
import statistics, sys
probe = [float(x) for x in sys.argv[1].split()]
wrk = [float(x) for x in sys.argv[2].split()]
mp, mw = statistics.median(probe), statistics.median(wrk)
print(f"median over {len(probe)} runs ({sys.argv[3]} requests per burst, concurrency {sys.argv[4]}):")
print(f"  rate_limit probe: {mp:.0f} req/s")
print(f"  wrk:              {mw:.0f} req/s")
print(f"  ratio probe/wrk:  {mp / mw:.2f}")
EOF
